#ifndef RP_SOCK_H_
#define RP_SOCK_H_

#include "rp_addr.h"

/**
 * rp_sock_listen(a):
 * Create a non-blocking listening socket bound to ${a} (SO_REUSEADDR).
 * Return the descriptor, or -1 with a warning printed.
 */
int rp_sock_listen(const struct rp_addr * a);

/**
 * rp_sock_new(a, bindaddr):
 * Create a non-blocking stream socket of ${a}'s family, bound to
 * ${bindaddr} if it is not NULL, with SO_REUSEADDR first as spiped does (a
 * fixed -b port is then free again at once after a close, TIME_WAIT or
 * not).  Return the descriptor, or -1 with errno set.
 */
int rp_sock_new(const struct rp_addr * a, const struct rp_addr * bindaddr);

/**
 * rp_sock_connect(a, bindaddr, nokeepalive, fd):
 * Start a non-blocking connect to ${a} from a new socket (rp_sock_new with
 * ${bindaddr}, tuned with rp_sock_tune and ${nokeepalive} before its first
 * byte) and store the socket in ${fd}.  Return 1 if it connected already
 * (on loopback it often has), 0 if the connect is under way, or -1 with
 * errno set and no socket left open.
 */
int rp_sock_connect(const struct rp_addr * a, const struct rp_addr * bindaddr,
    int nokeepalive, int * fd);

/**
 * rp_sock_connected(fd):
 * Look, without waiting, at the connect under way on ${fd}: return 1 if it
 * connected, 0 if it is still under way, -1 with errno set to why it
 * failed.
 */
int rp_sock_connected(int fd);

/**
 * rp_sock_tune(fd, nokeepalive):
 * Set TCP_NODELAY on ${fd}, and SO_KEEPALIVE unless ${nokeepalive}; both
 * are ignored on non-TCP sockets.
 */
void rp_sock_tune(int fd, int nokeepalive);

/**
 * rp_sock_out_of_fds(err):
 * Return non-zero if the errno value ${err} says that descriptors or
 * socket memory ran out (EMFILE, ENFILE, ENOBUFS, ENOMEM): a condition
 * that passes once other connections close, so the caller should wait
 * and retry rather than give up.
 */
int rp_sock_out_of_fds(int err);

#endif /* !RP_SOCK_H_ */
