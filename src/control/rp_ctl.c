#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
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

/* The period of the tick that enforces -o and retries what waits for a
 * descriptor or the end of a back-off, in seconds. */
#define CTL_TICK	0.1

/* Events taken from epoll per round.  tests/integ/t_fault_fatal.sh tells
 * this epoll_wait from the epoll engine's (EPOLL_EVENTS) by this count. */
#define CTL_EVENTS	64

#define MS_PER_S	1000.0

/* Watch ${fd} for input, edge-triggered if ${et}, as ${tag}; 0 or -1. */
static int
ctl_watch(struct rp_ctl * ctl, int fd, int tag, int et)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (et ? EPOLLET : 0),
		.data.u64 = rp_ctl_ev(ctl, tag)
	};

	return (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev));
}

/* Close the listening socket of ${ctl}: the drain begins. */
static void
ctl_close(struct rp_ctl * ctl)
{

	rp_ctl_accept_close(ctl);
	rp_ctl_health_phase(&ctl->health, RP_CTL_HEALTH_CLOSED);
}

/*
 * SIGTERM: the pipe is not ready (/readyz) from now on, and reloads stop.
 * The listener closes --drain-delay seconds later (on the tick), so that a
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
	rp_ctl_reload_stopping(ctl->reload);
	if (delay > 0 && ctl->close_at == 0) {
		ctl->close_at = rp_ctl_now() + delay;
		rp_warn("SIGTERM: not ready from now on; the listening socket "
		    "closes in %g s (--drain-delay)", delay);
		return;
	}
	ctl_close(ctl);
}

/* The signalfd is readable: SIGTERM stops accepting (and reloading);
 * SIGHUP, unless draining, asks for a reload. */
static void
ctl_signal(struct rp_ctl * ctl)
{
	struct signalfd_siginfo si;

	while (read(ctl->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM) {
			ctl_sigterm(ctl);
		} else if (si.ssi_signo == SIGHUP && !ctl->draining) {
			rp_ctl_reload_request(ctl->reload);
		}
	}
}

/* The eventfd rang: computations came back, or pairs closed. */
static void
ctl_wake(struct rp_ctl * ctl)
{
	struct rp_hsjob * job, * next;
	uint64_t n;

	if (read(ctl->wakefd, &n, sizeof(n)) != sizeof(n)) {
		/* EAGAIN: already read; the work is collected below. */
	}
	for (job = rp_hspool_collect(ctl->pool); job != NULL; job = next) {
		next = job->next;
		rp_ctl_conn_computed(ctl, job);
	}
}

/* Dispatch the epoll event ${ev} by the tag it carries. */
static void
ctl_event(struct rp_ctl * ctl, const struct epoll_event * ev)
{
	void * ptr = (void *)(uintptr_t)(ev->data.u64 &
	    ~(uint64_t)RP_CTL_EV_MASK);
	int tag = (int)(ev->data.u64 & RP_CTL_EV_MASK);

	switch (tag) {
	case RP_CTL_EV_LISTEN:
		ctl->accept_ready = 1;
		break;
	case RP_CTL_EV_SIGNAL:
		ctl_signal(ctl);
		break;
	case RP_CTL_EV_WAKE:
		ctl_wake(ctl);
		break;
	case RP_CTL_EV_CONN_A:
	case RP_CTL_EV_CONN_T:
		rp_ctl_conn_event(ctl, ptr, tag, ev->events);
		break;
	}
}

/*
 * End a round: take in the pairs that closed (their descriptors are free:
 * end a back-off, retry connects), accept, and tell the workers whether to
 * wake this thread as pairs close.  Having set close_wake, look at nclosed
 * once more: a close counted before the worker saw the flag would
 * otherwise wait for the tick.
 */
static void
ctl_settle(struct rp_ctl * ctl)
{
	size_t closed;
	int wait;

	for (;;) {
		closed = atomic_load(&ctl->nclosed);
		if (closed != ctl->nclosed_seen) {
			ctl->nclosed_seen = closed;
			ctl->fds_freed = 1;
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
			return;
	}
}

/* How long the loop may sleep, in ms, before the tick at ${tick} or the
 * next attempt a dial has due. */
static int
ctl_timeout(struct rp_ctl * ctl, double tick)
{
	double left, due;

	if (ctl->fds_freed || rp_ctl_accept_pending(ctl))
		return (0);
	if ((due = rp_ctl_conn_due(ctl)) > 0 && due < tick)
		tick = due;
	if ((left = tick - rp_ctl_now()) <= 0)
		return (0);
	return ((int)(left * MS_PER_S) + 1);
}

/*
 * --drain-timeout: once the drain has run that long, close what the
 * workers still carry.  Repeated on every tick, so that pairs handed off
 * later (their handshakes end within -o) are closed too.
 */
static void
ctl_drain_cut(struct rp_ctl * ctl, double t)
{
	int i;

	if (!ctl->draining || ctl->cfg->drain_timeout <= 0 ||
	    t < ctl->drain_since + ctl->cfg->drain_timeout ||
	    atomic_load(&ctl->npairs) == 0)
		return;
	for (i = 0; i < ctl->cfg->nworkers; i++)
		rp_worker_abort_all(ctl->cfg->workers[i]);
}

/* Whether SIGTERM has drained every connection. */
static int
ctl_over(struct rp_ctl * ctl)
{

	return (ctl->draining && ctl->nconns == 0 &&
	    atomic_load(&ctl->npairs) == 0);
}

/*
 * One round of the loop: wait at most ${wait_ms} ms (-1: for ever) for
 * events, handle them, the timers and the end of the round.  Return how
 * long the next round may wait, in ms; -1 once SIGTERM has drained every
 * connection, -2 on a fatal error, here or in any other thread (rp_fatal
 * rings wakefd; the tick would see it in any case).
 */
static int
ctl_round(struct rp_ctl * ctl, int wait_ms)
{
	struct epoll_event evs[CTL_EVENTS];
	double t;
	int i, n;

	if ((n = epoll_wait(ctl->epfd, evs, CTL_EVENTS, wait_ms)) == -1) {
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
		ctl_event(ctl, &evs[i]);
	t = rp_ctl_now();
	rp_ctl_conn_timers(ctl, t);
	if (t >= ctl->tick) {
		rp_ctl_conn_tick(ctl, t);
		if (ctl->close_at > 0 && !ctl->draining &&
		    t >= ctl->close_at)
			ctl_close(ctl);
		ctl_drain_cut(ctl, t);
		ctl->tick = t + CTL_TICK;
	}
	ctl_settle(ctl);

	/* The pairs handed off this round: one doorbell per worker. */
	rp_ctl_handoff_ring(ctl);

	/* No event of this round is left to name a dead one. */
	rp_ctl_conn_reap(ctl);
	if (ctl_over(ctl))
		return (-1);
	return (ctl_timeout(ctl, ctl->tick));
}

/* The control thread: run rounds until the loop is over; ctl->rc says
 * how it ended. */
static void *
ctl_main(void * cookie)
{
	struct rp_ctl * ctl = cookie;
	int ms;

	/* Connections may wait already: no edge announces them, and the
	 * first round takes them without waiting. */
	ctl->accept_ready = 1;
	ctl->tick = rp_ctl_now() + CTL_TICK;
	for (ms = 0; ms >= 0; )
		ms = ctl_round(ctl, ms);
	ctl->rc = (ms == -1) ? 0 : -1;
	return (NULL);
}

/**
 * rp_ctl_new(cfg):
 * Create the control state for ${cfg} (which must outlive it; its workers
 * may be filled in later, before rp_ctl_start).  Return NULL on failure.
 */
struct rp_ctl *
rp_ctl_new(const struct rp_ctl_cfg * cfg)
{
	struct rp_ctl * ctl;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		goto err0;
	ctl->cfg = cfg;
	ctl->lfd = ctl->epfd = ctl->sigfd = -1;
	if ((ctl->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		rp_warnp("eventfd");
		goto err1;
	}
	return (ctl);

err1:
	free(ctl);
err0:
	return (NULL);
}

/* Undo what rp_ctl_start set up (every connection closed). */
static void
ctl_teardown(struct rp_ctl * ctl)
{

	/* A fatal error from now on has no loop to wake: the main thread
	 * looks at rp_fatal_raised when this returns. */
	rp_fatal_wake_fd(-1);

	/* No /readyz probe may use the resolver once it is stopped below. */
	rp_ctl_health_retire(&ctl->health);

	/* Stops the compute pool too, between dropping the connections
	 * (their queued jobs are cancelled) and freeing them. */
	rp_ctl_conn_free_all(ctl);
	close(ctl->epfd);
	close(ctl->sigfd);
	ctl->epfd = ctl->sigfd = -1;
	rp_ctl_reload_stop(ctl->reload);
	ctl->reload = NULL;
	rp_ctl_resolver_stop(ctl->resolver);
	ctl->resolver = NULL;
	if (ctl->lfd != -1)
		close(ctl->lfd);
	ctl->lfd = -1;
	free(ctl->ring_owed);
	ctl->ring_owed = NULL;
	ctl->started = 0;
}

/**
 * rp_ctl_start(ctl, lfd, taddrs, ntaddrs):
 * Set ${ctl} up to serve the listening socket ${lfd}, which it owns from
 * now on (closed on failure too), towards the already resolved target
 * addresses ${taddrs}[0..${ntaddrs}): the resolver, the reload thread,
 * the signalfd of SIGTERM and SIGHUP (both must be blocked in every
 * thread), the epoll set and the compute pool.  Return 0, or -1 with a
 * warning printed.
 */
int
rp_ctl_start(struct rp_ctl * ctl, int lfd, const struct rp_addr * taddrs,
    int ntaddrs)
{
	const struct rp_ctl_cfg * cfg = ctl->cfg;
	sigset_t ss;

	/* Linux copies these options of a listener (the keepalive timers
	 * and TCP_USER_TIMEOUT too) into each socket it accepts, which saves
	 * the system calls per connection. */
	ctl->lfd = lfd;
	rp_sock_tune(lfd, cfg->keepalive);
	if (ntaddrs < 1)
		goto err0;
	if ((ctl->ring_owed = calloc((size_t)cfg->nworkers,
	    sizeof(*ctl->ring_owed))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	ctl->nring_owed = 0;
	if ((ctl->resolver = rp_ctl_resolver_start(cfg->target, taddrs,
	    ntaddrs, cfg->rtime)) == NULL)
		goto err0;
	if ((ctl->reload = rp_ctl_reload_start(cfg->keys, ctl->resolver,
	    cfg->target, &ctl->stats, cfg->notify)) == NULL)
		goto err1;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGHUP);
	if ((ctl->sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK)) ==
	    -1) {
		rp_warnp("signalfd");
		goto err1;
	}
	if ((ctl->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		rp_warnp("epoll_create1");
		goto err2;
	}

	/* The listener edge-triggered: accept takes until EAGAIN. */
	if (ctl_watch(ctl, lfd, RP_CTL_EV_LISTEN, 1) ||
	    ctl_watch(ctl, ctl->sigfd, RP_CTL_EV_SIGNAL, 0) ||
	    ctl_watch(ctl, ctl->wakefd, RP_CTL_EV_WAKE, 0)) {
		rp_warnp("epoll_ctl");
		goto err3;
	}
	if ((ctl->pool = rp_hspool_start(cfg->nhsthreads, ctl->wakefd,
	    !cfg->nopfs)) == NULL) {
		rp_warnp("Cannot start handshake threads");
		goto err3;
	}
	ctl->started = 1;
	rp_ctl_health_phase(&ctl->health, RP_CTL_HEALTH_SERVING);

	/* A fatal error in any thread wakes the loop, which then ends. */
	rp_fatal_wake_fd(ctl->wakefd);
	return (0);

err3:
	close(ctl->epfd);
	ctl->epfd = -1;
err2:
	close(ctl->sigfd);
	ctl->sigfd = -1;
err1:
	rp_ctl_reload_stop(ctl->reload);
	ctl->reload = NULL;
	rp_ctl_resolver_stop(ctl->resolver);
	ctl->resolver = NULL;
err0:
	free(ctl->ring_owed);
	ctl->ring_owed = NULL;
	close(ctl->lfd);
	ctl->lfd = -1;
	return (-1);
}

/**
 * rp_ctl_run(ctl):
 * Serve as rp_ctl_start set ${ctl} up until SIGTERM has been received and
 * every connection has finished, then undo the set-up.  Return 0 then, or
 * -1 on a fatal error (rp_fatal, in any thread: the connections not yet
 * handed to a worker are closed; the caller must abort the workers').
 * The loop runs on a thread of its own, "rp-ctl", which submits nothing
 * to any worker's ring; this thread waits for it.
 */
int
rp_ctl_run(struct rp_ctl * ctl)
{
	pthread_t thr;
	int rc;

	if (!ctl->started)
		return (-1);
	if ((errno = pthread_create(&thr, NULL, ctl_main, ctl)) != 0) {
		rp_warnp("pthread_create");
		rc = -1;
		goto done;
	}
	/* Named for top -H, gdb and the fault tests (t_fault_fatal.sh). */
	(void)pthread_setname_np(thr, "rp-ctl");
	pthread_join(thr, NULL);
	rc = ctl->rc;
done:
	ctl_teardown(ctl);
	if (rp_fatal_raised())
		rc = -1;
	return (rc);
}

/**
 * rp_ctl_free(ctl):
 * Free ${ctl} (undoing rp_ctl_start if rp_ctl_run did not) once the
 * workers that call rp_ctl_pair_closed for it have stopped.
 */
void
rp_ctl_free(struct rp_ctl * ctl)
{

	if (ctl == NULL)
		return;
	if (ctl->started)
		ctl_teardown(ctl);
	close(ctl->wakefd);
	free(ctl);
}

/**
 * rp_ctl_stats(ctl):
 * Return the counters ${ctl}'s thread keeps (rp_ctlstats_read reads them
 * from any thread while ${ctl} lives).
 */
const struct rp_ctlstats *
rp_ctl_stats(const struct rp_ctl * ctl)
{

	return (&ctl->stats);
}
