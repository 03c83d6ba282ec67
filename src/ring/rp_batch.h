#ifndef RP_BATCH_H_
#define RP_BATCH_H_

/*
 * One crypto batch across the pairs of a worker: take the jobs of every
 * pair on a ready list, seal and open them as one batch each through the
 * multi-buffer backend, and report the results back to each pipe.
 */

#include <stddef.h>

#include "crypto_pkt.h"
#include "rp_wconn.h"

struct rp_batch;

struct rp_wk_stats;

/**
 * rp_batch_new(eng, stats):
 * Create batch state that runs its crypto on ${eng} and counts packets and
 * bytes in ${stats}.  Return NULL on failure.
 */
struct rp_batch * rp_batch_new(struct crypto_engine * eng,
    struct rp_wk_stats * stats);

/**
 * rp_batch_free(b):
 * Free ${b}.  NULL is a no-op.
 */
void rp_batch_free(struct rp_batch * b);

/**
 * rp_batch_run(b, ready, after, arg):
 * Take the pairs now on ${ready} (pairs queued while this runs stay for the
 * next call), run their crypto in batches, and call ${after}(${arg}, c)
 * for each pair c taken, once its results are in its pipe.  ${after} may
 * queue c again, or close and free it.
 */
void rp_batch_run(struct rp_batch * b, struct rp_wready * ready,
    void (* after)(void *, struct rp_wconn *), void * arg);

#endif /* !RP_BATCH_H_ */
