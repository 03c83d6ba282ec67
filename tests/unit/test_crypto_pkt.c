/*
 * Unit tests of batch packet sealing and opening (src/crypto/crypto_pkt*).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"
#include "packet_vectors.h"
#include "test_rng.h"

#define MAXENG 4

/* Every engine this build and CPU can make; [0] is always OpenSSL. */
struct engines {
	struct crypto_engine * e[MAXENG];
	size_t n;
};

static void
engines_make(struct engines * es)
{
	struct crypto_engine * e;

	es->n = 0;
	es->e[es->n] = crypto_engine_new(CRYPTO_BACKEND_OPENSSL);
	assert_non_null(es->e[es->n]);
	es->n++;
	if ((e = crypto_engine_new_imb(CRYPTO_PKT_IMB_HYBRID)) != NULL)
		es->e[es->n++] = e;
	if ((e = crypto_engine_new_imb(CRYPTO_PKT_IMB_ONE)) != NULL)
		es->e[es->n++] = e;
}

static void
engines_free(struct engines * es)
{
	size_t i;

	for (i = 0; i < es->n; i++)
		crypto_engine_free(es->e[i]);
}

static struct crypto_pktkey *
randkey(void)
{
	uint8_t e[32], h[32];
	struct crypto_pktkey * k;

	rngfill(e, 32);
	rngfill(h, 32);
	k = crypto_pktkey_new(e, h);
	assert_non_null(k);
	return (k);
}

/*
 * Build a packet outside crypto_pkt: AES-256-CTR via EVP and HMAC() over an
 * arbitrary 1028-byte padded block (so a bad length can carry a good MAC).
 */
static void
rawseal(const uint8_t e[32], const uint8_t h[32], uint64_t pnum,
    const uint8_t padded[1028], uint8_t pkt[1060])
{
	EVP_CIPHER_CTX * ctx;
	uint8_t iv[16] = {0};
	uint8_t macin[1036];
	unsigned int taglen = 32;
	int outl;

	crypto_pkt_be64enc(iv, pnum);
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, e,
	    iv), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, pkt, &outl, padded, 1028), 1);
	assert_int_equal(outl, 1028);
	EVP_CIPHER_CTX_free(ctx);
	memcpy(macin, pkt, 1028);
	crypto_pkt_be64enc(&macin[1028], pnum);
	assert_non_null(HMAC(EVP_sha256(), h, 32, macin, sizeof(macin),
	    &pkt[1028], &taglen));
	assert_int_equal(taglen, 32);
}

/* NIST SP 800-38A F.5.5 CTR-AES256.Encrypt through each backend's CTR. */
static void
test_aesctr_kat(void ** state)
{
	static const uint8_t key[32] = {
		0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe,
		0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d, 0x77, 0x81,
		0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7,
		0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4 };
	static const uint8_t iv[16] = {
		0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
		0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff };
	static const uint8_t pt[64] = {
		0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
		0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a,
		0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03, 0xac, 0x9c,
		0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51,
		0x30, 0xc8, 0x1c, 0x46, 0xa3, 0x5c, 0xe4, 0x11,
		0xe5, 0xfb, 0xc1, 0x19, 0x1a, 0x0a, 0x52, 0xef,
		0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b, 0x17,
		0xad, 0x2b, 0x41, 0x7b, 0xe6, 0x6c, 0x37, 0x10 };
	static const uint8_t ct[64] = {
		0x60, 0x1e, 0xc3, 0x13, 0x77, 0x57, 0x89, 0xa5,
		0xb7, 0xa7, 0xf5, 0x04, 0xbb, 0xf3, 0xd2, 0x28,
		0xf4, 0x43, 0xe3, 0xca, 0x4d, 0x62, 0xb5, 0x9a,
		0xca, 0x84, 0xe9, 0x90, 0xca, 0xca, 0xf5, 0xc5,
		0x2b, 0x09, 0x30, 0xda, 0xa2, 0x3d, 0xe9, 0x4c,
		0xe8, 0x70, 0x17, 0xba, 0x2d, 0x84, 0x98, 0x8d,
		0xdf, 0xc9, 0xc5, 0x8d, 0xb6, 0x7a, 0xad, 0xa6,
		0x13, 0xc2, 0xdd, 0x08, 0x45, 0x79, 0x41, 0xa6 };
	uint8_t mac[32] = {0};
	uint8_t out[64];
	struct crypto_pktkey * k;
	struct engines es;
	size_t i;

	(void)state;
	engines_make(&es);
	assert_non_null(k = crypto_pktkey_new(key, mac));
	for (i = 0; i < es.n; i++) {
		memset(out, 0, sizeof(out));
		assert_int_equal(crypto_engine_aesctr(es.e[i], k, iv, pt, out,
		    64), 0);
		assert_memory_equal(out, ct, 64);

		/* Decrypt in place back to the plaintext. */
		assert_int_equal(crypto_engine_aesctr(es.e[i], k, iv, out, out,
		    64), 0);
		assert_memory_equal(out, pt, 64);
	}
	crypto_pktkey_free(k);
	engines_free(&es);
}

/* Packets made by openssl(1) + Python hmac match ours, and open. */
static void
test_packet_vectors(void ** state)
{
	const struct packet_vector * v;
	struct crypto_seal_job sj;
	struct crypto_open_job oj;
	struct crypto_pktkey * k;
	uint8_t pkt[1060], pt[1028];
	struct engines es;
	size_t i, j;

	(void)state;
	engines_make(&es);
	for (j = 0; j < sizeof(packet_vectors) / sizeof(packet_vectors[0]);
	    j++) {
		v = &packet_vectors[j];
		assert_non_null(k = crypto_pktkey_new(v->e, v->h));
		for (i = 0; i < es.n; i++) {
			memset(pkt, 0xee, sizeof(pkt));
			sj = (struct crypto_seal_job){ k, v->m, v->mlen,
			    v->pnum, pkt, 0 };
			assert_int_equal(crypto_engine_seal(es.e[i], &sj, 1),
			    0);
			assert_memory_equal(pkt, v->pkt, 1060);

			/* Open the (identical) sealed copy; the input's MAC
			 * bytes are scratch and must be restored. */
			oj = (struct crypto_open_job){ k, pkt, v->pnum, pt,
			    0 };
			assert_int_equal(crypto_engine_open(es.e[i], &oj, 1),
			    1);
			assert_int_equal(oj.len, (int)v->mlen);
			assert_memory_equal(pt, v->m, v->mlen);
			assert_memory_equal(pkt, v->pkt, 1060);
		}
		crypto_pktkey_free(k);
	}
	engines_free(&es);
}

/* ipsec-mb and OpenSSL make identical packets and open each other's. */
static void
test_backends_agree(void ** state)
{
	static const uint64_t pnums[] = { 0, UINT64_C(0xffffffff),
	    UINT64_C(0x100000000), UINT64_C(0x8000000000000000) };
	struct crypto_pktkey * keys[3];
	struct crypto_seal_job sj[64];
	struct crypto_open_job oj[64];
	uint8_t * pt, * ref, * got, * dec;
	struct engines es;
	size_t b, i, e, nextlen = 1, npkts = 0;

	(void)state;
	engines_make(&es);
	if (es.n < 2) {
		engines_free(&es);
		skip();
	}
	for (e = 0; e < es.n; e++)
		print_message("engine %zu: %s\n", e, crypto_engine_name(es.e[e]));
	for (i = 0; i < 3; i++)
		keys[i] = randkey();
	assert_non_null(pt = malloc(64 * 1024 + 16));	/* + slack */
	assert_non_null(ref = malloc(64 * 1060));
	assert_non_null(got = malloc(64 * 1060));
	assert_non_null(dec = malloc(64 * 1060));

	/* Batch sizes 1..64; lengths walk 1..1024 (each one is covered). */
	for (b = 1; b <= 64; b++) {
		rngfill(pt, 64 * 1024);
		for (i = 0; i < b; i++) {
			sj[i].key = keys[(b + i) % 3];
			sj[i].pt = &pt[i * 1024];
			sj[i].len = nextlen;
			nextlen = (nextlen % 1024) + 1;
			sj[i].pnum = (i % 5 == 4) ? rng() :
			    pnums[(b + i) % 4] + (i / 4);
			sj[i].out = &ref[i * 1060];
		}
		assert_int_equal(crypto_engine_seal(es.e[0], sj, b), 0);
		for (e = 1; e < es.n; e++) {
			for (i = 0; i < b; i++)
				sj[i].out = &got[i * 1060];
			assert_int_equal(crypto_engine_seal(es.e[e], sj, b), 0);
			assert_memory_equal(got, ref, b * 1060);

			/* Each opens what the other sealed. */
			for (i = 0; i < b; i++)
				oj[i] = (struct crypto_open_job){ sj[i].key,
				    &ref[i * 1060], sj[i].pnum, &dec[i * 1060],
				    0 };
			assert_int_equal(crypto_engine_open(es.e[e], oj, b), b);
			for (i = 0; i < b; i++) {
				assert_int_equal(oj[i].len, (int)sj[i].len);
				assert_memory_equal(&dec[i * 1060], sj[i].pt,
				    sj[i].len);
			}
		}
		npkts += b;
	}
	assert_true(npkts >= 1024);

	/* Full packets sealed straight from a buffer with slack (no copy)
	 * equal the copying path, on every backend, and leave it intact. */
	rngfill(pt, 64 * 1024 + 16);
	memcpy(dec, pt, 64 * 1024 + 16);
	for (i = 0; i < 64; i++)
		sj[i] = (struct crypto_seal_job){ keys[i % 3], &pt[i * 1024],
		    1024, pnums[i % 4] + i, &ref[i * 1060], 0 };
	assert_int_equal(crypto_engine_seal(es.e[0], sj, 64), 0);
	for (e = 0; e < es.n; e++) {
		for (i = 0; i < 64; i++) {
			sj[i].flags = CRYPTO_SEAL_PTSLACK;
			sj[i].out = &got[i * 1060];
		}
		assert_int_equal(crypto_engine_seal(es.e[e], sj, 64), 0);
		assert_memory_equal(got, ref, 64 * 1060);
		assert_memory_equal(pt, dec, 64 * 1024 + 16);
	}

	/* A batch bigger than one internal chunk. */
	{
		size_t n = 3 * CRYPTO_PKT_CHUNK + 5;
		struct crypto_seal_job * big = calloc(n, sizeof(*big));
		uint8_t * bref = malloc(n * 1060), * bgot = malloc(n * 1060);

		assert_non_null(big);
		assert_non_null(bref);
		assert_non_null(bgot);
		for (i = 0; i < n; i++)
			big[i] = (struct crypto_seal_job){ keys[i % 3],
			    &pt[(i % 64) * 1024], 1 + (i * 37) % 1024, i,
			    &bref[i * 1060], 0 };
		assert_int_equal(crypto_engine_seal(es.e[0], big, n), 0);
		for (e = 1; e < es.n; e++) {
			for (i = 0; i < n; i++)
				big[i].out = &bgot[i * 1060];
			assert_int_equal(crypto_engine_seal(es.e[e], big, n),
			    0);
			assert_memory_equal(bgot, bref, n * 1060);
		}
		free(big);
		free(bref);
		free(bgot);
	}

	free(dec);
	free(got);
	free(ref);
	free(pt);
	for (i = 0; i < 3; i++)
		crypto_pktkey_free(keys[i]);
	engines_free(&es);
}

/* Open rejects tampering, wrong pnum, bad lengths; out stays untouched. */
static void
test_open_rejects(void ** state)
{
	uint8_t e[32], h[32], padded[1028], good[1060], good2[1060];
	uint8_t bad[1060];
	uint8_t out[1028], sentinel[1028], o0[1028], o2[1028];
	static const uint32_t badlens[] = { 0, 1025, 0xffffffff };
	struct crypto_open_job oj[3];
	struct crypto_pktkey * k;
	struct engines es;
	size_t i, pos, nflip;
	uint64_t pnum = 77;

	(void)state;
	engines_make(&es);
	rngfill(e, 32);
	rngfill(h, 32);
	assert_non_null(k = crypto_pktkey_new(e, h));
	memset(sentinel, 0xa5, sizeof(sentinel));

	/* A good packet, from outside our code. */
	memset(padded, 0, sizeof(padded));
	rngfill(padded, 100);
	padded[1027] = 100;
	rawseal(e, h, pnum, padded, good);

	for (i = 0; i < es.n; i++) {
		/* Sanity: it opens. */
		oj[0] = (struct crypto_open_job){ k, good, pnum, out, 0 };
		assert_int_equal(crypto_engine_open(es.e[i], oj, 1), 1);
		assert_int_equal(oj[0].len, 100);

		/* Flipped bits at every 7th byte and the last one, the bit
		 * rotating; a good packet on each side of the bad one. */
		for (nflip = 0; nflip * 7 < 1060 + 7; nflip++) {
			pos = (nflip * 7 < 1060) ? nflip * 7 : 1059;
			memcpy(bad, good, 1060);
			bad[pos] ^= (uint8_t)(1 << (nflip % 8));
			memcpy(out, sentinel, sizeof(out));
			oj[0] = (struct crypto_open_job){ k, good, pnum, o0, 0 };
			oj[1] = (struct crypto_open_job){ k, bad, pnum, out,
			    0 };
			memcpy(good2, good, 1060);
			oj[2] = (struct crypto_open_job){ k, good2, pnum, o2,
			    0 };
			assert_int_equal(crypto_engine_open(es.e[i], oj, 3), 2);
			assert_int_equal(oj[0].len, 100);
			assert_int_equal(oj[1].len, -1);
			assert_int_equal(oj[2].len, 100);
			assert_memory_equal(out, sentinel, sizeof(out));
		}
		assert_true(nflip >= 150);

		/* Wrong packet numbers. */
		memcpy(out, sentinel, sizeof(out));
		memcpy(good2, good, 1060);
		memcpy(bad, good, 1060);
		oj[0] = (struct crypto_open_job){ k, good, pnum + 1, out, 0 };
		oj[1] = (struct crypto_open_job){ k, good2, pnum - 1, out, 0 };
		oj[2] = (struct crypto_open_job){ k, bad,
		    pnum | (UINT64_C(1) << 63), out, 0 };
		assert_int_equal(crypto_engine_open(es.e[i], oj, 3), 0);
		assert_int_equal(oj[0].len, -1);
		assert_int_equal(oj[1].len, -1);
		assert_int_equal(oj[2].len, -1);
		assert_memory_equal(out, sentinel, sizeof(out));

		/* Good MAC over a bad encoded length. */
		for (pos = 0; pos < 3; pos++) {
			padded[1024] = (uint8_t)(badlens[pos] >> 24);
			padded[1025] = (uint8_t)(badlens[pos] >> 16);
			padded[1026] = (uint8_t)(badlens[pos] >> 8);
			padded[1027] = (uint8_t)badlens[pos];
			rawseal(e, h, pnum, padded, bad);
			oj[0] = (struct crypto_open_job){ k, bad, pnum, out,
			    0 };
			assert_int_equal(crypto_engine_open(es.e[i], oj, 1), 0);
			assert_int_equal(oj[0].len, -1);
		}
		padded[1024] = padded[1025] = padded[1026] = 0;
		padded[1027] = 100;
	}
	crypto_pktkey_free(k);
	engines_free(&es);
}

/* Sealing and opening in place; seal refuses impossible lengths. */
static void
test_inplace(void ** state)
{
	uint8_t buf[1060], ref[1060], m[1024];
	struct crypto_seal_job sj;
	struct crypto_open_job oj;
	struct crypto_pktkey * k;
	struct engines es;
	size_t i, len;

	(void)state;
	engines_make(&es);
	k = randkey();
	for (i = 0; i < es.n; i++) {
		for (len = 1; len <= 1024; len += 97) {
			rngfill(m, len);
			sj = (struct crypto_seal_job){ k, m, len, len, ref, 0 };
			assert_int_equal(crypto_engine_seal(es.e[i], &sj, 1),
			    0);
			memset(buf, 0xcc, sizeof(buf));
			memcpy(buf, m, len);
			sj = (struct crypto_seal_job){ k, buf, len, len, buf, 0 };
			assert_int_equal(crypto_engine_seal(es.e[i], &sj, 1),
			    0);
			assert_memory_equal(buf, ref, 1060);
			oj = (struct crypto_open_job){ k, buf, len, buf, 0 };
			assert_int_equal(crypto_engine_open(es.e[i], &oj, 1),
			    1);
			assert_int_equal(oj.len, (int)len);
			assert_memory_equal(buf, m, len);
		}
		sj = (struct crypto_seal_job){ k, m, 0, 0, buf, 0 };
		assert_int_equal(crypto_engine_seal(es.e[i], &sj, 1), -1);
		sj.len = 1025;
		assert_int_equal(crypto_engine_seal(es.e[i], &sj, 1), -1);
		assert_int_equal(crypto_engine_seal(es.e[i], &sj, 0), 0);
		assert_int_equal(crypto_engine_open(es.e[i], &oj, 0), 0);
	}
	crypto_pktkey_free(k);
	engines_free(&es);
}

/* Engine selection and names. */
static void
test_engine_names(void ** state)
{
	struct crypto_engine * e;

	(void)state;
	assert_non_null(e = crypto_engine_new(CRYPTO_BACKEND_OPENSSL));
	assert_int_equal(crypto_engine_backend(e), CRYPTO_BACKEND_OPENSSL);
	assert_string_equal(crypto_engine_name(e), "openssl");
	crypto_engine_free(e);

	assert_non_null(e = crypto_engine_new(CRYPTO_BACKEND_AUTO));
	assert_int_not_equal(crypto_engine_backend(e), CRYPTO_BACKEND_AUTO);
#ifdef RP_HAVE_IPSECMB
	if (crypto_pkt_imb_supported()) {
		assert_int_equal(crypto_engine_backend(e),
		    CRYPTO_BACKEND_IPSECMB);
		assert_memory_equal(crypto_engine_name(e), "ipsec-mb/", 9);
	}
#else
	assert_int_equal(crypto_engine_backend(e), CRYPTO_BACKEND_OPENSSL);
	assert_null(crypto_engine_new(CRYPTO_BACKEND_IPSECMB));
#endif
	print_message("auto engine: %s\n", crypto_engine_name(e));
	crypto_engine_free(e);
	crypto_engine_free(NULL);
	crypto_pktkey_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aesctr_kat),
		cmocka_unit_test(test_packet_vectors),
		cmocka_unit_test(test_backends_agree),
		cmocka_unit_test(test_open_rejects),
		cmocka_unit_test(test_inplace),
		cmocka_unit_test(test_engine_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
