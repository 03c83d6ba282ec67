#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto_handshake.h"
#include "rp_dial.h"
#include "rp_hsio.h"
#include "rp_clock.h"

/* Bigger than any single read the handshake asks for (a 288-byte y||MAC). */
#define HSIO_RBUF	512

#define MS_PER_S	1000.0

/*
 * A send or recv asked for ${len} bytes and returned ${n}: clear ${bit} in
 * ${ready} if the socket moved less (it is drained or full until the next
 * edge).  Return 1 if it moved some, 0 if none, -1 on an error or EOF.
 */
static int
hsio_moved(ssize_t n, size_t len, short * ready, short bit)
{

	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		*ready &= ~bit;
		return (0);
	}
	if (n <= 0)
		return (-1);
	if ((size_t)n < len)
		*ready &= ~bit;
	return (1);
}

/* Send from the pending output of ${hs}; see hsio_moved. */
static int
hsio_send(int fd, struct proto_hs * hs, short * ready)
{
	const uint8_t * out;
	size_t len;
	ssize_t n;
	int rc;

	out = proto_hs_output(hs, &len);
	while ((n = send(fd, out, len, MSG_NOSIGNAL | MSG_DONTWAIT)) == -1 &&
	    errno == EINTR)
		;
	if ((rc = hsio_moved(n, len, ready, POLLOUT)) > 0)
		proto_hs_output_done(hs, (size_t)n);
	return (rc);
}

/* Read what ${hs} wants, never more; see hsio_moved. */
static int
hsio_recv(int fd, struct proto_hs * hs, short * ready)
{
	uint8_t buf[HSIO_RBUF];
	size_t hint = proto_hs_read_hint(hs);
	ssize_t n;
	int rc;

	if (hint > sizeof(buf))
		hint = sizeof(buf);
	while ((n = recv(fd, buf, hint, MSG_DONTWAIT)) == -1 &&
	    errno == EINTR)
		;

	/* At most the hint: the machine consumes all of it. */
	if ((rc = hsio_moved(n, hint, ready, POLLIN)) > 0)
		(void)proto_hs_input(hs, buf, (size_t)n);
	return (rc);
}

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
enum rp_hsio_state
rp_hsio_pump(int fd, struct proto_hs * hs, short * ready)
{
	int want, rc;

	for (;;) {
		want = proto_hs_want(hs);
		if (want & PROTO_HS_FAILED)
			return (RP_HSIO_FAILED);
		if (want & PROTO_HS_DONE)
			return (RP_HSIO_DONE);
		if ((want & PROTO_HS_WANT_WRITE) && (*ready & POLLOUT)) {
			if ((rc = hsio_send(fd, hs, ready)) < 0)
				return (RP_HSIO_FAILED);
			if (rc > 0)
				continue;
		}
		if ((want & PROTO_HS_WANT_READ) && (*ready & POLLIN) &&
		    proto_hs_read_hint(hs) > 0) {
			if ((rc = hsio_recv(fd, hs, ready)) < 0)
				return (RP_HSIO_FAILED);
			if (rc > 0)
				continue;
		}

		/* Nothing more moves now: compute before waiting, since the
		 * computation may be what the peer waits for. */
		if (want & PROTO_HS_WANT_COMPUTE)
			return (RP_HSIO_COMPUTE);
		if (!(want & (PROTO_HS_WANT_WRITE | PROTO_HS_WANT_READ)))
			return (RP_HSIO_FAILED);
		return (RP_HSIO_WAIT);
	}
}

static double
hsio_now(void)
{

	return (rp_clock_s());
}

/* Wait for ${pfd}'s events until ${deadline}; 0 when one is there (in
 * revents), else -1 with errno set. */
static int
hsio_wait(struct pollfd * pfd, double deadline)
{
	double left = deadline - hsio_now();
	int rc;

	if (left <= 0) {
		errno = ETIMEDOUT;
		return (-1);
	}
	while ((rc = poll(pfd, 1, (int)(left * MS_PER_S) + 1)) == -1 &&
	    errno == EINTR)
		;
	if (rc == 0) {
		errno = ETIMEDOUT;
		return (-1);
	}
	return (rc < 0 ? -1 : 0);
}

/**
 * rp_hsio_dial(addrs, naddrs, bind, keepalive, timeout):
 * Connect to one of ${addrs}[0..${naddrs}) in the Happy Eyeballs manner
 * (rp_dial: staggered attempts, the first to connect wins) from sockets
 * bound to ${bind} if it is not NULL, waiting with poll, within ${timeout}
 * seconds.  Return the connected non-blocking socket (tuned with
 * rp_sock_tune and ${keepalive}), or -1 with errno set.
 */
int
rp_hsio_dial(const struct rp_addr * addrs, int naddrs,
    const struct rp_addr * bind, int keepalive, double timeout)
{
	struct pollfd pfd[RP_ADDR_MAX];
	struct rp_dial d;
	double deadline = hsio_now() + timeout, now, wake;
	int fd, watched, i;

	rp_dial_init(&d, addrs, naddrs, bind, keepalive);

	/* Each pass waits until an attempt reports or the next is due; the
	 * deadline ends the loop. */
	for (now = hsio_now(); ; now = hsio_now()) {
		switch (rp_dial_step(&d, now, NULL, NULL, &fd, &watched)) {
		case RP_DIAL_CONNECTED:
			return (fd);
		case RP_DIAL_FAILED:
		case RP_DIAL_NOFD:
			return (-1);
		case RP_DIAL_WAIT:
			break;
		}
		if (now >= deadline)
			break;
		if ((wake = rp_dial_due(&d)) == 0 || wake > deadline)
			wake = deadline;
		for (i = 0; i < d.nfds; i++) {
			pfd[i].fd = d.fds[i];
			pfd[i].events = POLLOUT;
		}
		if (poll(pfd, (nfds_t)d.nfds, (int)((wake - now) * MS_PER_S) +
		    1) == -1 && errno != EINTR)
			break;
	}
	i = (now >= deadline) ? ETIMEDOUT : errno;
	rp_dial_abort(&d);
	errno = i;
	return (-1);
}

/**
 * rp_hsio_run(fd, hs, timeout):
 * Drive the handshake ${hs} to its end over the connected non-blocking
 * socket ${fd}, waiting with poll and doing its computation inline, within
 * ${timeout} seconds.  Return 0 when it is DONE, -1 on failure or timeout.
 */
int
rp_hsio_run(int fd, struct proto_hs * hs, double timeout)
{
	struct pollfd pfd = { .fd = fd };
	double deadline = hsio_now() + timeout;
	short ready = POLLIN | POLLOUT;
	int want;

	for (;;) {
		switch (rp_hsio_pump(fd, hs, &ready)) {
		case RP_HSIO_DONE:
			return (0);
		case RP_HSIO_FAILED:
			return (-1);
		case RP_HSIO_COMPUTE:
			proto_hs_compute(hs);
			break;
		case RP_HSIO_WAIT:
			want = proto_hs_want(hs);
			pfd.events = 0;
			if (want & PROTO_HS_WANT_WRITE)
				pfd.events |= POLLOUT;
			if (want & PROTO_HS_WANT_READ)
				pfd.events |= POLLIN;
			if (hsio_wait(&pfd, deadline))
				return (-1);
			ready |= pfd.revents & (POLLIN | POLLOUT);
			if (pfd.revents & (POLLERR | POLLHUP))
				ready |= POLLIN | POLLOUT;
			break;
		}
	}
}
