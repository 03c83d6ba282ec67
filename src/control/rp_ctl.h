#ifndef RP_CTL_H_
#define RP_CTL_H_

/*
 * The control thread: owns the listening socket, accepts (enforcing -n),
 * connects to the target (-o, -b; Happy Eyeballs over its addresses), runs
 * handshakes (modexps on a compute pool), re-resolves the target (-r/-R),
 * hands each established pair to the least-loaded worker, and handles
 * SIGTERM (stop accepting, drain, return) and SIGHUP (reload the keys and
 * the target address, rp_ctl_reload.c).
 * It runs on epoll and non-blocking sockets whichever engine the workers
 * use, so it needs nothing of io_uring.
 *
 * Its parts: the loop (rp_ctl.c), accepting with -n and the back-off
 * (rp_ctl_accept.c), connect and handshake steps (rp_ctl_conn.c), the hand-
 * off to workers (rp_ctl_handoff.c), the resolver (rp_ctl_resolver.c); the
 * dial to the target is rp_dial.c.
 */

#include <stddef.h>
#include <stdint.h>

#include "rp_addr.h"

struct rp_ctlstats;
struct rp_keys;
struct rp_worker;

struct rp_ctl_cfg {
	int decrypt;			/* -d (else -e). */
	const char * target;		/* -t as given. */
	const struct rp_addr * bind;	/* -b, or NULL. */
	int nopfs, requirepfs;		/* -f, -g. */
	int keepalive;			/* RP_SOCK_KA_*: -j, --keepalive. */
	size_t maxconn;			/* -n; 0 = no limit. */
	double timeout;			/* -o seconds. */
	double rtime;			/* -r seconds; 0 = never (-R). */
	struct rp_keys * keys;		/* -k: the shared secrets; a reload
					   replaces them. */
	struct rp_worker ** workers;
	int nworkers;
	int nhsthreads;			/* Handshake compute threads. */
	int proxy;			/* -e --proxy-protocol: 1, 2; 0 off. */
	double drain_timeout;		/* --drain-timeout s; 0 = unbounded. */
	double drain_delay;		/* --drain-delay s: SIGTERM makes the
					   pipe not ready (/readyz) at once
					   and closes the listener this much
					   later; 0 = at once. */

	/* Tell the service manager ${state}: "RELOADING=1", "READY=1",
	 * "STOPPING=1" (from the reload thread), or NULL.  A hook, because
	 * systemd belongs to the process layer above. */
	void (* notify)(const char * state);
};

struct rp_ctl;

/**
 * rp_ctl_new(cfg):
 * Create the control state for ${cfg} (which must outlive it; its workers
 * may be filled in later, before rp_ctl_start).  Return NULL on failure.
 */
struct rp_ctl * rp_ctl_new(const struct rp_ctl_cfg * cfg);

/**
 * rp_ctl_pair_closed(cookie, failed):
 * The worker callback (rp_worker_cfg.closed) for pairs handed off by the
 * control state ${cookie}: count the pair down and, if the control thread
 * waits for a close, wake it.
 */
void rp_ctl_pair_closed(void * cookie, int failed);

/**
 * rp_ctl_start(ctl, lfd, taddrs, ntaddrs):
 * Set ${ctl} up to serve the listening socket ${lfd}, which it owns from
 * now on (closed on failure too), towards the already resolved target
 * addresses ${taddrs}[0..${ntaddrs}): the resolver, the reload thread,
 * the signalfd of SIGTERM and SIGHUP (both must be blocked in every
 * thread), the epoll set and the compute pool.  Return 0, or -1 with a
 * warning printed.
 */
int rp_ctl_start(struct rp_ctl * ctl, int lfd, const struct rp_addr * taddrs,
    int ntaddrs);

/**
 * rp_ctl_run(ctl):
 * Serve as rp_ctl_start set ${ctl} up until SIGTERM has been received and
 * every connection has finished, then undo the set-up.  Return 0 then, or
 * -1 on a fatal error (rp_fatal, in any thread: the connections not yet
 * handed to a worker are closed; the caller must abort the workers').
 */
int rp_ctl_run(struct rp_ctl * ctl);

/**
 * rp_ctl_free(ctl):
 * Free ${ctl} (undoing rp_ctl_start if rp_ctl_run did not) once the
 * workers that call rp_ctl_pair_closed for it have stopped.
 */
void rp_ctl_free(struct rp_ctl * ctl);

/**
 * rp_ctl_stats(ctl):
 * Return the counters ${ctl}'s thread keeps (rp_ctlstats_read reads them
 * from any thread while ${ctl} lives).
 */
const struct rp_ctlstats * rp_ctl_stats(const struct rp_ctl * ctl);

#endif /* !RP_CTL_H_ */
