#ifndef RP_HSPOOL_H_
#define RP_HSPOOL_H_

/*
 * A pool of threads that run the expensive step of handshakes
 * (proto_hs_compute: modular exponentiations), so that the handshake rate
 * grows with cores while the control thread keeps doing all the I/O.
 * Finished jobs are collected by the owner, which is woken through an
 * eventfd.
 */

#include <stdint.h>

struct proto_hs;

struct rp_hsjob {
	struct rp_hsjob * next;		/* The queue, then the done list. */
	struct rp_hsjob * prev;		/* The queue only. */
	struct proto_hs * hs;
	int queued;			/* Queued, not started (the pool's). */
};

struct rp_hspool;

/**
 * rp_hspool_start(nthreads, wakefd, keys):
 * Start ${nthreads} compute threads; each finished job is announced by
 * writing 1 to the eventfd ${wakefd}.  If ${keys} is non-zero, idle threads
 * keep a few ephemeral key pairs ready for rp_hspool_take_key.  Return NULL
 * on failure.
 */
struct rp_hspool * rp_hspool_start(int nthreads, int wakefd, int keys);

/**
 * rp_hspool_take_key(pool, x, y):
 * Move a key pair made ahead of time into ${x} (CRYPTO_DH_PRIVLEN bytes)
 * and ${y} (CRYPTO_DH_PUBLEN bytes) and return 0, or return -1 if none is
 * ready.  The pair is forgotten by the pool.
 */
int rp_hspool_take_key(struct rp_hspool * pool, uint8_t * x, uint8_t * y);

/**
 * rp_hspool_submit(pool, job):
 * Queue ${job}: proto_hs_compute(${job}->hs) will run on a pool thread.
 * The caller must not touch the handshake until the job is collected.
 */
void rp_hspool_submit(struct rp_hspool * pool, struct rp_hsjob * job);

/**
 * rp_hspool_cancel(pool, job):
 * Take ${job} off the queue if no thread has started it: return 0 then
 * (the job will never run nor be collected), or -1 if it is running or
 * done (it will be collected as usual).
 */
int rp_hspool_cancel(struct rp_hspool * pool, struct rp_hsjob * job);

/**
 * rp_hspool_collect(pool):
 * Return the list (linked by ->next) of jobs finished since the last call.
 */
struct rp_hsjob * rp_hspool_collect(struct rp_hspool * pool);

/**
 * rp_hspool_stop(pool):
 * Stop and join the threads (after the queued jobs ran) and free ${pool}.
 */
void rp_hspool_stop(struct rp_hspool * pool);

#endif /* !RP_HSPOOL_H_ */
