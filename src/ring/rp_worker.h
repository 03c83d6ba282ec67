#ifndef RP_WORKER_H_
#define RP_WORKER_H_

/*
 * A data-plane worker: one thread, one io_uring, one pool of (registered)
 * output slots, and the connection pairs handed to it.  Each loop iteration
 * reaps every completion, seals and opens everything that is ready across
 * all its pairs as one crypto batch, queues the sends and submits once.
 */

#include <stddef.h>

#include "crypto_pkt.h"

struct io_uring;
struct rp_pair;
struct rp_worker;

/* Send modes (-z). */
#define RP_SEND_PLAIN	0	/* IORING_OP_SEND. */
#define RP_SEND_ZC	1	/* SEND_ZC from fixed buffers; per-pair fallback
				   to plain send when the kernel copies. */

struct rp_worker_cfg {
	int sendmode;			/* RP_SEND_*. */
	size_t nslots;			/* Output slots in the pool. */
	enum crypto_backend backend;
	/* Called on the worker thread as a pair closes, before it is freed. */
	void (* closed)(void * cookie, struct rp_pair * p);
	void * cookie;
};

/**
 * rp_worker_start(id, cfg):
 * Start worker ${id} with ${cfg}, and wait until its ring, crypto engine and
 * buffers are set up (so that this happens before privileges are dropped).
 * Return NULL with a message printed on failure.
 */
struct rp_worker * rp_worker_start(int id, const struct rp_worker_cfg * cfg);

/**
 * rp_worker_post(w, src, p):
 * Hand pair ${p} to worker ${w}.  When ${src} is not NULL and the kernel has
 * IORING_OP_MSG_RING, queue a message on ${src} (the caller submits it);
 * otherwise use the worker's locked inbox and wake it.  Return 0 on
 * success, -1 on failure (the caller keeps ${p}).
 */
int rp_worker_post(struct rp_worker * w, struct io_uring * src,
    struct rp_pair * p);

/**
 * rp_worker_set_closed(w, closed, cookie):
 * Set the callback run (on the worker thread) as each pair of ${w} closes.
 * Call before the first pair is posted.
 */
void rp_worker_set_closed(struct rp_worker * w,
    void (* closed)(void *, struct rp_pair *), void * cookie);

/**
 * rp_worker_stop(w):
 * Ask ${w} to exit once it has no pairs left, join it and free it.
 */
void rp_worker_stop(struct rp_worker * w);

/**
 * rp_worker_load(w):
 * Return the number of pairs ${w} carries now (or has been handed).
 */
int rp_worker_load(const struct rp_worker * w);

/**
 * rp_worker_name(w):
 * Return a description of ${w}'s set-up (ring flags, buffers, crypto).
 */
const char * rp_worker_name(const struct rp_worker * w);

#endif /* !RP_WORKER_H_ */
