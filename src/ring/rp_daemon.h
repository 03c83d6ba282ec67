#ifndef RP_DAEMON_H_
#define RP_DAEMON_H_

/**
 * rp_daemonize(pidfile):
 * Detach into the background (fork, setsid, standard input and output to
 * /dev/null) and write the daemon's pid to ${pidfile}.  The parent stays
 * until the daemon calls rp_daemon_ready, copying what the daemon writes
 * to its standard error until then to its own, and exits 0 then; if the
 * daemon exits first, the parent exits with its status (1 if that was 0).
 * Must be called before any thread is created.  Return 0 in the daemon,
 * -1 on failure (in the caller, which was not forked).
 */
int rp_daemonize(const char * pidfile);

/**
 * rp_daemon_ready():
 * In a daemon made by rp_daemonize: start-up is over, so let the parent
 * exit 0, and send standard error to /dev/null from now on.  A no-op
 * otherwise, and after the first call.
 */
void rp_daemon_ready(void);

/**
 * rp_setuidgid(spec):
 * Drop privileges to ${spec}: "user", ":group" or "user:group".  Return 0
 * on success, -1 with a warning printed on failure.
 */
int rp_setuidgid(const char * spec);

#endif /* !RP_DAEMON_H_ */
