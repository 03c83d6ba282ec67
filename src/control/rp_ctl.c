#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "rp_ctl.h"
#include "rp_ctl_accept.h"
#include "rp_ctl_conn.h"
#include "rp_ctl_handoff.h"
#include "rp_ctl_health.h"
#include "rp_ctl_reload.h"
#include "rp_ctl_resolver.h"
#include "rp_ctl_state.h"
#include "rp_fatal.h"
#include "rp_worker.h"
#include "rp_hspool.h"
#include "rp_log.h"
#include "rp_sock.h"
#include "rp_keys.h"

/* The period of the tick that enforces -o and retries what waits for a
 * descriptor or the end of a back-off, in seconds. */
#define CTL_TICK	0.1

/* Events taken from epoll per round.  tests/integ/t_fault_fatal.sh tells
 * this epoll_wait from the epoll engine's (EPOLL_EVENTS) by this count. */
#define CTL_EVENTS	64

#define MS_PER_S	1000.0

/* Watch ${fd} for input in ${loop}'s set, edge-triggered if ${et}, as
 * ${tag} about ${p}; 0 or -1. */
static int
ctl_watch(struct rp_ctl_loop * loop, int fd, void * p, int tag, int et)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (et ? EPOLLET : 0),
		.data.u64 = rp_ctl_ev(p, tag)
	};

	return (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev));
}

/* Watch the listening socket of ${ctl}, edge-triggered (accept takes
 * until EAGAIN), and take what may wait already (no edge announces it). */
static void
ctl_watch_listener(struct rp_ctl * ctl)
{

	if (ctl->lfd == -1 || ctl->watched)
		return;
	if (ctl_watch(ctl->loop, ctl->lfd, ctl, RP_CTL_EV_LISTEN, 1)) {
		rp_warnp("epoll_ctl");
		return;
	}
	ctl->watched = 1;
	ctl->accept_ready = 1;
}

/* Close the listening socket of ${ctl}: the drain begins. */
static void
ctl_close(struct rp_ctl * ctl)
{

	rp_ctl_accept_close(ctl);
	ctl->watched = 0;
	rp_ctl_health_phase(&ctl->health, RP_CTL_HEALTH_CLOSED);
}

/*
 * SIGTERM: the pipe ${ctl} is not ready (/readyz) from now on.  Its
 * listener closes --drain-delay seconds later (on the tick), so that a
 * balancer polling /readyz stops sending before connections are refused;
 * at once without a delay, or on a second SIGTERM during it.
 */
static void
ctl_sigterm(struct rp_ctl * ctl)
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
	ctl_close(ctl);
}

/* The signalfd is readable: SIGTERM stops accepting (and reloading);
 * SIGHUP, unless stopping, asks for a reload. */
static void
ctl_signal(struct rp_ctl_loop * loop)
{
	struct signalfd_siginfo si;
	struct rp_ctl * ctl;

	while (read(loop->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM) {
			if (!loop->stopping)
				rp_ctl_reload_stopping(loop->reload);
			loop->stopping = 1;
			for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next)
				ctl_sigterm(ctl);
		} else if (si.ssi_signo == SIGHUP && !loop->stopping) {
			rp_ctl_reload_request(loop->reload);
		}
	}
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
 * accepts no more, drains, and is freed (ctl_reap_retired). */
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
		ctl_close(ctl);
}

/* Hand the listening socket of ${old} to ${ctl}, which serves from now on
 * (in its place on the list), and retire ${old}. */
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
	if (atomic_fetch_sub(&ctl->sstats->refs, 1) == 1)
		free(ctl->sstats);
	ctl->sstats = old->sstats;
	ctl->stats = &ctl->sstats->s;
	ctl_link(loop, ctl);
	ctl_retire(loop, old);
	if (loop->stopping)
		ctl_sigterm(ctl);
	else
		rp_ctl_health_phase(&ctl->health, RP_CTL_HEALTH_SERVING);
	ctl_watch_listener(ctl);
}

/* Start serving ${ctl}. */
static void
ctl_serve(struct rp_ctl_loop * loop, struct rp_ctl * ctl)
{

	ctl_link(loop, ctl);
	rp_ctl_health_phase(&ctl->health, RP_CTL_HEALTH_SERVING);
	ctl_watch_listener(ctl);
	if (loop->stopping)
		ctl_sigterm(ctl);
}

/* Apply the changes other threads queued for ${loop}, oldest first. */
static void
ctl_changes(struct rp_ctl_loop * loop)
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

/* The eventfd rang: computations came back, pairs closed, or changes
 * were queued. */
static void
ctl_wake(struct rp_ctl_loop * loop)
{
	struct rp_hsjob * job, * next;
	uint64_t n;

	if (read(loop->wakefd, &n, sizeof(n)) != sizeof(n)) {
		/* EAGAIN: already read; the work is collected below. */
	}
	for (job = rp_hspool_collect(loop->pool); job != NULL; job = next) {
		next = job->next;
		rp_ctl_conn_computed(job);
	}
	ctl_changes(loop);
}

/* Dispatch the epoll event ${ev} by the tag it carries. */
static void
ctl_event(struct rp_ctl_loop * loop, const struct epoll_event * ev)
{
	void * ptr = (void *)(uintptr_t)(ev->data.u64 &
	    ~(uint64_t)RP_CTL_EV_MASK);
	int tag = (int)(ev->data.u64 & RP_CTL_EV_MASK);

	switch (tag) {
	case RP_CTL_EV_LISTEN:
		((struct rp_ctl *)ptr)->accept_ready = 1;
		break;
	case RP_CTL_EV_SIGNAL:
		ctl_signal(loop);
		break;
	case RP_CTL_EV_WAKE:
		ctl_wake(loop);
		break;
	case RP_CTL_EV_CONN_A:
	case RP_CTL_EV_CONN_T:
		rp_ctl_conn_event(ptr, tag, ev->events);
		break;
	}
}

/*
 * End a round for ${ctl}: take in the pairs that closed (their descriptors
 * are free: end a back-off, retry connects), accept, and tell the workers
 * whether to wake this thread as pairs close.  Having set close_wake, look
 * at nclosed once more: a close counted before the worker saw the flag
 * would otherwise wait for the tick.  ${freed}: another pipe freed
 * descriptors this round.  Return whether this one did.
 */
static int
ctl_settle(struct rp_ctl * ctl, int freed)
{
	size_t closed;
	int wait, did = 0;

	if (freed)
		ctl->fds_freed = 1;
	for (;;) {
		closed = atomic_load(&ctl->nclosed);
		if (closed != ctl->nclosed_seen) {
			ctl->nclosed_seen = closed;
			ctl->fds_freed = 1;
			did = 1;
		}
		if (ctl->fds_freed) {
			ctl->fds_freed = 0;
			rp_ctl_accept_unpause(ctl);
			rp_ctl_conn_retry(ctl);
		}
		rp_ctl_accept_run(ctl);
		wait = ctl->draining || ctl->nneed > 0 ||
		    rp_ctl_accept_blocked(ctl);
		atomic_store(&ctl->close_wake, wait);
		if (!wait || atomic_load(&ctl->nclosed) == ctl->nclosed_seen)
			return (did);
	}
}

/* How long the loop may sleep, in ms, before the tick at ${tick} or the
 * next attempt a dial of ${ctl} has due. */
static double
ctl_due(struct rp_ctl * ctl, double tick)
{
	double due;

	if (ctl->fds_freed || rp_ctl_accept_pending(ctl))
		return (0);
	if ((due = rp_ctl_conn_due(ctl)) > 0 && due < tick)
		tick = due;
	return (tick);
}

/*
 * --drain-timeout: once the drain of ${ctl} has run that long, have the
 * workers close what they still carry of it.  Repeated on every tick, so
 * that pairs handed off later (their handshakes end within -o) are closed
 * too.
 */
static void
ctl_drain_cut(struct rp_ctl * ctl, double t)
{
	int i;

	if (!ctl->draining || ctl->cfg->drain_timeout <= 0 ||
	    t < ctl->drain_since + ctl->cfg->drain_timeout ||
	    atomic_load(&ctl->npairs) == 0)
		return;
	atomic_store(&ctl->cut, 1);
	for (i = 0; i < ctl->loop->cfg.nworkers; i++)
		rp_worker_abort_all(ctl->loop->cfg.workers[i]);
}

/* Whether ${ctl} has drained every connection. */
static int
ctl_drained(struct rp_ctl * ctl)
{

	return (ctl->draining && ctl->nconns == 0 && ctl->dead == NULL &&
	    atomic_load(&ctl->npairs) == 0);
}

/* Free the pipe ${ctl}, which has no connection left (drained, or freed
 * by ctl_teardown). */
static void
ctl_free(struct rp_ctl * ctl)
{

	/* No /readyz probe may use the resolver once it is stopped below. */
	rp_ctl_health_retire(&ctl->health);
	rp_ctl_resolver_stop(ctl->resolver);
	if (ctl->lfd != -1)
		close(ctl->lfd);
	rp_keys_free(ctl->cfgv.keys);
	if (atomic_fetch_sub(&ctl->sstats->refs, 1) == 1)
		free(ctl->sstats);
	free(ctl->name);
	free(ctl->target);
	free(ctl);
}

/* Free the retired pipes of ${loop} that drained a grace period ago and
 * that no reader holds (${t}: now). */
static void
ctl_reap_retired(struct rp_ctl_loop * loop, double t)
{
	struct rp_ctl ** pp, * ctl;

	for (pp = &loop->retired; (ctl = *pp) != NULL; ) {
		if (!ctl_drained(ctl)) {
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
		ctl_free(ctl);
	}
}

/* Whether SIGTERM has drained every connection of every pipe. */
static int
ctl_over(struct rp_ctl_loop * loop)
{
	struct rp_ctl * ctl;

	if (!loop->stopping)
		return (0);
	for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next)
		if (!ctl_drained(ctl))
			return (0);
	for (ctl = loop->retired; ctl != NULL; ctl = ctl->next)
		if (!ctl_drained(ctl))
			return (0);
	return (1);
}

/* The tick of ${ctl} at ${t}: -o deadlines, the --drain-delay close, the
 * --drain-timeout cut. */
static void
ctl_tick(struct rp_ctl * ctl, double t)
{

	rp_ctl_conn_tick(ctl, t);
	if (ctl->close_at > 0 && !ctl->draining && t >= ctl->close_at)
		ctl_close(ctl);
	ctl_drain_cut(ctl, t);
}

/* Run ${fn} on every pipe of ${loop}, served and retired, with ${t}. */
static void
ctl_each(struct rp_ctl_loop * loop, void (* fn)(struct rp_ctl *, double),
    double t)
{
	struct rp_ctl * ctl, * next;

	for (ctl = loop->pipes; ctl != NULL; ctl = next) {
		next = ctl->next;
		fn(ctl, t);
	}
	for (ctl = loop->retired; ctl != NULL; ctl = next) {
		next = ctl->next;
		fn(ctl, t);
	}
}

/* ctl_each's form of rp_ctl_conn_timers. */
static void
ctl_timers(struct rp_ctl * ctl, double t)
{

	rp_ctl_conn_timers(ctl, t);
}

/* ctl_each's form of rp_ctl_conn_reap. */
static void
ctl_reap(struct rp_ctl * ctl, double t)
{

	(void)t;
	rp_ctl_conn_reap(ctl);
}

/* Settle every pipe of ${loop} (ctl_settle), again while one frees
 * descriptors that an earlier one could use. */
static void
ctl_settle_all(struct rp_ctl_loop * loop)
{
	struct rp_ctl * ctl;
	int freed = 0, again, i;

	for (i = 0; i < 2; i++) {
		again = 0;
		for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next)
			if (ctl_settle(ctl, freed))
				again = freed = 1;
		for (ctl = loop->retired; ctl != NULL; ctl = ctl->next)
			if (ctl_settle(ctl, freed))
				again = freed = 1;
		if (!again || (loop->pipes != NULL &&
		    loop->pipes->next == NULL && loop->retired == NULL))
			break;
	}
}

/* How long the next round may wait, in ms. */
static int
ctl_timeout(struct rp_ctl_loop * loop)
{
	struct rp_ctl * ctl;
	double until = loop->tick, left;

	for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next)
		if ((until = ctl_due(ctl, until)) == 0)
			return (0);
	for (ctl = loop->retired; ctl != NULL; ctl = ctl->next)
		if ((until = ctl_due(ctl, until)) == 0)
			return (0);
	if ((left = until - rp_ctl_now()) <= 0)
		return (0);
	return ((int)(left * MS_PER_S) + 1);
}

/*
 * One round of the loop: wait at most ${wait_ms} ms (-1: for ever) for
 * events, handle them, the timers and the end of the round.  Return how
 * long the next round may wait, in ms; -1 once SIGTERM has drained every
 * connection, -2 on a fatal error, here or in any other thread (rp_fatal
 * rings wakefd; the tick would see it in any case).
 */
static int
ctl_round(struct rp_ctl_loop * loop, int wait_ms)
{
	struct epoll_event evs[CTL_EVENTS];
	double t;
	int i, n;

	if ((n = epoll_wait(loop->epfd, evs, CTL_EVENTS, wait_ms)) == -1) {
		if (errno != EINTR) {
			/* EBADF, EFAULT, EINVAL: the set is unusable. */
			rp_warnp("epoll_wait");
			rp_fatal("the control thread");
			return (-2);
		}
		n = 0;
	}
	if (rp_fatal_raised())
		return (-2);
	for (i = 0; i < n; i++)
		ctl_event(loop, &evs[i]);
	t = rp_ctl_now();
	ctl_each(loop, ctl_timers, t);
	if (t >= loop->tick) {
		ctl_changes(loop);
		ctl_each(loop, ctl_tick, t);
		ctl_reap_retired(loop, t);
		loop->tick = t + CTL_TICK;
	}
	ctl_settle_all(loop);

	/* The pairs handed off this round: one doorbell per worker. */
	rp_ctl_handoff_ring(loop);

	/* No event of this round is left to name a dead one. */
	ctl_each(loop, ctl_reap, t);
	if (ctl_over(loop))
		return (-1);
	return (ctl_timeout(loop));
}

/* The control thread: run rounds until the loop is over; loop->rc says
 * how it ended. */
static void *
ctl_main(void * cookie)
{
	struct rp_ctl_loop * loop = cookie;
	int ms;

	loop->tick = rp_ctl_now() + CTL_TICK;
	for (ms = 0; ms >= 0; )
		ms = ctl_round(loop, ms);
	loop->rc = (ms == -1) ? 0 : -1;
	return (NULL);
}

/* SIGHUP on the command line: reload every pipe's keys and target. */
static int
ctl_reload_pipes(void * arg)
{
	struct rp_ctl_loop * loop = arg;
	struct rp_ctl ** pipes;
	int i, n, rc = 0;

	rp_warn("SIGHUP: reloading the key files and the target address");
	if ((pipes = rp_ctl_loop_pipes(loop, &n)) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		if (rp_ctl_reload_pipe(pipes[i]))
			rc = -1;
		rp_ctl_put(pipes[i]);
	}
	free(pipes);
	return (rc);
}

/**
 * rp_ctl_loop_new(cfg):
 * Create the control loop for ${cfg} (copied; its workers may be filled in
 * later, before rp_ctl_loop_start, through rp_ctl_loop_workers).  Return
 * NULL on failure.
 */
struct rp_ctl_loop *
rp_ctl_loop_new(const struct rp_ctl_loop_cfg * cfg)
{
	struct rp_ctl_loop * loop;

	if ((loop = calloc(1, sizeof(*loop))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	loop->cfg = *cfg;
	loop->epfd = loop->sigfd = -1;
	if ((errno = pthread_mutex_init(&loop->mtx, NULL)) != 0) {
		rp_warnp("pthread_mutex_init");
		goto err1;
	}
	if ((loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		rp_warnp("eventfd");
		goto err2;
	}
	if ((loop->resolvers = rp_ctl_resolvers_start()) == NULL)
		goto err3;
	return (loop);

err3:
	close(loop->wakefd);
err2:
	pthread_mutex_destroy(&loop->mtx);
err1:
	free(loop);
err0:
	return (NULL);
}

/**
 * rp_ctl_loop_workers(loop, workers, n):
 * Tell ${loop} its ${n} workers ${workers} (which must outlive it).
 */
void
rp_ctl_loop_workers(struct rp_ctl_loop * loop, struct rp_worker ** workers,
    int n)
{

	loop->cfg.workers = workers;
	loop->cfg.nworkers = n;
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
	ctl->stats = &ctl->sstats->s;
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

/* Undo what rp_ctl_loop_start set up (every connection closed). */
static void
ctl_teardown(struct rp_ctl_loop * loop)
{
	struct rp_ctl * ctl;

	/* A fatal error from now on has no loop to wake: the main thread
	 * looks at rp_fatal_raised when this returns. */
	rp_fatal_wake_fd(-1);

	/* No /readyz probe may use a resolver once it is stopped. */
	for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next)
		rp_ctl_health_retire(&ctl->health);

	/* The compute pool stops between dropping the connections (their
	 * queued jobs are cancelled) and freeing them. */
	for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next)
		rp_ctl_conn_free_all(ctl);
	for (ctl = loop->retired; ctl != NULL; ctl = ctl->next)
		rp_ctl_conn_free_all(ctl);
	if (loop->pool != NULL)
		rp_hspool_stop(loop->pool);
	loop->pool = NULL;
	close(loop->epfd);
	close(loop->sigfd);
	loop->epfd = loop->sigfd = -1;
	rp_ctl_reload_stop(loop->reload);
	loop->reload = NULL;
	free(loop->ring_owed);
	loop->ring_owed = NULL;
	loop->started = 0;
}

/**
 * rp_ctl_loop_start(loop):
 * Set ${loop} up to serve the pipes added so far: the reload thread, the
 * signalfd of SIGTERM and SIGHUP (both must be blocked in every thread),
 * the epoll set and the compute pool.  Return 0, or -1 with a warning
 * printed.
 */
int
rp_ctl_loop_start(struct rp_ctl_loop * loop)
{
	const struct rp_ctl_loop_cfg * cfg = &loop->cfg;
	struct rp_ctl * ctl;
	sigset_t ss;

	if ((loop->ring_owed = calloc((size_t)cfg->nworkers,
	    sizeof(*loop->ring_owed))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	loop->nring_owed = 0;
	if ((loop->reload = rp_ctl_reload_start(
	    cfg->reload ? cfg->reload : ctl_reload_pipes,
	    cfg->reload ? cfg->reload_arg : loop, &loop->stats,
	    cfg->notify)) == NULL)
		goto err0;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGHUP);
	if ((loop->sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK)) ==
	    -1) {
		rp_warnp("signalfd");
		goto err1;
	}
	if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		rp_warnp("epoll_create1");
		goto err2;
	}
	if (ctl_watch(loop, loop->sigfd, loop, RP_CTL_EV_SIGNAL, 0) ||
	    ctl_watch(loop, loop->wakefd, loop, RP_CTL_EV_WAKE, 0)) {
		rp_warnp("epoll_ctl");
		goto err3;
	}
	if ((loop->pool = rp_hspool_start(cfg->nhsthreads, loop->wakefd,
	    cfg->pfs)) == NULL) {
		rp_warnp("Cannot start handshake threads");
		goto err3;
	}
	for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next) {
		ctl_watch_listener(ctl);
		rp_ctl_health_phase(&ctl->health, RP_CTL_HEALTH_SERVING);
	}
	loop->started = 1;

	/* A fatal error in any thread wakes the loop, which then ends. */
	rp_fatal_wake_fd(loop->wakefd);
	return (0);

err3:
	close(loop->epfd);
	loop->epfd = -1;
err2:
	close(loop->sigfd);
	loop->sigfd = -1;
err1:
	rp_ctl_reload_stop(loop->reload);
	loop->reload = NULL;
err0:
	free(loop->ring_owed);
	loop->ring_owed = NULL;
	return (-1);
}

/**
 * rp_ctl_loop_run(loop):
 * Serve as rp_ctl_loop_start set ${loop} up until SIGTERM has been received
 * and every connection of every pipe has finished, then undo the set-up.
 * Return 0 then, or -1 on a fatal error (rp_fatal, in any thread: the
 * connections not yet handed to a worker are closed; the caller must abort
 * the workers').  The loop runs on a thread of its own, "rp-ctl", which
 * submits nothing to any worker's ring; this thread waits for it.
 */
int
rp_ctl_loop_run(struct rp_ctl_loop * loop)
{
	pthread_t thr;
	int rc;

	if (!loop->started)
		return (-1);
	pthread_mutex_lock(&loop->mtx);
	loop->running = 1;
	pthread_mutex_unlock(&loop->mtx);
	if ((errno = pthread_create(&thr, NULL, ctl_main, loop)) != 0) {
		rp_warnp("pthread_create");
		rc = -1;
		goto done;
	}
	/* Named for top -H, gdb and the fault tests (t_fault_fatal.sh). */
	(void)pthread_setname_np(thr, "rp-ctl");
	pthread_join(thr, NULL);
	rc = loop->rc;
done:
	ctl_teardown(loop);
	if (rp_fatal_raised())
		rc = -1;
	return (rc);
}

/**
 * rp_ctl_loop_free(loop):
 * Free ${loop} and every pipe it has (undoing rp_ctl_loop_start if
 * rp_ctl_loop_run did not) once the workers that call rp_ctl_pair_closed
 * have stopped.  NULL is a no-op.
 */
void
rp_ctl_loop_free(struct rp_ctl_loop * loop)
{
	struct rp_ctl_change * ch;
	struct rp_ctl * ctl;

	if (loop == NULL)
		return;
	if (loop->started)
		ctl_teardown(loop);

	/* Changes never applied: their new pipes were never served. */
	while ((ch = loop->changes) != NULL) {
		loop->changes = ch->next;
		if (ch->add != NULL)
			ctl_free(ch->add);
		free(ch);
	}
	while ((ctl = loop->pipes) != NULL) {
		loop->pipes = ctl->next;
		ctl_free(ctl);
	}
	while ((ctl = loop->retired) != NULL) {
		loop->retired = ctl->next;
		ctl_free(ctl);
	}
	rp_ctl_resolvers_stop(loop->resolvers);
	close(loop->wakefd);
	pthread_mutex_destroy(&loop->mtx);
	free(loop);
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

	return (ctl->stats);
}

/**
 * rp_ctl_loop_stats(loop):
 * Return the counters of ${loop} that belong to no pipe (reloads).
 */
const struct rp_ctlstats *
rp_ctl_loop_stats(const struct rp_ctl_loop * loop)
{

	return (&loop->stats);
}
