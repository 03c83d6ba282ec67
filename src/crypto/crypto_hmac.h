#ifndef CRYPTO_HMAC_H_
#define CRYPTO_HMAC_H_

/* HMAC-SHA256 and PBKDF2-HMAC-SHA256 (one-shot, via OpenSSL libcrypto). */

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_HMAC_LEN 32	/* HMAC-SHA256 output length. */

/**
 * crypto_hmac_sha256(key, keylen, data, len, out):
 * Set ${out} to HMAC-SHA256 under the ${keylen}-byte ${key} of the ${len}
 * bytes at ${data}.  Return 0 on success, -1 on failure (${out} is then
 * zeroed).
 */
int crypto_hmac_sha256(const uint8_t * key, size_t keylen,
    const uint8_t * data, size_t len, uint8_t out[CRYPTO_HMAC_LEN]);

/**
 * crypto_hmac_sha256_verify(key, keylen, data, len, mac):
 * Compute HMAC-SHA256 under ${key} of the ${len} bytes at ${data} and
 * compare it with the 32 bytes at ${mac} in constant time.  Return 0 if
 * they match, -1 if they do not or the HMAC could not be computed.
 */
int crypto_hmac_sha256_verify(const uint8_t * key, size_t keylen,
    const uint8_t * data, size_t len, const uint8_t mac[CRYPTO_HMAC_LEN]);

/**
 * crypto_pbkdf2_sha256(pass, passlen, salt, saltlen, iters, out, outlen):
 * Set the ${outlen} bytes at ${out} to PBKDF2-HMAC-SHA256 of the password
 * ${pass} (${passlen} bytes) with the salt ${salt} (${saltlen} bytes) and
 * ${iters} (>= 1) iterations.  Return 0 on success, -1 on failure (${out}
 * is then zeroed).
 */
int crypto_pbkdf2_sha256(const uint8_t * pass, size_t passlen,
    const uint8_t * salt, size_t saltlen, uint64_t iters,
    uint8_t * out, size_t outlen);

#endif /* !CRYPTO_HMAC_H_ */
