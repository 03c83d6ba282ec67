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
#include "rp_ctl_pipes.h"
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
				rp_ctl_pipe_sigterm(ctl);
		} else if (si.ssi_signo == SIGHUP && !loop->stopping) {
			rp_ctl_reload_request(loop->reload);
		}
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
	rp_ctl_pipes_apply(loop);
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

/* The pipe of ${loop} after ${ctl} (NULL: the first): the served ones,
 * then the retired ones; NULL after the last. */
static struct rp_ctl *
ctl_next(struct rp_ctl_loop * loop, struct rp_ctl * ctl)
{

	if (ctl == NULL)
		return (loop->pipes != NULL ? loop->pipes : loop->retired);
	if (ctl->next != NULL || ctl->retired)
		return (ctl->next);
	return (loop->retired);
}

/* Whether SIGTERM has drained every connection of every pipe. */
static int
ctl_over(struct rp_ctl_loop * loop)
{
	struct rp_ctl * ctl;

	if (!loop->stopping)
		return (0);
	for (ctl = ctl_next(loop, NULL); ctl != NULL; ctl = ctl_next(loop, ctl))
		if (!rp_ctl_pipe_drained(ctl))
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
		rp_ctl_pipe_close(ctl);
	ctl_drain_cut(ctl, t);
}

/* Run ${fn} on every pipe of ${loop}, served and retired, with ${t}. */
static void
ctl_each(struct rp_ctl_loop * loop, void (* fn)(struct rp_ctl *, double),
    double t)
{
	struct rp_ctl * ctl;

	for (ctl = ctl_next(loop, NULL); ctl != NULL; ctl = ctl_next(loop, ctl))
		fn(ctl, t);
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
	struct rp_ctl * ctl, * first = ctl_next(loop, NULL);
	int freed = 0, i;

	/* A second pass only if there are two pipes or more to share. */
	for (i = 0; i < 2; i++) {
		for (ctl = first; ctl != NULL; ctl = ctl_next(loop, ctl))
			if (ctl_settle(ctl, freed))
				freed = 1;
		if (!freed || first == NULL || ctl_next(loop, first) == NULL)
			break;
	}
}

/* How long the next round may wait, in ms. */
static int
ctl_timeout(struct rp_ctl_loop * loop)
{
	struct rp_ctl * ctl;
	double until = loop->tick, left;

	for (ctl = ctl_next(loop, NULL); ctl != NULL; ctl = ctl_next(loop, ctl))
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
		rp_ctl_pipes_apply(loop);
		ctl_each(loop, ctl_tick, t);
		rp_ctl_pipes_reap(loop, t);
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

	/* The thread that serves reloads returns to wait for this one. */
	rp_ctl_reload_end(loop->reload);
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
	if ((loop->reload = rp_ctl_reload_new(
	    cfg->reload ? cfg->reload : ctl_reload_pipes,
	    cfg->reload ? cfg->reload_arg : loop, &loop->stats,
	    cfg->notify)) == NULL)
		goto err3;
	loop->resolvers = rp_ctl_reload_resolvers(loop->reload);
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
	for (ctl = ctl_next(loop, NULL); ctl != NULL; ctl = ctl_next(loop, ctl))
		rp_ctl_conn_free_all(ctl);
	if (loop->pool != NULL)
		rp_hspool_stop(loop->pool);
	loop->pool = NULL;
	close(loop->epfd);
	close(loop->sigfd);
	loop->epfd = loop->sigfd = -1;
	free(loop->ring_owed);
	loop->ring_owed = NULL;
	loop->started = 0;
}

/**
 * rp_ctl_loop_start(loop):
 * Set ${loop} up to serve the pipes added so far: the signalfd of SIGTERM
 * and SIGHUP (both must be blocked in every thread),
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
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGHUP);
	if ((loop->sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK)) ==
	    -1) {
		rp_warnp("signalfd");
		goto err0;
	}
	if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		rp_warnp("epoll_create1");
		goto err2;
	}
	if (rp_ctl_watch(loop, loop->sigfd, loop, RP_CTL_EV_SIGNAL, 0) ||
	    rp_ctl_watch(loop, loop->wakefd, loop, RP_CTL_EV_WAKE, 0)) {
		rp_warnp("epoll_ctl");
		goto err3;
	}
	if ((loop->pool = rp_hspool_start(cfg->nhsthreads, loop->wakefd,
	    cfg->pfs)) == NULL) {
		rp_warnp("Cannot start handshake threads");
		goto err3;
	}
	for (ctl = loop->pipes; ctl != NULL; ctl = ctl->next) {
		rp_ctl_pipe_listen(ctl);
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
 * submits nothing to any worker's ring; this thread meanwhile carries out
 * the reloads and the targets' look-ups (rp_ctl_reload_serve), which may
 * block.
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
	rp_ctl_reload_serve(loop->reload);
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
			rp_ctl_pipe_free(ch->add);
		free(ch);
	}
	while ((ctl = loop->pipes) != NULL) {
		loop->pipes = ctl->next;
		rp_ctl_pipe_free(ctl);
	}
	while ((ctl = loop->retired) != NULL) {
		loop->retired = ctl->next;
		rp_ctl_pipe_free(ctl);
	}
	rp_ctl_reload_free(loop->reload);
	close(loop->wakefd);
	pthread_mutex_destroy(&loop->mtx);
	free(loop);
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
