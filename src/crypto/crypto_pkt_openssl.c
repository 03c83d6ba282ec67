/*
 * OpenSSL backend for packet crypto: one packet at a time, AES-256-CTR via
 * EVP and HMAC-SHA256 from precomputed inner and outer SHA-256 states.
 * Portable: this is what non-x86 builds use.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* SHA256_CTX: fastest HMAC path. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct crypto_pktkey *)0)->
    ossl_ictx), "SHA256_CTX does not fit in struct crypto_pktkey");

struct crypto_pkt_ossl {
	EVP_CIPHER_CTX * ctx;	/* AES-256-CTR, keyed with key ${keyid}. */
	uint64_t keyid;		/* 0: not keyed yet. */
};

/**
 * crypto_pkt_ossl_keyinit(key, mac):
 * Fill the OpenSSL HMAC states of ${key} from the HMAC key ${mac}.
 */
void
crypto_pkt_ossl_keyinit(struct crypto_pktkey * key, const uint8_t mac[32])
{
	uint8_t pad[64];
	SHA256_CTX ctx;

	/* Inner state: one block of H ^ 0x36..; outer: H ^ 0x5c.. */
	crypto_pkt_hmacpad(pad, mac, 0x36);
	SHA256_Init(&ctx);
	SHA256_Update(&ctx, pad, sizeof(pad));
	memcpy(key->ossl_ictx, &ctx, sizeof(ctx));
	crypto_pkt_hmacpad(pad, mac, 0x5c);
	SHA256_Init(&ctx);
	SHA256_Update(&ctx, pad, sizeof(pad));
	memcpy(key->ossl_octx, &ctx, sizeof(ctx));

	/* Wipe the key-dependent temporaries. */
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(&ctx, sizeof(ctx));
}

/**
 * crypto_pkt_ossl_new(void):
 * Create OpenSSL backend state for the calling thread.
 */
struct crypto_pkt_ossl *
crypto_pkt_ossl_new(void)
{
	struct crypto_pkt_ossl * st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto err0;
	if ((st->ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto err1;

	/* Success! */
	return (st);

err1:
	free(st);
err0:
	/* Failure! */
	errno = ENOMEM;
	return (NULL);
}

/**
 * crypto_pkt_ossl_free(st):
 * Free ${st}.  NULL is a no-op.
 */
void
crypto_pkt_ossl_free(struct crypto_pkt_ossl * st)
{

	/* Behave consistently with free(NULL). */
	if (st == NULL)
		return;

	/* EVP_CIPHER_CTX_free wipes the key schedule. */
	EVP_CIPHER_CTX_free(st->ctx);
	free(st);
}

/**
 * ctr(st, key, iv, in, out, len):
 * AES-256-CTR ${len} bytes from ${in} to ${out} (which may be equal) under
 * ${key} from the counter block ${iv}, re-keying ${st} only if its last
 * key was another.
 */
static int
ctr(struct crypto_pkt_ossl * st, const struct crypto_pktkey * key,
    const uint8_t iv[16], const uint8_t * in, uint8_t * out, size_t len)
{
	int outl;

	if (st->keyid != key->id) {
		st->keyid = 0;
		if (EVP_EncryptInit_ex(st->ctx, EVP_aes_256_ctr(), NULL,
		    key->enc, iv) != 1)
			goto err0;
		st->keyid = key->id;
	} else {
		/* Same key: only reset the counter. */
		if (EVP_EncryptInit_ex(st->ctx, NULL, NULL, NULL, iv) != 1)
			goto err0;
	}
	if (EVP_EncryptUpdate(st->ctx, out, &outl, in, (int)len) != 1)
		goto err0;
	if ((size_t)outl != len)
		goto err0;

	/* Success! */
	return (0);

err0:
	/* Failure! */
	return (-1);
}

/**
 * mac(key, c, pnum, tag):
 * Compute HMAC-SHA256 over the 1028 bytes at ${c} || be64(${pnum}) under
 * ${key}, into ${tag}.
 */
static void
mac(const struct crypto_pktkey * key, const uint8_t * c, uint64_t pnum,
    uint8_t tag[32])
{
	SHA256_CTX ctx;
	uint8_t pnbuf[8];
	uint8_t ihash[32];

	/* Inner hash. */
	crypto_pkt_be64enc(pnbuf, pnum);
	memcpy(&ctx, key->ossl_ictx, sizeof(ctx));
	SHA256_Update(&ctx, c, CRYPTO_PKT_PADLEN);
	SHA256_Update(&ctx, pnbuf, sizeof(pnbuf));
	SHA256_Final(ihash, &ctx);

	/* Outer hash. */
	memcpy(&ctx, key->ossl_octx, sizeof(ctx));
	SHA256_Update(&ctx, ihash, sizeof(ihash));
	SHA256_Final(tag, &ctx);
}

/**
 * crypto_pkt_ossl_seal(st, jobs, n):
 * Seal the ${n} <= CRYPTO_PKT_CHUNK packets of ${jobs} using ${st}.
 * Return 0 on success or -1 on error.
 */
int
crypto_pkt_ossl_seal(struct crypto_pkt_ossl * st,
    struct crypto_seal_job * jobs, size_t n)
{
	uint8_t iv[16] = {0};
	size_t i;

	for (i = 0; i < n; i++) {
		/* Plaintext, padding, length (and pnum, overwritten below). */
		crypto_pkt_fill(&jobs[i]);

		/* Encrypt in place. */
		crypto_pkt_be64enc(iv, jobs[i].pnum);
		if (ctr(st, jobs[i].key, iv, jobs[i].out, jobs[i].out,
		    CRYPTO_PKT_PADLEN))
			goto err0;

		/* Append the MAC. */
		mac(jobs[i].key, jobs[i].out, jobs[i].pnum,
		    &jobs[i].out[CRYPTO_PKT_PADLEN]);
	}

	/* Success! */
	return (0);

err0:
	/* Failure! */
	return (-1);
}

/**
 * crypto_pkt_ossl_open(st, jobs, n):
 * Open the ${n} <= CRYPTO_PKT_CHUNK packets of ${jobs} using ${st}; return
 * how many opened.
 */
size_t
crypto_pkt_ossl_open(struct crypto_pkt_ossl * st,
    struct crypto_open_job * jobs, size_t n)
{
	uint8_t iv[16] = {0};
	uint8_t tag[32];
	size_t i, nok = 0;

	for (i = 0; i < n; i++) {
		jobs[i].len = -1;

		/* Verify the MAC before touching anything. */
		mac(jobs[i].key, jobs[i].in, jobs[i].pnum, tag);
		if (!crypto_pkt_tag_eq(tag, &jobs[i].in[CRYPTO_PKT_PADLEN]))
			continue;

		/* Decrypt and check the encoded length. */
		crypto_pkt_be64enc(iv, jobs[i].pnum);
		if (ctr(st, jobs[i].key, iv, jobs[i].in, jobs[i].out,
		    CRYPTO_PKT_PADLEN))
			continue;
		if ((jobs[i].len = crypto_pkt_padlen(jobs[i].out)) > 0)
			nok++;
	}

	return (nok);
}

/**
 * crypto_pkt_ossl_ctr(st, key, iv, in, out, len):
 * AES-256-CTR the ${len} bytes of ${in} into ${out} under ${key} starting at
 * the counter block ${iv}.  Return 0 on success or -1 on error.
 */
int
crypto_pkt_ossl_ctr(struct crypto_pkt_ossl * st,
    const struct crypto_pktkey * key, const uint8_t iv[16],
    const uint8_t * in, uint8_t * out, size_t len)
{

	return (ctr(st, key, iv, in, out, len));
}
