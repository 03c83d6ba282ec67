#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "proto_pipe.h"
#include "rp_pair.h"

struct rp_pair {
	int fds[3];			/* RP_PAIR_*. */
	int nbfd;			/* rp_pair_set_socks, or -1. */
	void * owner;			/* rp_pair_set_owner. */
	struct sockaddr_storage peer[2];	/* rp_pair_set_peer: the plain
						   output's, the cipher's... */
	int has_peer[2];			/* ... if said. */
	struct proto_pipe * pipe;
	atomic_int handoff;
};

/**
 * rp_pair_new(plain_in, plain_out, cipher, send_enc, send_mac, recv_enc,
 *     recv_mac):
 * Create a pair that reads plaintext from ${plain_in}, sends packets to
 * ${cipher}, and writes what it opens from ${cipher} to ${plain_out}
 * (${plain_in} may equal ${plain_out}), sealing with ${send_enc} and
 * ${send_mac} and opening with ${recv_enc} and ${recv_mac} (32 bytes each).
 * Return NULL on failure (the descriptors stay the caller's).
 */
struct rp_pair *
rp_pair_new(int plain_in, int plain_out, int cipher,
    const uint8_t send_enc[32], const uint8_t send_mac[32],
    const uint8_t recv_enc[32], const uint8_t recv_mac[32])
{
	struct rp_pair * p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto err0;
	p->fds[RP_PAIR_PLAIN_IN] = plain_in;
	p->fds[RP_PAIR_PLAIN_OUT] = plain_out;
	p->fds[RP_PAIR_CIPHER] = cipher;
	p->nbfd = -1;
	/* The worker that adopts the pipe gives it its buffer budget. */
	if ((p->pipe = proto_pipe_new(send_enc, send_mac, recv_enc, recv_mac,
	    NULL)) == NULL)
		goto err1;
	return (p);

err1:
	free(p);
err0:
	return (NULL);
}

/**
 * rp_pair_prefix(p, buf, len):
 * Send the ${len} bytes at ${buf} (at most CRYPTO_PKT_PTMAX) as the first
 * plaintext of ${p}'s sealed direction, before anything read from its
 * plaintext input.  Return 0 on success, -1 on failure.
 */
int
rp_pair_prefix(struct rp_pair * p, const uint8_t * buf, size_t len)
{

	return (proto_pipe_prefix(p->pipe, buf, len));
}

/**
 * rp_pair_publish(p):
 * Mark ${p} as fully built before it is handed to another thread.
 */
void
rp_pair_publish(struct rp_pair * p)
{

	atomic_store_explicit(&p->handoff, 1, memory_order_release);
}

/**
 * rp_pair_fd(p, which):
 * Return descriptor ${which} (RP_PAIR_*) of ${p}; acquires what
 * rp_pair_publish released.
 */
int
rp_pair_fd(const struct rp_pair * p, int which)
{

	(void)atomic_load_explicit(&((struct rp_pair *)(uintptr_t)p)->handoff,
	    memory_order_acquire);
	return (p->fds[which]);
}

/**
 * rp_pair_set_socks(p, nbfd):
 * Say that every descriptor of ${p} is a socket, that descriptor ${nbfd}
 * (RP_PAIR_*) has O_NONBLOCK and no other status flag, and that the others
 * have none, so that the worker need not look.
 */
void
rp_pair_set_socks(struct rp_pair * p, int nbfd)
{

	p->nbfd = nbfd;
}

/**
 * rp_pair_socks(p):
 * Return the ${nbfd} that rp_pair_set_socks was called with for ${p}, or
 * -1 if it was not.
 */
int
rp_pair_socks(const struct rp_pair * p)
{

	return (p->nbfd);
}

/**
 * rp_pair_take_pipe(p):
 * Return the pipe of ${p} and leave ${p} without it: the caller owns it.
 */
struct proto_pipe *
rp_pair_take_pipe(struct rp_pair * p)
{
	struct proto_pipe * pipe = p->pipe;

	p->pipe = NULL;
	return (pipe);
}

/**
 * rp_pair_release(p):
 * Free ${p} (and its pipe, if still there) but leave its descriptors open.
 */
void
rp_pair_release(struct rp_pair * p)
{

	proto_pipe_free(p->pipe);
	free(p);
}

/**
 * rp_pair_set_owner(p, owner):
 * Name ${owner} as the one the worker's closed callback (and its abort
 * filter, rp_worker_cfg.cut) is told about for ${p}.
 */
void
rp_pair_set_owner(struct rp_pair * p, void * owner)
{

	p->owner = owner;
}

/**
 * rp_pair_owner(p):
 * Return the owner rp_pair_set_owner gave ${p}, or NULL.
 */
void *
rp_pair_owner(const struct rp_pair * p)
{

	return (p->owner);
}

/* The peer slot of descriptor ${which}, or -1. */
static int
pair_peer_slot(int which)
{

	return (which == RP_PAIR_PLAIN_OUT ? 0 : which == RP_PAIR_CIPHER ? 1 :
	    -1);
}

/**
 * rp_pair_set_peer(p, which, sa, len):
 * Say that descriptor ${which} (RP_PAIR_PLAIN_OUT or RP_PAIR_CIPHER) of
 * ${p} is connected to the ${len}-byte address ${sa}, so that the worker
 * need not ask the kernel.
 */
void
rp_pair_set_peer(struct rp_pair * p, int which, const struct sockaddr * sa,
    socklen_t len)
{
	int i = pair_peer_slot(which);

	if (i < 0 || sa == NULL || len == 0 || len > sizeof(p->peer[i]))
		return;
	memset(&p->peer[i], 0, sizeof(p->peer[i]));
	memcpy(&p->peer[i], sa, len);
	p->has_peer[i] = 1;
}

/**
 * rp_pair_peer(p, which):
 * Return what rp_pair_set_peer said of descriptor ${which} of ${p}, or
 * NULL; valid while ${p} is.
 */
const struct sockaddr *
rp_pair_peer(const struct rp_pair * p, int which)
{
	int i = pair_peer_slot(which);

	return ((i >= 0 && p->has_peer[i]) ?
	    (const struct sockaddr *)&p->peer[i] : NULL);
}
