/*
 * systemd readiness and socket activation through libsystemd (the
 * Makefile picks this file when pkg-config finds it, else rp_sd_none.c).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "rp_log.h"
#include "rp_sd.h"
#include "rp_clock.h"

#define NS_PER_US	1000ULL

/**
 * rp_sd_unavailable():
 * Return NULL if this build has libsystemd, else why socket activation
 * cannot work.
 */
const char *
rp_sd_unavailable(void)
{

	return (NULL);
}

/* Say that no socket named ${name} was among the ${n} passed in with the
 * names ${names} (NULL if none were given). */
static void
sd_warn_missing(const char * name, int n, char ** names)
{
	char list[256] = "";
	size_t len = 0;
	int i, w;

	for (i = 0; i < n && names != NULL && len < sizeof(list); i++) {
		w = snprintf(&list[len], sizeof(list) - len, "%s%s",
		    i ? ", " : "", names[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	rp_warn("-s systemd:%s: systemd passed in no socket of that name "
	    "(%d passed in%s%s)", name, n, n ? ": " : "", list);
}

/* Make the passed-in ${fd} fit to serve: a listening stream socket,
 * non-blocking and close-on-exec; 0, or -1 with a warning printed. */
static int
sd_prepare(int fd, const char * name)
{
	int fl, r;

	if ((r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1)) <= 0) {
		errno = (r < 0) ? -r : ENOTSOCK;
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
	char ** names = NULL;
	int n, i, fd = -1;

	/* Unset LISTEN_*: nothing this process starts may take them. */
	if ((n = sd_listen_fds_with_names(1, &names)) < 0) {
		errno = -n;
		rp_warnp("-s systemd:%s: sd_listen_fds", name);
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (name[0] == '\0' ||
		    (names != NULL && strcmp(names[i], name) == 0)) {
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
	for (i = 0; i < n && names != NULL; i++)
		free(names[i]);
	free(names);
	return (fd);
}

/**
 * rp_sd_notify(state):
 * Tell the service manager ${state} ("READY=1", "STOPPING=1", ...) if it
 * asked to be told ($NOTIFY_SOCKET); otherwise, and without libsystemd, do
 * nothing.  Safe from any thread.
 */
void
rp_sd_notify(const char * state)
{

	/* 0: keep NOTIFY_SOCKET, later notifications need it. */
	(void)sd_notify(0, state);
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
	unsigned long long us;

	us = (unsigned long long)(rp_clock_ns() / NS_PER_US);
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", us);
}
