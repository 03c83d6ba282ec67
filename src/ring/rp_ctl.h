#ifndef RP_CTL_H_
#define RP_CTL_H_

/*
 * The control thread: owns the listening socket, accepts (enforcing -n),
 * connects to the target (-o, -b), runs handshakes (modexps on a compute
 * pool), re-resolves the target (-r/-R), hands each established pair to the
 * least-loaded worker, and handles SIGTERM (stop accepting, drain, return).
 * It runs on epoll and non-blocking sockets whichever engine the workers
 * use, so it needs nothing of io_uring.
 *
 * Its parts: the loop (rp_ctl.c), accepting with -n and the back-off
 * (rp_ctl_accept.c), connect and handshake steps (rp_ctl_conn.c), the hand-
 * off to workers (rp_ctl_handoff.c), the resolver (rp_ctl_resolver.c).
 */

#include <stddef.h>
#include <stdint.h>

#include "rp_addr.h"

struct rp_worker;

struct rp_ctl_cfg {
	int decrypt;			/* -d (else -e). */
	const char * target;		/* -t as given. */
	const struct rp_addr * bind;	/* -b, or NULL. */
	int nopfs, requirepfs;		/* -f, -g. */
	int nokeepalive;		/* -j. */
	size_t maxconn;			/* -n; 0 = no limit. */
	double timeout;			/* -o seconds. */
	double rtime;			/* -r seconds; 0 = never (-R). */
	const uint8_t * K;		/* 32-byte shared secret. */
	struct rp_worker ** workers;
	int nworkers;
	int nhsthreads;			/* Handshake compute threads. */
	int proxy;			/* -e --proxy-protocol: 1, 2; 0 off. */
	double drain_timeout;		/* --drain-timeout s; 0 = unbounded. */
};

struct rp_ctl;

/**
 * rp_ctl_new(cfg):
 * Create the control state for ${cfg} (which must outlive it; its workers
 * may be filled in later, before rp_ctl_run).  Return NULL on failure.
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
 * rp_ctl_run(ctl, lfd, taddrs, ntaddrs):
 * Serve the listening socket ${lfd} towards the already resolved target
 * addresses ${taddrs}[0..${ntaddrs}) according to ${ctl}'s configuration,
 * until SIGTERM (which must be blocked in every thread) has been received
 * and every connection has finished.  Return 0 then, or -1 on a fatal
 * error.
 */
int rp_ctl_run(struct rp_ctl * ctl, int lfd, const struct rp_addr * taddrs,
    int ntaddrs);

/**
 * rp_ctl_free(ctl):
 * Free ${ctl} once rp_ctl_run has returned (or was never called) and the
 * workers that call rp_ctl_pair_closed for it have stopped.
 */
void rp_ctl_free(struct rp_ctl * ctl);

#endif /* !RP_CTL_H_ */
