/*
 * Intel ipsec-mb backend for packet crypto: the multi-buffer job API, one
 * set of managers per engine (engines are per thread).
 *
 * Layouts (CRYPTO_PKT_IMB_*):
 * - HYBRID: an avx512 manager (VAES) runs AES-256-CTR and an sse manager
 *   (SHA-NI, 2 lanes) runs HMAC-SHA256.  The avx512 manager of ipsec-mb 1.3
 *   does HMAC-SHA256 on 16 AVX-512 lanes without SHA-NI, which is slow
 *   unless 16 packets are in flight; SHA-NI is fast from 2.
 * - ONE: a single manager picked by init_mb_mgr_auto runs both, chained.
 * Round keys and HMAC pad states have the same layout on every manager.
 *
 * ipsec-mb never checks tags: open computes the MAC, compares it in
 * constant time, and decrypts only the packets whose MAC verified.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"

struct crypto_pkt_imb {
	IMB_MGR * aes;		/* Runs AES-256-CTR. */
	IMB_MGR * hash;		/* Runs HMAC-SHA256 (may be ${aes}). */
	int chained;		/* Seal with one CIPHER_HASH job a packet. */
	char name[48];

	/* Per-chunk buffers; each must live until its job returns. */
	uint8_t iv[CRYPTO_PKT_CHUNK][16] __attribute__((aligned(16)));
	uint8_t tag[CRYPTO_PKT_CHUNK][32] __attribute__((aligned(16)));
	uint8_t ok[CRYPTO_PKT_CHUNK];

	/* Open: ciphertext || be64(pnum) of each packet, for the MAC. */
	uint8_t macin[CRYPTO_PKT_CHUNK][CRYPTO_PKT_MACIN + 4]
	    __attribute__((aligned(64)));
};

/* Manager used only for key expansion (stateless functions). */
static IMB_MGR * keymgr;
static pthread_once_t keymgr_once = PTHREAD_ONCE_INIT;

/**
 * keymgr_init(void):
 * Create ${keymgr}.
 */
static void
keymgr_init(void)
{
	IMB_MGR * m;

	if ((m = alloc_mb_mgr(0)) == NULL)
		return;
	init_mb_mgr_auto(m, NULL);
	if (imb_get_errno(m)) {
		free_mb_mgr(m);
		return;
	}
	keymgr = m;
}

/**
 * archname(arch):
 * Return a short name for ${arch}.
 */
static const char *
archname(IMB_ARCH arch)
{

	switch (arch) {
	case IMB_ARCH_NOAESNI:
		return ("noaesni");
	case IMB_ARCH_SSE:
		return ("sse");
	case IMB_ARCH_AVX:
		return ("avx");
	case IMB_ARCH_AVX2:
		return ("avx2");
	case IMB_ARCH_AVX512:
		return ("avx512");
	default:
		return ("unknown");
	}
}

/**
 * crypto_pkt_imb_keyinit(key, mac):
 * Fill the ipsec-mb AES round keys and HMAC pad states of ${key} from its
 * raw AES key and the HMAC key ${mac}.  Return 0 on success or -1 on error.
 */
int
crypto_pkt_imb_keyinit(struct crypto_pktkey * key, const uint8_t mac[32])
{
	uint8_t dec[240] __attribute__((aligned(16)));
	uint8_t pad[64] __attribute__((aligned(16)));
	size_t i;

	/* Get the key expansion manager. */
	if (pthread_once(&keymgr_once, keymgr_init) || (keymgr == NULL)) {
		errno = ENOTSUP;
		goto err0;
	}

	/* AES-256 round keys (CTR needs only the encryption ones). */
	IMB_AES_KEYEXP_256(keymgr, key->enc, key->aes_enc, dec);

	/* HMAC pad states: one SHA-256 block of H ^ ipad and H ^ opad. */
	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < 32; i++)
		pad[i] ^= mac[i];
	IMB_SHA256_ONE_BLOCK(keymgr, pad, key->imb_ipad);
	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < 32; i++)
		pad[i] ^= mac[i];
	IMB_SHA256_ONE_BLOCK(keymgr, pad, key->imb_opad);

	/* Wipe the temporaries. */
	OPENSSL_cleanse(dec, sizeof(dec));
	OPENSSL_cleanse(pad, sizeof(pad));

	/* Success! */
	return (0);

err0:
	/* Failure! */
	return (-1);
}

/**
 * crypto_pkt_imb_supported(void):
 * Return non-zero if the CPU has what the ipsec-mb backend needs to be
 * worth using (AES-NI).
 */
int
crypto_pkt_imb_supported(void)
{

	return ((imb_get_feature_flags() & IMB_FEATURE_AESNI) != 0);
}

/**
 * mgr_new(arch):
 * Return a new manager for ${arch} (IMB_ARCH_NONE: the best one), with
 * ${arch} set to what it got, or NULL.
 */
static IMB_MGR *
mgr_new(IMB_ARCH * arch)
{
	IMB_MGR * m;

	if ((m = alloc_mb_mgr(0)) == NULL)
		goto err0;
	switch (*arch) {
	case IMB_ARCH_SSE:
		init_mb_mgr_sse(m);
		break;
	case IMB_ARCH_AVX512:
		init_mb_mgr_avx512(m);
		break;
	default:
		init_mb_mgr_auto(m, arch);
		break;
	}
	if (imb_get_errno(m))
		goto err1;

	/* Success! */
	return (m);

err1:
	free_mb_mgr(m);
err0:
	/* Failure! */
	errno = ENOTSUP;
	return (NULL);
}

/**
 * crypto_pkt_imb_new(mode):
 * Create ipsec-mb backend state for the calling thread.  ${mode} picks the
 * manager layout: CRYPTO_PKT_IMB_* (AUTO picks the fastest).
 */
struct crypto_pkt_imb *
crypto_pkt_imb_new(int mode)
{
	struct crypto_pkt_imb * st;
	uint64_t f = imb_get_feature_flags();
	uint64_t hyb = IMB_FEATURE_AVX512_SKX | IMB_FEATURE_VAES |
	    IMB_FEATURE_SHANI | IMB_FEATURE_AESNI;
	IMB_ARCH a1, a2;

	/* The hybrid needs VAES on AVX-512 and SHA-NI. */
	if (mode == CRYPTO_PKT_IMB_AUTO)
		mode = ((f & hyb) == hyb) ? CRYPTO_PKT_IMB_HYBRID :
		    CRYPTO_PKT_IMB_ONE;
	if ((mode == CRYPTO_PKT_IMB_HYBRID) && ((f & hyb) != hyb)) {
		errno = ENOTSUP;
		goto err0;
	}

	if ((st = aligned_alloc(64, (sizeof(*st) + 63) & ~(size_t)63)) == NULL)
		goto err0;
	memset(st, 0, sizeof(*st));

	if (mode == CRYPTO_PKT_IMB_HYBRID) {
		a1 = IMB_ARCH_AVX512;
		a2 = IMB_ARCH_SSE;
		if ((st->aes = mgr_new(&a1)) == NULL)
			goto err1;
		if ((st->hash = mgr_new(&a2)) == NULL)
			goto err2;
		snprintf(st->name, sizeof(st->name), "ipsec-mb/%s+%s",
		    archname(a1), archname(a2));
	} else {
		a1 = IMB_ARCH_NONE;
		if ((st->aes = mgr_new(&a1)) == NULL)
			goto err1;
		st->hash = st->aes;
		st->chained = 1;
		snprintf(st->name, sizeof(st->name), "ipsec-mb/%s",
		    archname(a1));
	}

	/* Success! */
	return (st);

err2:
	free_mb_mgr(st->aes);
err1:
	free(st);
err0:
	/* Failure! */
	return (NULL);
}

/**
 * crypto_pkt_imb_name(st):
 * Return the name of the managers ${st} uses, e.g. "ipsec-mb/avx512+sse".
 */
const char *
crypto_pkt_imb_name(const struct crypto_pkt_imb * st)
{

	return (st->name);
}

/**
 * crypto_pkt_imb_free(st):
 * Free ${st}.  NULL is a no-op.
 */
void
crypto_pkt_imb_free(struct crypto_pkt_imb * st)
{

	/* Behave consistently with free(NULL). */
	if (st == NULL)
		return;

	if (st->hash != st->aes)
		free_mb_mgr(st->hash);
	free_mb_mgr(st->aes);

	/* The MAC inputs of open are ciphertext; the tags are public. */
	free(st);
}

/**
 * job_ctr(j, key, iv, src, dst, len, dir):
 * Make ${j} an AES-256-CTR job of ${len} bytes from ${src} to ${dst}.
 */
static void
job_ctr(IMB_JOB * j, const struct crypto_pktkey * key, const uint8_t * iv,
    const uint8_t * src, uint8_t * dst, size_t len, IMB_CIPHER_DIRECTION dir)
{

	j->cipher_mode = IMB_CIPHER_CNTR;
	j->cipher_direction = dir;
	j->chain_order = (dir == IMB_DIR_ENCRYPT) ? IMB_ORDER_CIPHER_HASH :
	    IMB_ORDER_HASH_CIPHER;
	j->enc_keys = key->aes_enc;
	j->dec_keys = key->aes_enc;
	j->key_len_in_bytes = IMB_KEY_256_BYTES;
	j->src = src;
	j->dst = dst;
	j->cipher_start_src_offset_in_bytes = 0;
	j->msg_len_to_cipher_in_bytes = len;
	j->iv = iv;
	j->iv_len_in_bytes = 16;
	j->hash_alg = IMB_AUTH_NULL;
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = 0;
	j->auth_tag_output = NULL;
	j->auth_tag_output_len_in_bytes = 0;
}

/**
 * job_mac(j, key, src, tag):
 * Add to ${j} the HMAC-SHA256 of the CRYPTO_PKT_MACIN bytes at ${src} under
 * ${key} into ${tag}; if ${j} has no cipher, make it a hash-only job.
 */
static void
job_mac(IMB_JOB * j, const struct crypto_pktkey * key, const uint8_t * src,
    uint8_t * tag, int hashonly)
{

	if (hashonly) {
		j->cipher_mode = IMB_CIPHER_NULL;
		j->cipher_direction = IMB_DIR_ENCRYPT;
		j->chain_order = IMB_ORDER_CIPHER_HASH;
		j->enc_keys = NULL;
		j->dec_keys = NULL;
		j->key_len_in_bytes = 0;
		j->src = src;
		j->dst = NULL;
		j->cipher_start_src_offset_in_bytes = 0;
		j->msg_len_to_cipher_in_bytes = 0;
		j->iv = NULL;
		j->iv_len_in_bytes = 0;
	}
	j->hash_alg = IMB_AUTH_HMAC_SHA_256;
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = CRYPTO_PKT_MACIN;
	j->auth_tag_output = tag;
	j->auth_tag_output_len_in_bytes = CRYPTO_PKT_MACLEN;
	j->u.HMAC._hashed_auth_key_xor_ipad = key->imb_ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = key->imb_opad;
}

/**
 * reap(j, ndone):
 * Count the returned job ${j} (if any) in ${ndone}.  Return -1 if it failed.
 */
static int
reap(const IMB_JOB * j, size_t * ndone)
{

	if (j == NULL)
		return (0);
	if (j->status != IMB_STATUS_COMPLETED)
		return (-1);
	(*ndone)++;
	return (0);
}

/**
 * submit(m, ndone):
 * Submit the job just filled on ${m} and reap what completes.  Return -1 on
 * a failed job.
 */
static int
submit(IMB_MGR * m, size_t * ndone)
{
	IMB_JOB * j;

	if ((j = IMB_SUBMIT_JOB(m)) == NULL) {
		if (imb_get_errno(m))
			return (-1);
		return (0);
	}
	do {
		if (reap(j, ndone))
			return (-1);
	} while ((j = IMB_GET_COMPLETED_JOB(m)) != NULL);
	return (0);
}

/**
 * drain(m, ndone, want):
 * Flush ${m} until it has nothing left.  Return -1 on a failed job or if
 * ${ndone} is not ${want} afterwards.
 */
static int
drain(IMB_MGR * m, size_t * ndone, size_t want)
{
	IMB_JOB * j;
	int rc = 0;

	while ((j = IMB_FLUSH_JOB(m)) != NULL) {
		if (reap(j, ndone))
			rc = -1;
	}
	if (*ndone != want)
		rc = -1;
	return (rc);
}

/**
 * crypto_pkt_imb_seal(st, jobs, n):
 * As crypto_pkt_ossl_seal() with ipsec-mb.
 */
int
crypto_pkt_imb_seal(struct crypto_pkt_imb * st,
    struct crypto_seal_job * jobs, size_t n)
{
	IMB_JOB * j;
	size_t i, nd;

	/* Lay out every packet: data, zeros, be32(len), be64(pnum). */
	for (i = 0; i < n; i++) {
		crypto_pkt_fill(&jobs[i]);
		crypto_pkt_be64enc(st->iv[i], jobs[i].pnum);
		memset(&st->iv[i][8], 0, 8);
	}

	if (st->chained) {
		/* One CIPHER_HASH job a packet. */
		for (i = nd = 0; i < n; i++) {
			j = IMB_GET_NEXT_JOB(st->aes);
			job_ctr(j, jobs[i].key, st->iv[i], jobs[i].out,
			    jobs[i].out, CRYPTO_PKT_PADLEN, IMB_DIR_ENCRYPT);
			job_mac(j, jobs[i].key, jobs[i].out, st->tag[i], 0);
			if (submit(st->aes, &nd))
				goto err0;
		}
		if (drain(st->aes, &nd, n))
			goto err0;
	} else {
		/* Encrypt everything on one manager... */
		for (i = nd = 0; i < n; i++) {
			j = IMB_GET_NEXT_JOB(st->aes);
			job_ctr(j, jobs[i].key, st->iv[i], jobs[i].out,
			    jobs[i].out, CRYPTO_PKT_PADLEN, IMB_DIR_ENCRYPT);
			if (submit(st->aes, &nd))
				goto err0;
		}
		if (drain(st->aes, &nd, n))
			goto err0;

		/* ... then MAC everything on the other. */
		for (i = nd = 0; i < n; i++) {
			j = IMB_GET_NEXT_JOB(st->hash);
			job_mac(j, jobs[i].key, jobs[i].out, st->tag[i], 1);
			if (submit(st->hash, &nd))
				goto err0;
		}
		if (drain(st->hash, &nd, n))
			goto err0;
	}

	/* The tag replaces the be64(pnum) the MAC covered. */
	for (i = 0; i < n; i++)
		memcpy(&jobs[i].out[CRYPTO_PKT_PADLEN], st->tag[i],
		    CRYPTO_PKT_MACLEN);

	/* Success! */
	return (0);

err0:
	/* Failure! */
	return (-1);
}

/**
 * crypto_pkt_imb_open(st, jobs, n):
 * As crypto_pkt_ossl_open() with ipsec-mb.
 */
size_t
crypto_pkt_imb_open(struct crypto_pkt_imb * st,
    struct crypto_open_job * jobs, size_t n)
{
	IMB_JOB * j;
	size_t i, nd, nv, nok;

	/* MAC input: ciphertext || be64(pnum), away from ${in} and ${out}. */
	for (i = 0; i < n; i++) {
		jobs[i].len = -1;
		memcpy(st->macin[i], jobs[i].in, CRYPTO_PKT_PADLEN);
		crypto_pkt_be64enc(&st->macin[i][CRYPTO_PKT_PADLEN],
		    jobs[i].pnum);
	}

	/* Compute every MAC. */
	for (i = nd = 0; i < n; i++) {
		j = IMB_GET_NEXT_JOB(st->hash);
		job_mac(j, jobs[i].key, st->macin[i], st->tag[i], 1);
		if (submit(st->hash, &nd))
			goto fail;
	}
	if (drain(st->hash, &nd, n))
		goto fail;

	/* Compare in constant time; decrypt only what verified. */
	for (i = nv = nd = 0; i < n; i++) {
		st->ok[i] = (CRYPTO_memcmp(st->tag[i],
		    &jobs[i].in[CRYPTO_PKT_PADLEN], CRYPTO_PKT_MACLEN) == 0);
		if (!st->ok[i])
			continue;
		crypto_pkt_be64enc(st->iv[i], jobs[i].pnum);
		memset(&st->iv[i][8], 0, 8);
		j = IMB_GET_NEXT_JOB(st->aes);
		job_ctr(j, jobs[i].key, st->iv[i], st->macin[i], jobs[i].out,
		    CRYPTO_PKT_PADLEN, IMB_DIR_DECRYPT);
		nv++;
		if (submit(st->aes, &nd))
			goto fail;
	}
	if (drain(st->aes, &nd, nv))
		goto fail;

	/* Check the encoded lengths. */
	for (i = nok = 0; i < n; i++) {
		if (st->ok[i] && ((jobs[i].len = crypto_pkt_padlen(jobs[i].out))
		    > 0))
			nok++;
	}
	return (nok);

fail:
	/* An internal failure: nothing opened. */
	for (i = 0; i < n; i++)
		jobs[i].len = -1;
	return (0);
}

/**
 * crypto_pkt_imb_ctr(st, key, iv, in, out, len):
 * As crypto_pkt_ossl_ctr() with ipsec-mb.
 */
int
crypto_pkt_imb_ctr(struct crypto_pkt_imb * st,
    const struct crypto_pktkey * key, const uint8_t iv[16],
    const uint8_t * in, uint8_t * out, size_t len)
{
	IMB_JOB * j;
	size_t nd = 0;

	memcpy(st->iv[0], iv, 16);
	j = IMB_GET_NEXT_JOB(st->aes);
	job_ctr(j, key, st->iv[0], in, out, len, IMB_DIR_ENCRYPT);
	if (submit(st->aes, &nd))
		return (-1);
	return (drain(st->aes, &nd, 1));
}
