#ifndef RP_CTL_H_
#define RP_CTL_H_

/*
 * The control thread: serves one pipe (command-line mode) or many (a
 * configuration file) on one epoll set.  For each pipe it owns the
 * listening socket, accepts (enforcing -n),
 * connects to the target (-o, -b; Happy Eyeballs over its addresses), runs
 * handshakes (modexps on a compute pool), re-resolves the target (-r/-R),
 * hands each established pair to the least-loaded worker of the one set
 * all pipes share, and handles SIGTERM (stop accepting, drain, return) and
 * SIGHUP (reload the keys and target addresses, or the configuration
 * file through a hook, on the reload thread, rp_ctl_reload.c).  Pipes are
 * added, replaced and removed while it runs; a removed pipe drains.
 * It runs on epoll and non-blocking I/O whichever engine the workers
 * use, so it needs nothing of io_uring.
 *
 * Its parts: the loop (rp_ctl.c), the pipes (rp_ctl_pipes.c), accepting
 * with -n and the back-off
 * (rp_ctl_accept.c), connect and handshake steps (rp_ctl_conn.c), the hand-
 * off to workers (rp_ctl_handoff.c), the resolver (rp_ctl_resolver.c); the
 * dial to the target is rp_dial.c.
 */

#include <stddef.h>
#include <stdint.h>

#include "rp_addr.h"

struct rp_ctlstats;
struct rp_keys;
struct rp_worker;

/* One pipe: a listening socket, a target and keys. */
struct rp_ctl_cfg {
	const char * name;		/* The [NAME] of a configuration
					   file's pipe; NULL on the command
					   line (copied). */
	int decrypt;			/* -d (else -e). */
	const char * target;		/* -t as given (copied). */
	const struct rp_addr * bind;	/* -b, or NULL (copied). */
	int nopfs, requirepfs;		/* -f, -g. */
	int keepalive;			/* RP_SOCK_KA_*: -j, --keepalive. */
	size_t maxconn;			/* -n; 0 = no limit. */
	double timeout;			/* -o seconds. */
	double rtime;			/* -r seconds; 0 = never (-R). */
	struct rp_keys * keys;		/* -k: the shared secrets; the pipe
					   owns them from rp_ctl_new on, and a
					   reload replaces them. */
	int proxy;			/* -e --proxy-protocol: 1, 2; 0 off. */
	double drain_timeout;		/* --drain-timeout s; 0 = unbounded. */
	double drain_delay;		/* --drain-delay s: SIGTERM makes the
					   pipe not ready (/readyz) at once
					   and closes the listener this much
					   later; 0 = at once. */
};

/* The control thread and what its pipes share. */
struct rp_ctl_loop_cfg {
	struct rp_worker ** workers;	/* Where pairs go (may be filled in
					   after rp_ctl_loop_new, before
					   rp_ctl_loop_start). */
	int nworkers;
	int nhsthreads;			/* Handshake compute threads. */
	int pfs;			/* Some pipe may use forward secrecy:
					   the pool keeps keys ready. */

	/*
	 * SIGHUP's work, on the reload thread: NULL reloads every pipe's keys
	 * and target address (rp_ctl_reload_pipe); else ${reload}(${arg}),
	 * which returns 0 if the reload took effect, -1 if it changed
	 * nothing.
	 */
	int (* reload)(void * arg);
	void * reload_arg;

	/* Tell the service manager ${state}: "RELOADING=1", "READY=1",
	 * "STOPPING=1" (from the reload thread), or NULL.  A hook, because
	 * systemd belongs to the process layer above. */
	void (* notify)(const char * state);
};

struct rp_ctl;
struct rp_ctl_loop;

/**
 * rp_ctl_loop_new(cfg):
 * Create the control loop for ${cfg} (copied; its workers may be filled in
 * later, before rp_ctl_loop_start, through rp_ctl_loop_workers).  Return
 * NULL on failure.
 */
struct rp_ctl_loop * rp_ctl_loop_new(const struct rp_ctl_loop_cfg * cfg);

/**
 * rp_ctl_loop_workers(loop, workers, n):
 * Tell ${loop} its ${n} workers ${workers} (which must outlive it).
 */
void rp_ctl_loop_workers(struct rp_ctl_loop * loop, struct rp_worker ** workers,
    int n);

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
struct rp_ctl * rp_ctl_new(struct rp_ctl_loop * loop,
    const struct rp_ctl_cfg * cfg, int lfd, const struct rp_addr * taddrs,
    int ntaddrs);

/**
 * rp_ctl_loop_add(loop, ctl):
 * Have ${loop} serve the pipe ${ctl}: at once before rp_ctl_loop_run, else
 * in the control thread's next round.  May be called from any thread.
 */
void rp_ctl_loop_add(struct rp_ctl_loop * loop, struct rp_ctl * ctl);

/**
 * rp_ctl_loop_remove(loop, ctl):
 * Have ${loop}'s control thread stop the pipe ${ctl}: it closes its
 * listening socket, drains (within its --drain-timeout) and is freed.
 * The caller must not use ${ctl} after this.  May be called from any
 * thread while the loop runs.
 */
void rp_ctl_loop_remove(struct rp_ctl_loop * loop, struct rp_ctl * ctl);

/**
 * rp_ctl_loop_replace(loop, old, ctl):
 * Have ${loop}'s control thread hand the listening socket of the pipe
 * ${old} to the new pipe ${ctl} (made with no socket of its own), which
 * serves new connections from then on, while ${old} drains what it
 * carries and is freed.  The caller must not use ${old} after this.  May
 * be called from any thread while the loop runs.
 */
void rp_ctl_loop_replace(struct rp_ctl_loop * loop, struct rp_ctl * old,
    struct rp_ctl * ctl);

/**
 * rp_ctl_pair_closed(cookie, end, timedout):
 * The worker callback (rp_worker_cfg.closed) for pairs handed off by the
 * pipe ${cookie}: count the pair down by how it ended (${end},
 * PROTO_PIPE_END_*; ${timedout}: by ETIMEDOUT) and, if the control thread
 * waits for a close, wake it.
 */
void rp_ctl_pair_closed(void * cookie, int end, int timedout);

/**
 * rp_ctl_pair_cut(cookie):
 * The worker abort filter (rp_worker_cfg.cut): whether the pipe ${cookie}
 * asked for its pairs to be closed at once (its drain ran out of time).
 */
int rp_ctl_pair_cut(void * cookie);

/**
 * rp_ctl_loop_start(loop):
 * Set ${loop} up to serve the pipes added so far: the reload thread, the
 * signalfd of SIGTERM and SIGHUP (both must be blocked in every thread),
 * the epoll set and the compute pool.  Return 0, or -1 with a warning
 * printed.
 */
int rp_ctl_loop_start(struct rp_ctl_loop * loop);

/**
 * rp_ctl_loop_run(loop):
 * Serve as rp_ctl_loop_start set ${loop} up until SIGTERM has been received
 * and every connection of every pipe has finished, then undo the set-up.
 * Return 0 then, or -1 on a fatal error (rp_fatal, in any thread: the
 * connections not yet handed to a worker are closed; the caller must abort
 * the workers').  The loop runs on a thread of its own, "rp-ctl", which
 * submits nothing to any worker's ring; this thread waits for it.
 */
int rp_ctl_loop_run(struct rp_ctl_loop * loop);

/**
 * rp_ctl_loop_free(loop):
 * Free ${loop} and every pipe it has (undoing rp_ctl_loop_start if
 * rp_ctl_loop_run did not) once the workers that call rp_ctl_pair_closed
 * have stopped.  NULL is a no-op.
 */
void rp_ctl_loop_free(struct rp_ctl_loop * loop);

/**
 * rp_ctl_loop_pipes(loop, n):
 * Return the pipes ${loop} serves now, each with a reference (to be given
 * back with rp_ctl_put), in an array to be freed by the caller, their
 * number stored in ${n}; NULL if there are none or out of memory.  Safe
 * from any thread.
 */
struct rp_ctl ** rp_ctl_loop_pipes(struct rp_ctl_loop * loop, int * n);

/**
 * rp_ctl_put(ctl):
 * Give back a reference from rp_ctl_loop_pipes.
 */
void rp_ctl_put(struct rp_ctl * ctl);

/**
 * rp_ctl_name(ctl):
 * Return the name of the pipe ${ctl}, or NULL (command-line mode).
 */
const char * rp_ctl_name(const struct rp_ctl * ctl);

/**
 * rp_ctl_keys(ctl):
 * Return the keys of the pipe ${ctl}.
 */
struct rp_keys * rp_ctl_keys(const struct rp_ctl * ctl);

/**
 * rp_ctl_stats(ctl):
 * Return the counters of the pipe ${ctl} (rp_ctlstats_read reads them from
 * any thread while a reference is held).
 */
const struct rp_ctlstats * rp_ctl_stats(const struct rp_ctl * ctl);

/**
 * rp_ctl_loop_stats(loop):
 * Return the counters of ${loop} that belong to no pipe (reloads).
 */
const struct rp_ctlstats * rp_ctl_loop_stats(const struct rp_ctl_loop * loop);

/**
 * rp_ctl_reload_pipe(ctl):
 * Read the key files of the pipe ${ctl} and resolve its target again, on
 * the calling thread (it may block); use both for new connections only if
 * both work, saying what happened either way.  Return 0 or -1.
 */
int rp_ctl_reload_pipe(struct rp_ctl * ctl);

#endif /* !RP_CTL_H_ */
