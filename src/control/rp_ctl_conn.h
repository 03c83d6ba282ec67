#ifndef RP_CTL_CONN_H_
#define RP_CTL_CONN_H_

/*
 * Connections in their set-up phase, on the control thread: connecting to
 * the target (rp_dial: its addresses in turn, staggered attempts side by
 * side) and running the handshake over the right socket (rp_hsio_pump),
 * its exponentiations on the compute pool, within -o; then the hand-off of
 * the pair to a worker.  -e connects first and handshakes over the target
 * socket; -d handshakes over the accepted socket at once, and connects to
 * the target only once the client's y has passed its MAC check, in
 * parallel with the server's exponentiation.
 *
 * A connection that is dropped or handed off leaves the live list at once
 * but its memory stays until rp_ctl_conn_reap, so that the rest of the
 * round's epoll events, which may name it, find it marked dead.
 */

#include <stdint.h>

#include <sys/socket.h>

struct rp_ctl;
struct rp_hsjob;

/**
 * rp_ctl_conn_start(ctl, fd, sa, salen):
 * Start a connection for the accepted socket ${fd}, which it owns from now
 * on (closed on failure), from the client address ${sa} of ${salen} bytes
 * (NULL: unknown).
 */
void rp_ctl_conn_start(struct rp_ctl * ctl, int fd,
    const struct sockaddr * sa, socklen_t salen);

/**
 * rp_ctl_conn_event(cookie, tag, events):
 * The epoll ${events} arrived for the socket named by ${tag}
 * (RP_CTL_EV_CONN_A or _T) of the connection ${cookie} (the pointer its
 * epoll event carries), of whichever pipe: move it on.
 */
void rp_ctl_conn_event(void * cookie, int tag, uint32_t events);

/**
 * rp_ctl_conn_computed(job):
 * The compute pool finished ${job}: move its connection, of whichever
 * pipe, on.
 */
void rp_ctl_conn_computed(struct rp_hsjob * job);

/**
 * rp_ctl_conn_tick(ctl, t):
 * Drop the connections whose -o deadline is before ${t}, and retry the
 * connects that wait for a descriptor.
 */
void rp_ctl_conn_tick(struct rp_ctl * ctl, double t);

/**
 * rp_ctl_conn_retry(ctl):
 * Descriptors were freed: retry the connects that wait for one.
 */
void rp_ctl_conn_retry(struct rp_ctl * ctl);

/**
 * rp_ctl_conn_due(ctl):
 * Return the time at which a dial of ${ctl} starts its next attempt (the
 * loop must not sleep past it), or 0 if none is due.
 */
double rp_ctl_conn_due(struct rp_ctl * ctl);

/**
 * rp_ctl_conn_timers(ctl, t):
 * Move on the dials of ${ctl} whose next attempt is due by ${t}.
 */
void rp_ctl_conn_timers(struct rp_ctl * ctl, double t);

/**
 * rp_ctl_conn_reap(ctl):
 * Free the connections dropped or handed off this round whose computation
 * is not running.
 */
void rp_ctl_conn_reap(struct rp_ctl * ctl);

/**
 * rp_ctl_conn_free_all(ctl):
 * Close every connection of ${ctl}, stop the loop's compute pool if it
 * still runs (ctl->loop->pool is NULL after) and free the connections.
 */
void rp_ctl_conn_free_all(struct rp_ctl * ctl);

#endif /* !RP_CTL_CONN_H_ */
