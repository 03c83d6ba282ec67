/*
 * rp-fault.so: an LD_PRELOAD shim that makes ONE chosen call fail ONCE with
 * a chosen errno, to drive the fatal-error paths of ringpiped
 * (tests/integ/t_fault_fatal.sh).  Chosen by the environment:
 *
 *   RP_FAULT_CALL=NAME[,NAME...]  the calls that may fail: epoll_wait,
 *       epoll_pwait, accept4, write, io_uring_submit,
 *       io_uring_submit_and_wait, io_uring_submit_and_wait_timeout,
 *       io_uring_wait_cqe_timeout.  Unset: the shim does nothing.
 *   RP_FAULT_ERRNO=NAME|NUMBER    the error (EBADF, EINVAL, EFAULT, ENOMEM,
 *       EIO, ENXIO, EAGAIN, EINTR or a number); default EBADF.
 *   RP_FAULT_SKIP=N               let the first N matching calls through
 *       and fail the (N+1)th; default 0.
 *   RP_FAULT_THREAD=PREFIX        only calls from a thread whose name
 *       (/proc/self/task/TID/comm) starts with PREFIX.
 *   RP_FAULT_MAXEVENTS=N          epoll_wait / epoll_pwait only fail when
 *       they ask for N events at most (tells one epoll loop from another);
 *       the other calls are not filtered by it.
 *   RP_FAULT_ARM=PATH             calls count only once PATH exists, so a
 *       test can inject the fault at a moment of its choosing.
 *
 * A matching call fails without reaching the real function: libc calls
 * return -1 with errno set, liburing calls return -errno.  The shim says
 * "rp-fault: failing NAME with ERRNO" on standard error when it does.
 * After that one failure every call goes through untouched.
 *
 * The shim composes with tests/helpers/rp-nouring (LD_PRELOAD survives its
 * exec) and with ASan builds (run them with ASAN_OPTIONS containing
 * verify_asan_link_order=0; ASan's own interceptors then call into the
 * shim, which calls libc).  liburing is a shared library, so its exported
 * entry points are interposed like libc's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>

/* The calls the shim knows; fault_calls has bit (1 << FN_x) for each one
 * that may fail. */
enum {
	FN_EPOLL_WAIT,
	FN_EPOLL_PWAIT,
	FN_ACCEPT4,
	FN_WRITE,
	FN_URING_SUBMIT,
	FN_URING_SUBMIT_WAIT,
	FN_URING_SUBMIT_WAIT_TO,
	FN_URING_WAIT_CQE_TO,
	FN_N
};

static const char * const fault_names[FN_N] = {
	[FN_EPOLL_WAIT] = "epoll_wait",
	[FN_EPOLL_PWAIT] = "epoll_pwait",
	[FN_ACCEPT4] = "accept4",
	[FN_WRITE] = "write",
	[FN_URING_SUBMIT] = "io_uring_submit",
	[FN_URING_SUBMIT_WAIT] = "io_uring_submit_and_wait",
	[FN_URING_SUBMIT_WAIT_TO] = "io_uring_submit_and_wait_timeout",
	[FN_URING_WAIT_CQE_TO] = "io_uring_wait_cqe_timeout"
};

static const struct {
	const char * name;
	int err;
} fault_errnos[] = {
	{ "EBADF", EBADF }, { "EINVAL", EINVAL }, { "EFAULT", EFAULT },
	{ "ENOMEM", ENOMEM }, { "EIO", EIO }, { "ENXIO", ENXIO },
	{ "EAGAIN", EAGAIN }, { "EINTR", EINTR }
};

/* The set-up, read once from the environment by fault_init. */
static int fault_calls;			/* 0: do nothing. */
static int fault_errno = EBADF;
static const char * fault_errname = "EBADF";
static long fault_skip;
static const char * fault_thread;
static int fault_maxevents = -1;	/* -1: any. */
static const char * fault_arm;

/* Matching calls seen while armed; the one numbered fault_skip fails. */
static atomic_long fault_seen;
static atomic_int fault_done;

static void * fault_nexts[FN_N];

/* Read the set-up from the environment (before main). */
__attribute__((constructor)) static void
fault_init(void)
{
	const char * s, * e;
	char name[64];
	size_t i, len;

	/* Absent ones (liburing in a program without it) stay NULL. */
	for (i = 0; i < FN_N; i++)
		fault_nexts[i] = dlsym(RTLD_NEXT, fault_names[i]);
	if ((s = getenv("RP_FAULT_CALL")) == NULL || *s == '\0')
		return;
	for (; *s != '\0'; s = (*e == ',') ? e + 1 : e) {
		if ((e = strchr(s, ',')) == NULL)
			e = s + strlen(s);
		if ((len = (size_t)(e - s)) >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, s, len);
		name[len] = '\0';
		for (i = 0; i < FN_N; i++)
			if (strcmp(name, fault_names[i]) == 0)
				fault_calls |= 1 << i;
	}
	if ((s = getenv("RP_FAULT_ERRNO")) != NULL && *s != '\0') {
		fault_errname = s;
		fault_errno = atoi(s);
		for (i = 0; i < sizeof(fault_errnos) / sizeof(fault_errnos[0]);
		    i++)
			if (strcmp(s, fault_errnos[i].name) == 0)
				fault_errno = fault_errnos[i].err;
		if (fault_errno <= 0)
			fault_errno = EBADF;
	}
	if ((s = getenv("RP_FAULT_SKIP")) != NULL)
		fault_skip = atol(s);
	if ((s = getenv("RP_FAULT_THREAD")) != NULL && *s != '\0')
		fault_thread = s;
	if ((s = getenv("RP_FAULT_MAXEVENTS")) != NULL && *s != '\0')
		fault_maxevents = atoi(s);
	if ((s = getenv("RP_FAULT_ARM")) != NULL && *s != '\0')
		fault_arm = s;
}

/* Say on standard error that ${name} fails now (no stdio: the shim may
 * be inside write itself). */
static void
fault_say(const char * name)
{
	char msg[160];
	int n;

	n = snprintf(msg, sizeof(msg), "rp-fault: failing %s with %s\n",
	    name, fault_errname);
	if (n > 0)
		(void)syscall(SYS_write, STDERR_FILENO, msg,
		    (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

/* Whether this call of ${fn} (FN_*; ${maxevents} for the epoll waits,
 * else -1) is the one to fail. */
static int
fault_hit(int fn, int maxevents)
{
	char comm[16] = "";

	if (!(fault_calls & (1 << fn)) || atomic_load(&fault_done))
		return (0);
	/* The count filters the epoll waits only (-1 for the others). */
	if (fault_maxevents != -1 && maxevents != -1 &&
	    maxevents != fault_maxevents)
		return (0);
	if (fault_thread != NULL) {
		if (prctl(PR_GET_NAME, comm, 0, 0, 0) != 0 ||
		    strncmp(comm, fault_thread, strlen(fault_thread)) != 0)
			return (0);
	}
	if (fault_arm != NULL && access(fault_arm, F_OK) != 0)
		return (0);
	if (atomic_fetch_add(&fault_seen, 1) != fault_skip)
		return (0);
	if (atomic_exchange(&fault_done, 1) != 0)
		return (0);
	fault_say(fault_names[fn]);
	return (1);
}

/* The next definitions of the calls, after this library: looked up by
 * fault_init (so that threads do not race to fill them in), or at the
 * first call if one comes before it. */
/* The next definition of call ${fn} (FN_*). */
static void *
fault_next(int fn)
{
	void * f;

	if ((f = fault_nexts[fn]) != NULL)
		return (f);
	if ((f = dlsym(RTLD_NEXT, fault_names[fn])) == NULL) {
		fprintf(stderr, "rp-fault: no %s to call\n",
		    fault_names[fn]);
		abort();
	}
	return (f);
}

int
epoll_wait(int epfd, struct epoll_event * evs, int maxevents, int timeout)
{
	int (* next)(int, struct epoll_event *, int, int);

	if (fault_hit(FN_EPOLL_WAIT, maxevents)) {
		errno = fault_errno;
		return (-1);
	}
	next = fault_next(FN_EPOLL_WAIT);
	return (next(epfd, evs, maxevents, timeout));
}

int
epoll_pwait(int epfd, struct epoll_event * evs, int maxevents, int timeout,
    const sigset_t * ss)
{
	int (* next)(int, struct epoll_event *, int, int,
	    const sigset_t *);

	if (fault_hit(FN_EPOLL_PWAIT, maxevents)) {
		errno = fault_errno;
		return (-1);
	}
	next = fault_next(FN_EPOLL_PWAIT);
	return (next(epfd, evs, maxevents, timeout, ss));
}

int
accept4(int fd, struct sockaddr * sa, socklen_t * len, int flags)
{
	int (* next)(int, struct sockaddr *, socklen_t *, int);

	if (fault_hit(FN_ACCEPT4, -1)) {
		errno = fault_errno;
		return (-1);
	}
	next = fault_next(FN_ACCEPT4);
	return (next(fd, sa, len, flags));
}

ssize_t
write(int fd, const void * buf, size_t len)
{
	ssize_t (* next)(int, const void *, size_t);

	if (fault_hit(FN_WRITE, -1)) {
		errno = fault_errno;
		return (-1);
	}
	next = fault_next(FN_WRITE);
	return (next(fd, buf, len));
}

int
io_uring_submit(struct io_uring * ring)
{
	int (* next)(struct io_uring *);

	if (fault_hit(FN_URING_SUBMIT, -1))
		return (-fault_errno);
	next = fault_next(FN_URING_SUBMIT);
	return (next(ring));
}

int
io_uring_submit_and_wait(struct io_uring * ring, unsigned wait_nr)
{
	int (* next)(struct io_uring *, unsigned);

	if (fault_hit(FN_URING_SUBMIT_WAIT, -1))
		return (-fault_errno);
	next = fault_next(FN_URING_SUBMIT_WAIT);
	return (next(ring, wait_nr));
}

int
io_uring_submit_and_wait_timeout(struct io_uring * ring,
    struct io_uring_cqe ** cqe, unsigned wait_nr,
    struct __kernel_timespec * ts, sigset_t * ss)
{
	int (* next)(struct io_uring *, struct io_uring_cqe **,
	    unsigned, struct __kernel_timespec *, sigset_t *);

	if (fault_hit(FN_URING_SUBMIT_WAIT_TO, -1))
		return (-fault_errno);
	next = fault_next(FN_URING_SUBMIT_WAIT_TO);
	return (next(ring, cqe, wait_nr, ts, ss));
}

int
io_uring_wait_cqe_timeout(struct io_uring * ring, struct io_uring_cqe ** cqe,
    struct __kernel_timespec * ts)
{
	int (* next)(struct io_uring *, struct io_uring_cqe **,
	    struct __kernel_timespec *);

	if (fault_hit(FN_URING_WAIT_CQE_TO, -1))
		return (-fault_errno);
	next = fault_next(FN_URING_WAIT_CQE_TO);
	return (next(ring, cqe, ts));
}
