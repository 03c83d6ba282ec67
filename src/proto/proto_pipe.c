/*
 * The data phase of a connection pair, without I/O: per direction, packet
 * numbers, framing, buffers that grow while streaming, EOF and errors.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto_pkt.h"
#include "crypto_wipe.h"
#include "proto_pipe.h"

/* Buffer sizes by level: a new direction starts at level 0 (one packet a
 * batch: an idle pair costs little) and climbs while its reads come back
 * full, within the budget. */
#define PIPE_LEVELS	3
static const size_t level_pkts[2][PIPE_LEVELS] = {
	{ 1, 8, PROTO_PIPE_SEAL_PKTS },
	{ 1, 8, PROTO_PIPE_OPEN_PKTS }
};
/* Reads shorter than 1/QUIET_DIV of the space offered, this many times in
 * a row with nothing buffered, take a direction back to level 0. */
#define QUIET_DIV	8
#define QUIET_READS	4
/* Sealing reads CRYPTO_SEAL_PTSLACK bytes past the last plaintext byte. */
#define RBUF_SLACK	16

struct pipe_dir {
	struct crypto_pktkey * key;
	uint64_t pnum;		/* Number of the next packet. */
	int level;

	uint8_t * rbuf;		/* Input: [rhead, rlen) not yet crypted;
				   NULL while nothing is buffered. */
	size_t rsize;		/* Bytes of rbuf as allocated. */
	size_t rcap, rhead, rlen;
	size_t roffer;		/* Bytes offered to the read out. */

	uint8_t * obuf;		/* Output: [ooff, olen) not yet sent;
				   NULL while empty. */
	size_t ocap, olen, ooff;

	size_t crypt_in;	/* Input bytes the jobs out cover. */
	uint64_t hold_since;	/* When the part packet's first byte came. */
	unsigned quiet;		/* Short reads in a row. */

	unsigned rx_out:1, tx_out:1, crypt_out:1;
	unsigned full:1;	/* The last read filled what it was offered. */
	unsigned eof:1, done:1;
};

struct proto_pipe {
	struct pipe_dir dir[2];
	struct proto_pipe_env * env;
	int failed;		/* PROTO_PIPE_END_* other than EOF, or 0. */
};

/* Input bytes at level ${l} of direction ${d}. */
static size_t
rcap_at(int d, int l)
{

	if (d == PROTO_PIPE_SEAL)
		return (level_pkts[d][l] * CRYPTO_PKT_PTMAX);
	/* One packet more than a batch, so the packet cut by the end of a
	 * read completes with the next read. */
	return ((level_pkts[d][l] + 1) * CRYPTO_PKT_LEN);
}

/* Output bytes at level ${l} of direction ${d} (opening writes each packet
 * at a CRYPTO_PKT_PADLEN stride, then compacts). */
static size_t
ocap_at(int d, int l)
{

	return (level_pkts[d][l] *
	    (d == PROTO_PIPE_SEAL ? CRYPTO_PKT_LEN : CRYPTO_PKT_PADLEN));
}

/* Budget charge of level ${l}: what it holds beyond level 0. */
static size_t
charge_at(int d, int l)
{

	return (l == 0 ? 0 : rcap_at(d, l) + ocap_at(d, l));
}

static inline size_t
dir_pending(const struct pipe_dir * pd)
{

	return (pd->rlen - pd->rhead);
}

/* A data buffer of ${len} bytes from ${env}'s hooks, or the heap. */
static void *
buf_get(const struct proto_pipe_env * env, size_t len)
{

	if (env != NULL && env->balloc != NULL)
		return (env->balloc(env->barg, len));
	return (malloc(len));
}

/* Give back ${buf} of ${len} bytes, which buf_get(${env}, ${len}) made. */
static void
buf_put(const struct proto_pipe_env * env, void * buf, size_t len)
{

	if (env != NULL && env->brelease != NULL)
		env->brelease(env->barg, buf, len);
	else
		free(buf);
}

/* Give back ${pd}'s input buffer, which holds nothing. */
static void
dir_drop_rbuf(const struct proto_pipe * p, struct pipe_dir * pd)
{

	buf_put(p->env, pd->rbuf, pd->rsize);
	pd->rbuf = NULL;
	pd->rsize = 0;
	pd->rhead = pd->rlen = 0;
}

/* Give back ${pd}'s output buffer, which holds nothing. */
static void
dir_drop_obuf(const struct proto_pipe * p, struct pipe_dir * pd)
{

	buf_put(p->env, pd->obuf, pd->ocap);
	pd->obuf = NULL;
	pd->ocap = 0;
}

/* Give back ${pd}'s input buffer if it holds nothing and no read or
 * crypto is out: a direction at rest holds no data buffer. */
static void
dir_rest(const struct proto_pipe * p, struct pipe_dir * pd)
{

	if (pd->rbuf != NULL && dir_pending(pd) == 0 && !pd->rx_out &&
	    !pd->crypt_out)
		dir_drop_rbuf(p, pd);
}

/* Make sure ${pd} has its input buffer; return -1 if none could be had. */
static int
dir_need_rbuf(const struct proto_pipe * p, struct pipe_dir * pd)
{

	if (pd->rbuf != NULL)
		return (0);
	if ((pd->rbuf = buf_get(p->env, pd->rcap + RBUF_SLACK)) == NULL)
		return (-1);
	pd->rsize = pd->rcap + RBUF_SLACK;
	pd->rhead = pd->rlen = 0;
	return (0);
}

/* Whether the seal direction ${pd} of ${p} holds back its part-filled
 * last packet now (coalescing, no EOF yet, not waited long enough). */
static inline int
seal_holding(const struct proto_pipe * p, const struct pipe_dir * pd)
{

	return (p->env != NULL && p->env->coalesce > 0 && !pd->eof &&
	    dir_pending(pd) % CRYPTO_PKT_PTMAX != 0 &&
	    p->env->now < pd->hold_since + p->env->coalesce);
}

/* Input bytes of direction ${d} of ${p} that may be crypted now. */
static inline size_t
dir_ready(const struct proto_pipe * p, int d)
{
	const struct pipe_dir * pd = &p->dir[d];
	size_t pending = dir_pending(pd);

	if (d == PROTO_PIPE_OPEN)
		return (pending - pending % CRYPTO_PKT_LEN);
	if (seal_holding(p, pd))
		return (pending - pending % CRYPTO_PKT_PTMAX);
	return (pending);
}

static int
dir_init(struct pipe_dir * pd, int d, const uint8_t enc[32],
    const uint8_t mac[32])
{

	if ((pd->key = crypto_pktkey_new(enc, mac)) == NULL)
		goto err0;
	/* The input buffer comes with the first read. */
	pd->rcap = rcap_at(d, 0);
	return (0);

err0:
	return (-1);
}

static void
dir_free(struct proto_pipe * p, struct pipe_dir * pd)
{

	crypto_pktkey_free(pd->key);
	dir_drop_rbuf(p, pd);
	dir_drop_obuf(p, pd);
}

/**
 * proto_pipe_new(send_enc, send_mac, recv_enc, recv_mac, env):
 * Create a pipe that seals with the keys ${send_enc}/${send_mac} and opens
 * with ${recv_enc}/${recv_mac} (32 bytes each), growing its buffers within
 * the budget of ${env} and coalescing as it says (${env} must outlive the
 * pipe; NULL: never grow, never hold).  Return NULL on failure.
 */
struct proto_pipe *
proto_pipe_new(const uint8_t send_enc[32], const uint8_t send_mac[32],
    const uint8_t recv_enc[32], const uint8_t recv_mac[32],
    struct proto_pipe_env * env)
{
	struct proto_pipe * p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto err0;
	p->env = env;
	if (dir_init(&p->dir[PROTO_PIPE_SEAL], PROTO_PIPE_SEAL, send_enc,
	    send_mac))
		goto err1;
	if (dir_init(&p->dir[PROTO_PIPE_OPEN], PROTO_PIPE_OPEN, recv_enc,
	    recv_mac))
		goto err2;
	return (p);

err2:
	dir_free(p, &p->dir[PROTO_PIPE_SEAL]);
err1:
	free(p);
err0:
	return (NULL);
}

/* Move the ${len} bytes of the buffer *${bufp} (of ${size} bytes, from
 * ${from}) into a buffer of ${size} bytes from ${to}. */
static int
buf_move(const struct proto_pipe_env * from, const struct proto_pipe_env * to,
    uint8_t ** bufp, size_t size, size_t len)
{
	uint8_t * nb;

	if (*bufp == NULL)
		return (0);
	if ((nb = buf_get(to, size)) == NULL)
		return (-1);
	memcpy(nb, *bufp, len);
	buf_put(from, *bufp, size);
	*bufp = nb;
	return (0);
}

/**
 * proto_pipe_set_env(p, env):
 * Make ${p} use ${env} from now on (an engine thread that adopts a pipe
 * made elsewhere), moving the bytes it buffers into buffers from ${env}.
 * Return 0, or -1 if no buffer could be had (${p} then fails).
 */
int
proto_pipe_set_env(struct proto_pipe * p, struct proto_pipe_env * env)
{
	struct pipe_dir * pd;
	int d, rc = 0;

	/* Level 0 only so far: no budget charge moves. */
	for (d = 0; d < 2; d++) {
		pd = &p->dir[d];
		if (buf_move(p->env, env, &pd->rbuf, pd->rsize, pd->rlen) ||
		    buf_move(p->env, env, &pd->obuf, pd->ocap, pd->olen))
			rc = -1;
	}
	p->env = env;
	if (rc)
		p->failed = PROTO_PIPE_END_NOMEM;
	return (rc);
}

/**
 * proto_pipe_free(p):
 * Wipe and free ${p} with its keys and buffers.  NULL is a no-op.
 */
void
proto_pipe_free(struct proto_pipe * p)
{
	int d;

	if (p == NULL)
		return;
	for (d = 0; d < 2; d++) {
		if (p->env)
			p->env->used -= charge_at(d, p->dir[d].level);
		dir_free(p, &p->dir[d]);
	}
	crypto_wipe(p, sizeof(*p));
	free(p);
}

/**
 * proto_pipe_want(p, d):
 * Return what direction ${d} of ${p} needs now, as PROTO_PIPE_* bits.
 */
int
proto_pipe_want(const struct proto_pipe * p, int d)
{
	const struct pipe_dir * pd = &p->dir[d];
	int want = 0;

	if (p->failed)
		return (0);
	if (pd->done)
		return (PROTO_PIPE_DONE);
	if (!pd->eof && !pd->rx_out && dir_pending(pd) < pd->rcap)
		want |= PROTO_PIPE_WANT_READ;
	if (pd->crypt_out)
		return (want);
	if (pd->olen > pd->ooff) {
		if (!pd->tx_out)
			want |= PROTO_PIPE_WANT_SEND;
	} else if (!pd->tx_out) {
		if (dir_ready(p, d) > 0)
			want |= PROTO_PIPE_WANT_CRYPTO;
		else if (pd->eof && dir_pending(pd) == 0)
			want |= PROTO_PIPE_WANT_SHUT;
	}
	return (want);
}

/**
 * proto_pipe_failed(p):
 * Return non-zero if ${p} failed (a bad packet, EOF inside a packet, or an
 * I/O error reported by the engine): the pair must be closed at once.
 */
int
proto_pipe_failed(const struct proto_pipe * p)
{

	return (p->failed);
}

/**
 * proto_pipe_finished(p):
 * Return non-zero if ${p} failed or both directions are done.
 */
int
proto_pipe_finished(const struct proto_pipe * p)
{

	return (p->failed || (p->dir[0].done && p->dir[1].done));
}

/**
 * proto_pipe_end(p):
 * Return how ${p} ended or is ending: PROTO_PIPE_END_EOF if it has not
 * failed, else the PROTO_PIPE_END_* reason of the failure.
 */
int
proto_pipe_end(const struct proto_pipe * p)
{

	return (p->failed ? p->failed : PROTO_PIPE_END_EOF);
}

/**
 * proto_pipe_fail(p):
 * Mark ${p} failed (the engine saw an I/O error on one of its sockets).
 */
void
proto_pipe_fail(struct proto_pipe * p)
{

	p->failed = PROTO_PIPE_END_IO;
}

/* Move direction ${d} of ${p} to level ${l} if memory and the budget allow;
 * its input buffer holds only the pending bytes, at its start, and no read
 * or crypto is out.  The output buffer is resized when next empty (it may
 * hold bytes being sent).  On failure nothing changes. */
static void
dir_set_level(struct proto_pipe * p, int d, int l)
{
	struct pipe_dir * pd = &p->dir[d];
	size_t rcap = rcap_at(d, l), ochg, nchg;
	uint8_t * nb = NULL;

	ochg = charge_at(d, pd->level);
	nchg = charge_at(d, l);
	if (nchg > ochg && (p->env == NULL ||
	    p->env->used - ochg + nchg > p->env->limit))
		return;
	if (pd->rbuf != NULL) {
		if ((nb = buf_get(p->env, rcap + RBUF_SLACK)) == NULL)
			return;
		memcpy(nb, pd->rbuf, pd->rlen);
		buf_put(p->env, pd->rbuf, pd->rsize);
		pd->rsize = rcap + RBUF_SLACK;
	}
	pd->rbuf = nb;
	pd->rcap = rcap;
	if (pd->olen == 0)
		dir_drop_obuf(p, pd);
	if (p->env)
		p->env->used = p->env->used - ochg + nchg;
	pd->level = l;
	pd->quiet = 0;
}

/**
 * proto_pipe_prefix(p, buf, len):
 * Put the ${len} bytes at ${buf} ahead of all plaintext ${p} will read on
 * its seal direction (a PROXY protocol header, say).  Only before the
 * first read, and ${len} at most CRYPTO_PKT_PTMAX.  Return 0, or -1 if
 * that does not hold.
 */
int
proto_pipe_prefix(struct proto_pipe * p, const uint8_t * buf, size_t len)
{
	struct pipe_dir * pd = &p->dir[PROTO_PIPE_SEAL];

	if (pd->rx_out || pd->eof || pd->rlen + len > pd->rcap ||
	    len > CRYPTO_PKT_PTMAX || dir_need_rbuf(p, pd))
		return (-1);
	memcpy(pd->rbuf + pd->rlen, buf, len);
	pd->rlen += len;
	pd->hold_since = p->env ? p->env->now : 0;
	return (0);
}

/**
 * proto_pipe_deadline(p):
 * Return the time (env->now scale) at which ${p}'s seal direction stops
 * holding a part-filled packet and wants crypto, or 0 if it holds none.
 * The engine must pump ${p} again once its clock reaches that time.
 */
uint64_t
proto_pipe_deadline(const struct proto_pipe * p)
{
	const struct pipe_dir * pd = &p->dir[PROTO_PIPE_SEAL];

	if (p->failed || pd->crypt_out || !seal_holding(p, pd))
		return (0);
	return (pd->hold_since + p->env->coalesce);
}

/**
 * proto_pipe_rx_get(p, d, len):
 * If direction ${d} of ${p} wants to read, make room, mark a read out and
 * return where it goes, with its most bytes in *${len}; else return NULL.
 * The read must be ended with proto_pipe_rx_put().
 */
uint8_t *
proto_pipe_rx_get(struct proto_pipe * p, int d, size_t * len)
{
	struct pipe_dir * pd = &p->dir[d];
	size_t pending;

	if (!(proto_pipe_want(p, d) & PROTO_PIPE_WANT_READ))
		return (NULL);
	pending = dir_pending(pd);
	if (pd->rhead > 0 && pd->rbuf != NULL) {
		memmove(pd->rbuf, pd->rbuf + pd->rhead, pending);
		pd->rhead = 0;
		pd->rlen = pending;
	}
	/* Resize only while no crypto is out: its jobs point into rbuf. */
	if (!pd->crypt_out) {
		if (pd->quiet >= QUIET_READS && pending == 0 &&
		    pd->olen == 0 && pd->level > 0)
			dir_set_level(p, d, 0);
		else if (pd->full && pd->level + 1 < PIPE_LEVELS)
			dir_set_level(p, d, pd->level + 1);
	}
	pd->full = 0;
	if (dir_need_rbuf(p, pd)) {
		p->failed = PROTO_PIPE_END_NOMEM;
		return (NULL);
	}
	pd->roffer = pd->rcap - pd->rlen;
	pd->rx_out = 1;
	*len = pd->roffer;
	return (pd->rbuf + pd->rlen);
}

/**
 * proto_pipe_rx_put(p, d, n):
 * End the read out on direction ${d} of ${p}: ${n} > 0 bytes arrived, 0 is
 * end of stream, -1 is an error (the pipe fails).  Cancelled or retried
 * reads (EAGAIN, EINTR) are reported as proto_pipe_rx_abort().
 */
void
proto_pipe_rx_put(struct proto_pipe * p, int d, ptrdiff_t n)
{
	struct pipe_dir * pd = &p->dir[d];

	pd->rx_out = 0;
	if (n < 0 || (size_t)n > pd->roffer) {
		p->failed = PROTO_PIPE_END_IO;
		return;
	}
	if (n == 0) {
		pd->eof = 1;
		pd->roffer = 0;
		/* End of stream inside a packet: the peer cut it short. */
		if (d == PROTO_PIPE_OPEN && dir_pending(pd) % CRYPTO_PKT_LEN)
			p->failed = PROTO_PIPE_END_TRUNCATED;
		dir_rest(p, pd);
		return;
	}
	/* A full read asks for more room (the next rx_get grows); short
	 * reads with nothing left over count towards shrinking. */
	if ((size_t)n == pd->roffer) {
		pd->quiet = 0;
		pd->full = 1;
	} else {
		if ((size_t)n < pd->roffer / QUIET_DIV) {
			if (pd->quiet < QUIET_READS)
				pd->quiet++;
		} else {
			pd->quiet = 1;
		}
	}
	pd->roffer = 0;
	/* A part packet starts with these bytes: its wait starts now. */
	if (d == PROTO_PIPE_SEAL && p->env != NULL &&
	    (dir_pending(pd) % CRYPTO_PKT_PTMAX == 0 ||
	    dir_pending(pd) / CRYPTO_PKT_PTMAX !=
	    (dir_pending(pd) + (size_t)n) / CRYPTO_PKT_PTMAX))
		pd->hold_since = p->env->now;
	pd->rlen += (size_t)n;
}

/**
 * proto_pipe_rx_abort(p, d):
 * End the read out on direction ${d} of ${p} with nothing read and no
 * change of state (it was cancelled or would have blocked).
 */
void
proto_pipe_rx_abort(struct proto_pipe * p, int d)
{
	struct pipe_dir * pd = &p->dir[d];

	pd->rx_out = 0;
	/* No evidence either way: neither grow nor shrink on this. */
	if (pd->quiet == 0)
		pd->quiet = 1;
	pd->roffer = 0;
	dir_rest(p, pd);
}

/* Make sure ${pd}'s output buffer can hold what its level produces; return
 * the number of packets it has room for. */
static size_t
dir_out_room(struct proto_pipe * p, struct pipe_dir * pd, int d)
{
	size_t need = ocap_at(d, pd->level);
	size_t stride = (d == PROTO_PIPE_SEAL) ? CRYPTO_PKT_LEN :
	    CRYPTO_PKT_PADLEN;
	uint8_t * nb;

	/* Empty here: crypto is taken only with no output queued. */
	if (pd->ocap != need && (nb = buf_get(p->env, need)) != NULL) {
		dir_drop_obuf(p, pd);
		pd->obuf = nb;
		pd->ocap = need;
	}
	return (pd->ocap / stride);
}

/* Start crypto on direction ${d}: return how many packets at most, or 0. */
static size_t
dir_crypt_begin(struct proto_pipe * p, int d, size_t max)
{
	struct pipe_dir * pd = &p->dir[d];
	size_t room;

	if (!(proto_pipe_want(p, d) & PROTO_PIPE_WANT_CRYPTO) || max == 0)
		return (0);
	if ((room = dir_out_room(p, pd, d)) == 0) {
		/* Out of memory for even one packet: give this pair up. */
		p->failed = PROTO_PIPE_END_NOMEM;
		return (0);
	}
	return (room < max ? room : max);
}

/**
 * proto_pipe_seal_jobs(p, jobs, max):
 * If the seal direction of ${p} wants crypto, describe at most ${max}
 * packets to seal in ${jobs} and return how many (0 if none); they must be
 * run and reported with proto_pipe_seal_done() before ${p} is used again.
 */
size_t
proto_pipe_seal_jobs(struct proto_pipe * p, struct crypto_seal_job * jobs,
    size_t max)
{
	struct pipe_dir * pd = &p->dir[PROTO_PIPE_SEAL];
	const uint8_t * in;
	size_t pending = dir_ready(p, PROTO_PIPE_SEAL), n, off;

	/* Only once crypto is wanted: a direction at rest holds no buffer
	 * (rbuf NULL), and NULL + 0 is undefined. */
	if ((max = dir_crypt_begin(p, PROTO_PIPE_SEAL, max)) == 0)
		return (0);
	in = pd->rbuf + pd->rhead;
	for (n = off = 0; n < max && off < pending; n++) {
		jobs[n].key = pd->key;
		jobs[n].pt = in + off;
		jobs[n].len = (pending - off < CRYPTO_PKT_PTMAX) ?
		    pending - off : CRYPTO_PKT_PTMAX;
		jobs[n].pnum = pd->pnum + n;
		jobs[n].out = pd->obuf + n * CRYPTO_PKT_LEN;
		off += jobs[n].len;
		/* The bytes after a job are the next job's, or rbuf's own
		 * slack past its capacity, or where a read out may be
		 * writing now: never read those. */
		jobs[n].flags = (pd->rhead + off == pd->rlen && pd->rx_out &&
		    pd->rlen < pd->rcap) ? 0 : CRYPTO_SEAL_PTSLACK;
	}
	pd->pnum += n;
	pd->crypt_in = off;
	pd->crypt_out = 1;
	return (n);
}

/**
 * proto_pipe_seal_done(p, n):
 * The ${n} jobs last taken from ${p}'s seal direction have run: queue the
 * packets for sending.
 */
void
proto_pipe_seal_done(struct proto_pipe * p, size_t n)
{
	struct pipe_dir * pd = &p->dir[PROTO_PIPE_SEAL];

	pd->crypt_out = 0;
	pd->rhead += pd->crypt_in;
	pd->crypt_in = 0;
	pd->olen = n * CRYPTO_PKT_LEN;
	pd->ooff = 0;
	dir_rest(p, pd);
}

/**
 * proto_pipe_open_jobs(p, jobs, max):
 * If the open direction of ${p} wants crypto, describe at most ${max}
 * whole packets to open in ${jobs} and return how many (0 if none); they
 * must be run and reported with proto_pipe_open_done() before ${p} is used
 * again.
 */
size_t
proto_pipe_open_jobs(struct proto_pipe * p, struct crypto_open_job * jobs,
    size_t max)
{
	struct pipe_dir * pd = &p->dir[PROTO_PIPE_OPEN];
	uint8_t * in;
	size_t n, npkts = dir_pending(pd) / CRYPTO_PKT_LEN;

	if ((max = dir_crypt_begin(p, PROTO_PIPE_OPEN, max)) == 0)
		return (0);
	in = pd->rbuf + pd->rhead;
	if (npkts > max)
		npkts = max;
	for (n = 0; n < npkts; n++) {
		jobs[n].key = pd->key;
		jobs[n].in = in + n * CRYPTO_PKT_LEN;
		jobs[n].pnum = pd->pnum + n;
		jobs[n].out = pd->obuf + n * CRYPTO_PKT_PADLEN;
		jobs[n].len = -1;
	}
	pd->pnum += n;
	pd->crypt_in = n * CRYPTO_PKT_LEN;
	pd->crypt_out = 1;
	return (n);
}

/**
 * proto_pipe_open_done(p, jobs, n):
 * The ${n} jobs at ${jobs}, last taken from ${p}'s open direction, have
 * run: queue their plaintext for sending, or fail ${p} if any did not
 * verify.  Return 0, or -1 if ${p} failed.
 */
int
proto_pipe_open_done(struct proto_pipe * p,
    const struct crypto_open_job * jobs, size_t n)
{
	struct pipe_dir * pd = &p->dir[PROTO_PIPE_OPEN];
	size_t i, off = 0;

	pd->crypt_out = 0;
	for (i = 0; i < n; i++) {
		if (jobs[i].len < 1 || jobs[i].len > CRYPTO_PKT_PTMAX) {
			p->failed = PROTO_PIPE_END_BAD_PACKET;
			return (-1);
		}
		/* Packet i's plaintext is at i * PADLEN: close the gaps. */
		if (off != i * CRYPTO_PKT_PADLEN)
			memmove(pd->obuf + off, jobs[i].out,
			    (size_t)jobs[i].len);
		off += (size_t)jobs[i].len;
	}
	pd->rhead += pd->crypt_in;
	pd->crypt_in = 0;
	pd->olen = off;
	pd->ooff = 0;
	dir_rest(p, pd);
	return (0);
}

/**
 * proto_pipe_tx_get(p, d, len):
 * If direction ${d} of ${p} has output to send and no send is out, mark a
 * send out and return its bytes, with their number in *${len}; else return
 * NULL.  The send must be ended with proto_pipe_tx_put().
 */
const uint8_t *
proto_pipe_tx_get(struct proto_pipe * p, int d, size_t * len)
{
	struct pipe_dir * pd = &p->dir[d];

	if (!(proto_pipe_want(p, d) & PROTO_PIPE_WANT_SEND))
		return (NULL);
	pd->tx_out = 1;
	*len = pd->olen - pd->ooff;
	return (pd->obuf + pd->ooff);
}

/**
 * proto_pipe_tx_put(p, d, n):
 * End the send out on direction ${d} of ${p}: ${n} >= 0 bytes went out
 * (the rest stays queued), or -1 on an error (the pipe fails).
 */
void
proto_pipe_tx_put(struct proto_pipe * p, int d, ptrdiff_t n)
{
	struct pipe_dir * pd = &p->dir[d];

	pd->tx_out = 0;
	if (n < 0 || (size_t)n > pd->olen - pd->ooff) {
		p->failed = PROTO_PIPE_END_IO;
		return;
	}
	pd->ooff += (size_t)n;
	if (pd->ooff == pd->olen) {
		pd->ooff = pd->olen = 0;
		dir_drop_obuf(p, pd);
	}
}

/**
 * proto_pipe_shut_done(p, d):
 * The engine half-closed the output of direction ${d} of ${p}, which asked
 * for it with PROTO_PIPE_WANT_SHUT: that direction is done.
 */
void
proto_pipe_shut_done(struct proto_pipe * p, int d)
{

	p->dir[d].done = 1;
}

/**
 * proto_pipe_memory(p):
 * Return the bytes of buffer memory ${p} holds now.
 */
size_t
proto_pipe_memory(const struct proto_pipe * p)
{
	size_t m = sizeof(*p);
	int d;

	for (d = 0; d < 2; d++)
		m += p->dir[d].rsize + p->dir[d].ocap;
	return (m);
}
