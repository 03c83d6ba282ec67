#ifndef RP_DAEMON_H_
#define RP_DAEMON_H_

/**
 * rp_daemonize(pidfile):
 * Detach into the background (fork, setsid, stdio to /dev/null) and write
 * the daemon's pid to ${pidfile}.  The parent exits 0 once the pidfile is
 * written.  Must be called before any thread is created.  Return 0 in the
 * daemon, -1 on failure.
 */
int rp_daemonize(const char * pidfile);

/**
 * rp_setuidgid(spec):
 * Drop privileges to ${spec}: "user", ":group" or "user:group".  Return 0
 * on success, -1 with a warning printed on failure.
 */
int rp_setuidgid(const char * spec);

#endif /* !RP_DAEMON_H_ */
