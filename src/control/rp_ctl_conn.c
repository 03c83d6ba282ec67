#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto_dh.h"
#include "crypto_wipe.h"
#include "proto_handshake.h"
#include "rp_ctl_accept.h"
#include "rp_ctl_conn.h"
#include "rp_ctl_handoff.h"
#include "rp_ctl_health.h"
#include "rp_ctl_resolver.h"
#include "rp_ctl_state.h"
#include "rp_dial.h"
#include "rp_hsio.h"
#include "rp_hspool.h"
#include "rp_keys.h"
#include "rp_log.h"
#include "rp_sock.h"

/* The least time between two warnings about target sockets, in seconds. */
#define CONN_WARN_EVERY	10.0

struct ctl_conn {
	struct rp_ctl * ctl;	/* Its pipe. */
	int afd;		/* Accepted socket, or -1. */
	int tfd;		/* Socket to the target, or -1. */
	int hsfd;		/* afd or tfd once the handshake runs, or -1. */
	short ready;		/* POLLIN/POLLOUT hsfd is taken to be ready
				   for (rp_hsio_pump). */
	struct proto_hs * hs;
	struct rp_hsjob job;	/* Its computation on the pool. */
	struct rp_dial dial;	/* Connecting to the target; its attempts
				   are in the epoll set as _CONN_T. */
	struct rp_ctl_addrs * addrs;	/* The dial's addresses (a reference)
					   while it runs, else NULL. */
	struct sockaddr_storage apeer;	/* The client's address... */
	struct sockaddr_storage tpeer;	/* ... and the target's, for the
					   worker (rp_pair_set_peer)... */
	socklen_t apeerlen, tpeerlen;	/* ... if known (else 0). */
	double deadline;	/* -o: dropped after this time. */
	double hs_start;	/* When the handshake began (metrics). */
	unsigned a_watched:1;	/* afd is in the epoll set. */
	unsigned t_watched:1;	/* tfd is in the epoll set. */
	unsigned dialed:1;	/* The dial has begun. */
	unsigned connected:1;	/* tfd reached the target. */
	unsigned need_connect:1;	/* Waits for a descriptor to connect. */
	unsigned computing:1;	/* job is on the pool: hs is not ours. */
	unsigned timed:1;	/* On ctl->timed. */
	unsigned dead:1;	/* Dropped or handed off. */
	struct ctl_conn * prev, * next;	/* ctl->conns or ctl->dead. */
	struct ctl_conn * tprev, * tnext;	/* ctl->timed. */
};

/* What the dial's watch callback needs (rp_dial_step's cookie). */
struct conn_watching {
	struct rp_ctl * ctl;
	struct ctl_conn * c;
};

static void conn_step(struct rp_ctl *, struct ctl_conn *);

/* Put ${c} at the head of the list ${head}. */
static void
conn_link(struct ctl_conn ** head, struct ctl_conn * c)
{

	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

/* Take ${c} out of the list ${head}. */
static void
conn_unlink(struct ctl_conn ** head, struct ctl_conn * c)
{

	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

/* Mark ${c} as waiting (or no more) for a descriptor to connect. */
static void
conn_set_need(struct rp_ctl * ctl, struct ctl_conn * c, int need)
{

	if (c->need_connect == (need != 0))
		return;
	c->need_connect = need ? 1 : 0;
	if (need)
		ctl->nneed++;
	else
		ctl->nneed--;
}

/* Take ${c} off ctl->timed if it is there. */
static void
conn_untime(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (!c->timed)
		return;
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		ctl->timed = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	else
		ctl->timed_last = c->tprev;
	c->tprev = c->tnext = NULL;
	c->timed = 0;
}

/*
 * Put ${c} at the end of ctl->timed if its dial has an attempt due.  Every
 * due is a fixed stagger after the clock read when it was set, so the list
 * stays in the order of the dues by appending.
 */
static void
conn_time(struct rp_ctl * ctl, struct ctl_conn * c)
{

	conn_untime(ctl, c);
	if (rp_dial_due(&c->dial) == 0)
		return;
	c->tnext = NULL;
	c->tprev = ctl->timed_last;
	if (ctl->timed_last)
		ctl->timed_last->tnext = c;
	else
		ctl->timed = c;
	ctl->timed_last = c;
	c->timed = 1;
}

/* End the dial of ${c}: close its attempts under way, give back its
 * addresses. */
static void
conn_dial_end(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (c->dial.nfds > 0)
		ctl->fds_freed = 1;
	rp_dial_abort(&c->dial);
	conn_untime(ctl, c);
	rp_ctl_resolver_put(c->addrs);
	c->addrs = NULL;
}

/* Move ${c} from the live list to the dead one. */
static void
conn_bury(struct rp_ctl * ctl, struct ctl_conn * c)
{

	conn_set_need(ctl, c, 0);
	conn_dial_end(ctl, c);
	conn_unlink(&ctl->conns, c);
	ctl->nconns--;
	c->dead = 1;
	conn_link(&ctl->dead, c);
}

/* Drop ${c}: close its sockets (which leaves the epoll set) and bury it. */
static void
conn_drop(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (c->dead)
		return;

	/* A computation not yet started never runs: no exponentiation is
	 * spent on a connection that is gone.  Once the pool has stopped
	 * (rp_ctl_conn_free_all) no job is queued or running. */
	if (c->computing && (ctl->loop->pool == NULL ||
	    rp_hspool_cancel(ctl->loop->pool, &c->job) == 0))
		c->computing = 0;
	if (c->afd != -1 || c->tfd != -1)
		ctl->fds_freed = 1;
	if (c->afd != -1)
		close(c->afd);
	if (c->tfd != -1)
		close(c->tfd);
	c->afd = c->tfd = -1;
	conn_bury(ctl, c);
}

/* Drop ${c}, whose set-up failed for ${why} (RP_HSFAIL_*): count it. */
static void
conn_fail(struct rp_ctl * ctl, struct ctl_conn * c, enum rp_hsfail why)
{

	if (!c->dead)
		rp_ctlstats_hs_failed(&ctl->sstats->s, why);
	conn_drop(ctl, c);
}

/* Watch ${fd} of ${c} edge-triggered for both directions; 0 or -1. */
static int
conn_watch(struct rp_ctl * ctl, struct ctl_conn * c, int fd, int tag)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLET,
		.data.u64 = rp_ctl_ev(c, tag)
	};

	return (epoll_ctl(ctl->loop->epfd, EPOLL_CTL_ADD, fd, &ev));
}

/*
 * Watch the socket the handshake of ${c} runs over, if it is not watched
 * yet; 0 or -1.  Added while the handshake waits for it, the socket's
 * present readiness is reported at once, so no edge is lost by adding it
 * late; a handshake that never waits costs no epoll_ctl at all.
 */
static int
conn_watch_hs(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (c->hsfd == c->afd) {
		if (!c->a_watched) {
			if (conn_watch(ctl, c, c->afd, RP_CTL_EV_CONN_A))
				return (-1);
			c->a_watched = 1;
		}
	} else if (!c->t_watched) {
		if (conn_watch(ctl, c, c->tfd, RP_CTL_EV_CONN_T))
			return (-1);
		c->t_watched = 1;
	}
	return (0);
}

/* Take ${c}'s sockets out of the epoll set before a worker gets them. */
static void
conn_unwatch(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (c->a_watched)
		(void)epoll_ctl(ctl->loop->epfd, EPOLL_CTL_DEL, c->afd, NULL);
	if (c->t_watched)
		(void)epoll_ctl(ctl->loop->epfd, EPOLL_CTL_DEL, c->tfd, NULL);
	c->a_watched = c->t_watched = 0;
}

/* Creating a socket to the target failed with errno: say so, at most once
 * per CONN_WARN_EVERY when descriptors ran out (no log flood). */
static void
conn_warn_socket(struct rp_ctl * ctl)
{
	double t = rp_ctl_now();

	if (t - ctl->last_warn_socket > CONN_WARN_EVERY) {
		rp_warnp("Cannot create socket to target");
		ctl->last_warn_socket = t;
	}
}

/*
 * The dial of ${c} connected the socket ${fd} (in the epoll set if
 * ${watched}): -e starts its handshake over it (watched from now on) with
 * -o afresh; -d may have finished its own and waits for this.  The caller
 * steps the handshake.
 */
static void
conn_connected(struct rp_ctl * ctl, struct ctl_conn * c, int fd,
    int watched)
{

	c->tfd = fd;
	c->t_watched = watched ? 1 : 0;
	c->connected = 1;
	if (ctl->cfg->decrypt)
		return;

	/* Not watched yet (it connected at once): conn_step watches it only
	 * if the handshake has to wait for it. */
	c->hsfd = fd;
	c->hs_start = rp_ctl_now();

	/* An edge of this socket may have been taken by the dial already:
	 * try both ways once (EAGAIN clears a bit until the next edge). */
	c->ready = POLLIN | POLLOUT;
	c->deadline = rp_ctl_now() + ctl->cfg->timeout;
}

/* The poll events that the epoll ${events} say a socket is ready for (an
 * error or hang-up is reported by the next call either way). */
static short
conn_ready(uint32_t events)
{
	short ready = 0;

	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		ready |= POLLIN;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		ready |= POLLOUT;
	return (ready);
}

/* rp_dial_step's watch callback: put the new attempt ${fd} of the
 * connection in ${cookie} (a struct conn_watching) in the epoll set. */
static int
conn_watch_attempt(void * cookie, int fd)
{
	struct conn_watching * w = cookie;

	return (conn_watch(w->ctl, w->c, fd, RP_CTL_EV_CONN_T));
}

/*
 * Move the dial of ${c} to the target on (starting it the first time):
 * keep it timed while attempts are under way, or waiting (within -o) if
 * descriptors ran out or a UNIX target's backlog is full, when it is
 * retried on each tick and as soon as descriptors are freed.  Drop ${c}
 * once every address has failed.  The caller steps the handshake if ${c}
 * is connected.
 */
static void
conn_dial(struct rp_ctl * ctl, struct ctl_conn * c)
{
	struct conn_watching w = { ctl, c };
	int fd, watched;

	if (!c->dialed) {
		c->dialed = 1;
		c->addrs = rp_ctl_resolver_get(ctl->resolver);
		rp_dial_init(&c->dial, c->addrs->a, c->addrs->n,
		    ctl->cfg->bind, ctl->cfg->keepalive);
	}
	switch (rp_dial_step(&c->dial, rp_ctl_now(), conn_watch_attempt, &w,
	    &fd, &watched)) {
	case RP_DIAL_WAIT:
		conn_set_need(ctl, c, 0);
		conn_time(ctl, c);
		break;
	case RP_DIAL_CONNECTED:
		if (rp_dial_peer(&c->dial) != NULL) {
			c->tpeer = rp_dial_peer(&c->dial)->ss;
			c->tpeerlen = rp_dial_peer(&c->dial)->len;
		}
		rp_ctl_health_target(&ctl->health, 0);
		conn_set_need(ctl, c, 0);
		conn_dial_end(ctl, c);
		conn_connected(ctl, c, fd, watched);
		break;
	case RP_DIAL_NOFD:
		conn_untime(ctl, c);

		/* The first time, accept nothing more for a while either. */
		if (rp_sock_out_of_fds(errno)) {
			conn_warn_socket(ctl);
			if (!c->need_connect)
				rp_ctl_accept_backoff(ctl);
		}
		conn_set_need(ctl, c, 1);
		break;
	case RP_DIAL_FAILED:
		rp_ctl_health_target(&ctl->health, errno);
		conn_fail(ctl, c, RP_HSFAIL_CONNECT);
		break;
	}
}

/* Something happened to the dial of ${c} (an event on an attempt, its
 * stagger, freed descriptors): move it on, and the handshake if that
 * connected it. */
static void
conn_dial_event(struct rp_ctl * ctl, struct ctl_conn * c)
{

	conn_dial(ctl, c);
	if (!c->dead && c->connected)
		conn_step(ctl, c);
}

/*
 * Give ${c} an ephemeral key pair made ahead of time, if one is ready:
 * then a client sends y without a thread hop, and a server's computation
 * is the shared secret alone.  Return 0 if it got one.
 */
static int
conn_take_key(struct rp_ctl * ctl, struct ctl_conn * c)
{
	uint8_t x[CRYPTO_DH_PRIVLEN], y[CRYPTO_DH_PUBLEN];

	if (rp_hspool_take_key(ctl->loop->pool, x, y))
		return (-1);
	proto_hs_set_key(c->hs, x, y);
	crypto_wipe(x, sizeof(x));
	return (0);
}

/* The handshake of ${c} is done and the target connected: hand the pair
 * to a worker, which owns both sockets from then on. */
static void
conn_handoff(struct rp_ctl * ctl, struct ctl_conn * c)
{
	int dec = ctl->cfg->decrypt;
	struct rp_ctl_peer pp = {
		(const struct sockaddr *)(dec ? &c->tpeer : &c->apeer),
		dec ? c->tpeerlen : c->apeerlen
	};
	struct rp_ctl_peer cp = {
		(const struct sockaddr *)(dec ? &c->apeer : &c->tpeer),
		dec ? c->apeerlen : c->tpeerlen
	};

	conn_unwatch(ctl, c);
	if (rp_ctl_handoff(ctl, dec ? c->tfd : c->afd, dec ? c->afd : c->tfd,
	    &pp, &cp, c->hs)) {
		conn_fail(ctl, c, RP_HSFAIL_INTERNAL);
		return;
	}
	rp_ctlstats_hs_ok(&ctl->sstats->s, rp_ctl_now() - c->hs_start);
	c->afd = c->tfd = -1;
	conn_bury(ctl, c);
}

/*
 * -d: whether the client of ${c} has proved that it holds the key: its
 * whole message is in and passed the checks (MAC, y < p, y neither 0 nor
 * p - 1, -g), which the handshake runs as its last byte arrives; a server
 * reads nothing more after it, and fails at once if a check fails.
 */
static int
conn_authenticated(const struct ctl_conn * c)
{

	return (!(proto_hs_want(c->hs) &
	    (PROTO_HS_WANT_READ | PROTO_HS_FAILED)));
}

/* Move the handshake of ${c} on as far as it goes without waiting. */
static void
conn_step(struct rp_ctl * ctl, struct ctl_conn * c)
{

	enum rp_hsio_state st;

	if (c->dead || c->computing || c->hsfd == -1)
		return;
	for (;;) {
		st = rp_hsio_pump(c->hsfd, c->hs, &c->ready);

		/*
		 * -d connects to the target only once the client has proved
		 * that it holds the key, so that a stranger makes the target
		 * see no connection (Tarsnap/spiped#429).  The connect runs
		 * while the pool exponentiates, with -o of its own.
		 */
		if (st != RP_HSIO_FAILED && ctl->cfg->decrypt && !c->dialed &&
		    conn_authenticated(c)) {
			c->deadline = rp_ctl_now() + ctl->cfg->timeout;
			conn_dial(ctl, c);
			if (c->dead)
				return;
		}
		switch (st) {
		case RP_HSIO_WAIT:
			/* hsfd is watched edge-triggered both ways from the
			 * first wait on. */
			if (conn_watch_hs(ctl, c))
				conn_fail(ctl, c, RP_HSFAIL_INTERNAL);
			return;
		case RP_HSIO_COMPUTE:
			if (proto_hs_need_key(c->hs) &&
			    conn_take_key(ctl, c) == 0)
				continue;
			/* -f: a few hashes, cheaper here than two wake-ups. */
			if (proto_hs_compute_cheap(c->hs)) {
				proto_hs_compute(c->hs);
				continue;
			}
			c->computing = 1;
			rp_hspool_submit(ctl->loop->pool, &c->job);
			return;
		case RP_HSIO_DONE:
			if (c->connected)
				conn_handoff(ctl, c);
			return;
		case RP_HSIO_FAILED:
			conn_fail(ctl, c, rp_ctlstats_hs_why(c->hs));
			return;
		}
	}
}

/**
 * rp_ctl_conn_start(ctl, fd, sa, salen):
 * Start a connection for the accepted socket ${fd}, which it owns from now
 * on (closed on failure), from the client address ${sa} of ${salen} bytes
 * (NULL: unknown).
 */
void
rp_ctl_conn_start(struct rp_ctl * ctl, int fd, const struct sockaddr * sa,
    socklen_t salen)
{
	const struct rp_ctl_cfg * cfg = ctl->cfg;
	struct rp_keyset ks;
	struct ctl_conn * c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto err0;
	c->ctl = ctl;
	c->afd = fd;
	c->tfd = c->hsfd = -1;
	if (sa != NULL && salen > 0 && salen <= sizeof(c->apeer)) {
		memcpy(&c->apeer, sa, salen);
		c->apeerlen = salen;
	}
	c->deadline = rp_ctl_now() + cfg->timeout;

	/* The keys as they are now: a later reload changes no live one. */
	rp_keys_get(cfg->keys, &ks);
	c->hs = proto_hs_new_keys(cfg->decrypt ? PROTO_SERVER : PROTO_CLIENT,
	    (const uint8_t (*)[32])ks.K, ks.n, cfg->nopfs, cfg->requirepfs);
	crypto_wipe(&ks, sizeof(ks));
	if (c->hs == NULL)
		goto err1;
	c->job.hs = c->hs;

	/* No rp_sock_tune(fd): an accepted socket inherits TCP_NODELAY and
	 * the keepalive settings from the listener, which rp_ctl_start
	 * tuned. */
	conn_link(&ctl->conns, c);
	ctl->nconns++;

	/* -e connects first, then handshakes over the target socket. */
	if (!cfg->decrypt) {
		conn_dial_event(ctl, c);
		return;
	}

	/*
	 * -d: the handshake starts at once; the connect only once the
	 * client has proved it holds the key (conn_step).  The client's
	 * first bytes are likely here already: the socket joins the epoll
	 * set only if the handshake has to wait for it.
	 */
	c->hsfd = fd;
	c->hs_start = rp_ctl_now();
	c->ready = POLLIN | POLLOUT;
	conn_step(ctl, c);
	return;

err1:
	free(c);
err0:
	rp_ctlstats_hs_failed(&ctl->sstats->s, RP_HSFAIL_INTERNAL);
	close(fd);
}

/**
 * rp_ctl_conn_event(cookie, tag, events):
 * The epoll ${events} arrived for the socket named by ${tag}
 * (RP_CTL_EV_CONN_A or _T) of the connection ${cookie} (the pointer its
 * epoll event carries), of whichever pipe: move it on.
 */
void
rp_ctl_conn_event(void * cookie, int tag, uint32_t events)
{
	struct ctl_conn * c = cookie;
	struct rp_ctl * ctl = c->ctl;

	if (c->dead)
		return;
	if (tag == RP_CTL_EV_CONN_T && !c->connected) {
		/* One of the dial's attempts: the dial looks at them all. */
		if ((events & EPOLLOUT) && !(events & (EPOLLERR | EPOLLHUP)))
			rp_dial_hint_writable(&c->dial);
		conn_dial_event(ctl, c);
		return;
	}
	if (c->hsfd != (tag == RP_CTL_EV_CONN_T ? c->tfd : c->afd))
		return;
	c->ready |= conn_ready(events);
	conn_step(ctl, c);
}

/**
 * rp_ctl_conn_computed(job):
 * The compute pool finished ${job}: move its connection, of whichever
 * pipe, on.
 */
void
rp_ctl_conn_computed(struct rp_hsjob * job)
{
	struct ctl_conn * c = (struct ctl_conn *)(void *)((char *)job -
	    offsetof(struct ctl_conn, job));
	struct rp_ctl * ctl = c->ctl;

	c->computing = 0;
	conn_step(ctl, c);
}

/**
 * rp_ctl_conn_tick(ctl, t):
 * Drop the connections whose -o deadline is before ${t}, and retry the
 * connects that wait for a descriptor.
 */
void
rp_ctl_conn_tick(struct rp_ctl * ctl, double t)
{
	struct ctl_conn * c, * next;

	for (c = ctl->conns; c != NULL; c = next) {
		next = c->next;
		if (t > c->deadline) {
			/* -o ran out in the dial (not waiting for a
			 * descriptor): the target did not answer. */
			if (c->dialed && !c->connected && !c->need_connect)
				rp_ctl_health_target(&ctl->health,
				    ETIMEDOUT);
			conn_fail(ctl, c, RP_HSFAIL_TIMEOUT);
		}
		else if (c->need_connect)
			conn_dial_event(ctl, c);
	}
}

/**
 * rp_ctl_conn_retry(ctl):
 * Descriptors were freed: retry the connects that wait for one.
 */
void
rp_ctl_conn_retry(struct rp_ctl * ctl)
{
	struct ctl_conn * c, * next;

	for (c = ctl->conns; c != NULL && ctl->nneed > 0; c = next) {
		next = c->next;
		if (c->need_connect)
			conn_dial_event(ctl, c);
	}
}

/**
 * rp_ctl_conn_due(ctl):
 * Return the time at which a dial of ${ctl} starts its next attempt (the
 * loop must not sleep past it), or 0 if none is due.
 */
double
rp_ctl_conn_due(struct rp_ctl * ctl)
{

	return (ctl->timed ? rp_dial_due(&ctl->timed->dial) : 0);
}

/**
 * rp_ctl_conn_timers(ctl, t):
 * Move on the dials of ${ctl} whose next attempt is due by ${t}.
 */
void
rp_ctl_conn_timers(struct rp_ctl * ctl, double t)
{
	struct ctl_conn * c;
	size_t n;

	/* A dial stepped here is timed again a stagger after ${t}, past
	 * the ones due: each is stepped at most once. */
	for (n = ctl->nconns; n > 0 && (c = ctl->timed) != NULL &&
	    rp_dial_due(&c->dial) <= t; n--) {
		conn_untime(ctl, c);
		conn_dial_event(ctl, c);
	}
}

/**
 * rp_ctl_conn_reap(ctl):
 * Free the connections dropped or handed off this round whose computation
 * is not running.
 */
void
rp_ctl_conn_reap(struct rp_ctl * ctl)
{
	struct ctl_conn * c, * next;

	for (c = ctl->dead; c != NULL; c = next) {
		next = c->next;
		if (c->computing)
			continue;
		conn_unlink(&ctl->dead, c);
		proto_hs_free(c->hs);
		free(c);
	}
}

/**
 * rp_ctl_conn_free_all(ctl):
 * Close every connection of ${ctl}, stop the loop's compute pool if it
 * still runs (ctl->loop->pool is NULL after) and free the connections.
 */
void
rp_ctl_conn_free_all(struct rp_ctl * ctl)
{
	struct ctl_conn * c;

	/* Dropped while the pool runs: their queued jobs are cancelled. */
	while ((c = ctl->conns) != NULL)
		conn_drop(ctl, c);

	/* A job running now finishes before the threads are joined; after
	 * that nothing refers to any connection's handshake. */
	if (ctl->loop->pool != NULL) {
		rp_hspool_stop(ctl->loop->pool);
		ctl->loop->pool = NULL;
	}
	for (c = ctl->dead; c != NULL; c = c->next)
		c->computing = 0;
	rp_ctl_conn_reap(ctl);
}
