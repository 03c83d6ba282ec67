#ifndef RP_DAEMON_H_
#define RP_DAEMON_H_

/**
 * rp_daemonize(pidfile):
 * Detach into the background (fork, setsid, standard input and output to
 * /dev/null) and write the daemon's pid to ${pidfile} (never through a
 * symbolic link).  The parent stays until the daemon calls
 * rp_daemon_release or rp_daemon_ready, copying what the daemon writes to
 * its standard error until then to its own, and exits 0 then; if the
 * daemon exits first, the parent exits with its status (1 if that was 0).
 * Must be called before any thread is created.  Return 0 in the daemon,
 * -1 on failure (in the caller, which was not forked).
 */
int rp_daemonize(const char * pidfile);

/**
 * rp_daemon_release():
 * In a daemon made by rp_daemonize that is still starting up but should
 * not hold its parent (-D waiting for DNS): let the parent exit 0 now, and
 * point standard error back at the one the daemon was started with (as
 * stock spiped leaves it), so that a later start-up error still reaches
 * whoever started it.  A no-op otherwise, and after the first call.
 */
void rp_daemon_release(void);

/**
 * rp_daemon_ready():
 * In a daemon made by rp_daemonize: start-up is over, so let the parent
 * exit 0 if rp_daemon_release did not, and send standard error to
 * /dev/null from now on.  A no-op otherwise, and after the first call.
 */
void rp_daemon_ready(void);

/**
 * rp_daemon_exit():
 * The daemon is exiting: remove the pidfile rp_daemonize wrote, if any.
 * Having dropped privileges (-u) or in the sandbox, it may lack the right
 * to: the file is then emptied (through the descriptor kept from writing
 * it), so that it names no process.
 */
void rp_daemon_exit(void);

/**
 * rp_setuidgid(spec):
 * Drop privileges to ${spec}: "user", ":group" or "user:group".  Return 0
 * on success, -1 with a warning printed on failure.
 */
int rp_setuidgid(const char * spec);

#endif /* !RP_DAEMON_H_ */
