#include <errno.h>
#include <fcntl.h>
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

/**
 * rp_sock_new(a, bindaddr):
 * Create a non-blocking stream socket of ${a}'s family, bound to
 * ${bindaddr} if it is not NULL.  Return the descriptor or -1.
 */
int
rp_sock_new(const struct rp_addr * a, const struct rp_addr * bindaddr)
{
	int s;

	if ((s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto err0;
	if (bindaddr != NULL && bind(s, (const struct sockaddr *)&bindaddr->ss,
	    bindaddr->len))
		goto err1;
	return (s);

err1:
	close(s);
err0:
	return (-1);
}

/**
 * rp_sock_tune(fd, nokeepalive):
 * Set TCP_NODELAY on ${fd}, and SO_KEEPALIVE unless ${nokeepalive}; both
 * are ignored on non-TCP sockets.
 */
void
rp_sock_tune(int fd, int nokeepalive)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!nokeepalive)
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one,
		    sizeof(one));
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
