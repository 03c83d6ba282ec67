/*
 * libFuzzer target: drive the pipe core (src/proto/proto_pipe.c) through
 * the simulated engine of tests/unit/pipe_sim.h.  Pairs of input bytes
 * choose an op (read, crypto, send on either side, or a bit flip on the
 * wire) and its chunk size; the plaintext is derived from the input, and
 * a bit of it chooses whether reads lend the pipes engine buffers (the
 * io_uring engine's buffer ring) or copy into the pipes' own.
 * Invariants: B's output is always a prefix of A's input; without a flip,
 * draining delivers all of it and forwards EOF; with one, B may fail but
 * never passes on a byte that was not sent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_pkt.h"
#include "../unit/pipe_sim.h"
#include "proto_pipe.h"

static struct crypto_engine * eng;
static uint8_t plain[1 << 18];

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t * data, size_t size)
{
	static const size_t chunks[8] = { 0, 1, 3, 1024, 1060, 4096, 65536,
	    (size_t)-1 };
	struct sim s;
	size_t len, i;
	int flipped = 0;

	if (eng == NULL && (eng = crypto_engine_new(CRYPTO_BACKEND_AUTO)) ==
	    NULL)
		abort();
	if (size < 2)
		return (0);
	len = ((size_t)data[0] << 10 | (size_t)data[1] << 2) % sizeof(plain);
	for (i = 0; i < len; i++)
		plain[i] = (uint8_t)(i * 7 + data[i % size]);
	if (sim_init_lend(&s, eng, plain, len, (data[1] & 1) ? SIZE_MAX : 0,
	    (data[1] >> 1) & 1))
		abort();
	for (i = 2; i + 1 < size; i += 2) {
		if (data[i] % 8 == 7) {
			/* Flip a bit of something already on the wire. */
			if (s.wlen > s.woff) {
				s.wire[s.woff + data[i + 1] % (s.wlen -
				    s.woff)] ^= (uint8_t)(1 << (data[i] >> 5));
				flipped = 1;
			}
			continue;
		}
		sim_step(&s, (data[i] % 8) % SIM_NOPS,
		    chunks[data[i + 1] % 8] + (data[i + 1] >> 3));
		if (s.outlen > len || memcmp(s.out, plain, s.outlen))
			abort();
	}
	sim_drain(&s, 1 << 20);
	if (s.outlen > len || memcmp(s.out, plain, s.outlen))
		abort();
	if (!flipped && (s.outlen != len || !s.out_eof ||
	    proto_pipe_failed(s.a) || proto_pipe_failed(s.b)))
		abort();
	sim_free(&s);
	return (0);
}
