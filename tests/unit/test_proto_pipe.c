/*
 * Unit tests of the sans-I/O pipe core (src/proto/proto_pipe.c), driven
 * through a simulated engine (pipe_sim.h): reads and sends split at every
 * boundary, EOF at every point, bad packets in the middle of a batch, 1-byte
 * and 1 MiB writes, slow readers on either side, and the buffer budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto_pkt.h"
#include "pipe_sim.h"
#include "proto_pipe.h"
#include "test_rng.h"

static struct crypto_engine * eng;

static uint8_t *
pattern(size_t len, uint64_t seed)
{
	uint8_t * b = malloc(len ? len : 1);
	size_t i;

	assert_non_null(b);
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 131 + seed * 7 + (i >> 9));
	return (b);
}

/* Push ${len} bytes through A -> B with random chunks (chunk sizes up to
 * ${maxchunk}) and check that B's output equals the input and both sides
 * forward EOF. */
static void
roundtrip_lend(size_t len, size_t maxchunk, uint64_t seed, size_t limit,
    int lend)
{
	uint8_t * in = pattern(len, seed);
	struct sim s;
	size_t i;

	rngstate = seed * 0x9e3779b97f4a7c15ULL + 1;
	assert_int_equal(sim_init_lend(&s, eng, in, len, limit, lend), 0);
	for (i = 0; i < 200000 && !s.out_eof; i++)
		sim_step(&s, (int)(rng() % SIM_NOPS), 1 + rng() % maxchunk);
	sim_drain(&s, 100000);
	assert_false(proto_pipe_failed(s.a));
	assert_false(proto_pipe_failed(s.b));
	assert_int_equal(s.outlen, len);
	assert_memory_equal(s.out, in, len);
	assert_true(s.wire_eof);
	assert_true(s.out_eof);
	/* A whole number of packets went over the wire. */
	assert_int_equal(s.wlen % CRYPTO_PKT_LEN, 0);
	sim_free(&s);
	free(in);
}

static void
roundtrip(size_t len, size_t maxchunk, uint64_t seed, size_t limit)
{

	roundtrip_lend(len, maxchunk, seed, limit, 0);
}

/* Lent input (the io_uring engine's buffer ring): packets cut by every
 * buffer boundary, part packets carried in front of the next buffer,
 * buffers taken in part; given-back buffers are overwritten, so a pipe
 * that kept one would corrupt the stream.  With no budget the pipes stay
 * at their smallest level (one packet a batch). */
static void
t_lend_roundtrip(void ** state)
{
	static const size_t sizes[] = { 0, 1, 1023, 1024, 1025, 1060, 4096,
	    16384, 65536, 100000, 1 << 20 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip_lend(sizes[i], 7, i + 300, SIZE_MAX, 1);
		roundtrip_lend(sizes[i], 3000, i + 400, SIZE_MAX, 1);
		roundtrip_lend(sizes[i], 70000, i + 500, SIZE_MAX, 1);
		roundtrip_lend(sizes[i], 70000, i + 600, 0, 1);
		roundtrip_lend(sizes[i], 1061, i + 700, 100000, 1);
	}
}

static void
t_roundtrip_sizes(void ** state)
{
	static const size_t sizes[] = { 0, 1, 2, 1023, 1024, 1025, 4096,
	    65536, 100000 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip(sizes[i], 7, i, SIZE_MAX);
		roundtrip(sizes[i], 3000, i + 100, SIZE_MAX);
		roundtrip(sizes[i], 70000, i + 200, 0);
	}
}

/* 1 MiB in large chunks: buffers grow to full batches and back. */
static void
t_roundtrip_1mib(void ** state)
{

	(void)state;
	roundtrip(1 << 20, 1 << 17, 42, SIZE_MAX);
	roundtrip(1 << 20, 1 << 17, 43, 0);
}

/* 1-byte reads: each becomes a packet of its own, as stock spiped does. */
static void
t_one_byte_reads(void ** state)
{
	uint8_t * in = pattern(300, 5);
	struct sim s;
	size_t i;

	(void)state;
	assert_int_equal(sim_init(&s, eng, in, 300, SIZE_MAX), 0);
	for (i = 0; i < 300; i++) {
		sim_step(&s, SIM_A_READ, 1);
		sim_step(&s, SIM_A_CRYPTO, 0);
		sim_step(&s, SIM_A_SEND, (size_t)-1);
	}
	assert_int_equal(s.wlen, 300 * CRYPTO_PKT_LEN);
	sim_drain(&s, 10000);
	assert_int_equal(s.outlen, 300);
	assert_memory_equal(s.out, in, 300);
	sim_free(&s);
	free(in);
}

/* Seal 3 packets (sizes 1024, 1024, 500) onto a wire; return its length. */
static size_t
three_packets(uint8_t * in, struct sim * s)
{

	assert_int_equal(sim_init(s, eng, in, 2548, SIZE_MAX), 0);
	sim_drain(s, 1000);
	assert_int_equal(s->wlen, 3 * CRYPTO_PKT_LEN);
	return (s->wlen);
}

/* B reads the wire split in two at every offset. */
static void
t_reads_split_everywhere(void ** state)
{
	uint8_t * in = pattern(2548, 9);
	struct sim ref, s;
	size_t k, wlen;

	(void)state;
	wlen = three_packets(in, &ref);
	for (k = 0; k <= wlen; k++) {
		assert_int_equal(sim_init(&s, eng, in, 2548, SIZE_MAX), 0);
		memcpy(s.wire, ref.wire, wlen);
		s.wlen = k;
		sim_step(&s, SIM_B_READ, (size_t)-1);
		sim_step(&s, SIM_B_CRYPTO, 0);
		sim_step(&s, SIM_B_SEND, (size_t)-1);
		s.wlen = wlen;
		s.wire_eof = 1;
		s.inoff = s.inlen;
		/* A has nothing to say: make it finish quietly. */
		sim_drain(&s, 1000);
		assert_false(proto_pipe_failed(s.b));
		assert_int_equal(s.outlen, 2548);
		assert_memory_equal(s.out, in, 2548);
		assert_true(s.out_eof);
		sim_free(&s);
	}
	sim_free(&ref);
	free(in);
}

/* The wire ends at every offset: clean at a packet boundary (with exactly
 * the packets before it delivered), a failure inside a packet. */
static void
t_eof_everywhere(void ** state)
{
	uint8_t * in = pattern(2548, 11);
	struct sim ref, s;
	size_t k, wlen, expect;

	(void)state;
	wlen = three_packets(in, &ref);
	for (k = 0; k <= wlen; k++) {
		assert_int_equal(sim_init(&s, eng, in, 0, SIZE_MAX), 0);
		memcpy(s.wire, ref.wire, k);
		s.wlen = k;
		s.wire_eof = 1;
		sim_drain(&s, 1000);
		if (k % CRYPTO_PKT_LEN) {
			assert_true(proto_pipe_failed(s.b));
			assert_true(proto_pipe_finished(s.b));
			assert_false(s.out_eof);
		} else {
			expect = (k / CRYPTO_PKT_LEN) * 1024;
			if (expect > 2548)
				expect = 2548;
			assert_false(proto_pipe_failed(s.b));
			assert_int_equal(s.outlen, expect);
			assert_memory_equal(s.out, in, expect);
			assert_true(s.out_eof);
		}
		sim_free(&s);
	}
	sim_free(&ref);
	free(in);
}

/* A bad packet in the middle of a batch fails the pipe, and none of that
 * batch's plaintext is offered for sending. */
static void
t_bad_packet_mid_batch(void ** state)
{
	uint8_t * in = pattern(5 * 1024, 13);
	struct sim s;
	size_t pos, i;

	(void)state;
	for (pos = 0; pos < 5 * CRYPTO_PKT_LEN; pos += 353) {
		assert_int_equal(sim_init(&s, eng, in, 5 * 1024, SIZE_MAX), 0);
		for (i = 0; i < 100; i++) {
			sim_step(&s, SIM_A_READ, (size_t)-1);
			sim_step(&s, SIM_A_CRYPTO, 0);
			sim_step(&s, SIM_A_SEND, (size_t)-1);
		}
		assert_int_equal(s.wlen, 5 * CRYPTO_PKT_LEN);
		s.wire[pos] ^= 0x40;
		/* One read of all five packets, one open batch. */
		proto_pipe_set_env(s.b, NULL);
		sim_step(&s, SIM_B_READ, (size_t)-1);
		sim_step(&s, SIM_B_CRYPTO, 0);
		while (!proto_pipe_failed(s.b) &&
		    (proto_pipe_want(s.b, PROTO_PIPE_OPEN) &
		    (PROTO_PIPE_WANT_SEND | PROTO_PIPE_WANT_READ |
		    PROTO_PIPE_WANT_CRYPTO)) && i++ < 1000) {
			/* Packets before the bad one may open in earlier
			 * batches (small buffers); they are good. */
			sim_step(&s, SIM_B_SEND, (size_t)-1);
			sim_step(&s, SIM_B_READ, (size_t)-1);
			sim_step(&s, SIM_B_CRYPTO, 0);
		}
		assert_true(proto_pipe_failed(s.b));
		assert_int_equal(proto_pipe_want(s.b, PROTO_PIPE_OPEN), 0);
		assert_true(s.outlen <= (pos / CRYPTO_PKT_LEN) * 1024);
		assert_memory_equal(s.out, in, s.outlen);
		sim_free(&s);
	}
	free(in);
}

/* A reader that takes nothing: the other side stops reading once its
 * buffers are full (backpressure), and holds a bounded amount. */
static void
t_slow_reader(void ** state)
{
	uint8_t * in = pattern(1 << 20, 17);
	struct sim s;
	size_t i, stuck;

	(void)state;
	/* B's output is never taken. */
	assert_int_equal(sim_init(&s, eng, in, 1 << 20, SIZE_MAX), 0);
	for (i = 0; i < 20000; i++)
		if ((i % SIM_NOPS) != SIM_B_SEND)
			sim_step(&s, (int)(i % SIM_NOPS), (size_t)-1);
	/* The wire here holds anything; B stopped taking from it. */
	stuck = s.woff;
	assert_true(stuck < 300 * 1024);
	assert_false(proto_pipe_want(s.b, PROTO_PIPE_OPEN) &
	    PROTO_PIPE_WANT_READ);
	assert_true(proto_pipe_memory(s.b) < 300 * 1024);
	assert_true(proto_pipe_memory(s.a) < 300 * 1024);
	/* Now the reader wakes up: everything arrives. */
	sim_drain(&s, 100000);
	assert_int_equal(s.outlen, 1 << 20);
	assert_memory_equal(s.out, in, 1 << 20);
	sim_free(&s);

	/* The wire is never read: A stops taking input. */
	assert_int_equal(sim_init(&s, eng, in, 1 << 20, SIZE_MAX), 0);
	for (i = 0; i < 20000; i++)
		if ((i % SIM_NOPS) < SIM_B_READ && (i % SIM_NOPS) != SIM_A_SEND)
			sim_step(&s, (int)(i % SIM_NOPS), (size_t)-1);
	assert_true(s.inoff < 200 * 1024);
	assert_false(proto_pipe_want(s.a, PROTO_PIPE_SEAL) &
	    PROTO_PIPE_WANT_READ);
	sim_free(&s);
	free(in);
}

/* Buffers grow only within the budget, and give it back. */
static void
t_budget(void ** state)
{
	uint8_t * in = pattern(1 << 19, 19);
	struct sim s;
	size_t i, peak;

	(void)state;
	assert_int_equal(sim_init(&s, eng, in, 1 << 19, 0), 0);
	for (i = 0; i < 5000; i++)
		sim_step(&s, (int)(i % SIM_NOPS), (size_t)-1);
	assert_int_equal(s.budget.used, 0);
	assert_true(proto_pipe_memory(s.a) < 8 * 1024);
	sim_drain(&s, 100000);
	assert_int_equal(s.outlen, 1 << 19);
	sim_free(&s);

	/* Buffers are given back whenever a direction holds nothing: the
	 * growth shows at the peak. */
	assert_int_equal(sim_init(&s, eng, in, 1 << 19, SIZE_MAX), 0);
	for (i = peak = 0; i < 60; i++) {
		sim_step(&s, (int)(i % SIM_NOPS), (size_t)-1);
		if (proto_pipe_memory(s.a) > peak)
			peak = proto_pipe_memory(s.a);
	}
	assert_true(s.budget.used > 0);
	assert_true(peak > 48 * 1024);
	sim_drain(&s, 100000);
	assert_int_equal(s.outlen, 1 << 19);
	/* Done streaming: no data buffer is held. */
	assert_true(proto_pipe_memory(s.a) < 1024);
	proto_pipe_free(s.a);
	proto_pipe_free(s.b);
	s.a = s.b = NULL;
	assert_int_equal(s.budget.used, 0);
	sim_free(&s);
	free(in);
}

/* An I/O error reported by the engine fails the pipe at once. */
static void
t_io_errors(void ** state)
{
	uint8_t * in = pattern(5000, 23);
	struct sim s;
	size_t len;

	(void)state;
	assert_int_equal(sim_init(&s, eng, in, 5000, SIZE_MAX), 0);
	assert_non_null(proto_pipe_rx_get(s.a, PROTO_PIPE_SEAL, &len));
	proto_pipe_rx_put(s.a, PROTO_PIPE_SEAL, -1);
	assert_true(proto_pipe_failed(s.a));
	assert_true(proto_pipe_finished(s.a));
	assert_int_equal(proto_pipe_want(s.a, PROTO_PIPE_OPEN), 0);
	assert_null(proto_pipe_rx_get(s.a, PROTO_PIPE_OPEN, &len));
	sim_free(&s);

	assert_int_equal(sim_init(&s, eng, in, 5000, SIZE_MAX), 0);
	sim_step(&s, SIM_A_READ, (size_t)-1);
	sim_step(&s, SIM_A_CRYPTO, 0);
	assert_non_null(proto_pipe_tx_get(s.a, PROTO_PIPE_SEAL, &len));
	proto_pipe_tx_put(s.a, PROTO_PIPE_SEAL, -1);
	assert_true(proto_pipe_failed(s.a));
	sim_free(&s);
	free(in);
}

/* Packet numbers run on across batches and both directions are apart:
 * B opens A's stream only in order, and a second stream through the same
 * pipes keeps counting. */
static void
t_directions_independent(void ** state)
{
	uint8_t * in = pattern(9000, 29);
	struct sim s;
	size_t len;

	(void)state;
	assert_int_equal(sim_init(&s, eng, in, 9000, SIZE_MAX), 0);
	sim_drain(&s, 10000);
	assert_int_equal(s.outlen, 9000);
	/* A's open direction and B's seal direction never moved. */
	assert_true(proto_pipe_want(s.a, PROTO_PIPE_OPEN) &
	    PROTO_PIPE_WANT_READ);
	assert_non_null(proto_pipe_rx_get(s.b, PROTO_PIPE_SEAL, &len));
	proto_pipe_rx_put(s.b, PROTO_PIPE_SEAL, 0);
	assert_true(proto_pipe_want(s.b, PROTO_PIPE_SEAL) &
	    PROTO_PIPE_WANT_SHUT);
	proto_pipe_shut_done(s.b, PROTO_PIPE_SEAL);
	assert_true(proto_pipe_finished(s.b));
	sim_free(&s);
	free(in);
}

/* While a read is out into the bytes after the pending input, the last
 * seal job must not read past its plaintext (CRYPTO_SEAL_PTSLACK); the
 * others may (their next bytes are the following job's). */
static void
t_no_slack_into_read(void ** state)
{
	struct crypto_seal_job jobs[8];
	uint8_t * in = pattern(3 * 1024, 31), * buf;
	struct sim s;
	size_t len, n;

	(void)state;
	assert_int_equal(sim_init(&s, eng, in, 3 * 1024, SIZE_MAX), 0);
	/* Grow A's seal buffer to level 1, then read 3 full packets. */
	sim_step(&s, SIM_A_READ, 1024);
	sim_step(&s, SIM_A_CRYPTO, 0);
	sim_step(&s, SIM_A_SEND, (size_t)-1);
	s.inoff = 0;
	assert_non_null(buf = proto_pipe_rx_get(s.a, PROTO_PIPE_SEAL, &len));
	assert_true(len > 3 * 1024);
	memcpy(buf, in, 3 * 1024);
	proto_pipe_rx_put(s.a, PROTO_PIPE_SEAL, 3 * 1024);
	/* A read goes out into the tail; crypto runs meanwhile. */
	assert_non_null(proto_pipe_rx_get(s.a, PROTO_PIPE_SEAL, &len));
	n = proto_pipe_seal_jobs(s.a, jobs, 8);
	assert_int_equal(n, 3);
	assert_int_equal(jobs[0].flags, CRYPTO_SEAL_PTSLACK);
	assert_int_equal(jobs[1].flags, CRYPTO_SEAL_PTSLACK);
	assert_int_equal(jobs[2].flags, 0);
	assert_int_equal(crypto_engine_seal(eng, jobs, n), 0);
	proto_pipe_seal_done(s.a, n);
	proto_pipe_rx_abort(s.a, PROTO_PIPE_SEAL);
	/* With no read out, the last job may use the slack. */
	assert_non_null(buf = proto_pipe_rx_get(s.a, PROTO_PIPE_SEAL, &len));
	proto_pipe_rx_abort(s.a, PROTO_PIPE_SEAL);
	sim_free(&s);
	free(in);
}

/* Read ${n} bytes of ${in} into A's seal direction at time ${t} ms. */
static void
feed_at(struct sim * s, const uint8_t * in, size_t n, uint64_t t)
{
	uint8_t * buf;
	size_t len;

	s->budget.now = t * 1000000;
	assert_non_null(buf = proto_pipe_rx_get(s->a, PROTO_PIPE_SEAL, &len));
	assert_true(len >= n);
	memcpy(buf, in, n);
	proto_pipe_rx_put(s->a, PROTO_PIPE_SEAL, (ptrdiff_t)n);
}

static int
wants_crypto(struct sim * s, uint64_t t)
{

	s->budget.now = t * 1000000;
	return ((proto_pipe_want(s->a, PROTO_PIPE_SEAL) &
	    PROTO_PIPE_WANT_CRYPTO) != 0);
}

/* Coalescing: a part packet waits up to the coalescing time from its
 * first byte for more; full packets and EOF go at once. */
static void
t_coalesce(void ** state)
{
	struct crypto_seal_job jobs[8];
	uint8_t * in = pattern(8192, 37);
	struct sim s;
	size_t n;

	(void)state;
	assert_int_equal(sim_init(&s, eng, in, 0, SIZE_MAX), 0);
	s.budget.coalesce = 50 * 1000000;
	feed_at(&s, in, 34, 1000);
	assert_false(wants_crypto(&s, 1000));
	assert_int_equal(proto_pipe_deadline(s.a), 1050 * 1000000ULL);
	feed_at(&s, in + 34, 34, 1010);
	assert_int_equal(proto_pipe_deadline(s.a), 1050 * 1000000ULL);
	assert_false(wants_crypto(&s, 1049));
	assert_true(wants_crypto(&s, 1050));
	assert_int_equal(proto_pipe_deadline(s.a), 0);
	assert_int_equal(n = proto_pipe_seal_jobs(s.a, jobs, 8), 1);
	assert_int_equal(jobs[0].len, 68);
	assert_int_equal(crypto_engine_seal(eng, jobs, n), 0);
	proto_pipe_seal_done(s.a, n);
	sim_step(&s, SIM_A_SEND, (size_t)-1);

	/* Two full packets and a 10-byte tail: the full ones go now. */
	feed_at(&s, in, 1024, 2000);
	sim_step(&s, SIM_A_CRYPTO, 0);
	sim_step(&s, SIM_A_SEND, (size_t)-1);
	/* (Buffers grew after the full read.) */
	feed_at(&s, in + 1024, 2058, 2001);
	assert_true(wants_crypto(&s, 2001));
	assert_int_equal(n = proto_pipe_seal_jobs(s.a, jobs, 8), 2);
	assert_int_equal(jobs[0].len + jobs[1].len, 2048);
	assert_int_equal(crypto_engine_seal(eng, jobs, n), 0);
	proto_pipe_seal_done(s.a, n);
	sim_step(&s, SIM_A_SEND, (size_t)-1);
	assert_false(wants_crypto(&s, 2002));
	assert_int_equal(proto_pipe_deadline(s.a), 2051 * 1000000ULL);

	/* EOF: the tail goes at once. */
	assert_non_null(proto_pipe_rx_get(s.a, PROTO_PIPE_SEAL, &n));
	proto_pipe_rx_put(s.a, PROTO_PIPE_SEAL, 0);
	assert_true(wants_crypto(&s, 2003));
	assert_int_equal(n = proto_pipe_seal_jobs(s.a, jobs, 8), 1);
	assert_int_equal(jobs[0].len, 10);
	sim_free(&s);

	/* Coalescing off: a part packet goes at once. */
	assert_int_equal(sim_init(&s, eng, in, 0, SIZE_MAX), 0);
	feed_at(&s, in, 34, 5);
	assert_true(wants_crypto(&s, 5));
	assert_int_equal(proto_pipe_deadline(s.a), 0);
	sim_free(&s);
	free(in);
}

/* Coalesced streams arrive whole, in fewer packets. */
static void
t_coalesce_roundtrip(void ** state)
{
	uint8_t * in = pattern(100 * 34, 41);
	struct sim s;
	size_t i;

	(void)state;
	assert_int_equal(sim_init(&s, eng, in, 100 * 34, SIZE_MAX), 0);
	s.budget.coalesce = 50 * 1000000;
	for (i = 0; i < 100; i++) {
		s.budget.now = (uint64_t)i * 1000000;
		sim_step(&s, SIM_A_READ, 34);
		sim_step(&s, SIM_A_CRYPTO, 0);
		sim_step(&s, SIM_A_SEND, (size_t)-1);
	}
	s.budget.now = 1000 * 1000000ULL;
	sim_drain(&s, 10000);
	assert_int_equal(s.outlen, 100 * 34);
	assert_memory_equal(s.out, in, 100 * 34);
	/* 3400 bytes in 100 writes: at most 4 full packets and 2 waits. */
	assert_true(s.wlen <= 6 * CRYPTO_PKT_LEN);
	sim_free(&s);
	free(in);
}

static int
setup(void ** state)
{

	(void)state;
	return ((eng = crypto_engine_new(CRYPTO_BACKEND_AUTO)) == NULL);
}

static int
teardown(void ** state)
{

	(void)state;
	crypto_engine_free(eng);
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_roundtrip_sizes),
		cmocka_unit_test(t_roundtrip_1mib),
		cmocka_unit_test(t_lend_roundtrip),
		cmocka_unit_test(t_one_byte_reads),
		cmocka_unit_test(t_reads_split_everywhere),
		cmocka_unit_test(t_eof_everywhere),
		cmocka_unit_test(t_bad_packet_mid_batch),
		cmocka_unit_test(t_slow_reader),
		cmocka_unit_test(t_budget),
		cmocka_unit_test(t_io_errors),
		cmocka_unit_test(t_directions_independent),
		cmocka_unit_test(t_no_slack_into_read),
		cmocka_unit_test(t_coalesce),
		cmocka_unit_test(t_coalesce_roundtrip),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
