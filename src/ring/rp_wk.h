#ifndef RP_WK_H_
#define RP_WK_H_

/*
 * Inside a worker: the state an engine shares with the thread around it
 * (rp_worker.c), and the table of operations each engine provides.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_pipe.h"
#include "rp_wk_pairs.h"
#include "rp_worker.h"

struct rp_batch;
struct rp_region;
struct rp_pair;
struct rp_wconn;

/* A worker's counters: written by its thread only, read by any
 * (rp_worker_counts). */
struct rp_wk_stats {
	_Atomic uint64_t closed[PROTO_PIPE_END_N];
	_Atomic uint64_t timedout;	/* Of those, failed by ETIMEDOUT. */
	_Atomic uint64_t pkts[2], bytes[2];	/* [0] sealed, [1] opened. */
};

/* What an abort asks (w->abort_asked): the pairs the cut filter picks
 * (rp_worker_abort_all), or every pair (a fatal error). */
#define RP_WK_ABORT_CUT	1
#define RP_WK_ABORT_ALL	2

struct rp_worker {
	int id;
	struct rp_worker_cfg cfg;
	const struct rp_wk_ops * ops;
	void * eng;			/* The engine's own state. */
	struct rp_wkp pairs;		/* The pairs and their policy. */
	pthread_t thr;
	struct crypto_engine * ceng;
	struct rp_batch * batch;
	struct rp_wk_stats stats;
	struct proto_pipe_env env;	/* Budget, clock, coalescing, and
					   buffers from the region. */
	struct rp_region * region;	/* The data buffers. */
	int registered;			/* The ring receives into the region
					   (a provided-buffer ring). */
	char name[192];

	/* Start-up hand-shake with the creating thread. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int started;			/* 1 ok, -1 failed. */

	/* Inbox: pairs posted by other threads, under mtx; the eventfd is
	 * the doorbell the engine watches. */
	int doorbell;
	struct rp_pair ** inbox;
	size_t ninbox, capinbox;

	/*
	 * The doorbell hand-shake (rp_worker_post_held, rp_wk_sleep_begin):
	 * ${pending} is 1 while the inbox holds pairs (written under mtx,
	 * read by the thread without it); ${sleeping} is 1 from just before
	 * the thread blocks in the engine's wait until it has woken (written
	 * by the thread only).  A post rings only a thread that may sleep
	 * without having seen its pair.
	 */
	atomic_int pending;
	atomic_int sleeping;
	int stop_asked;
	int abort_asked;		/* RP_WK_ABORT_*, or 0. */

	atomic_int load;		/* Pairs carried or posted. */
	int stopping;			/* Exit once no pair is left. */
	size_t npairs;			/* Pairs adopted and not closed. */
};

/*
 * An engine: its set-up, and the I/O verbs through which the pairs module
 * (rp_wk_pairs.c) moves a pair's bytes.  A verb that completes later
 * holds a reference on the pair (c->refs) until its result is in the pipe,
 * then calls rp_wkp_io_done.
 */
struct rp_wk_ops {
	const char * name;
	size_t conn_size;		/* Per-pair state, rp_wconn first. */
	/* Set up on the worker thread; describe the set-up in ${desc}. */
	void * (* init)(struct rp_worker * w, char * desc, size_t len);
	void (* fini)(void * eng);
	/* Prepare the descriptors of a new pair ${c}. */
	void (* attach)(void * eng, struct rp_wconn * c);
	/* Receive into direction ${d} of ${c} (its pipe wants to read). */
	void (* recv)(void * eng, struct rp_wconn * c, int d);
	/* Send what direction ${d} of ${c} has queued. */
	void (* send)(void * eng, struct rp_wconn * c, int d);
	/* ${c} is closed: end what it has in flight soon. */
	void (* cancel)(void * eng, struct rp_wconn * c);
	/* Close the descriptors of ${c}, which nothing refers to any more,
	 * and set them to -1. */
	void (* close_fds)(void * eng, struct rp_wconn * c);
	/* Wait for events (unless !${block}; until the time ${due} in ns
	 * if not 0) and deliver them.  Return -1 if the engine failed for
	 * good (reported with rp_fatal), else 0. */
	int (* wait)(void * eng, int block, uint64_t due);
	/* End of a loop iteration: arm what could not be armed before. */
	void (* flush)(void * eng);
};

extern const struct rp_wk_ops rp_wk_uring_ops;
extern const struct rp_wk_ops rp_wk_epoll_ops;

/**
 * rp_wk_drain_inbox(w):
 * Take every pair posted to ${w}, make its per-pair state (conn_size bytes,
 * zeroed, its rp_wconn filled in) and adopt it into w->pairs; set
 * w->stopping if a stop was asked, close every pair if an abort was.  The
 * doorbell itself is read by the engine.
 */
void rp_wk_drain_inbox(struct rp_worker * w);

/**
 * rp_wk_sleep_begin(w):
 * Say that ${w}'s thread is about to block in its engine's wait.  Return 0
 * if it may, or 1 if pairs were posted that no ring will announce: the
 * thread must then not block, and take them in (rp_wk_take_posted).
 */
int rp_wk_sleep_begin(struct rp_worker * w);

/**
 * rp_wk_sleep_end(w):
 * Say that ${w}'s thread is back from its engine's wait (or did not block).
 */
void rp_wk_sleep_end(struct rp_worker * w);

/**
 * rp_wk_take_posted(w):
 * If pairs were posted to ${w} since its last inbox drain, take them in
 * (rp_wk_drain_inbox) without waiting for the doorbell.
 */
void rp_wk_take_posted(struct rp_worker * w);

/**
 * rp_wk_clock(w):
 * Read the monotonic clock into ${w}'s pipe environment and return it (ns).
 */
uint64_t rp_wk_clock(struct rp_worker * w);

/**
 * rp_wk_count(c, n):
 * Add ${n} to the counter ${c}, which only this worker's thread writes.
 * Inline, so that the batch (rp_batch.c) counts without calling into the
 * worker module above it.
 */
static inline void
rp_wk_count(_Atomic uint64_t * c, uint64_t n)
{

	/* One writer: a relaxed load and store, no locked instruction. */
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

/**
 * rp_wk_pair_closed(w, owner, end, timedout):
 * Account for a pair of ${w} that has closed, having ended as ${end}
 * (PROTO_PIPE_END_*), failed by ETIMEDOUT (a keepalive or user timeout
 * gave a peer up) if ${timedout}, and tell its owner ${owner} (or, if
 * NULL, the worker's cookie) through the closed callback.
 */
void rp_wk_pair_closed(struct rp_worker * w, void * owner, int end,
    int timedout);

#endif /* !RP_WK_H_ */
