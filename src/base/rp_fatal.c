/*
 * Fatal errors (rp_fatal.h): the first report, the wake-up of the thread
 * that ends the process, and the watchdog behind it.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "rp_fatal.h"
#include "rp_log.h"

/* Set by the first report, never cleared. */
static atomic_int fatal_raised;

/* The eventfd to ring, or -1; under fatal_mtx, so that the descriptor is
 * not closed (and its number reused) while a report writes to it. */
static pthread_mutex_t fatal_mtx = PTHREAD_MUTEX_INITIALIZER;
static int fatal_fd = -1;

/* Ring ${fd}, if any (fatal_mtx held). */
static void
fatal_ring(int fd)
{
	uint64_t one = 1;

	if (fd == -1)
		return;
	if (write(fd, &one, sizeof(one)) != sizeof(one)) {
		/* The loop also looks at rp_fatal_raised on every tick. */
	}
}

/* SIGALRM after a fatal error: the orderly end took too long.  Only
 * async-signal-safe calls: write and _exit. */
static void
fatal_watchdog(int signo)
{
	static const char msg[] = "ringpiped: the orderly end after a fatal "
	    "error is taking too long: exiting now\n";

	(void)signo;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* Nothing left to tell. */
	}
	_exit(1);
}

/* Arm the watchdog: SIGALRM in RP_FATAL_GRACE seconds ends the process
 * (every descriptor, hence every connection, closed by the kernel). */
static void
fatal_arm(void)
{
	struct sigaction sa;
	sigset_t ss;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_watchdog;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGALRM, &sa, NULL);

	/* Any thread that does not block it takes the signal: this one
	 * surely does not. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGALRM);
	(void)pthread_sigmask(SIG_UNBLOCK, &ss, NULL);
	(void)alarm(RP_FATAL_GRACE);
}

/**
 * rp_fatal(who):
 * Record an unrecoverable error met by ${who} (a static string naming the
 * thread or part, printed with the first report; the caller has printed
 * what failed), wake the registered descriptor and arm the watchdog.  May
 * be called from any thread, any number of times; returns at once.
 */
void
rp_fatal(const char * who)
{

	/* Only the first report arms the watchdog: a later one must not
	 * push its deadline back. */
	if (atomic_exchange(&fatal_raised, 1) != 0)
		return;
	rp_warn("Fatal error in %s: closing every connection and exiting",
	    who);
	fatal_arm();
	pthread_mutex_lock(&fatal_mtx);
	fatal_ring(fatal_fd);
	pthread_mutex_unlock(&fatal_mtx);
}

/**
 * rp_fatal_raised():
 * Return non-zero once rp_fatal has been called.
 */
int
rp_fatal_raised(void)
{

	return (atomic_load(&fatal_raised));
}

/**
 * rp_fatal_wake_fd(fd):
 * Have rp_fatal write 1 to the eventfd ${fd} (or to nothing if ${fd} is -1)
 * to wake the thread that ends the process.  A report made before the
 * call rings ${fd} at once.
 */
void
rp_fatal_wake_fd(int fd)
{

	pthread_mutex_lock(&fatal_mtx);
	fatal_fd = fd;
	if (atomic_load(&fatal_raised))
		fatal_ring(fd);
	pthread_mutex_unlock(&fatal_mtx);
}
