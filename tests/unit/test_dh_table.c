/*
 * Unit tests of the built-in fixed-base Diffie-Hellman tables
 * (src/crypto/crypto_dh_table.c and the generated crypto_dh_tab): every
 * window that the build computed equals what crypto_dh_table_build gives
 * here for group 14's prime, and a different modulus gives different
 * first windows (what crypto_dh_fixed_init checks before it uses them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>

#include "crypto_dh_table.h"

/* The tables of the prime ${p}'s first ${nwin} windows, malloc'd. */
static uint8_t *
build(BIGNUM * p, size_t nwin)
{
	BN_CTX * ctx;
	BN_MONT_CTX * mont;
	uint8_t * tab;

	assert_non_null(ctx = BN_CTX_new());
	assert_non_null(mont = BN_MONT_CTX_new());
	assert_true(BN_MONT_CTX_set(mont, p, ctx));
	assert_non_null(tab = malloc(nwin * CRYPTO_DH_TAB_NENT *
	    CRYPTO_DH_TAB_ELEN));
	assert_int_equal(crypto_dh_table_build(tab, mont, nwin), 0);
	BN_MONT_CTX_free(mont);
	BN_CTX_free(ctx);
	return (tab);
}

static void
t_builtin(void ** state)
{
	BIGNUM * p;
	uint8_t * tab;

	(void)state;
	assert_non_null(p = BN_get_rfc3526_prime_2048(NULL));
	tab = build(p, CRYPTO_DH_TAB_NWIN);
	assert_memory_equal(tab, crypto_dh_tab, CRYPTO_DH_TAB_LEN);
	free(tab);
	BN_free(p);
}

static void
t_other_modulus(void ** state)
{
	BIGNUM * p;
	uint8_t * tab;
	size_t len = 2 * CRYPTO_DH_TAB_NENT * CRYPTO_DH_TAB_ELEN;

	(void)state;
	/* Group 14's prime minus 2: odd, another modulus. */
	assert_non_null(p = BN_get_rfc3526_prime_2048(NULL));
	assert_true(BN_sub_word(p, 2));
	tab = build(p, 2);
	assert_true(memcmp(tab, crypto_dh_tab, len) != 0);
	free(tab);
	BN_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_builtin),
		cmocka_unit_test(t_other_modulus),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
