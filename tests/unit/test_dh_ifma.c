/*
 * The AVX-512 IFMA arithmetic of group 14 (src/crypto/crypto_dh_ifma.c)
 * against OpenSSL's BIGNUM: the almost-Montgomery product, the shared
 * secret y^x mod p and the fixed-base 2^x mod p on random and edge-case
 * inputs, with the IFMA path forced on and off; and the choice of path
 * (crypto_dh_path(), RINGPIPED_DH) in child processes.  On a CPU without
 * IFMA only the choice and the OpenSSL path are tested.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>

#include "crypto_dh.h"
#include "crypto_dh_ifma.h"

#define TEST_RNG_SEED 0x1f3a5c7e9b2d4f60ULL
#include "test_rng.h"

#define NRANDOM 400	/* Random cases per comparison. */

/**
 * ifma_here():
 * Return nonzero if this build and CPU can run the IFMA path.
 */
static int
ifma_here(void)
{

#if defined(__x86_64__)
	return (crypto_dh_ifma_supported());
#else
	return (0);
#endif
}

/**
 * child_path(env, want_path):
 * In a child process asking for the arithmetic ${env} (as the daemon does
 * with RINGPIPED_DH; NULL: the measured choice), check that
 * crypto_dh_path() is ${want_path} (either name if NULL) and that one
 * shared secret is right.  Return the child's exit status.
 */
static int
child_path(const char * env, const char * want_path)
{
	uint8_t x[CRYPTO_DH_PRIVLEN], y[CRYPTO_DH_PUBLEN], y2[CRYPTO_DH_PUBLEN];
	uint8_t x2[CRYPTO_DH_PRIVLEN], z1[CRYPTO_DH_PUBLEN];
	uint8_t z2[CRYPTO_DH_PUBLEN];
	const char * path;
	pid_t pid;
	int status;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		crypto_dh_set_path(env);
		path = crypto_dh_path();
		if (strcmp(path, "ifma") && strcmp(path, "openssl"))
			_exit(2);
		if (want_path != NULL && strcmp(path, want_path))
			_exit(3);
		if (!ifma_here() && strcmp(path, "openssl"))
			_exit(4);

		/* Both ends agree: (2^a)^b = (2^b)^a. */
		if (crypto_dh_generate(x, y) || crypto_dh_generate(x2, y2))
			_exit(5);
		if (crypto_dh_compute(y2, x, z1) || crypto_dh_compute(y, x2,
		    z2))
			_exit(6);
		_exit(memcmp(z1, z2, CRYPTO_DH_PUBLEN) ? 7 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return (-1);
	return (WIFEXITED(status) ? WEXITSTATUS(status) : 128);
}

/* The choice of path, before this process initializes crypto_dh. */
static void
test_path_choice(void ** state)
{

	if (!ifma_here())
		print_message("no AVX-512 IFMA here: testing the OpenSSL "
		    "path and its selection only\n");
	assert_int_equal(child_path(NULL, NULL), 0);
	assert_int_equal(child_path("openssl", "openssl"), 0);
	assert_int_equal(child_path("ifma", ifma_here() ? "ifma" : "openssl"),
	    0);
	assert_int_equal(child_path("bogus", NULL), 0);
}

/**
 * bn_p():
 * Return a new BIGNUM holding p.
 */
static BIGNUM *
bn_p(void)
{
	BIGNUM * p;

	assert_non_null(p = BN_bin2bn(crypto_dh_prime(), CRYPTO_DH_PUBLEN,
	    NULL));
	return (p);
}

/**
 * edge_y(i, y):
 * Set ${y} to edge case ${i} of a peer value below p (0 to 7), or a random
 * one for larger ${i}: 1, 2, p - 2, p - 1, the top 64 bits of p (all ones)
 * over random lower bits below p's, 2^2047, 2^2047 - 1, 3.
 */
static void
edge_y(size_t i, uint8_t y[CRYPTO_DH_PUBLEN])
{
	const uint8_t * p = crypto_dh_prime();

	memset(y, 0, CRYPTO_DH_PUBLEN);
	switch (i) {
	case 0:
		y[255] = 1;
		break;
	case 1:
		y[255] = 2;
		break;
	case 2:
	case 3:
		/* p ends in 0xff: p - 2, p - 1. */
		memcpy(y, p, CRYPTO_DH_PUBLEN);
		y[255] = (uint8_t)(p[255] - (i == 2 ? 2 : 1));
		break;
	case 4:
		memset(y, 0xff, 8);
		rngfill(y + 8, CRYPTO_DH_PUBLEN - 8);
		y[8] = (uint8_t)(y[8] % p[8]);
		break;
	case 5:
		y[0] = 0x80;
		break;
	case 6:
		memset(y, 0xff, CRYPTO_DH_PUBLEN);
		y[0] = 0x7f;
		break;
	case 7:
		y[255] = 3;
		break;
	default:
		rngfill(y, CRYPTO_DH_PUBLEN);
		y[0] &= 0x7f;	/* p > 2^2047, so y < p. */
		break;
	}
	assert_int_equal(crypto_dh_sanitycheck(y), 0);
}

/**
 * edge_x(i, x):
 * Set ${x} to edge case ${i} of an exponent (0: zero, 1: all ones, 2: one,
 * 3: the top bit only), or a random one for larger ${i}.
 */
static void
edge_x(size_t i, uint8_t x[CRYPTO_DH_PRIVLEN])
{

	memset(x, 0, CRYPTO_DH_PRIVLEN);
	if (i == 1)
		memset(x, 0xff, CRYPTO_DH_PRIVLEN);
	else if (i == 2)
		x[31] = 1;
	else if (i == 3)
		x[0] = 0x80;
	else if (i > 3)
		rngfill(x, CRYPTO_DH_PRIVLEN);
}

/**
 * want_pow(want, y, x):
 * Set ${want} = ${y}^${x} mod p with OpenSSL's generic exponentiation.
 */
static void
want_pow(uint8_t want[CRYPTO_DH_PUBLEN], const uint8_t y[CRYPTO_DH_PUBLEN],
    const uint8_t x[CRYPTO_DH_PRIVLEN])
{
	BN_CTX * ctx;
	BIGNUM * p, * b, * e, * r;

	assert_non_null(ctx = BN_CTX_new());
	p = bn_p();
	assert_non_null(b = BN_bin2bn(y, CRYPTO_DH_PUBLEN, NULL));
	assert_non_null(e = BN_bin2bn(x, CRYPTO_DH_PRIVLEN, NULL));
	assert_non_null(r = BN_new());
	assert_true(BN_mod_exp(r, b, e, p, ctx));
	assert_int_equal(BN_bn2binpad(r, want, CRYPTO_DH_PUBLEN),
	    CRYPTO_DH_PUBLEN);
	BN_free(r);
	BN_free(e);
	BN_free(b);
	BN_free(p);
	BN_CTX_free(ctx);
}

/**
 * check_paths(ifma):
 * Compare crypto_dh_compute() and crypto_dh_generate_from() with OpenSSL's
 * generic exponentiation on every edge case and NRANDOM random ones, with
 * the IFMA path forced on (${ifma} nonzero) or off.
 */
static void
check_paths(int ifma)
{
	uint8_t y[CRYPTO_DH_PUBLEN], x[CRYPTO_DH_PRIVLEN];
	uint8_t two[CRYPTO_DH_PUBLEN] = { 0 };
	uint8_t got[CRYPTO_DH_PUBLEN], want[CRYPTO_DH_PUBLEN];
	size_t i, j;

	assert_int_equal(crypto_dh_init(), 0);
#if defined(__x86_64__)
	crypto_dh_ifma_set_active(ifma);
#endif
	two[255] = 2;

	/* Every edge y with every edge x, then random pairs. */
	for (i = 0; i < 8; i++) {
		for (j = 0; j < 4; j++) {
			edge_y(i, y);
			edge_x(j, x);
			assert_int_equal(crypto_dh_compute(y, x, got), 0);
			want_pow(want, y, x);
			assert_memory_equal(got, want, CRYPTO_DH_PUBLEN);
		}
	}
	for (i = 0; i < NRANDOM; i++) {
		edge_y(8 + i, y);
		edge_x(4 + i, x);
		assert_int_equal(crypto_dh_compute(y, x, got), 0);
		want_pow(want, y, x);
		assert_memory_equal(got, want, CRYPTO_DH_PUBLEN);
	}

	/* Fixed-base 2^x. */
	for (i = 0; i < 4 + NRANDOM; i++) {
		edge_x(i, x);
		assert_int_equal(crypto_dh_generate_from(x, got), 0);
		want_pow(want, two, x);
		assert_memory_equal(got, want, CRYPTO_DH_PUBLEN);
	}

	/* y = 0 is no valid peer value, but must not break the arithmetic:
	 * 0^0 = 1 and 0^x = 0 as OpenSSL has it. */
	memset(y, 0, sizeof(y));
	for (j = 0; j < 4; j++) {
		edge_x(j, x);
		assert_int_equal(crypto_dh_compute(y, x, got), 0);
		want_pow(want, y, x);
		assert_memory_equal(got, want, CRYPTO_DH_PUBLEN);
	}
}

/* The OpenSSL path, whatever the choice. */
static void
test_openssl_path(void ** state)
{

	check_paths(0);
}

/* The IFMA path forced on, where the CPU has it. */
static void
test_ifma_path(void ** state)
{

	if (!ifma_here()) {
		print_message("no AVX-512 IFMA here: IFMA comparison skipped\n");
		skip();
	}
	check_paths(1);
}

#if defined(__x86_64__)
/**
 * num_to_bn(r, a):
 * Set ${r} to the value of the limbs of ${a}, and check that they are
 * normalized.
 */
static void
num_to_bn(BIGNUM * r, const struct crypto_dh_ifma_num * a)
{
	size_t j;

	BN_zero(r);
	for (j = CRYPTO_DH_IFMA_NLIMB; j-- > 0;) {
		assert_true(a->l[j] < ((uint64_t)1 << 52));
		assert_true(BN_lshift(r, r, 52));
		assert_true(BN_add_word(r, a->l[j]));
	}
}
#endif

/* The product a b 2^-2080 mod p, in [0, 2p), on random and extreme
 * 2048-bit operands (any such value is below 2p). */
static void
test_ifma_mul(void ** state)
{
#if defined(__x86_64__)
	struct crypto_dh_ifma_num a, b, r;
	uint8_t la[256], lb[256], got[256], want[256];
	BN_CTX * ctx;
	BIGNUM * p, * p2, * ba, * bb, * br, * rinv;
	size_t i, k;

	if (!ifma_here()) {
		print_message("no AVX-512 IFMA here: IFMA comparison skipped\n");
		skip();
	}
	assert_int_equal(crypto_dh_init(), 0);
	assert_non_null(ctx = BN_CTX_new());
	p = bn_p();
	assert_non_null(p2 = BN_new());
	assert_true(BN_lshift1(p2, p));
	assert_non_null(ba = BN_new());
	assert_non_null(bb = BN_new());
	assert_non_null(br = BN_new());
	assert_non_null(rinv = BN_new());
	assert_true(BN_set_bit(rinv, 2080));
	assert_non_null(BN_mod_inverse(rinv, rinv, p, ctx));

	for (i = 0; i < 2 * NRANDOM; i++) {
		rngfill(la, sizeof(la));
		rngfill(lb, sizeof(lb));
		/* Extremes: 2^2048 - 1, p - 1 (little-endian), 0, 1. */
		if (i % 8 == 1)
			memset(la, 0xff, sizeof(la));
		if (i % 8 == 2) {
			memset(la, 0xff, sizeof(la));
			memset(lb, 0xff, sizeof(lb));
		}
		if (i % 8 == 3) {
			for (k = 0; k < 256; k++)
				la[k] = crypto_dh_prime()[255 - k];
			la[0]--;
		}
		if (i % 8 == 4)
			memset(lb, 0, sizeof(lb));
		if (i % 8 == 5) {
			memset(lb, 0, sizeof(lb));
			lb[0] = 1;
		}
		crypto_dh_ifma_from_le(&a, la);
		crypto_dh_ifma_from_le(&b, lb);
		crypto_dh_ifma_mul(&r, &a, &b);

		/* Normalized limbs, value below 2p. */
		num_to_bn(br, &r);
		assert_true(BN_cmp(br, p2) < 0);

		/* Congruent to a b 2^-2080. */
		crypto_dh_ifma_to_be(got, &r);
		assert_non_null(BN_lebin2bn(la, sizeof(la), ba));
		assert_non_null(BN_lebin2bn(lb, sizeof(lb), bb));
		assert_true(BN_mod_mul(br, ba, bb, p, ctx));
		assert_true(BN_mod_mul(br, br, rinv, p, ctx));
		assert_int_equal(BN_bn2binpad(br, want, sizeof(want)), 256);
		assert_memory_equal(got, want, sizeof(want));

		/* The square, in place. */
		crypto_dh_ifma_mul(&a, &a, &a);
		crypto_dh_ifma_to_be(got, &a);
		assert_non_null(BN_lebin2bn(la, sizeof(la), ba));
		assert_true(BN_mod_mul(br, ba, ba, p, ctx));
		assert_true(BN_mod_mul(br, br, rinv, p, ctx));
		assert_int_equal(BN_bn2binpad(br, want, sizeof(want)), 256);
		assert_memory_equal(got, want, sizeof(want));
	}

	/* The final reduction of values in [p, 2^2048), which products
	 * almost never yield: v - p.  And below p: v. */
	for (i = 0; i < NRANDOM; i++) {
		rngfill(la, sizeof(la));
		if (i % 2)	/* p's top 64 bits are ones, then 0xc9. */
			memset(la + 247, 0xff, 9);
		crypto_dh_ifma_from_le(&a, la);
		crypto_dh_ifma_to_be(got, &a);
		assert_non_null(BN_lebin2bn(la, sizeof(la), ba));
		assert_true(BN_nnmod(br, ba, p, ctx));
		assert_int_equal(BN_bn2binpad(br, want, sizeof(want)), 256);
		assert_memory_equal(got, want, sizeof(want));
	}

	BN_free(rinv);
	BN_free(br);
	BN_free(bb);
	BN_free(ba);
	BN_free(p2);
	BN_free(p);
	BN_CTX_free(ctx);
#else
	print_message("not x86-64: IFMA comparison skipped\n");
	skip();
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* First: the children must start with crypto_dh fresh. */
		cmocka_unit_test(test_path_choice),
		cmocka_unit_test(test_ifma_mul),
		cmocka_unit_test(test_ifma_path),
		cmocka_unit_test(test_openssl_path),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
