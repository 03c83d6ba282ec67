#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rp_pair.h"
#include "rp_wconn.h"

static int
is_sock(int fd)
{
	struct stat sb;

	return (fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode));
}

/**
 * rp_wconn_init(c, pipe, plain_in, plain_out, cipher, nbfd):
 * Fill ${c} for ${pipe} over the three descriptors (${plain_in} may equal
 * ${plain_out}): the seal direction reads ${plain_in} and writes ${cipher},
 * the open direction reads ${cipher} and writes ${plain_out}.  If ${nbfd}
 * is not -1, all are sockets, and descriptor ${nbfd} (RP_PAIR_*) alone
 * carries O_NONBLOCK, with no other status flag (rp_pair_socks); else
 * each is looked at.
 */
void
rp_wconn_init(struct rp_wconn * c, struct proto_pipe * pipe, int plain_in,
    int plain_out, int cipher, int nbfd)
{
	int nbsock = (nbfd != -1);
	int s_in = nbsock || is_sock(plain_in);
	int s_cipher = nbsock || is_sock(cipher);
	int s_out = (plain_out == plain_in) ? s_in : nbsock ||
	    is_sock(plain_out);

	/* At most one fstat per descriptor: each is in both directions'
	 * lists. */
	c->pipe = pipe;
	c->nbsock = nbsock;
	c->nb_in[PROTO_PIPE_SEAL] = (nbfd == RP_PAIR_PLAIN_IN);
	c->nb_in[PROTO_PIPE_OPEN] = (nbfd == RP_PAIR_CIPHER);
	c->fd_in[PROTO_PIPE_SEAL] = plain_in;
	c->fd_out[PROTO_PIPE_SEAL] = cipher;
	c->fd_in[PROTO_PIPE_OPEN] = cipher;
	c->fd_out[PROTO_PIPE_OPEN] = plain_out;
	c->sock_in[PROTO_PIPE_SEAL] = s_in;
	c->sock_out[PROTO_PIPE_SEAL] = s_cipher;
	c->sock_in[PROTO_PIPE_OPEN] = s_cipher;
	c->sock_out[PROTO_PIPE_OPEN] = s_out;
	c->fds[0] = plain_in;
	c->fds[1] = (plain_out != plain_in) ? plain_out : -1;
	c->fds[2] = cipher;
	c->dead = 0;
	c->queued = 0;
	c->rnext = NULL;
	c->held = 0;
	c->hnext = NULL;
}

/**
 * rp_whold_add(h, c):
 * Put ${c} on ${h} if its pipe holds a part packet and it is not there.
 */
void
rp_whold_add(struct rp_whold * h, struct rp_wconn * c)
{

	if (c->held || c->dead || proto_pipe_deadline(c->pipe) == 0)
		return;
	c->held = 1;
	c->hnext = h->head;
	h->head = c;
}

/**
 * rp_whold_unlink(h, c):
 * Remove ${c} from ${h} if it is there.
 */
void
rp_whold_unlink(struct rp_whold * h, struct rp_wconn * c)
{
	struct rp_wconn ** pp;

	if (!c->held)
		return;
	for (pp = &h->head; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	c->held = 0;
	c->hnext = NULL;
}

/**
 * rp_whold_scan(h, now, fire, arg):
 * Take off ${h} every pair whose deadline has come by ${now} (or that no
 * longer holds anything), calling ${fire}(${arg}, c) for each; return the
 * earliest deadline of the pairs left, or 0 if none is left.
 */
uint64_t
rp_whold_scan(struct rp_whold * h, uint64_t now,
    void (* fire)(void *, struct rp_wconn *), void * arg)
{
	struct rp_wconn ** pp, * c, * due = NULL;
	uint64_t t, next = 0;

	for (pp = &h->head; (c = *pp) != NULL; ) {
		t = c->dead ? 0 : proto_pipe_deadline(c->pipe);
		if (t == 0 || t <= now) {
			*pp = c->hnext;
			c->held = 0;
			c->hnext = due;
			due = c;
			continue;
		}
		if (next == 0 || t < next)
			next = t;
		pp = &c->hnext;
	}
	/* Fire after the walk: ${fire} may add to ${h} again. */
	while ((c = due) != NULL) {
		due = c->hnext;
		c->hnext = NULL;
		fire(arg, c);
	}
	return (next);
}

/**
 * rp_wconn_io_err(c, err):
 * An I/O on one of ${c}'s descriptors failed with the errno value ${err};
 * call before the failure is reported to the pipe.  Notes in ${c} whether
 * it is ETIMEDOUT failing a pipe that had not failed yet (later errors
 * of a failed pipe, such as those of its closing, do not count).
 */
void
rp_wconn_io_err(struct rp_wconn * c, int err)
{

	if (err == ETIMEDOUT && !proto_pipe_failed(c->pipe))
		c->timedout = 1;
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
