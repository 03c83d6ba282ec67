#ifndef RP_HSIO_H_
#define RP_HSIO_H_

/*
 * Handshake I/O without waiting (MSG_DONTWAIT): moving the bytes that a
 * proto_hs machine wants sent and read, as far as the socket allows
 * without waiting.  The control thread drives its handshakes with
 * rp_hsio_pump from its event loop; ringpipe connects with rp_hsio_dial and
 * runs its handshake to the end with rp_hsio_run.
 */

#include "rp_addr.h"

struct proto_hs;

/* What rp_hsio_pump stopped at. */
enum rp_hsio_state {
	RP_HSIO_WAIT,		/* Wait until the socket is ready for more. */
	RP_HSIO_COMPUTE,	/* Run proto_hs_compute, then pump again. */
	RP_HSIO_DONE,		/* Keys ready and all output sent. */
	RP_HSIO_FAILED		/* Drop the connection. */
};

/**
 * rp_hsio_pump(fd, hs, ready):
 * Send what ${hs} has to send and read what it wants from the socket ${fd}
 * without waiting (MSG_DONTWAIT; ${fd} may be blocking), never past the
 * handshake, until neither can go on or ${hs} wants its computation.
 * *${ready} holds the poll events (POLLIN, POLLOUT) ${fd} is taken to be
 * ready for; a direction is tried only while its bit is set, and the bit
 * is cleared once the socket gave less than asked (EAGAIN or a short
 * transfer), after which an edge-triggered wait reports it again.
 */
enum rp_hsio_state rp_hsio_pump(int fd, struct proto_hs * hs, short * ready);

/**
 * rp_hsio_run(fd, hs, timeout):
 * Drive the handshake ${hs} to its end over the connected non-blocking
 * socket ${fd}, waiting with poll and doing its computation inline, within
 * ${timeout} seconds.  Return 0 when it is DONE, -1 on failure or timeout.
 */
int rp_hsio_run(int fd, struct proto_hs * hs, double timeout);

/**
 * rp_hsio_dial(addrs, naddrs, bind, keepalive, timeout):
 * Connect to one of ${addrs}[0..${naddrs}) in the Happy Eyeballs manner
 * (rp_dial: staggered attempts, the first to connect wins) from sockets
 * bound to ${bind} if it is not NULL, waiting with poll, within ${timeout}
 * seconds.  Return the connected non-blocking socket (tuned with
 * rp_sock_tune and ${keepalive}), or -1 with errno set.
 */
int rp_hsio_dial(const struct rp_addr * addrs, int naddrs,
    const struct rp_addr * bind, int keepalive, double timeout);

#endif /* !RP_HSIO_H_ */
