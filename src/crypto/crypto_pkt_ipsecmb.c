/*
 * Intel ipsec-mb backend for packet crypto: the synchronous burst API
 * (IMB_SUBMIT_CIPHER_BURST, IMB_SUBMIT_HASH_BURST).  A chunk is one CTR
 * burst and one HMAC burst, each on the manager its variant names:
 * - hybrid: avx512 (VAES) runs AES-256-CTR, sse (SHA-NI, 2 lanes) runs
 *   HMAC-SHA256.  The avx512 manager of ipsec-mb 1.3 does HMAC-SHA256 on 16
 *   AVX-512 lanes without SHA-NI, which must flush 16 lanes for a small
 *   batch; SHA-NI needs only 2 packets in flight.
 * - avx512, avx2, sse: that one manager runs both.
 * Which is fastest at which batch size depends on the CPU, so the caller
 * measures (crypto_pkt_probe.c).  Round keys and HMAC pad states have the
 * same layout on every manager, so one key expansion serves every variant,
 * and one engine state holds each kind of manager once.
 *
 * ipsec-mb never checks tags: open computes the MAC, compares it in
 * constant time, and decrypts only the packets whose MAC verified.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <intel-ipsec-mb.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"
#include "crypto_pkt_layout.h"
#include "crypto_wipe.h"

/* Kinds of manager. */
enum imb_kind { IMB_K_AVX512, IMB_K_AVX2, IMB_K_SSE, IMB_NKINDS };

/* CPU features each kind needs. */
static const uint64_t imb_kind_flags[IMB_NKINDS] = {
	[IMB_K_AVX512] = IMB_CPUFLAGS_AVX512,
	[IMB_K_AVX2] = IMB_CPUFLAGS_AVX2,
	[IMB_K_SSE] = IMB_CPUFLAGS_SSE,
};

/* Variants: path names, labels, and the managers that run them. */
static const struct crypto_pkt_variant imb_variants[] = {
	{ "hybrid", "ipsec-mb/avx512+sse" },
	{ "avx512", "ipsec-mb/avx512" },
	{ "avx2", "ipsec-mb/avx2" },
	{ "sse", "ipsec-mb/sse" },
};
#define IMB_NVARIANTS (sizeof(imb_variants) / sizeof(imb_variants[0]))
static const struct {
	enum imb_kind aes;	/* Runs AES-256-CTR. */
	enum imb_kind hash;	/* Runs HMAC-SHA256. */
} imb_vkinds[IMB_NVARIANTS] = {
	{ IMB_K_AVX512, IMB_K_SSE },
	{ IMB_K_AVX512, IMB_K_AVX512 },
	{ IMB_K_AVX2, IMB_K_AVX2 },
	{ IMB_K_SSE, IMB_K_SSE },
};

/* This backend's key layout. */
struct imb_key {
	/* AES-256 encryption round keys (15 x 16 bytes). */
	uint8_t aes_enc[240] __attribute__((aligned(16)));

	/* SHA-256 states after one block of (H ^ ipad) and (H ^ opad), as
	 * IMB_SHA256_ONE_BLOCK leaves them (8 host-order words). */
	uint8_t ipad[32] __attribute__((aligned(16)));
	uint8_t opad[32] __attribute__((aligned(16)));
};

struct imb_state {
	IMB_MGR * mgr[IMB_NKINDS];	/* NULL: no variant needs it. */

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

/**
 * mgr_alloc(void):
 * Return a manager in fresh pages of our own (imb_set_pointers_mb_mgr), so
 * that mgr_free can wipe all of it, or NULL.  The pages come zeroed, so
 * the library need not clear them: the parts of the manager that no
 * variant touches (other algorithms' lanes) are then never faulted in.
 */
static IMB_MGR *
mgr_alloc(void)
{
	void * mem;
	IMB_MGR * m;

	if ((mem = mmap(NULL, imb_get_mb_mgr_size(), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		goto err0;
	if ((m = imb_set_pointers_mb_mgr(mem, 0, 0)) != mem)
		goto err1;

	/* Success! */
	return (m);

err1:
	munmap(mem, imb_get_mb_mgr_size());
err0:
	/* Failure! */
	return (NULL);
}

/**
 * mgr_free(m):
 * Wipe and unmap the manager ${m} from mgr_alloc: its lanes keep the keyed
 * HMAC states and the round-key pointers of the last jobs (free_mb_mgr
 * would free them as they are).  NULL is a no-op.
 */
static void
mgr_free(IMB_MGR * m)
{

	/* Behave consistently with free(NULL). */
	if (m == NULL)
		return;

	crypto_wipe(m, imb_get_mb_mgr_size());
	munmap(m, imb_get_mb_mgr_size());
}

/* Key expansion: a manager's stateless functions for this CPU.  The
 * manager itself (its job queues, a few hundred KiB) is freed once they
 * are read: nothing else of it is used. */
static keyexp_t key_aes256;
static hash_one_block_t key_sha256;
static pthread_once_t keymgr_once = PTHREAD_ONCE_INIT;

/**
 * keymgr_init(void):
 * Set ${key_aes256} and ${key_sha256} from a manager for this CPU.
 */
static void
keymgr_init(void)
{
	IMB_MGR * m;

	if ((m = mgr_alloc()) == NULL)
		return;
	init_mb_mgr_auto(m, NULL);
	if (imb_get_errno(m) == 0) {
		key_aes256 = m->keyexp_256;
		key_sha256 = m->sha256_one_block;
	}
	mgr_free(m);
}

/**
 * imb_key_expand(enc, mac):
 * Return this backend's expansion of (${enc}, ${mac}), or NULL.
 */
static void *
imb_key_expand(const uint8_t enc[32], const uint8_t mac[32])
{
	uint8_t dec[240] __attribute__((aligned(16)));
	uint8_t pad[64] __attribute__((aligned(16)));
	struct imb_key * k;

	/* Get the key expansion manager. */
	if (pthread_once(&keymgr_once, keymgr_init) || (key_aes256 == NULL) ||
	    (key_sha256 == NULL)) {
		errno = ENOTSUP;
		goto err0;
	}
	if ((k = aligned_alloc(64, (sizeof(*k) + 63) & ~(size_t)63)) == NULL)
		goto err0;

	/* AES-256 round keys (CTR needs only the encryption ones). */
	key_aes256(enc, k->aes_enc, dec);

	/* HMAC pad states: one SHA-256 block of H ^ ipad and H ^ opad. */
	crypto_pkt_hmacpad(pad, mac, 0x36);
	key_sha256(pad, k->ipad);
	crypto_pkt_hmacpad(pad, mac, 0x5c);
	key_sha256(pad, k->opad);

	/* Wipe the temporaries. */
	crypto_wipe(dec, sizeof(dec));
	crypto_wipe(pad, sizeof(pad));

	/* Success! */
	return (k);

err0:
	/* Failure! */
	return (NULL);
}

/**
 * imb_key_free(k):
 * Wipe and free the expansion ${k}.  NULL is a no-op.
 */
static void
imb_key_free(void * k)
{

	/* Behave consistently with free(NULL). */
	if (k == NULL)
		return;

	crypto_wipe(k, sizeof(struct imb_key));
	free(k);
}

/**
 * kind_ok(kind):
 * Return non-zero if the CPU has what a manager of ${kind} needs.
 */
static int
kind_ok(enum imb_kind kind)
{
	uint64_t f = imb_get_feature_flags();

	return ((f & imb_kind_flags[kind]) == imb_kind_flags[kind]);
}

/**
 * imb_available(v):
 * Return non-zero if the CPU can run variant ${v}.
 */
static int
imb_available(size_t v)
{

	return ((v < IMB_NVARIANTS) && kind_ok(imb_vkinds[v].aes) &&
	    kind_ok(imb_vkinds[v].hash));
}

/**
 * mgr_new(kind):
 * Return a new manager of ${kind}, or NULL.
 */
static IMB_MGR *
mgr_new(enum imb_kind kind)
{
	IMB_MGR * m;

	if ((m = mgr_alloc()) == NULL)
		goto err0;
	switch (kind) {
	case IMB_K_AVX512:
		init_mb_mgr_avx512(m);
		break;
	case IMB_K_AVX2:
		init_mb_mgr_avx2(m);
		break;
	default:
		init_mb_mgr_sse(m);
		break;
	}
	if (imb_get_errno(m))
		goto err1;

	/* Success! */
	return (m);

err1:
	mgr_free(m);
err0:
	/* Failure! */
	errno = ENOTSUP;
	return (NULL);
}

/**
 * imb_engine_free(st):
 * Free ${st}.  NULL is a no-op.
 */
static void
imb_engine_free(void * st)
{
	struct imb_state * s = st;
	size_t i;

	/* Behave consistently with free(NULL). */
	if (s == NULL)
		return;

	for (i = 0; i < IMB_NKINDS; i++)
		mgr_free(s->mgr[i]);

	/* The MAC inputs of open are ciphertext; the tags are public. */
	free(s);
}

/**
 * imb_engine_new(vmask):
 * Create state for the calling thread with the managers of the variants
 * in ${vmask}, or NULL (errno set).
 */
static void *
imb_engine_new(unsigned vmask)
{
	struct imb_state * st;
	size_t v;

	/* Every variant asked for must run here. */
	for (v = 0; v < IMB_NVARIANTS; v++) {
		if ((vmask & (1u << v)) && !imb_available(v)) {
			errno = ENOTSUP;
			goto err0;
		}
	}

	if ((st = aligned_alloc(64, (sizeof(*st) + 63) & ~(size_t)63)) == NULL)
		goto err0;
	memset(st, 0, sizeof(*st));

	/* One manager per kind that a variant uses. */
	for (v = 0; v < IMB_NVARIANTS; v++) {
		if (!(vmask & (1u << v)))
			continue;
		if ((st->mgr[imb_vkinds[v].aes] == NULL) &&
		    ((st->mgr[imb_vkinds[v].aes] =
		    mgr_new(imb_vkinds[v].aes)) == NULL))
			goto err1;
		if ((st->mgr[imb_vkinds[v].hash] == NULL) &&
		    ((st->mgr[imb_vkinds[v].hash] =
		    mgr_new(imb_vkinds[v].hash)) == NULL))
			goto err1;
	}

	/* Success! */
	return (st);

err1:
	imb_engine_free(st);
err0:
	/* Failure! */
	return (NULL);
}

/**
 * ctr_burst(st, m, n, dir):
 * Run the ${n} AES-256-CTR jobs filled in ${st}->cj as one burst on ${m}.
 * Return 0 if all completed.
 */
static int
ctr_burst(struct imb_state * st, IMB_MGR * m, size_t n,
    IMB_CIPHER_DIRECTION dir)
{

	if (n == 0)
		return (0);
	if (IMB_SUBMIT_CIPHER_BURST(m, st->cj, (uint32_t)n, IMB_CIPHER_CNTR,
	    dir, IMB_KEY_256_BYTES) != n)
		return (-1);
	return (0);
}

/**
 * mac_burst(st, m, n):
 * Run the ${n} HMAC-SHA256 jobs filled in ${st}->hj as one burst on ${m}.
 * Return 0 if all completed.
 */
static int
mac_burst(struct imb_state * st, IMB_MGR * m, size_t n)
{

	if (IMB_SUBMIT_HASH_BURST(m, st->hj, (uint32_t)n,
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
	const struct imb_key * k = key->lay[CRYPTO_BACKEND_IPSECMB];

	j->enc_keys = k->aes_enc;
	j->dec_keys = k->aes_enc;
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
	const struct imb_key * k = key->lay[CRYPTO_BACKEND_IPSECMB];

	j->src = src;
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = CRYPTO_PKT_MACIN;
	j->auth_tag_output = tag;
	j->auth_tag_output_len_in_bytes = CRYPTO_PKT_MACLEN;
	j->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = k->opad;
}

/**
 * setiv(iv, pnum):
 * Make ${iv} the first counter block of packet ${pnum}: be64(pnum) || 8
 * zero bytes, which ipsec-mb uses verbatim when the IV is 16 bytes long.
 */
static void
setiv(uint8_t iv[16], uint64_t pnum)
{

	crypto_pkt_be64enc(iv, pnum);
	memset(&iv[8], 0, 8);
}

/**
 * imb_seal(st, v, jobs, n):
 * Seal the ${n} packets of ${jobs} with variant ${v}: one CTR burst, then
 * one HMAC burst.
 */
static int
imb_seal(void * st, size_t v, struct crypto_seal_job * jobs, size_t n)
{
	struct imb_state * s = st;
	size_t i;

	/*
	 * Lay out every packet (data, zeros, be32(len), be64(pnum)) and
	 * encrypt the first 1028 bytes of each in place; except that a full
	 * packet whose ${pt} has slack is encrypted straight from ${pt}, 4
	 * bytes of slack included, and those 4 bytes are fixed up after
	 * (counter mode: out = in ^ keystream), saving a 1 KiB copy.
	 */
	for (i = 0; i < n; i++) {
		setiv(s->iv[i], jobs[i].pnum);
		s->direct[i] = (jobs[i].len == CRYPTO_PKT_PTMAX &&
		    jobs[i].pt != jobs[i].out &&
		    (jobs[i].flags & CRYPTO_SEAL_PTSLACK));
		if (!s->direct[i])
			crypto_pkt_fill(&jobs[i]);
		job_ctr(&s->cj[i], jobs[i].key, s->iv[i], s->direct[i] ?
		    jobs[i].pt : jobs[i].out, jobs[i].out);
	}
	if (ctr_burst(s, s->mgr[imb_vkinds[v].aes], n, IMB_DIR_ENCRYPT))
		goto err0;
	for (i = 0; i < n; i++) {
		if (!s->direct[i])
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
		job_mac(&s->hj[i], jobs[i].key, jobs[i].out, s->tag[i]);
	if (mac_burst(s, s->mgr[imb_vkinds[v].hash], n))
		goto err0;

	/* The tag replaces the be64(pnum) the MAC covered. */
	for (i = 0; i < n; i++)
		memcpy(&jobs[i].out[CRYPTO_PKT_PADLEN], s->tag[i],
		    CRYPTO_PKT_MACLEN);

	/* Success! */
	return (0);

err0:
	/* Failure! */
	return (-1);
}

/**
 * imb_open(st, v, jobs, n):
 * Open the ${n} packets of ${jobs} with variant ${v}: one HMAC burst, then
 * one CTR burst of the packets that verified.  Return how many opened.
 */
static size_t
imb_open(void * st, size_t v, struct crypto_open_job * jobs, size_t n)
{
	struct imb_state * s = st;
	size_t i, nv, nok;

	/* MAC input ciphertext || be64(pnum), in place: the received MAC is
	 * set aside and its first 8 bytes hold pnum meanwhile. */
	for (i = 0; i < n; i++) {
		jobs[i].len = -1;
		memcpy(s->rtag[i], &jobs[i].in[CRYPTO_PKT_PADLEN],
		    CRYPTO_PKT_MACLEN);
		crypto_pkt_be64enc(&jobs[i].in[CRYPTO_PKT_PADLEN],
		    jobs[i].pnum);
		job_mac(&s->hj[i], jobs[i].key, jobs[i].in, s->tag[i]);
	}
	i = (size_t)mac_burst(s, s->mgr[imb_vkinds[v].hash], n);
	for (nv = n; nv-- > 0; )	/* Reverse: ${in} restored even if shared. */
		memcpy(&jobs[nv].in[CRYPTO_PKT_PADLEN], s->rtag[nv],
		    CRYPTO_PKT_MACLEN);
	if (i)
		goto fail;

	/* Compare in constant time; decrypt only what verified. */
	for (i = nv = 0; i < n; i++) {
		s->ok[i] = (uint8_t)crypto_pkt_tag_eq(s->tag[i], s->rtag[i]);
		if (!s->ok[i])
			continue;
		setiv(s->iv[nv], jobs[i].pnum);
		job_ctr(&s->cj[nv], jobs[i].key, s->iv[nv], jobs[i].in,
		    jobs[i].out);
		nv++;
	}
	if (ctr_burst(s, s->mgr[imb_vkinds[v].aes], nv, IMB_DIR_DECRYPT))
		goto fail;

	/* Check the encoded lengths. */
	for (i = nok = 0; i < n; i++) {
		if (s->ok[i] && ((jobs[i].len = crypto_pkt_padlen(jobs[i].out))
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

const struct crypto_pkt_ops crypto_pkt_ipsecmb = {
	.backend = CRYPTO_BACKEND_IPSECMB,
	.variants = imb_variants,
	.nvariants = IMB_NVARIANTS,
	.available = imb_available,
	.engine_new = imb_engine_new,
	.engine_free = imb_engine_free,
	.seal = imb_seal,
	.open = imb_open,
	.key_expand = imb_key_expand,
	.key_free = imb_key_free,
};
