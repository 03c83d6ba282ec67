#ifndef PIPE_SIM_H_
#define PIPE_SIM_H_

/*
 * A simulated engine around two pipes, shared by the unit tests and the
 * fuzzer: pipe A seals a plaintext stream onto a "wire", pipe B opens the
 * wire into an output stream.  Each step does one thing an engine does
 * (read, crypto, send, half-close) on one side, with a chunk size chosen by
 * the caller, so tests and fuzz inputs decide where reads and sends split.
 */

#include <stdlib.h>
#include <string.h>

#include "crypto_pkt.h"
#include "proto_pipe.h"

#define SIM_JOBS 512

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
sim_init(struct sim * s, struct crypto_engine * eng, const uint8_t * in,
    size_t len, size_t limit)
{

	memset(s, 0, sizeof(*s));
	s->eng = eng;
	s->in = in;
	s->inlen = len;
	s->budget.limit = limit;
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

static void
sim_free(struct sim * s)
{

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
