#ifndef CRYPTO_DH_FIXED_H_
#define CRYPTO_DH_FIXED_H_

/*
 * Fixed-base exponentiation 2^x mod p for group 14 (internal to crypto_dh):
 * 52 precomputed tables of 32 Montgomery-form entries, T[i][v] = 2^(v 32^i),
 * so 2^x is 51 multiplications of entries picked by the 5-bit windows of x,
 * each picked by a constant-time scan of its whole table.
 */

#include <stdint.h>

#include <openssl/bn.h>

/**
 * crypto_dh_fixed_init(p, mont):
 * Build the tables for the modulus ${p} with its Montgomery context ${mont}.
 * Called once, before any crypto_dh_fixed_pow2().  Return 0 or -1.
 */
int crypto_dh_fixed_init(const BIGNUM * p, BN_MONT_CTX * mont);

/**
 * crypto_dh_fixed_pow2(y, x):
 * Set the 256 big-endian bytes ${y} = 2^${x} mod p for the 32-byte
 * big-endian exponent ${x}, in time independent of ${x}.  Return 0 or -1.
 */
int crypto_dh_fixed_pow2(uint8_t y[256], const uint8_t x[32]);

#endif /* !CRYPTO_DH_FIXED_H_ */
