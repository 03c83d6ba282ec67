#ifndef CRYPTO_PKT_INTERNAL_H_
#define CRYPTO_PKT_INTERNAL_H_

/*
 * Internals shared by the packet crypto backends (crypto_pkt*.c) and the
 * tests.  Nothing outside src/crypto/crypto_pkt*.c, tests and benchmarks
 * should need this header.
 */

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto_pkt.h"

/* Most packets one backend call handles at once; bigger batches are cut. */
#define CRYPTO_PKT_CHUNK 64

/* Bytes of an HMAC input: ciphertext || be64(pnum). */
#define CRYPTO_PKT_MACIN (CRYPTO_PKT_PADLEN + 8)

/*
 * Expanded key set of one direction.  Every field is written once by
 * crypto_pktkey_new() and only read afterwards.
 */
struct crypto_pktkey {
	/* AES-256 encryption round keys, ipsec-mb layout (15 x 16 bytes). */
	uint8_t aes_enc[240] __attribute__((aligned(16)));

	/* SHA-256 states after one block of (H ^ ipad) and (H ^ opad), as
	 * IMB_SHA256_ONE_BLOCK leaves them (8 host-order words). */
	uint8_t imb_ipad[32] __attribute__((aligned(16)));
	uint8_t imb_opad[32] __attribute__((aligned(16)));

	/* Raw AES key, for backends which schedule it themselves. */
	uint8_t enc[CRYPTO_PKT_KEYLEN];

	/* Opaque SHA-256 contexts after one block of (H ^ ipad), (H ^ opad),
	 * for the OpenSSL backend (struct SHA256_CTX, 112 bytes). */
	uint8_t ossl_ictx[128] __attribute__((aligned(16)));
	uint8_t ossl_octx[128] __attribute__((aligned(16)));

	/* Unique per key set made by this process (never reused). */
	uint64_t id;
};

/**
 * crypto_pkt_ossl_keyinit(key, mac):
 * Fill the OpenSSL HMAC states of ${key} from the HMAC key ${mac}.
 */
void crypto_pkt_ossl_keyinit(struct crypto_pktkey * key,
    const uint8_t mac[32]);

/* Per-backend engine state. */
struct crypto_pkt_ossl;
struct crypto_pkt_imb;

/**
 * crypto_pkt_ossl_new(void):
 * Create OpenSSL backend state for the calling thread.
 */
struct crypto_pkt_ossl * crypto_pkt_ossl_new(void);

/**
 * crypto_pkt_ossl_free(st):
 * Free ${st}.  NULL is a no-op.
 */
void crypto_pkt_ossl_free(struct crypto_pkt_ossl * st);

/**
 * crypto_pkt_ossl_seal(st, jobs, n):
 * Seal the ${n} <= CRYPTO_PKT_CHUNK packets of ${jobs} using ${st}.
 * Return 0 on success or -1 on error.
 */
int crypto_pkt_ossl_seal(struct crypto_pkt_ossl * st,
    struct crypto_seal_job * jobs, size_t n);

/**
 * crypto_pkt_ossl_open(st, jobs, n):
 * Open the ${n} <= CRYPTO_PKT_CHUNK packets of ${jobs} using ${st}; return
 * how many opened.
 */
size_t crypto_pkt_ossl_open(struct crypto_pkt_ossl * st,
    struct crypto_open_job * jobs, size_t n);

/**
 * crypto_pkt_ossl_ctr(st, key, iv, in, out, len):
 * AES-256-CTR the ${len} bytes of ${in} into ${out} under ${key} starting at
 * the counter block ${iv}.  Return 0 on success or -1 on error.
 */
int crypto_pkt_ossl_ctr(struct crypto_pkt_ossl * st,
    const struct crypto_pktkey * key, const uint8_t iv[16],
    const uint8_t * in, uint8_t * out, size_t len);

#ifdef RP_HAVE_IPSECMB
/**
 * crypto_pkt_imb_keyinit(key, mac):
 * Fill the ipsec-mb AES round keys and HMAC pad states of ${key} from its
 * raw AES key and the HMAC key ${mac}.  Return 0 on success or -1 on error.
 */
int crypto_pkt_imb_keyinit(struct crypto_pktkey * key,
    const uint8_t mac[32]);

/**
 * crypto_pkt_imb_supported(void):
 * Return non-zero if the CPU has what the ipsec-mb backend needs to be
 * worth using (AES-NI).
 */
int crypto_pkt_imb_supported(void);

/**
 * crypto_pkt_imb_new(mode):
 * Create ipsec-mb backend state for the calling thread.  ${mode} picks the
 * manager layout: CRYPTO_PKT_IMB_* (AUTO picks the fastest).
 */
struct crypto_pkt_imb * crypto_pkt_imb_new(int mode);

/**
 * crypto_pkt_imb_name(st):
 * Return the name of the managers ${st} uses, e.g. "ipsec-mb/avx512+sse".
 */
const char * crypto_pkt_imb_name(const struct crypto_pkt_imb * st);

/**
 * crypto_pkt_imb_free(st):
 * Free ${st}.  NULL is a no-op.
 */
void crypto_pkt_imb_free(struct crypto_pkt_imb * st);

/**
 * crypto_pkt_imb_seal(st, jobs, n):
 * As crypto_pkt_ossl_seal() with ipsec-mb.
 */
int crypto_pkt_imb_seal(struct crypto_pkt_imb * st,
    struct crypto_seal_job * jobs, size_t n);

/**
 * crypto_pkt_imb_open(st, jobs, n):
 * As crypto_pkt_ossl_open() with ipsec-mb.
 */
size_t crypto_pkt_imb_open(struct crypto_pkt_imb * st,
    struct crypto_open_job * jobs, size_t n);

/**
 * crypto_pkt_imb_ctr(st, key, iv, in, out, len):
 * As crypto_pkt_ossl_ctr() with ipsec-mb.
 */
int crypto_pkt_imb_ctr(struct crypto_pkt_imb * st,
    const struct crypto_pktkey * key, const uint8_t iv[16],
    const uint8_t * in, uint8_t * out, size_t len);
#endif

/* ipsec-mb manager layouts (for benchmarks and tests). */
#define CRYPTO_PKT_IMB_AUTO	0	/* Fastest layout this CPU has. */
#define CRYPTO_PKT_IMB_HYBRID	1	/* avx512 CTR + sse (SHA-NI) HMAC. */
#define CRYPTO_PKT_IMB_ONE	2	/* One auto manager, chained jobs. */

/**
 * crypto_engine_new_imb(mode):
 * Create an ipsec-mb engine with the manager layout ${mode}.  Return NULL
 * (errno set) if ipsec-mb was not built in or cannot start.
 */
struct crypto_engine * crypto_engine_new_imb(int mode);

/**
 * crypto_engine_aesctr(eng, key, iv, in, out, len):
 * Test hook: AES-256-CTR the ${len} bytes at ${in} into ${out} under
 * ${key}'s AES key with the initial 16-byte counter block ${iv}, through
 * the same code path packets use on ${eng}.  Return 0 on success.
 */
int crypto_engine_aesctr(struct crypto_engine * eng,
    const struct crypto_pktkey * key, const uint8_t iv[16],
    const uint8_t * in, uint8_t * out, size_t len);

/**
 * crypto_pkt_fill(job):
 * Copy ${job}'s plaintext to its output (unless in place), zero the padding
 * and write be32(len) at offset 1024 and be64(pnum) at offset 1028.
 */
void crypto_pkt_fill(const struct crypto_seal_job * job);

/**
 * crypto_pkt_hmacpad(block, mac, c):
 * Fill the 64-byte ${block} with the HMAC key ${mac} (32 bytes) XORed into
 * bytes of value ${c} (0x36 for the inner pad, 0x5c for the outer).
 */
void crypto_pkt_hmacpad(uint8_t block[64], const uint8_t mac[32], uint8_t c);

/**
 * crypto_pkt_padlen(padded):
 * Return the plaintext length encoded in the 1028-byte ${padded} block, or
 * -1 if it is 0 or over CRYPTO_PKT_PTMAX.
 */
int crypto_pkt_padlen(const uint8_t * padded);

/**
 * crypto_pkt_be64enc(p, x):
 * Store ${x} big-endian at ${p}.
 */
static inline void
crypto_pkt_be64enc(uint8_t * p, uint64_t x)
{

	/* One byte swap and one store (the byte loop was not merged). */
	x = htobe64(x);
	memcpy(p, &x, 8);
}

/**
 * crypto_pkt_tag_eq(a, b):
 * Return 1 if the CRYPTO_PKT_MACLEN-byte tags ${a} and ${b} are equal, else
 * 0, in time independent of their contents (no early exit; inlined, unlike
 * CRYPTO_memcmp, which costs a call and a byte loop per packet).
 */
static inline int
crypto_pkt_tag_eq(const uint8_t * a, const uint8_t * b)
{
	uint64_t x, y, d = 0;
	size_t i;

	for (i = 0; i < CRYPTO_PKT_MACLEN; i += 8) {
		memcpy(&x, &a[i], 8);
		memcpy(&y, &b[i], 8);
		d |= x ^ y;
	}
	return (d == 0);
}

#endif /* !CRYPTO_PKT_INTERNAL_H_ */
