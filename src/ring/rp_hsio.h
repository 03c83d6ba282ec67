#ifndef RP_HSIO_H_
#define RP_HSIO_H_

struct proto_hs;

/**
 * rp_hsio_run(fd, hs, timeout):
 * Drive the handshake ${hs} to its end over the connected socket ${fd}
 * with blocking I/O (poll), doing its computation inline, within
 * ${timeout} seconds.  Return 0 when it is DONE, -1 on failure or timeout.
 */
int rp_hsio_run(int fd, struct proto_hs * hs, double timeout);

/**
 * rp_hsio_connect(fd, sa, salen, timeout):
 * Connect the non-blocking socket ${fd} to ${sa} within ${timeout} seconds.
 * Return 0 on success, -1 (errno set) on failure.
 */
int rp_hsio_connect(int fd, const void * sa, unsigned salen, double timeout);

#endif /* !RP_HSIO_H_ */
