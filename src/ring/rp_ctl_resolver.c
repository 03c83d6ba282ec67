#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "rp_ctl_resolver.h"
#include "rp_log.h"

#define NS_PER_S	1000000000L

struct rp_ctl_resolver {
	const char * target;
	double rtime;

	/* mtx guards addr and stop; cv wakes the thread to stop. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct rp_addr addr;
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

/* Re-resolve the target every rtime seconds until told to stop. */
static void *
resolver_main(void * arg)
{
	struct rp_ctl_resolver * r = arg;
	struct timespec ts;
	struct rp_addr a;

	pthread_mutex_lock(&r->mtx);
	while (!r->stop) {
		ts = resolver_after(r->rtime);
		while (!r->stop &&
		    pthread_cond_timedwait(&r->cv, &r->mtx, &ts) != ETIMEDOUT)
			;
		if (r->stop)
			break;

		/* The look-up may block: not under the lock. */
		pthread_mutex_unlock(&r->mtx);
		if (rp_addr_resolve(r->target, &a, 1) > 0) {
			pthread_mutex_lock(&r->mtx);
			r->addr = a;
		} else {
			pthread_mutex_lock(&r->mtx);
		}
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
 * rp_ctl_resolver_start(target, first, rtime):
 * Remember ${first}, the address ${target} already resolved to, and if
 * ${rtime} > 0 start a thread that resolves ${target} again every ${rtime}
 * seconds (a failed look-up keeps the address it had).  ${target} must
 * outlive the resolver.  Return NULL on failure.
 */
struct rp_ctl_resolver *
rp_ctl_resolver_start(const char * target, const struct rp_addr * first,
    double rtime)
{
	struct rp_ctl_resolver * r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto err0;
	r->target = target;
	r->rtime = rtime;
	r->addr = *first;
	if (pthread_mutex_init(&r->mtx, NULL))
		goto err1;
	if (resolver_cond_init(&r->cv))
		goto err2;
	if (rtime > 0) {
		if ((errno = pthread_create(&r->thr, NULL, resolver_main,
		    r)) != 0) {
			rp_warnp("Cannot start the resolver thread");
			goto err3;
		}
		r->have_thr = 1;
	}
	return (r);

err3:
	pthread_cond_destroy(&r->cv);
err2:
	pthread_mutex_destroy(&r->mtx);
err1:
	free(r);
err0:
	return (NULL);
}

/**
 * rp_ctl_resolver_get(r, out):
 * Copy the current target address of ${r} into ${out}.
 */
void
rp_ctl_resolver_get(struct rp_ctl_resolver * r, struct rp_addr * out)
{

	pthread_mutex_lock(&r->mtx);
	*out = r->addr;
	pthread_mutex_unlock(&r->mtx);
}

/**
 * rp_ctl_resolver_stop(r):
 * Stop and join ${r}'s thread, if any, and free ${r}.  NULL is a no-op.
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
	free(r);
}
