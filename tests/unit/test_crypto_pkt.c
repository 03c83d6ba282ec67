/*
 * Unit tests of batch packet sealing and opening (src/crypto/crypto_pkt*).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"
#include "crypto_pkt_layout.h"
#include "packet_vectors.h"
#include "test_rng.h"

#define MAXENG (CRYPTO_PKT_NPATHS + 1)

/*
 * Every engine this build and CPU can make: [0] OpenSSL, then one per other
 * path that runs here, then the automatic choice (which may run several
 * paths, each chunk size on its own).
 */
struct engines {
	struct crypto_engine * e[MAXENG];
	size_t n;
};

static void
engines_make(struct engines * es)
{
	struct crypto_engine * e;
	const char * name;
	size_t i;

	es->n = 0;
	for (i = 0; (name = crypto_pkt_path_name(i)) != NULL; i++) {
		if ((e = crypto_engine_new_path(name)) == NULL) {
			assert_int_equal(errno, ENOTSUP);
			continue;
		}
		assert_true(es->n < MAXENG);
		es->e[es->n++] = e;
	}
	assert_true(es->n >= 1);
	assert_string_equal(crypto_engine_name(es->e[0]), "openssl");
	assert_non_null(es->e[es->n] = crypto_engine_new(CRYPTO_BACKEND_AUTO));
	es->n++;
}

static void
engines_free(struct engines * es)
{
	size_t i;

	for (i = 0; i < es->n; i++)
		crypto_engine_free(es->e[i]);
}

/* The key (${e}, ${h}) for each engine of ${es}, into ${k}. */
static void
keys_make(const struct engines * es, const uint8_t e[32], const uint8_t h[32],
    struct crypto_pktkey * k[MAXENG])
{
	size_t i;

	for (i = 0; i < es->n; i++)
		assert_non_null(k[i] = crypto_pktkey_new_engine(es->e[i], e,
		    h));
}

static void
keys_free(const struct engines * es, struct crypto_pktkey * k[MAXENG])
{
	size_t i;

	for (i = 0; i < es->n; i++)
		crypto_pktkey_free(k[i]);
}

/* Random keys for each engine of ${es}. */
static void
randkeys(const struct engines * es, struct crypto_pktkey * k[MAXENG])
{
	uint8_t e[32], h[32];

	rngfill(e, 32);
	rngfill(h, 32);
	keys_make(es, e, h, k);
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

/* Packets made by openssl(1) + Python hmac match ours, and open. */
static void
test_packet_vectors(void ** state)
{
	const struct packet_vector * v;
	struct crypto_pktkey * k[MAXENG];
	struct crypto_seal_job sj;
	struct crypto_open_job oj;
	uint8_t pkt[1060], pt[1028];
	struct engines es;
	size_t i, j;

	(void)state;
	engines_make(&es);
	for (j = 0; j < sizeof(packet_vectors) / sizeof(packet_vectors[0]);
	    j++) {
		v = &packet_vectors[j];
		keys_make(&es, v->e, v->h, k);
		for (i = 0; i < es.n; i++) {
			memset(pkt, 0xee, sizeof(pkt));
			sj = (struct crypto_seal_job){ k[i], v->m, v->mlen,
			    v->pnum, pkt, 0 };
			assert_int_equal(crypto_engine_seal(es.e[i], &sj, 1),
			    0);
			assert_memory_equal(pkt, v->pkt, 1060);

			/* Open the (identical) sealed copy; the input's MAC
			 * bytes are scratch and must be restored. */
			oj = (struct crypto_open_job){ k[i], pkt, v->pnum, pt,
			    0 };
			assert_int_equal(crypto_engine_open(es.e[i], &oj, 1),
			    1);
			assert_int_equal(oj.len, (int)v->mlen);
			assert_memory_equal(pt, v->m, v->mlen);
			assert_memory_equal(pkt, v->pkt, 1060);
		}
		keys_free(&es, k);
	}
	engines_free(&es);
}

/* Point the ${n} jobs of ${sj} at the keys of engine ${e}. */
static void
jobs_rekey(struct crypto_seal_job * sj, size_t n,
    struct crypto_pktkey * keys[3][MAXENG], const size_t * kidx, size_t e)
{
	size_t i;

	for (i = 0; i < n; i++)
		sj[i].key = keys[kidx[i]][e];
}

/* Every path makes identical packets at every batch size and opens what
 * path 0 (OpenSSL) sealed. */
static void
test_backends_agree(void ** state)
{
	static const uint64_t pnums[] = { 0, UINT64_C(0xffffffff),
	    UINT64_C(0x100000000), UINT64_C(0x8000000000000000) };
	struct crypto_pktkey * keys[3][MAXENG];
	struct crypto_seal_job sj[64];
	struct crypto_open_job oj[64];
	size_t kidx[3 * 64 + 5];
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
	print_message("auto: %s\n", crypto_engine_describe());
	for (i = 0; i < 3; i++)
		randkeys(&es, keys[i]);
	assert_non_null(pt = malloc(64 * 1024 + 16));	/* + slack */
	assert_non_null(ref = malloc(64 * 1060));
	assert_non_null(got = malloc(64 * 1060));
	assert_non_null(dec = malloc(64 * 1060));

	/* Batch sizes 1..64; lengths walk 1..1024 (each one is covered). */
	for (b = 1; b <= 64; b++) {
		rngfill(pt, 64 * 1024);
		for (i = 0; i < b; i++) {
			kidx[i] = (b + i) % 3;
			sj[i].pt = &pt[i * 1024];
			sj[i].len = nextlen;
			nextlen = (nextlen % 1024) + 1;
			sj[i].pnum = (i % 5 == 4) ? rng() :
			    pnums[(b + i) % 4] + (i / 4);
			sj[i].out = &ref[i * 1060];
			sj[i].flags = 0;
		}
		jobs_rekey(sj, b, keys, kidx, 0);
		assert_int_equal(crypto_engine_seal(es.e[0], sj, b), 0);
		for (e = 1; e < es.n; e++) {
			jobs_rekey(sj, b, keys, kidx, e);
			for (i = 0; i < b; i++)
				sj[i].out = &got[i * 1060];
			assert_int_equal(crypto_engine_seal(es.e[e], sj, b), 0);
			assert_memory_equal(got, ref, b * 1060);

			/* Each opens what path 0 sealed. */
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
	 * equal the copying path, at every batch size on every path, and
	 * leave the buffer intact. */
	rngfill(pt, 64 * 1024 + 16);
	memcpy(dec, pt, 64 * 1024 + 16);
	for (i = 0; i < 64; i++) {
		kidx[i] = i % 3;
		sj[i] = (struct crypto_seal_job){ NULL, &pt[i * 1024], 1024,
		    pnums[i % 4] + i, &ref[i * 1060], 0 };
	}
	jobs_rekey(sj, 64, keys, kidx, 0);
	assert_int_equal(crypto_engine_seal(es.e[0], sj, 64), 0);
	for (e = 0; e < es.n; e++) {
		jobs_rekey(sj, 64, keys, kidx, e);
		for (b = 1; b <= 64; b += (b < 8) ? 1 : 7) {
			for (i = 0; i < 64; i++) {
				sj[i].flags = CRYPTO_SEAL_PTSLACK;
				sj[i].out = &got[i * 1060];
			}
			memset(got, 0, 64 * 1060);
			for (i = 0; i < 64; i += b)
				assert_int_equal(crypto_engine_seal(es.e[e],
				    &sj[i], (64 - i < b) ? 64 - i : b), 0);
			assert_memory_equal(got, ref, 64 * 1060);
			assert_memory_equal(pt, dec, 64 * 1024 + 16);
		}
	}

	/* A batch bigger than one internal chunk. */
	{
		size_t n = 3 * CRYPTO_PKT_CHUNK + 5;
		struct crypto_seal_job * big = calloc(n, sizeof(*big));
		uint8_t * bref = malloc(n * 1060), * bgot = malloc(n * 1060);

		assert_non_null(big);
		assert_non_null(bref);
		assert_non_null(bgot);
		for (i = 0; i < n; i++) {
			kidx[i] = i % 3;
			big[i] = (struct crypto_seal_job){ NULL,
			    &pt[(i % 64) * 1024], 1 + (i * 37) % 1024, i,
			    &bref[i * 1060], 0 };
		}
		jobs_rekey(big, n, keys, kidx, 0);
		assert_int_equal(crypto_engine_seal(es.e[0], big, n), 0);
		for (e = 1; e < es.n; e++) {
			jobs_rekey(big, n, keys, kidx, e);
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
		keys_free(&es, keys[i]);
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
	struct crypto_pktkey * ks[MAXENG], * k;
	struct crypto_open_job oj[3];
	struct engines es;
	size_t i, pos, nflip;
	uint64_t pnum = 77;

	(void)state;
	engines_make(&es);
	rngfill(e, 32);
	rngfill(h, 32);
	keys_make(&es, e, h, ks);
	memset(sentinel, 0xa5, sizeof(sentinel));

	/* A good packet, from outside our code. */
	memset(padded, 0, sizeof(padded));
	rngfill(padded, 100);
	padded[1027] = 100;
	rawseal(e, h, pnum, padded, good);

	for (i = 0; i < es.n; i++) {
		k = ks[i];

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
	keys_free(&es, ks);
	engines_free(&es);
}

/* Sealing and opening in place; seal refuses impossible lengths. */
static void
test_inplace(void ** state)
{
	uint8_t buf[1060], ref[1060], m[1024];
	struct crypto_pktkey * ks[MAXENG], * k;
	struct crypto_seal_job sj;
	struct crypto_open_job oj;
	struct engines es;
	size_t i, len;

	(void)state;
	engines_make(&es);
	randkeys(&es, ks);
	for (i = 0; i < es.n; i++) {
		k = ks[i];
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
	keys_free(&es, ks);
	engines_free(&es);
}

/* A key made for one backend only is refused by an engine of another,
 * without touching the packets. */
static void
test_key_layouts(void ** state)
{
	uint8_t e[32] = {1}, h[32] = {2}, m[16] = {3}, pkt[1060], out[1028];
	struct crypto_engine * os, * imb;
	struct crypto_pktkey * kos, * kimb;
	struct crypto_seal_job sj;
	struct crypto_open_job oj;

	(void)state;
	assert_non_null(os = crypto_engine_new_path("openssl"));
	if ((imb = crypto_engine_new_path("ipsecmb")) == NULL) {
		crypto_engine_free(os);
		skip();
	}
	assert_non_null(kos = crypto_pktkey_new_engine(os, e, h));
	assert_non_null(kimb = crypto_pktkey_new_engine(imb, e, h));
	sj = (struct crypto_seal_job){ kos, m, sizeof(m), 9, pkt, 0 };
	assert_int_equal(crypto_engine_seal(os, &sj, 1), 0);
	sj.key = kimb;
	assert_int_equal(crypto_engine_seal(os, &sj, 1), -1);
	assert_int_equal(errno, EINVAL);
	oj = (struct crypto_open_job){ kos, pkt, 9, out, 0 };
	assert_int_equal(crypto_engine_open(imb, &oj, 1), 0);
	assert_int_equal(oj.len, -1);
	oj.key = kimb;
	assert_int_equal(crypto_engine_open(imb, &oj, 1), 1);
	assert_int_equal(oj.len, (int)sizeof(m));
	crypto_pktkey_free(kimb);
	crypto_pktkey_free(kos);
	crypto_engine_free(imb);
	crypto_engine_free(os);
}

/* Plans: each name's paths, ranges in the description. */
static void
test_plan(void ** state)
{
	struct crypto_pkt_plan plan;
	struct crypto_pkt_path path;
	char buf[256], want[256];
	size_t i, k;

	(void)state;
	memset(&plan, 0, sizeof(plan));
	for (k = 0; k <= CRYPTO_PKT_CHUNK; k++) {
		plan.seal[k] = (k < 4) ? 1 : 0;
		plan.open[k] = (k == 1) ? 0 : (k < 16) ? 1 : 2;
	}
	if (crypto_pkt_path_name(2) != NULL) {
		crypto_pkt_plan_describe(&plan, buf, sizeof(buf));
		snprintf(want, sizeof(want),
		    "seal: 1-3 %s, 4+ %s; open: 1 %s, 2-15 %s, 16+ %s",
		    crypto_pkt_path_name(1), crypto_pkt_path_name(0),
		    crypto_pkt_path_name(0), crypto_pkt_path_name(1),
		    crypto_pkt_path_name(2));
		assert_string_equal(buf, want);
	}

	/* One path: that path at every size; unknown names. */
	for (i = 0; crypto_pkt_path_get(i, &path) == 0; i++) {
		if (crypto_pkt_plan_make(crypto_pkt_path_name(i), &plan)) {
			assert_int_equal(errno, ENOTSUP);
			continue;
		}
		assert_int_equal(plan.paths, 1u << i);
		assert_int_equal(plan.layouts, 1u << path.ops->backend);
		for (k = 1; k <= CRYPTO_PKT_CHUNK; k++) {
			assert_int_equal(plan.seal[k], i);
			assert_int_equal(plan.open[k], i);
		}
	}
	assert_int_equal(crypto_pkt_plan_make("nosuch", &plan), -1);
	assert_int_equal(errno, EINVAL);
	assert_null(crypto_engine_new_path("nosuch"));
	assert_int_equal(errno, EINVAL);

	/* The process default (as the program set it, else measured) uses
	 * only paths that run here, and is what the description says. */
	assert_int_equal(crypto_pkt_plan_make(NULL, &plan), 0);
	for (k = 1; k <= CRYPTO_PKT_CHUNK; k++) {
		assert_int_equal(crypto_pkt_path_get(plan.seal[k], &path), 0);
		assert_true(path.ops->available(path.v));
		assert_int_equal(crypto_pkt_path_get(plan.open[k], &path), 0);
		assert_true(path.ops->available(path.v));
	}
	crypto_pkt_plan_describe(&plan, buf, sizeof(buf));
	assert_memory_equal(buf, "seal: 1", 7);
	assert_non_null(strstr(buf, "; open: 1"));
	assert_non_null(strstr(crypto_engine_describe(), buf));
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
	if ((crypto_engine_backend(e) == CRYPTO_BACKEND_IPSECMB))
		assert_non_null(strstr(crypto_engine_name(e), "ipsec-mb/"));
#else
	assert_int_equal(crypto_engine_backend(e), CRYPTO_BACKEND_OPENSSL);
	assert_null(crypto_engine_new(CRYPTO_BACKEND_IPSECMB));
	assert_int_equal(errno, ENOTSUP);
#endif
	print_message("auto engine: %s\n", crypto_engine_name(e));
	print_message("auto choice: %s\n", crypto_engine_describe());
	crypto_engine_free(e);
	crypto_engine_free(NULL);
	crypto_pktkey_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packet_vectors),
		cmocka_unit_test(test_backends_agree),
		cmocka_unit_test(test_open_rejects),
		cmocka_unit_test(test_inplace),
		cmocka_unit_test(test_key_layouts),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_engine_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
