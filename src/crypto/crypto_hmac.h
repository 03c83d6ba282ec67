#ifndef CRYPTO_HMAC_H_
#define CRYPTO_HMAC_H_

/* HMAC-SHA256 and PBKDF2-HMAC-SHA256 (one-shot, via OpenSSL libcrypto). */

#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#define CRYPTO_HMAC_LEN 32	/* HMAC-SHA256 output length. */

/* A key's HMAC-SHA256 state: the SHA-256 states with the inner and outer
 * pads absorbed, copied for each message.  As secret as the key. */
struct crypto_hmac_key {
	SHA256_CTX in, out;
};

/**
 * crypto_hmac_key_init(hk, key, keylen):
 * Absorb the pads of the ${keylen}-byte ${key} into ${hk} (a key longer
 * than a block is hashed first, as HMAC says).
 */
void crypto_hmac_key_init(struct crypto_hmac_key * hk, const uint8_t * key,
    size_t keylen);

/**
 * crypto_hmac_key_mac(hk, a, alen, b, blen, out):
 * Set ${out} to the HMAC-SHA256 under ${hk} of the ${alen} bytes at ${a}
 * followed by the ${blen} bytes at ${b}, leaving no keyed state behind on
 * the stack.
 */
void crypto_hmac_key_mac(const struct crypto_hmac_key * hk,
    const uint8_t * a, size_t alen, const uint8_t * b, size_t blen,
    uint8_t out[CRYPTO_HMAC_LEN]);

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
