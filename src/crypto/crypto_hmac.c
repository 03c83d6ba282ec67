#include <stdint.h>
#include <string.h>

/*
 * The low-level SHA-256 interface: deprecated in OpenSSL 3 in favour of
 * EVP, but present in every 3.x, and free of EVP's per-call cost (a
 * fetch, a context allocated and freed), which was most of a handshake's
 * HMAC time.  It runs the same assembly (SHA-NI, ARMv8 SHA2) as EVP.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "crypto_hmac.h"
#include "crypto_wipe.h"

#define HMAC_BLOCK	64	/* SHA-256's block: the HMAC pad length. */

/**
 * crypto_hmac_key_init(hk, key, keylen):
 * Absorb the pads of the ${keylen}-byte ${key} into ${hk} (a key longer
 * than a block is hashed first, as HMAC says).
 */
void
crypto_hmac_key_init(struct crypto_hmac_key * hk, const uint8_t * key,
    size_t keylen)
{
	uint8_t k[HMAC_BLOCK], pad[HMAC_BLOCK];
	size_t i;

	/* A key longer than a block is hashed first; shorter ones are
	 * zero-padded. */
	memset(k, 0, sizeof(k));
	if (keylen > HMAC_BLOCK)
		SHA256(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init(&hk->in);
	SHA256_Update(&hk->in, pad, HMAC_BLOCK);
	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init(&hk->out);
	SHA256_Update(&hk->out, pad, HMAC_BLOCK);
	crypto_wipe(k, sizeof(k));
	crypto_wipe(pad, sizeof(pad));
}

/**
 * crypto_hmac_key_mac(hk, a, alen, b, blen, out):
 * Set ${out} to the HMAC-SHA256 under ${hk} of the ${alen} bytes at ${a}
 * followed by the ${blen} bytes at ${b}, leaving no keyed state behind on
 * the stack.
 */
void
crypto_hmac_key_mac(const struct crypto_hmac_key * hk, const uint8_t * a,
    size_t alen, const uint8_t * b, size_t blen,
    uint8_t out[CRYPTO_HMAC_LEN])
{
	SHA256_CTX c = hk->in;
	uint8_t ih[SHA256_DIGEST_LENGTH];

	SHA256_Update(&c, a, alen);
	SHA256_Update(&c, b, blen);
	SHA256_Final(ih, &c);
	c = hk->out;
	SHA256_Update(&c, ih, sizeof(ih));
	SHA256_Final(out, &c);

	/* A copy of a keyed state is as good as the key (SHA256_Final clears
	 * only its data block), and so is the inner hash. */
	crypto_wipe(ih, sizeof(ih));
	crypto_wipe(&c, sizeof(c));
}

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
	struct crypto_hmac_key hk;

	crypto_hmac_key_init(&hk, key, keylen);
	crypto_hmac_key_mac(&hk, data, len, NULL, 0, out);
	crypto_wipe(&hk, sizeof(hk));
	return (0);
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
	struct crypto_hmac_key hk;
	uint8_t u[CRYPTO_HMAC_LEN], t[CRYPTO_HMAC_LEN], ctr[4];
	uint64_t j;
	uint32_t blk;
	size_t off, n, k;

	/* RFC 8018 caps the output at (2^32 - 1) blocks. */
	if ((iters < 1) || (outlen > (size_t)UINT32_MAX * CRYPTO_HMAC_LEN))
		goto err0;

	/* T_i = U_1 ^ ... ^ U_c, U_1 = HMAC(P, S || INT(i)), U_j =
	 * HMAC(P, U_{j-1}); the output is T_1 || T_2 || ..., truncated. */
	crypto_hmac_key_init(&hk, pass, passlen);
	for (off = 0, blk = 1; off < outlen; off += n, blk++) {
		ctr[0] = (uint8_t)(blk >> 24);
		ctr[1] = (uint8_t)(blk >> 16);
		ctr[2] = (uint8_t)(blk >> 8);
		ctr[3] = (uint8_t)blk;
		crypto_hmac_key_mac(&hk, salt, saltlen, ctr, sizeof(ctr), u);
		memcpy(t, u, sizeof(t));
		for (j = 1; j < iters; j++) {
			crypto_hmac_key_mac(&hk, u, sizeof(u), NULL, 0, u);
			for (k = 0; k < sizeof(t); k++)
				t[k] ^= u[k];
		}
		n = (outlen - off < sizeof(t)) ? outlen - off : sizeof(t);
		memcpy(out + off, t, n);
	}
	crypto_wipe(&hk, sizeof(hk));
	crypto_wipe(u, sizeof(u));
	crypto_wipe(t, sizeof(t));

	/* Success! */
	return (0);

err0:
	memset(out, 0, outlen);

	/* Failure! */
	return (-1);
}
