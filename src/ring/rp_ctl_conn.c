#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto_dh.h"
#include "crypto_wipe.h"
#include "proto_handshake.h"
#include "rp_ctl_accept.h"
#include "rp_ctl_conn.h"
#include "rp_ctl_handoff.h"
#include "rp_ctl_resolver.h"
#include "rp_ctl_state.h"
#include "rp_hsio.h"
#include "rp_hspool.h"
#include "rp_log.h"
#include "rp_sock.h"

/* The least time between two warnings about target sockets, in seconds. */
#define CONN_WARN_EVERY	10.0

struct ctl_conn {
	int afd;		/* Accepted socket, or -1. */
	int tfd;		/* Socket to the target, or -1. */
	int hsfd;		/* afd or tfd once the handshake runs, or -1. */
	short ready;		/* POLLIN/POLLOUT hsfd is taken to be ready
				   for (rp_hsio_pump). */
	struct proto_hs * hs;
	struct rp_hsjob job;	/* Its computation on the pool. */
	double deadline;	/* -o: dropped after this time. */
	unsigned a_watched:1;	/* afd is in the epoll set. */
	unsigned t_watched:1;	/* tfd is in the epoll set. */
	unsigned connected:1;	/* tfd reached the target. */
	unsigned need_connect:1;	/* Waits for a descriptor to connect. */
	unsigned computing:1;	/* job is on the pool: hs is not ours. */
	unsigned dead:1;	/* Dropped or handed off. */
	struct ctl_conn * prev, * next;	/* ctl->conns or ctl->dead. */
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

/* Move ${c} from the live list to the dead one. */
static void
conn_bury(struct rp_ctl * ctl, struct ctl_conn * c)
{

	conn_set_need(ctl, c, 0);
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
	if (c->afd != -1 || c->tfd != -1)
		ctl->fds_freed = 1;
	if (c->afd != -1)
		close(c->afd);
	if (c->tfd != -1)
		close(c->tfd);
	c->afd = c->tfd = -1;
	conn_bury(ctl, c);
}

/* Watch ${fd} of ${c} edge-triggered for both directions; 0 or -1. */
static int
conn_watch(struct rp_ctl * ctl, struct ctl_conn * c, int fd, int tag)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLET,
		.data.u64 = rp_ctl_ev(c, tag)
	};

	return (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev));
}

/* Take ${c}'s sockets out of the epoll set before a worker gets them. */
static void
conn_unwatch(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (c->a_watched)
		(void)epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, c->afd, NULL);
	if (c->t_watched)
		(void)epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, c->tfd, NULL);
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

/* tfd of ${c} reached the target, and is ready for the poll events
 * ${ready}: -e starts its handshake over it; -d may have finished its own
 * and waited for this. */
static void
conn_connected(struct rp_ctl * ctl, struct ctl_conn * c, short ready)
{

	c->connected = 1;
	if (c->hsfd == -1 && !ctl->cfg->decrypt) {
		c->hsfd = c->tfd;
		c->ready = ready;
		c->deadline = rp_ctl_now() + ctl->cfg->timeout;
	}
	conn_step(ctl, c);
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

/*
 * Whether the connect under way on ${fd} finished: 1 connected, 0 not
 * yet, -1 failed (errno set).  On loopback it finishes within connect().
 */
static int
conn_poll_connect(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & (POLLOUT | POLLERR |
	    POLLHUP)))
		return (0);
	if (!(pfd.revents & (POLLERR | POLLHUP)))
		return (1);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err == 0)
		err = ECONNREFUSED;
	errno = err;
	return (-1);
}

/*
 * Start connecting ${c} to the target.  Return 0 if the connect is under
 * way (or done), or -1 with errno set; tfd is -1 then.
 */
static int
conn_connect(struct rp_ctl * ctl, struct ctl_conn * c)
{
	struct rp_addr a;
	int rc, connected, err;

	rp_ctl_resolver_get(ctl->resolver, &a);
	if ((c->tfd = rp_sock_new(&a, ctl->cfg->bind)) == -1) {
		if (rp_sock_out_of_fds(errno))
			conn_warn_socket(ctl);
		return (-1);
	}

	/* Before the first byte, so that no handshake message waits for
	 * Nagle. */
	rp_sock_tune(c->tfd, ctl->cfg->nokeepalive);
	rc = connect(c->tfd, (const struct sockaddr *)&a.ss, a.len);
	if (rc == -1 && errno != EINPROGRESS)
		goto err1;

	/* On loopback the connect has finished by now: go on at once. */
	if ((connected = (rc == 0) ? 1 : conn_poll_connect(c->tfd)) == -1)
		goto err1;

	/*
	 * -d never reads tfd here, so a connected one needs no watching.  A
	 * socket is watched only once its connect is under way (before, it
	 * polls as hung up); what arrives from then on is reported, so it is
	 * taken to be ready for output only.
	 */
	if (!(connected && ctl->cfg->decrypt)) {
		if (conn_watch(ctl, c, c->tfd, RP_CTL_EV_CONN_T))
			goto err1;
		c->t_watched = 1;
	}
	if (connected)
		conn_connected(ctl, c, POLLOUT);
	return (0);

err1:
	err = errno;
	close(c->tfd);
	c->tfd = -1;
	errno = err;
	return (-1);
}

/*
 * Connect ${c}, or keep it waiting (within -o) if descriptors ran out or
 * a UNIX target's backlog is full: it is retried on each tick and as soon
 * as descriptors are freed.  Drop it on any other failure.
 */
static void
conn_try_connect(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (conn_connect(ctl, c) == 0) {
		conn_set_need(ctl, c, 0);
		return;
	}
	if (!rp_sock_out_of_fds(errno) && errno != EAGAIN) {
		conn_drop(ctl, c);
		return;
	}
	/* The first time, accept nothing more for a while either. */
	if (!c->need_connect && rp_sock_out_of_fds(errno))
		rp_ctl_accept_backoff(ctl);
	conn_set_need(ctl, c, 1);
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

	if (rp_hspool_take_key(ctl->pool, x, y))
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
	int plain = ctl->cfg->decrypt ? c->tfd : c->afd;
	int cipher = ctl->cfg->decrypt ? c->afd : c->tfd;

	conn_unwatch(ctl, c);
	if (rp_ctl_handoff(ctl, plain, cipher, c->hs)) {
		conn_drop(ctl, c);
		return;
	}
	c->afd = c->tfd = -1;
	conn_bury(ctl, c);
}

/* Move the handshake of ${c} on as far as it goes without waiting. */
static void
conn_step(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (c->dead || c->computing || c->hsfd == -1)
		return;
	for (;;) {
		switch (rp_hsio_pump(c->hsfd, c->hs, &c->ready)) {
		case RP_HSIO_WAIT:
			/* hsfd is watched edge-triggered both ways. */
			return;
		case RP_HSIO_COMPUTE:
			if (proto_hs_need_key(c->hs) &&
			    conn_take_key(ctl, c) == 0)
				continue;
			c->computing = 1;
			rp_hspool_submit(ctl->pool, &c->job);
			return;
		case RP_HSIO_DONE:
			if (c->connected)
				conn_handoff(ctl, c);
			return;
		case RP_HSIO_FAILED:
			conn_drop(ctl, c);
			return;
		}
	}
}

/**
 * rp_ctl_conn_start(ctl, fd):
 * Start a connection for the accepted socket ${fd}, which it owns from now
 * on (closed on failure).
 */
void
rp_ctl_conn_start(struct rp_ctl * ctl, int fd)
{
	const struct rp_ctl_cfg * cfg = ctl->cfg;
	struct ctl_conn * c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto err0;
	c->afd = fd;
	c->tfd = c->hsfd = -1;
	c->deadline = rp_ctl_now() + cfg->timeout;
	if ((c->hs = proto_hs_new(cfg->decrypt ? PROTO_SERVER : PROTO_CLIENT,
	    cfg->K, cfg->nopfs, cfg->requirepfs)) == NULL)
		goto err1;
	c->job.hs = c->hs;

	/* No rp_sock_tune(fd): an accepted socket inherits TCP_NODELAY and
	 * SO_KEEPALIVE from the listener, which rp_ctl_run tuned. */
	conn_link(&ctl->conns, c);
	ctl->nconns++;

	/*
	 * -d: the handshake starts at once, in parallel with the connect, and
	 * its first message goes out before the connect is begun: the peer
	 * waits for it, while the target is not needed before the end.
	 */
	if (cfg->decrypt) {
		if (conn_watch(ctl, c, fd, RP_CTL_EV_CONN_A)) {
			conn_drop(ctl, c);
			return;
		}
		c->a_watched = 1;

		/* The client's first bytes are likely here already. */
		c->hsfd = fd;
		c->ready = POLLIN | POLLOUT;
		conn_step(ctl, c);
		if (c->dead)
			return;
	}
	conn_try_connect(ctl, c);
	return;

err1:
	free(c);
err0:
	close(fd);
}

/**
 * rp_ctl_conn_event(ctl, cookie, tag, events):
 * The epoll ${events} arrived for the socket named by ${tag}
 * (RP_CTL_EV_CONN_A or _T) of the connection ${cookie} (the pointer its
 * epoll event carries): move it on.
 */
void
rp_ctl_conn_event(struct rp_ctl * ctl, void * cookie, int tag,
    uint32_t events)
{
	struct ctl_conn * c = cookie;

	if (c->dead)
		return;
	if (tag == RP_CTL_EV_CONN_T && !c->connected) {
		if (events & (EPOLLERR | EPOLLHUP))
			conn_drop(ctl, c);
		else if (events & EPOLLOUT)
			conn_connected(ctl, c, conn_ready(events));
		return;
	}
	if (c->hsfd != (tag == RP_CTL_EV_CONN_T ? c->tfd : c->afd))
		return;
	c->ready |= conn_ready(events);
	conn_step(ctl, c);
}

/**
 * rp_ctl_conn_computed(ctl, job):
 * The compute pool finished ${job}: move its connection on.
 */
void
rp_ctl_conn_computed(struct rp_ctl * ctl, struct rp_hsjob * job)
{
	struct ctl_conn * c = (struct ctl_conn *)(void *)((char *)job -
	    offsetof(struct ctl_conn, job));

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
		if (t > c->deadline)
			conn_drop(ctl, c);
		else if (c->need_connect)
			conn_try_connect(ctl, c);
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
			conn_try_connect(ctl, c);
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
 * Close and free every connection of ${ctl}, once the compute pool has
 * stopped.
 */
void
rp_ctl_conn_free_all(struct rp_ctl * ctl)
{
	struct ctl_conn * c;

	while ((c = ctl->conns) != NULL)
		conn_drop(ctl, c);
	for (c = ctl->dead; c != NULL; c = c->next)
		c->computing = 0;
	rp_ctl_conn_reap(ctl);
}
