/*
 * The io_uring engine: each worker owns one ring.  Every loop iteration
 * reaps all completions, feeds them to the pipes, runs one crypto batch
 * across every pair with input ready, then queues the sends and reads the
 * pipes ask for and submits once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto_pipe.h"
#include "rp_batch.h"
#include "rp_fatal.h"
#include "rp_log.h"
#include "rp_uring.h"
#include "rp_wconn.h"
#include "rp_wk.h"

/* Completion tags in the low bits of user_data (pointers are 8-aligned). */
#define TAG_NONE	0	/* Cancels: nothing to do. */
#define TAG_RX		1	/* ptr = conn; + direction. */
#define TAG_TX		3	/* ptr = conn; + direction. */
#define TAG_DOORBELL	5
#define TAG_HOST	6	/* The host's descriptor is readable. */
#define TAG_MASK	7

#define URING_SQES	1024

/* After a fatal error: how long the pairs' operations may take to come
 * back once cancelled, and how long each wait for them lasts (ns). */
#define URING_FATAL_WAIT	1000000000ULL
#define URING_FATAL_STEP	100000000ULL

struct uconn {
	struct rp_wconn c;		/* First: the batch hands it back. */
	struct uconn * prev, * next;	/* All pairs of the engine. */
	int inflight;			/* Operations on the ring. */
	int closing;
	int use_zc;			/* SEND_ZC until a copy is reported. */
	int rx_busy[2], tx_busy[2];
	int zc_wait[2];			/* SEND_ZC notifications to come. */
	int tx_res[2];			/* Result held until the notification. */
	int retry;			/* On the retry list. */
	struct uconn * rnext;		/* Retry list link. */
};

struct uring_eng {
	struct rp_worker * w;
	struct io_uring ring;
	int zc_ok;
	uint64_t bell;
	int bell_armed;
	int host_armed;			/* A poll of the host's fd is queued. */
	struct uconn * conns;
	struct rp_wready ready;
	struct uconn * retry;		/* Could not arm: no SQE was free. */
	struct rp_whold hold;		/* Part packets waiting (coalescing). */
	uint64_t next_hold;		/* Earliest of their deadlines, or 0. */
	double last_warn;
	int fatal;			/* Submitting failed for good: the
					   pairs are closing, none is taken
					   in. */
};

static inline uint64_t
ud(void * p, int tag)
{

	return ((uint64_t)(uintptr_t)p | (uint64_t)tag);
}

static void uconn_pump(struct uring_eng *, struct uconn *);
static void uring_after(void *, struct rp_wconn *);

/* No SQE was free for ${u}: pump it again after the next reap. */
static void
uconn_defer(struct uring_eng * e, struct uconn * u)
{

	if (u->retry)
		return;
	u->retry = 1;
	u->rnext = e->retry;
	e->retry = u;
}

/* Free ${u} once nothing of it is on the ring. */
static void
uconn_reap(struct uring_eng * e, struct uconn * u)
{
	int end, timedout;

	if (u->inflight > 0 || u->c.queued || u->retry)
		return;
	if (u->prev)
		u->prev->next = u->next;
	else
		e->conns = u->next;
	if (u->next)
		u->next->prev = u->prev;
	end = proto_pipe_end(u->c.pipe);
	timedout = u->c.timedout;
	rp_wconn_close_fds(&u->c);
	proto_pipe_free(u->c.pipe);
	free(u);
	rp_wk_pair_closed(e->w, end, timedout);
}

/* Close ${u}: cancel what is on the ring, then free it when all is back. */
static void
uconn_close(struct uring_eng * e, struct uconn * u)
{
	struct io_uring_sqe * sqe;
	int i;

	if (!u->closing) {
		u->closing = 1;
		u->c.dead = 1;
		rp_wready_unlink(&e->ready, &u->c);
		rp_whold_unlink(&e->hold, &u->c);
		if (u->inflight > 0) {
			/* Shutting the sockets down ends their operations
			 * even if no SQE is free for the cancels. */
			for (i = 0; i < 3; i++) {
				if (u->c.fds[i] == -1)
					continue;
				(void)shutdown(u->c.fds[i], SHUT_RDWR);
				if ((sqe = rp_uring_sqe(&e->ring)) == NULL)
					continue;
				io_uring_prep_cancel_fd(sqe, u->c.fds[i],
				    IORING_ASYNC_CANCEL_ALL);
				io_uring_sqe_set_data64(sqe, TAG_NONE);
			}
			/* Submit the cancels now, before the descriptors are
			 * closed and their numbers can be reused. */
			io_uring_submit(&e->ring);
		}
	}
	uconn_reap(e, u);
}

static void
uconn_arm_recv(struct uring_eng * e, struct uconn * u, int d)
{
	struct io_uring_sqe * sqe;
	uint8_t * buf;
	size_t len;

	if ((buf = proto_pipe_rx_get(u->c.pipe, d, &len)) == NULL)
		return;
	if ((sqe = rp_uring_sqe(&e->ring)) == NULL) {
		proto_pipe_rx_abort(u->c.pipe, d);
		uconn_defer(e, u);
		return;
	}
	if (u->c.sock_in[d])
		io_uring_prep_recv(sqe, u->c.fd_in[d], buf, len, 0);
	else
		io_uring_prep_read(sqe, u->c.fd_in[d], buf, (unsigned)len,
		    (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, ud(u, TAG_RX + d));
	u->rx_busy[d] = 1;
	u->inflight++;
}

static void
uconn_arm_send(struct uring_eng * e, struct uconn * u, int d)
{
	struct io_uring_sqe * sqe;
	const uint8_t * buf;
	size_t len;

	if ((buf = proto_pipe_tx_get(u->c.pipe, d, &len)) == NULL)
		return;
	if ((sqe = rp_uring_sqe(&e->ring)) == NULL) {
		proto_pipe_tx_put(u->c.pipe, d, 0);
		uconn_defer(e, u);
		return;
	}
	if (!u->c.sock_out[d])
		io_uring_prep_write(sqe, u->c.fd_out[d], buf, (unsigned)len,
		    (uint64_t)-1);
	else if (u->use_zc)
		io_uring_prep_send_zc(sqe, u->c.fd_out[d], buf, len,
		    MSG_NOSIGNAL | MSG_WAITALL, IORING_SEND_ZC_REPORT_USAGE);
	else
		io_uring_prep_send(sqe, u->c.fd_out[d], buf, len,
		    MSG_NOSIGNAL | MSG_WAITALL);
	io_uring_sqe_set_data64(sqe, ud(u, TAG_TX + d));
	u->tx_busy[d] = 1;
	u->inflight++;
}

/*
 * Do what ${u}'s pipe asks for.  A direction with input ready for crypto is
 * queued for the batch and reads again only after it: a read now could
 * only fill the tail behind the pending bytes, and every short read costs
 * a short batch and a short send.
 */
static void
uconn_pump(struct uring_eng * e, struct uconn * u)
{
	int d, want;

	if (u->closing)
		return;
	for (d = 0; d < 2; d++) {
		want = proto_pipe_want(u->c.pipe, d);
		if (want & PROTO_PIPE_WANT_SEND)
			uconn_arm_send(e, u, d);
		if (want & PROTO_PIPE_WANT_SHUT) {
			if (u->c.sock_out[d])
				(void)shutdown(u->c.fd_out[d], SHUT_WR);
			proto_pipe_shut_done(u->c.pipe, d);
		}
		if (want & PROTO_PIPE_WANT_CRYPTO)
			rp_wready_add(&e->ready, &u->c);
		else if (want & PROTO_PIPE_WANT_READ)
			uconn_arm_recv(e, u, d);
	}
	if (proto_pipe_finished(u->c.pipe)) {
		uconn_close(e, u);
		return;
	}
	if (!u->c.held && proto_pipe_deadline(u->c.pipe) != 0) {
		rp_whold_add(&e->hold, &u->c);
		if (e->next_hold == 0 ||
		    proto_pipe_deadline(u->c.pipe) < e->next_hold)
			e->next_hold = proto_pipe_deadline(u->c.pipe);
	}
}

static void
uconn_rx_done(struct uring_eng * e, struct uconn * u, int d, int res)
{

	u->rx_busy[d] = 0;
	if (res == -EAGAIN || res == -EINTR || res == -ECANCELED)
		proto_pipe_rx_abort(u->c.pipe, d);
	else {
		if (res < 0)
			rp_wconn_io_err(&u->c, -res);
		proto_pipe_rx_put(u->c.pipe, d, res < 0 ? -1 : res);
	}
}

static void
uconn_tx_done(struct uring_eng * e, struct uconn * u, int d,
    const struct io_uring_cqe * cqe)
{
	int res = cqe->res;

	if (cqe->flags & IORING_CQE_F_NOTIF) {
		/* The kernel is done with the buffer of a SEND_ZC. */
		if ((uint32_t)res & IORING_NOTIF_USAGE_ZC_COPIED)
			u->use_zc = 0;
		if (--u->zc_wait[d] > 0)
			return;
		res = u->tx_res[d];
	} else if (cqe->flags & IORING_CQE_F_MORE) {
		/* Hold the result: the buffer is the kernel's until the
		 * notification comes. */
		u->zc_wait[d]++;
		u->inflight++;
		u->tx_res[d] = res;
		return;
	}
	u->tx_busy[d] = 0;
	if (res == -EAGAIN || res == -EINTR)
		res = 0;
	if (res < 0)
		rp_wconn_io_err(&u->c, -res);
	proto_pipe_tx_put(u->c.pipe, d, res < 0 ? -1 : res);
}

static void
uring_adopt(void * arg, struct rp_wconn * wc)
{
	struct uring_eng * e = arg;
	struct uconn * u = (struct uconn *)wc;
	int d, fl;

	/* io_uring completes reads on non-blocking sockets with EAGAIN
	 * instead of waiting: the ring does the waiting here. */
	for (d = 0; d < 2; d++) {
		if (!u->c.sock_in[d])
			continue;
		/* Sockets from the control loop carry O_NONBLOCK alone. */
		if (u->c.nbsock)
			(void)fcntl(u->c.fd_in[d], F_SETFL, 0);
		else if ((fl = fcntl(u->c.fd_in[d], F_GETFL)) != -1 &&
		    (fl & O_NONBLOCK))
			(void)fcntl(u->c.fd_in[d], F_SETFL, fl & ~O_NONBLOCK);
	}
	u->use_zc = e->zc_ok;
	u->next = e->conns;
	if (e->conns)
		e->conns->prev = u;
	e->conns = u;
	uconn_pump(e, u);
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

/* Pump the pairs that found no SQE free, and re-arm the doorbell. */
static void
uring_retry(struct uring_eng * e)
{
	struct uconn * u, * list = e->retry;

	e->retry = NULL;
	while ((u = list) != NULL) {
		list = u->rnext;
		u->retry = 0;
		if (u->closing)
			uconn_reap(e, u);
		else
			uconn_pump(e, u);
	}
	if (!e->bell_armed)
		uring_arm_doorbell(e);
	if (e->w->host.step != NULL && !e->host_armed)
		uring_host_watch(e, 1);
}

/*
 * Submit, waiting for a completion if ${wait} (at most until the earliest
 * held packet's deadline).  Return 0, or -1 on an error that the ring
 * does not recover from (EBADF, EFAULT, EINVAL, ENXIO...: reported with
 * rp_fatal).  An interruption, a timeout or a backed-up completion queue
 * is no error; ENOMEM is logged (at most every 10 s) and slowed down,
 * never spun on.
 */
static int
uring_submit(struct uring_eng * e, int wait)
{
	struct __kernel_timespec kts;
	struct io_uring_cqe * cqe;
	struct timespec ts;
	uint64_t now, dt, due;
	double t;
	int rc;

	if (wait && (due = rp_wk_due(e->w, e->next_hold)) != 0) {
		now = rp_wk_clock(e->w);
		dt = due > now ? due - now : 0;
		kts.tv_sec = (long long)(dt / 1000000000);
		kts.tv_nsec = (long long)(dt % 1000000000);
		rc = io_uring_submit_and_wait_timeout(&e->ring, &cqe, 1, &kts,
		    NULL);
	} else if (wait) {
		rc = io_uring_submit_and_wait(&e->ring, 1);
	} else {
		rc = io_uring_submit(&e->ring);
	}
	if (rc >= 0 || rc == -EINTR || rc == -EBUSY || rc == -EAGAIN ||
	    rc == -ETIME)
		return (0);
	if (rc != -ENOMEM) {
		errno = -rc;
		rp_warnp("worker %d: io_uring_enter", e->w->id);
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
	return (0);
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
		u->inflight--;
		uconn_rx_done(e, u, tag - TAG_RX, cqe->res);
		break;
	case TAG_TX:
	case TAG_TX + 1:
		u->inflight--;
		uconn_tx_done(e, u, tag - TAG_TX, cqe);
		break;
	case TAG_DOORBELL:
		e->bell_armed = 0;
		/* Closing for a fatal error: posted pairs stay in the inbox
		 * (rp_worker_stop closes them). */
		if (e->fatal)
			return;
		rp_wk_drain_inbox(e->w, uring_adopt, e);
		uring_arm_doorbell(e);
		return;
	case TAG_HOST:
		e->host_armed = 0;
		e->w->host.ready = 1;
		return;
	default:
		return;
	}
	if (u->closing)
		uconn_reap(e, u);
	else
		uconn_pump(e, u);
}

/* A held part packet's time has come (or it is gone): pump its pair. */
static void
uring_fire(void * arg, struct rp_wconn * c)
{

	uring_after(arg, c);
}

/* After the batch: send what was sealed or opened, read again. */
static void
uring_after(void * arg, struct rp_wconn * c)
{
	struct uring_eng * e = arg;
	struct uconn * u = (struct uconn *)c;

	if (u->closing)
		uconn_reap(e, u);
	else
		uconn_pump(e, u);
}

/* Pump the pairs whose held packet is due; keep the earliest deadline
 * left (pumping may hold new ones). */
static void
hold_scan(struct uring_eng * e)
{
	uint64_t next;

	e->next_hold = 0;
	next = rp_whold_scan(&e->hold, rp_wk_clock(e->w), uring_fire, e);
	if (next != 0 && (e->next_hold == 0 || next < e->next_hold))
		e->next_hold = next;
}

static void *
uring_init(struct rp_worker * w, char * desc, size_t len)
{
	struct uring_eng * e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto err0;
	e->w = w;
	rp_wready_init(&e->ready);
	if (rp_uring_init(&e->ring, URING_SQES, 1))
		goto err1;
	e->zc_ok = (w->cfg.sendmode == RP_SEND_ZC) &&
	    rp_uring_has_op(IORING_OP_SEND_ZC);
	if (w->cfg.sendmode == RP_SEND_ZC && !e->zc_ok)
		rp_warn("worker %d: SEND_ZC unavailable; using send", w->id);
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

static void uring_abort_all(void *);

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
 * Submitting failed for good (uring_submit said so): close every pair, as
 * none can be served any more.  Their operations are cancelled (and their
 * sockets shut down, which ends them too); wait for them to come back,
 * for URING_FATAL_WAIT at most, freeing each pair as its last one does.
 * A pair still waiting after that (the ring is dead) has its descriptors
 * closed, so that its peers see the end, but keeps its memory: the
 * kernel may yet write into its buffers, and the process is ending.
 */
static void
uring_fatal(struct uring_eng * e)
{
	struct __kernel_timespec kts = { .tv_sec = 0,
	    .tv_nsec = (long long)URING_FATAL_STEP };
	struct io_uring_cqe * cqe;
	struct uconn * u, * list;
	uint64_t until;
	int rc, i;

	e->fatal = 1;
	uring_abort_all(e);
	until = rp_wk_clock(e->w) + URING_FATAL_WAIT;
	for (i = 0; e->conns != NULL && rp_wk_clock(e->w) < until &&
	    i < (int)(URING_FATAL_WAIT / URING_FATAL_STEP); i++) {
		/* Pairs that found no SQE for their cancels: their sockets
		 * are shut down; reap them as their operations end. */
		list = e->retry;
		e->retry = NULL;
		while ((u = list) != NULL) {
			list = u->rnext;
			u->retry = 0;
			uconn_reap(e, u);
		}
		rc = io_uring_submit_and_wait_timeout(&e->ring, &cqe, 1,
		    &kts, NULL);
		uring_reap_cqes(e);
		if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EBUSY &&
		    rc != -EAGAIN)
			break;
	}
	for (u = e->conns; u != NULL; u = u->next)
		rp_wconn_close_fds(&u->c);
}

static void
uring_run(void * arg)
{
	struct uring_eng * e = arg;

	while (!(e->w->stopping && e->w->npairs == 0)) {
		if (uring_submit(e, e->ready.head == NULL &&
		    e->retry == NULL)) {
			uring_fatal(e);
			break;
		}
		if (e->w->env.coalesce)
			(void)rp_wk_clock(e->w);
		uring_reap_cqes(e);
		rp_wk_host_serve(e->w, uring_adopt, e);
		if (e->hold.head != NULL)
			hold_scan(e);
		rp_batch_run(e->w->batch, &e->ready, uring_after, e);
		if (e->retry != NULL || !e->bell_armed ||
		    (e->w->host.step != NULL && !e->host_armed))
			uring_retry(e);
	}
}

static void
uring_fini(void * arg)
{
	struct uring_eng * e = arg;

	io_uring_queue_exit(&e->ring);
	free(e);
}

/* Close every pair now: their pipes fail, as on a reset. */
static void
uring_abort_all(void * arg)
{
	struct uring_eng * e = arg;
	struct uconn * c, * next;

	for (c = e->conns; c != NULL; c = next) {
		next = c->next;
		proto_pipe_fail(c->c.pipe);
		uconn_close(e, c);
	}
}

const struct rp_wk_ops rp_wk_uring_ops = {
	.name = "io_uring",
	.conn_size = sizeof(struct uconn),
	.init = uring_init,
	.run = uring_run,
	.abort_all = uring_abort_all,
	.host_watch = uring_host_watch,
	.fini = uring_fini
};
