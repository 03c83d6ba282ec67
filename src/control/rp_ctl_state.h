#ifndef RP_CTL_STATE_H_
#define RP_CTL_STATE_H_

/*
 * The control thread's state, shared by its parts: the loop and the pipes
 * (rp_ctl.c), accepting (rp_ctl_accept.c), connections in set-up
 * (rp_ctl_conn.c) and the hand-off to workers (rp_ctl_handoff.c).
 * Everything here belongs to the control thread except the atomics, which
 * workers update as pairs close, and what the loop's mutex guards.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rp_ctl.h"
#include "rp_clock.h"
#include "rp_ctl_health.h"
#include "rp_ctlstats.h"

struct ctl_conn;
struct rp_ctl_reload;
struct rp_ctl_resolver;
struct rp_ctl_resolvers;
struct rp_hspool;

/*
 * What an epoll event is about: epoll_data.u64 is a pointer (aligned to at
 * least 8) or'ed with one of these.
 */
#define RP_CTL_EV_LISTEN	1	/* The listening socket. */
#define RP_CTL_EV_SIGNAL	2	/* The signalfd (SIGTERM, SIGHUP). */
#define RP_CTL_EV_WAKE		3	/* The eventfd: compute done, closes. */
#define RP_CTL_EV_CONN_A	4	/* A connection's accepted socket. */
#define RP_CTL_EV_CONN_T	5	/* A connection's target socket. */
#define RP_CTL_EV_MASK		7

/* A change to the set of pipes, made by another thread (the reload
 * thread) and applied by the control thread in its next round. */
struct rp_ctl_change {
	struct rp_ctl * add;		/* Serve this pipe ... */
	struct rp_ctl * old;		/* ... instead of this one (which
					   hands it its listening socket), or
					   with add NULL: stop this one. */
	struct rp_ctl_change * next;
};

/* The control thread and what its pipes share. */
struct rp_ctl_loop {
	struct rp_ctl_loop_cfg cfg;
	int epfd;
	int wakefd;		/* eventfd: the compute pool, workers, changes
				   and fatal errors. */
	int sigfd;
	int started;		/* rp_ctl_loop_start set it up. */
	int stopping;		/* SIGTERM seen. */
	double tick;		/* When the next tick is due. */
	int rc;			/* How the loop ended: 0, or -1 on a fatal
				   error (read once the thread is joined). */
	struct rp_hspool * pool;
	struct rp_ctl_resolvers * resolvers;
	struct rp_ctl_reload * reload;	/* SIGHUP's work (rp_ctl_reload.c). */

	/* Workers posted to this round whose doorbell the round's end rings
	 * (rp_ctl_handoff_ring): one ring however many pairs each got. */
	unsigned char * ring_owed;	/* [cfg.nworkers] */
	int nring_owed;

	/* mtx guards pipes (the list that other threads read through
	 * rp_ctl_loop_pipes; only the control thread changes it once the
	 * loop runs) and changes. */
	pthread_mutex_t mtx;
	struct rp_ctl * pipes;		/* Served. */
	struct rp_ctl_change * changes;	/* To apply, oldest last. */
	int running;			/* Changes go through the thread. */
	struct rp_ctl * retired;	/* Draining, then waiting to be freed
					   (the control thread's alone). */

	struct rp_ctlstats stats;	/* What belongs to no pipe: reloads. */
};

/* One pipe. */
struct rp_ctl {
	struct rp_ctl_loop * loop;
	const struct rp_ctl_cfg * cfg;	/* &cfgv. */
	struct rp_ctl_cfg cfgv;		/* Its strings and bind address are
					   the pipe's own copies: */
	char * name;
	char * target;
	struct rp_addr bindv;
	struct rp_ctl * next;		/* loop->pipes or loop->retired. */
	atomic_int refs;		/* rp_ctl_loop_pipes's references. */
	int retired;			/* Removed or replaced: drains, then
					   freed. */
	double drained_at;		/* When it was seen drained (retired). */
	atomic_int cut;			/* Its drain ran out of time: workers
					   close its pairs (rp_ctl_pair_cut). */
	int draining;		/* SIGTERM or retired: accept no more. */
	double drain_since;	/* When the drain began. */
	double close_at;	/* SIGTERM with --drain-delay: the listener
				   closes then (0: no SIGTERM yet). */
	int fds_freed;		/* Descriptors were closed since the loop
				   last retried what waits for one. */

	/* Accepting (rp_ctl_accept.c). */
	int lfd;		/* Listening socket, or -1 once closed. */
	int watched;		/* lfd is in the loop's epoll set. */
	int accept_ready;	/* lfd may hold a connection not yet taken. */
	double accept_pause;	/* Take none before this time (back-off). */
	double last_warn_max;	/* When -n was last said to be reached. */
	size_t nmax_quiet;	/* Times it was reached since, unsaid. */
	double last_warn_accept;

	/* Connections in set-up (rp_ctl_conn.c). */
	struct ctl_conn * conns;	/* Live ones. */
	struct ctl_conn * dead;		/* Dropped or handed off; freed after
					   the events of this round. */
	size_t nconns;			/* Live ones. */
	size_t nneed;			/* Live ones waiting for a descriptor. */
	struct ctl_conn * timed;	/* Live ones whose dial has an attempt
					   due, soonest first ... */
	struct ctl_conn * timed_last;	/* ... to the latest. */
	double last_warn_socket;
	struct rp_ctl_resolver * resolver;

	/*
	 * Pairs carried by workers (rp_ctl_handoff.c).  A worker counts a
	 * closing pair in nclosed and down in npairs, then rings the loop's
	 * wakefd if close_wake is set: the loop sets it while it waits for a
	 * close (at -n, in an accept back-off, with connections waiting for
	 * a descriptor, or draining), then looks at nclosed again, so that no
	 * close it waits for goes unseen.  A retired pipe is freed only a
	 * grace period (RP_CTL_GRACE) after npairs was seen at 0, so that no
	 * worker still in rp_ctl_pair_closed touches freed memory.
	 */
	atomic_size_t npairs;
	atomic_size_t nclosed;
	atomic_int close_wake;
	size_t nclosed_seen;

	/* For --metrics (rp_ctl_stats): shared with the pipe it replaced
	 * and the one that replaces it, so that a changed pipe's counters
	 * go on (the control thread writes them, for both alike). */
	struct rp_ctl_sstats * sstats;

	struct rp_ctl_health health;	/* For /readyz (rp_ctl_ready). */
};

/* A pipe's counters, shared by the pipes that replace one another. */
struct rp_ctl_sstats {
	struct rp_ctlstats s;
	atomic_int refs;
};

/* Seconds a retired pipe outlives its last pair (see npairs above). */
#define RP_CTL_GRACE	1.0

/**
 * rp_ctl_now():
 * Return the CLOCK_MONOTONIC time in seconds.
 */
static inline double
rp_ctl_now(void)
{

	return (rp_clock_s());
}

/**
 * rp_ctl_ev(p, tag):
 * Return the epoll_data.u64 for ${tag} about ${p}.
 */
static inline uint64_t
rp_ctl_ev(void * p, int tag)
{

	return ((uint64_t)(uintptr_t)p | (uint64_t)tag);
}

/**
 * rp_ctl_total(ctl):
 * Return the number of connections ${ctl} counts against -n: those in
 * set-up and the pairs workers carry.
 */
static inline size_t
rp_ctl_total(struct rp_ctl * ctl)
{

	return (ctl->nconns + atomic_load(&ctl->npairs));
}

/* Seconds accepting pauses when descriptors or socket memory run out. */
#define RP_CTL_ACCEPT_BACKOFF	0.25

/**
 * rp_ctl_accept_backoff(ctl):
 * Descriptors or socket memory ran out: take no connection for a quarter
 * second, or until rp_ctl_accept_unpause.  (Here, not in rp_ctl_accept.c,
 * because both the accept and the dial side start a back-off.)
 */
static inline void
rp_ctl_accept_backoff(struct rp_ctl * ctl)
{

	ctl->accept_pause = rp_ctl_now() + RP_CTL_ACCEPT_BACKOFF;
}

/**
 * rp_ctl_accept_unpause(ctl):
 * Descriptors were freed: end ${ctl}'s back-off now.
 */
static inline void
rp_ctl_accept_unpause(struct rp_ctl * ctl)
{

	ctl->accept_pause = 0;
}

#endif /* !RP_CTL_STATE_H_ */
