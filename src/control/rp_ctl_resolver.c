#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "rp_ctl_resolver.h"
#include "rp_fatal.h"
#include "rp_log.h"

#define NS_PER_S	1000000000L

struct rp_ctl_resolver {
	const char * target;
	double rtime;

	/* mtx guards addrs (and its reference) and stop; cv wakes the thread
	 * to stop. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct rp_ctl_addrs * addrs;
	int stop;

	pthread_t thr;
	int have_thr;
};

/* The CLOCK_MONOTONIC time ${secs} from now. */
static struct timespec
resolver_after(double secs)
{
	struct timespec ts;
	long ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)secs;
	ns = ts.tv_nsec + (long)((secs - (double)(time_t)secs) * NS_PER_S);
	ts.tv_sec += ns / NS_PER_S;
	ts.tv_nsec = ns % NS_PER_S;
	return (ts);
}

/* A new list of the ${n} addresses ${a}, with one reference; or NULL. */
static struct rp_ctl_addrs *
resolver_list(const struct rp_addr * a, int n)
{
	struct rp_ctl_addrs * l;
	int i;

	if (n < 1 || n > RP_ADDR_MAX || (l = malloc(sizeof(*l))) == NULL)
		return (NULL);
	atomic_init(&l->refs, 1);
	l->n = n;
	for (i = 0; i < n; i++)
		l->a[i] = a[i];
	return (l);
}

/* Look ${r}'s target up again; keep what it had if that fails.  Return
 * the number of addresses, or -1. */
static int
resolver_refresh(struct rp_ctl_resolver * r)
{
	struct rp_addr a[RP_ADDR_MAX];
	struct rp_ctl_addrs * l, * old;
	int n;

	if ((n = rp_addr_resolve(r->target, a, RP_ADDR_MAX)) < 1 ||
	    (l = resolver_list(a, n)) == NULL)
		return (-1);
	pthread_mutex_lock(&r->mtx);
	old = r->addrs;
	r->addrs = l;
	pthread_mutex_unlock(&r->mtx);
	rp_ctl_resolver_put(old);
	return (n);
}

/* Re-resolve the target every rtime seconds until told to stop. */
static void *
resolver_main(void * arg)
{
	struct rp_ctl_resolver * r = arg;
	struct timespec ts;
	int rc = 0;

	pthread_mutex_lock(&r->mtx);
	while (!r->stop) {
		ts = resolver_after(r->rtime);
		while (!r->stop && (rc = pthread_cond_timedwait(&r->cv,
		    &r->mtx, &ts)) == 0)
			;
		if (r->stop)
			break;
		if (rc != ETIMEDOUT) {
			/* EINVAL: it would fail again at once, for ever (a
			 * spin); the target would never be resolved again. */
			errno = rc;
			rp_warnp("resolver: pthread_cond_timedwait");
			rp_fatal("the resolver thread");
			break;
		}

		/* The look-up may block: not under the lock. */
		pthread_mutex_unlock(&r->mtx);
		(void)resolver_refresh(r);
		pthread_mutex_lock(&r->mtx);
	}
	pthread_mutex_unlock(&r->mtx);
	return (NULL);
}

/* Initialize ${cv} to time out by CLOCK_MONOTONIC; 0 or -1. */
static int
resolver_cond_init(pthread_cond_t * cv)
{
	pthread_condattr_t cattr;
	int rc = -1;

	if (pthread_condattr_init(&cattr))
		goto err0;
	if (pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC) ||
	    pthread_cond_init(cv, &cattr))
		goto err1;
	rc = 0;

err1:
	pthread_condattr_destroy(&cattr);
err0:
	return (rc);
}

/**
 * rp_ctl_resolver_start(target, addrs, n, rtime):
 * Remember ${addrs}[0..${n}), the addresses ${target} already resolved to,
 * and if ${rtime} > 0 start a thread that resolves ${target} again every
 * ${rtime} seconds (a failed look-up keeps the addresses it had).
 * ${target} must outlive the resolver.  Return NULL on failure.
 */
struct rp_ctl_resolver *
rp_ctl_resolver_start(const char * target, const struct rp_addr * addrs,
    int n, double rtime)
{
	struct rp_ctl_resolver * r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto err0;
	r->target = target;
	r->rtime = rtime;
	if ((r->addrs = resolver_list(addrs, n)) == NULL)
		goto err1;
	if (pthread_mutex_init(&r->mtx, NULL))
		goto err2;
	if (resolver_cond_init(&r->cv))
		goto err3;
	if (rtime > 0) {
		if ((errno = pthread_create(&r->thr, NULL, resolver_main,
		    r)) != 0) {
			rp_warnp("Cannot start the resolver thread");
			goto err4;
		}
		r->have_thr = 1;
		/* Named for top -H, gdb and the fault tests. */
		(void)pthread_setname_np(r->thr, "rp-resolver");
	}
	return (r);

err4:
	pthread_cond_destroy(&r->cv);
err3:
	pthread_mutex_destroy(&r->mtx);
err2:
	rp_ctl_resolver_put(r->addrs);
err1:
	free(r);
err0:
	return (NULL);
}

/**
 * rp_ctl_resolver_get(r):
 * Return the current target addresses of ${r}, with a reference that the
 * caller gives back with rp_ctl_resolver_put.
 */
struct rp_ctl_addrs *
rp_ctl_resolver_get(struct rp_ctl_resolver * r)
{
	struct rp_ctl_addrs * l;

	pthread_mutex_lock(&r->mtx);
	l = r->addrs;
	atomic_fetch_add(&l->refs, 1);
	pthread_mutex_unlock(&r->mtx);
	return (l);
}

/**
 * rp_ctl_resolver_refresh(r):
 * Resolve ${r}'s target again now, in the calling thread (the look-up may
 * block), with or without ${r}'s own thread, and use the new addresses for
 * the dials that begin from now on.  Return how many there are, or -1 if
 * the look-up failed (the old ones stay).
 */
int
rp_ctl_resolver_refresh(struct rp_ctl_resolver * r)
{

	return (resolver_refresh(r));
}

/**
 * rp_ctl_resolver_put(addrs):
 * Give back a reference to ${addrs} from rp_ctl_resolver_get.  NULL is a
 * no-op.
 */
void
rp_ctl_resolver_put(struct rp_ctl_addrs * addrs)
{

	if (addrs != NULL && atomic_fetch_sub(&addrs->refs, 1) == 1)
		free(addrs);
}

/**
 * rp_ctl_resolver_stop(r):
 * Stop and join ${r}'s thread, if any, and free ${r} (lists still
 * referenced live on until put).  NULL is a no-op.
 */
void
rp_ctl_resolver_stop(struct rp_ctl_resolver * r)
{

	if (r == NULL)
		return;
	if (r->have_thr) {
		pthread_mutex_lock(&r->mtx);
		r->stop = 1;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mtx);
		pthread_join(r->thr, NULL);
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mtx);
	rp_ctl_resolver_put(r->addrs);
	free(r);
}
