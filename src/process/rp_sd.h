#ifndef RP_SD_H_
#define RP_SD_H_

/*
 * systemd: readiness notification (Type=notify: READY=1, RELOADING=1,
 * STOPPING=1 to $NOTIFY_SOCKET) and socket activation (a -s of the form
 * "systemd:NAME" takes the listening socket systemd passed in under that
 * name; "systemd:" alone takes the first), by systemd's own protocols
 * (sd_notify(3), sd_listen_fds(3)); no library.
 */

#include <string.h>

/* The -s prefix naming a socket systemd passed in. */
#define RP_SD_PREFIX	"systemd:"

/**
 * rp_sd_source(s):
 * Return the NAME of the -s address ${s} if it is "systemd:NAME" (""
 * for "systemd:" alone), else NULL.
 */
static inline const char *
rp_sd_source(const char * s)
{

	if (strncmp(s, RP_SD_PREFIX, strlen(RP_SD_PREFIX)) != 0)
		return (NULL);
	return (s + strlen(RP_SD_PREFIX));
}

/**
 * rp_sd_listen(name):
 * Take the listening stream socket systemd passed in (LISTEN_FDS,
 * LISTEN_FDNAMES) under the name ${name}, or the first if ${name} is "",
 * made non-blocking and close-on-exec.  Must be called in the process
 * systemd started (before daemonizing: LISTEN_PID names it).  Return the
 * descriptor, or -1 with a warning printed saying what was passed in.
 */
int rp_sd_listen(const char * name);

/**
 * rp_sd_notify(state):
 * Tell the service manager ${state} ("READY=1", "STOPPING=1", ...) if it
 * asked to be told ($NOTIFY_SOCKET); otherwise do nothing.  Safe from any
 * thread.
 */
void rp_sd_notify(const char * state);

/**
 * rp_sd_reloading():
 * Tell the service manager that a reload begins: RELOADING=1 with the
 * CLOCK_MONOTONIC time (MONOTONIC_USEC, which Type=notify-reload wants);
 * rp_sd_notify("READY=1") says that it is over.
 */
void rp_sd_reloading(void);

#endif /* !RP_SD_H_ */
