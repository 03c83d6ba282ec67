#ifndef RP_CTL_RESOLVER_H_
#define RP_CTL_RESOLVER_H_

/*
 * The control thread's view of the target address (-t), kept fresh by a
 * thread of its own that re-resolves it every -r seconds (name look-ups
 * block, so they never run on the control thread).  Connections go to the
 * first address a look-up returned.
 */

#include "rp_addr.h"

struct rp_ctl_resolver;

/**
 * rp_ctl_resolver_start(target, first, rtime):
 * Remember ${first}, the address ${target} already resolved to, and if
 * ${rtime} > 0 start a thread that resolves ${target} again every ${rtime}
 * seconds (a failed look-up keeps the address it had).  ${target} must
 * outlive the resolver.  Return NULL on failure.
 */
struct rp_ctl_resolver * rp_ctl_resolver_start(const char * target,
    const struct rp_addr * first, double rtime);

/**
 * rp_ctl_resolver_get(r, out):
 * Copy the current target address of ${r} into ${out}.
 */
void rp_ctl_resolver_get(struct rp_ctl_resolver * r, struct rp_addr * out);

/**
 * rp_ctl_resolver_stop(r):
 * Stop and join ${r}'s thread, if any, and free ${r}.  NULL is a no-op.
 */
void rp_ctl_resolver_stop(struct rp_ctl_resolver * r);

#endif /* !RP_CTL_RESOLVER_H_ */
