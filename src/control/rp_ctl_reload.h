#ifndef RP_CTL_RELOAD_H_
#define RP_CTL_RELOAD_H_

/*
 * Reloading on SIGHUP, on a thread of its own (key files are read and the
 * target looked up, which may block, never on the control thread).  On
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
 * rp_ctl_reload_start(fn, arg, stats, notify):
 * Start the thread that reloads by calling ${fn}(${arg}) on request (0:
 * the reload took effect; -1: it changed nothing), counting each outcome
 * in ${stats} and telling the service manager through ${notify}
 * (RELOADING=1, READY=1, STOPPING=1; NULL: no one).  ${arg} and ${stats}
 * must outlive it.  Return NULL on failure, with a warning printed.
 */
struct rp_ctl_reload * rp_ctl_reload_start(int (* fn)(void *), void * arg,
    struct rp_ctlstats * stats, void (* notify)(const char *));

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
 * rp_ctl_reload_stop(rl):
 * Stop and join ${rl}'s thread (a reload under way finishes first) and
 * free ${rl}.  NULL is a no-op.
 */
void rp_ctl_reload_stop(struct rp_ctl_reload * rl);

#endif /* !RP_CTL_RELOAD_H_ */
