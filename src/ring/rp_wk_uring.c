/*
 * The io_uring engine: each worker owns one ring.  Its verbs queue
 * receives and sends on the ring; one submit per loop iteration sends
 * them all, and the completions reaped go back to the pipes (the policy
 * around them is rp_wk_pairs.c's).
 *
 * Sockets are received from with multishot receives over the worker's
 * provided-buffer ring (rp_bufring.c): one submission serves a direction
 * until the kernel ends it.  Each completion's buffer waits in the
 * direction's queue until its pipe takes the bytes: they are lent to the
 * pipe (proto_pipe_rx_lend), which crypts them where they lie in its next
 * batch, and the buffers go back to the kernel once that batch is done.
 * Each buffer has room before it for the part packet the bytes before
 * end with, so that a packet cut by a buffer's end is whole without
 * copying more than that part.  A direction
 * that holds more than its share of the ring has its receive cancelled,
 * and it is armed again only once its queue is empty; a direction whose
 * receive ended for want of buffers is armed again once buffers come
 * back.  While receives wait for a ring short of buffers, directions
 * whose pipes cannot take their bytes (a stalled peer) move them to a heap
 * buffer of their own, so that a stalled direction never keeps ring
 * buffers from the others.  Without
 * a buffer ring (an old kernel) every receive is one-shot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
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
#include "rp_fixbuf.h"
#include "rp_bufring.h"
#include "rp_log.h"
#include "rp_region.h"
#include "rp_uring.h"
#include "rp_wconn.h"
#include "rp_wk.h"
#include "rp_clock.h"
#include "rp_wk_pairs.h"

/* Completion tags in the low bits of user_data (pointers are 8-aligned). */
#define TAG_NONE	0	/* Cancels: nothing to do. */
#define TAG_RX		1	/* ptr = conn; + direction. */
#define TAG_TX		3	/* ptr = conn; + direction. */
#define TAG_DOORBELL	5
#define TAG_MASK	7

#define URING_SQES	1024

/* The provided-buffer ring: buffer group, size of a buffer, and how many:
 * MS_PART of the region, within these bounds.  A bulk
 * direction behind on crypto moves about its share of the ring per
 * receive armed, so the ring's size sets how often receives are armed. */
#define MS_BGID		0
#define MS_BUFSZ	(16U << 10)
#define MS_HEADROOM	PROTO_PIPE_LEND_BEFORE
#define MS_NBUFS_MIN	8
#define MS_NBUFS_MAX	64
#define MS_PART(len)	((len) / 4)

/* A receive that ends with this many buffers queued was a bulk transfer's;
 * such a direction waits at most this long (ns) for the ring to empty
 * before it is armed again (ms_may_arm). */
#define MS_BULK_BUFS	4
#define MS_GATE_NS	10000000ULL

/* With more pairs than this holding ring buffers, no direction waits for
 * the ring to empty: each holds only a small part of it, and waiting
 * would only idle the worker. */
#define MS_GATE_HOLDERS	4

/* While receives wait for a ring short of buffers (ms_pressure), a
 * direction whose pipe has taken nothing and whose output has not moved
 * for this long is stalled: its queued bytes move to a spill buffer (ns).
 * Shorter waits are a send in flight, or a worker behind on crypto. */
#define MS_STALL_NS	100000000ULL

/* Destinations whose SEND_ZC came back copied (loopback, veth), remembered
 * per worker so that short connections do not each pay for the test. */
#define ZC_MEMORY	16

struct zc_dest {
	struct sockaddr_storage addr;	/* Family and address; no port. */
	int copied;
};

/* A direction's multishot receive and what it has brought in. */
struct msdir {
	int armed;			/* A multishot receive is out (holds a
					   reference until its last CQE). */
	int cancelling;			/* Its cancel is queued. */
	int nobuf;			/* Ended for want of buffers: waits on
					   the engine's nobuf list. */
	int bulk;			/* Its last receive ended with many
					   buffers queued (ms_may_arm). */
	uint64_t gated;			/* Since when (ns) it waits to be armed
					   as bulk; 0: not. */
	int eof;			/* 1: end of stream after the queued
					   bytes; 2: handed to the pipe. */
	struct rp_bufq q;		/* Received, not yet taken. */
	struct rp_bufq lent;		/* Taken whole by the pipe: given back
					   once it holds nothing lent. */
	uint64_t blocked;		/* Since when (ns) the pipe has taken
					   none of the queued bytes while
					   its output has not moved; 0: not. */
	uint8_t * spill;		/* Bytes moved off the ring while the
					   pipe could not take them:
					   [soff, slen) after MS_HEADROOM,
					   before q's. */
	size_t slen, soff;
};

struct uconn {
	struct rp_wconn c;		/* First: the batch hands it back. */
	struct msdir ms[2];		/* Per direction, when sockets. */
	int nbq;			/* On the nobuf list (a reference). */
	struct uconn * nbnext;
	int holding;			/* On the holding list: some direction
					   has queued ring buffers. */
	struct uconn * hprev, * hnext;
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
	struct uconn * retry;		/* Could not arm: no SQE was free. */
	int ms_ok;			/* Multishot receives over bring. */
	struct rp_bufring bring;
	struct uconn * nobuf;		/* Receives to arm when buffers return. */
	struct uconn * holding;		/* Pairs holding ring buffers. */
	unsigned nholding;
	int ms_recheck;			/* Wake up to look for stalls. */
	struct rp_fixbuf fix;		/* The region as fixed buffers, for
					   SEND_ZC; empty without it. */
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

/* Put ${u} on the holding list or take it off, as its queues say. */
static void
ms_hold_update(struct uring_eng * e, struct uconn * u)
{
	int h = (u->ms[0].q.bytes > 0 || u->ms[1].q.bytes > 0);

	if (h == u->holding)
		return;
	u->holding = h;
	if (h) {
		u->hprev = NULL;
		u->hnext = e->holding;
		if (e->holding)
			e->holding->hprev = u;
		e->holding = u;
		e->nholding++;
		return;
	}
	if (u->hprev)
		u->hprev->hnext = u->hnext;
	else
		e->holding = u->hnext;
	if (u->hnext)
		u->hnext->hprev = u->hprev;
	u->hprev = u->hnext = NULL;
	e->nholding--;
}

/*
 * The most ring bytes ${u}'s direction ${d} may hold before its receive
 * is cancelled: an even part of the ring among the pairs holding some, so
 * that a few bulk transfers each take a large part (long receives, few
 * re-arms) and many share it; never less than two buffers.  A pipe that
 * crypts less than two buffers a batch (its budget keeps it small) holds
 * one buffer: more would wait in the ring, kept from the pipes that can
 * use them, while the kernel's socket buffer could hold them.
 */
static size_t
ms_share(const struct uring_eng * e, struct uconn * u, int d)
{
	size_t ring = (size_t)e->bring.nbufs * e->bring.bufsz, share;

	if (proto_pipe_rx_cap(u->c.pipe, d) < 2 * e->bring.bufsz)
		return (e->bring.bufsz);
	share = ring / 2 / (e->nholding > 0 ? e->nholding : 1);
	return (share < 2 * e->bring.bufsz ? 2 * e->bring.bufsz : share);
}

/*
 * Whether ${m}'s receive may be armed now.  A bulk direction (its last
 * receive ended with MS_BULK_BUFS buffers or more queued) waits until three
 * quarters of the ring are free, or MS_GATE_NS at most (others may hold
 * their part for long): the kernel fills what is free before ENOBUFS ends
 * the receive, so that is what the submission moves.  Any other direction
 * needs one free buffer.
 */
static int
ms_may_arm(struct uring_eng * e, struct msdir * m)
{
	uint64_t now;

	if (e->bring.nfree == 0)
		return (0);
	if (!m->bulk || e->nholding > MS_GATE_HOLDERS ||
	    e->bring.nfree >= e->bring.nbufs / 4 * 3)
		return (1);
	now = rp_wk_clock(e->w);
	if (m->gated == 0)
		m->gated = now;
	return (now - m->gated >= MS_GATE_NS);
}

/* Cancel the multishot receive of ${u}'s direction ${d} if it is out. */
static void
ms_cancel(struct uring_eng * e, struct uconn * u, int d)
{
	struct io_uring_sqe * sqe;

	if (!u->ms[d].armed || u->ms[d].cancelling)
		return;
	if ((sqe = rp_uring_sqe(&e->ring)) == NULL)
		return;
	io_uring_prep_cancel64(sqe, ud(u, TAG_RX + d), 0);
	io_uring_sqe_set_data64(sqe, TAG_NONE);
	u->ms[d].cancelling = 1;
}

/* Free ${m}'s spill buffer once all of it was taken. */
static void
ms_spill_done(struct msdir * m)
{

	if (m->spill != NULL && m->soff == m->slen) {
		free(m->spill);
		m->spill = NULL;
		m->slen = m->soff = 0;
	}
}

/* Hand ${u}'s direction ${d} what it has received, as far as its pipe
 * takes it: give back what the pipe is done with, then lend it its
 * spilled bytes and its queued buffers, then say end of stream. */
static void
ms_deliver(struct uring_eng * e, struct uconn * u, int d)
{
	struct msdir * m = &u->ms[d];
	struct proto_pipe * p = u->c.pipe;
	uint8_t * buf;
	size_t len, before, after, n;

	if (!proto_pipe_rx_lent(p, d)) {
		rp_bufq_drop(&e->bring, &m->lent);
		ms_spill_done(m);
	}
	while (m->slen > m->soff) {
		if ((n = proto_pipe_rx_lend(p, d,
		    m->spill + MS_HEADROOM + m->soff, m->slen - m->soff,
		    MS_HEADROOM + m->soff, 0)) == 0)
			goto out;
		m->soff += n;
		m->blocked = 0;
	}
	while ((buf = rp_bufq_head(&e->bring, &m->q, &len, &before,
	    &after)) != NULL) {
		if ((n = proto_pipe_rx_lend(p, d, buf, len, before,
		    after)) == 0)
			goto out;
		rp_bufq_lent(&e->bring, &m->q, &m->lent, n);
		m->blocked = 0;
	}
	if (m->eof == 1 && !proto_pipe_rx_lent(p, d) &&
	    (proto_pipe_want(p, d) & PROTO_PIPE_WANT_READ)) {
		m->eof = 2;
		proto_pipe_rx_eof(p, d);
	}
out:
	ms_hold_update(e, u);
}

/* Move the queued bytes of ${u}'s direction ${d} into its spill buffer
 * and give the ring buffers back; its receive stays off until the pipe
 * has taken them.  Not while the pipe holds some of them lent (it gives
 * them back after its next batch).  On no memory, keep them queued. */
static void
ms_spill(struct uring_eng * e, struct uconn * u, int d)
{
	struct msdir * m = &u->ms[d];
	size_t left = m->slen - m->soff;
	uint8_t * nb;

	if (proto_pipe_rx_lent(u->c.pipe, d) ||
	    (nb = malloc(MS_HEADROOM + left + m->q.bytes)) == NULL)
		return;
	if (left > 0)
		memcpy(nb + MS_HEADROOM, m->spill + MS_HEADROOM + m->soff,
		    left);
	free(m->spill);
	m->spill = nb;
	m->soff = 0;
	m->slen = left + rp_bufq_take(&e->bring, &m->q,
	    nb + MS_HEADROOM + left, m->q.bytes);
	ms_cancel(e, u, d);
	ms_hold_update(e, u);
}

/* Give back everything ${u}'s receives hold: it is closing, and its pipe
 * will not touch what it was lent. */
static void
ms_release(struct uring_eng * e, struct uconn * u)
{
	int d;

	for (d = 0; d < 2; d++) {
		rp_bufq_drop(&e->bring, &u->ms[d].q);
		rp_bufq_drop(&e->bring, &u->ms[d].lent);
		free(u->ms[d].spill);
		u->ms[d].spill = NULL;
		u->ms[d].slen = u->ms[d].soff = 0;
	}
	ms_hold_update(e, u);
}

/* ${u}'s direction ${d} found no buffer: arm it again once some come
 * back (uring_flush). */
static void
ms_nobuf(struct uring_eng * e, struct uconn * u, int d)
{

	u->ms[d].nobuf = 1;
	if (u->nbq)
		return;
	u->nbq = 1;
	u->c.refs++;
	u->nbnext = e->nobuf;
	e->nobuf = u;
}

/* Hand ${u}'s direction ${d} what was received, then arm a multishot
 * receive: only with nothing left queued or spilled, so that a direction
 * cannot hold more than one share at a time.  A pipe that crypts less
 * than a ring buffer a batch (it is new, or the budget keeps it small)
 * gets a one-shot receive of what it crypts instead: the rest stays in
 * the socket, and the buffer comes back after the batch, not kept from
 * the pipes that need the ring.  Return 0 if the caller is to receive
 * one-shot into the pipe's own buffer (no multishot receives here). */
static int
ms_recv(struct uring_eng * e, struct uconn * u, int d)
{
	struct msdir * m = &u->ms[d];
	struct io_uring_sqe * sqe;
	size_t cap;

	ms_deliver(e, u, d);
	if (m->armed || m->nobuf || m->eof || m->q.bytes > 0 ||
	    m->slen > m->soff ||
	    !(proto_pipe_want(u->c.pipe, d) & PROTO_PIPE_WANT_READ))
		return (1);
	if (!e->ms_ok)
		return (0);
	if (!ms_may_arm(e, m)) {
		ms_nobuf(e, u, d);
		return (1);
	}
	if ((sqe = rp_uring_sqe(&e->ring)) == NULL) {
		uconn_defer(e, u);
		return (1);
	}
	if ((cap = proto_pipe_rx_cap(u->c.pipe, d)) < e->bring.bufsz) {
		io_uring_prep_recv(sqe, u->c.fd_in[d], NULL, cap, 0);
	} else {
		io_uring_prep_recv(sqe, u->c.fd_in[d], NULL, 0, 0);
		sqe->ioprio |= IORING_RECV_MULTISHOT;
	}
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = (uint16_t)e->bring.bgid;
	io_uring_sqe_set_data64(sqe, ud(u, TAG_RX + d));
	m->armed = 1;
	m->gated = 0;
	u->c.refs++;
	return (1);
}

/* A completion of the multishot receive of ${u}'s direction ${d}. */
static void
ms_cqe(struct uring_eng * e, struct uconn * u, int d,
    const struct io_uring_cqe * cqe)
{
	struct msdir * m = &u->ms[d];
	int res = cqe->res;
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		m->armed = 0;
		m->cancelling = 0;
		m->bulk = (m->q.bytes >= MS_BULK_BUFS * e->bring.bufsz);
		u->c.refs--;
	}
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		if (res > 0 && !u->c.dead && m->eof == 0)
			rp_bufq_push(&e->bring, &m->q, bid, (size_t)res);
		else
			rp_bufring_put(&e->bring, bid);
	} else if (res == 0) {
		m->eof = (m->eof == 0) ? 1 : m->eof;
	} else if (res == -ENOBUFS) {
		if (!u->c.dead)
			ms_nobuf(e, u, d);
	} else if (res == -EINVAL && !u->c.dead) {
		/* A kernel without multishot receives: one-shot from now. */
		e->ms_ok = 0;
	} else if (res < 0 && res != -ECANCELED && res != -EINTR &&
	    res != -EAGAIN && !u->c.dead) {
		rp_wconn_io_err(&u->c, -res);
		proto_pipe_fail(u->c.pipe);
	}
	if (u->c.dead)
		return;
	ms_deliver(e, u, d);
	if (m->q.bytes >= ms_share(e, u, d))
		ms_cancel(e, u, d);
}

/* Whether the ring is short of buffers: receives wait for them, and less
 * than a quarter of it is free. */
static int
ms_pressure(const struct uring_eng * e)
{

	return (e->nobuf != NULL && e->bring.nfree < e->bring.nbufs / 4);
}

/*
 * Under ring pressure, move the queued bytes of each stalled direction to
 * its spill buffer: a direction whose pipe can neither read nor crypt (its
 * output waits on a send) and has taken nothing for MS_STALL_NS.  A pipe
 * that is only behind on crypto takes its bytes after the next batch.
 * Return non-zero if some direction may yet become stalled, so that the
 * engine wakes up to look again.
 */
static int
ms_unstall(struct uring_eng * e)
{
	struct uconn * u, * next;
	struct msdir * m;
	uint64_t now;
	int d, later = 0;

	if (!ms_pressure(e))
		return (0);
	now = rp_wk_clock(e->w);
	for (u = e->holding; u != NULL; u = next) {
		next = u->hnext;
		for (d = 0; d < 2; d++) {
			m = &u->ms[d];
			if (m->q.bytes == 0 ||
			    proto_pipe_rx_takes(u->c.pipe, d) ||
			    (proto_pipe_want(u->c.pipe, d) &
			    PROTO_PIPE_WANT_CRYPTO)) {
				m->blocked = 0;
				continue;
			}
			if (m->blocked == 0)
				m->blocked = now;
			if (now - m->blocked >= MS_STALL_NS)
				ms_spill(e, u, d);
			else
				later = 1;
		}
	}
	return (later);
}

/* Arm again the receives that found no buffer, once a part of the ring
 * is back; under pressure, spill what stalled directions hold. */
static void
ms_flush(struct uring_eng * e)
{
	struct uconn * u, * list;
	int roomy;

	e->ms_recheck = ms_unstall(e);
	roomy = (e->bring.nfree >= e->bring.nbufs / 8 + 1);
	list = e->nobuf;
	e->nobuf = NULL;
	while ((u = list) != NULL) {
		list = u->nbnext;
		/* Closed pairs leave at once: their reference holds them. */
		if (!roomy && !u->c.dead) {
			u->nbnext = e->nobuf;
			e->nobuf = u;
			continue;
		}
		u->nbq = 0;
		u->ms[0].nobuf = u->ms[1].nobuf = 0;
		u->c.refs--;
		rp_wkp_io_done(&e->w->pairs, &u->c);
	}
}

/* Cancel what ${c} has on the ring. */
static void
uring_cancel(void * arg, struct rp_wconn * c)
{
	struct uring_eng * e = arg;
	struct io_uring_sqe * sqe;
	int i;

	if (e->bring.br != NULL)
		ms_release(e, (struct uconn *)c);
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

/* Close the descriptors of ${c} on the ring: nothing refers to them, and
 * the ring's next submission (before the worker next sleeps) closes them.
 * A worker closing for a fatal error closes them at once. */
static void
uring_close_fds(void * arg, struct rp_wconn * c)
{
	struct uring_eng * e = arg;
	struct io_uring_sqe * sqe;
	int i;

	for (i = 0; i < 3; i++) {
		if (c->fds[i] == -1)
			continue;
		if (e->w->pairs.fatal || (sqe = rp_uring_sqe(&e->ring)) == NULL)
			close(c->fds[i]);
		else {
			io_uring_prep_close(sqe, c->fds[i]);
			io_uring_sqe_set_data64(sqe, TAG_NONE);
		}
		c->fds[i] = -1;
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

	if (c->sock_in[d] && e->bring.br != NULL && ms_recv(e, u, d))
		return;
	if ((buf = proto_pipe_rx_get(c->pipe, d, &len)) == NULL)
		return;
	if ((sqe = rp_uring_sqe(&e->ring)) == NULL) {
		proto_pipe_rx_abort(c->pipe, d);
		uconn_defer(e, u);
		return;
	}
	if (c->sock_in[d])
		io_uring_prep_recv(sqe, c->fd_in[d], buf, len, 0);
	else
		io_uring_prep_read(sqe, c->fd_in[d], buf, (unsigned)len,
		    (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, ud(u, TAG_RX + d));
	c->refs++;
}

/*
 * The fixed buffer of ${e} that holds the ${len} bytes at ${buf}, or -1
 * (a heap buffer, or the kernel would not register one: said once per
 * process).
 */
static int
uring_fixed(struct uring_eng * e, const uint8_t * buf, size_t len)
{
	static atomic_int warned;
	int k, had = e->fix.failed;

	if ((k = rp_fixbuf_slot(&e->fix, &e->ring, buf, len)) < 0 &&
	    e->fix.failed && !had && atomic_exchange(&warned, 1) == 0) {
		errno = e->fix.failed;
		rp_warnp("worker %d: registering a fixed buffer; zero-copy "
		    "sends go on without", e->w->id);
	}
	return (k);
}

static void
uring_send(void * arg, struct rp_wconn * c, int d)
{
	struct uring_eng * e = arg;
	struct uconn * u = (struct uconn *)c;
	struct io_uring_sqe * sqe;
	const uint8_t * buf;
	size_t len;
	int k;

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
	else if (u->use_zc[d] && (k = uring_fixed(e, buf, len)) >= 0)
		io_uring_prep_send_zc_fixed(sqe, c->fd_out[d], buf, len,
		    MSG_NOSIGNAL | MSG_WAITALL, IORING_SEND_ZC_REPORT_USAGE,
		    (unsigned)k);
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

/* The address (no port) of the peer of socket ${fd} in ${ss}, from
 * ${known} if not NULL (the control plane said it), else from the kernel;
 * -1 if it has none that SEND_ZC could serve. */
static int
zc_peer(int fd, const struct sockaddr * known, struct sockaddr_storage * ss)
{
	socklen_t len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (known != NULL && known->sa_family != AF_INET &&
	    known->sa_family != AF_INET6)
		return (-1);
	if (known != NULL)
		memcpy(ss, known, known->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	else if (getpeername(fd, (struct sockaddr *)ss, &len))
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

	if (zc_peer(u->c.fd_out[d], NULL, &ss))
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

	if (!e->zc_ok || !u->c.sock_out[d] ||
	    zc_peer(u->c.fd_out[d], u->c.peer_out[d], &ss))
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
	int res = cqe->res, was_zc = u->use_zc[d] != 0;

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
	/* A socket that SEND_ZC does not serve: send plainly, again.  So
	 * too when its pinned pages would pass RLIMIT_MEMLOCK (ENOMEM: a
	 * process that may not lock memory is charged for them), and the
	 * destination is remembered as one to send to plainly. */
	if ((res == -EOPNOTSUPP || res == -EINVAL || res == -ENOMEM) &&
	    was_zc) {
		if (res == -ENOMEM)
			zc_learn(e, u, d, 1);
		u->use_zc[d] = 0;
		res = 0;
	}
	if (res < 0)
		rp_wconn_io_err(&u->c, -res);
	/* The peer takes bytes: a direction whose output moves is slow at
	 * worst, not stalled (ms_unstall). */
	if (res > 0)
		u->ms[d].blocked = 0;
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
		/* Of the sockets from the control loop, the dialed one
		 * carries O_NONBLOCK alone, the accepted one nothing: no
		 * need to ask. */
		if (c->nbsock)
			fl = c->nb_in[d] ? O_NONBLOCK : 0;
		else
			fl = fcntl(c->fd_in[d], F_GETFL);
		if (fl != -1 && (fl & O_NONBLOCK))
			(void)fcntl(c->fd_in[d], F_SETFL, fl & ~O_NONBLOCK);
	}
	for (d = 0; d < 2; d++) {
		u->use_zc[d] = zc_start(e, u, d);
		rp_bufq_init(&u->ms[d].q);
		rp_bufq_init(&u->ms[d].lent);
	}
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

/* Pump the pairs that found no SQE free, arm again the receives that
 * waited for buffers, re-arm the doorbell. */
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
	if (e->bring.br != NULL)
		ms_flush(e);
	if (!e->bell_armed)
		uring_arm_doorbell(e);
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
		if (u->ms[tag - TAG_RX].armed) {
			ms_cqe(e, u, tag - TAG_RX, cqe);
			break;
		}
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
	/* Directions that may stall hold ring buffers others wait for:
	 * look again soon even if nothing happens. */
	if (block && (e->ms_recheck || e->nobuf != NULL)) {
		now = rp_wk_clock(e->w) +
		    (e->nobuf != NULL ? MS_GATE_NS : MS_STALL_NS / 2);
		if (due == 0 || now < due)
			due = now;
	}
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
	t = rp_clock_s();
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

static void *
uring_init(struct rp_worker * w, char * desc, size_t len)
{
	struct uring_eng * e;
	size_t rlen, nbufs;
	const uint8_t * base;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto err0;
	e->w = w;
	if (rp_uring_init(&e->ring, URING_SQES, 1))
		goto err1;
	/*
	 * A quarter of the region is registered as a provided-buffer ring
	 * for multishot receives; for zero-copy sends the whole region is a
	 * table of fixed buffers, each registered when a send first needs it
	 * (rp_fixbuf): registering all at start would pin, and so fault in,
	 * memory that the pipes touch only as they use it.
	 */
	base = rp_region_base(w->region, &rlen);
	nbufs = MS_PART(rlen) / MS_BUFSZ;
	if (nbufs > MS_NBUFS_MAX)
		nbufs = MS_NBUFS_MAX;
	if (nbufs < MS_NBUFS_MIN)
		nbufs = MS_NBUFS_MIN;
	e->ms_ok = rp_bufring_init(&e->bring, &e->ring, w->region, MS_BGID,
	    (unsigned)nbufs, MS_BUFSZ, MS_HEADROOM) == 0;
	w->registered = e->ms_ok;
	/* The pipes take their input lent from the ring: their own input
	 * buffers stay small, and the budget goes to their output. */
	w->env.lend = e->ms_ok;
	if (!e->ms_ok)
		rp_warn("worker %d: no provided-buffer ring; one-shot receives",
		    w->id);
	e->zc_ok = (w->cfg.sendmode == RP_SEND_ZC) &&
	    rp_uring_has_op(IORING_OP_SEND_ZC);
	if (w->cfg.sendmode == RP_SEND_ZC && !e->zc_ok)
		rp_warn("worker %d: SEND_ZC unavailable; using send", w->id);
	/* Without a table, SEND_ZC takes buffers as they are.  Where pinned
	 * pages count against RLIMIT_MEMLOCK, there is none: that budget is
	 * the user's, shared with every ring of its other processes, and
	 * the windows could spend it. */
	if (e->zc_ok && rp_uring_pin_free())
		(void)rp_fixbuf_init(&e->fix, &e->ring, base, rlen);
	snprintf(desc, len, "%s, %s%s",
	    (e->ring.flags & IORING_SETUP_DEFER_TASKRUN) ? "defer-taskrun" :
	    "plain ring", e->ms_ok ? "multishot recv" : "one-shot recv",
	    !e->zc_ok ? "" : e->fix.base != NULL ? ", send_zc fixed" :
	    ", send_zc");
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

	/* Closes of the last pairs may be queued. */
	(void)io_uring_submit(&e->ring);
	rp_fixbuf_fini(&e->fix, &e->ring);
	rp_bufring_fini(&e->bring, &e->ring, e->w->region);
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
	.close_fds = uring_close_fds,
	.wait = uring_wait,
	.flush = uring_flush
};
