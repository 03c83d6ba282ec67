#ifndef RP_WK_PAIRS_H_
#define RP_WK_PAIRS_H_

/*
 * The pairs of one worker and everything decided about them, whatever the
 * engine: the list of pairs; the pump policy (what to read, when to queue
 * for crypto, what to send, when to half-close); the ready list (input for
 * the next crypto batch) and the hold list (part packets waiting out the
 * coalescing time); errors and close; and one rule for when a closed pair
 * may be freed.  An engine supplies only its I/O verbs (rp_wk_ops: attach,
 * recv, send, cancel, wait, flush) and reports back with rp_wkp_io_done.
 *
 * The freeing rule: a closed pair is freed at the end of a loop iteration,
 * once no engine reference (an operation in flight, or a place on one of
 * the engine's own lists: c->refs) and no ready list holds it.  Until then
 * its descriptors stay open, so that their numbers cannot be reused while
 * the kernel may still act on them.
 */

#include <stdint.h>

#include "rp_wconn.h"

struct rp_worker;

struct rp_wkp {
	struct rp_worker * w;
	struct rp_wconn * conns;	/* Open pairs (prev/next). */
	struct rp_wconn * graveyard;	/* Closed, to free (gnext). */
	struct rp_wready ready;		/* Input ready for crypto. */
	struct rp_whold hold;		/* Part packets waiting. */
	uint64_t next_hold;		/* Earliest of their deadlines, or 0. */
	int fatal;			/* The engine failed for good: the
					   pairs are closing, none is taken
					   in. */
};

/**
 * rp_wkp_init(P, w):
 * Make ${P} the empty set of pairs of worker ${w}.
 */
void rp_wkp_init(struct rp_wkp * P, struct rp_worker * w);

/**
 * rp_wkp_adopt(arg, c):
 * Take the new pair ${c} into the set ${arg} (a struct rp_wkp): let the
 * engine attach its descriptors, then pump it.
 */
void rp_wkp_adopt(void * arg, struct rp_wconn * c);

/**
 * rp_wkp_pump(P, c):
 * Do what the pipe of ${c} (a pair of ${P}) asks for: send, half-close,
 * queue input for crypto, or receive (a direction with input ready for
 * crypto receives again only after the batch: a receive now could only
 * fill the tail behind the pending bytes).  Close ${c} once its pipe has
 * finished or failed; put it on the hold list while it holds a part
 * packet.
 */
void rp_wkp_pump(struct rp_wkp * P, struct rp_wconn * c);

/**
 * rp_wkp_io_done(P, c):
 * An engine operation of ${c} has ended and its result is in the pipe:
 * pump ${c} unless it is closed.
 */
void rp_wkp_io_done(struct rp_wkp * P, struct rp_wconn * c);

/**
 * rp_wkp_close(P, c):
 * Close ${c}: take it off every list of ${P}, have the engine cancel what
 * it has in flight, and free it once nothing refers to it (rp_wkp_bury).
 */
void rp_wkp_close(struct rp_wkp * P, struct rp_wconn * c);

/**
 * rp_wkp_abort_all(P, all):
 * Fail and close every pair of ${P} now, as on a reset: all of them if
 * ${all}, else those whose owner the worker's cut filter picks (all
 * without one).
 */
void rp_wkp_abort_all(struct rp_wkp * P, int all);

/**
 * rp_wkp_run(P):
 * Run the worker loop of ${P} until the worker is stopping and no pair is
 * left: wait for the engine's events, fire held packets
 * that are due, run one crypto batch over the ready list, let the engine
 * flush, free what may be freed.  On a fatal engine error close every
 * pair and return.
 */
void rp_wkp_run(struct rp_wkp * P);

#endif /* !RP_WK_PAIRS_H_ */
