#ifndef RP_SOCK_H_
#define RP_SOCK_H_

#include "rp_addr.h"

/*
 * The keepalive of a TCP socket (rp_sock_tune): off (-j), SO_KEEPALIVE
 * with the kernel's timers (stock spiped's behaviour, the default), or
 * any positive number S of seconds (--keepalive S) within which a dead
 * peer is detected.
 */
#define RP_SOCK_KA_OFF		(-1)
#define RP_SOCK_KA_KERNEL	0
#define RP_SOCK_KA_MAX		86400	/* The longest --keepalive. */

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
 * rp_sock_connect(a, bindaddr, keepalive, fd):
 * Start a non-blocking connect to ${a} from a new socket (rp_sock_new with
 * ${bindaddr}, tuned with rp_sock_tune and ${keepalive} before its first
 * byte) and store the socket in ${fd}.  Return 1 if it connected already
 * (a UNIX socket), 0 if the connect is under way, or -1 with errno set and
 * no socket left open.  A TCP connect under way is not looked at again
 * here, even on loopback where it has often ended: the caller's wait for
 * the socket reports it, with no system call of its own.
 */
int rp_sock_connect(const struct rp_addr * a, const struct rp_addr * bindaddr,
    int keepalive, int * fd);

/**
 * rp_sock_connected(fd):
 * Look, without waiting, at the connect under way on ${fd}: return 1 if it
 * connected, 0 if it is still under way, -1 with errno set to why it
 * failed.
 */
int rp_sock_connected(int fd);

/**
 * rp_sock_tune(fd, keepalive):
 * Set TCP_NODELAY on ${fd}, and its keepalive as ${keepalive} says
 * (RP_SOCK_KA_*): for S > 0 seconds, SO_KEEPALIVE, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT and TCP_USER_TIMEOUT such that a peer that
 * stopped answering, idle or with data unacknowledged, fails the socket
 * with ETIMEDOUT about S seconds after it was last heard from.  All are
 * ignored on non-TCP sockets.
 */
void rp_sock_tune(int fd, int keepalive);

/**
 * rp_sock_out_of_fds(err):
 * Return non-zero if the errno value ${err} says that descriptors or
 * socket memory ran out (EMFILE, ENFILE, ENOBUFS, ENOMEM): a condition
 * that passes once other connections close, so the caller should wait
 * and retry rather than give up.
 */
int rp_sock_out_of_fds(int err);

#endif /* !RP_SOCK_H_ */
