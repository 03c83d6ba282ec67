#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "rp_ctl_resolver.h"
#include "rp_clock.h"
#include "rp_log.h"

#define NS_PER_S	1000000000L

/*
 * The set: the resolvers one thread serves (rp_ctl_resolvers_run).  mtx
 * guards the list and each resolver's due time and busy flag; cv wakes
 * whoever waits for a look-up to end.
 */
struct rp_ctl_resolvers {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct rp_ctl_resolver * list;
	void (* added)(void *);		/* Told of each resolver added ... */
	void * added_arg;		/* ... with this. */
};

struct rp_ctl_resolver {
	struct rp_ctl_resolvers * set;
	const char * target;
	double rtime;			/* 0: never again. */

	/* Under set->mtx. */
	struct rp_ctl_resolver * next;
	struct timespec due;		/* The next look-up. */
	int busy;			/* The thread looks it up now. */

	/* amtx guards addrs (and its reference). */
	pthread_mutex_t amtx;
	struct rp_ctl_addrs * addrs;
};

/* Whether ${a} is before ${b}. */
static int
resolver_before(const struct timespec * a, const struct timespec * b)
{

	return (a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec));
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
	pthread_mutex_lock(&r->amtx);
	old = r->addrs;
	r->addrs = l;
	pthread_mutex_unlock(&r->amtx);
	rp_ctl_resolver_put(old);
	return (n);
}

/* The resolver of ${set} whose look-up is due first, or NULL (under
 * set->mtx). */
static struct rp_ctl_resolver *
resolver_first(struct rp_ctl_resolvers * set)
{
	struct rp_ctl_resolver * r, * first = NULL;

	for (r = set->list; r != NULL; r = r->next) {
		if (r->rtime > 0 &&
		    (first == NULL || resolver_before(&r->due, &first->due)))
			first = r;
	}
	return (first);
}

/**
 * rp_ctl_resolvers_due(set, due):
 * Store in ${due} (CLOCK_MONOTONIC) when the first look-up of ${set} is
 * due and return 1, or return 0 if none ever is.
 */
int
rp_ctl_resolvers_due(struct rp_ctl_resolvers * set, struct timespec * due)
{
	struct rp_ctl_resolver * r;

	pthread_mutex_lock(&set->mtx);
	if ((r = resolver_first(set)) != NULL)
		*due = r->due;
	pthread_mutex_unlock(&set->mtx);
	return (r != NULL);
}

/**
 * rp_ctl_resolvers_run(set):
 * Look up again, on the calling thread (look-ups block), every target of
 * ${set} whose time has come.
 */
void
rp_ctl_resolvers_run(struct rp_ctl_resolvers * set)
{
	struct rp_ctl_resolver * r;
	struct timespec now;

	pthread_mutex_lock(&set->mtx);
	for (;;) {
		now = rp_clock_after(0);
		if ((r = resolver_first(set)) == NULL ||
		    resolver_before(&now, &r->due))
			break;

		/* The look-up may block: not under the lock; busy keeps r
		 * from being freed meanwhile. */
		r->busy = 1;
		pthread_mutex_unlock(&set->mtx);
		(void)resolver_refresh(r);
		pthread_mutex_lock(&set->mtx);
		r->busy = 0;
		r->due = rp_clock_after(r->rtime);
		pthread_cond_broadcast(&set->cv);
	}
	pthread_mutex_unlock(&set->mtx);
}

/**
 * rp_ctl_resolvers_new(added, arg):
 * Make an empty set of resolvers, whose look-ups the caller runs
 * (rp_ctl_resolvers_run); ${added}(${arg}) is called as each resolver is
 * added (its first look-up is due), unless NULL.  Return NULL on failure,
 * with a warning printed.
 */
struct rp_ctl_resolvers *
rp_ctl_resolvers_new(void (* added)(void *), void * arg)
{
	struct rp_ctl_resolvers * set;

	if ((set = calloc(1, sizeof(*set))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	set->added = added;
	set->added_arg = arg;
	if (pthread_mutex_init(&set->mtx, NULL))
		goto err1;
	if (pthread_cond_init(&set->cv, NULL))
		goto err2;
	return (set);

err2:
	pthread_mutex_destroy(&set->mtx);
err1:
	free(set);
err0:
	return (NULL);
}

/**
 * rp_ctl_resolvers_free(set):
 * Free ${set}, whose resolvers must all be stopped already.  NULL is a
 * no-op.
 */
void
rp_ctl_resolvers_free(struct rp_ctl_resolvers * set)
{

	if (set == NULL)
		return;
	pthread_cond_destroy(&set->cv);
	pthread_mutex_destroy(&set->mtx);
	free(set);
}

/**
 * rp_ctl_resolver_start(set, target, addrs, n, rtime):
 * Remember ${addrs}[0..${n}), the addresses ${target} already resolved to,
 * and if ${rtime} > 0 have ${set} resolve ${target} again every
 * ${rtime} seconds (a failed look-up keeps the addresses it had).
 * ${target} must outlive the resolver, and ${set} too.  Return NULL on
 * failure.
 */
struct rp_ctl_resolver *
rp_ctl_resolver_start(struct rp_ctl_resolvers * set, const char * target,
    const struct rp_addr * addrs, int n, double rtime)
{
	struct rp_ctl_resolver * r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto err0;
	r->set = set;
	r->target = target;
	r->rtime = rtime;
	if ((r->addrs = resolver_list(addrs, n)) == NULL)
		goto err1;
	if (pthread_mutex_init(&r->amtx, NULL))
		goto err2;
	pthread_mutex_lock(&set->mtx);
	r->due = rp_clock_after(rtime);
	r->next = set->list;
	set->list = r;
	pthread_mutex_unlock(&set->mtx);
	if (set->added != NULL && rtime > 0)
		set->added(set->added_arg);
	return (r);

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

	pthread_mutex_lock(&r->amtx);
	l = r->addrs;
	atomic_fetch_add(&l->refs, 1);
	pthread_mutex_unlock(&r->amtx);
	return (l);
}

/**
 * rp_ctl_resolver_refresh(r):
 * Resolve ${r}'s target again now, in the calling thread (the look-up may
 * block), and use the new addresses for the dials that begin from now on.
 * Return how many there are, or -1 if the look-up failed (the old ones
 * stay).
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
 * Take ${r} out of its set (waiting for a look-up of it under way) and
 * free it (lists still referenced live on until put).  NULL is a no-op.
 */
void
rp_ctl_resolver_stop(struct rp_ctl_resolver * r)
{
	struct rp_ctl_resolvers * set;
	struct rp_ctl_resolver ** pp;

	if (r == NULL)
		return;
	set = r->set;
	pthread_mutex_lock(&set->mtx);
	while (r->busy)
		pthread_cond_wait(&set->cv, &set->mtx);
	for (pp = &set->list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	pthread_cond_broadcast(&set->cv);
	pthread_mutex_unlock(&set->mtx);
	pthread_mutex_destroy(&r->amtx);
	rp_ctl_resolver_put(r->addrs);
	free(r);
}
