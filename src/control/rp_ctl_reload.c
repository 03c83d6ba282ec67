#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "crypto_wipe.h"
#include "rp_ctl_reload.h"
#include "rp_ctlstats.h"
#include "rp_log.h"

struct rp_ctl_reload {
	struct rp_keys * keys;
	struct rp_ctl_resolver * resolver;
	const char * target;
	struct rp_ctlstats * stats;
	void (* notify)(const char *);

	/* mtx guards the flags; cv wakes the thread for a request or to
	 * stop.  The thread sends READY=1 under mtx and only while stopping
	 * is unset, and rp_ctl_reload_stopping sends STOPPING=1 under mtx
	 * after setting it, so the two never come out of order. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int pending;		/* A reload was asked for. */
	int stopping;		/* SIGTERM: no more reloads. */
	int stop;		/* The thread is to return. */

	pthread_t thr;
};

/* Tell the service manager ${state} through ${rl}'s hook, if any. */
static void
reload_notify(struct rp_ctl_reload * rl, const char * state)
{

	if (rl->notify != NULL)
		rl->notify(state);
}

/* Read the keys and resolve the target again; use both only if both
 * work.  Say what happened either way. */
static void
reload_run(struct rp_ctl_reload * rl)
{
	struct rp_keyset set;
	int n;

	rp_warn("SIGHUP: reloading the key files and the target address");
	if (rp_keys_read(rl->keys, &set)) {
		rp_error("Reload failed (a key file): still using the keys and "
		    "target addresses in use before");
		rp_ctlstats_count(&rl->stats->reloads[1]);
		return;
	}

	/* The addresses go in at once if the look-up works: the keys cannot
	 * fail after this. */
	if ((n = rp_ctl_resolver_refresh(rl->resolver)) < 0) {
		rp_error("Reload failed (cannot resolve %s): still using the "
		    "keys and target addresses in use before", rl->target);
		rp_ctlstats_count(&rl->stats->reloads[1]);
		goto done;
	}
	rp_keys_set(rl->keys, &set);
	rp_ctlstats_count(&rl->stats->reloads[0]);
	rp_warn("Reloaded: %zu key%s; target %s at %d address%s; live "
	    "connections keep theirs", set.n, (set.n == 1) ? "" : "s",
	    rl->target, n, (n == 1) ? "" : "es");

done:
	crypto_wipe(&set, sizeof(set));
}

/* Wait for requests and carry them out until told to stop. */
static void *
reload_main(void * arg)
{
	struct rp_ctl_reload * rl = arg;

	pthread_mutex_lock(&rl->mtx);
	for (;;) {
		while (!rl->stop && !(rl->pending && !rl->stopping))
			pthread_cond_wait(&rl->cv, &rl->mtx);
		if (rl->stop)
			break;
		rl->pending = 0;
		reload_notify(rl, "RELOADING=1");

		/* The reload may block: not under the lock. */
		pthread_mutex_unlock(&rl->mtx);
		reload_run(rl);
		pthread_mutex_lock(&rl->mtx);
		if (!rl->stopping)
			reload_notify(rl, "READY=1");
	}
	pthread_mutex_unlock(&rl->mtx);
	return (NULL);
}

/**
 * rp_ctl_reload_start(keys, resolver, target, stats, notify):
 * Start the thread that reloads ${keys} and the addresses of ${resolver},
 * whose target is ${target} (as given; for the log), on request, counting
 * each reload's outcome in ${stats} and telling the service manager
 * through ${notify} (RELOADING=1, READY=1, STOPPING=1; NULL: no one).  All
 * four must outlive it.  Return NULL on failure, with a warning printed.
 */
struct rp_ctl_reload *
rp_ctl_reload_start(struct rp_keys * keys, struct rp_ctl_resolver * resolver,
    const char * target, struct rp_ctlstats * stats,
    void (* notify)(const char *))
{
	struct rp_ctl_reload * rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	rl->keys = keys;
	rl->resolver = resolver;
	rl->target = target;
	rl->stats = stats;
	rl->notify = notify;
	if ((errno = pthread_mutex_init(&rl->mtx, NULL)) != 0) {
		rp_warnp("pthread_mutex_init");
		goto err1;
	}
	if ((errno = pthread_cond_init(&rl->cv, NULL)) != 0) {
		rp_warnp("pthread_cond_init");
		goto err2;
	}
	if ((errno = pthread_create(&rl->thr, NULL, reload_main, rl)) != 0) {
		rp_warnp("Cannot start the reload thread");
		goto err3;
	}
	/* Named for top -H, gdb and the fault tests. */
	(void)pthread_setname_np(rl->thr, "rp-reload");
	return (rl);

err3:
	pthread_cond_destroy(&rl->cv);
err2:
	pthread_mutex_destroy(&rl->mtx);
err1:
	free(rl);
err0:
	return (NULL);
}

/**
 * rp_ctl_reload_request(rl):
 * Ask ${rl} to reload (SIGHUP) and return at once.  Requests made while a
 * reload runs make one more reload after it.
 */
void
rp_ctl_reload_request(struct rp_ctl_reload * rl)
{

	pthread_mutex_lock(&rl->mtx);
	rl->pending = 1;
	pthread_cond_signal(&rl->cv);
	pthread_mutex_unlock(&rl->mtx);
}

/**
 * rp_ctl_reload_stopping(rl):
 * SIGTERM: start no reload from now on, and tell systemd STOPPING=1 (after
 * the READY=1 of a reload under way, never before).
 */
void
rp_ctl_reload_stopping(struct rp_ctl_reload * rl)
{

	pthread_mutex_lock(&rl->mtx);
	if (!rl->stopping) {
		rl->stopping = 1;
		reload_notify(rl, "STOPPING=1");
	}
	pthread_mutex_unlock(&rl->mtx);
}

/**
 * rp_ctl_reload_stop(rl):
 * Stop and join ${rl}'s thread (a reload under way finishes first) and
 * free ${rl}.  NULL is a no-op.
 */
void
rp_ctl_reload_stop(struct rp_ctl_reload * rl)
{

	if (rl == NULL)
		return;
	pthread_mutex_lock(&rl->mtx);
	rl->stop = 1;
	pthread_cond_signal(&rl->cv);
	pthread_mutex_unlock(&rl->mtx);
	pthread_join(rl->thr, NULL);
	pthread_cond_destroy(&rl->cv);
	pthread_mutex_destroy(&rl->mtx);
	free(rl);
}
