#ifndef RP_FATAL_H_
#define RP_FATAL_H_

/*
 * Fatal errors: a thread that meets an error it cannot recover from (a
 * failed epoll_wait or io_uring_enter, an eventfd that cannot be written)
 * records it here instead of leaving quietly.  The first report is kept,
 * wakes the thread that ends the process in order (the control thread, then
 * the main thread: every connection closed, workers joined, a non-zero
 * exit), and arms a watchdog that _exit(1)s the process if that orderly
 * end has not come within RP_FATAL_GRACE seconds, so that a fatal error
 * never leaves a process that hangs.
 */

/* Seconds the orderly end of a fatal error may take before the watchdog
 * ends the process with _exit(1). */
#define RP_FATAL_GRACE	3

/**
 * rp_fatal(who):
 * Record an unrecoverable error met by ${who} (a static string naming the
 * thread or part, printed with the first report; the caller has printed
 * what failed), wake the registered descriptor and arm the watchdog.  May
 * be called from any thread, any number of times; returns at once.
 */
void rp_fatal(const char * who);

/**
 * rp_fatal_raised():
 * Return non-zero once rp_fatal has been called.
 */
int rp_fatal_raised(void);

/**
 * rp_fatal_wake_fd(fd):
 * Have rp_fatal write 1 to the eventfd ${fd} (or to nothing if ${fd} is -1)
 * to wake the thread that ends the process.  A report made before the
 * call rings ${fd} at once.
 */
void rp_fatal_wake_fd(int fd);

#endif /* !RP_FATAL_H_ */
