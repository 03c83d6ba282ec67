#ifndef RP_CTL_ACCEPT_H_
#define RP_CTL_ACCEPT_H_

/*
 * Accepting on the control thread.  The listening socket is watched
 * edge-triggered, so a connection is taken only while there is room under
 * -n and no back-off is running; the ones past -n wait in the kernel's
 * listen backlog (never accepted, so their -o clock has not started).
 * When descriptors or socket memory run out, accepting pauses for a
 * quarter second (or until a connection closes) instead of spinning.
 */

struct rp_ctl;

/**
 * rp_ctl_accept_run(ctl):
 * Take the connections waiting on ${ctl}'s listening socket and start them
 * (rp_ctl_conn_start), as far as -n, the back-off and the per-round bound
 * allow.
 */
void rp_ctl_accept_run(struct rp_ctl * ctl);

/**
 * rp_ctl_accept_pending(ctl):
 * Return non-zero if rp_ctl_accept_run would take a connection now (so the
 * loop should not sleep).
 */
int rp_ctl_accept_pending(struct rp_ctl * ctl);

/**
 * rp_ctl_accept_blocked(ctl):
 * Return non-zero if connections may be waiting that ${ctl} does not take
 * until a connection closes or the back-off ends.
 */
int rp_ctl_accept_blocked(struct rp_ctl * ctl);

/**
 * rp_ctl_accept_close(ctl):
 * SIGTERM: close ${ctl}'s listening socket and accept nothing more (the
 * connections in its backlog are reset by the kernel).
 */
void rp_ctl_accept_close(struct rp_ctl * ctl);

#endif /* !RP_CTL_ACCEPT_H_ */
