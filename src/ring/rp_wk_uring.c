/*
 * The io_uring engine: each worker owns one ring.  Its verbs queue
 * receives and sends on the ring; one submit per loop iteration sends
 * them all, and the completions reaped go back to the pipes (the policy
 * around them is rp_wk_pairs.c's).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "proto_pipe.h"
#include "rp_fatal.h"
#include "rp_log.h"
#include "rp_region.h"
#include "rp_uring.h"
#include "rp_wconn.h"
#include "rp_wk.h"
#include "rp_wk_pairs.h"

/* Completion tags in the low bits of user_data (pointers are 8-aligned). */
#define TAG_NONE	0	/* Cancels: nothing to do. */
#define TAG_RX		1	/* ptr = conn; + direction. */
#define TAG_TX		3	/* ptr = conn; + direction. */
#define TAG_DOORBELL	5
#define TAG_HOST	6	/* The host's descriptor is readable. */
#define TAG_MASK	7

#define URING_SQES	1024

/* Destinations whose SEND_ZC came back copied (loopback, veth), remembered
 * per worker so that short connections do not each pay for the test. */
#define ZC_MEMORY	16

struct zc_dest {
	struct sockaddr_storage addr;	/* Family and address; no port. */
	int copied;
};

struct uconn {
	struct rp_wconn c;		/* First: the batch hands it back. */
	int use_zc[2];			/* Per direction: SEND_ZC until a copy
					   is reported. */
	int zc_wait[2];			/* SEND_ZC notifications to come. */
	int tx_res[2];			/* Result held until the notification. */
	int retry;			/* On the retry list (a reference). */
	struct uconn * rnext;		/* Retry list link. */
};

struct uring_eng {
	struct rp_worker * w;
	struct io_uring ring;
	int zc_ok;
	struct zc_dest zc_mem[ZC_MEMORY];	/* Ring of what was seen. */
	size_t zc_next;
	uint64_t bell;
	int bell_armed;
	int host_armed;			/* A poll of the host's fd is queued. */
	struct uconn * retry;		/* Could not arm: no SQE was free. */
	double last_warn;
};

static inline uint64_t
ud(void * p, int tag)
{

	return ((uint64_t)(uintptr_t)p | (uint64_t)tag);
}

/* No SQE was free for ${u}: pump it again after the next reap. */
static void
uconn_defer(struct uring_eng * e, struct uconn * u)
{

	if (u->retry)
		return;
	u->retry = 1;
	u->c.refs++;
	u->rnext = e->retry;
	e->retry = u;
}

/* Cancel what ${c} has on the ring. */
static void
uring_cancel(void * arg, struct rp_wconn * c)
{
	struct uring_eng * e = arg;
	struct io_uring_sqe * sqe;
	int i;

	if (c->refs == 0)
		return;
	/* Shutting the sockets down ends their operations even if no SQE
	 * is free for the cancels. */
	for (i = 0; i < 3; i++) {
		if (c->fds[i] == -1)
			continue;
		(void)shutdown(c->fds[i], SHUT_RDWR);
		if ((sqe = rp_uring_sqe(&e->ring)) == NULL)
			continue;
		io_uring_prep_cancel_fd(sqe, c->fds[i], IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, TAG_NONE);
	}
}

static void
uring_recv(void * arg, struct rp_wconn * c, int d)
{
	struct uring_eng * e = arg;
	struct uconn * u = (struct uconn *)c;
	struct io_uring_sqe * sqe;
	uint8_t * buf;
	size_t len;

	if ((buf = proto_pipe_rx_get(c->pipe, d, &len)) == NULL)
		return;
	if ((sqe = rp_uring_sqe(&e->ring)) == NULL) {
		proto_pipe_rx_abort(c->pipe, d);
		uconn_defer(e, u);
		return;
	}
	/* From the registered region: no page pinning per receive. */
	if (c->sock_in[d] && e->w->registered &&
	    rp_region_has(e->w->region, buf))
		io_uring_prep_read_fixed(sqe, c->fd_in[d], buf, (unsigned)len,
		    0, 0);
	else if (c->sock_in[d])
		io_uring_prep_recv(sqe, c->fd_in[d], buf, len, 0);
	else
		io_uring_prep_read(sqe, c->fd_in[d], buf, (unsigned)len,
		    (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, ud(u, TAG_RX + d));
	c->refs++;
}

static void
uring_send(void * arg, struct rp_wconn * c, int d)
{
	struct uring_eng * e = arg;
	struct uconn * u = (struct uconn *)c;
	struct io_uring_sqe * sqe;
	const uint8_t * buf;
	size_t len;

	if ((buf = proto_pipe_tx_get(c->pipe, d, &len)) == NULL)
		return;
	if ((sqe = rp_uring_sqe(&e->ring)) == NULL) {
		proto_pipe_tx_put(c->pipe, d, 0);
		uconn_defer(e, u);
		return;
	}
	if (!c->sock_out[d])
		io_uring_prep_write(sqe, c->fd_out[d], buf, (unsigned)len,
		    (uint64_t)-1);
	else if (u->use_zc[d] && e->w->registered &&
	    rp_region_has(e->w->region, buf))
		io_uring_prep_send_zc_fixed(sqe, c->fd_out[d], buf, len,
		    MSG_NOSIGNAL | MSG_WAITALL, IORING_SEND_ZC_REPORT_USAGE, 0);
	else if (u->use_zc[d])
		io_uring_prep_send_zc(sqe, c->fd_out[d], buf, len,
		    MSG_NOSIGNAL | MSG_WAITALL, IORING_SEND_ZC_REPORT_USAGE);
	else
		io_uring_prep_send(sqe, c->fd_out[d], buf, len,
		    MSG_NOSIGNAL | MSG_WAITALL);
	io_uring_sqe_set_data64(sqe, ud(u, TAG_TX + d));
	c->refs++;
}

static void
uconn_rx_done(struct uconn * u, int d, int res)
{

	if (res == -EAGAIN || res == -EINTR || res == -ECANCELED)
		proto_pipe_rx_abort(u->c.pipe, d);
	else {
		if (res < 0)
			rp_wconn_io_err(&u->c, -res);
		proto_pipe_rx_put(u->c.pipe, d, res < 0 ? -1 : res);
	}
}

/* The address (no port) of the peer of socket ${fd} in ${ss}; -1 if it
 * has none that SEND_ZC could serve. */
static int
zc_peer(int fd, struct sockaddr_storage * ss)
{
	socklen_t len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (getpeername(fd, (struct sockaddr *)ss, &len))
		return (-1);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = 0;
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = 0;
	else
		return (-1);
	return (0);
}

/* What ${e} remembers of the destination ${ss}, or NULL. */
static struct zc_dest *
zc_find(struct uring_eng * e, const struct sockaddr_storage * ss)
{
	size_t i;

	for (i = 0; i < ZC_MEMORY; i++)
		if (e->zc_mem[i].addr.ss_family != 0 &&
		    memcmp(&e->zc_mem[i].addr, ss, sizeof(*ss)) == 0)
			return (&e->zc_mem[i]);
	return (NULL);
}

/* Remember whether SEND_ZC to ${u}'s direction ${d} came back copied. */
static void
zc_learn(struct uring_eng * e, struct uconn * u, int d, int copied)
{
	struct sockaddr_storage ss;
	struct zc_dest * z;

	if (zc_peer(u->c.fd_out[d], &ss))
		return;
	if ((z = zc_find(e, &ss)) == NULL) {
		z = &e->zc_mem[e->zc_next++ % ZC_MEMORY];
		z->addr = ss;
	}
	z->copied = copied;
}

/* Whether ${u}'s direction ${d} should start with SEND_ZC: a socket to
 * an IP destination not known to copy. */
static int
zc_start(struct uring_eng * e, struct uconn * u, int d)
{
	struct sockaddr_storage ss;
	struct zc_dest * z;

	if (!e->zc_ok || !u->c.sock_out[d] || zc_peer(u->c.fd_out[d], &ss))
		return (0);
	z = zc_find(e, &ss);
	return (z == NULL || !z->copied);
}

/* A completion of a send of ${u}'s direction ${d}; return 0 if the send
 * has ended, -1 if the kernel still holds its buffer. */
static int
uconn_tx_done(struct uring_eng * e, struct uconn * u, int d,
    const struct io_uring_cqe * cqe)
{
	int res = cqe->res;

	if (cqe->flags & IORING_CQE_F_NOTIF) {
		/* The kernel is done with the buffer of a SEND_ZC; the
		 * first one tells what this destination does. */
		if (u->use_zc[d] == 1) {
			u->use_zc[d] = ((uint32_t)res &
			    IORING_NOTIF_USAGE_ZC_COPIED) ? 0 : 2;
			zc_learn(e, u, d, u->use_zc[d] == 0);
		}
		if (--u->zc_wait[d] > 0)
			return (-1);
		res = u->tx_res[d];
	} else if (cqe->flags & IORING_CQE_F_MORE) {
		/* Hold the result: the buffer is the kernel's until the
		 * notification comes. */
		u->zc_wait[d]++;
		u->c.refs++;
		u->tx_res[d] = res;
		return (-1);
	}
	if (res == -EAGAIN || res == -EINTR)
		res = 0;
	/* A socket that SEND_ZC does not serve: send plainly, again. */
	if ((res == -EOPNOTSUPP || res == -EINVAL) && u->use_zc[d]) {
		u->use_zc[d] = 0;
		res = 0;
	}
	if (res < 0)
		rp_wconn_io_err(&u->c, -res);
	proto_pipe_tx_put(u->c.pipe, d, res < 0 ? -1 : res);
	return (0);
}

static void
uring_attach(void * arg, struct rp_wconn * c)
{
	struct uring_eng * e = arg;
	struct uconn * u = (struct uconn *)c;
	int d, fl;

	/* io_uring completes reads on non-blocking sockets with EAGAIN
	 * instead of waiting: the ring does the waiting here. */
	for (d = 0; d < 2; d++) {
		if (!c->sock_in[d])
			continue;
		/* Sockets from the control loop carry O_NONBLOCK alone. */
		if (c->nbsock)
			(void)fcntl(c->fd_in[d], F_SETFL, 0);
		else if ((fl = fcntl(c->fd_in[d], F_GETFL)) != -1 &&
		    (fl & O_NONBLOCK))
			(void)fcntl(c->fd_in[d], F_SETFL, fl & ~O_NONBLOCK);
	}
	for (d = 0; d < 2; d++)
		u->use_zc[d] = zc_start(e, u, d);
}

static void
uring_arm_doorbell(struct uring_eng * e)
{
	struct io_uring_sqe * sqe;

	if ((sqe = rp_uring_sqe(&e->ring)) == NULL)
		return;
	io_uring_prep_read(sqe, e->w->doorbell, &e->bell, sizeof(e->bell), 0);
	io_uring_sqe_set_data64(sqe, TAG_DOORBELL);
	e->bell_armed = 1;
}

/* Watch the host's descriptor (a one-shot poll, queued again after each
 * step), or cancel the watch. */
static void
uring_host_watch(void * arg, int on)
{
	struct uring_eng * e = arg;
	struct io_uring_sqe * sqe;

	if (on == e->host_armed || (sqe = rp_uring_sqe(&e->ring)) == NULL)
		return;
	if (on) {
		io_uring_prep_poll_add(sqe, e->w->host.fd, POLLIN);
		io_uring_sqe_set_data64(sqe, TAG_HOST);
		e->host_armed = 1;
	} else {
		io_uring_prep_poll_remove(sqe, TAG_HOST);
		io_uring_sqe_set_data64(sqe, TAG_NONE);
		e->host_armed = 0;
	}
}

/* Pump the pairs that found no SQE free, re-arm the doorbell and the
 * host's watch. */
static void
uring_flush(void * arg)
{
	struct uring_eng * e = arg;
	struct uconn * u, * list = e->retry;

	e->retry = NULL;
	while ((u = list) != NULL) {
		list = u->rnext;
		u->retry = 0;
		u->c.refs--;
		rp_wkp_io_done(&e->w->pairs, &u->c);
	}
	if (!e->bell_armed)
		uring_arm_doorbell(e);
	if (e->w->host.step != NULL && !e->host_armed)
		uring_host_watch(e, 1);
}

static void
uring_cqe(struct uring_eng * e, const struct io_uring_cqe * cqe)
{
	uint64_t v = cqe->user_data;
	struct uconn * u = (void *)(uintptr_t)(v & ~(uint64_t)TAG_MASK);
	int tag = (int)(v & TAG_MASK);

	switch (tag) {
	case TAG_RX:
	case TAG_RX + 1:
		u->c.refs--;
		uconn_rx_done(u, tag - TAG_RX, cqe->res);
		break;
	case TAG_TX:
	case TAG_TX + 1:
		u->c.refs--;
		if (uconn_tx_done(e, u, tag - TAG_TX, cqe))
			return;
		break;
	case TAG_DOORBELL:
		e->bell_armed = 0;
		/* Closing for a fatal error: posted pairs stay in the inbox
		 * (rp_worker_stop closes them). */
		if (e->w->pairs.fatal)
			return;
		rp_wk_drain_inbox(e->w);
		uring_arm_doorbell(e);
		return;
	case TAG_HOST:
		e->host_armed = 0;
		e->w->host.ready = 1;
		return;
	default:
		return;
	}
	rp_wkp_io_done(&e->w->pairs, &u->c);
}

/* Take every completion in and pass it on. */
static void
uring_reap_cqes(struct uring_eng * e)
{
	struct io_uring_cqe * cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&e->ring, head, cqe) {
		uring_cqe(e, cqe);
		n++;
	}
	io_uring_cq_advance(&e->ring, n);
}

/*
 * Submit, waiting for a completion if ${block} and no pair waits for an
 * SQE (at most until ${due}, if not 0), then reap.  Return 0, or -1 on an
 * error that the ring does not recover from (EBADF, EFAULT, EINVAL,
 * ENXIO...: reported with rp_fatal).  An interruption, a timeout or a
 * backed-up completion queue is no error; ENOMEM is logged (at most every
 * 10 s) and slowed down, never spun on.
 */
static int
uring_wait(void * arg, int block, uint64_t due)
{
	struct uring_eng * e = arg;
	struct __kernel_timespec kts;
	struct io_uring_cqe * cqe;
	struct timespec ts;
	uint64_t now, dt;
	double t;
	int rc;

	block = block && e->retry == NULL;
	if (block && due != 0) {
		now = rp_wk_clock(e->w);
		dt = due > now ? due - now : 0;
		kts.tv_sec = (long long)(dt / 1000000000);
		kts.tv_nsec = (long long)(dt % 1000000000);
		rc = io_uring_submit_and_wait_timeout(&e->ring, &cqe, 1, &kts,
		    NULL);
	} else if (block) {
		rc = io_uring_submit_and_wait(&e->ring, 1);
	} else {
		rc = io_uring_submit(&e->ring);
	}
	if (rc >= 0 || rc == -EINTR || rc == -EBUSY || rc == -EAGAIN ||
	    rc == -ETIME) {
		/* A read reaped below starts a coalescing hold at env.now:
		 * after a long sleep that must be now, not when it began. */
		if (e->w->env.coalesce)
			(void)rp_wk_clock(e->w);
		uring_reap_cqes(e);
		return (0);
	}
	if (rc != -ENOMEM) {
		errno = -rc;
		rp_warnp("worker %d: io_uring_enter", e->w->id);
		if (!e->w->pairs.fatal)
			rp_fatal("a worker");
		return (-1);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	if (t - e->last_warn > 10) {
		errno = -rc;
		rp_warnp("worker %d: io_uring_enter", e->w->id);
		e->last_warn = t;
	}
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	nanosleep(&ts, NULL);
	uring_reap_cqes(e);
	return (0);
}

/*
 * Register the worker's buffer region with the ring, as fixed buffer 0.
 * Pinned memory counts against RLIMIT_MEMLOCK without CAP_IPC_LOCK: on
 * ENOMEM (or any refusal) the engine works unregistered, with plain
 * receives and sends.
 */
static void
uring_register(struct uring_eng * e)
{
	struct iovec iov;
	int rc;

	iov.iov_base = rp_region_base(e->w->region, &iov.iov_len);
	if ((rc = io_uring_register_buffers(&e->ring, &iov, 1)) == 0) {
		e->w->registered = 1;
		return;
	}
	errno = -rc;
	rp_warnp("worker %d: registering %zu KiB of buffers (RLIMIT_MEMLOCK?); "
	    "going on unregistered", e->w->id, iov.iov_len >> 10);
}

static void *
uring_init(struct rp_worker * w, char * desc, size_t len)
{
	struct uring_eng * e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto err0;
	e->w = w;
	if (rp_uring_init(&e->ring, URING_SQES, 1))
		goto err1;
	uring_register(e);
	e->zc_ok = (w->cfg.sendmode == RP_SEND_ZC) &&
	    rp_uring_has_op(IORING_OP_SEND_ZC);
	if (w->cfg.sendmode == RP_SEND_ZC && !e->zc_ok)
		rp_warn("worker %d: SEND_ZC unavailable; using send", w->id);
	/* Without the region registered, SEND_ZC would pin pages per send. */
	e->zc_ok = e->zc_ok && w->registered;
	snprintf(desc, len, "%s%s",
	    (e->ring.flags & IORING_SETUP_DEFER_TASKRUN) ? "defer-taskrun" :
	    "plain ring", e->zc_ok ? ", send_zc" : "");
	uring_arm_doorbell(e);
	return (e);

err1:
	free(e);
err0:
	return (NULL);
}

static void
uring_fini(void * arg)
{
	struct uring_eng * e = arg;

	io_uring_queue_exit(&e->ring);
	free(e);
}

const struct rp_wk_ops rp_wk_uring_ops = {
	.name = "io_uring",
	.conn_size = sizeof(struct uconn),
	.init = uring_init,
	.fini = uring_fini,
	.attach = uring_attach,
	.recv = uring_recv,
	.send = uring_send,
	.cancel = uring_cancel,
	.wait = uring_wait,
	.flush = uring_flush,
	.host_watch = uring_host_watch
};
