/*
 * OpenSSL backend for packet crypto: one packet at a time, AES-256-CTR via
 * EVP and HMAC-SHA256 from precomputed inner and outer SHA-256 states.
 * Portable: this is what non-x86 builds use.  One variant, "openssl".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto_hmac.h"
#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"
#include "crypto_pkt_layout.h"
#include "crypto_wipe.h"

/* This backend's key layout. */
struct ossl_key {
	struct crypto_hmac_key hk;	/* The MAC key's padded states. */
	uint8_t enc[CRYPTO_PKT_KEYLEN];	/* EVP schedules it per engine. */
};

struct ossl_state {
	EVP_CIPHER_CTX * ctx;	/* AES-256-CTR, keyed with key ${keyid}. */
	uint64_t keyid;		/* 0: not keyed yet. */
};

/**
 * ossl_key_expand(enc, mac):
 * Return this backend's expansion of (${enc}, ${mac}), or NULL.
 */
static void *
ossl_key_expand(const uint8_t enc[32], const uint8_t mac[32])
{
	struct ossl_key * k;

	if ((k = malloc(sizeof(*k))) == NULL)
		goto err0;
	memcpy(k->enc, enc, CRYPTO_PKT_KEYLEN);
	crypto_hmac_key_init(&k->hk, mac, 32);

	/* Success! */
	return (k);

err0:
	/* Failure! */
	return (NULL);
}

/**
 * ossl_key_free(k):
 * Wipe and free the expansion ${k}.  NULL is a no-op.
 */
static void
ossl_key_free(void * k)
{

	/* Behave consistently with free(NULL). */
	if (k == NULL)
		return;

	crypto_wipe(k, sizeof(struct ossl_key));
	free(k);
}

/**
 * ossl_available(v):
 * Return non-zero if variant ${v} runs here: the only one does everywhere.
 */
static int
ossl_available(size_t v)
{

	return (v == 0);
}

/**
 * ossl_engine_new(vmask):
 * Create OpenSSL backend state for the calling thread.
 */
static void *
ossl_engine_new(unsigned vmask)
{
	struct ossl_state * st;

	(void)vmask;
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
 * ossl_engine_free(st):
 * Free ${st}.  NULL is a no-op.
 */
static void
ossl_engine_free(void * st)
{
	struct ossl_state * s = st;

	/* Behave consistently with free(NULL). */
	if (s == NULL)
		return;

	/* EVP_CIPHER_CTX_free wipes the key schedule. */
	EVP_CIPHER_CTX_free(s->ctx);
	free(s);
}

/**
 * ctr(st, key, iv, in, out):
 * AES-256-CTR the CRYPTO_PKT_PADLEN bytes from ${in} to ${out} (which may
 * be equal) under ${key} from the counter block ${iv}, re-keying ${st}
 * only if its last key was another.
 */
static int
ctr(struct ossl_state * st, const struct crypto_pktkey * key,
    const uint8_t iv[16], const uint8_t * in, uint8_t * out)
{
	const struct ossl_key * k = key->lay[CRYPTO_BACKEND_OPENSSL];
	int outl;

	if (st->keyid != key->id) {
		st->keyid = 0;
		if (EVP_EncryptInit_ex(st->ctx, EVP_aes_256_ctr(), NULL,
		    k->enc, iv) != 1)
			goto err0;
		st->keyid = key->id;
	} else {
		/* Same key: only reset the counter. */
		if (EVP_EncryptInit_ex(st->ctx, NULL, NULL, NULL, iv) != 1)
			goto err0;
	}
	if (EVP_EncryptUpdate(st->ctx, out, &outl, in, CRYPTO_PKT_PADLEN) !=
	    1)
		goto err0;
	if (outl != CRYPTO_PKT_PADLEN)
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
	const struct ossl_key * k = key->lay[CRYPTO_BACKEND_OPENSSL];
	uint8_t pnbuf[8];

	crypto_pkt_be64enc(pnbuf, pnum);
	crypto_hmac_key_mac(&k->hk, c, CRYPTO_PKT_PADLEN, pnbuf,
	    sizeof(pnbuf), tag);
}

/**
 * ossl_seal(st, v, jobs, n):
 * Seal the ${n} packets of ${jobs} one at a time.
 */
static int
ossl_seal(void * st, size_t v, struct crypto_seal_job * jobs, size_t n)
{
	uint8_t iv[16] = {0};
	size_t i;

	(void)v;
	for (i = 0; i < n; i++) {
		/* Plaintext, padding, length (and pnum, overwritten below). */
		crypto_pkt_fill(&jobs[i]);

		/* Encrypt in place. */
		crypto_pkt_be64enc(iv, jobs[i].pnum);
		if (ctr(st, jobs[i].key, iv, jobs[i].out, jobs[i].out))
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
 * ossl_open(st, v, jobs, n):
 * Verify, then decrypt, the ${n} packets of ${jobs} one at a time; return
 * how many opened.
 */
static size_t
ossl_open(void * st, size_t v, struct crypto_open_job * jobs, size_t n)
{
	uint8_t iv[16] = {0};
	uint8_t tag[32];
	size_t i, nok = 0;

	(void)v;
	for (i = 0; i < n; i++) {
		jobs[i].len = -1;

		/* Verify the MAC before touching anything. */
		mac(jobs[i].key, jobs[i].in, jobs[i].pnum, tag);
		if (!crypto_pkt_tag_eq(tag, &jobs[i].in[CRYPTO_PKT_PADLEN]))
			continue;

		/* Decrypt and check the encoded length. */
		crypto_pkt_be64enc(iv, jobs[i].pnum);
		if (ctr(st, jobs[i].key, iv, jobs[i].in, jobs[i].out))
			continue;
		if ((jobs[i].len = crypto_pkt_padlen(jobs[i].out)) > 0)
			nok++;
	}

	return (nok);
}

static const struct crypto_pkt_variant ossl_variants[] = {
	{ "openssl", "openssl" },
};

const struct crypto_pkt_ops crypto_pkt_openssl = {
	.backend = CRYPTO_BACKEND_OPENSSL,
	.variants = ossl_variants,
	.nvariants = sizeof(ossl_variants) / sizeof(ossl_variants[0]),
	.available = ossl_available,
	.engine_new = ossl_engine_new,
	.engine_free = ossl_engine_free,
	.seal = ossl_seal,
	.open = ossl_open,
	.key_expand = ossl_key_expand,
	.key_free = ossl_key_free,
};
