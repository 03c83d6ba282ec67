/*
 * Intel ipsec-mb backend for packet crypto: the synchronous burst API
 * (IMB_SUBMIT_CIPHER_BURST, IMB_SUBMIT_HASH_BURST) with one set of managers
 * per engine (engines are per thread).  A chunk is one CTR burst and one
 * HMAC burst.
 *
 * Layouts (CRYPTO_PKT_IMB_*):
 * - HYBRID: an avx512 manager (VAES) runs AES-256-CTR and an sse manager
 *   (SHA-NI, 2 lanes) runs HMAC-SHA256.  The avx512 manager of ipsec-mb 1.3
 *   does HMAC-SHA256 on 16 AVX-512 lanes without SHA-NI, which is slow
 *   unless 16 packets are in flight; SHA-NI is fast from 2.
 * - ONE: a single manager picked by init_mb_mgr_auto runs both.
 * Round keys and HMAC pad states have the same layout on every manager.
 *
 * Measured on a 2-core EPYC (seal, ns/packet at batch 1/2/4/64): bursts
 * HYBRID ~734/454/434/434; ONE (avx512) ~5400 at 1, ~440 at 64; the job
 * API (get_next/submit/flush) HYBRID ~845/520/520/555 and chained
 * CIPHER_HASH jobs on one avx512 manager ~5560/5900/6130/512.  So AUTO
 * picks HYBRID when the CPU has it, else ONE.
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
	char name[48];

	/* Burst jobs: AES-256-CTR, HMAC-SHA256. */
	IMB_JOB cj[CRYPTO_PKT_CHUNK];
	IMB_JOB hj[CRYPTO_PKT_CHUNK];

	/* Per-chunk buffers; each must live until its job returns. */
	uint8_t iv[CRYPTO_PKT_CHUNK][16] __attribute__((aligned(16)));
	uint8_t tag[CRYPTO_PKT_CHUNK][32] __attribute__((aligned(16)));
	uint8_t ok[CRYPTO_PKT_CHUNK];
	uint8_t direct[CRYPTO_PKT_CHUNK];	/* Seal: encrypted from pt. */

	/* Open: each packet's received MAC, while its bytes hold pnum. */
	uint8_t rtag[CRYPTO_PKT_CHUNK][32] __attribute__((aligned(16)));
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

	/* Get the key expansion manager. */
	if (pthread_once(&keymgr_once, keymgr_init) || (keymgr == NULL)) {
		errno = ENOTSUP;
		goto err0;
	}

	/* AES-256 round keys (CTR needs only the encryption ones). */
	IMB_AES_KEYEXP_256(keymgr, key->enc, key->aes_enc, dec);

	/* HMAC pad states: one SHA-256 block of H ^ ipad and H ^ opad. */
	crypto_pkt_hmacpad(pad, mac, 0x36);
	IMB_SHA256_ONE_BLOCK(keymgr, pad, key->imb_ipad);
	crypto_pkt_hmacpad(pad, mac, 0x5c);
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
 * selftest(st):
 * Seal and open one packet on ${st}.  Return 0 if it round-trips.
 */
static int
selftest(struct crypto_pkt_imb * st)
{
	static const uint8_t k[32] = {1};
	static const uint8_t msg[3] = {'r', 'p', 'd'};
	uint8_t pkt[CRYPTO_PKT_LEN];
	struct crypto_pktkey * key;
	struct crypto_seal_job sj;
	struct crypto_open_job oj;
	int rc = -1;

	if ((key = crypto_pktkey_new(k, k)) == NULL)
		goto err0;
	sj = (struct crypto_seal_job){ key, msg, sizeof(msg), 7, pkt, 0 };
	if (crypto_pkt_imb_seal(st, &sj, 1))
		goto err1;
	oj = (struct crypto_open_job){ key, pkt, 7, pkt, 0 };
	if ((crypto_pkt_imb_open(st, &oj, 1) != 1) ||
	    (oj.len != (int)sizeof(msg)) || memcmp(pkt, msg, sizeof(msg)))
		goto err1;
	rc = 0;

err1:
	crypto_pktkey_free(key);
err0:
	if (rc)
		errno = ENOTSUP;
	return (rc);
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
		snprintf(st->name, sizeof(st->name), "ipsec-mb/%s",
		    archname(a1));
	}

	/* Check that the burst paths work on these managers. */
	if (selftest(st))
		goto err3;

	/* Success! */
	return (st);

err3:
	if (st->hash != st->aes)
		free_mb_mgr(st->hash);
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
 * ctr_burst(st, n, dir):
 * Run the ${n} AES-256-CTR jobs filled in ${st}->cj as one burst.  Return 0
 * if all completed.
 */
static int
ctr_burst(struct crypto_pkt_imb * st, size_t n, IMB_CIPHER_DIRECTION dir)
{

	if (n == 0)
		return (0);
	if (IMB_SUBMIT_CIPHER_BURST(st->aes, st->cj, (uint32_t)n,
	    IMB_CIPHER_CNTR, dir, IMB_KEY_256_BYTES) != n)
		return (-1);
	return (0);
}

/**
 * mac_burst(st, n):
 * Run the ${n} HMAC-SHA256 jobs filled in ${st}->hj as one burst.  Return 0
 * if all completed.
 */
static int
mac_burst(struct crypto_pkt_imb * st, size_t n)
{

	if (IMB_SUBMIT_HASH_BURST(st->hash, st->hj, (uint32_t)n,
	    IMB_AUTH_HMAC_SHA_256) != n)
		return (-1);
	return (0);
}

/**
 * job_ctr(j, key, iv, src, dst):
 * Make ${j} an AES-256-CTR burst job of one padded packet from ${src} to
 * ${dst} under ${key} from the counter block ${iv}.
 */
static void
job_ctr(IMB_JOB * j, const struct crypto_pktkey * key, const uint8_t * iv,
    const uint8_t * src, uint8_t * dst)
{

	j->enc_keys = key->aes_enc;
	j->dec_keys = key->aes_enc;
	j->key_len_in_bytes = IMB_KEY_256_BYTES;
	j->src = src;
	j->dst = dst;
	j->cipher_start_src_offset_in_bytes = 0;
	j->msg_len_to_cipher_in_bytes = CRYPTO_PKT_PADLEN;
	j->iv = iv;
	j->iv_len_in_bytes = 16;
}

/**
 * job_mac(j, key, src, tag):
 * Make ${j} an HMAC-SHA256 burst job over the CRYPTO_PKT_MACIN bytes at
 * ${src} under ${key}, with the tag going to ${tag}.
 */
static void
job_mac(IMB_JOB * j, const struct crypto_pktkey * key, const uint8_t * src,
    uint8_t * tag)
{

	j->src = src;
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = CRYPTO_PKT_MACIN;
	j->auth_tag_output = tag;
	j->auth_tag_output_len_in_bytes = CRYPTO_PKT_MACLEN;
	j->u.HMAC._hashed_auth_key_xor_ipad = key->imb_ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = key->imb_opad;
}

/**
 * setiv(iv, pnum):
 * Make ${iv} the first counter block of packet ${pnum}.
 */
static void
setiv(uint8_t iv[16], uint64_t pnum)
{

	crypto_pkt_be64enc(iv, pnum);
	memset(&iv[8], 0, 8);
}

/**
 * crypto_pkt_imb_seal(st, jobs, n):
 * As crypto_pkt_ossl_seal() with ipsec-mb.
 */
int
crypto_pkt_imb_seal(struct crypto_pkt_imb * st,
    struct crypto_seal_job * jobs, size_t n)
{
	size_t i;

	/*
	 * Lay out every packet (data, zeros, be32(len), be64(pnum)) and
	 * encrypt the first 1028 bytes of each in place; except that a full
	 * packet whose ${pt} has slack is encrypted straight from ${pt}, 4
	 * bytes of slack included, and those 4 bytes are fixed up after
	 * (counter mode: out = in ^ keystream), saving a 1 KiB copy.
	 */
	for (i = 0; i < n; i++) {
		setiv(st->iv[i], jobs[i].pnum);
		st->direct[i] = (jobs[i].len == CRYPTO_PKT_PTMAX &&
		    jobs[i].pt != jobs[i].out &&
		    (jobs[i].flags & CRYPTO_SEAL_PTSLACK));
		if (!st->direct[i])
			crypto_pkt_fill(&jobs[i]);
		job_ctr(&st->cj[i], jobs[i].key, st->iv[i], st->direct[i] ?
		    jobs[i].pt : jobs[i].out, jobs[i].out);
	}
	if (ctr_burst(st, n, IMB_DIR_ENCRYPT))
		goto err0;
	for (i = 0; i < n; i++) {
		if (!st->direct[i])
			continue;
		/* Swap the slack for be32(1024) = 00 00 04 00. */
		jobs[i].out[1024] ^= jobs[i].pt[1024];
		jobs[i].out[1025] ^= jobs[i].pt[1025];
		jobs[i].out[1026] ^= jobs[i].pt[1026] ^ 0x04;
		jobs[i].out[1027] ^= jobs[i].pt[1027];
		crypto_pkt_be64enc(&jobs[i].out[CRYPTO_PKT_PADLEN],
		    jobs[i].pnum);
	}

	/* MAC ciphertext || be64(pnum) into separate tag buffers. */
	for (i = 0; i < n; i++)
		job_mac(&st->hj[i], jobs[i].key, jobs[i].out, st->tag[i]);
	if (mac_burst(st, n))
		goto err0;

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
	size_t i, nv, nok;

	/* MAC input ciphertext || be64(pnum), in place: the received MAC is
	 * set aside and its first 8 bytes hold pnum meanwhile. */
	for (i = 0; i < n; i++) {
		jobs[i].len = -1;
		memcpy(st->rtag[i], &jobs[i].in[CRYPTO_PKT_PADLEN],
		    CRYPTO_PKT_MACLEN);
		crypto_pkt_be64enc(&jobs[i].in[CRYPTO_PKT_PADLEN],
		    jobs[i].pnum);
		job_mac(&st->hj[i], jobs[i].key, jobs[i].in, st->tag[i]);
	}
	i = (size_t)mac_burst(st, n);
	for (nv = n; nv-- > 0; )	/* Reverse: ${in} restored even if shared. */
		memcpy(&jobs[nv].in[CRYPTO_PKT_PADLEN], st->rtag[nv],
		    CRYPTO_PKT_MACLEN);
	if (i)
		goto fail;

	/* Compare in constant time; decrypt only what verified. */
	for (i = nv = 0; i < n; i++) {
		st->ok[i] = (uint8_t)crypto_pkt_tag_eq(st->tag[i],
		    st->rtag[i]);
		if (!st->ok[i])
			continue;
		setiv(st->iv[nv], jobs[i].pnum);
		job_ctr(&st->cj[nv], jobs[i].key, st->iv[nv], jobs[i].in,
		    jobs[i].out);
		nv++;
	}
	if (ctr_burst(st, nv, IMB_DIR_DECRYPT))
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

	memcpy(st->iv[0], iv, 16);
	job_ctr(&st->cj[0], key, st->iv[0], in, out);
	st->cj[0].msg_len_to_cipher_in_bytes = len;
	return (ctr_burst(st, 1, IMB_DIR_ENCRYPT));
}
