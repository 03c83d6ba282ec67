#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto_handshake.h"
#include "rp_hsio.h"

static double
hsio_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

/* Wait for ${events} on ${fd} until ${deadline}; 0 when ready, else -1. */
static int
hsio_wait(int fd, short events, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	double left = deadline - hsio_now();
	int rc;

	if (left <= 0) {
		errno = ETIMEDOUT;
		return (-1);
	}
	while ((rc = poll(&pfd, 1, (int)(left * 1000) + 1)) == -1 &&
	    errno == EINTR)
		;
	if (rc == 0) {
		errno = ETIMEDOUT;
		return (-1);
	}
	return (rc < 0 ? -1 : 0);
}

/**
 * rp_hsio_connect(fd, sa, salen, timeout):
 * Connect the non-blocking socket ${fd} to ${sa} within ${timeout} seconds.
 * Return 0 on success, -1 (errno set) on failure.
 */
int
rp_hsio_connect(int fd, const void * sa, unsigned salen, double timeout)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (connect(fd, sa, salen) == 0)
		return (0);
	if (errno != EINPROGRESS)
		return (-1);
	if (hsio_wait(fd, POLLOUT, hsio_now() + timeout))
		return (-1);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return (-1);
	if (err) {
		errno = err;
		return (-1);
	}
	return (0);
}

/**
 * rp_hsio_run(fd, hs, timeout):
 * Drive the handshake ${hs} to its end over the connected socket ${fd}
 * with blocking I/O (poll), doing its computation inline, within
 * ${timeout} seconds.  Return 0 when it is DONE, -1 on failure or timeout.
 */
int
rp_hsio_run(int fd, struct proto_hs * hs, double timeout)
{
	double deadline = hsio_now() + timeout;
	const uint8_t * out;
	uint8_t buf[512];
	size_t len, hint;
	ssize_t n;
	int want;

	for (;;) {
		want = proto_hs_want(hs);
		if (want & PROTO_HS_FAILED)
			return (-1);
		if (want & PROTO_HS_WANT_WRITE) {
			out = proto_hs_output(hs, &len);
			if ((n = send(fd, out, len, MSG_NOSIGNAL)) > 0) {
				proto_hs_output_done(hs, (size_t)n);
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				return (-1);
			if (hsio_wait(fd, POLLOUT, deadline))
				return (-1);
			continue;
		}
		if (want & PROTO_HS_WANT_COMPUTE) {
			proto_hs_compute(hs);
			continue;
		}
		if (want & PROTO_HS_DONE)
			return (0);
		if (!(want & PROTO_HS_WANT_READ) ||
		    (hint = proto_hs_read_hint(hs)) == 0)
			return (-1);
		if (hint > sizeof(buf))
			hint = sizeof(buf);
		if ((n = recv(fd, buf, hint, 0)) > 0) {
			(void)proto_hs_input(hs, buf, (size_t)n);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return (-1);
		if (hsio_wait(fd, POLLIN, deadline))
			return (-1);
	}
}
