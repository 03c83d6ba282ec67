#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rp_ctl_health.h"
#include "rp_clock.h"
#include "rp_ctl_resolver.h"
#include "rp_ctl_state.h"
#include "rp_hsio.h"
#include "rp_sock.h"

#define NS_PER_S	1000000000LL

/* The CLOCK_MONOTONIC time in nanoseconds (never 0: 0 means never). */
static int64_t
health_now(void)
{

	return ((int64_t)rp_clock_ns());
}

/* Set ${t} to ${v} unless it holds a later time already: a dial on the
 * control thread and a probe on another may record out of order. */
static void
health_store_max(_Atomic int64_t * t, int64_t v)
{
	int64_t old = atomic_load(t);

	while (old < v && !atomic_compare_exchange_weak(t, &old, v))
		continue;
}

/**
 * rp_ctl_health_phase(h, phase):
 * Record in ${h} that the pipe's listener is now in ${phase}.
 */
void
rp_ctl_health_phase(struct rp_ctl_health * h, enum rp_ctl_health_phase phase)
{

	atomic_store(&h->phase, (int)phase);
}

/**
 * rp_ctl_health_target(h, err):
 * Record in ${h} that a connect to the target just succeeded (${err} 0) or
 * failed with errno ${err}.
 */
void
rp_ctl_health_target(struct rp_ctl_health * h, int err)
{

	if (err == 0) {
		health_store_max(&h->ok_ns, health_now());
		return;
	}

	/* The errno first: a reader that sees the new time sees it too (or
	 * a later failure's). */
	atomic_store(&h->fail_err, err);
	health_store_max(&h->fail_ns, health_now());
}

/**
 * rp_ctl_health_retire(h):
 * The control state is being torn down: start no probe from now on, and
 * wait for those under way to finish with the resolver.
 */
void
rp_ctl_health_retire(struct rp_ctl_health * h)
{

	/*
	 * Sequentially consistent on both sides: a probe raises users, then
	 * reads retired; this sets retired, then reads users.  So either the
	 * probe sees retired (and leaves the resolver alone) or this sees
	 * the probe (and waits: it holds the resolver for a moment only).
	 */
	atomic_store(&h->retired, 1);
	while (atomic_load(&h->users) > 0)
		sched_yield();
}

/*
 * Probe the target of ${ctl}: connect to its current addresses (Happy
 * Eyeballs, from -b if given) within -o and RP_CTL_HEALTH_PROBE_TIMEOUT,
 * close at once, and record the outcome.  Nothing if the control state is
 * being torn down.
 */
static void
health_probe(struct rp_ctl * ctl)
{
	struct rp_ctl_health * h = &ctl->health;
	struct rp_ctl_addrs * addrs;
	double timeout = ctl->cfg->timeout;
	int fd;

	/* The resolver lives while users is raised and retired unset. */
	atomic_fetch_add(&h->users, 1);
	if (atomic_load(&h->retired)) {
		atomic_fetch_sub(&h->users, 1);
		return;
	}
	addrs = rp_ctl_resolver_get(ctl->resolver);
	atomic_fetch_sub(&h->users, 1);

	/* The list holds its own reference past the resolver's end. */
	if (timeout <= 0 || timeout > RP_CTL_HEALTH_PROBE_TIMEOUT)
		timeout = RP_CTL_HEALTH_PROBE_TIMEOUT;
	if ((fd = rp_hsio_dial(addrs->a, addrs->n, ctl->cfg->bind,
	    RP_SOCK_KA_OFF, timeout)) == -1) {
		rp_ctl_health_target(h, errno ? errno : ETIMEDOUT);
	} else {
		close(fd);
		rp_ctl_health_target(h, 0);
	}
	rp_ctl_resolver_put(addrs);
}

/* Whether the outcomes recorded in ${h} say the target is ready at ${now}:
 * 1 yes, 0 no, -1 too old to say. */
static int
health_judge(struct rp_ctl_health * h, int64_t now)
{
	int64_t ok = atomic_load(&h->ok_ns), fail = atomic_load(&h->fail_ns);

	if (ok > fail)
		return ((now - ok) < (int64_t)(RP_CTL_HEALTH_FRESH * NS_PER_S) ?
		    1 : -1);
	if (fail != 0)
		return ((now - fail) <
		    (int64_t)(RP_CTL_HEALTH_PROBE_EVERY * NS_PER_S) ? 0 : -1);
	return (-1);
}

/**
 * rp_ctl_ready(ctl, why, len):
 * Judge whether the pipe of ${ctl} is ready (see rp_ctl_health.h),
 * probing its target if what was recorded is not recent enough.  Return 1
 * if it is; else 0, with a short reason naming what is not ready (e.g. the
 * target as given to -t and the error) in ${why} (${len} bytes,
 * NUL-terminated).  Safe from any thread while ${ctl} lives; it may block
 * for a probe (at most -o and RP_CTL_HEALTH_PROBE_TIMEOUT).
 */
int
rp_ctl_ready(struct rp_ctl * ctl, char * why, size_t len)
{
	struct rp_ctl_health * h = &ctl->health;
	int64_t now = health_now(), fail;
	int r;

	switch (atomic_load(&h->phase)) {
	case RP_CTL_HEALTH_SERVING:
		break;
	case RP_CTL_HEALTH_DRAINING:
		snprintf(why, len, "draining (SIGTERM): the listening socket "
		    "closes soon");
		return (0);
	case RP_CTL_HEALTH_CLOSED:
		snprintf(why, len, "draining (SIGTERM): the listening socket "
		    "is closed");
		return (0);
	default:
		snprintf(why, len, "not listening yet");
		return (0);
	}
	if ((r = health_judge(h, now)) == -1) {
		health_probe(ctl);
		now = health_now();
		r = health_judge(h, now);
	}
	if (r == 1) {
		snprintf(why, len, "ok");
		return (1);
	}
	if ((fail = atomic_load(&h->fail_ns)) == 0) {
		/* Torn down before a probe could run. */
		snprintf(why, len, "target %s: not checked", ctl->cfg->target);
		return (0);
	}
	snprintf(why, len, "target %s: connect failed %.1f s ago: %s",
	    ctl->cfg->target, (double)(now - fail) / NS_PER_S,
	    strerror(atomic_load(&h->fail_err)));
	return (0);
}
