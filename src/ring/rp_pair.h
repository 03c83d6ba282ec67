#ifndef RP_PAIR_H_
#define RP_PAIR_H_

/*
 * An established connection pair on its way from the control thread (or
 * ringpipe) to a worker: the descriptors and the data-phase state
 * (proto_pipe, with the session keys).  Opaque; the worker that adopts it
 * takes its descriptors and pipe over, and frees the rest.
 */

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

struct proto_pipe;
struct rp_pair;

/* Descriptors of a pair, for rp_pair_fd(). */
#define RP_PAIR_PLAIN_IN	0	/* Read plaintext from here ... */
#define RP_PAIR_PLAIN_OUT	1	/* ... write plaintext here ... */
#define RP_PAIR_CIPHER		2	/* ... and packets both ways here. */

/**
 * rp_pair_new(plain_in, plain_out, cipher, send_enc, send_mac, recv_enc,
 *     recv_mac):
 * Create a pair that reads plaintext from ${plain_in}, sends packets to
 * ${cipher}, and writes what it opens from ${cipher} to ${plain_out}
 * (${plain_in} may equal ${plain_out}), sealing with ${send_enc} and
 * ${send_mac} and opening with ${recv_enc} and ${recv_mac} (32 bytes each).
 * Return NULL on failure (the descriptors stay the caller's).
 */
struct rp_pair * rp_pair_new(int plain_in, int plain_out, int cipher,
    const uint8_t send_enc[32], const uint8_t send_mac[32],
    const uint8_t recv_enc[32], const uint8_t recv_mac[32]);

/**
 * rp_pair_prefix(p, buf, len):
 * Send the ${len} bytes at ${buf} (at most CRYPTO_PKT_PTMAX) as the first
 * plaintext of ${p}'s sealed direction, before anything read from its
 * plaintext input.  Return 0 on success, -1 on failure.
 */
int rp_pair_prefix(struct rp_pair * p, const uint8_t * buf, size_t len);

/**
 * rp_pair_publish(p):
 * Mark ${p} as fully built before it is handed to another thread (release;
 * the inbox's mutex orders memory too, but this keeps the hand-off
 * explicit whatever carries it).
 */
void rp_pair_publish(struct rp_pair * p);

/**
 * rp_pair_fd(p, which):
 * Return descriptor ${which} (RP_PAIR_*) of ${p}; acquires what
 * rp_pair_publish released.
 */
int rp_pair_fd(const struct rp_pair * p, int which);

/**
 * rp_pair_set_socks(p, nbfd):
 * Say that every descriptor of ${p} is a socket, that descriptor ${nbfd}
 * (RP_PAIR_*) has O_NONBLOCK and no other status flag, and that the others
 * have none, so that the worker need not look.
 */
void rp_pair_set_socks(struct rp_pair * p, int nbfd);

/**
 * rp_pair_socks(p):
 * Return the ${nbfd} that rp_pair_set_socks was called with for ${p}, or
 * -1 if it was not.
 */
int rp_pair_socks(const struct rp_pair * p);

/**
 * rp_pair_set_peer(p, which, sa, len):
 * Say that descriptor ${which} (RP_PAIR_PLAIN_OUT or RP_PAIR_CIPHER) of
 * ${p} is connected to the ${len}-byte address ${sa}, so that the worker
 * need not ask the kernel.
 */
void rp_pair_set_peer(struct rp_pair * p, int which,
    const struct sockaddr * sa, socklen_t len);

/**
 * rp_pair_peer(p, which):
 * Return what rp_pair_set_peer said of descriptor ${which} of ${p}, or
 * NULL; valid while ${p} is.
 */
const struct sockaddr * rp_pair_peer(const struct rp_pair * p, int which);

/**
 * rp_pair_set_owner(p, owner):
 * Name ${owner} as the one the worker's closed callback (and its abort
 * filter, rp_worker_cfg.cut) is told about for ${p}.
 */
void rp_pair_set_owner(struct rp_pair * p, void * owner);

/**
 * rp_pair_owner(p):
 * Return the owner rp_pair_set_owner gave ${p}, or NULL.
 */
void * rp_pair_owner(const struct rp_pair * p);

/**
 * rp_pair_take_pipe(p):
 * Return the pipe of ${p} and leave ${p} without it: the caller owns it.
 */
struct proto_pipe * rp_pair_take_pipe(struct rp_pair * p);

/**
 * rp_pair_release(p):
 * Free ${p} (and its pipe, if still there) but leave its descriptors open:
 * the worker took them over, or the hand-off failed and the caller still
 * owns them.
 */
void rp_pair_release(struct rp_pair * p);

/**
 * rp_pair_discard(p):
 * Free ${p} and its pipe, leaving its descriptors open (the hand-off
 * failed; the caller still owns them).
 */
#define rp_pair_discard(p) rp_pair_release(p)

#endif /* !RP_PAIR_H_ */
