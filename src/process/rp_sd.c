/*
 * systemd readiness and socket activation, speaking systemd's two small
 * interfaces directly rather than through libsystemd (which would map
 * libgcrypt, liblzma, libzstd and liblz4 into every process, and their
 * writable pages are private memory in each):
 * - socket activation (sd_listen_fds(3)): LISTEN_PID names this process,
 *   LISTEN_FDS counts the descriptors passed in from SD_LISTEN_FDS_START
 *   on, LISTEN_FDNAMES names them, colon-separated;
 * - notification (sd_notify(3)): one datagram of "KEY=VALUE" lines to the
 *   AF_UNIX socket $NOTIFY_SOCKET names (a leading '@' is the abstract
 *   namespace).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rp_log.h"
#include "rp_sd.h"
#include "rp_clock.h"

#define NS_PER_US	1000ULL

/* The first descriptor systemd passes in. */
#define SD_LISTEN_FDS_START	3

/* At most this many passed-in descriptors are looked at. */
#define SD_LISTEN_FDS_MAX	64

/* Say that no socket named ${name} was among the ${n} passed in with the
 * names ${names}. */
static void
sd_warn_missing(const char * name, int n, const char * const * names)
{
	char list[256] = "";
	size_t len = 0;
	int i, w;

	for (i = 0; i < n && len < sizeof(list); i++) {
		w = snprintf(&list[len], sizeof(list) - len, "%s%s",
		    i ? ", " : "", names[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	rp_warn("-s systemd:%s: systemd passed in no socket of that name "
	    "(%d passed in%s%s)", name, n, n ? ": " : "", list);
}

/* Return 1 if ${fd} is a listening stream socket, 0 if not, or -1 with
 * errno set. */
static int
sd_is_listener(int fd)
{
	struct stat sb;
	socklen_t len;
	int v;

	if (fstat(fd, &sb))
		return (-1);
	if (!S_ISSOCK(sb.st_mode))
		return (0);
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len))
		return (-1);
	if (v != SOCK_STREAM)
		return (0);
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len))
		return (-1);
	return (v != 0);
}

/*
 * The descriptors systemd passed in to this process: their number (0 if
 * none, or they were meant for another process) and, in ${names}, one
 * name each, pointing into the malloc'd *${buf} ("unknown" where systemd
 * gave none).  Every one is made close-on-exec, and LISTEN_* are unset so
 * that nothing this process starts takes them.  -1 with errno set if the
 * variables are malformed or memory runs out.
 */
static int
sd_passed(const char * names[SD_LISTEN_FDS_MAX], char ** buf)
{
	const char * pid = getenv("LISTEN_PID");
	const char * fds = getenv("LISTEN_FDS");
	const char * fdn = getenv("LISTEN_FDNAMES");
	char * end, * p;
	long l;
	int n = 0, i;

	*buf = NULL;
	if (pid == NULL || fds == NULL)
		goto done;
	errno = 0;
	l = strtol(pid, &end, 10);
	if (errno || end == pid || *end != '\0' || l <= 0) {
		errno = EINVAL;
		n = -1;
		goto done;
	}
	if ((pid_t)l != getpid())
		goto done;
	errno = 0;
	l = strtol(fds, &end, 10);
	if (errno || end == fds || *end != '\0' || l < 0 ||
	    l > INT_MAX - SD_LISTEN_FDS_START) {
		errno = EINVAL;
		n = -1;
		goto done;
	}
	n = (l > SD_LISTEN_FDS_MAX) ? SD_LISTEN_FDS_MAX : (int)l;
	for (i = 0; i < n; i++) {
		names[i] = "unknown";
		if (fcntl(SD_LISTEN_FDS_START + i, F_SETFD, FD_CLOEXEC)) {
			n = -1;
			goto done;
		}
	}
	if (fdn != NULL) {
		if ((*buf = strdup(fdn)) == NULL) {
			n = -1;
			goto done;
		}
		for (i = 0, p = *buf; i < n && p != NULL; i++) {
			names[i] = p;
			if ((p = strchr(p, ':')) != NULL)
				*p++ = '\0';
		}
	}

done:
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return (n);
}

/* Make the passed-in ${fd} fit to serve: a listening stream socket,
 * non-blocking and close-on-exec; 0, or -1 with a warning printed. */
static int
sd_prepare(int fd, const char * name)
{
	int fl, r;

	if ((r = sd_is_listener(fd)) <= 0) {
		if (r == 0)
			errno = ENOTSOCK;
		rp_warnp("-s systemd:%s: descriptor %d is no listening "
		    "stream socket", name, fd);
		return (-1);
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		rp_warnp("-s systemd:%s: fcntl", name);
		return (-1);
	}
	return (0);
}

/**
 * rp_sd_listen(name):
 * Take the listening stream socket systemd passed in (LISTEN_FDS,
 * LISTEN_FDNAMES) under the name ${name}, or the first if ${name} is "",
 * made non-blocking and close-on-exec.  Must be called in the process
 * systemd started (before daemonizing: LISTEN_PID names it).  Return the
 * descriptor, or -1 with a warning printed saying what was passed in.
 */
int
rp_sd_listen(const char * name)
{
	const char * names[SD_LISTEN_FDS_MAX];
	char * buf;
	int n, i, fd = -1;

	if ((n = sd_passed(names, &buf)) < 0) {
		rp_warnp("-s systemd:%s: LISTEN_FDS", name);
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (name[0] == '\0' || strcmp(names[i], name) == 0) {
			fd = SD_LISTEN_FDS_START + i;
			break;
		}
	}
	if (fd == -1) {
		sd_warn_missing(name, n, names);
		goto done;
	}
	if (sd_prepare(fd, name))
		fd = -1;

done:
	free(buf);
	return (fd);
}

/**
 * rp_sd_notify(state):
 * Tell the service manager ${state} ("READY=1", "STOPPING=1", ...) if it
 * asked to be told ($NOTIFY_SOCKET); otherwise do nothing.  Safe from any
 * thread.
 */
void
rp_sd_notify(const char * state)
{
	struct sockaddr_un sun;
	const char * path = getenv("NOTIFY_SOCKET");
	size_t len;
	int s;

	/* Only AF_UNIX addresses: a path, or '@' for the abstract space. */
	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(s, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(s);
}

/**
 * rp_sd_reloading():
 * Tell the service manager that a reload begins: RELOADING=1 with the
 * CLOCK_MONOTONIC time (MONOTONIC_USEC, which Type=notify-reload wants);
 * rp_sd_notify("READY=1") says that it is over.
 */
void
rp_sd_reloading(void)
{
	char msg[64];
	unsigned long long us;

	us = (unsigned long long)(rp_clock_ns() / NS_PER_US);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu", us);
	rp_sd_notify(msg);
}
