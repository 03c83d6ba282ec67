#include <sys/stat.h>
#include <unistd.h>

#include "rp_wconn.h"

static int
is_sock(int fd)
{
	struct stat sb;

	return (fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode));
}

/**
 * rp_wconn_init(c, pipe, plain_in, plain_out, cipher):
 * Fill ${c} for ${pipe} over the three descriptors (${plain_in} may equal
 * ${plain_out}): the seal direction reads ${plain_in} and writes ${cipher},
 * the open direction reads ${cipher} and writes ${plain_out}.
 */
void
rp_wconn_init(struct rp_wconn * c, struct proto_pipe * pipe, int plain_in,
    int plain_out, int cipher)
{
	int d;

	c->pipe = pipe;
	c->fd_in[PROTO_PIPE_SEAL] = plain_in;
	c->fd_out[PROTO_PIPE_SEAL] = cipher;
	c->fd_in[PROTO_PIPE_OPEN] = cipher;
	c->fd_out[PROTO_PIPE_OPEN] = plain_out;
	for (d = 0; d < 2; d++) {
		c->sock_in[d] = is_sock(c->fd_in[d]);
		c->sock_out[d] = is_sock(c->fd_out[d]);
	}
	c->fds[0] = plain_in;
	c->fds[1] = (plain_out != plain_in) ? plain_out : -1;
	c->fds[2] = cipher;
	c->dead = 0;
	c->queued = 0;
	c->rnext = NULL;
}

/**
 * rp_wconn_close_fds(c):
 * Close ${c}'s descriptors.
 */
void
rp_wconn_close_fds(struct rp_wconn * c)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (c->fds[i] != -1)
			close(c->fds[i]);
		c->fds[i] = -1;
	}
}
