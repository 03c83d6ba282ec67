#ifndef PIPE_SIM_H_
#define PIPE_SIM_H_

/*
 * A simulated engine around two pipes, shared by the unit tests and the
 * fuzzer: pipe A seals a plaintext stream onto a "wire", pipe B opens the
 * wire into an output stream.  Each step does one thing an engine does
 * (read, crypto, send, half-close) on one side, with a chunk size chosen by
 * the caller, so tests and fuzz inputs decide where reads and sends split.
 * With lending on (sim_init_lend), reads lend the pipes buffers of the
 * simulated engine (proto_pipe_rx_lend), as the io_uring engine's buffer
 * ring does; a buffer given back is overwritten before it is freed, so
 * that a pipe that kept using it would corrupt the stream.
 */

#include <stdlib.h>
#include <string.h>

#include "crypto_pkt.h"
#include "proto_pipe.h"

#define SIM_JOBS 512
#define SIM_LBUFSZ 16384
#define SIM_HELD 16

/* A buffer of the simulated engine: [off, len) not yet lent. */
struct sim_lbuf {
	size_t len, off;
	uint8_t mem[PROTO_PIPE_LEND_BEFORE + SIM_LBUFSZ];
};

struct sim {
	struct proto_pipe * a, * b;
	struct proto_pipe_env budget;
	struct crypto_engine * eng;
	const uint8_t * in;		/* Plaintext to push through A. */
	size_t inlen, inoff;
	uint8_t * wire;			/* Sent by A, not yet read by B. */
	size_t wcap, wlen, woff;
	int wire_eof;			/* A half-closed its output. */
	uint8_t * out;			/* What B sent on. */
	size_t outcap, outlen;
	int out_eof;			/* B half-closed its output. */
	int bad;			/* A bad packet was put on the wire. */
	int lend;			/* Reads lend buffers. */
	struct sim_lbuf * cur[2];	/* Per side (A, B): being lent. */
	struct sim_lbuf * held[2][SIM_HELD];	/* Lent whole. */
	size_t nheld[2];
	struct crypto_seal_job sj[SIM_JOBS];
	struct crypto_open_job oj[SIM_JOBS];
};

/* Ops of sim_step(). */
enum {
	SIM_A_READ, SIM_A_CRYPTO, SIM_A_SEND, SIM_B_READ, SIM_B_CRYPTO,
	SIM_B_SEND, SIM_NOPS
};

static const uint8_t sim_k1[32] = { 1, 2, 3 }, sim_k2[32] = { 4, 5, 6 };
static const uint8_t sim_k3[32] = { 7, 8, 9 }, sim_k4[32] = { 10, 11 };

/* Set ${s} up to carry the ${len} bytes at ${in}; buffers may grow within
 * ${limit} bytes.  Return 0 or -1. */
static int
sim_init_lend(struct sim * s, struct crypto_engine * eng, const uint8_t * in,
    size_t len, size_t limit, int lend)
{

	memset(s, 0, sizeof(*s));
	s->eng = eng;
	s->in = in;
	s->inlen = len;
	s->budget.limit = limit;
	s->budget.lend = lend;
	s->lend = lend;
	/* A's seal keys are B's open keys. */
	s->a = proto_pipe_new(sim_k1, sim_k2, sim_k3, sim_k4, &s->budget);
	s->b = proto_pipe_new(sim_k3, sim_k4, sim_k1, sim_k2, &s->budget);
	s->wcap = len / CRYPTO_PKT_PTMAX * CRYPTO_PKT_LEN + 4 * CRYPTO_PKT_LEN
	    + 64;
	s->wire = malloc(s->wcap);
	s->outcap = len + 64;
	s->out = malloc(s->outcap);
	if (s->a == NULL || s->b == NULL || s->wire == NULL || s->out == NULL)
		return (-1);
	return (0);
}

static int
sim_init(struct sim * s, struct crypto_engine * eng, const uint8_t * in,
    size_t len, size_t limit)
{

	return (sim_init_lend(s, eng, in, len, limit, 0));
}

/* Give back what side ${i} lent whole, overwriting it first. */
static void
sim_lend_free(struct sim * s, int i)
{
	size_t k;

	for (k = 0; k < s->nheld[i]; k++) {
		memset(s->held[i][k]->mem, 0xa5, sizeof(s->held[i][k]->mem));
		free(s->held[i][k]);
	}
	s->nheld[i] = 0;
}

/* A read of side ${i} (0: A, 1: B) with pipe ${p}, direction ${d}, in the
 * lending engine: give back what the pipe is done with, receive up to
 * ${chunk} bytes into a new buffer if the last was all lent, and lend. */
static void
sim_lend_read(struct sim * s, int i, struct proto_pipe * p, int d,
    size_t chunk)
{
	struct sim_lbuf * b = s->cur[i];
	size_t avail = i ? s->wlen - s->woff : s->inlen - s->inoff, n;
	int eof = i ? s->wire_eof : 1;

	if (!proto_pipe_rx_lent(p, d))
		sim_lend_free(s, i);
	if (b == NULL) {
		if (avail == 0) {
			if (eof && !proto_pipe_rx_lent(p, d) &&
			    (proto_pipe_want(p, d) & PROTO_PIPE_WANT_READ))
				proto_pipe_rx_eof(p, d);
			return;
		}
		n = chunk < avail ? chunk : avail;
		n = n < SIM_LBUFSZ ? n : SIM_LBUFSZ;
		if (n == 0 || (b = malloc(sizeof(*b))) == NULL)
			return;
		memset(b->mem, 0x5a, sizeof(b->mem));
		memcpy(b->mem + PROTO_PIPE_LEND_BEFORE,
		    i ? s->wire + s->woff : s->in + s->inoff, n);
		if (i)
			s->woff += n;
		else
			s->inoff += n;
		b->len = n;
		b->off = 0;
		s->cur[i] = b;
	}
	b->off += proto_pipe_rx_lend(p, d,
	    b->mem + PROTO_PIPE_LEND_BEFORE + b->off, b->len - b->off,
	    PROTO_PIPE_LEND_BEFORE + b->off, SIM_LBUFSZ - b->len);
	if (b->off == b->len) {
		if (s->nheld[i] == SIM_HELD)
			abort();
		s->held[i][s->nheld[i]++] = b;
		s->cur[i] = NULL;
	}
}

static void
sim_free(struct sim * s)
{

	sim_lend_free(s, 0);
	sim_lend_free(s, 1);
	free(s->cur[0]);
	free(s->cur[1]);
	proto_pipe_free(s->a);
	proto_pipe_free(s->b);
	free(s->wire);
	free(s->out);
}

/* Half-close where a direction asks for it. */
static void
sim_shut(struct sim * s)
{

	if (proto_pipe_want(s->a, PROTO_PIPE_SEAL) & PROTO_PIPE_WANT_SHUT) {
		proto_pipe_shut_done(s->a, PROTO_PIPE_SEAL);
		s->wire_eof = 1;
	}
	if (proto_pipe_want(s->b, PROTO_PIPE_OPEN) & PROTO_PIPE_WANT_SHUT) {
		proto_pipe_shut_done(s->b, PROTO_PIPE_OPEN);
		s->out_eof = 1;
	}
}

/* Do op ${op} with chunk size ${chunk} (0: the peer takes nothing). */
static void
sim_step(struct sim * s, int op, size_t chunk)
{
	struct proto_pipe * p = (op < SIM_B_READ) ? s->a : s->b;
	int d = (op < SIM_B_READ) ? PROTO_PIPE_SEAL : PROTO_PIPE_OPEN;
	const uint8_t * src;
	uint8_t * buf;
	size_t len, n, avail;

	switch (op) {
	case SIM_A_READ:
	case SIM_B_READ:
		if (s->lend) {
			sim_lend_read(s, op == SIM_B_READ, p, d, chunk);
			break;
		}
		if ((buf = proto_pipe_rx_get(p, d, &len)) == NULL)
			break;
		if (op == SIM_A_READ)
			avail = s->inlen - s->inoff;
		else
			avail = s->wlen - s->woff;
		if (avail == 0 && (op == SIM_A_READ || s->wire_eof)) {
			proto_pipe_rx_put(p, d, 0);
			break;
		}
		n = chunk < len ? chunk : len;
		n = n < avail ? n : avail;
		if (n == 0) {
			proto_pipe_rx_abort(p, d);
			break;
		}
		src = (op == SIM_A_READ) ? s->in + s->inoff :
		    s->wire + s->woff;
		memcpy(buf, src, n);
		if (op == SIM_A_READ)
			s->inoff += n;
		else
			s->woff += n;
		proto_pipe_rx_put(p, d, (ptrdiff_t)n);
		break;
	case SIM_A_CRYPTO:
		n = proto_pipe_seal_jobs(p, s->sj, chunk ? chunk : SIM_JOBS);
		if (n) {
			if (crypto_engine_seal(s->eng, s->sj, n))
				abort();
			proto_pipe_seal_done(p, n);
		}
		break;
	case SIM_B_CRYPTO:
		n = proto_pipe_open_jobs(p, s->oj, chunk ? chunk : SIM_JOBS);
		if (n) {
			(void)crypto_engine_open(s->eng, s->oj, n);
			(void)proto_pipe_open_done(p, s->oj, n);
		}
		break;
	case SIM_A_SEND:
	case SIM_B_SEND:
		if ((src = proto_pipe_tx_get(p, d, &len)) == NULL)
			break;
		n = chunk < len ? chunk : len;
		if (op == SIM_A_SEND) {
			if (s->wlen + n > s->wcap) {
				s->wcap = (s->wlen + n) * 2;
				if ((s->wire = realloc(s->wire, s->wcap)) ==
				    NULL)
					abort();
			}
			memcpy(s->wire + s->wlen, src, n);
			s->wlen += n;
		} else {
			if (s->outlen + n > s->outcap) {
				s->outcap = (s->outlen + n) * 2;
				if ((s->out = realloc(s->out, s->outcap)) ==
				    NULL)
					abort();
			}
			memcpy(s->out + s->outlen, src, n);
			s->outlen += n;
		}
		proto_pipe_tx_put(p, d, (ptrdiff_t)n);
		break;
	}
	sim_shut(s);
}

/* Run every op with unlimited chunks until nothing changes (at most
 * ${maxrounds} rounds); return the number of rounds run. */
static size_t
sim_drain(struct sim * s, size_t maxrounds)
{
	size_t r, before;
	int op;

	for (r = 0; r < maxrounds; r++) {
		before = s->inoff + s->wlen + s->woff + s->outlen +
		    (size_t)s->wire_eof + (size_t)s->out_eof;
		for (op = 0; op < SIM_NOPS; op++)
			sim_step(s, op, (size_t)-1);
		if (s->inoff + s->wlen + s->woff + s->outlen +
		    (size_t)s->wire_eof + (size_t)s->out_eof == before &&
		    !(proto_pipe_want(s->a, PROTO_PIPE_SEAL) &
		    PROTO_PIPE_WANT_CRYPTO) &&
		    !(proto_pipe_want(s->b, PROTO_PIPE_OPEN) &
		    PROTO_PIPE_WANT_CRYPTO))
			break;
	}
	return (r);
}

#endif /* !PIPE_SIM_H_ */
