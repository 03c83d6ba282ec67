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
 * ${bindaddr} if it is not NULL.  Return the descriptor or -1.
 */
int rp_sock_new(const struct rp_addr * a, const struct rp_addr * bindaddr);

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
