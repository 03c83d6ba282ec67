#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "rp_ctl.h"
#include "rp_ctl_accept.h"
#include "rp_ctl_health.h"
#include "rp_ctl_pipes.h"
#include "rp_ctl_resolver.h"
#include "rp_ctl_state.h"
#include "rp_keys.h"
#include "rp_log.h"
#include "rp_sock.h"

/**
 * rp_ctl_watch(loop, fd, p, tag, et):
 * Watch ${fd} for input in ${loop}'s epoll set, edge-triggered if ${et},
 * as ${tag} about ${p}.  Return 0 or -1.
 */
int
rp_ctl_watch(struct rp_ctl_loop * loop, int fd, void * p, int tag, int et)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (et ? EPOLLET : 0),
		.data.u64 = rp_ctl_ev(p, tag)
	};

	return (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev));
}

/**
 * rp_ctl_pipe_listen(ctl):
 * Watch the listening socket of ${ctl}, edge-triggered (accept takes
 * until EAGAIN), and take what may wait already (no edge announces it).
 */
void
rp_ctl_pipe_listen(struct rp_ctl * ctl)
{

	if (ctl->lfd == -1 || ctl->watched)
		return;
	if (rp_ctl_watch(ctl->loop, ctl->lfd, ctl, RP_CTL_EV_LISTEN, 1)) {
		rp_warnp("epoll_ctl");
		return;
	}
	ctl->watched = 1;
	ctl->accept_ready = 1;
}

/**
 * rp_ctl_pipe_close(ctl):
 * Close the listening socket of ${ctl}: its drain begins.
 */
void
rp_ctl_pipe_close(struct rp_ctl * ctl)
{

	rp_ctl_accept_close(ctl);
	ctl->watched = 0;
	rp_ctl_health_phase(&ctl->health, RP_CTL_HEALTH_CLOSED);
}

/**
 * rp_ctl_pipe_sigterm(ctl):
 * SIGTERM: the pipe ${ctl} is not ready (/readyz) from now on.  Its
 * listener closes --drain-delay seconds later (on the tick), so that a
 * balancer polling /readyz stops sending before connections are refused;
 * at once without a delay, or on a second SIGTERM during it.
 */
void
rp_ctl_pipe_sigterm(struct rp_ctl * ctl)
{
	double delay = ctl->cfg->drain_delay;

	if (ctl->draining)
		return;
	rp_ctl_health_phase(&ctl->health, RP_CTL_HEALTH_DRAINING);
	if (delay > 0 && ctl->close_at == 0) {
		ctl->close_at = rp_ctl_now() + delay;
		rp_warn("SIGTERM: not ready from now on; the listening socket "
		    "closes in %g s (--drain-delay)", delay);
		return;
	}
	rp_ctl_pipe_close(ctl);
}

/* Give back ${ctl}'s reference to its counters. */
static void
ctl_stats_put(struct rp_ctl * ctl)
{

	if (atomic_fetch_sub(&ctl->sstats->refs, 1) == 1)
		free(ctl->sstats);
}

/* Put ${ctl} on ${loop}'s list of pipes (under its mutex, for readers). */
static void
ctl_link(struct rp_ctl_loop * loop, struct rp_ctl * ctl)
{
	struct rp_ctl ** pp;

	pthread_mutex_lock(&loop->mtx);
	for (pp = &loop->pipes; *pp != NULL; pp = &(*pp)->next)
		;
	ctl->next = NULL;
	*pp = ctl;
	pthread_mutex_unlock(&loop->mtx);
}

/* Take ${ctl} off ${loop}'s list of pipes and onto the retired list: it
 * accepts no more, drains, and is freed (rp_ctl_pipes_reap). */
static void
ctl_retire(struct rp_ctl_loop * loop, struct rp_ctl * ctl)
{
	struct rp_ctl ** pp;

	pthread_mutex_lock(&loop->mtx);
	for (pp = &loop->pipes; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ctl) {
			*pp = ctl->next;
			break;
		}
	}
	pthread_mutex_unlock(&loop->mtx);
	ctl->retired = 1;
	ctl->next = loop->retired;
	loop->retired = ctl;
	if (!ctl->draining)
		rp_ctl_pipe_close(ctl);
}

/* Start serving ${ctl}. */
static void
ctl_serve(struct rp_ctl_loop * loop, struct rp_ctl * ctl)
{

	ctl_link(loop, ctl);
	rp_ctl_health_phase(&ctl->health, RP_CTL_HEALTH_SERVING);
	rp_ctl_pipe_listen(ctl);
	if (loop->stopping)
		rp_ctl_pipe_sigterm(ctl);
}

/* Hand the listening socket and the counters of ${old} to ${ctl}, serve
 * ${ctl} from now on, and retire ${old}. */
static void
ctl_replace(struct rp_ctl_loop * loop, struct rp_ctl * old,
    struct rp_ctl * ctl)
{

	if (old->watched &&
	    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, old->lfd, NULL))
		rp_warnp("epoll_ctl");
	old->watched = 0;
	ctl->lfd = old->lfd;
	old->lfd = -1;

	/* The counters go on where old's left off. */
	atomic_fetch_add(&old->sstats->refs, 1);
	ctl_stats_put(ctl);
	ctl->sstats = old->sstats;
	ctl_serve(loop, ctl);
	ctl_retire(loop, old);
}

/**
 * rp_ctl_pipes_apply(loop):
 * Apply the changes other threads queued for ${loop} (pipes added,
 * replaced, removed), oldest first.
 */
void
rp_ctl_pipes_apply(struct rp_ctl_loop * loop)
{
	struct rp_ctl_change * list, * ch, * rev = NULL;

	pthread_mutex_lock(&loop->mtx);
	list = loop->changes;
	loop->changes = NULL;
	pthread_mutex_unlock(&loop->mtx);
	for (; list != NULL; list = ch) {
		ch = list->next;
		list->next = rev;
		rev = list;
	}
	for (; rev != NULL; rev = ch) {
		ch = rev->next;
		if (rev->add != NULL && rev->old != NULL)
			ctl_replace(loop, rev->old, rev->add);
		else if (rev->add != NULL)
			ctl_serve(loop, rev->add);
		else
			ctl_retire(loop, rev->old);
		free(rev);
	}
}

/**
 * rp_ctl_pipe_drained(ctl):
 * Return whether ${ctl} drains and has no connection left.
 */
int
rp_ctl_pipe_drained(struct rp_ctl * ctl)
{

	return (ctl->draining && ctl->nconns == 0 && ctl->dead == NULL &&
	    atomic_load(&ctl->npairs) == 0);
}

/**
 * rp_ctl_pipe_free(ctl):
 * Free the pipe ${ctl}, which has no connection left (drained, or freed
 * by the loop's teardown).
 */
void
rp_ctl_pipe_free(struct rp_ctl * ctl)
{

	/* No /readyz probe may use the resolver once it is stopped below. */
	rp_ctl_health_retire(&ctl->health);
	rp_ctl_resolver_stop(ctl->resolver);
	if (ctl->lfd != -1)
		close(ctl->lfd);
	rp_keys_free(ctl->cfgv.keys);
	ctl_stats_put(ctl);
	free(ctl->name);
	free(ctl->target);
	free(ctl);
}

/**
 * rp_ctl_pipes_reap(loop, t):
 * Free the retired pipes of ${loop} that drained RP_CTL_GRACE before ${t}
 * (now) and that no reader holds.
 */
void
rp_ctl_pipes_reap(struct rp_ctl_loop * loop, double t)
{
	struct rp_ctl ** pp, * ctl;

	for (pp = &loop->retired; (ctl = *pp) != NULL; ) {
		if (!rp_ctl_pipe_drained(ctl)) {
			pp = &ctl->next;
			continue;
		}
		if (ctl->drained_at == 0)
			ctl->drained_at = t;
		if (t < ctl->drained_at + RP_CTL_GRACE ||
		    atomic_load(&ctl->refs) > 0) {
			pp = &ctl->next;
			continue;
		}
		*pp = ctl->next;
		rp_ctl_pipe_free(ctl);
	}
}

/**
 * rp_ctl_new(loop, cfg, lfd, taddrs, ntaddrs):
 * Create a pipe of ${loop} as ${cfg} says (copied; its keys are the pipe's
 * from now on, freed on failure too), serving the listening socket ${lfd}
 * (owned from now on, closed on failure; -1 for one that will take over
 * the socket of the pipe it replaces, rp_ctl_loop_replace) towards the
 * already resolved addresses ${taddrs}[0..${ntaddrs}).  It serves once
 * added to the loop (rp_ctl_loop_add).  Return NULL with a warning printed
 * on failure.
 */
struct rp_ctl *
rp_ctl_new(struct rp_ctl_loop * loop, const struct rp_ctl_cfg * cfg, int lfd,
    const struct rp_addr * taddrs, int ntaddrs)
{
	struct rp_ctl * ctl;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	ctl->loop = loop;
	if ((ctl->sstats = calloc(1, sizeof(*ctl->sstats))) == NULL) {
		rp_warnp("calloc");
		goto err1;
	}
	atomic_init(&ctl->sstats->refs, 1);
	ctl->cfgv = *cfg;
	ctl->cfg = &ctl->cfgv;
	ctl->lfd = lfd;
	if ((cfg->name != NULL && (ctl->name = strdup(cfg->name)) == NULL) ||
	    (ctl->target = strdup(cfg->target)) == NULL) {
		rp_warnp("strdup");
		goto err1;
	}
	ctl->cfgv.name = ctl->name;
	ctl->cfgv.target = ctl->target;
	if (cfg->bind != NULL) {
		ctl->bindv = *cfg->bind;
		ctl->cfgv.bind = &ctl->bindv;
	}

	/* Linux copies these options of a listener (the keepalive timers
	 * and TCP_USER_TIMEOUT too) into each socket it accepts, which saves
	 * the system calls per connection. */
	if (lfd != -1)
		rp_sock_tune(lfd, cfg->keepalive);
	if (ntaddrs < 1)
		goto err1;
	if ((ctl->resolver = rp_ctl_resolver_start(loop->resolvers,
	    ctl->target, taddrs, ntaddrs, cfg->rtime)) == NULL) {
		rp_warnp("Cannot keep the target addresses");
		goto err1;
	}
	return (ctl);

err1:
	free(ctl->sstats);
	free(ctl->name);
	free(ctl->target);
	free(ctl);
err0:
	rp_keys_free(cfg->keys);
	if (lfd != -1)
		close(lfd);
	return (NULL);
}

/* Queue the change of ${add} for ${old} (either may be NULL) for ${loop}'s
 * control thread, and wake it. */
static void
ctl_queue(struct rp_ctl_loop * loop, struct rp_ctl * add, struct rp_ctl * old)
{
	struct rp_ctl_change * ch;
	uint64_t one = 1;

	/* A change that cannot be queued is lost: the pipe stays as it was
	 * (a new one never serves, an old one never stops); say so. */
	if ((ch = malloc(sizeof(*ch))) == NULL) {
		rp_error("Out of memory: a change of pipes was dropped");
		return;
	}
	ch->add = add;
	ch->old = old;
	pthread_mutex_lock(&loop->mtx);
	ch->next = loop->changes;
	loop->changes = ch;
	pthread_mutex_unlock(&loop->mtx);
	if (write(loop->wakefd, &one, sizeof(one)) != sizeof(one)) {
		/* Full only after 2^64 - 2 wakes: cannot happen. */
	}
}

/**
 * rp_ctl_loop_add(loop, ctl):
 * Have ${loop} serve the pipe ${ctl}: at once before rp_ctl_loop_run, else
 * in the control thread's next round.  May be called from any thread.
 */
void
rp_ctl_loop_add(struct rp_ctl_loop * loop, struct rp_ctl * ctl)
{
	int running;

	pthread_mutex_lock(&loop->mtx);
	running = loop->running;
	pthread_mutex_unlock(&loop->mtx);
	if (running)
		ctl_queue(loop, ctl, NULL);
	else
		ctl_link(loop, ctl);
}

/**
 * rp_ctl_loop_remove(loop, ctl):
 * Have ${loop}'s control thread stop the pipe ${ctl}: it closes its
 * listening socket, drains (within its --drain-timeout) and is freed.
 * The caller must not use ${ctl} after this.  May be called from any
 * thread while the loop runs.
 */
void
rp_ctl_loop_remove(struct rp_ctl_loop * loop, struct rp_ctl * ctl)
{

	ctl_queue(loop, NULL, ctl);
}

/**
 * rp_ctl_loop_replace(loop, old, ctl):
 * Have ${loop}'s control thread hand the listening socket of the pipe
 * ${old} to the new pipe ${ctl} (made with no socket of its own), which
 * serves new connections from then on, while ${old} drains what it
 * carries and is freed.  The caller must not use ${old} after this.  May
 * be called from any thread while the loop runs.
 */
void
rp_ctl_loop_replace(struct rp_ctl_loop * loop, struct rp_ctl * old,
    struct rp_ctl * ctl)
{

	ctl_queue(loop, ctl, old);
}

/**
 * rp_ctl_loop_pipes(loop, n):
 * Return the pipes ${loop} serves now, each with a reference (to be given
 * back with rp_ctl_put), in an array to be freed by the caller, their
 * number stored in ${n}; NULL if there are none or out of memory.  Safe
 * from any thread.
 */
struct rp_ctl **
rp_ctl_loop_pipes(struct rp_ctl_loop * loop, int * n)
{
	struct rp_ctl ** v = NULL, * ctl;
	int i = 0;

	pthread_mutex_lock(&loop->mtx);
	for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next)
		i++;
	if (i > 0 && (v = calloc((size_t)i, sizeof(*v))) != NULL) {
		i = 0;
		for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next) {
			atomic_fetch_add(&ctl->refs, 1);
			v[i++] = ctl;
		}
	}
	pthread_mutex_unlock(&loop->mtx);
	*n = (v != NULL) ? i : 0;
	return (v);
}

/**
 * rp_ctl_put(ctl):
 * Give back a reference from rp_ctl_loop_pipes.
 */
void
rp_ctl_put(struct rp_ctl * ctl)
{

	atomic_fetch_sub(&ctl->refs, 1);
}

/**
 * rp_ctl_name(ctl):
 * Return the name of the pipe ${ctl}, or NULL (command-line mode).
 */
const char *
rp_ctl_name(const struct rp_ctl * ctl)
{

	return (ctl->name);
}

/**
 * rp_ctl_keys(ctl):
 * Return the keys of the pipe ${ctl}.
 */
struct rp_keys *
rp_ctl_keys(const struct rp_ctl * ctl)
{

	return (ctl->cfgv.keys);
}

/**
 * rp_ctl_stats(ctl):
 * Return the counters of the pipe ${ctl} (rp_ctlstats_read reads them from
 * any thread while a reference is held).
 */
const struct rp_ctlstats *
rp_ctl_stats(const struct rp_ctl * ctl)
{

	return (&ctl->sstats->s);
}

