/*
 * Unit tests of stream framing (src/proto/proto_frame.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto_pkt.h"
#include "proto_frame.h"

#define TEST_RNG_SEED 0x243f6a8885a308d3ULL
#include "test_rng.h"

/* Lengths 0..5000 cut into 1024-byte packets, with and without a cap. */
static void
test_seal_jobs_chunking(void ** state)
{
	static uint8_t pt[5000], out[5 * 1060];
	struct crypto_seal_job jobs[8];
	/* Any pointer will do: framing never dereferences the key. */
	const struct crypto_pktkey * key = (const void *)&pt[1];
	size_t len, n, i, consumed, off, maxj;
	uint64_t pnum, pnum0;

	(void)state;
	for (len = 0; len <= 5000; len++) {
		for (maxj = 0; maxj <= 6; maxj++) {
			pnum0 = pnum = (len * 31) ^ ((uint64_t)maxj << 40);
			n = proto_frame_seal_jobs(key, &pnum, pt, len, out,
			    jobs, maxj, &consumed);
			assert_int_equal(n, proto_frame_npkts(len) < maxj ?
			    proto_frame_npkts(len) : maxj);
			assert_int_equal(pnum, pnum0 + n);
			for (i = off = 0; i < n; i++) {
				assert_ptr_equal(jobs[i].key, key);
				assert_ptr_equal(jobs[i].pt, &pt[off]);
				assert_ptr_equal(jobs[i].out, &out[i * 1060]);
				assert_int_equal(jobs[i].pnum, pnum0 + i);
				assert_true(jobs[i].len >= 1);
				assert_true(jobs[i].len <= 1024);
				/* Only the last job of all the data is short. */
				if (off + jobs[i].len < len)
					assert_int_equal(jobs[i].len, 1024);
				off += jobs[i].len;
			}
			assert_int_equal(consumed, off);
			if (maxj >= proto_frame_npkts(len))
				assert_int_equal(consumed, len);
		}
	}
	assert_int_equal(proto_frame_npkts(0), 0);
	assert_int_equal(proto_frame_npkts(1024), 1);
	assert_int_equal(proto_frame_npkts(1025), 2);
	assert_int_equal(proto_frame_npkts(4096), 4);
}

/* Open jobs address packets in place at stride 1060. */
static void
test_open_jobs(void ** state)
{
	static uint8_t in[3 * 1060];
	struct crypto_open_job jobs[3];
	uint64_t pnum = 5;
	size_t i;

	(void)state;
	proto_frame_open_jobs(NULL, &pnum, in, 3, jobs);
	assert_int_equal(pnum, 8);
	for (i = 0; i < 3; i++) {
		assert_ptr_equal(jobs[i].in, &in[i * 1060]);
		assert_ptr_equal(jobs[i].out, &in[i * 1060]);
		assert_int_equal(jobs[i].pnum, 5 + i);
	}
}

/* Random fragments reassemble into the packets that were sent. */
static void
test_rx_reassembly(void ** state)
{
	const size_t npk = 50;
	uint8_t * stream, * got, * buf, * space;
	struct proto_frame_rx rx;
	size_t caps[] = { 1060, 1061, 2119, 4 * 1060, 64 * 1060 + 17 };
	size_t c, sent, ngot, avail, frag, k, round;

	(void)state;
	assert_non_null(stream = malloc(npk * 1060));
	assert_non_null(got = malloc(npk * 1060));
	for (k = 0; k < npk * 1060; k++)
		stream[k] = (uint8_t)rng();
	assert_int_equal(proto_frame_rx_init(&rx, stream, 1059), -1);

	for (round = 0; round < 40; round++) {
		c = caps[round % 5];
		assert_non_null(buf = malloc(c));
		assert_int_equal(proto_frame_rx_init(&rx, buf, c), 0);
		sent = ngot = 0;
		while (ngot < npk) {
			/* Receive one fragment of a random size. */
			space = proto_frame_rx_space(&rx, &avail);
			assert_ptr_equal(space, &buf[rx.len]);
			frag = (round & 1) ? 1 + rng() % 3000 : 1 + rng() % 7;
			if (frag > avail)
				frag = avail;
			if (frag > npk * 1060 - sent)
				frag = npk * 1060 - sent;
			memcpy(space, &stream[sent], frag);
			proto_frame_rx_commit(&rx, frag);
			sent += frag;

			/* Take some (sometimes not all) complete packets. */
			k = proto_frame_rx_npkts(&rx);
			assert_int_equal(k, rx.len / 1060);
			if ((k > 1) && (rng() % 3 == 0))
				k--;
			if ((k == 0) && (avail == 0))
				fail_msg("reassembler stuck");
			memcpy(&got[ngot * 1060], buf, k * 1060);
			proto_frame_rx_consume(&rx, k);
			ngot += k;
		}
		assert_int_equal(sent, npk * 1060);
		assert_int_equal(rx.len, 0);
		assert_memory_equal(got, stream, npk * 1060);
		free(buf);
	}
	free(got);
	free(stream);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_jobs_chunking),
		cmocka_unit_test(test_open_jobs),
		cmocka_unit_test(test_rx_reassembly),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
