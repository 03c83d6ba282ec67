#ifndef RP_CTL_PIPES_H_
#define RP_CTL_PIPES_H_

/*
 * The pipes of the control loop (rp_ctl_pipes.c): made, added, replaced
 * and removed (from any thread, applied by the control thread in its next
 * round), drained and freed.  Internal to the control thread's parts.
 */

struct rp_ctl;
struct rp_ctl_loop;

/**
 * rp_ctl_watch(loop, fd, p, tag, et):
 * Watch ${fd} for input in ${loop}'s epoll set, edge-triggered if ${et},
 * as ${tag} about ${p}.  Return 0 or -1.
 */
int rp_ctl_watch(struct rp_ctl_loop * loop, int fd, void * p, int tag,
    int et);

/**
 * rp_ctl_pipe_listen(ctl):
 * Watch the listening socket of ${ctl}, edge-triggered (accept takes
 * until EAGAIN), and take what may wait already (no edge announces it).
 */
void rp_ctl_pipe_listen(struct rp_ctl * ctl);

/**
 * rp_ctl_pipe_close(ctl):
 * Close the listening socket of ${ctl}: its drain begins.
 */
void rp_ctl_pipe_close(struct rp_ctl * ctl);

/**
 * rp_ctl_pipe_sigterm(ctl):
 * SIGTERM: the pipe ${ctl} is not ready (/readyz) from now on.  Its
 * listener closes --drain-delay seconds later (on the tick), so that a
 * balancer polling /readyz stops sending before connections are refused;
 * at once without a delay, or on a second SIGTERM during it.
 */
void rp_ctl_pipe_sigterm(struct rp_ctl * ctl);

/**
 * rp_ctl_pipes_apply(loop):
 * Apply the changes other threads queued for ${loop} (pipes added,
 * replaced, removed), oldest first.
 */
void rp_ctl_pipes_apply(struct rp_ctl_loop * loop);

/**
 * rp_ctl_pipe_drained(ctl):
 * Return whether ${ctl} drains and has no connection left.
 */
int rp_ctl_pipe_drained(struct rp_ctl * ctl);

/**
 * rp_ctl_pipe_free(ctl):
 * Free the pipe ${ctl}, which has no connection left (drained, or freed
 * by the loop's teardown).
 */
void rp_ctl_pipe_free(struct rp_ctl * ctl);

/**
 * rp_ctl_pipes_reap(loop, t):
 * Free the retired pipes of ${loop} that drained RP_CTL_GRACE before ${t}
 * (now) and that no reader holds.
 */
void rp_ctl_pipes_reap(struct rp_ctl_loop * loop, double t);

#endif /* !RP_CTL_PIPES_H_ */
