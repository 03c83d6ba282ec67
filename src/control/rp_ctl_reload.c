#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "crypto_wipe.h"
#include "rp_ctl_reload.h"
#include "rp_ctl_state.h"
#include "rp_ctlstats.h"
#include "rp_log.h"

struct rp_ctl_reload {
	int (* fn)(void *);
	void * arg;
	struct rp_ctlstats * stats;
	void (* notify)(const char *);
	struct rp_ctl_resolvers * resolvers;

	/* mtx guards the flags; cv (CLOCK_MONOTONIC) wakes the thread for a
	 * request, a new resolver or to stop.  The thread sends READY=1
	 * under mtx and only while stopping is unset, and
	 * rp_ctl_reload_stopping sends STOPPING=1 under mtx after setting it,
	 * so the two never come out of order. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int pending;		/* A reload was asked for. */
	int kicked;		/* A resolver was added: its due time counts. */
	int stopping;		/* SIGTERM: no more reloads. */
	int stop;		/* rp_ctl_reload_serve is to return. */
};

/* Tell the service manager ${state} through ${rl}'s hook, if any. */
static void
reload_notify(struct rp_ctl_reload * rl, const char * state)
{

	if (rl->notify != NULL)
		rl->notify(state);
}

/* Carry out one reload and count how it went. */
static void
reload_run(struct rp_ctl_reload * rl)
{

	rp_ctlstats_count(&rl->stats->reloads[rl->fn(rl->arg) ? 1 : 0]);
}

/**
 * rp_ctl_reload_pipe(ctl):
 * Read the key files of the pipe ${ctl} and resolve its target again, on
 * the calling thread (it may block); use both for new connections only if
 * both work, saying what happened either way.  Return 0 or -1.
 */
int
rp_ctl_reload_pipe(struct rp_ctl * ctl)
{
	const char * target = ctl->cfg->target;
	struct rp_keyset set;
	int n, rc = -1;

	if (rp_keys_read(ctl->cfg->keys, &set)) {
		rp_error("Reload failed (a key file): still using the keys and "
		    "target addresses in use before");
		return (-1);
	}

	/* The addresses go in at once if the look-up works: the keys cannot
	 * fail after this. */
	if ((n = rp_ctl_resolver_refresh(ctl->resolver)) < 0) {
		rp_error("Reload failed (cannot resolve %s): still using the "
		    "keys and target addresses in use before", target);
		goto done;
	}
	rp_keys_set(ctl->cfg->keys, &set);
	rp_warn("Reloaded: %zu key%s; target %s at %d address%s; live "
	    "connections keep theirs", set.n, (set.n == 1) ? "" : "s",
	    target, n, (n == 1) ? "" : "es");
	rc = 0;
done:
	crypto_wipe(&set, sizeof(set));
	return (rc);
}

/* Wait (under rl->mtx) for a request, a kick or a stop, or until the
 * first look-up of the resolvers is due. */
static void
reload_wait(struct rp_ctl_reload * rl)
{
	struct timespec due;

	if (rl->stop || (rl->pending && !rl->stopping) || rl->kicked)
		return;
	if (rp_ctl_resolvers_due(rl->resolvers, &due))
		(void)pthread_cond_timedwait(&rl->cv, &rl->mtx, &due);
	else
		pthread_cond_wait(&rl->cv, &rl->mtx);
}

/**
 * rp_ctl_reload_serve(rl):
 * On the calling thread, carry out the reloads asked of ${rl}, and the
 * look-ups of its resolvers as they fall due, until rp_ctl_reload_end.
 */
void
rp_ctl_reload_serve(struct rp_ctl_reload * rl)
{

	pthread_mutex_lock(&rl->mtx);
	while (!rl->stop) {
		reload_wait(rl);
		rl->kicked = 0;
		if (rl->stop)
			break;
		if (rl->pending && !rl->stopping) {
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
		rp_ctl_resolvers_run(rl->resolvers);
		pthread_mutex_lock(&rl->mtx);
	}
	pthread_mutex_unlock(&rl->mtx);
}

/* A resolver was added to the set of ${cookie}: its due time counts. */
static void
reload_kick(void * cookie)
{
	struct rp_ctl_reload * rl = cookie;

	pthread_mutex_lock(&rl->mtx);
	rl->kicked = 1;
	pthread_cond_signal(&rl->cv);
	pthread_mutex_unlock(&rl->mtx);
}

/* Initialize ${cv} to time out by CLOCK_MONOTONIC (the resolvers' due
 * times); 0 or -1. */
static int
reload_cond_init(pthread_cond_t * cv)
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
 * rp_ctl_reload_new(fn, arg, stats, notify):
 * Make the reloader that reloads by calling ${fn}(${arg}) on request (0:
 * the reload took effect; -1: it changed nothing), counting each outcome
 * in ${stats} and telling the service manager through ${notify}
 * (RELOADING=1, READY=1, STOPPING=1; NULL: no one), and that runs the
 * look-ups of its resolvers (rp_ctl_reload_resolvers) as they fall due;
 * rp_ctl_reload_serve runs it.  ${arg} and ${stats} must outlive it.
 * Return NULL on failure, with a warning printed.
 */
struct rp_ctl_reload *
rp_ctl_reload_new(int (* fn)(void *), void * arg,
    struct rp_ctlstats * stats, void (* notify)(const char *))
{
	struct rp_ctl_reload * rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	rl->fn = fn;
	rl->arg = arg;
	rl->stats = stats;
	rl->notify = notify;
	if ((errno = pthread_mutex_init(&rl->mtx, NULL)) != 0) {
		rp_warnp("pthread_mutex_init");
		goto err1;
	}
	if (reload_cond_init(&rl->cv)) {
		rp_warn("Cannot set up the reload thread's condition");
		goto err2;
	}
	if ((rl->resolvers = rp_ctl_resolvers_new(reload_kick, rl)) == NULL)
		goto err3;
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
 * rp_ctl_reload_resolvers(rl):
 * Return the set of resolvers whose look-ups ${rl} runs.
 */
struct rp_ctl_resolvers *
rp_ctl_reload_resolvers(struct rp_ctl_reload * rl)
{

	return (rl->resolvers);
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
 * rp_ctl_reload_end(rl):
 * Have rp_ctl_reload_serve return (after a reload under way).  May be
 * called from any thread.
 */
void
rp_ctl_reload_end(struct rp_ctl_reload * rl)
{

	pthread_mutex_lock(&rl->mtx);
	rl->stop = 1;
	pthread_cond_signal(&rl->cv);
	pthread_mutex_unlock(&rl->mtx);
}

/**
 * rp_ctl_reload_free(rl):
 * Free ${rl} (rp_ctl_reload_serve has returned, or never ran; every
 * resolver of its set is stopped).  NULL is a no-op.
 */
void
rp_ctl_reload_free(struct rp_ctl_reload * rl)
{

	if (rl == NULL)
		return;
	rp_ctl_resolvers_free(rl->resolvers);
	pthread_cond_destroy(&rl->cv);
	pthread_mutex_destroy(&rl->mtx);
	free(rl);
}
