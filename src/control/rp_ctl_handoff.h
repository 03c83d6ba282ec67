#ifndef RP_CTL_HANDOFF_H_
#define RP_CTL_HANDOFF_H_

/*
 * Handing established pairs from the control thread to the workers, and
 * counting them back as the workers close them (rp_ctl_pair_closed, in
 * rp_ctl.h).
 */

#include <sys/socket.h>

struct proto_hs;
struct rp_ctl;
struct rp_ctl_loop;

/* The address a socket is connected to, if known (len 0: not). */
struct rp_ctl_peer {
	const struct sockaddr * sa;
	socklen_t len;
};

/**
 * rp_ctl_handoff(ctl, plain, cipher, plain_peer, cipher_peer, hs):
 * Make a pair of the plaintext socket ${plain} and the encrypted socket
 * ${cipher}, connected to ${plain_peer} and ${cipher_peer}, with the keys
 * of the finished handshake ${hs}, and hand it to the least-loaded worker
 * of ${ctl}, which owns both sockets from then on (its doorbell is rung
 * by rp_ctl_handoff_ring, once per round).  Return 0 on success, or -1 if
 * the caller still owns them.
 */
int rp_ctl_handoff(struct rp_ctl * ctl, int plain, int cipher,
    const struct rp_ctl_peer * plain_peer,
    const struct rp_ctl_peer * cipher_peer, const struct proto_hs * hs);

/**
 * rp_ctl_handoff_ring(loop):
 * Ring the doorbell of each worker that rp_ctl_handoff posted pairs to
 * since the last call and that owes no answer to an earlier ring.
 */
void rp_ctl_handoff_ring(struct rp_ctl_loop * loop);

#endif /* !RP_CTL_HANDOFF_H_ */
