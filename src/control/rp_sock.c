#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rp_log.h"
#include "rp_sock.h"

/*
 * The listen backlog: deep enough that a burst of connects waits in the
 * kernel instead of being reset (stock spiped's 10 resets under bursts),
 * and where connections past -n wait until a slot frees.
 */
#define SOCK_BACKLOG	4096

/*
 * --keepalive: the probes sent before the peer is given up (when
 * TCP_USER_TIMEOUT is not what ends it first), and the longest idle time
 * Linux takes for TCP_KEEPIDLE (MAX_TCP_KEEPIDLE).
 */
#define SOCK_KA_PROBES		3
#define SOCK_KA_IDLE_MAX	32767

/**
 * rp_sock_listen(a):
 * Create a non-blocking listening socket bound to ${a} (SO_REUSEADDR).
 * Return the descriptor, or -1 with a warning printed.
 */
int
rp_sock_listen(const struct rp_addr * a)
{
	char name[128];
	int one = 1;
	int s;

	if ((s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		rp_warnp("socket");
		goto err0;
	}
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) &&
	    errno != ENOPROTOOPT) {
		rp_warnp("setsockopt(SO_REUSEADDR)");
		goto err1;
	}
	if (bind(s, (const struct sockaddr *)&a->ss, a->len)) {
		rp_warnp("Error binding socket %s",
		    rp_addr_format(a, name, sizeof(name)));
		goto err1;
	}
	if (listen(s, SOCK_BACKLOG)) {
		rp_warnp("Error marking socket as listening");
		goto err1;
	}
	return (s);

err1:
	close(s);
err0:
	return (-1);
}

/* Close ${s}, keeping errno. */
static void
sock_discard(int s)
{
	int err = errno;

	close(s);
	errno = err;
}

/**
 * rp_sock_new(a, bindaddr):
 * Create a non-blocking stream socket of ${a}'s family, bound to
 * ${bindaddr} if it is not NULL, with SO_REUSEADDR first as spiped does (a
 * fixed -b port is then free again at once after a close, TIME_WAIT or
 * not).  Return the descriptor, or -1 with errno set.
 */
int
rp_sock_new(const struct rp_addr * a, const struct rp_addr * bindaddr)
{
	int one = 1;
	int s;

	if ((s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto err0;
	if (bindaddr == NULL)
		return (s);
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) &&
	    errno != ENOPROTOOPT)
		goto err1;
	if (bind(s, (const struct sockaddr *)&bindaddr->ss, bindaddr->len))
		goto err1;
	return (s);

err1:
	sock_discard(s);
err0:
	return (-1);
}

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
int
rp_sock_connect(const struct rp_addr * a, const struct rp_addr * bindaddr,
    int keepalive, int * fd)
{
	int s, rc;

	if ((s = rp_sock_new(a, bindaddr)) == -1)
		goto err0;
	rp_sock_tune(s, keepalive);
	if (connect(s, (const struct sockaddr *)&a->ss, a->len) == 0)
		rc = 1;
	else if (errno == EINPROGRESS || errno == EINTR)
		rc = 0;
	else
		goto err1;
	*fd = s;
	return (rc);

err1:
	sock_discard(s);
err0:
	return (-1);
}

/**
 * rp_sock_connected(fd):
 * Look, without waiting, at the connect under way on ${fd}: return 1 if it
 * connected, 0 if it is still under way, -1 with errno set to why it
 * failed.
 */
int
rp_sock_connected(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & (POLLOUT | POLLERR |
	    POLLHUP)))
		return (0);
	if (!(pfd.revents & (POLLERR | POLLHUP)))
		return (1);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err == 0)
		err = ECONNREFUSED;
	errno = err;
	return (-1);
}

/**
 * rp_sock_tune(fd, keepalive):
 * Set TCP_NODELAY on ${fd}, and its keepalive as ${keepalive} says
 * (RP_SOCK_KA_*): for S > 0 seconds, SO_KEEPALIVE, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT and TCP_USER_TIMEOUT such that a peer that
 * stopped answering, idle or with data unacknowledged, fails the socket
 * with ETIMEDOUT about S seconds after it was last heard from.  All are
 * ignored on non-TCP sockets.
 */
void
rp_sock_tune(int fd, int keepalive)
{
	int one = 1;
	int idle, intvl, cnt = SOCK_KA_PROBES;
	unsigned int user_ms;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (keepalive == RP_SOCK_KA_OFF)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (keepalive <= RP_SOCK_KA_KERNEL)
		return;

	/*
	 * The first probe after S/2 idle seconds (rounded up), then one
	 * every S/6 (at least 1) seconds.  With TCP_USER_TIMEOUT set the
	 * kernel ends an unanswered keepalive at the first probe past S
	 * seconds of silence rather than after TCP_KEEPCNT probes, and it
	 * also bounds how long sent data may stay unacknowledged: a peer
	 * that vanished mid-transfer fails the socket after S seconds too.
	 */
	idle = (keepalive + 1) / 2;
	if (idle > SOCK_KA_IDLE_MAX)
		idle = SOCK_KA_IDLE_MAX;
	intvl = (keepalive / 6 > 1) ? keepalive / 6 : 1;
	user_ms = (unsigned int)keepalive * 1000U;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms,
	    sizeof(user_ms));
}

/**
 * rp_sock_out_of_fds(err):
 * Return non-zero if the errno value ${err} says that descriptors or
 * socket memory ran out (EMFILE, ENFILE, ENOBUFS, ENOMEM): a condition
 * that passes once other connections close, so the caller should wait
 * and retry rather than give up.
 */
int
rp_sock_out_of_fds(int err)
{

	return (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM);
}
