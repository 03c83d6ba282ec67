#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto_hmac.h"
#include "crypto_wipe.h"

/**
 * crypto_hmac_sha256(key, keylen, data, len, out):
 * Set ${out} to HMAC-SHA256 under the ${keylen}-byte ${key} of the ${len}
 * bytes at ${data}.  Return 0 on success, -1 on failure (${out} is then
 * zeroed).
 */
int
crypto_hmac_sha256(const uint8_t * key, size_t keylen,
    const uint8_t * data, size_t len, uint8_t out[CRYPTO_HMAC_LEN])
{
	unsigned int outlen = CRYPTO_HMAC_LEN;
	static const uint8_t empty[1];

	/* OpenSSL takes the key length as an int. */
	if (keylen > INT_MAX)
		goto err0;

	/* HMAC() rejects a NULL key even when the length is zero. */
	if (key == NULL)
		key = empty;
	if (data == NULL)
		data = empty;

	/* Compute the MAC. */
	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out,
	    &outlen) == NULL)
		goto err0;
	if (outlen != CRYPTO_HMAC_LEN)
		goto err0;

	/* Success! */
	return (0);

err0:
	memset(out, 0, CRYPTO_HMAC_LEN);

	/* Failure! */
	return (-1);
}

/**
 * crypto_hmac_sha256_verify(key, keylen, data, len, mac):
 * Compute HMAC-SHA256 under ${key} of the ${len} bytes at ${data} and
 * compare it with the 32 bytes at ${mac} in constant time.  Return 0 if
 * they match, -1 if they do not or the HMAC could not be computed.
 */
int
crypto_hmac_sha256_verify(const uint8_t * key, size_t keylen,
    const uint8_t * data, size_t len, const uint8_t mac[CRYPTO_HMAC_LEN])
{
	uint8_t hbuf[CRYPTO_HMAC_LEN];
	int rc = -1;

	/* Compute the expected MAC and compare without early exit. */
	if (crypto_hmac_sha256(key, keylen, data, len, hbuf))
		goto err0;
	if (CRYPTO_memcmp(hbuf, mac, CRYPTO_HMAC_LEN) == 0)
		rc = 0;

err0:
	crypto_wipe(hbuf, sizeof(hbuf));

	/* Return the verdict. */
	return (rc);
}

/**
 * crypto_pbkdf2_sha256(pass, passlen, salt, saltlen, iters, out, outlen):
 * Set the ${outlen} bytes at ${out} to PBKDF2-HMAC-SHA256 of the password
 * ${pass} (${passlen} bytes) with the salt ${salt} (${saltlen} bytes) and
 * ${iters} (>= 1) iterations.  Return 0 on success, -1 on failure (${out}
 * is then zeroed).
 */
int
crypto_pbkdf2_sha256(const uint8_t * pass, size_t passlen,
    const uint8_t * salt, size_t saltlen, uint64_t iters,
    uint8_t * out, size_t outlen)
{
	static const uint8_t empty[1];

	/* OpenSSL takes every length and the iteration count as an int. */
	if ((passlen > INT_MAX) || (saltlen > INT_MAX) ||
	    (outlen > INT_MAX) || (iters < 1) || (iters > INT_MAX))
		goto err0;
	if (pass == NULL)
		pass = empty;
	if (salt == NULL)
		salt = empty;

	/* Derive the key. */
	if (PKCS5_PBKDF2_HMAC((const char *)pass, (int)passlen, salt,
	    (int)saltlen, (int)iters, EVP_sha256(), (int)outlen, out) != 1)
		goto err0;

	/* Success! */
	return (0);

err0:
	memset(out, 0, outlen);

	/* Failure! */
	return (-1);
}
