#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto_pkt.h"
#include "rp_bufpool.h"
#include "rp_log.h"
#include "rp_pair.h"
#include "rp_uring.h"
#include "rp_worker.h"

/* Completion tags in the low bits of user_data (pointers are 8-aligned). */
#define TAG_NONE	0	/* Cancels: nothing to do. */
#define TAG_RECV	1	/* ptr = struct rp_dir. */
#define TAG_SEND	2	/* ptr = struct rp_dir. */
#define TAG_PAIR	3	/* MSG_RING: ptr = new struct rp_pair. */
#define TAG_STOP	4	/* MSG_RING or inbox: exit when idle. */
#define TAG_WAKE	5	/* Inbox eventfd became readable. */
#define TAG_MASK	7

/* Ring size and the most packets sealed/opened in one batch. */
#define WORKER_SQES	1024
#define WORKER_JOBS	512
#define WORKER_SLOTS	256
/* An output slot holds one sealed batch, or one opened batch at the
 * CRYPTO_PKT_PADLEN stride opening writes (before it is compacted). */
#define SLOT_SIZE	MAX(RP_PAIR_SEAL_PKTS * CRYPTO_PKT_LEN, \
			    RP_PAIR_OPEN_PKTS * CRYPTO_PKT_PADLEN)

struct rp_worker {
	int id;
	struct rp_worker_cfg cfg;
	pthread_t thr;
	struct io_uring ring;
	struct crypto_engine * eng;
	struct rp_bufpool pool;
	int zc_ok;			/* SEND_ZC usable (op + fixed bufs). */
	char name[128];

	/* Start-up hand-shake with the creating thread. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int started;			/* 1 ok, -1 failed. */

	/* Locked inbox, used when MSG_RING is unavailable. */
	int efd;
	uint64_t efd_buf;
	struct rp_pair * inbox;
	int inbox_stop;

	atomic_int load;
	int stopping;
	struct rp_pair * pairs;		/* Pairs owned by this worker. */
	struct rp_dir * ready, * ready_tail;	/* Need crypto. */
	struct rp_dir * waiting, * waiting_tail; /* Need an output slot. */

	/* One batch. */
	struct crypto_seal_job sjobs[WORKER_JOBS];
	struct crypto_open_job ojobs[WORKER_JOBS];
	struct rp_dir * bdirs[WORKER_JOBS];
	size_t bfirst[WORKER_JOBS], bcount[WORKER_JOBS];
};

static void worker_abort(struct rp_worker *, struct rp_pair *);

static inline uint64_t
ud(void * p, int tag)
{

	return ((uint64_t)(uintptr_t)p | (uint64_t)tag);
}

/* Append ${d} to the list at ${head}/${tail}. */
static void
dir_enqueue(struct rp_dir ** head, struct rp_dir ** tail, struct rp_dir * d)
{

	if (d->queued)
		return;
	d->queued = 1;
	d->next = NULL;
	if (*tail)
		(*tail)->next = d;
	else
		*head = d;
	*tail = d;
}

static struct rp_dir *
dir_dequeue(struct rp_dir ** head, struct rp_dir ** tail)
{
	struct rp_dir * d = *head;

	if (d == NULL)
		return (NULL);
	if ((*head = d->next) == NULL)
		*tail = NULL;
	d->next = NULL;
	d->queued = 0;
	return (d);
}

/* Remove ${d} from the list at ${head}/${tail} if it is there. */
static void
dir_unlink(struct rp_dir ** head, struct rp_dir ** tail, struct rp_dir * d)
{
	struct rp_dir ** pp;
	struct rp_dir * prev = NULL;

	for (pp = head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp != d)
			continue;
		*pp = d->next;
		if (*tail == d)
			*tail = prev;
		d->next = NULL;
		d->queued = 0;
		return;
	}
}

/* Bytes received and not yet sealed/opened. */
static inline size_t
dir_pending(const struct rp_dir * d)
{

	return (d->rlen - d->rhead);
}

/* Whether ${d} has enough bytes for a batch (a whole packet to open, or
 * any plaintext to seal). */
static inline int
dir_batchable(const struct rp_dir * d)
{

	return (dir_pending(d) >= (d->seal ? 1 : CRYPTO_PKT_LEN));
}

/* Queue a recv/read into ${d}'s free buffer space if one is due. */
static void
dir_arm_recv(struct rp_worker * w, struct rp_dir * d)
{
	struct io_uring_sqe * sqe;
	size_t space;

	if (d->recv_busy || d->eof || d->pair->closing)
		return;
	if (d->rhead > 0) {
		memmove(d->rbuf, d->rbuf + d->rhead, dir_pending(d));
		d->rlen -= d->rhead;
		d->rhead = 0;
	}
	if ((space = d->rcap - d->rlen) == 0)
		return;
	sqe = rp_uring_sqe(&w->ring);
	if (d->in_sock)
		io_uring_prep_recv(sqe, d->infd, d->rbuf + d->rlen, space, 0);
	else
		io_uring_prep_read(sqe, d->infd, d->rbuf + d->rlen,
		    (unsigned)space, (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, ud(d, TAG_RECV));
	d->recv_busy = 1;
	d->pair->inflight++;
}

/* Queue a send/write of the unsent part of ${d}'s slot. */
static void
dir_arm_send(struct rp_worker * w, struct rp_dir * d)
{
	struct io_uring_sqe * sqe;
	uint8_t * buf = rp_bufpool_ptr(&w->pool, d->slot) + d->soff;
	size_t len = d->slen - d->soff;

	sqe = rp_uring_sqe(&w->ring);
	if (!d->out_sock) {
		io_uring_prep_write(sqe, d->outfd, buf, (unsigned)len,
		    (uint64_t)-1);
	} else if (d->pair->use_zc && w->zc_ok) {
		io_uring_prep_send_zc_fixed(sqe, d->outfd, buf, len,
		    MSG_NOSIGNAL | MSG_WAITALL, IORING_SEND_ZC_REPORT_USAGE,
		    (unsigned)d->slot);
	} else {
		io_uring_prep_send(sqe, d->outfd, buf, len,
		    MSG_NOSIGNAL | MSG_WAITALL);
	}
	io_uring_sqe_set_data64(sqe, ud(d, TAG_SEND));
	d->send_busy = 1;
	d->pair->inflight++;
}

/* Free the pair ${p} once nothing of it is in flight. */
static void
worker_reap_pair(struct rp_worker * w, struct rp_pair * p)
{
	int i;

	if (p->inflight > 0)
		return;
	for (i = 0; i < 2; i++) {
		dir_unlink(&w->ready, &w->ready_tail, &p->dir[i]);
		dir_unlink(&w->waiting, &w->waiting_tail, &p->dir[i]);
		if (p->dir[i].slot != -1) {
			rp_bufpool_put(&w->pool, p->dir[i].slot);
			p->dir[i].slot = -1;
			if (w->waiting)
				dir_enqueue(&w->ready, &w->ready_tail,
				    dir_dequeue(&w->waiting,
				    &w->waiting_tail));
		}
	}
	if (p->prev)
		p->prev->next = p->next;
	else
		w->pairs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	if (w->cfg.closed)
		w->cfg.closed(w->cfg.cookie, p->failed);
	rp_pair_free(p);
	atomic_fetch_sub(&w->load, 1);
}

/* Tear ${p} down at once: cancel what is in flight, then free it. */
static void
worker_abort(struct rp_worker * w, struct rp_pair * p)
{
	struct io_uring_sqe * sqe;
	int i;

	if (!p->closing) {
		p->closing = 1;
		p->failed = 1;
		for (i = 0; i < 3; i++) {
			if (p->fds[i] == -1)
				continue;
			sqe = rp_uring_sqe(&w->ring);
			io_uring_prep_cancel_fd(sqe, p->fds[i],
			    IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data64(sqe, TAG_NONE);
		}
		/* Submit the cancels now, before the descriptors can be
		 * closed and their numbers reused. */
		io_uring_submit(&w->ring);
	}
	worker_reap_pair(w, p);
}

/* Forward EOF on ${d} once everything before it went out; close the pair
 * when both directions are finished. */
static void
dir_check_eof(struct rp_worker * w, struct rp_dir * d)
{
	struct rp_pair * p = d->pair;

	if (!d->eof || d->done || d->slot != -1 || d->send_busy)
		return;
	if (dir_pending(d) > 0) {
		/* Sealing: the rest is still to be sent.  Opening: EOF in
		 * the middle of a packet is an error. */
		if (!d->seal && dir_pending(d) < CRYPTO_PKT_LEN)
			worker_abort(w, p);
		return;
	}
	d->done = 1;
	if (d->out_sock)
		(void)shutdown(d->outfd, SHUT_WR);
	if (p->dir[0].done && p->dir[1].done) {
		p->closing = 1;
		worker_reap_pair(w, p);
	}
}

static void
worker_recv_done(struct rp_worker * w, struct rp_dir * d, int res)
{
	struct rp_pair * p = d->pair;

	d->recv_busy = 0;
	p->inflight--;
	if (p->closing) {
		worker_reap_pair(w, p);
		return;
	}
	if (res > 0) {
		d->rlen += (size_t)res;
		dir_enqueue(&w->ready, &w->ready_tail, d);
		/* If this loop's batch will take the bytes, read again after
		 * it (batch_finish), into the whole buffer: reading now
		 * could only fill the tail left after this read, and every
		 * such short read costs a short batch and a short send.
		 * Otherwise (the slot is still being sent, or less than a
		 * packet is here) keep reading while there is room. */
		if (d->slot != -1 || !dir_batchable(d))
			dir_arm_recv(w, d);
	} else if (res == 0) {
		d->eof = 1;
		if (dir_pending(d) > 0)
			dir_enqueue(&w->ready, &w->ready_tail, d);
		dir_check_eof(w, d);
	} else if (res == -EAGAIN || res == -EINTR) {
		dir_arm_recv(w, d);
	} else {
		worker_abort(w, p);
	}
}

/* The slot of ${d} is fully sent and released by the kernel. */
static void
dir_slot_free(struct rp_worker * w, struct rp_dir * d)
{

	rp_bufpool_put(&w->pool, d->slot);
	d->slot = -1;
	if (w->waiting)
		dir_enqueue(&w->ready, &w->ready_tail,
		    dir_dequeue(&w->waiting, &w->waiting_tail));
	if (dir_pending(d) > 0)
		dir_enqueue(&w->ready, &w->ready_tail, d);
	dir_arm_recv(w, d);
	dir_check_eof(w, d);
}

static void
worker_send_done(struct rp_worker * w, struct rp_dir * d,
    const struct io_uring_cqe * cqe)
{
	struct rp_pair * p = d->pair;
	int res = cqe->res;

	if (cqe->flags & IORING_CQE_F_NOTIF) {
		/* The kernel is done with the buffer of a SEND_ZC. */
		d->zc_notifs--;
		p->inflight--;
		if ((uint32_t)res & IORING_NOTIF_USAGE_ZC_COPIED)
			p->use_zc = 0;
		if (p->closing)
			worker_reap_pair(w, p);
		else if (!d->send_busy && d->zc_notifs == 0 &&
		    d->slot != -1 && d->soff == d->slen)
			dir_slot_free(w, d);
		return;
	}
	if (cqe->flags & IORING_CQE_F_MORE) {
		d->zc_notifs++;
		p->inflight++;
	}
	d->send_busy = 0;
	p->inflight--;
	if (p->closing) {
		worker_reap_pair(w, p);
		return;
	}
	if (res < 0 && res != -EAGAIN && res != -EINTR) {
		worker_abort(w, p);
		return;
	}
	if (res > 0)
		d->soff += (size_t)res;
	if (d->soff < d->slen) {
		dir_arm_send(w, d);
		return;
	}
	if (d->zc_notifs == 0)
		dir_slot_free(w, d);
}

/* A new pair: register it and start reading both ways. */
static void
worker_add_pair(struct rp_worker * w, struct rp_pair * p)
{

	rp_pair_adopt(p);
	p->prev = NULL;
	p->next = w->pairs;
	if (w->pairs)
		w->pairs->prev = p;
	w->pairs = p;
	if (w->cfg.sendmode == RP_SEND_ZC && w->zc_ok)
		p->use_zc = 1;
	dir_arm_recv(w, &p->dir[0]);
	dir_arm_recv(w, &p->dir[1]);
}

static void
worker_arm_wake(struct rp_worker * w)
{
	struct io_uring_sqe * sqe = rp_uring_sqe(&w->ring);

	io_uring_prep_read(sqe, w->efd, &w->efd_buf, sizeof(w->efd_buf), 0);
	io_uring_sqe_set_data64(sqe, TAG_WAKE);
}

static void
worker_drain_inbox(struct rp_worker * w)
{
	struct rp_pair * list, * p;

	pthread_mutex_lock(&w->mtx);
	list = w->inbox;
	w->inbox = NULL;
	if (w->inbox_stop)
		w->stopping = 1;
	pthread_mutex_unlock(&w->mtx);
	while ((p = list) != NULL) {
		list = p->next;
		worker_add_pair(w, p);
	}
	worker_arm_wake(w);
}

static void
worker_cqe(struct rp_worker * w, const struct io_uring_cqe * cqe)
{
	uint64_t u = cqe->user_data;
	void * ptr = (void *)(uintptr_t)(u & ~(uint64_t)TAG_MASK);

	switch (u & TAG_MASK) {
	case TAG_RECV:
		worker_recv_done(w, ptr, cqe->res);
		break;
	case TAG_SEND:
		worker_send_done(w, ptr, cqe);
		break;
	case TAG_PAIR:
		worker_add_pair(w, ptr);
		break;
	case TAG_STOP:
		w->stopping = 1;
		break;
	case TAG_WAKE:
		worker_drain_inbox(w);
		break;
	default:
		break;
	}
}

/* Take the jobs of ${d} into the batch at index ${nb}; 0 if no room. */
static int
batch_take(struct rp_worker * w, struct rp_dir * d, size_t nb,
    size_t * ns, size_t * no)
{
	uint8_t * out = rp_bufpool_ptr(&w->pool, d->slot);
	uint8_t * in = d->rbuf + d->rhead;
	size_t pending = dir_pending(d);
	size_t n, i, off;

	if (d->seal) {
		n = (pending + CRYPTO_PKT_PTMAX - 1) / CRYPTO_PKT_PTMAX;
		if (*ns + n > WORKER_JOBS)
			return (0);
		for (i = 0, off = 0; i < n; i++, off += CRYPTO_PKT_PTMAX) {
			struct crypto_seal_job * j = &w->sjobs[*ns + i];

			j->key = d->key;
			j->pt = in + off;
			j->len = pending - off < CRYPTO_PKT_PTMAX ?
			    pending - off : CRYPTO_PKT_PTMAX;
			j->pnum = d->pnum + i;
			j->out = out + i * CRYPTO_PKT_LEN;
			j->flags = CRYPTO_SEAL_PTSLACK;	/* rbuf has slack */
		}
		w->bfirst[nb] = *ns;
		*ns += n;
	} else {
		n = pending / CRYPTO_PKT_LEN;
		if (n > RP_PAIR_OPEN_PKTS)
			n = RP_PAIR_OPEN_PKTS;
		if (*no + n > WORKER_JOBS)
			return (0);
		for (i = 0; i < n; i++) {
			struct crypto_open_job * j = &w->ojobs[*no + i];

			j->key = d->key;
			j->in = in + i * CRYPTO_PKT_LEN;
			j->pnum = d->pnum + i;
			j->out = out + i * CRYPTO_PKT_PADLEN;
		}
		w->bfirst[nb] = *no;
		*no += n;
	}
	w->bdirs[nb] = d;
	w->bcount[nb] = n;
	d->pnum += n;
	return (1);
}

/* After the batch: hand ${d}'s sealed/opened slot to the kernel. */
static void
batch_finish(struct rp_worker * w, size_t nb)
{
	struct rp_dir * d = w->bdirs[nb];
	uint8_t * out = rp_bufpool_ptr(&w->pool, d->slot);
	size_t n = w->bcount[nb], i, off = 0;

	if (d->pair->closing)
		return;
	if (d->seal) {
		d->slen = n * CRYPTO_PKT_LEN;
		d->rhead = d->rlen;
	} else {
		for (i = 0; i < n; i++) {
			const struct crypto_open_job * j =
			    &w->ojobs[w->bfirst[nb] + i];

			if (j->len < 0) {
				worker_abort(w, d->pair);
				return;
			}
			if (off != i * CRYPTO_PKT_PADLEN)
				memmove(out + off, j->out, (size_t)j->len);
			off += (size_t)j->len;
		}
		d->slen = off;
		d->rhead += n * CRYPTO_PKT_LEN;
		if (dir_batchable(d))
			dir_enqueue(&w->ready, &w->ready_tail, d);
	}
	d->soff = 0;
	dir_arm_send(w, d);
	dir_arm_recv(w, d);
}

/* Seal and open everything ready, across all pairs, in batches. */
static void
worker_run_batches(struct rp_worker * w)
{
	struct rp_dir * d;
	size_t nb, ns, no, i;

	while (w->ready != NULL) {
		nb = ns = no = 0;
		while ((d = w->ready) != NULL && nb < WORKER_JOBS) {
			if (d->pair->closing || d->slot != -1 ||
			    !dir_batchable(d)) {
				dir_dequeue(&w->ready, &w->ready_tail);
				dir_arm_recv(w, d);
				continue;
			}
			if ((d->slot = rp_bufpool_get(&w->pool)) == -1) {
				dir_dequeue(&w->ready, &w->ready_tail);
				dir_enqueue(&w->waiting, &w->waiting_tail, d);
				dir_arm_recv(w, d);
				continue;
			}
			if (!batch_take(w, d, nb, &ns, &no)) {
				rp_bufpool_put(&w->pool, d->slot);
				d->slot = -1;
				break;
			}
			dir_dequeue(&w->ready, &w->ready_tail);
			nb++;
		}
		if (ns && crypto_engine_seal(w->eng, w->sjobs, ns)) {
			rp_warn("worker %d: crypto failure", w->id);
			abort();
		}
		if (no)
			(void)crypto_engine_open(w->eng, w->ojobs, no);
		/* Hold the pairs: a bad packet may abort one mid-way. */
		for (i = 0; i < nb; i++)
			w->bdirs[i]->pair->inflight++;
		for (i = 0; i < nb; i++)
			batch_finish(w, i);
		for (i = 0; i < nb; i++) {
			struct rp_pair * p = w->bdirs[i]->pair;

			if (--p->inflight == 0 && p->closing)
				worker_reap_pair(w, p);
		}
	}
}

static int
worker_setup(struct rp_worker * w)
{

	if (rp_uring_init(&w->ring, WORKER_SQES, 1))
		goto err0;
	if ((w->eng = crypto_engine_new(w->cfg.backend)) == NULL) {
		rp_warnp("Cannot set up the crypto backend");
		goto err1;
	}
	if (rp_bufpool_init(&w->pool, &w->ring, SLOT_SIZE, (size_t)WORKER_SLOTS,
	    w->cfg.sendmode == RP_SEND_ZC)) {
		rp_warnp("Cannot allocate %zu output buffers", (size_t)WORKER_SLOTS);
		goto err2;
	}
	w->zc_ok = w->pool.registered && rp_uring_has_op(IORING_OP_SEND_ZC);
	if (w->cfg.sendmode == RP_SEND_ZC && !w->zc_ok)
		rp_warn("worker %d: SEND_ZC unavailable (%s); using send",
		    w->id, w->pool.registered ? "kernel lacks it" :
		    "buffers not registered");
	snprintf(w->name, sizeof(w->name), "%s, %zu slots%s, %s",
	    (w->ring.flags & IORING_SETUP_DEFER_TASKRUN) ? "defer-taskrun" :
	    "plain ring", w->pool.nslots, w->pool.registered ?
	    " registered" : "", crypto_engine_name(w->eng));
	if (w->efd != -1)
		worker_arm_wake(w);
	return (0);

err2:
	crypto_engine_free(w->eng);
err1:
	io_uring_queue_exit(&w->ring);
err0:
	return (-1);
}

static void *
worker_main(void * arg)
{
	struct rp_worker * w = arg;
	struct io_uring_cqe * cqe;
	unsigned head, n;
	int ok;

	ok = worker_setup(w) ? -1 : 1;
	pthread_mutex_lock(&w->mtx);
	w->started = ok;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
	if (ok < 0)
		return (NULL);

	while (!(w->stopping && w->pairs == NULL)) {
		io_uring_submit_and_wait(&w->ring, 1);
		n = 0;
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			worker_cqe(w, cqe);
			n++;
		}
		io_uring_cq_advance(&w->ring, n);
		worker_run_batches(w);
	}
	rp_bufpool_free(&w->pool);
	crypto_engine_free(w->eng);
	io_uring_queue_exit(&w->ring);
	return (NULL);
}

/**
 * rp_worker_start(id, cfg):
 * Start worker ${id} with ${cfg}, and wait until its ring, crypto engine and
 * buffers are set up (so that this happens before privileges are dropped).
 * Return NULL with a message printed on failure.
 */
struct rp_worker *
rp_worker_start(int id, const struct rp_worker_cfg * cfg)
{
	struct rp_worker * w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto err0;
	w->id = id;
	w->cfg = *cfg;
	w->efd = -1;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((w->efd = eventfd(0, EFD_CLOEXEC)) == -1)
		goto err1;
	if ((errno = pthread_create(&w->thr, NULL, worker_main, w)) != 0) {
		rp_warnp("pthread_create");
		goto err2;
	}
	pthread_mutex_lock(&w->mtx);
	while (w->started == 0)
		pthread_cond_wait(&w->cv, &w->mtx);
	pthread_mutex_unlock(&w->mtx);
	if (w->started < 0) {
		pthread_join(w->thr, NULL);
		goto err2;
	}
	return (w);

err2:
	if (w->efd != -1)
		close(w->efd);
err1:
	free(w);
err0:
	return (NULL);
}

/* Post ${tagged} to ${w} by MSG_RING on ${src}, or through the inbox. */
static int
worker_send_msg(struct rp_worker * w, struct io_uring * src, uint64_t tagged)
{
	struct io_uring_sqe * sqe;
	struct rp_pair * p;
	uint64_t one = 1;

	if (w->efd == -1) {
		if (src == NULL)
			return (-1);
		sqe = rp_uring_sqe(src);
		io_uring_prep_msg_ring(sqe, w->ring.ring_fd, 0, tagged, 0);
		/* The message's own completion on ${src} is ignored. */
		sqe->user_data = 0;
		io_uring_sqe_set_flags(sqe, IOSQE_CQE_SKIP_SUCCESS);
		return (0);
	}
	pthread_mutex_lock(&w->mtx);
	if ((tagged & TAG_MASK) == TAG_STOP) {
		w->inbox_stop = 1;
	} else {
		p = (void *)(uintptr_t)(tagged & ~(uint64_t)TAG_MASK);
		p->next = w->inbox;
		w->inbox = p;
	}
	pthread_mutex_unlock(&w->mtx);
	if (write(w->efd, &one, sizeof(one)) != sizeof(one))
		return (-1);
	return (0);
}

/**
 * rp_worker_post(w, p):
 * Hand pair ${p} to worker ${w} through its inbox and ring its doorbell.
 * May be called from any thread.  Return 0 on success, -1 on failure (the
 * caller keeps ${p}).
 */
int
rp_worker_post(struct rp_worker * w, struct rp_pair * p)
{

	rp_pair_publish(p);
	atomic_fetch_add(&w->load, 1);
	if (worker_send_msg(w, NULL, ud(p, TAG_PAIR))) {
		atomic_fetch_sub(&w->load, 1);
		return (-1);
	}
	return (0);
}

/**
 * rp_worker_stop(w):
 * Ask ${w} to exit once it has no pairs left, join it and free it.
 */
void
rp_worker_stop(struct rp_worker * w)
{

	worker_send_msg(w, NULL, TAG_STOP);
	pthread_join(w->thr, NULL);
	if (w->efd != -1)
		close(w->efd);
	pthread_mutex_destroy(&w->mtx);
	pthread_cond_destroy(&w->cv);
	free(w);
}

/**
 * rp_worker_load(w):
 * Return the number of pairs ${w} carries now (or has been handed).
 */
int
rp_worker_load(const struct rp_worker * w)
{

	return (atomic_load(&((struct rp_worker *)(uintptr_t)w)->load));
}

/**
 * rp_worker_name(w):
 * Return a description of ${w}'s set-up (ring flags, buffers, crypto).
 */
const char *
rp_worker_name(const struct rp_worker * w)
{

	return (w->name);
}
