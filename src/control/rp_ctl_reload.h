#ifndef RP_CTL_RELOAD_H_
#define RP_CTL_RELOAD_H_

/*
 * Reloading on SIGHUP, on the thread that started the control loop (key
 * files are read and targets looked up, which may block, never on the
 * control thread); between reloads that thread also re-resolves each
 * pipe's target every -r seconds (rp_ctl_resolver.h).  On
 * the command line, for each pipe (rp_ctl_reload_pipe): read every -k
 * file again and resolve -t again, and only if both succeed use the new
 * keys and addresses for the connections that begin from then on;
 * connections already set up or carried keep what they have.  With a
 * configuration file, a hook of the process layer re-reads it.  A
 * reload that fails changes nothing and says why.  systemd is told
 * RELOADING=1 before and READY=1 after each reload, and STOPPING=1 on
 * SIGTERM, in that order: no READY=1 ever follows STOPPING=1.
 */

#include "rp_ctl_resolver.h"
#include "rp_keys.h"

struct rp_ctl_reload;
struct rp_ctlstats;

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
struct rp_ctl_reload * rp_ctl_reload_new(int (* fn)(void *), void * arg,
    struct rp_ctlstats * stats, void (* notify)(const char *));

/**
 * rp_ctl_reload_resolvers(rl):
 * Return the set of resolvers whose look-ups ${rl} runs.
 */
struct rp_ctl_resolvers * rp_ctl_reload_resolvers(struct rp_ctl_reload * rl);

/**
 * rp_ctl_reload_serve(rl):
 * On the calling thread, carry out the reloads asked of ${rl}, and the
 * look-ups of its resolvers as they fall due, until rp_ctl_reload_end.
 */
void rp_ctl_reload_serve(struct rp_ctl_reload * rl);

/**
 * rp_ctl_reload_request(rl):
 * Ask ${rl} to reload (SIGHUP) and return at once.  Requests made while a
 * reload runs make one more reload after it.
 */
void rp_ctl_reload_request(struct rp_ctl_reload * rl);

/**
 * rp_ctl_reload_stopping(rl):
 * SIGTERM: start no reload from now on, and tell systemd STOPPING=1 (after
 * the READY=1 of a reload under way, never before).
 */
void rp_ctl_reload_stopping(struct rp_ctl_reload * rl);

/**
 * rp_ctl_reload_end(rl):
 * Have rp_ctl_reload_serve return (after a reload under way).  May be
 * called from any thread.
 */
void rp_ctl_reload_end(struct rp_ctl_reload * rl);

/**
 * rp_ctl_reload_free(rl):
 * Free ${rl} (rp_ctl_reload_serve has returned, or never ran; every
 * resolver of its set is stopped).  NULL is a no-op.
 */
void rp_ctl_reload_free(struct rp_ctl_reload * rl);

#endif /* !RP_CTL_RELOAD_H_ */
