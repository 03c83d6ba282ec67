#ifndef RP_CTL_RESOLVER_H_
#define RP_CTL_RESOLVER_H_

/*
 * The control thread's view of each pipe's target address (-t), kept
 * fresh by the reload thread, which re-resolves each every -r seconds
 * between reloads (name look-ups block, so they never run on the control
 * thread).  A look-up's addresses
 * are kept together, in its order, as one immutable list that connections
 * hold a reference to while they dial (rp_dial), so that a re-resolution
 * never changes the list under a connection.
 */

#include <stdatomic.h>
#include <time.h>

#include "rp_addr.h"

/* The addresses of one look-up. */
struct rp_ctl_addrs {
	atomic_int refs;
	int n;				/* 1 to RP_ADDR_MAX. */
	struct rp_addr a[RP_ADDR_MAX];
};

struct rp_ctl_resolver;
struct rp_ctl_resolvers;

/**
 * rp_ctl_resolvers_new(added, arg):
 * Make an empty set of resolvers, whose look-ups the caller runs
 * (rp_ctl_resolvers_run); ${added}(${arg}) is called as each resolver is
 * added (its first look-up is due), unless NULL.  Return NULL on failure,
 * with a warning printed.
 */
struct rp_ctl_resolvers * rp_ctl_resolvers_new(void (* added)(void *),
    void * arg);

/**
 * rp_ctl_resolvers_due(set, due):
 * Store in ${due} (CLOCK_MONOTONIC) when the first look-up of ${set} is
 * due and return 1, or return 0 if none ever is.
 */
int rp_ctl_resolvers_due(struct rp_ctl_resolvers * set, struct timespec * due);

/**
 * rp_ctl_resolvers_run(set):
 * Look up again, on the calling thread (look-ups block), every target of
 * ${set} whose time has come.
 */
void rp_ctl_resolvers_run(struct rp_ctl_resolvers * set);

/**
 * rp_ctl_resolvers_free(set):
 * Free ${set}, whose resolvers must all be stopped already.  NULL is a
 * no-op.
 */
void rp_ctl_resolvers_free(struct rp_ctl_resolvers * set);

/**
 * rp_ctl_resolver_start(set, target, addrs, n, rtime):
 * Remember ${addrs}[0..${n}), the addresses ${target} already resolved to,
 * and if ${rtime} > 0 have ${set} resolve ${target} again every
 * ${rtime} seconds (a failed look-up keeps the addresses it had).
 * ${target} must outlive the resolver, and ${set} too.  Return NULL on
 * failure.
 */
struct rp_ctl_resolver * rp_ctl_resolver_start(struct rp_ctl_resolvers * set,
    const char * target, const struct rp_addr * addrs, int n, double rtime);

/**
 * rp_ctl_resolver_get(r):
 * Return the current target addresses of ${r}, with a reference that the
 * caller gives back with rp_ctl_resolver_put.
 */
struct rp_ctl_addrs * rp_ctl_resolver_get(struct rp_ctl_resolver * r);

/**
 * rp_ctl_resolver_refresh(r):
 * Resolve ${r}'s target again now, in the calling thread (the look-up may
 * block), with or without ${r}'s own thread, and use the new addresses for
 * the dials that begin from now on.  Return how many there are, or -1 if
 * the look-up failed (the old ones stay).
 */
int rp_ctl_resolver_refresh(struct rp_ctl_resolver * r);

/**
 * rp_ctl_resolver_put(addrs):
 * Give back a reference to ${addrs} from rp_ctl_resolver_get.  NULL is a
 * no-op.
 */
void rp_ctl_resolver_put(struct rp_ctl_addrs * addrs);

/**
 * rp_ctl_resolver_stop(r):
 * Take ${r} out of its set (waiting for a look-up of it under way) and
 * free it (lists still referenced live on until put).  NULL is a no-op.
 */
void rp_ctl_resolver_stop(struct rp_ctl_resolver * r);

#endif /* !RP_CTL_RESOLVER_H_ */
