#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto_wipe.h"
#include "proto_handshake.h"
#include "proto_proxy.h"
#include "rp_ctl_handoff.h"
#include "rp_ctl_state.h"
#include "rp_pair.h"
#include "rp_worker.h"

/* Whether a pair posted to worker ${i} of ${ctl} now costs no wake-up of
 * its own: a ring is owed to it this round already, or it is awake and
 * takes the pair in before it sleeps. */
static int
handoff_free(struct rp_ctl * ctl, int i)
{

	return (ctl->loop->ring_owed[i] ||
	    !rp_worker_asleep(ctl->loop->cfg.workers[i]));
}

/*
 * The index of the worker of ${ctl} that carries the fewest pairs.  With
 * the loop on a thread of its own every worker does the same kind of work
 * for each pair it carries, so pairs are the load; on a tie, a worker that
 * the pair costs no wake-up wins (handoff_free).
 */
static int
handoff_pick(struct rp_ctl * ctl)
{
	const struct rp_ctl_loop_cfg * cfg = &ctl->loop->cfg;
	int i, best = 0, load, bestload, bestfree;

	bestload = rp_worker_load(cfg->workers[0]);
	bestfree = -1;
	for (i = 1; i < cfg->nworkers; i++) {
		load = rp_worker_load(cfg->workers[i]);
		if (load > bestload)
			continue;
		if (load == bestload) {
			if (bestfree < 0)
				bestfree = handoff_free(ctl, best);
			if (bestfree || !handoff_free(ctl, i))
				continue;
			bestfree = 1;
		} else
			bestfree = -1;
		best = i;
		bestload = load;
	}
	return (best);
}

/* Put the PROXY protocol ${version} header for the client connection
 * ${plain} ahead of ${p}'s plaintext; -1 on failure. */
static int
handoff_proxy(int version, int plain, struct rp_pair * p)
{
	uint8_t hdr[PROTO_PROXY_MAXLEN];
	struct sockaddr_storage src, dst;
	socklen_t slen = sizeof(src), dlen = sizeof(dst);
	size_t len;

	/* A client whose addresses cannot be read is sent as unknown. */
	if (getpeername(plain, (struct sockaddr *)&src, &slen) ||
	    getsockname(plain, (struct sockaddr *)&dst, &dlen))
		len = proto_proxy_header(version, NULL, NULL, hdr);
	else
		len = proto_proxy_header(version, (struct sockaddr *)&src,
		    (struct sockaddr *)&dst, hdr);
	return (len == 0 ? -1 : rp_pair_prefix(p, hdr, len));
}

/**
 * rp_ctl_handoff(ctl, plain, cipher, plain_peer, cipher_peer, hs):
 * Make a pair of the plaintext socket ${plain} and the encrypted socket
 * ${cipher}, connected to ${plain_peer} and ${cipher_peer}, with the keys
 * of the finished handshake ${hs}, and hand it to the least-loaded worker
 * of ${ctl}, which owns both sockets from then on (its doorbell is rung
 * by rp_ctl_handoff_ring, once per round).  Return 0 on success, or -1 if
 * the caller still owns them.
 */
int
rp_ctl_handoff(struct rp_ctl * ctl, int plain, int cipher,
    const struct rp_ctl_peer * plain_peer,
    const struct rp_ctl_peer * cipher_peer, const struct proto_hs * hs)
{
	struct proto_keys k;
	struct rp_pair * p;
	int i, rc;

	if (proto_hs_keys(hs, &k))
		goto err0;
	p = rp_pair_new(plain, plain, cipher, k.send_enc, k.send_mac,
	    k.recv_enc, k.recv_mac);
	crypto_wipe(&k, sizeof(k));
	if (p == NULL)
		goto err0;
	/* socket made the dialed one with SOCK_NONBLOCK (a connect must
	 * not wait), accept4 the other with no status flag (the handshake's
	 * I/O asks MSG_DONTWAIT), and nothing changed them since. */
	rp_pair_set_socks(p, ctl->cfg->decrypt ? RP_PAIR_PLAIN_IN :
	    RP_PAIR_CIPHER);
	rp_pair_set_owner(p, ctl);
	rp_pair_set_peer(p, RP_PAIR_PLAIN_OUT, plain_peer->sa, plain_peer->len);
	rp_pair_set_peer(p, RP_PAIR_CIPHER, cipher_peer->sa, cipher_peer->len);
	if (ctl->cfg->proxy && handoff_proxy(ctl->cfg->proxy, plain, p))
		goto err1;

	/* Counted before the post: the worker may close it at once. */
	atomic_fetch_add(&ctl->npairs, 1);
	i = handoff_pick(ctl);
	if ((rc = rp_worker_post_held(ctl->loop->cfg.workers[i], p)) < 0)
		goto err2;
	if (rc > 0 && !ctl->loop->ring_owed[i]) {
		ctl->loop->ring_owed[i] = 1;
		ctl->loop->nring_owed++;
	}
	return (0);

err2:
	atomic_fetch_sub(&ctl->npairs, 1);
err1:
	rp_pair_discard(p);
err0:
	return (-1);
}

/**
 * rp_ctl_handoff_ring(loop):
 * Ring the doorbell of each worker that rp_ctl_handoff posted pairs to
 * since the last call and that owes no answer to an earlier ring.
 */
void
rp_ctl_handoff_ring(struct rp_ctl_loop * loop)
{
	int i;

	for (i = 0; loop->nring_owed > 0 && i < loop->cfg.nworkers; i++) {
		if (!loop->ring_owed[i])
			continue;
		rp_worker_ring(loop->cfg.workers[i]);
		loop->ring_owed[i] = 0;
		loop->nring_owed--;
	}
}

/**
 * rp_ctl_pair_closed(cookie, end, timedout):
 * The worker callback (rp_worker_cfg.closed) for pairs handed off by the
 * pipe ${cookie}: count the pair down by how it ended (${end},
 * PROTO_PIPE_END_*; ${timedout}: by ETIMEDOUT) and, if the control thread
 * waits for a close, wake it.
 */
void
rp_ctl_pair_closed(void * cookie, int end, int timedout)
{
	struct rp_ctl * ctl = cookie;
	uint64_t one = 1;

	/* Every worker writes these: a locked add, not rp_ctlstats_count. */
	atomic_fetch_add_explicit(&ctl->sstats->s.closed[end], 1,
	    memory_order_relaxed);
	if (timedout)
		atomic_fetch_add_explicit(&ctl->sstats->s.timedout, 1,
		    memory_order_relaxed);

	/* Both counts first, then close_wake: see rp_ctl_state.h. */
	atomic_fetch_add(&ctl->nclosed, 1);
	atomic_fetch_sub(&ctl->npairs, 1);
	if (atomic_load(&ctl->close_wake) &&
	    write(ctl->loop->wakefd, &one, sizeof(one)) != sizeof(one)) {
		/* Full only after 2^64 - 2 wakes: cannot happen. */
	}
}

/**
 * rp_ctl_pair_cut(cookie):
 * The worker abort filter (rp_worker_cfg.cut): whether the pipe ${cookie}
 * asked for its pairs to be closed at once (its drain ran out of time).
 */
int
rp_ctl_pair_cut(void * cookie)
{
	struct rp_ctl * ctl = cookie;

	return (atomic_load(&ctl->cut));
}
