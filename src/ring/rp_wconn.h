#ifndef RP_WCONN_H_
#define RP_WCONN_H_

/*
 * What every engine keeps of a connection pair it carries: the pipe core,
 * the descriptor each direction reads from and writes to, and its places
 * on the worker's lists (rp_wk_pairs.c).  An engine embeds this as
 * the first member of its own per-pair state.
 */

#include <stddef.h>

#include "proto_pipe.h"

struct rp_wconn {
	struct proto_pipe * pipe;
	int fd_in[2];		/* Direction d reads fd_in[d] ... */
	int fd_out[2];		/* ... and writes fd_out[d]. */
	int sock_in[2];		/* fd_in[d] is a socket: recv, else read. */
	int sock_out[2];	/* fd_out[d] is a socket: send, else write. */
	int fds[3];		/* Distinct descriptors, -1 unused. */
	int nbsock;		/* All sockets, as the control loop made
				   them: those with nb_in[d] carry
				   O_NONBLOCK alone, the others no status
				   flag. */
	int nb_in[2];		/* With nbsock: fd_in[d] has O_NONBLOCK. */
	int dead;		/* Closed: no more I/O or crypto; freed
				   once refs is 0 and it is on no list. */
	int refs;		/* Engine references: operations in flight,
				   places on the engine's own lists. */
	struct rp_wconn * prev, * next;	/* The worker's open pairs. */
	struct rp_wconn * gnext;	/* Closed pairs to free. */
	int timedout;		/* What failed the pipe was ETIMEDOUT on a
				   socket: a keepalive or TCP_USER_TIMEOUT
				   gave its peer up. */
	int queued;		/* On a ready list. */
	struct rp_wconn * rnext;	/* Ready list link. */
	int held;		/* On the hold list (a part packet waits). */
	struct rp_wconn * hnext;	/* Hold list link. */
	void * owner;		/* The pair's owner (rp_pair_set_owner): told
				   of its close; picks it for an abort. */
	const struct sockaddr * peer_out[2];	/* The peer of fd_out[d]
				   if the pair said it (rp_pair_peer); set
				   only while the engine attaches it. */
};

/* Pairs whose seal direction holds a part-filled packet (coalescing),
 * each to be pumped again at its pipe's deadline. */
struct rp_whold {
	struct rp_wconn * head;
};

/* A list of pairs with input ready for crypto, in arrival order. */
struct rp_wready {
	struct rp_wconn * head;
	struct rp_wconn ** tailp;
};

/**
 * rp_wready_init(r):
 * Make ${r} an empty list.
 */
static inline void
rp_wready_init(struct rp_wready * r)
{

	r->head = NULL;
	r->tailp = &r->head;
}

/**
 * rp_wready_add(r, c):
 * Append ${c} to ${r} unless it is on a list already.
 */
static inline void
rp_wready_add(struct rp_wready * r, struct rp_wconn * c)
{

	if (c->queued)
		return;
	c->queued = 1;
	c->rnext = NULL;
	*r->tailp = c;
	r->tailp = &c->rnext;
}

/**
 * rp_wready_unlink(r, c):
 * Remove ${c} from ${r} if it is there.
 */
static inline void
rp_wready_unlink(struct rp_wready * r, struct rp_wconn * c)
{
	struct rp_wconn ** pp;

	if (!c->queued)
		return;
	for (pp = &r->head; *pp != NULL; pp = &(*pp)->rnext) {
		if (*pp != c)
			continue;
		*pp = c->rnext;
		if (r->tailp == &c->rnext)
			r->tailp = pp;
		c->queued = 0;
		c->rnext = NULL;
		return;
	}
}

/**
 * rp_whold_add(h, c):
 * Put ${c} on ${h} if its pipe holds a part packet and it is not there.
 */
void rp_whold_add(struct rp_whold * h, struct rp_wconn * c);

/**
 * rp_whold_unlink(h, c):
 * Remove ${c} from ${h} if it is there.
 */
void rp_whold_unlink(struct rp_whold * h, struct rp_wconn * c);

/**
 * rp_whold_scan(h, now, fire, arg):
 * Take off ${h} every pair whose deadline has come by ${now} (or that no
 * longer holds anything), calling ${fire}(${arg}, c) for each; return the
 * earliest deadline of the pairs left, or 0 if none is left.
 */
uint64_t rp_whold_scan(struct rp_whold * h, uint64_t now,
    void (* fire)(void *, struct rp_wconn *), void * arg);

/**
 * rp_wconn_init(c, pipe, plain_in, plain_out, cipher, nbfd):
 * Fill ${c} for ${pipe} over the three descriptors (${plain_in} may equal
 * ${plain_out}): the seal direction reads ${plain_in} and writes ${cipher},
 * the open direction reads ${cipher} and writes ${plain_out}.  If ${nbfd}
 * is not -1, all are sockets, and descriptor ${nbfd} (RP_PAIR_*) alone
 * carries O_NONBLOCK, with no other status flag (rp_pair_socks); else
 * each is looked at.
 */
void rp_wconn_init(struct rp_wconn * c, struct proto_pipe * pipe,
    int plain_in, int plain_out, int cipher, int nbfd);

/**
 * rp_wconn_io_err(c, err):
 * An I/O on one of ${c}'s descriptors failed with the errno value ${err};
 * call before the failure is reported to the pipe.  Notes in ${c} whether
 * it is ETIMEDOUT failing a pipe that had not failed yet (later errors
 * of a failed pipe, such as those of its closing, do not count).
 */
void rp_wconn_io_err(struct rp_wconn * c, int err);

/**
 * rp_wconn_close_fds(c):
 * Close ${c}'s descriptors.
 */
void rp_wconn_close_fds(struct rp_wconn * c);

#endif /* !RP_WCONN_H_ */
