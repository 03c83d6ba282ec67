#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "crypto_dh_fixed.h"
#include "crypto_dh_ifma.h"
#include "crypto_dh_table.h"
#include "crypto_wipe.h"

#define WBITS	CRYPTO_DH_TAB_WBITS
#define NWIN	CRYPTO_DH_TAB_NWIN	/* Windows in x. */
#define NENT	CRYPTO_DH_TAB_NENT	/* Entries per window. */
#define ELEN	CRYPTO_DH_TAB_ELEN	/* Bytes per entry (little-endian). */

/* Windows of the built-in tables checked at start against the modulus. */
#define FIXED_CHECK_WIN	2

static const uint8_t * fixed_tab;	/* [NWIN][NENT][ELEN] */
static uint8_t * fixed_own;		/* Built here: the built-in ones did
					   not match the modulus. */
static const BIGNUM * fixed_p;
static BN_MONT_CTX * fixed_mont;
#if defined(__x86_64__)
/* (2^2080 / 2^2048)^NWIN mod p, in radix 2^52: see fixed_pow2_ifma(). */
static struct crypto_dh_ifma_num fixed_ifma_fix;
#endif

static inline const uint8_t *
entry(size_t win, size_t v)
{

	return (fixed_tab + (win * NENT + v) * ELEN);
}

/* Four table words: one vector operation where the CPU has 256-bit
 * vectors, two or four otherwise (GCC and clang vector extensions). */
typedef uint64_t sel_vec __attribute__((vector_size(32)));

/*
 * Copy T[${win}][${v}] to ${out}, reading every entry of the window (the
 * time and the memory touched do not depend on ${v}).  The body is inlined
 * twice on x86-64, for AVX2 and for the baseline; crypto_dh_fixed_init
 * picks one.  (Not an ifunc: a resolver runs before sanitizer runtimes
 * are up, and an instrumented one crashes the program at load.)
 */
static inline __attribute__((always_inline)) void
fixed_select_body(uint8_t out[ELEN], size_t win, unsigned v)
{
	const sel_vec * t = (const sel_vec *)(const void *)entry(win, 0);
	sel_vec acc[ELEN / sizeof(sel_vec)];
	uint64_t d, m;
	sel_vec mask;
	size_t j, k;

	for (k = 0; k < ELEN / sizeof(sel_vec); k++)
		acc[k] = (sel_vec){ 0, 0, 0, 0 };
	for (j = 0; j < NENT; j++, t += ELEN / sizeof(sel_vec)) {
		d = (uint64_t)(j ^ v);
		m = ((d | (0 - d)) >> 63) - 1;	/* ~0 iff j == v. */
		mask = (sel_vec){ m, m, m, m };
#pragma GCC unroll 8
		for (k = 0; k < ELEN / sizeof(sel_vec); k++)
			acc[k] |= t[k] & mask;
	}
	memcpy(out, acc, ELEN);
	crypto_wipe(acc, sizeof(acc));
}

static void
fixed_select_base(uint8_t out[ELEN], size_t win, unsigned v)
{

	fixed_select_body(out, win, v);
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static void
fixed_select_avx2(uint8_t out[ELEN], size_t win, unsigned v)
{

	fixed_select_body(out, win, v);
}
#endif

static void (* fixed_select)(uint8_t[ELEN], size_t, unsigned) =
    fixed_select_base;

/**
 * crypto_dh_fixed_init(p, mont):
 * Build the tables for the modulus ${p} with its Montgomery context ${mont}.
 * Called once, before any crypto_dh_fixed_pow2().  Return 0 or -1.
 */
int
crypto_dh_fixed_init(const BIGNUM * p, BN_MONT_CTX * mont)
{
	uint8_t check[FIXED_CHECK_WIN * NENT * ELEN];
	BN_CTX * ctx;

	/*
	 * The built-in tables are read-only data shared with every process
	 * that maps the program; a private copy would cost each process
	 * NWIN x NENT x ELEN bytes.  Their first windows, built here, prove
	 * that they were made for this modulus and Montgomery form (the
	 * rest follow from those by the same computation); if not, the
	 * tables are built here.
	 */
	if (crypto_dh_table_build(check, mont, FIXED_CHECK_WIN))
		goto err0;
	if (memcmp(check, crypto_dh_tab, sizeof(check)) == 0)
		fixed_tab = crypto_dh_tab;
	else {
		if ((fixed_own = aligned_alloc(64, CRYPTO_DH_TAB_LEN)) == NULL)
			goto err0;
		if (crypto_dh_table_build(fixed_own, mont, NWIN))
			goto err1;
		fixed_tab = fixed_own;
	}
	if ((ctx = BN_CTX_new()) == NULL)
		goto err1;
	fixed_p = p;
	fixed_mont = mont;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		fixed_select = fixed_select_avx2;
	if (crypto_dh_ifma_pow2_mod(&fixed_ifma_fix, p, (2080 - 2048) * NWIN,
	    ctx))
		goto err2;
#endif
	BN_CTX_free(ctx);
	return (0);

#if defined(__x86_64__)
err2:
	BN_CTX_free(ctx);
#endif
err1:
	free(fixed_own);
	fixed_own = NULL;
	fixed_tab = NULL;
err0:
	return (-1);
}

/**
 * fixed_window(x, i):
 * Return window ${i} of the 32-byte big-endian ${x}: bits WBITS ${i} ..
 * WBITS ${i} + WBITS - 1.  The positions are public, only the values secret.
 */
static unsigned
fixed_window(const uint8_t x[32], size_t i)
{
	unsigned nib;
	size_t b, k;

	for (nib = 0, b = 0; b < WBITS && i * WBITS + b < 256; b++) {
		k = i * WBITS + b;
		nib |= (unsigned)((x[31 - k / 8] >> (k % 8)) & 1) << b;
	}
	return (nib);
}

#if defined(__x86_64__)
/**
 * fixed_pow2_ifma(y, x):
 * Set the 256 big-endian bytes ${y} = 2^${x} mod p with the IFMA
 * almost-Montgomery product, in time independent of ${x}.  The entries are
 * in OpenSSL's Montgomery form, v 2^2048, and each of the NWIN - 1 products
 * divides by 2^2080, so the product of the NWIN entries carries a factor
 * 2^(2048 NWIN - 2080 (NWIN - 1)); one more product with fixed_ifma_fix
 * cancels it, and leaves the result at most p.
 */
static int
fixed_pow2_ifma(uint8_t y[256], const uint8_t x[32])
{
	uint8_t sel[ELEN];
	struct crypto_dh_ifma_num acc, f;
	size_t i;

	for (i = 0; i < NWIN; i++) {
		fixed_select(sel, i, fixed_window(x, i));
		crypto_dh_ifma_from_le(i == 0 ? &acc : &f, sel);
		if (i > 0)
			crypto_dh_ifma_mul(&acc, &acc, &f);
	}
	crypto_dh_ifma_mul_to_be(y, &acc, &fixed_ifma_fix);

	crypto_wipe(sel, sizeof(sel));
	crypto_wipe(&acc, sizeof(acc));
	crypto_wipe(&f, sizeof(f));
	return (0);
}
#endif

/**
 * crypto_dh_fixed_pow2(y, x):
 * Set the 256 big-endian bytes ${y} = 2^${x} mod p for the 32-byte
 * big-endian exponent ${x}, in time independent of ${x}.  Return 0 or -1.
 */
int
crypto_dh_fixed_pow2(uint8_t y[256], const uint8_t x[32])
{
	uint8_t sel[ELEN];
	BN_CTX * ctx;
	BIGNUM * acc, * f;
	size_t i;
	int rc = -1;

	if (fixed_tab == NULL)
		goto err0;
#if defined(__x86_64__)
	if (crypto_dh_ifma_active())
		return (fixed_pow2_ifma(y, x));
#endif
	if ((ctx = BN_CTX_new()) == NULL)
		goto err0;
	acc = BN_new();
	f = BN_new();
	if (acc == NULL || f == NULL)
		goto err1;
	BN_set_flags(acc, BN_FLG_CONSTTIME);
	BN_set_flags(f, BN_FLG_CONSTTIME);
	for (i = 0; i < NWIN; i++) {
		fixed_select(sel, i, fixed_window(x, i));
		if (BN_lebin2bn(sel, ELEN, i == 0 ? acc : f) == NULL)
			goto err1;
		if (i > 0 && !BN_mod_mul_montgomery(acc, acc, f, fixed_mont,
		    ctx))
			goto err1;
	}
	if (!BN_from_montgomery(acc, acc, fixed_mont, ctx))
		goto err1;
	if (BN_bn2binpad(acc, y, 256) != 256)
		goto err1;
	rc = 0;

err1:
	crypto_wipe(sel, sizeof(sel));
	BN_clear_free(f);
	BN_clear_free(acc);
	BN_CTX_free(ctx);
err0:
	return (rc);
}
