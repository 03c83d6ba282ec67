#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rp_ctl_accept.h"
#include "rp_ctl_conn.h"
#include "rp_ctl_state.h"
#include "rp_log.h"
#include "rp_sock.h"

/* How long accepting pauses when descriptors run out, in seconds. */

/* The least time between two warnings about running out, in seconds: a
 * daemon out of descriptors would otherwise log four lines a second. */
#define ACCEPT_WARN_EVERY	10.0

/* The least time between two warnings that -n was reached, in seconds:
 * stock spiped says it each time, which floods the log of a daemon that
 * runs at its limit; the times in between are counted in the next line. */
#define ACCEPT_WARN_MAX_EVERY	10.0

/* Connections taken per round of the loop: a burst of connects is started
 * a slice at a time, between the handshake steps of the ones before it. */
#define ACCEPT_PER_ROUND	32

/* Whether ${ctl} is under -n. */
static int
accept_room(struct rp_ctl * ctl)
{

	return (ctl->cfg->maxconn == 0 ||
	    rp_ctl_total(ctl) < ctl->cfg->maxconn);
}

/* Whether ${ctl} is in a back-off (which ends by itself when due). */
static int
accept_paused(struct rp_ctl * ctl)
{

	if (ctl->accept_pause == 0)
		return (0);
	if (rp_ctl_now() < ctl->accept_pause)
		return (1);
	ctl->accept_pause = 0;
	return (0);
}

/* Whether a connection may be waiting on ${ctl}'s open listening socket. */
static int
accept_open(struct rp_ctl * ctl)
{

	return (ctl->lfd != -1 && !ctl->draining && ctl->accept_ready);
}

/*
 * Say that -n was reached (${reached}: again, just now) or, with nothing
 * new, the times it was reached unsaid once the quiet time is over; at
 * most one line per ACCEPT_WARN_MAX_EVERY.
 */
static void
accept_warn_max(struct rp_ctl * ctl, int reached)
{
	double t;

	if (!reached && ctl->nmax_quiet == 0)
		return;
	t = rp_ctl_now();
	if (ctl->last_warn_max != 0 &&
	    t - ctl->last_warn_max < ACCEPT_WARN_MAX_EVERY) {
		ctl->nmax_quiet += reached ? 1 : 0;
		return;
	}
	if (reached && ctl->nmax_quiet == 0)
		rp_warn("Maximum number of connections (%zu) reached",
		    ctl->cfg->maxconn);
	else
		rp_warn("Maximum number of connections (%zu) reached %zu "
		    "times in the last %.0f s", ctl->cfg->maxconn,
		    ctl->nmax_quiet + (reached ? 1 : 0), t - ctl->last_warn_max);
	ctl->nmax_quiet = 0;
	ctl->last_warn_max = t;
}

/* accept4 on ${ctl} failed with ${err}: 0 to try again now, -1 to stop. */
static int
accept_failed(struct rp_ctl * ctl, int err)
{
	double t;

	switch (err) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		/* Drained: the next connect is an edge. */
		ctl->accept_ready = 0;
		return (-1);
	case EINTR:
	case ECONNABORTED:
		return (0);
	}
	t = rp_ctl_now();
	if (!rp_sock_out_of_fds(err) ||
	    t - ctl->last_warn_accept > ACCEPT_WARN_EVERY) {
		errno = err;
		rp_warnp("accept");
		if (rp_sock_out_of_fds(err))
			ctl->last_warn_accept = t;
	}
	rp_ctl_accept_backoff(ctl);
	return (-1);
}

/**
 * rp_ctl_accept_run(ctl):
 * Take the connections waiting on ${ctl}'s listening socket and start them
 * (rp_ctl_conn_start), as far as -n, the back-off and the per-round bound
 * allow.
 */
void
rp_ctl_accept_run(struct rp_ctl * ctl)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int n, fd;

	accept_warn_max(ctl, 0);
	for (n = 0; n < ACCEPT_PER_ROUND; n++) {
		if (!rp_ctl_accept_pending(ctl))
			return;
		salen = sizeof(sa);
		/* Blocking: the handshake's I/O asks MSG_DONTWAIT, and the
		 * io_uring engine would have to clear O_NONBLOCK. */
		if ((fd = accept4(ctl->lfd, (struct sockaddr *)&sa, &salen,
		    SOCK_CLOEXEC)) == -1) {
			if (accept_failed(ctl, errno))
				return;
			continue;
		}
		rp_ctlstats_count(&ctl->sstats->s.accepted);
		rp_ctl_conn_start(ctl, fd, (struct sockaddr *)&sa, salen);
		if (!accept_room(ctl)) {
			rp_ctlstats_count(&ctl->sstats->s.limit_hits);
			accept_warn_max(ctl, 1);
		}
	}
}

/**
 * rp_ctl_accept_pending(ctl):
 * Return non-zero if rp_ctl_accept_run would take a connection now (so the
 * loop should not sleep).
 */
int
rp_ctl_accept_pending(struct rp_ctl * ctl)
{

	return (accept_open(ctl) && accept_room(ctl) && !accept_paused(ctl));
}

/**
 * rp_ctl_accept_blocked(ctl):
 * Return non-zero if connections may be waiting that ${ctl} does not take
 * until a connection closes or the back-off ends.
 */
int
rp_ctl_accept_blocked(struct rp_ctl * ctl)
{

	return (accept_open(ctl) && (!accept_room(ctl) || accept_paused(ctl)));
}

/**
 * rp_ctl_accept_close(ctl):
 * SIGTERM: close ${ctl}'s listening socket and accept nothing more (the
 * connections in its backlog are reset by the kernel).
 */
void
rp_ctl_accept_close(struct rp_ctl * ctl)
{

	ctl->draining = 1;
	ctl->drain_since = rp_ctl_now();
	if (ctl->lfd != -1) {
		close(ctl->lfd);
		ctl->lfd = -1;
	}
}
