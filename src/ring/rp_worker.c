/*
 * A worker thread: its engine (io_uring or epoll), its crypto engine and
 * batch, its buffer budget, and the inbox through which other threads hand
 * it pairs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "crypto_pkt.h"
#include "proto_pipe.h"
#include "rp_batch.h"
#include "rp_fatal.h"
#include "rp_log.h"
#include "rp_pair.h"
#include "rp_region.h"
#include "rp_wconn.h"
#include "rp_wk.h"
#include "rp_clock.h"
#include "rp_worker.h"

/*
 * Buffer memory a worker's pairs may hold beyond their smallest buffers:
 * half the region at most; the rest is for the smallest ones and the
 * io_uring engine's buffer ring (a quarter), and the heap takes over when
 * the region is full.  A streaming direction at its largest holds about
 * 128 KiB, so this lets 16 directions per worker stream at full size at
 * once; the rest grow to the middle size (about 17 KiB) or stay small.
 */
#define WORKER_BUDGET	(2U << 20)

/* Buffers come from the heap when the region is full, whatever their
 * size: a pair is never refused, nor failed, for want of region (the
 * budget bounds how much its pipes may hold in any case). */
#define WORKER_SMALL	((size_t)1 << 20)

static int
worker_setup(struct rp_worker * w)
{
	char desc[128];
	size_t rlen;

	if ((w->ceng = crypto_engine_new(w->cfg.backend)) == NULL) {
		rp_warnp("Cannot set up the crypto backend");
		goto err0;
	}
	if ((w->batch = rp_batch_new(w->ceng, &w->stats)) == NULL)
		goto err1;
	if ((w->region = rp_region_new(w->cfg.buffer_bytes ?
	    w->cfg.buffer_bytes : RP_WORKER_BUFFERS, WORKER_SMALL)) == NULL) {
		rp_warnp("Cannot map the buffer region");
		goto err2;
	}
	(void)rp_region_base(w->region, &rlen);
	w->env.used = 0;
	w->env.limit = (rlen / 2 < WORKER_BUDGET) ? rlen / 2 : WORKER_BUDGET;
	w->env.balloc = rp_region_alloc;
	w->env.brelease = rp_region_release;
	w->env.barg = w->region;
	w->env.coalesce = (uint64_t)w->cfg.coalesce_ms * 1000000;
	(void)rp_wk_clock(w);
	rp_wkp_init(&w->pairs, w);
	if ((w->eng = w->ops->init(w, desc, sizeof(desc))) == NULL)
		goto err3;
	snprintf(w->name, sizeof(w->name), "%s engine (%s), %s, "
	    "buffers %zu KiB%s", w->ops->name, desc,
	    crypto_engine_name(w->ceng), rlen >> 10,
	    w->registered ? ", ring-registered" : "");
	return (0);

err3:
	rp_region_free(w->region);
err2:
	rp_batch_free(w->batch);
err1:
	crypto_engine_free(w->ceng);
err0:
	return (-1);
}

static void *
worker_main(void * arg)
{
	struct rp_worker * w = arg;
	int ok;

	ok = worker_setup(w) ? -1 : 1;
	pthread_mutex_lock(&w->mtx);
	w->started = ok;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
	if (ok < 0)
		return (NULL);
	rp_wkp_run(&w->pairs);
	w->ops->fini(w->eng);
	rp_region_free(w->region);
	rp_batch_free(w->batch);
	crypto_engine_free(w->ceng);
	return (NULL);
}

/**
 * rp_worker_start(id, cfg):
 * Start worker ${id} with ${cfg}, and wait until its engine, crypto engine
 * and buffers are set up (so that this happens before privileges are
 * dropped).  Return NULL with a message printed on failure.
 */
struct rp_worker *
rp_worker_start(int id, const struct rp_worker_cfg * cfg)
{
	struct rp_worker * w;
	char name[16];

	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto err0;
	w->id = id;
	w->cfg = *cfg;
	w->ops = (cfg->engine == RP_ENGINE_EPOLL) ? &rp_wk_epoll_ops :
	    &rp_wk_uring_ops;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((w->doorbell = eventfd(0, EFD_CLOEXEC)) == -1) {
		rp_warnp("eventfd");
		goto err1;
	}
	if ((errno = pthread_create(&w->thr, NULL, worker_main, w)) != 0) {
		rp_warnp("pthread_create");
		goto err2;
	}
	/* Named for top -H, gdb and the fault tests (t_fault_fatal.sh). */
	snprintf(name, sizeof(name), "rp-worker/%d", id % 10000);
	(void)pthread_setname_np(w->thr, name);
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
	close(w->doorbell);
err1:
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mtx);
	free(w);
err0:
	return (NULL);
}

/**
 * rp_worker_asleep(w):
 * Return 1 if ${w}'s thread is blocked (or about to block) in its engine's
 * wait, so that a pair posted to it now needs a ring, else 0.  A hint only:
 * the thread may wake or sleep the moment after.
 */
int
rp_worker_asleep(const struct rp_worker * w)
{

	/* Relaxed: no decision that needs the hand-shake rests on this. */
	return (atomic_load_explicit(
	    &((struct rp_worker *)(uintptr_t)w)->sleeping,
	    memory_order_relaxed));
}

/**
 * rp_worker_ring(w):
 * Ring ${w}'s doorbell, so that its thread takes in what was posted to it
 * (rp_worker_post_held said to).  May be called from any thread.
 */
void
rp_worker_ring(struct rp_worker * w)
{
	uint64_t one = 1;

	if (write(w->doorbell, &one, sizeof(one)) != sizeof(one)) {
		/* Full only after 2^64 - 2 rings: cannot happen. */
	}
}

/**
 * rp_worker_post_held(w, p):
 * Put pair ${p} in worker ${w}'s inbox without ringing its doorbell.
 * Return 1 if the caller must ring it (rp_worker_ring) before it waits for
 * anything, 0 if a ring already owed or made takes ${p} in too or if
 * the worker's thread is awake and will take ${p} in before it sleeps, or
 * -1 on failure (the caller keeps ${p}).  May be called from any thread.
 */
int
rp_worker_post_held(struct rp_worker * w, struct rp_pair * p)
{
	struct rp_pair ** ni;
	size_t ncap;
	int first, ring;

	rp_pair_publish(p);
	pthread_mutex_lock(&w->mtx);
	if (w->ninbox == w->capinbox) {
		ncap = w->capinbox ? w->capinbox * 2 : 16;
		if ((ni = realloc(w->inbox, ncap * sizeof(*ni))) == NULL) {
			pthread_mutex_unlock(&w->mtx);
			return (-1);
		}
		w->inbox = ni;
		w->capinbox = ncap;
	}

	/*
	 * The thread takes the whole inbox under mtx (rp_wk_drain_inbox),
	 * on a ring or on its own (rp_wk_take_posted).  Only the post that
	 * finds the inbox empty may owe a ring: while it is not empty, that
	 * post either owes a ring not yet answered, or found the thread
	 * awake, which then drains before it blocks (below); either drain
	 * takes ${p} too.
	 *
	 * The hand-shake with a thread going to sleep is Dekker's: here
	 * pending := 1, then read sleeping; in rp_wk_sleep_begin sleeping :=
	 * 1, then read pending; all four seq_cst.  In their single total
	 * order one of the two stores comes first, so at least one side
	 * reads the other's 1: either this post sees the thread asleep (or
	 * about to be) and rings, or the thread sees the pair and does not
	 * block.  Both may happen: one spare ring, answered by an empty
	 * drain.  A 0 read here from the thread's clear (rp_wk_sleep_end)
	 * means it has woken since, and its next sleeping := 1 comes after
	 * this post's pending := 1 in that order, so it sees the pair then.
	 */
	first = (w->ninbox == 0);
	w->inbox[w->ninbox++] = p;
	atomic_fetch_add(&w->load, 1);
	atomic_store(&w->pending, 1);
	ring = first && atomic_load(&w->sleeping);
	pthread_mutex_unlock(&w->mtx);
	return (ring);
}

/**
 * rp_worker_post(w, p):
 * Hand pair ${p} to worker ${w} through its inbox and ring its doorbell
 * unless a ring not yet answered takes ${p} in too or its thread is
 * awake.  May be called from any thread.  Return 0 on success, -1 on
 * failure (the caller keeps ${p}).
 */
int
rp_worker_post(struct rp_worker * w, struct rp_pair * p)
{
	int rc;

	if ((rc = rp_worker_post_held(w, p)) < 0)
		return (-1);
	if (rc > 0)
		rp_worker_ring(w);
	return (0);
}

/* Make the per-pair state of ${p} for ${w}'s engine; NULL if out of
 * memory (the pair is then closed and counted as failed). */
static struct rp_wconn *
worker_conn_new(struct rp_worker * w, struct rp_pair * p)
{
	struct proto_pipe * pipe = rp_pair_take_pipe(p);
	int in = rp_pair_fd(p, RP_PAIR_PLAIN_IN);
	int out = rp_pair_fd(p, RP_PAIR_PLAIN_OUT);
	int cipher = rp_pair_fd(p, RP_PAIR_CIPHER);
	struct rp_wconn * c;

	w->npairs++;
	if ((c = calloc(1, w->ops->conn_size)) == NULL) {
		close(in);
		if (out != in)
			close(out);
		close(cipher);
		proto_pipe_free(pipe);
		rp_wk_pair_closed(w, rp_pair_owner(p), PROTO_PIPE_END_NOMEM, 0);
		return (NULL);
	}
	/* A pipe that cannot move its buffers has failed: its pump closes
	 * it. */
	(void)proto_pipe_set_env(pipe, &w->env);
	rp_wconn_init(c, pipe, in, out, cipher, rp_pair_socks(p));
	c->owner = rp_pair_owner(p);
	c->peer_out[0] = rp_pair_peer(p, RP_PAIR_CIPHER);
	c->peer_out[1] = rp_pair_peer(p, RP_PAIR_PLAIN_OUT);
	return (c);
}

/**
 * rp_wk_drain_inbox(w):
 * Take every pair posted to ${w}, make its per-pair state (conn_size bytes,
 * zeroed, its rp_wconn filled in) and adopt it into w->pairs; set
 * w->stopping if a stop was asked, close every pair if an abort was.  The
 * doorbell itself is read by the engine.
 */
void
rp_wk_drain_inbox(struct rp_worker * w)
{
	struct rp_pair ** list;
	struct rp_wconn * c;
	size_t n, i;
	int abort;

	pthread_mutex_lock(&w->mtx);
	list = w->inbox;
	n = w->ninbox;
	w->inbox = NULL;
	w->ninbox = w->capinbox = 0;
	atomic_store(&w->pending, 0);
	if (w->stop_asked)
		w->stopping = 1;
	abort = w->abort_asked;
	w->abort_asked = 0;
	pthread_mutex_unlock(&w->mtx);
	for (i = 0; i < n; i++) {
		if ((c = worker_conn_new(w, list[i])) != NULL)
			rp_wkp_adopt(&w->pairs, c);
		rp_pair_release(list[i]);
	}
	free(list);
	if (abort)
		rp_wkp_abort_all(&w->pairs, abort == RP_WK_ABORT_ALL);
}

/**
 * rp_wk_sleep_begin(w):
 * Say that ${w}'s thread is about to block in its engine's wait.  Return 0
 * if it may, or 1 if pairs were posted that no ring will announce: the
 * thread must then not block, and take them in (rp_wk_take_posted).
 */
int
rp_wk_sleep_begin(struct rp_worker * w)
{

	/* seq_cst store then seq_cst load: the thread's half of the
	 * hand-shake argued in rp_worker_post_held. */
	atomic_store(&w->sleeping, 1);
	if (atomic_load(&w->pending) == 0)
		return (0);
	atomic_store(&w->sleeping, 0);
	return (1);
}

/**
 * rp_wk_sleep_end(w):
 * Say that ${w}'s thread is back from its engine's wait (or did not block).
 */
void
rp_wk_sleep_end(struct rp_worker * w)
{

	/* A post that still reads 1 only rings once too often. */
	atomic_store(&w->sleeping, 0);
}

/**
 * rp_wk_take_posted(w):
 * If pairs were posted to ${w} since its last inbox drain, take them in
 * (rp_wk_drain_inbox) without waiting for the doorbell.
 */
void
rp_wk_take_posted(struct rp_worker * w)
{

	/*
	 * Relaxed: the drain's mtx orders the inbox itself.  A post this
	 * misses is seen by a later call, or rang the doorbell, or is seen
	 * by rp_wk_sleep_begin's seq_cst load before the thread blocks.
	 */
	if (atomic_load_explicit(&w->pending, memory_order_relaxed))
		rp_wk_drain_inbox(w);
}

/**
 * rp_wk_clock(w):
 * Read the monotonic clock into ${w}'s pipe environment and return it (ns).
 */
uint64_t
rp_wk_clock(struct rp_worker * w)
{

	w->env.now = rp_clock_ns();
	return (w->env.now);
}

/**
 * rp_wk_pair_closed(w, owner, end, timedout):
 * Account for a pair of ${w} that has closed, having ended as ${end}
 * (PROTO_PIPE_END_*), failed by ETIMEDOUT (a keepalive or user timeout
 * gave a peer up) if ${timedout}, and tell its owner ${owner} (or, if
 * NULL, the worker's cookie) through the closed callback.
 */
void
rp_wk_pair_closed(struct rp_worker * w, void * owner, int end,
    int timedout)
{

	w->npairs--;
	rp_wk_count(&w->stats.closed[end], 1);
	if (timedout)
		rp_wk_count(&w->stats.timedout, 1);
	/* Counted down before the owner hears of it: what it reads of the
	 * load from then on is current. */
	atomic_fetch_sub(&w->load, 1);
	if (w->cfg.closed)
		w->cfg.closed(owner != NULL ? owner : w->cfg.cookie, end,
		    timedout);
}

/**
 * rp_worker_abort_all(w):
 * Ask ${w} to close every pair it carries now, at once (a bounded drain
 * ran out of time): those whose owner its cut filter picks, or all
 * without one.  May be called from any thread.
 */
void
rp_worker_abort_all(struct rp_worker * w)
{

	pthread_mutex_lock(&w->mtx);
	if (w->abort_asked != RP_WK_ABORT_ALL)
		w->abort_asked = RP_WK_ABORT_CUT;
	pthread_mutex_unlock(&w->mtx);
	rp_worker_ring(w);
}

/* Close the descriptors of the pair ${p}, which no engine adopted, and
 * free it. */
static void
worker_pair_close(struct rp_pair * p)
{
	int in = rp_pair_fd(p, RP_PAIR_PLAIN_IN);
	int out = rp_pair_fd(p, RP_PAIR_PLAIN_OUT);

	close(in);
	if (out != in)
		close(out);
	close(rp_pair_fd(p, RP_PAIR_CIPHER));
	rp_pair_release(p);
}

/**
 * rp_worker_stop(w):
 * Ask ${w} to exit once it has no pairs left, join it and free it.  After
 * a fatal error (rp_fatal) its pairs are closed at once instead.
 */
void
rp_worker_stop(struct rp_worker * w)
{
	size_t i;

	pthread_mutex_lock(&w->mtx);
	w->stop_asked = 1;
	if (rp_fatal_raised())
		w->abort_asked = RP_WK_ABORT_ALL;
	pthread_mutex_unlock(&w->mtx);
	rp_worker_ring(w);
	pthread_join(w->thr, NULL);

	/* Pairs posted after a fatal error ended the engine: nobody else
	 * will close them. */
	for (i = 0; i < w->ninbox; i++)
		worker_pair_close(w->inbox[i]);
	close(w->doorbell);
	free(w->inbox);
	pthread_mutex_destroy(&w->mtx);
	pthread_cond_destroy(&w->cv);
	free(w);
}

/**
 * rp_worker_start_all(workers, n, cfg, fallback):
 * Start ${n} workers with ${cfg} into ${workers} (rp_worker_start).  If
 * one cannot set up its io_uring and ${fallback} (the engine was auto),
 * stop those started, say so, set ${cfg}'s engine to epoll and start all
 * of them again: the probe's small ring may fit where a worker's does
 * not (RLIMIT_MEMLOCK).  Return how many started (all of them on
 * success).
 */
size_t
rp_worker_start_all(struct rp_worker ** workers, size_t n,
    struct rp_worker_cfg * cfg, int fallback)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((workers[i] = rp_worker_start((int)i, cfg)) == NULL)
			break;
	if (i == n || !fallback || cfg->engine != RP_ENGINE_URING)
		return (i);

	/* The worker printed its reason. */
	rp_worker_stop_all(workers, i);
	rp_warn("using the epoll engine: worker %zu could not set up its "
	    "io_uring", i);
	cfg->engine = RP_ENGINE_EPOLL;
	return (rp_worker_start_all(workers, n, cfg, 0));
}

/**
 * rp_worker_stop_all(workers, n):
 * Stop the ${n} workers at ${workers} (rp_worker_stop).
 */
void
rp_worker_stop_all(struct rp_worker ** workers, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		rp_worker_stop(workers[i]);
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
 * rp_worker_counts(w, c):
 * Fill ${c} with ${w}'s counters as they are now (any thread may call
 * this; each counter is read atomically, the set not as one).
 */
void
rp_worker_counts(const struct rp_worker * w, struct rp_worker_counts * c)
{
	const struct rp_wk_stats * st = &w->stats;
	int i;

	for (i = 0; i < PROTO_PIPE_END_N; i++)
		c->closed[i] = atomic_load_explicit(&st->closed[i],
		    memory_order_relaxed);
	c->timedout = atomic_load_explicit(&st->timedout, memory_order_relaxed);
	for (i = 0; i < 2; i++) {
		c->pkts[i] = atomic_load_explicit(&st->pkts[i],
		    memory_order_relaxed);
		c->bytes[i] = atomic_load_explicit(&st->bytes[i],
		    memory_order_relaxed);
	}
	c->pairs = (uint64_t)rp_worker_load(w);
}

/**
 * rp_worker_name(w):
 * Return a description of ${w}'s set-up (engine, crypto).
 */
const char *
rp_worker_name(const struct rp_worker * w)
{

	return (w->name);
}
