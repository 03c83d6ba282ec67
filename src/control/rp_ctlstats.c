#include <stdatomic.h>
#include <stdint.h>

#include "proto_handshake.h"
#include "rp_ctlstats.h"

#define NS_PER_S	1e9

/*
 * Handshake durations, in seconds: a -f handshake on loopback takes tens
 * of microseconds, one with Diffie-Hellman about a millisecond of CPU per
 * side, a loaded daemon or a far peer tens to hundreds of milliseconds, and
 * -o (default 5 s) bounds them all.
 */
const double rp_ctlstats_bounds[RP_CTLSTATS_NBOUNDS] = {
	0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
	1, 2, 5, 10
};

/**
 * rp_ctlstats_count(c):
 * Add one to the counter ${c}, which only the calling thread writes.
 */
void
rp_ctlstats_count(_Atomic uint64_t * c)
{

	/*
	 * One writer: a load and a store, no locked instruction.  The store
	 * releases, so that a reader which sees a connection's outcome sees
	 * its accept too (a plain store on x86).
	 */
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + 1, memory_order_release);
}

/**
 * rp_ctlstats_hs_ok(s, secs):
 * Count in ${s} a handshake that took ${secs} seconds and whose pair went
 * to a worker.
 */
void
rp_ctlstats_hs_ok(struct rp_ctlstats * s, double secs)
{
	size_t i;

	if (secs < 0)
		secs = 0;
	for (i = 0; i < RP_CTLSTATS_NBOUNDS; i++)
		if (secs <= rp_ctlstats_bounds[i])
			break;
	rp_ctlstats_count(&s->hs_bucket[i]);
	atomic_store_explicit(&s->hs_ns, atomic_load_explicit(&s->hs_ns,
	    memory_order_relaxed) + (uint64_t)(secs * NS_PER_S + 0.5),
	    memory_order_relaxed);
}

/**
 * rp_ctlstats_hs_failed(s, why):
 * Count in ${s} a connection whose set-up failed for ${why} (RP_HSFAIL_*).
 */
void
rp_ctlstats_hs_failed(struct rp_ctlstats * s, enum rp_hsfail why)
{

	if ((unsigned)why >= RP_HSFAIL_N)
		why = RP_HSFAIL_INTERNAL;
	rp_ctlstats_count(&s->failed[why]);
}

/**
 * rp_ctlstats_hs_why(hs):
 * Return the RP_HSFAIL_* reason for the handshake ${hs} that failed in
 * rp_hsio_pump: its own failure if it has one, else the peer's closing or
 * resetting the socket (RP_HSFAIL_PEER).
 */
enum rp_hsfail
rp_ctlstats_hs_why(const struct proto_hs * hs)
{

	switch (proto_hs_failure(hs)) {
	case PROTO_HS_FAIL_NONE:
		return (RP_HSFAIL_PEER);
	case PROTO_HS_FAIL_BAD_MAC:
		return (RP_HSFAIL_BAD_MAC);
	case PROTO_HS_FAIL_BAD_Y:
		return (RP_HSFAIL_BAD_Y);
	case PROTO_HS_FAIL_NO_PFS:
		return (RP_HSFAIL_PFS);
	default:
		return (RP_HSFAIL_INTERNAL);
	}
}

/**
 * rp_ctlstats_read(s, snap):
 * Fill ${snap} with the counters of ${s} as they are now (any thread).
 */
void
rp_ctlstats_read(const struct rp_ctlstats * s,
    struct rp_ctlstats_snap * snap)
{
	size_t i;

	/* The outcomes first, then the accepts: each outcome is stored
	 * after its accept, so these acquire loads see no more outcomes
	 * than accepts (rp_ctlstats_count). */
	for (i = 0; i < RP_HSFAIL_N; i++)
		snap->failed[i] = atomic_load_explicit(&s->failed[i],
		    memory_order_acquire);
	for (i = 0; i <= RP_CTLSTATS_NBOUNDS; i++)
		snap->hs_bucket[i] = atomic_load_explicit(&s->hs_bucket[i],
		    memory_order_acquire);
	snap->hs_ns = atomic_load_explicit(&s->hs_ns, memory_order_relaxed);
	snap->accepted = atomic_load_explicit(&s->accepted,
	    memory_order_acquire);
	snap->limit_hits = atomic_load_explicit(&s->limit_hits,
	    memory_order_relaxed);
	for (i = 0; i < 2; i++)
		snap->reloads[i] = atomic_load_explicit(&s->reloads[i],
		    memory_order_relaxed);
	for (i = 0; i < PROTO_PIPE_END_N; i++)
		snap->closed[i] = atomic_load_explicit(&s->closed[i],
		    memory_order_relaxed);
	snap->timedout = atomic_load_explicit(&s->timedout,
	    memory_order_relaxed);
}
