#ifndef CRYPTO_DH_IFMA_H_
#define CRYPTO_DH_IFMA_H_

/*
 * Group 14 arithmetic with AVX-512 IFMA (internal to crypto_dh): numbers are
 * 40 limbs of 52 bits, least significant first, and the multiplication is
 * the almost-Montgomery product a b 2^-2080 mod p, which maps [0, 2p) x
 * [0, 2p) into [0, 2p), so values stay almost reduced between operations
 * and only crypto_dh_ifma_to_be() reduces fully.  x86-64 only; nothing but
 * crypto_dh_ifma_supported(), crypto_dh_ifma_from_le() and
 * crypto_dh_ifma_pow2_mod() (plain C, no constant of p) may be called
 * unless it returned nonzero and crypto_dh_ifma_init() succeeded.
 */

#if defined(__x86_64__)

#include <stdint.h>

#include <openssl/bn.h>

#define CRYPTO_DH_IFMA_NLIMB 40	/* 40 x 52 = 2080 bits: R = 2^2080. */

/* A number: normalized limbs (each below 2^52), value below 2p. */
struct crypto_dh_ifma_num {
	uint64_t l[CRYPTO_DH_IFMA_NLIMB] __attribute__((aligned(64)));
};

/**
 * crypto_dh_ifma_supported():
 * Return nonzero if this CPU has AVX-512 F, VL and IFMA.
 */
int crypto_dh_ifma_supported(void);

/**
 * crypto_dh_ifma_init(p):
 * Prepare the constants for the 256 big-endian bytes of the group 14
 * modulus ${p}.  Called once, before any other crypto_dh_ifma_* call but
 * crypto_dh_ifma_supported().  Return 0 on success, -1 on failure.
 */
int crypto_dh_ifma_init(const uint8_t p[256]);

/**
 * crypto_dh_ifma_from_le(r, le):
 * Set ${r} to the 256 little-endian bytes ${le} (any value below 2^2048,
 * which is below 2p).
 */
void crypto_dh_ifma_from_le(struct crypto_dh_ifma_num * r,
    const uint8_t le[256]);

/**
 * crypto_dh_ifma_pow2_mod(r, p, e, ctx):
 * Set ${r} = 2^${e} mod ${p} (a 2048-bit modulus) with OpenSSL's ${ctx}.
 * Needs no crypto_dh_ifma_init().  Return 0 on success, -1 on failure.
 */
int crypto_dh_ifma_pow2_mod(struct crypto_dh_ifma_num * r, const BIGNUM * p,
    unsigned e, BN_CTX * ctx);

/**
 * crypto_dh_ifma_mul(r, a, b):
 * Set ${r} = ${a} ${b} 2^-2080 mod p, in [0, 2p), in constant time.  ${r}
 * may be ${a} or ${b}.
 */
void crypto_dh_ifma_mul(struct crypto_dh_ifma_num * r,
    const struct crypto_dh_ifma_num * a, const struct crypto_dh_ifma_num * b);

/**
 * crypto_dh_ifma_to_be(out, a):
 * Write ${a} mod p as 256 big-endian bytes to ${out}, in constant time.
 */
void crypto_dh_ifma_to_be(uint8_t out[256],
    const struct crypto_dh_ifma_num * a);

/**
 * crypto_dh_ifma_mul_to_be(out, a, b):
 * Write ${a} ${b} 2^-2080 mod p as 256 big-endian bytes to ${out}, in
 * constant time (the last product of an exponentiation, which leaves the
 * Montgomery domain).
 */
void crypto_dh_ifma_mul_to_be(uint8_t out[256],
    const struct crypto_dh_ifma_num * a, const struct crypto_dh_ifma_num * b);

/**
 * crypto_dh_ifma_modexp(r, y, x):
 * Set the 256 big-endian bytes ${r} = ${y}^${x} mod p for the big-endian
 * ${y} (256 bytes, below p) and ${x} (32 bytes), in time independent of
 * ${x} and ${y}.
 */
void crypto_dh_ifma_modexp(uint8_t r[256], const uint8_t y[256],
    const uint8_t x[32]);

/**
 * crypto_dh_ifma_set_active(on):
 * Record whether the process uses the IFMA path (${on} nonzero) for the
 * group 14 operations; crypto_dh decides once, at its initialization.
 */
void crypto_dh_ifma_set_active(int on);

/**
 * crypto_dh_ifma_active():
 * Return nonzero if crypto_dh_ifma_set_active() chose the IFMA path.
 */
int crypto_dh_ifma_active(void);

#endif /* __x86_64__ */

#endif /* !CRYPTO_DH_IFMA_H_ */
