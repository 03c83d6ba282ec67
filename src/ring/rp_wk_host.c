/*
 * A worker's host (rp_worker_host): the event source its thread serves
 * besides its pairs.  The engines watch the host's descriptor and sleep
 * no longer than its step asked; this runs the step.
 */
#include <stdint.h>

#include "rp_wk.h"

#define NS_PER_MS	1000000

/**
 * rp_wk_host_serve(w):
 * If ${w} has a host whose descriptor was readable or whose time is due,
 * run its step, then take in the pairs it handed this worker
 * (rp_wk_drain_inbox); once the step says the host is over, stop watching
 * it and call its done callback.
 */
void
rp_wk_host_serve(struct rp_worker * w)
{
	struct rp_wk_host * h = &w->host;
	int ms;

	if (h->step == NULL)
		return;
	if (!h->ready && rp_wk_clock(w) < h->due)
		return;
	h->ready = 0;
	if ((ms = h->step(h->arg)) < 0) {
		/* Unwatched before done: the host may close fd then. */
		w->ops->host_watch(w->eng, 0);
		h->step = NULL;
		h->done(h->arg);
		return;
	}
	h->due = rp_wk_clock(w) + (uint64_t)ms * NS_PER_MS;
	w->ops->host_watch(w->eng, 1);
	rp_wk_drain_inbox(w);
}

/**
 * rp_wk_due(w, t):
 * Return the earlier of the time ${t} (ns; 0 = none) and when ${w}'s host
 * is due, or 0 if neither is set: how long the engine may sleep.
 */
uint64_t
rp_wk_due(const struct rp_worker * w, uint64_t t)
{

	if (w->host.step == NULL)
		return (t);
	if (t == 0 || w->host.due < t)
		return (w->host.due == 0 ? 1 : w->host.due);
	return (t);
}
