/*
 * Key rotation in the handshake (proto_hs_new_keys): a server with several
 * keys accepts a client holding any of them and derives the same session
 * keys as a one-key pair would; a client with a key in no list is refused
 * before any exponentiation; a refused client costs the server one PBKDF2
 * and one HMAC per key (measured here against the cost of those two and of
 * one exponentiation); a client uses its first key only.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "crypto_dh.h"
#include "crypto_hmac.h"
#include "proto_handshake.h"

#define MSGLEN	320	/* nonce (32) || y (256) || MAC (32) */
#define NKEYS	PROTO_HS_MAXKEYS

/* Timing: rounds (the fastest counts) of refused handshakes each. */
#define COST_ROUNDS	15
#define COST_PER_ROUND	200

/* Distinct keys; key[NKEYS] is in no list. */
static uint8_t key[NKEYS + 1][32];

static int
setup(void ** state)
{
	size_t i;

	(void)state;
	for (i = 0; i <= NKEYS; i++)
		memset(key[i], 0x11 * (int)(i + 1), 32);
	return (crypto_dh_init());
}

/* Move what ${a} has to send into ${b}; non-zero if anything moved. */
static int
hs_move(struct proto_hs * a, struct proto_hs * b)
{
	const uint8_t * o;
	size_t n, c;

	if ((o = proto_hs_output(a, &n)) == NULL)
		return (0);
	c = proto_hs_input(b, o, n);
	proto_hs_output_done(a, c);
	return (c > 0);
}

/* Run client ${c} against server ${s} until neither moves (bounded). */
static void
hs_run(struct proto_hs * c, struct proto_hs * s)
{
	int progress, rounds = 0;

	do {
		progress = 0;
		if (proto_hs_want(c) & PROTO_HS_WANT_COMPUTE) {
			proto_hs_compute(c);
			progress = 1;
		}
		progress |= hs_move(c, s);
		if (proto_hs_want(s) & PROTO_HS_WANT_COMPUTE) {
			proto_hs_compute(s);
			progress = 1;
		}
		progress |= hs_move(s, c);
		assert_true(++rounds < 100);
	} while (progress);
}

/* A server with keys[0..${n}) against a client with key ${i} (i < n). */
static void
pair_ok(size_t n, size_t i)
{
	struct proto_hs * c, * s;
	struct proto_keys kc, ks;

	assert_non_null(c = proto_hs_new(PROTO_CLIENT, key[i], 0, 0));
	assert_non_null(s = proto_hs_new_keys(PROTO_SERVER,
	    (const uint8_t (*)[32])key, n, 0, 0));
	hs_run(c, s);
	assert_int_equal(proto_hs_want(c), PROTO_HS_DONE);
	assert_int_equal(proto_hs_want(s), PROTO_HS_DONE);
	assert_int_equal(proto_hs_keys(c, &kc), 0);
	assert_int_equal(proto_hs_keys(s, &ks), 0);
	assert_memory_equal(kc.send_enc, ks.recv_enc, 32);
	assert_memory_equal(kc.send_mac, ks.recv_mac, 32);
	assert_memory_equal(kc.recv_enc, ks.send_enc, 32);
	assert_memory_equal(kc.recv_mac, ks.send_mac, 32);
	proto_hs_free(c);
	proto_hs_free(s);
}

/* Every key of every list length is accepted. */
static void
test_any_key(void ** state)
{
	size_t n, i;

	(void)state;
	for (n = 1; n <= NKEYS; n++)
		for (i = 0; i < n; i++)
			pair_ok(n, i);
}

/* The server side of a client with key ${k}: a server with keys[0..${n})
 * fed a genuine nonce, y and MAC made with ${k}; return the server (failed
 * or wanting to compute). */
static struct proto_hs *
server_fed(size_t n, const uint8_t k[32])
{
	struct proto_hs * c, * s;
	const uint8_t * o;
	size_t len;
	int i;

	assert_non_null(c = proto_hs_new(PROTO_CLIENT, k, 0, 0));
	assert_non_null(s = proto_hs_new_keys(PROTO_SERVER,
	    (const uint8_t (*)[32])key, n, 0, 0));

	/* The server's nonce to the client, then everything the client has,
	 * until the client has sent its 320 bytes. */
	assert_true(hs_move(s, c));
	for (i = 0; i < 4 && proto_hs_read_hint(s) > 0; i++) {
		if (proto_hs_want(c) & PROTO_HS_WANT_COMPUTE)
			proto_hs_compute(c);
		(void)hs_move(c, s);
	}
	assert_int_equal(proto_hs_read_hint(s), 0);

	/* Nothing more from the server than its nonce so far. */
	o = proto_hs_output(s, &len);
	(void)o;
	assert_int_equal(len, 0);
	proto_hs_free(c);
	return (s);
}

/* A client whose key is in no list is refused as a bad MAC, with no
 * exponentiation and nothing sent. */
static void
test_unknown_key(void ** state)
{
	struct proto_hs * s;
	size_t n, len;

	(void)state;
	for (n = 1; n <= NKEYS; n++) {
		s = server_fed(n, key[NKEYS]);
		assert_int_equal(proto_hs_want(s), PROTO_HS_FAILED);
		assert_int_equal(proto_hs_failure(s), PROTO_HS_FAIL_BAD_MAC);
		assert_null(proto_hs_output(s, &len));
		proto_hs_free(s);

		/* The last key of the list is still found. */
		s = server_fed(n, key[n - 1]);
		assert_int_equal(proto_hs_want(s), PROTO_HS_WANT_COMPUTE);
		proto_hs_free(s);
	}
}

/* A client uses its first key: {0, 1} works with a server of {0} and
 * fails with a server of {1}. */
static void
test_client_first(void ** state)
{
	struct proto_hs * c, * s;

	(void)state;
	assert_non_null(c = proto_hs_new_keys(PROTO_CLIENT,
	    (const uint8_t (*)[32])key, 2, 0, 0));
	assert_non_null(s = proto_hs_new(PROTO_SERVER, key[0], 0, 0));
	hs_run(c, s);
	assert_int_equal(proto_hs_want(s), PROTO_HS_DONE);
	proto_hs_free(c);
	proto_hs_free(s);

	assert_non_null(c = proto_hs_new_keys(PROTO_CLIENT,
	    (const uint8_t (*)[32])key, 2, 0, 0));
	assert_non_null(s = proto_hs_new(PROTO_SERVER, key[1], 0, 0));
	hs_run(c, s);
	assert_int_equal(proto_hs_want(s), PROTO_HS_FAILED);
	assert_int_equal(proto_hs_failure(s), PROTO_HS_FAIL_BAD_MAC);
	proto_hs_free(c);
	proto_hs_free(s);
}

/* 0 keys and more than PROTO_HS_MAXKEYS are refused. */
static void
test_counts(void ** state)
{
	uint8_t many[NKEYS + 1][32];

	(void)state;
	memset(many, 1, sizeof(many));
	assert_null(proto_hs_new_keys(PROTO_SERVER,
	    (const uint8_t (*)[32])many, 0, 0, 0));
	assert_null(proto_hs_new_keys(PROTO_SERVER,
	    (const uint8_t (*)[32])many, NKEYS + 1, 0, 0));
	assert_null(proto_hs_new_keys(PROTO_CLIENT,
	    (const uint8_t (*)[32])many, 0, 0, 0));
}

/* -- The cost of a refused client. -- */

/* This thread's CPU time: what other processes do on the machine (a
 * loaded 2-core box) does not count, only what they do to our caches. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

/* The client's 320 bytes made with a key in no list. */
static void
stranger_msg(uint8_t msg[MSGLEN])
{
	uint8_t x[CRYPTO_DH_PRIVLEN];

	memset(msg, 0x5a, 32);
	assert_int_equal(crypto_dh_generate(x, &msg[32]), 0);
	assert_int_equal(crypto_hmac_sha256(key[NKEYS], 32, &msg[32], 256,
	    &msg[288]), 0);
}

/* Seconds per refused handshake of a server with ${n} keys, fed ${msg}
 * (everything the server does: create, nonce, the key tries, free). */
static double
refused_cost(size_t n, const uint8_t msg[MSGLEN])
{
	struct proto_hs * s;
	double t0 = now();
	int i;

	for (i = 0; i < COST_PER_ROUND; i++) {
		s = proto_hs_new_keys(PROTO_SERVER,
		    (const uint8_t (*)[32])key, n, 0, 0);
		assert_non_null(s);
		assert_int_equal(proto_hs_input(s, msg, MSGLEN), MSGLEN);
		assert_int_equal(proto_hs_failure(s), PROTO_HS_FAIL_BAD_MAC);
		proto_hs_free(s);
	}
	return ((now() - t0) / COST_PER_ROUND);
}

/* Seconds for one key try: the PBKDF2 of dhmac and the HMAC of y. */
static double
try_cost(const uint8_t msg[MSGLEN])
{
	uint8_t dk1[64], mac[32];
	double t0 = now();
	int i;

	for (i = 0; i < COST_PER_ROUND; i++) {
		assert_int_equal(crypto_pbkdf2_sha256(key[0], 32, msg, 64, 1,
		    dk1, 64), 0);
		assert_int_equal(crypto_hmac_sha256(dk1, 32, &msg[32], 256,
		    mac), 0);
	}
	return ((now() - t0) / COST_PER_ROUND);
}

/* Seconds for one exponentiation (what a refused client must not buy). */
static double
modexp_cost(void)
{
	uint8_t x[CRYPTO_DH_PRIVLEN], y[CRYPTO_DH_PUBLEN], Z[CRYPTO_DH_PUBLEN];
	double t0;
	int i;

	assert_int_equal(crypto_dh_generate(x, y), 0);
	t0 = now();
	for (i = 0; i < 20; i++)
		assert_int_equal(crypto_dh_compute(y, x, Z), 0);
	return ((now() - t0) / 20);
}

/* Keep in ${m} the smaller of itself and ${t} (${m} < 0: unset). */
static void
keep_min(double * m, double t)
{

	if (*m < 0 || t < *m)
		*m = t;
}

/*
 * A refused handshake with 4 keys costs at most 3 more key tries than with
 * 1 key (with room for noise: 1.5 times that, plus 1 us), and less than
 * half an exponentiation, so it buys none (about a twentieth in an
 * optimized build; a fifth under ASan, which slows our code, not
 * OpenSSL's).  Rounds alternate; the fastest round of
 * each counts (interference only ever adds).
 */
static void
test_refused_cost(void ** state)
{
	double m1 = -1, m4 = -1, mt = -1, mx;
	uint8_t msg[MSGLEN];
	int r;

	(void)state;
	stranger_msg(msg);
	(void)refused_cost(4, msg);	/* Warm up. */
	for (r = 0; r < COST_ROUNDS; r++) {
		keep_min(&m1, refused_cost(1, msg));
		keep_min(&m4, refused_cost(4, msg));
		keep_min(&mt, try_cost(msg));
	}
	mx = modexp_cost();
	printf("refused handshake: 1 key %.2f us, 4 keys %.2f us "
	    "(+%.2f us per extra key); one key try (PBKDF2 + HMAC) %.2f us; "
	    "one modexp %.0f us\n", m1 * 1e6, m4 * 1e6,
	    (m4 - m1) / 3 * 1e6, mt * 1e6, mx * 1e6);
	assert_true(m4 - m1 <= 1.5 * 3 * mt + 1e-6);
	assert_true(m4 < mx / 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_key),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_client_first),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_refused_cost),
	};

	return (cmocka_run_group_tests(tests, setup, NULL));
}
