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
/* Bytes past a seal job's plaintext that CRYPTO_SEAL_PTSLACK reads. */
#define PTSLACK_BYTES	4
/* Most pieces of lent input a direction holds at once. */
#define PIPE_SEGS	8

/* A piece of input lent by the engine (proto_pipe_rx_lend): ${len} bytes
 * at ${buf}, then ${after} readable bytes.  Every piece but the last holds
 * whole packets (a part packet moves to the front of the next piece). */
struct pipe_seg {
	uint8_t * buf;
	size_t len;
	size_t after;
};

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

	struct pipe_seg seg[PIPE_SEGS];	/* Lent input, after rbuf's. */
	unsigned nseg;
	size_t slen;		/* Bytes of seg[]. */

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

/* Whether ${p} takes its input lent (proto_pipe_rx_lend): its own input
 * buffer then holds at most a part packet, whatever the level. */
static inline int
pipe_lends(const struct proto_pipe * p)
{

	return (p->env != NULL && p->env->lend);
}

/* Input buffer bytes of ${p}'s direction ${d} at level ${l}. */
static size_t
rcap_of(const struct proto_pipe * p, int d, int l)
{

	return (rcap_at(d, pipe_lends(p) ? 0 : l));
}

/* Most bytes of input direction ${d} holds at level ${l} when lent: what
 * one batch crypts (opening: and a part packet after it). */
static size_t
lcap_at(int d, int l)
{

	if (d == PROTO_PIPE_SEAL)
		return (level_pkts[d][l] * CRYPTO_PKT_PTMAX);
	return ((level_pkts[d][l] + 1) * CRYPTO_PKT_LEN - 1);
}

/* Budget charge of level ${l}: what it holds beyond level 0. */
static size_t
charge_at(const struct proto_pipe * p, int d, int l)
{

	return (l == 0 ? 0 : rcap_of(p, d, l) + ocap_at(d, l));
}

/* Input bytes in ${pd}'s own buffer, not yet crypted. */
static inline size_t
dir_rpending(const struct pipe_dir * pd)
{

	return (pd->rlen - pd->rhead);
}

/* Input bytes not yet crypted: its own buffer's, then those lent. */
static inline size_t
dir_pending(const struct pipe_dir * pd)
{

	return (pd->rlen - pd->rhead + pd->slen);
}

/* Most input bytes direction ${d} of ${p} holds before it stops reading. */
static inline size_t
dir_room(const struct proto_pipe * p, int d)
{
	const struct pipe_dir * pd = &p->dir[d];

	return (pipe_lends(p) ? lcap_at(d, pd->level) : pd->rcap);
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

	if (pd->rbuf != NULL && dir_rpending(pd) == 0 && !pd->rx_out &&
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
			p->env->used -= charge_at(p, d, p->dir[d].level);
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
	if (!pd->eof && !pd->rx_out && dir_pending(pd) < dir_room(p, d))
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
	size_t rcap = rcap_of(p, d, l), ochg, nchg;
	uint8_t * nb = NULL;

	ochg = charge_at(p, d, pd->level);
	nchg = charge_at(p, d, l);
	/* A smaller input buffer must hold what is pending. */
	if (pd->rbuf != NULL && pd->rlen > rcap)
		return;
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

/* Before input is taken on direction ${d} of ${p}: move its own buffer's
 * pending bytes to its start, and climb or fall a level as its reads
 * asked (only while no crypto is out, nothing is lent: jobs and pieces
 * point into the buffers). */
static void
dir_take_begin(struct proto_pipe * p, int d)
{
	struct pipe_dir * pd = &p->dir[d];
	size_t pending = dir_rpending(pd);

	if (pd->rhead > 0 && pd->rbuf != NULL) {
		memmove(pd->rbuf, pd->rbuf + pd->rhead, pending);
		pd->rhead = 0;
		pd->rlen = pending;
	}
	if (!pd->crypt_out && pd->nseg == 0) {
		if (pd->quiet >= QUIET_READS && pending == 0 &&
		    pd->olen == 0 && pd->level > 0)
			dir_set_level(p, d, 0);
		else if (pd->full && pd->level + 1 < PIPE_LEVELS)
			dir_set_level(p, d, pd->level + 1);
	}
	pd->full = 0;
}

/* ${n} > 0 bytes came on direction ${d} of ${p}, of the ${offer} it had
 * room for: a full read asks for more room (the next one grows); short
 * reads with nothing left over count towards shrinking.  A part packet
 * starts with these bytes: its wait starts now. */
static void
dir_took(struct proto_pipe * p, int d, size_t n, size_t offer)
{
	struct pipe_dir * pd = &p->dir[d];
	size_t before = dir_pending(pd);

	if (n == offer) {
		pd->quiet = 0;
		pd->full = 1;
	} else if (n < offer / QUIET_DIV) {
		if (pd->quiet < QUIET_READS)
			pd->quiet++;
	} else {
		pd->quiet = 1;
	}
	if (d == PROTO_PIPE_SEAL && p->env != NULL &&
	    (before % CRYPTO_PKT_PTMAX == 0 ||
	    before / CRYPTO_PKT_PTMAX != (before + n) / CRYPTO_PKT_PTMAX))
		pd->hold_since = p->env->now;
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

	if (!(proto_pipe_want(p, d) & PROTO_PIPE_WANT_READ) || pd->nseg > 0)
		return (NULL);
	dir_take_begin(p, d);
	if (dir_need_rbuf(p, pd)) {
		p->failed = PROTO_PIPE_END_NOMEM;
		return (NULL);
	}
	/* A read of nothing would look like end of stream. */
	if (pd->rlen >= pd->rcap)
		return (NULL);
	pd->roffer = pd->rcap - pd->rlen;
	pd->rx_out = 1;
	*len = pd->roffer;
	return (pd->rbuf + pd->rlen);
}

/**
 * proto_pipe_rx_lend(p, d, buf, len, before, after):
 * Lend direction ${d} of ${p} the ${len} received bytes at ${buf}, of
 * which it takes what its next crypto batch will use: return how many (0
 * if it takes none now).  ${before} bytes before ${buf} (at least
 * PROTO_PIPE_LEND_BEFORE) may be overwritten, and ${after} bytes after
 * ${buf}[len - 1] may be read.  The bytes taken stay the engine's memory,
 * lent until proto_pipe_rx_lent() says the pipe holds none.
 */
size_t
proto_pipe_rx_lend(struct proto_pipe * p, int d, uint8_t * buf, size_t len,
    size_t before, size_t after)
{
	struct pipe_dir * pd = &p->dir[d];
	size_t unit = (d == PROTO_PIPE_SEAL) ? CRYPTO_PKT_PTMAX :
	    CRYPTO_PKT_LEN, pending, room, take, carry;
	uint8_t * from;

	/* Only into an empty output, so that the crypto of the next batch
	 * uses all that is lent: a peer that stops reading never holds the
	 * engine's buffers. */
	if (!pipe_lends(p) || len == 0 || p->failed || pd->eof ||
	    pd->rx_out || pd->crypt_out || pd->olen > 0 || pd->tx_out ||
	    pd->nseg == PIPE_SEGS || before < PROTO_PIPE_LEND_BEFORE)
		return (0);
	if (pd->nseg == 0)
		dir_take_begin(p, d);
	pending = dir_pending(pd);
	if (pending >= (room = dir_room(p, d))) {
		pd->full = 1;
		return (0);
	}
	take = (len < room - pending) ? len : room - pending;
	dir_took(p, d, take, room - pending);
	/* Not a whole packet yet (a peer that trickles): the bytes go to the
	 * pipe's own buffer, so that no engine buffer waits for the rest.
	 * Lent pieces thus always hold a whole packet: crypto is due. */
	if (pd->nseg == 0 && dir_rpending(pd) + take < unit) {
		if (dir_need_rbuf(p, pd)) {
			p->failed = PROTO_PIPE_END_NOMEM;
			return (0);
		}
		memcpy(pd->rbuf + pd->rlen, buf, take);
		pd->rlen += take;
		return (take);
	}
	/* The part packet the input so far ends with goes in front of these
	 * bytes, so that every piece but the last holds whole packets. */
	if (pd->nseg > 0) {
		carry = pd->seg[pd->nseg - 1].len % unit;
		from = pd->seg[pd->nseg - 1].buf + pd->seg[pd->nseg - 1].len -
		    carry;
		/* A piece left empty gives its place to this one. */
		if ((pd->seg[pd->nseg - 1].len -= carry) == 0)
			pd->nseg--;
	} else {
		carry = dir_rpending(pd) % unit;
		from = (carry > 0) ? pd->rbuf + pd->rlen - carry : NULL;
		pd->rlen -= carry;
		pd->slen += carry;
	}
	if (carry > 0)
		memcpy(buf - carry, from, carry);
	pd->seg[pd->nseg].buf = buf - carry;
	pd->seg[pd->nseg].len = carry + take;
	pd->seg[pd->nseg].after = after + (len - take);
	pd->nseg++;
	pd->slen += take;
	dir_rest(p, pd);
	return (take);
}

/**
 * proto_pipe_rx_takes(p, d):
 * Return non-zero if direction ${d} of ${p} would take input now (lent
 * input only into an empty output, read input while it has room).
 */
int
proto_pipe_rx_takes(const struct proto_pipe * p, int d)
{
	const struct pipe_dir * pd = &p->dir[d];

	if (!(proto_pipe_want(p, d) & PROTO_PIPE_WANT_READ))
		return (0);
	return (!pipe_lends(p) || (!pd->crypt_out && pd->olen == 0 &&
	    !pd->tx_out && pd->nseg < PIPE_SEGS));
}

/**
 * proto_pipe_rx_cap(p, d):
 * Return the most input bytes direction ${d} of ${p} takes for one batch
 * at its present size.
 */
size_t
proto_pipe_rx_cap(const struct proto_pipe * p, int d)
{

	return (dir_room(p, d));
}

/**
 * proto_pipe_rx_lent(p, d):
 * Return non-zero while direction ${d} of ${p} holds bytes lent to it.
 */
int
proto_pipe_rx_lent(const struct proto_pipe * p, int d)
{

	return (p->dir[d].nseg > 0);
}

/**
 * proto_pipe_rx_eof(p, d):
 * The input of direction ${d} of ${p} has ended (nothing is lent or out).
 */
void
proto_pipe_rx_eof(struct proto_pipe * p, int d)
{
	struct pipe_dir * pd = &p->dir[d];

	if (pd->rx_out || pd->nseg > 0 || pd->eof)
		return;
	pd->rx_out = 1;
	pd->roffer = 0;
	proto_pipe_rx_put(p, d, 0);
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
	dir_took(p, d, (size_t)n, pd->roffer);
	pd->roffer = 0;
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

/* Piece ${i} (0 to nseg) of ${pd}'s pending input: 0 is its own
 * buffer's, then the lent ones.  Return its bytes, with their number in
 * *${len} (maybe 0: then NULL) and the readable bytes after them in
 * *${after}. */
static uint8_t *
dir_piece(const struct pipe_dir * pd, unsigned i, size_t * len,
    size_t * after)
{

	if (i == 0) {
		*len = dir_rpending(pd);
		/* Its slack, unless a read out may be writing there. */
		*after = (pd->rx_out && pd->rlen < pd->rcap) ? 0 : RBUF_SLACK;
		return (*len > 0 ? pd->rbuf + pd->rhead : NULL);
	}
	*len = pd->seg[i - 1].len;
	*after = pd->seg[i - 1].after;
	return (pd->seg[i - 1].buf);
}

/* The crypto of ${pd} has used its first ${n} pending bytes: drop them,
 * and move what is left of the lent input (a part packet) into its own
 * buffer, so that nothing stays lent.  On no memory, fail ${p}. */
static void
dir_consume(struct proto_pipe * p, struct pipe_dir * pd, size_t n)
{
	size_t k = dir_rpending(pd), left = pd->slen, nsize;
	unsigned i;
	uint8_t * nb;

	k = (n < k) ? n : k;
	pd->rhead += k;
	n -= k;
	left -= n;
	if (pd->nseg == 0)
		goto done;
	if (left > 0) {
		if (dir_need_rbuf(p, pd))
			goto fail;
		if (pd->rsize - RBUF_SLACK - pd->rlen < left) {
			/* More than a part packet: only when a batch had no
			 * room for all that was lent. */
			nsize = pd->rlen + left + RBUF_SLACK;
			if ((nb = buf_get(p->env, nsize)) == NULL)
				goto fail;
			memcpy(nb, pd->rbuf, pd->rlen);
			buf_put(p->env, pd->rbuf, pd->rsize);
			pd->rbuf = nb;
			pd->rsize = nsize;
			if (pd->rcap < nsize - RBUF_SLACK)
				pd->rcap = nsize - RBUF_SLACK;
		}
		for (i = 0; i < pd->nseg; i++) {
			k = (n < pd->seg[i].len) ? n : pd->seg[i].len;
			n -= k;
			memcpy(pd->rbuf + pd->rlen, pd->seg[i].buf + k,
			    pd->seg[i].len - k);
			pd->rlen += pd->seg[i].len - k;
		}
	}
	pd->nseg = 0;
	pd->slen = 0;
done:
	return;
fail:
	pd->nseg = 0;
	pd->slen = 0;
	p->failed = PROTO_PIPE_END_NOMEM;
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
	size_t ready = dir_ready(p, PROTO_PIPE_SEAL), n, off, tot, len, after;
	unsigned i;

	/* Only once crypto is wanted: a direction at rest holds no buffer
	 * (rbuf NULL), and NULL + 0 is undefined. */
	if ((max = dir_crypt_begin(p, PROTO_PIPE_SEAL, max)) == 0)
		return (0);
	n = tot = 0;
	for (i = 0; n < max && tot < ready && i <= pd->nseg; i++) {
		in = dir_piece(pd, i, &len, &after);
		if (len > ready - tot)
			len = ready - tot;
		for (off = 0; n < max && off < len; n++) {
			jobs[n].key = pd->key;
			jobs[n].pt = in + off;
			jobs[n].len = (len - off < CRYPTO_PKT_PTMAX) ?
			    len - off : CRYPTO_PKT_PTMAX;
			jobs[n].pnum = pd->pnum + n;
			jobs[n].out = pd->obuf + n * CRYPTO_PKT_LEN;
			off += jobs[n].len;
			/* The bytes after a job are the next job's, or
			 * readable past the piece, or where a read out may
			 * be writing now: never read those. */
			jobs[n].flags = (off < len || after >= PTSLACK_BYTES) ?
			    CRYPTO_SEAL_PTSLACK : 0;
		}
		tot += off;
	}
	pd->pnum += n;
	pd->crypt_in = tot;
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
	dir_consume(p, pd, pd->crypt_in);
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
	size_t n, k, npkts, len, after;
	unsigned i;

	if ((max = dir_crypt_begin(p, PROTO_PIPE_OPEN, max)) == 0)
		return (0);
	/* Every piece but the last holds whole packets. */
	n = 0;
	for (i = 0; n < max && i <= pd->nseg; i++) {
		in = dir_piece(pd, i, &len, &after);
		npkts = len / CRYPTO_PKT_LEN;
		for (k = 0; n < max && k < npkts; k++, n++) {
			jobs[n].key = pd->key;
			jobs[n].in = in + k * CRYPTO_PKT_LEN;
			jobs[n].pnum = pd->pnum + n;
			jobs[n].out = pd->obuf + n * CRYPTO_PKT_PADLEN;
			jobs[n].len = -1;
		}
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
	dir_consume(p, pd, pd->crypt_in);
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
