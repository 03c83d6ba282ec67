#if defined(__x86_64__)

#include <stdint.h>
#include <string.h>

#include <immintrin.h>

#include <openssl/bn.h>

#include "crypto_dh_ifma.h"
#include "crypto_wipe.h"

/*
 * Almost-Montgomery multiplication in radix 2^52 (Gueron and Krasnov; the
 * technique of OpenSSL's rsaz-2k-avx512 and of Drucker and Gueron, "Fast
 * modular squaring with AVX512IFMA"), written for group 14, whose p is
 * -1 mod 2^64: the Montgomery factor -p^-1 mod 2^52 is 1 and the lowest
 * limb of p is 2^52 - 1, so the per-word quotient y is just the low 52 bits
 * of the accumulator and its product with that limb needs no multiplier.
 */

#define NL	CRYPTO_DH_IFMA_NLIMB	/* Limbs per number. */
#define NV	(NL / 8)		/* zmm registers per number. */
#define M52	((uint64_t)0xfffffffffffff)	/* 2^52 - 1. */
#define WBITS	4	/* Exponent window: 252 squarings, 77 products. */
#define NTAB	(1 << WBITS)

#define IFMA_TARGET __attribute__((target("avx512f,avx512vl,avx512ifma")))

typedef struct crypto_dh_ifma_num num;

/* Constants made by crypto_dh_ifma_init() and read-only afterwards. */
static num ifma_p;		/* p. */
static num ifma_rr;		/* R^2 mod p, to enter the Montgomery domain. */
static num ifma_one;		/* R mod p: 1 in the Montgomery domain. */
static num ifma_unit;		/* 1, to leave it. */
static int ifma_on;		/* Set by crypto_dh_ifma_set_active(). */

/**
 * crypto_dh_ifma_supported():
 * Return nonzero if this CPU has AVX-512 F, VL and IFMA.
 */
int
crypto_dh_ifma_supported(void)
{

	__builtin_cpu_init();
	return (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512ifma"));
}

/**
 * crypto_dh_ifma_from_le(r, le):
 * Set ${r} to the 256 little-endian bytes ${le} (any value below 2^2048,
 * which is below 2p).
 */
void
crypto_dh_ifma_from_le(num * r, const uint8_t le[256])
{
	uint8_t buf[264];	/* Limb 39 starts at byte 253: 8 bytes read. */
	uint64_t w;
	size_t j;

	memcpy(buf, le, 256);
	memset(buf + 256, 0, sizeof(buf) - 256);
	for (j = 0; j < NL; j++) {
		/* Bit 52 j is bit 4 (j & 1) of byte 13 j / 2. */
		memcpy(&w, buf + 13 * j / 2, 8);
		r->l[j] = (w >> (4 * (j & 1))) & M52;
	}
	crypto_wipe(buf, sizeof(buf));
}

/**
 * from_be(r, be):
 * Set ${r} to the 256 big-endian bytes ${be}.
 */
static void
from_be(num * r, const uint8_t be[256])
{
	uint8_t le[256];
	size_t i;

	for (i = 0; i < 256; i++)
		le[i] = be[255 - i];
	crypto_dh_ifma_from_le(r, le);
	crypto_wipe(le, sizeof(le));
}

/**
 * crypto_dh_ifma_to_be(out, a):
 * Write ${a} mod p as 256 big-endian bytes to ${out}, in constant time.
 */
void
crypto_dh_ifma_to_be(uint8_t out[256], const num * a)
{
	uint64_t d[NL];
	unsigned __int128 acc;
	uint64_t t, borrow, keep;
	unsigned bits;
	size_t j, o;

	/* d = a - p; keep a where that borrows (a < p), else d: a < 2p. */
	for (borrow = 0, j = 0; j < NL; j++) {
		t = a->l[j] - ifma_p.l[j] - borrow;
		d[j] = t & M52;
		borrow = t >> 63;
	}
	keep = 0 - borrow;
	for (j = 0; j < NL; j++)
		d[j] = (a->l[j] & keep) | (d[j] & ~keep);

	/* 52-bit limbs to bytes, most significant first; the value is below
	 * p < 2^2048, so limb 39 has no bits beyond byte 255. */
	for (acc = 0, bits = 0, o = 0, j = 0; j < NL; j++) {
		acc |= (unsigned __int128)d[j] << bits;
		for (bits += 52; bits >= 8 && o < 256; bits -= 8, acc >>= 8)
			out[255 - o++] = (uint8_t)acc;
	}
	crypto_wipe(d, sizeof(d));
}

/**
 * amm(r, a, b):
 * Set ${r} = ${a} ${b} 2^-2080 mod p, in [0, 2p), for normalized ${a} and
 * ${b} below 2p.  One pass per limb b_i of ${b}: A += a b_i + y p with y =
 * A mod 2^52, then A /= 2^52.  The limbs of A are kept unnormalized in 5
 * zmm registers (each gains fewer than 4 x 2^52 per pass, so fewer than
 * 2^60 in all), except that the true lowest limb lives in the scalar S,
 * which is what y is computed from: the chain from one y to the next is a
 * scalar add, one broadcast, one madd and one extract, while the rest of
 * the passes' multiply-adds proceed in parallel.  Carries are propagated
 * once, at the end.
 */
IFMA_TARGET static inline void
amm(num * r, const num * a, const num * b)
{
	const __m512i zero = _mm512_setzero_si512();
	__m512i A[NV], P[NV], R[NV], X[NV], H[NV], C[NV];
	__m512i B, Y;
	unsigned __int128 t;
	uint64_t S = 0, T, y, alo, ahi, g, e, c;
	size_t i, k;

#pragma GCC unroll 8
	for (k = 0; k < NV; k++) {
		A[k] = _mm512_load_si512((const void *)&a->l[8 * k]);
		P[k] = _mm512_load_si512((const void *)&ifma_p.l[8 * k]);
		R[k] = zero;
	}
	for (i = 0; i < NL; i++) {
		/* a_0 b_i in the scalar unit, split at bit 52 like the madds. */
		t = (unsigned __int128)a->l[0] * b->l[i];
		alo = (uint64_t)t & M52;
		ahi = (uint64_t)(t >> 52);
		B = _mm512_set1_epi64((long long)b->l[i]);
#pragma GCC unroll 8
		for (k = 0; k < NV; k++) {
			X[k] = _mm512_madd52lo_epu64(R[k], A[k], B);
			H[k] = _mm512_madd52hi_epu64(zero, A[k], B);
		}

		/* y = A mod 2^52 (the factor -p^-1 mod 2^52 is 1). */
		T = S + alo;
		y = T & M52;
		Y = _mm512_set1_epi64((long long)y);
#pragma GCC unroll 8
		for (k = 0; k < NV; k++) {
			X[k] = _mm512_madd52lo_epu64(X[k], P[k], Y);
			H[k] = _mm512_madd52hi_epu64(H[k], P[k], Y);
		}

		/*
		 * The next lowest limb: (T + y p_0) / 2^52 with p_0 = 2^52 - 1
		 * is (T >> 52) + y; then the high half of a_0 b_i, and limb 1
		 * with its low halves (lane 1 of X).  Lane 0 of the vector
		 * accumulator is never read again: S stands for it.
		 */
		S = (T >> 52) + y + ahi + (uint64_t)_mm_extract_epi64(
		    _mm512_castsi512_si128(X[0]), 1);

		/* A /= 2^52: shift the low halves down one limb, add the high
		 * halves, which belong one limb up from their products. */
#pragma GCC unroll 8
		for (k = 0; k + 1 < NV; k++)
			R[k] = _mm512_add_epi64(_mm512_alignr_epi64(X[k + 1],
			    X[k], 1), H[k]);
		R[NV - 1] = _mm512_add_epi64(_mm512_alignr_epi64(zero,
		    X[NV - 1], 1), H[NV - 1]);
	}
	R[0] = _mm512_mask_set1_epi64(R[0], 1, (long long)S);

	/*
	 * Normalize: one round of carries (limb >> 52 into the next limb)
	 * leaves every limb below 2^52 + 2^12, so at most a single carry
	 * ripples on; find where with the carry-lookahead identity on the
	 * masks of limbs above 2^52 - 1 (generate) and equal to it
	 * (propagate), and add it.  The value is below 2p < 2^2049, so
	 * nothing carries out of limb 39.
	 */
#pragma GCC unroll 8
	for (k = 0; k < NV; k++) {
		C[k] = _mm512_srli_epi64(R[k], 52);
		R[k] = _mm512_and_si512(R[k], _mm512_set1_epi64((long long)M52));
	}
	R[0] = _mm512_add_epi64(R[0], _mm512_alignr_epi64(C[0], zero, 7));
#pragma GCC unroll 8
	for (k = 1; k < NV; k++)
		R[k] = _mm512_add_epi64(R[k], _mm512_alignr_epi64(C[k],
		    C[k - 1], 7));
#pragma GCC unroll 8
	for (g = 0, e = 0, k = 0; k < NV; k++) {
		g |= (uint64_t)_mm512_cmpgt_epu64_mask(R[k],
		    _mm512_set1_epi64((long long)M52)) << (8 * k);
		e |= (uint64_t)_mm512_cmpeq_epu64_mask(R[k],
		    _mm512_set1_epi64((long long)M52)) << (8 * k);
	}
	c = ((g << 1) + e) ^ e;
#pragma GCC unroll 8
	for (k = 0; k < NV; k++) {
		R[k] = _mm512_mask_add_epi64(R[k], (__mmask8)(c >> (8 * k)),
		    R[k], _mm512_set1_epi64(1));
		R[k] = _mm512_and_si512(R[k], _mm512_set1_epi64((long long)M52));
		_mm512_store_si512((void *)&r->l[8 * k], R[k]);
	}
}

/**
 * crypto_dh_ifma_mul(r, a, b):
 * Set ${r} = ${a} ${b} 2^-2080 mod p, in [0, 2p), in constant time.  ${r}
 * may be ${a} or ${b}.
 */
IFMA_TARGET void
crypto_dh_ifma_mul(num * r, const num * a, const num * b)
{

	amm(r, a, b);
}

/**
 * crypto_dh_ifma_mul_to_be(out, a, b):
 * Write ${a} ${b} 2^-2080 mod p as 256 big-endian bytes to ${out}, in
 * constant time (the last product of an exponentiation, which leaves the
 * Montgomery domain).
 */
IFMA_TARGET void
crypto_dh_ifma_mul_to_be(uint8_t out[256], const num * a, const num * b)
{
	num t;

	amm(&t, a, b);
	crypto_dh_ifma_to_be(out, &t);
	crypto_wipe(&t, sizeof(t));
}

/**
 * tab_select(r, tab, v):
 * Copy ${tab}[${v}] to ${r}, reading every one of the NTAB entries, so that
 * neither the time nor the memory touched depends on ${v}.
 */
IFMA_TARGET static inline void
tab_select(num * r, const num tab[NTAB], unsigned v)
{
	__m512i acc[NV], mask;
	uint64_t d, m;
	size_t j, k;

#pragma GCC unroll 8
	for (k = 0; k < NV; k++)
		acc[k] = _mm512_setzero_si512();
	for (j = 0; j < NTAB; j++) {
		d = (uint64_t)(j ^ v);
		m = ((d | (0 - d)) >> 63) - 1;	/* ~0 iff j == v. */
		mask = _mm512_set1_epi64((long long)m);
#pragma GCC unroll 8
		for (k = 0; k < NV; k++)
			acc[k] = _mm512_or_si512(acc[k], _mm512_and_si512(mask,
			    _mm512_load_si512((const void *)&tab[j].l[8 * k])));
	}
#pragma GCC unroll 8
	for (k = 0; k < NV; k++)
		_mm512_store_si512((void *)&r->l[8 * k], acc[k]);
}

/**
 * crypto_dh_ifma_modexp(r, y, x):
 * Set the 256 big-endian bytes ${r} = ${y}^${x} mod p for the big-endian
 * ${y} (256 bytes, below p) and ${x} (32 bytes), in time independent of
 * ${x} and ${y}.
 */
IFMA_TARGET void
crypto_dh_ifma_modexp(uint8_t r[256], const uint8_t y[256],
    const uint8_t x[32])
{
	num tab[NTAB];		/* tab[v] = y^v R mod p (almost reduced). */
	num acc, f;
	unsigned nib;
	size_t v, w;
	int s;

	/* The table: y R by a product with R^2, then products and squares. */
	from_be(&f, y);
	tab[0] = ifma_one;
	amm(&tab[1], &f, &ifma_rr);
	for (v = 2; v < NTAB; v++) {
		if (v % 2 == 0)
			amm(&tab[v], &tab[v / 2], &tab[v / 2]);
		else
			amm(&tab[v], &tab[v - 1], &tab[1]);
	}

	/* Fixed 4-bit windows from the top of x (big-endian): the window
	 * positions are public, only their values secret. */
	for (w = 256 / WBITS; w-- > 0;) {
		nib = (x[31 - w / 2] >> (4 * (w % 2))) & 0xf;
		if (w == 256 / WBITS - 1) {
			tab_select(&acc, tab, nib);
			continue;
		}
		for (s = 0; s < WBITS; s++)
			amm(&acc, &acc, &acc);
		tab_select(&f, tab, nib);
		amm(&acc, &acc, &f);
	}

	/* Out of the Montgomery domain. */
	crypto_dh_ifma_mul_to_be(r, &acc, &ifma_unit);

	crypto_wipe(tab, sizeof(tab));
	crypto_wipe(&acc, sizeof(acc));
	crypto_wipe(&f, sizeof(f));
}

/**
 * crypto_dh_ifma_pow2_mod(r, p, e, ctx):
 * Set ${r} = 2^${e} mod ${p} (a 2048-bit modulus) with OpenSSL's ${ctx}.
 * Needs no crypto_dh_ifma_init().  Return 0 on success, -1 on failure.
 */
int
crypto_dh_ifma_pow2_mod(num * r, const BIGNUM * p, unsigned e, BN_CTX * ctx)
{
	uint8_t le[256];
	BIGNUM * t;
	int rc = -1;

	if ((t = BN_new()) == NULL)
		goto err0;
	if (!BN_set_bit(t, (int)e) || !BN_mod(t, t, p, ctx))
		goto err1;
	if (BN_bn2lebinpad(t, le, sizeof(le)) != sizeof(le))
		goto err1;
	crypto_dh_ifma_from_le(r, le);

	/* Success! */
	rc = 0;

err1:
	BN_free(t);
err0:
	/* Done, one way or the other. */
	return (rc);
}

/**
 * crypto_dh_ifma_init(p):
 * Prepare the constants for the 256 big-endian bytes of the group 14
 * modulus ${p}.  Called once, before any other crypto_dh_ifma_* call but
 * crypto_dh_ifma_supported().  Return 0 on success, -1 on failure.
 */
int
crypto_dh_ifma_init(const uint8_t p[256])
{
	BN_CTX * ctx;
	BIGNUM * bp;
	int rc = -1;

	/* amm() relies on p = -1 mod 2^52 and on p > 2^2047 (so that 2^2048,
	 * and so any 256-byte input, is below 2p). */
	from_be(&ifma_p, p);
	if (ifma_p.l[0] != M52 || (p[0] & 0x80) == 0)
		goto err0;

	if ((ctx = BN_CTX_new()) == NULL)
		goto err0;
	if ((bp = BN_bin2bn(p, 256, NULL)) == NULL)
		goto err1;
	if (crypto_dh_ifma_pow2_mod(&ifma_rr, bp, 2 * 52 * NL, ctx) ||
	    crypto_dh_ifma_pow2_mod(&ifma_one, bp, 52 * NL, ctx))
		goto err2;
	memset(&ifma_unit, 0, sizeof(ifma_unit));
	ifma_unit.l[0] = 1;

	/* Success! */
	rc = 0;

err2:
	BN_free(bp);
err1:
	BN_CTX_free(ctx);
err0:
	/* Done, one way or the other. */
	return (rc);
}

/**
 * crypto_dh_ifma_set_active(on):
 * Record whether the process uses the IFMA path (${on} nonzero) for the
 * group 14 operations; crypto_dh decides once, at its initialization.
 */
void
crypto_dh_ifma_set_active(int on)
{

	ifma_on = on;
}

/**
 * crypto_dh_ifma_active():
 * Return nonzero if crypto_dh_ifma_set_active() chose the IFMA path.
 */
int
crypto_dh_ifma_active(void)
{

	return (ifma_on);
}

#endif /* __x86_64__ */
