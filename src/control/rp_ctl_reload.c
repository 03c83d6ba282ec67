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
 * rp_ctl_reload_start(fn, arg, stats, notify):
 * Start the thread that reloads by calling ${fn}(${arg}) on request (0:
 * the reload took effect; -1: it changed nothing), counting each outcome
 * in ${stats} and telling the service manager through ${notify}
 * (RELOADING=1, READY=1, STOPPING=1; NULL: no one).  ${arg} and ${stats}
 * must outlive it.  Return NULL on failure, with a warning printed.
 */
struct rp_ctl_reload *
rp_ctl_reload_start(int (* fn)(void *), void * arg,
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
