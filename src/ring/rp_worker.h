#ifndef RP_WORKER_H_
#define RP_WORKER_H_

/*
 * A data-plane worker: one thread running one engine (io_uring or epoll)
 * over the connection pairs handed to it, each pair with its own pipe core
 * and buffers.  Each loop iteration takes every completion or readiness
 * event, seals and opens everything that is ready across all its pairs as
 * one crypto batch, then sends and reads again.
 */

#include <stddef.h>
#include <stdint.h>

#include "crypto_pkt.h"

struct rp_pair;
struct rp_worker;

#include "proto_pipe.h"
#include "rp_engine.h"

/* Send modes (--no-zerocopy; -Z is the default). */
#define RP_SEND_PLAIN	0	/* Plain send. */
#define RP_SEND_ZC	1	/* io_uring SEND_ZC from the worker's region;
				   per direction, plain send once the kernel
				   reports a copy (remembered per destination
				   address).  The epoll engine always sends
				   plainly. */

/* The default buffer region of a worker (bytes): its pages are touched as
 * buffers are used, never all at start. */
#define RP_WORKER_BUFFERS	(4U << 20)

struct rp_worker_cfg {
	enum rp_engine engine;		/* RP_ENGINE_URING or _EPOLL. */
	int sendmode;			/* RP_SEND_*. */
	enum crypto_backend backend;
	unsigned coalesce_ms;		/* --coalesce: hold part packets. */
	size_t buffer_bytes;		/* --buffer-memory: the region of data
					   buffers; 0: RP_WORKER_BUFFERS. */
	/* Called on the worker thread as each pair closes, with its owner
	 * (or the cookie), how it ended (${end}: PROTO_PIPE_END_*) and
	 * whether by ETIMEDOUT (${timedout}). */
	void (* closed)(void * cookie, int end, int timedout);
	void * cookie;
	/* Whether rp_worker_abort_all closes the pairs of ${owner} (the
	 * pair's owner, rp_pair_set_owner); NULL: it closes every pair. */
	int (* cut)(void * owner);
};

/**
 * rp_worker_start(id, cfg):
 * Start worker ${id} with ${cfg}, and wait until its engine, crypto engine
 * and buffers are set up (so that this happens before privileges are
 * dropped).  Return NULL with a message printed on failure.
 */
struct rp_worker * rp_worker_start(int id, const struct rp_worker_cfg * cfg);

/**
 * rp_worker_post(w, p):
 * Hand pair ${p} to worker ${w} through its inbox and ring its doorbell
 * unless a ring not yet answered takes ${p} in too or its thread is
 * awake.  May be called from any thread.  Return 0 on success, -1 on
 * failure (the caller keeps ${p}).
 */
int rp_worker_post(struct rp_worker * w, struct rp_pair * p);

/**
 * rp_worker_post_held(w, p):
 * Put pair ${p} in worker ${w}'s inbox without ringing its doorbell.
 * Return 1 if the caller must ring it (rp_worker_ring) before it waits for
 * anything, 0 if a ring already owed or made takes ${p} in too or if
 * the worker's thread is awake and will take ${p} in before it sleeps, or
 * -1 on failure (the caller keeps ${p}).  May be called from any thread.
 */
int rp_worker_post_held(struct rp_worker * w, struct rp_pair * p);

/**
 * rp_worker_asleep(w):
 * Return 1 if ${w}'s thread is blocked (or about to block) in its engine's
 * wait, so that a pair posted to it now needs a ring, else 0.  A hint only:
 * the thread may wake or sleep the moment after.
 */
int rp_worker_asleep(const struct rp_worker * w);

/**
 * rp_worker_ring(w):
 * Ring ${w}'s doorbell, so that its thread takes in what was posted to it
 * (rp_worker_post_held said to).  May be called from any thread.
 */
void rp_worker_ring(struct rp_worker * w);

/**
 * rp_worker_abort_all(w):
 * Ask ${w} to close every pair it carries now, at once (a bounded drain
 * ran out of time): those whose owner its cut filter picks, or all
 * without one.  May be called from any thread.
 */
void rp_worker_abort_all(struct rp_worker * w);

/**
 * rp_worker_stop(w):
 * Ask ${w} to exit once it has no pairs left, join it and free it.  After
 * a fatal error (rp_fatal) its pairs are closed at once instead.
 */
void rp_worker_stop(struct rp_worker * w);

/**
 * rp_worker_start_all(workers, n, cfg, fallback):
 * Start ${n} workers with ${cfg} into ${workers} (rp_worker_start).  If
 * one cannot set up its io_uring and ${fallback} (the engine was auto),
 * stop those started, say so, set ${cfg}'s engine to epoll and start all
 * of them again: the probe's small ring may fit where a worker's does
 * not (RLIMIT_MEMLOCK).  Return how many started (all of them on
 * success).
 */
size_t rp_worker_start_all(struct rp_worker ** workers, size_t n,
    struct rp_worker_cfg * cfg, int fallback);

/**
 * rp_worker_stop_all(workers, n):
 * Stop the ${n} workers at ${workers} (rp_worker_stop).
 */
void rp_worker_stop_all(struct rp_worker ** workers, size_t n);

/**
 * rp_worker_load(w):
 * Return the number of pairs ${w} carries now (or has been handed).
 */
int rp_worker_load(const struct rp_worker * w);

/* A snapshot of a worker's counters (rp_worker_counts). */
struct rp_worker_counts {
	uint64_t closed[PROTO_PIPE_END_N];	/* Pairs closed, by end. */
	uint64_t timedout;	/* Of those, failed by ETIMEDOUT. */
	uint64_t pkts[2];	/* Packets sealed [0] and opened [1]. */
	uint64_t bytes[2];	/* Their plaintext bytes. */
	uint64_t pairs;		/* Pairs carried now (or being handed). */
};

/**
 * rp_worker_counts(w, c):
 * Fill ${c} with ${w}'s counters as they are now (any thread may call
 * this; each counter is read atomically, the set not as one).
 */
void rp_worker_counts(const struct rp_worker * w,
    struct rp_worker_counts * c);

/**
 * rp_worker_name(w):
 * Return a description of ${w}'s set-up (ring flags, buffers, crypto).
 */
const char * rp_worker_name(const struct rp_worker * w);

#endif /* !RP_WORKER_H_ */
