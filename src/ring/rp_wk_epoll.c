/*
 * The epoll engine, for where io_uring is blocked: each worker owns one
 * edge-triggered epoll set and remembers which descriptors are readable
 * and writable.  Its verbs read and send at once, as far as the
 * descriptors allow; each event pumps its pair again (the policy is
 * rp_wk_pairs.c's).
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
#include "rp_fatal.h"
#include "rp_log.h"
#include "rp_wconn.h"
#include "rp_wk.h"
#include "rp_wk_pairs.h"

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
	struct efd fds[3];
	struct efd * in[2], * out[2];	/* Per direction. */
};

struct epoll_eng {
	struct rp_worker * w;
	int epfd;
	struct efd bell;
	struct epoll_event evs[EPOLL_EVENTS];
};

/* ${c} is closed: give a pipe or terminal shared with other processes its
 * flags back (closing its descriptors later takes them out of the set). */
static void
epoll_cancel(void * arg, struct rp_wconn * wc)
{
	struct econn * c = (struct econn *)wc;
	int i;

	(void)arg;
	for (i = 0; i < 3; i++)
		if (c->fds[i].owner != NULL && c->fds[i].oflags != -1)
			(void)fcntl(c->fds[i].fd, F_SETFL, c->fds[i].oflags);
}

/* Close the descriptors of ${c} (which takes them out of the set). */
static void
epoll_close_fds(void * arg, struct rp_wconn * wc)
{

	(void)arg;
	rp_wconn_close_fds(wc);
}

/* Read once into direction ${d} of ${c} if its descriptor can. */
static void
epoll_recv(void * arg, struct rp_wconn * wc, int d)
{
	struct econn * c = (struct econn *)wc;
	struct efd * f = c->in[d];
	uint8_t * buf;
	size_t len;
	ssize_t n;

	(void)arg;
	if (!f->rd || (buf = proto_pipe_rx_get(wc->pipe, d, &len)) == NULL)
		return;
	if (wc->sock_in[d])
		n = recv(f->fd, buf, len, MSG_DONTWAIT);
	else
		n = read(f->fd, buf, len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (errno == EAGAIN)
			f->rd = 0;
		proto_pipe_rx_abort(wc->pipe, d);
		return;
	}
	if (n < 0)
		rp_wconn_io_err(wc, errno);
	/* A short read drained the socket: wait for the next edge, unless
	 * the FIN is already in (it makes no further edge). */
	if (n >= 0 && (size_t)n < len && f->polled && !f->hup)
		f->rd = 0;
	proto_pipe_rx_put(wc->pipe, d, n);
}

/* Send what direction ${d} of ${c} has queued, while it can. */
static void
epoll_send(void * arg, struct rp_wconn * wc, int d)
{
	struct econn * c = (struct econn *)wc;
	struct efd * f = c->out[d];
	const uint8_t * buf;
	size_t len;
	ssize_t n;

	(void)arg;
	while (f->wr &&
	    (buf = proto_pipe_tx_get(wc->pipe, d, &len)) != NULL) {
		if (wc->sock_out[d])
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
			rp_wconn_io_err(wc, errno);
		proto_pipe_tx_put(wc->pipe, d, n);
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
epoll_attach(void * arg, struct rp_wconn * wc)
{
	struct econn * c = (struct econn *)wc;
	int d;

	for (d = 0; d < 2; d++) {
		c->in[d] = econn_fd(arg, c, wc->fd_in[d]);
		c->out[d] = econn_fd(arg, c, wc->fd_out[d]);
	}
}

static void *
epoll_init(struct rp_worker * w, char * desc, size_t len)
{
	struct epoll_event ev;
	struct epoll_eng * e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto err0;
	e->w = w;
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

static void
epoll_event(struct epoll_eng * e, const struct epoll_event * ev)
{
	struct efd * f = ev->data.ptr;
	uint64_t v;

	if (f == &e->bell) {
		if (read(e->w->doorbell, &v, sizeof(v)) != sizeof(v)) {
			/* Nothing to take: another wake-up raced us. */
		}
		if (!e->w->pairs.fatal)
			rp_wk_drain_inbox(e->w);
		return;
	}
	/* A closed pair is freed only after this round's events. */
	if (f->owner->c.dead)
		return;
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		f->rd = 1;
	if (ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		f->hup = 1;
	if (ev->events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		f->wr = 1;
	rp_wkp_pump(&e->w->pairs, &f->owner->c);
}

/*
 * Wait for events (not at all unless ${block}; else until ${due} if set,
 * rounded up to a millisecond) and deliver them.  Return -1 if epoll_wait
 * failed for good (EBADF, EFAULT, EINVAL: the set is unusable), else 0.
 */
static int
epoll_wait_events(void * arg, int block, uint64_t due)
{
	struct epoll_eng * e = arg;
	uint64_t now;
	int n, i, ms = 0;

	if (block && due == 0)
		ms = -1;
	else if (block && (now = rp_wk_clock(e->w)) < due)
		ms = (int)((due - now + 999999) / 1000000);
	n = epoll_wait(e->epfd, e->evs, EPOLL_EVENTS, ms);
	if (n < 0 && errno != EINTR) {
		rp_warnp("worker %d: epoll_wait", e->w->id);
		if (!e->w->pairs.fatal)
			rp_fatal("a worker");
		return (-1);
	}
	if (e->w->env.coalesce)
		(void)rp_wk_clock(e->w);
	for (i = 0; i < n; i++)
		epoll_event(e, &e->evs[i]);
	return (0);
}

/* Nothing is left for later: every verb did what it could at once. */
static void
epoll_flush(void * arg)
{

	(void)arg;
}

static void
epoll_fini(void * arg)
{
	struct epoll_eng * e = arg;

	close(e->epfd);
	free(e);
}

const struct rp_wk_ops rp_wk_epoll_ops = {
	.name = "epoll",
	.conn_size = sizeof(struct econn),
	.init = epoll_init,
	.fini = epoll_fini,
	.attach = epoll_attach,
	.recv = epoll_recv,
	.send = epoll_send,
	.cancel = epoll_cancel,
	.close_fds = epoll_close_fds,
	.wait = epoll_wait_events,
	.flush = epoll_flush
};
