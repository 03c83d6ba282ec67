#ifndef CRYPTO_DH_H_
#define CRYPTO_DH_H_

/* Diffie-Hellman over the RFC 3526 2048-bit MODP group 14, generator 2. */

#include <stdint.h>

#define CRYPTO_DH_PUBLEN 256	/* y and Z: big-endian, left zero-padded. */
#define CRYPTO_DH_PRIVLEN 32	/* x: 256 bits. */

/**
 * crypto_dh_init():
 * Prepare the process-wide group state (Montgomery context, fixed-base
 * tables).  Idempotent and thread-safe; other crypto_dh_* calls do it
 * implicitly.  Return 0 on success, -1 on failure.
 */
int crypto_dh_init(void);

/**
 * crypto_dh_generate(x, y):
 * Pick a fresh private ${x} from the OS CSPRNG and set ${y} = 2^x mod p, in
 * constant time.  Return 0 on success, -1 on failure.
 */
int crypto_dh_generate(uint8_t x[CRYPTO_DH_PRIVLEN],
    uint8_t y[CRYPTO_DH_PUBLEN]);

/**
 * crypto_dh_compute(y_peer, x, Z):
 * Set ${Z} = ${y_peer}^x mod p, in constant time.  Return 0 on success, -1
 * on failure.
 */
int crypto_dh_compute(const uint8_t y_peer[CRYPTO_DH_PUBLEN],
    const uint8_t x[CRYPTO_DH_PRIVLEN], uint8_t Z[CRYPTO_DH_PUBLEN]);

/**
 * crypto_dh_sanitycheck(y):
 * Return 0 if ${y} < p, -1 otherwise.
 */
int crypto_dh_sanitycheck(const uint8_t y[CRYPTO_DH_PUBLEN]);

/**
 * crypto_dh_generate_from(x, y):
 * Set ${y} = 2^${x} mod p, in constant time, for a caller-chosen private
 * ${x} (tests, pre-generation).  Return 0 on success, -1 on failure.
 */
int crypto_dh_generate_from(const uint8_t x[CRYPTO_DH_PRIVLEN],
    uint8_t y[CRYPTO_DH_PUBLEN]);

/**
 * crypto_dh_path():
 * Return the name of the arithmetic crypto_dh_compute() and the key
 * generation use in this process: "ifma" (AVX-512 IFMA, where the CPU has
 * it and it measured faster at initialization) or "openssl".
 * crypto_dh_set_path overrides the choice (ifma only where supported).
 */
const char * crypto_dh_path(void);

/**
 * crypto_dh_set_path(name):
 * Ask for the arithmetic ${name} ("openssl", "ifma"; NULL or anything
 * else: the measured choice) before crypto_dh_init; the program reads it
 * from its environment (RINGPIPED_DH), no library does.
 */
void crypto_dh_set_path(const char * name);

/**
 * crypto_dh_prime():
 * Return the CRYPTO_DH_PUBLEN big-endian bytes of the group 14 modulus p.
 */
const uint8_t * crypto_dh_prime(void);

#endif /* !CRYPTO_DH_H_ */
