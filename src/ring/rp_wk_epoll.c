/*
 * The epoll engine, for where io_uring is blocked: each worker owns one
 * edge-triggered epoll set and remembers which descriptors are readable
 * and writable.  Every loop iteration takes the ready events, reads from
 * every readable descriptor whose pipe has room, runs one crypto batch
 * across every pair with input ready, then sends at once (the sockets are
 * usually writable) and reads again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto_pipe.h"
#include "rp_batch.h"
#include "rp_fatal.h"
#include "rp_log.h"
#include "rp_wconn.h"
#include "rp_wk.h"

/* Events taken per wait (t_fault_fatal.sh picks this epoll_wait by it). */
#define EPOLL_EVENTS	256

struct econn;

/* One distinct descriptor of a pair, as epoll knows it. */
struct efd {
	struct econn * owner;
	int fd;
	int rd, wr;		/* Readable / writable until EAGAIN says no. */
	int hup;		/* The peer's FIN (or an error) is pending. */
	int polled;		/* In the epoll set (regular files are not). */
	int oflags;		/* File status flags to restore, or -1. */
};

struct econn {
	struct rp_wconn c;		/* First: the batch hands it back. */
	struct econn * prev, * next;	/* All pairs of the engine. */
	struct efd fds[3];
	struct efd * in[2], * out[2];	/* Per direction. */
	int closed;
	struct econn * gnext;		/* Closed, to free after the events. */
};

struct epoll_eng {
	struct rp_worker * w;
	int epfd;
	struct efd bell;
	struct efd host;		/* polled: in the set. */
	struct econn * conns;
	struct econn * graveyard;
	struct rp_wready ready;
	struct rp_whold hold;		/* Part packets waiting (coalescing). */
	uint64_t next_hold;		/* Earliest of their deadlines, or 0. */
	struct epoll_event evs[EPOLL_EVENTS];
};

/* Close ${c} now; free it once no event of this round can refer to it. */
static void
econn_close(struct epoll_eng * e, struct econn * c)
{
	int i;

	if (c->closed)
		return;
	c->closed = 1;
	c->c.dead = 1;
	rp_wready_unlink(&e->ready, &c->c);
	rp_whold_unlink(&e->hold, &c->c);
	if (c->prev)
		c->prev->next = c->next;
	else
		e->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* A pipe or terminal shared with other processes gets its flags
	 * back; closing removes the descriptors from the epoll set. */
	for (i = 0; i < 3; i++)
		if (c->fds[i].owner != NULL && c->fds[i].oflags != -1)
			(void)fcntl(c->fds[i].fd, F_SETFL, c->fds[i].oflags);
	rp_wconn_close_fds(&c->c);
	c->gnext = e->graveyard;
	e->graveyard = c;
}

static void
epoll_bury(struct epoll_eng * e)
{
	struct econn * c;
	int end, timedout;

	while ((c = e->graveyard) != NULL) {
		/* A pair still on a batch's list is freed after it. */
		if (c->c.queued)
			break;
		e->graveyard = c->gnext;
		end = proto_pipe_end(c->c.pipe);
		timedout = c->c.timedout;
		proto_pipe_free(c->c.pipe);
		free(c);
		rp_wk_pair_closed(e->w, end, timedout);
	}
}

/* Read once into direction ${d} of ${c} if it wants and can. */
static void
econn_read(struct econn * c, int d)
{
	struct efd * f = c->in[d];
	uint8_t * buf;
	size_t len;
	ssize_t n;

	if (!f->rd || (buf = proto_pipe_rx_get(c->c.pipe, d, &len)) == NULL)
		return;
	if (c->c.sock_in[d])
		n = recv(f->fd, buf, len, MSG_DONTWAIT);
	else
		n = read(f->fd, buf, len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (errno == EAGAIN)
			f->rd = 0;
		proto_pipe_rx_abort(c->c.pipe, d);
		return;
	}
	if (n < 0)
		rp_wconn_io_err(&c->c, errno);
	/* A short read drained the socket: wait for the next edge, unless
	 * the FIN is already in (it makes no further edge). */
	if (n >= 0 && (size_t)n < len && f->polled && !f->hup)
		f->rd = 0;
	proto_pipe_rx_put(c->c.pipe, d, n);
}

/* Send what direction ${d} of ${c} has queued, while it can. */
static void
econn_send(struct econn * c, int d)
{
	struct efd * f = c->out[d];
	const uint8_t * buf;
	size_t len;
	ssize_t n;

	while (f->wr &&
	    (buf = proto_pipe_tx_get(c->c.pipe, d, &len)) != NULL) {
		if (c->c.sock_out[d])
			n = send(f->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			n = write(f->fd, buf, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (errno == EAGAIN)
				f->wr = 0;
			n = 0;
		}
		if (n >= 0 && (size_t)n < len && f->polled)
			f->wr = 0;
		if (n < 0)
			rp_wconn_io_err(&c->c, errno);
		proto_pipe_tx_put(c->c.pipe, d, n);
	}
}

/*
 * Do what ${c}'s pipe asks for and its descriptors allow.  A direction
 * with input ready for crypto is queued for the batch and reads again only
 * after it, into the whole buffer.
 */
static void
econn_pump(struct epoll_eng * e, struct econn * c)
{
	int d, want;

	if (c->closed)
		return;
	for (d = 0; d < 2; d++) {
		if (proto_pipe_want(c->c.pipe, d) & PROTO_PIPE_WANT_SEND)
			econn_send(c, d);
		want = proto_pipe_want(c->c.pipe, d);
		if (want & PROTO_PIPE_WANT_SHUT) {
			if (c->c.sock_out[d])
				(void)shutdown(c->out[d]->fd, SHUT_WR);
			proto_pipe_shut_done(c->c.pipe, d);
		}
		if (!(want & PROTO_PIPE_WANT_CRYPTO) &&
		    (want & PROTO_PIPE_WANT_READ))
			econn_read(c, d);
		if (proto_pipe_want(c->c.pipe, d) & PROTO_PIPE_WANT_CRYPTO)
			rp_wready_add(&e->ready, &c->c);
	}
	/* EOF read just now may already be forwardable. */
	for (d = 0; d < 2; d++) {
		if (proto_pipe_want(c->c.pipe, d) & PROTO_PIPE_WANT_SHUT) {
			if (c->c.sock_out[d])
				(void)shutdown(c->out[d]->fd, SHUT_WR);
			proto_pipe_shut_done(c->c.pipe, d);
		}
	}
	if (proto_pipe_finished(c->c.pipe)) {
		econn_close(e, c);
		return;
	}
	if (!c->c.held && proto_pipe_deadline(c->c.pipe) != 0) {
		rp_whold_add(&e->hold, &c->c);
		if (e->next_hold == 0 ||
		    proto_pipe_deadline(c->c.pipe) < e->next_hold)
			e->next_hold = proto_pipe_deadline(c->c.pipe);
	}
}

/* Whether ${fd} is one of ${c}'s sockets. */
static int
is_socket(const struct econn * c, int fd)
{
	int d;

	for (d = 0; d < 2; d++)
		if ((c->c.fd_in[d] == fd && c->c.sock_in[d]) ||
		    (c->c.fd_out[d] == fd && c->c.sock_out[d]))
			return (1);
	return (0);
}

/* Find or add the entry of descriptor ${fd} of ${c}. */
static struct efd *
econn_fd(struct epoll_eng * e, struct econn * c, int fd)
{
	struct epoll_event ev;
	struct efd * f;
	int i, fl;

	for (i = 0; i < 3; i++)
		if (c->fds[i].owner != NULL && c->fds[i].fd == fd)
			return (&c->fds[i]);
	for (i = 0; c->fds[i].owner != NULL; i++)
		;
	f = &c->fds[i];
	f->owner = c;
	f->fd = fd;
	f->rd = f->wr = 1;
	f->oflags = -1;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = f;
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
		f->polled = 1;
		/* Non-socket descriptors (pipes, terminals) need the flag;
		 * sockets get MSG_DONTWAIT per call. */
		if (!is_socket(c, fd) && (fl = fcntl(fd, F_GETFL)) != -1 &&
		    !(fl & O_NONBLOCK) &&
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
			f->oflags = fl;
	} else {
		/* Regular files cannot be polled and never block. */
		f->polled = 0;
	}
	return (f);
}

static void
epoll_adopt(void * arg, struct rp_wconn * wc)
{
	struct epoll_eng * e = arg;
	struct econn * c = (struct econn *)wc;
	int d;

	for (d = 0; d < 2; d++) {
		c->in[d] = econn_fd(e, c, c->c.fd_in[d]);
		c->out[d] = econn_fd(e, c, c->c.fd_out[d]);
	}
	c->next = e->conns;
	if (e->conns)
		e->conns->prev = c;
	e->conns = c;
	econn_pump(e, c);
}

/* After the batch: send what was sealed or opened, read again. */
static void
epoll_after(void * arg, struct rp_wconn * wc)
{

	econn_pump(arg, (struct econn *)wc);
}

/* Pump the pairs whose held packet is due; keep the earliest deadline
 * left (pumping may hold new ones). */
static void
hold_scan(struct epoll_eng * e)
{
	uint64_t next;

	e->next_hold = 0;
	next = rp_whold_scan(&e->hold, rp_wk_clock(e->w), epoll_after, e);
	if (next != 0 && (e->next_hold == 0 || next < e->next_hold))
		e->next_hold = next;
}

static void *
epoll_init(struct rp_worker * w, char * desc, size_t len)
{
	struct epoll_event ev;
	struct epoll_eng * e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto err0;
	e->w = w;
	rp_wready_init(&e->ready);
	if ((e->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		rp_warnp("epoll_create1");
		goto err1;
	}
	e->bell.fd = w->doorbell;
	ev.events = EPOLLIN;
	ev.data.ptr = &e->bell;
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, w->doorbell, &ev)) {
		rp_warnp("epoll_ctl");
		goto err2;
	}
	snprintf(desc, len, "edge-triggered");
	return (e);

err2:
	close(e->epfd);
err1:
	free(e);
err0:
	return (NULL);
}

static void epoll_after(void *, struct rp_wconn *);

static void
epoll_event(struct epoll_eng * e, const struct epoll_event * ev)
{
	struct efd * f = ev->data.ptr;
	uint64_t v;

	if (f == &e->host) {
		e->w->host.ready = 1;
		return;
	}
	if (f == &e->bell) {
		if (read(e->w->doorbell, &v, sizeof(v)) != sizeof(v)) {
			/* Nothing to take: another wake-up raced us. */
		}
		rp_wk_drain_inbox(e->w, epoll_adopt, e);
		return;
	}
	if (f->owner->closed)
		return;
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		f->rd = 1;
	if (ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		f->hup = 1;
	if (ev->events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		f->wr = 1;
	econn_pump(e, f->owner);
}

/* How long epoll_wait may sleep: not at all with crypto to do, else until
 * the earliest held packet's deadline (rounded up to a millisecond). */
static int
epoll_timeout(struct epoll_eng * e)
{
	uint64_t now, due;

	if (e->ready.head != NULL)
		return (0);
	if ((due = rp_wk_due(e->w, e->next_hold)) == 0)
		return (-1);
	if ((now = rp_wk_clock(e->w)) >= due)
		return (0);
	return ((int)((due - now + 999999) / 1000000));
}

/* Watch the host's descriptor, level-triggered (a step may leave input
 * unread), or take it out of the set. */
static void
epoll_host_watch(void * arg, int on)
{
	struct epoll_eng * e = arg;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &e->host };

	if (on == e->host.polled)
		return;
	if (on) {
		e->host.fd = e->w->host.fd;
		if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->host.fd, &ev)) {
			/* Unwatched, the host is still served when due. */
			rp_warnp("worker %d: epoll_ctl", e->w->id);
			return;
		}
	} else {
		(void)epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->host.fd, NULL);
	}
	e->host.polled = on;
}

static void epoll_abort_all(void *);

/*
 * epoll_wait failed for good (EBADF, EFAULT, EINVAL: the set is unusable):
 * report it, and close every pair now, as they can no longer be served;
 * outside a batch none is on one, so every one is freed here.
 */
static void
epoll_fatal(struct epoll_eng * e)
{

	rp_warnp("worker %d: epoll_wait", e->w->id);
	rp_fatal("a worker");
	epoll_abort_all(e);
	epoll_bury(e);
}

static void
epoll_run(void * arg)
{
	struct epoll_eng * e = arg;
	int n, i;

	while (!(e->w->stopping && e->w->npairs == 0)) {
		n = epoll_wait(e->epfd, e->evs, EPOLL_EVENTS,
		    epoll_timeout(e));
		if (e->w->env.coalesce)
			(void)rp_wk_clock(e->w);
		if (n < 0 && errno != EINTR) {
			epoll_fatal(e);
			break;
		}
		for (i = 0; i < n; i++)
			epoll_event(e, &e->evs[i]);
		rp_wk_host_serve(e->w, epoll_adopt, e);
		if (e->hold.head != NULL)
			hold_scan(e);
		rp_batch_run(e->w->batch, &e->ready, epoll_after, e);
		epoll_bury(e);
	}
}

static void
epoll_fini(void * arg)
{
	struct epoll_eng * e = arg;

	close(e->epfd);
	free(e);
}

/* Close every pair now: their pipes fail, as on a reset. */
static void
epoll_abort_all(void * arg)
{
	struct epoll_eng * e = arg;
	struct econn * c, * next;

	for (c = e->conns; c != NULL; c = next) {
		next = c->next;
		proto_pipe_fail(c->c.pipe);
		econn_close(e, c);
	}
}

const struct rp_wk_ops rp_wk_epoll_ops = {
	.name = "epoll",
	.conn_size = sizeof(struct econn),
	.init = epoll_init,
	.run = epoll_run,
	.abort_all = epoll_abort_all,
	.host_watch = epoll_host_watch,
	.fini = epoll_fini
};
