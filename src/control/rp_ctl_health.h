#ifndef RP_CTL_HEALTH_H_
#define RP_CTL_HEALTH_H_

/*
 * One pipe's readiness, for /readyz (--metrics).  The control thread
 * records its listener's phase and the outcome of every connect to the
 * target that a real connection's dial made; rp_ctl_ready, called from the
 * metrics server's thread, judges from those and, when they say nothing
 * recent, probes the target with a connect of its own.
 *
 * A pipe is ready when it listens, is not draining (SIGTERM), and the
 * target answered a connect within RP_CTL_HEALTH_FRESH seconds with no
 * failed connect since.  By the latest outcome O, a real dial's or a
 * probe's:
 *  - O succeeded less than RP_CTL_HEALTH_FRESH s ago: ready;
 *  - O failed less than RP_CTL_HEALTH_PROBE_EVERY s ago: not ready, and no
 *    probe (a balancer that polls fast cannot make the pipe dial its
 *    target more often than that);
 *  - otherwise (nothing yet, a stale success, an older failure): probe
 *    now, a plain connect closed at once, bounded by -o and
 *    RP_CTL_HEALTH_PROBE_TIMEOUT, and judge by its outcome.
 * So a pipe whose clients keep it busy is judged by their dials alone; an
 * idle one is probed at most once per RP_CTL_HEALTH_FRESH per poller; and
 * a pipe whose target went down (a dial failed) comes back to ready within
 * about RP_CTL_HEALTH_PROBE_EVERY of a poll after the target returns.
 *
 * Each pipe of a daemon has its own record (in its struct rp_ctl), so a
 * daemon with many pipes asks each of them.
 */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct rp_ctl;

/* How recent a successful connect must be to count, in seconds. */
#define RP_CTL_HEALTH_FRESH		30.0

/* The least time between a failed connect and a probe, in seconds. */
#define RP_CTL_HEALTH_PROBE_EVERY	1.0

/* The longest a probe waits for the target, in seconds (also at most -o):
 * it runs on the metrics server's thread. */
#define RP_CTL_HEALTH_PROBE_TIMEOUT	1.0

/* What the pipe's listener is doing. */
enum rp_ctl_health_phase {
	RP_CTL_HEALTH_STARTING = 0,	/* Not serving yet. */
	RP_CTL_HEALTH_SERVING,		/* Listening and accepting. */
	RP_CTL_HEALTH_DRAINING,		/* SIGTERM: still listening during
					   --drain-delay, but not ready. */
	RP_CTL_HEALTH_CLOSED		/* The listener is closed. */
};

/*
 * The record: atomics, written by the control thread (phase, the dials'
 * outcomes) and by a probe (outcomes), read by any thread.  Times are
 * CLOCK_MONOTONIC nanoseconds, 0 for never.  users counts the probes that
 * are using the resolver, so that the control thread's teardown waits for
 * them (rp_ctl_health_retire) before it frees the resolver.
 */
struct rp_ctl_health {
	_Atomic int phase;		/* enum rp_ctl_health_phase. */
	_Atomic int64_t ok_ns;		/* The last connect that worked. */
	_Atomic int64_t fail_ns;	/* The last connect that failed ... */
	_Atomic int fail_err;		/* ... and its errno. */
	_Atomic int users;		/* Probes under way. */
	_Atomic int retired;		/* No probe may start. */
};

/**
 * rp_ctl_health_phase(h, phase):
 * Record in ${h} that the pipe's listener is now in ${phase}.
 */
void rp_ctl_health_phase(struct rp_ctl_health * h,
    enum rp_ctl_health_phase phase);

/**
 * rp_ctl_health_target(h, err):
 * Record in ${h} that a connect to the target just succeeded (${err} 0) or
 * failed with errno ${err}.
 */
void rp_ctl_health_target(struct rp_ctl_health * h, int err);

/**
 * rp_ctl_health_retire(h):
 * The control state is being torn down: start no probe from now on, and
 * wait for those under way to finish with the resolver.
 */
void rp_ctl_health_retire(struct rp_ctl_health * h);

/**
 * rp_ctl_ready(ctl, why, len):
 * Judge whether the pipe of ${ctl} is ready (see above), probing its target
 * if what was recorded is not recent enough.  Return 1 if it is; else 0,
 * with a short reason naming what is not ready (e.g. the target as given
 * to -t and the error) in ${why} (${len} bytes, NUL-terminated).  Safe from
 * any thread while ${ctl} lives; it may block for a probe (at most -o and
 * RP_CTL_HEALTH_PROBE_TIMEOUT).
 */
int rp_ctl_ready(struct rp_ctl * ctl, char * why, size_t len);

#endif /* !RP_CTL_HEALTH_H_ */
