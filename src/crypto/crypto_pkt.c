/*
 * Packet crypto engines: pick a backend, cut batches into chunks the
 * backends handle, and the packet layout helpers they share.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"

struct crypto_engine {
	enum crypto_backend backend;
	struct crypto_pkt_ossl * ossl;		/* CRYPTO_BACKEND_OPENSSL. */
#ifdef RP_HAVE_IPSECMB
	struct crypto_pkt_imb * imb;		/* CRYPTO_BACKEND_IPSECMB. */
#endif
};

/**
 * engine_new(backend, mode):
 * Create an engine using ${backend} (not AUTO); ${mode} is the ipsec-mb
 * manager layout.  Return NULL (with errno set) on failure.
 */
static struct crypto_engine *
engine_new(enum crypto_backend backend, int mode)
{
	struct crypto_engine * eng;

#ifndef RP_HAVE_IPSECMB
	(void)mode;
	if (backend == CRYPTO_BACKEND_IPSECMB) {
		errno = ENOTSUP;
		goto err0;
	}
#endif
	if ((eng = calloc(1, sizeof(*eng))) == NULL)
		goto err0;
	eng->backend = backend;
#ifdef RP_HAVE_IPSECMB
	if (backend == CRYPTO_BACKEND_IPSECMB) {
		if ((eng->imb = crypto_pkt_imb_new(mode)) == NULL)
			goto err1;
	} else
#endif
	if ((eng->ossl = crypto_pkt_ossl_new()) == NULL)
		goto err1;

	/* Success! */
	return (eng);

err1:
	free(eng);
err0:
	/* Failure! */
	return (NULL);
}

/**
 * crypto_engine_new_imb(mode):
 * Create an ipsec-mb engine with the manager layout ${mode}.  Return NULL
 * (errno set) if ipsec-mb was not built in or cannot start.
 */
struct crypto_engine *
crypto_engine_new_imb(int mode)
{

	return (engine_new(CRYPTO_BACKEND_IPSECMB, mode));
}

/**
 * crypto_engine_new(backend):
 * Create an engine for the calling thread using ${backend}; AUTO picks
 * ipsec-mb when it was built in and the CPU supports it, else OpenSSL.
 * Return NULL (with errno set) if ${backend} is unavailable.
 */
struct crypto_engine *
crypto_engine_new(enum crypto_backend backend)
{

	switch (backend) {
	case CRYPTO_BACKEND_AUTO:
#ifdef RP_HAVE_IPSECMB
		if (crypto_pkt_imb_supported()) {
			struct crypto_engine * eng;

			if ((eng = engine_new(CRYPTO_BACKEND_IPSECMB,
			    CRYPTO_PKT_IMB_AUTO)) != NULL)
				return (eng);
		}
#endif
		return (engine_new(CRYPTO_BACKEND_OPENSSL, 0));
	case CRYPTO_BACKEND_IPSECMB:
		return (engine_new(backend, CRYPTO_PKT_IMB_AUTO));
	case CRYPTO_BACKEND_OPENSSL:
		return (engine_new(backend, 0));
	default:
		errno = EINVAL;
		return (NULL);
	}
}

/**
 * crypto_engine_backend(eng):
 * Return the backend ${eng} actually uses (never AUTO).
 */
enum crypto_backend
crypto_engine_backend(const struct crypto_engine * eng)
{

	return (eng->backend);
}

/**
 * crypto_engine_name(eng):
 * Return a short human-readable name of ${eng}'s backend and its SIMD
 * architecture (e.g. "ipsec-mb/avx512+sse", "openssl").
 */
const char *
crypto_engine_name(const struct crypto_engine * eng)
{

#ifdef RP_HAVE_IPSECMB
	if (eng->backend == CRYPTO_BACKEND_IPSECMB)
		return (crypto_pkt_imb_name(eng->imb));
#endif
	(void)eng;
	return ("openssl");
}

/**
 * crypto_engine_free(eng):
 * Free ${eng}.  NULL is a no-op.
 */
void
crypto_engine_free(struct crypto_engine * eng)
{

	/* Behave consistently with free(NULL). */
	if (eng == NULL)
		return;

#ifdef RP_HAVE_IPSECMB
	crypto_pkt_imb_free(eng->imb);
#endif
	crypto_pkt_ossl_free(eng->ossl);
	free(eng);
}

/**
 * crypto_engine_seal(eng, jobs, n):
 * Seal the ${n} packets described by ${jobs} as one batch.
 * Return 0 on success, -1 on an internal failure (no job is then usable).
 */
int
crypto_engine_seal(struct crypto_engine * eng,
    struct crypto_seal_job * jobs, size_t n)
{
	size_t i, k;
	int rc;

	/* Refuse lengths no packet can carry. */
	for (i = 0; i < n; i++) {
		if ((jobs[i].len == 0) || (jobs[i].len > CRYPTO_PKT_PTMAX)) {
			errno = EINVAL;
			return (-1);
		}
	}

	/* Hand the batch to the backend in chunks. */
	for (i = 0; i < n; i += k) {
		k = (n - i < CRYPTO_PKT_CHUNK) ? n - i : CRYPTO_PKT_CHUNK;
#ifdef RP_HAVE_IPSECMB
		if (eng->backend == CRYPTO_BACKEND_IPSECMB)
			rc = crypto_pkt_imb_seal(eng->imb, &jobs[i], k);
		else
#endif
			rc = crypto_pkt_ossl_seal(eng->ossl, &jobs[i], k);
		if (rc)
			return (-1);
	}

	/* Success! */
	return (0);
}

/**
 * crypto_engine_open(eng, jobs, n):
 * Verify (in constant time) and then decrypt the ${n} packets of ${jobs} as
 * one batch, setting each job's ${len}.  Return the number of packets that
 * opened successfully.
 */
size_t
crypto_engine_open(struct crypto_engine * eng,
    struct crypto_open_job * jobs, size_t n)
{
	size_t i, k, nok = 0;

	/* Hand the batch to the backend in chunks. */
	for (i = 0; i < n; i += k) {
		k = (n - i < CRYPTO_PKT_CHUNK) ? n - i : CRYPTO_PKT_CHUNK;
#ifdef RP_HAVE_IPSECMB
		if (eng->backend == CRYPTO_BACKEND_IPSECMB)
			nok += crypto_pkt_imb_open(eng->imb, &jobs[i], k);
		else
#endif
			nok += crypto_pkt_ossl_open(eng->ossl, &jobs[i], k);
	}

	return (nok);
}

/**
 * crypto_engine_aesctr(eng, key, iv, in, out, len):
 * Test hook: AES-256-CTR the ${len} bytes at ${in} into ${out} under
 * ${key}'s AES key with the initial 16-byte counter block ${iv}, through
 * the same code path packets use on ${eng}.  Return 0 on success.
 */
int
crypto_engine_aesctr(struct crypto_engine * eng,
    const struct crypto_pktkey * key, const uint8_t iv[16],
    const uint8_t * in, uint8_t * out, size_t len)
{

#ifdef RP_HAVE_IPSECMB
	if (eng->backend == CRYPTO_BACKEND_IPSECMB)
		return (crypto_pkt_imb_ctr(eng->imb, key, iv, in, out, len));
#endif
	return (crypto_pkt_ossl_ctr(eng->ossl, key, iv, in, out, len));
}

/**
 * crypto_pkt_fill(job):
 * Copy ${job}'s plaintext to its output (unless in place), zero the padding
 * and write be32(len) at offset 1024 and be64(pnum) at offset 1028.
 */
void
crypto_pkt_fill(const struct crypto_seal_job * job)
{
	uint8_t * p = job->out;
	size_t len = job->len;

	if (job->pt != p)
		memcpy(p, job->pt, len);
	memset(&p[len], 0, CRYPTO_PKT_PTMAX - len);
	p[1024] = (uint8_t)(len >> 24);
	p[1025] = (uint8_t)(len >> 16);
	p[1026] = (uint8_t)(len >> 8);
	p[1027] = (uint8_t)len;
	crypto_pkt_be64enc(&p[CRYPTO_PKT_PADLEN], job->pnum);
}

/**
 * crypto_pkt_hmacpad(block, mac, c):
 * Fill the 64-byte ${block} with the HMAC key ${mac} (32 bytes) XORed into
 * bytes of value ${c} (0x36 for the inner pad, 0x5c for the outer).
 */
void
crypto_pkt_hmacpad(uint8_t block[64], const uint8_t mac[32], uint8_t c)
{
	size_t i;

	memset(block, c, 64);
	for (i = 0; i < 32; i++)
		block[i] ^= mac[i];
}

/**
 * crypto_pkt_padlen(padded):
 * Return the plaintext length encoded in the 1028-byte ${padded} block, or
 * -1 if it is 0 or over CRYPTO_PKT_PTMAX.
 */
int
crypto_pkt_padlen(const uint8_t * padded)
{
	uint32_t len;

	len = ((uint32_t)padded[1024] << 24) | ((uint32_t)padded[1025] << 16) |
	    ((uint32_t)padded[1026] << 8) | (uint32_t)padded[1027];
	if ((len == 0) || (len > CRYPTO_PKT_PTMAX))
		return (-1);
	return ((int)len);
}
