#ifndef RP_CTLSTATS_H_
#define RP_CTLSTATS_H_

/*
 * The control thread's counters, for --metrics: connections accepted and
 * the times -n was reached, handshakes that succeeded (with a histogram of
 * how long they took) and set-ups that failed, by reason; and reloads, by
 * outcome.  Each counter has one writing thread, the control thread's or
 * (reloads) the reload thread's (a load and a store, no locked
 * instruction);
 * any thread may read them (rp_ctlstats_read), each counter atomically, the
 * set not as one.  What the workers carry is counted by the workers
 * (rp_worker_counts).
 */

#include <stdatomic.h>
#include <stdint.h>

#include "proto_pipe.h"

struct proto_hs;

/* Why a connection's set-up failed (before its pair reached a worker). */
enum rp_hsfail {
	RP_HSFAIL_TIMEOUT = 0,	/* -o passed while connecting or in the
				   handshake. */
	RP_HSFAIL_BAD_MAC,	/* The peer's y had a bad MAC (another key). */
	RP_HSFAIL_BAD_Y,	/* The peer's y was out of range. */
	RP_HSFAIL_PFS,		/* The peer used -f and -g is set. */
	RP_HSFAIL_CONNECT,	/* The target could not be connected to. */
	RP_HSFAIL_PEER,		/* The peer closed or reset mid-handshake. */
	RP_HSFAIL_INTERNAL,	/* Out of memory, or a computation failed. */
	RP_HSFAIL_N
};

/* The upper bounds of the handshake duration buckets, in seconds; the
 * last bucket (+Inf) follows them. */
#define RP_CTLSTATS_NBOUNDS	14
extern const double rp_ctlstats_bounds[RP_CTLSTATS_NBOUNDS];

struct rp_ctlstats {
	_Atomic uint64_t accepted;	/* Connections accepted. */
	_Atomic uint64_t limit_hits;	/* Accepts that reached -n. */
	_Atomic uint64_t failed[RP_HSFAIL_N];	/* Set-ups failed, by why. */

	/* Handshakes done and handed to a worker: how many took at most
	 * each bound (not cumulative; [NBOUNDS]: longer), and the sum of
	 * their durations in nanoseconds. */
	_Atomic uint64_t hs_bucket[RP_CTLSTATS_NBOUNDS + 1];
	_Atomic uint64_t hs_ns;

	/* Pairs closed on a worker, by how they ended (PROTO_PIPE_END_*), and
	 * of those, how many by ETIMEDOUT: the workers write these. */
	_Atomic uint64_t closed[PROTO_PIPE_END_N];
	_Atomic uint64_t timedout;

	/* Reloads (SIGHUP) that took effect [0] and that failed [1]: the
	 * reload thread is their only writer. */
	_Atomic uint64_t reloads[2];
};

/* A snapshot of a struct rp_ctlstats (rp_ctlstats_read). */
struct rp_ctlstats_snap {
	uint64_t accepted;
	uint64_t limit_hits;
	uint64_t failed[RP_HSFAIL_N];
	uint64_t hs_bucket[RP_CTLSTATS_NBOUNDS + 1];	/* Not cumulative. */
	uint64_t hs_ns;
	uint64_t closed[PROTO_PIPE_END_N];	/* On a worker, by end. */
	uint64_t timedout;
	uint64_t reloads[2];		/* Took effect, failed. */
};

/**
 * rp_ctlstats_count(c):
 * Add one to the counter ${c}, which only the calling thread writes.
 */
void rp_ctlstats_count(_Atomic uint64_t * c);

/**
 * rp_ctlstats_hs_ok(s, secs):
 * Count in ${s} a handshake that took ${secs} seconds and whose pair went
 * to a worker.
 */
void rp_ctlstats_hs_ok(struct rp_ctlstats * s, double secs);

/**
 * rp_ctlstats_hs_failed(s, why):
 * Count in ${s} a connection whose set-up failed for ${why} (RP_HSFAIL_*).
 */
void rp_ctlstats_hs_failed(struct rp_ctlstats * s, enum rp_hsfail why);

/**
 * rp_ctlstats_hs_why(hs):
 * Return the RP_HSFAIL_* reason for the handshake ${hs} that failed in
 * rp_hsio_pump: its own failure if it has one, else the peer's closing or
 * resetting the socket (RP_HSFAIL_PEER).
 */
enum rp_hsfail rp_ctlstats_hs_why(const struct proto_hs * hs);

/**
 * rp_ctlstats_read(s, snap):
 * Fill ${snap} with the counters of ${s} as they are now (any thread).
 */
void rp_ctlstats_read(const struct rp_ctlstats * s,
    struct rp_ctlstats_snap * snap);

#endif /* !RP_CTLSTATS_H_ */
