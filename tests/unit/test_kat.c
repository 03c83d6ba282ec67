/*
 * Known-answer tests of the handshake's primitives: HMAC-SHA256 (RFC 4231),
 * PBKDF2-HMAC-SHA256 (published vectors), group 14 Diffie-Hellman (values
 * computed by tests/unit/gen_dh_vectors.py with Python's pow()), and the
 * key-file secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>

#include "crypto_dh.h"
#include "crypto_hmac.h"
#include "crypto_secret.h"

#include "dh_vectors.h"

/* Decode the hex string ${hex} into ${out}; return the byte count. */
static size_t
unhex(const char * hex, uint8_t * out)
{
	size_t n = 0;
	unsigned int v;

	while (hex[0] && hex[1]) {
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return (n);
}

/* Compare ${len} bytes at ${got} with the hex string ${hex}. */
static void
assert_hex(const uint8_t * got, size_t len, const char * hex)
{
	uint8_t want[256];

	assert_int_equal(unhex(hex, want), len);
	assert_memory_equal(got, want, len);
}

/* RFC 4231 section 4: HMAC-SHA-256 test cases 1 to 7. */
static void
test_hmac_rfc4231(void ** state)
{
	static const struct {
		const char * key;	/* hex */
		size_t keyrep;		/* key byte repeated this many times */
		const char * data;
		const char * mac;	/* hex; case 5 is truncated to 128 bits */
	} v[] = {
		{ "0b", 20, "Hi There",
		    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "4a656665", 1, "what do ya want for nothing?",
		    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ "aa", 20, NULL,
		    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
		{ "0102030405060708090a0b0c0d0e0f10111213141516171819", 1, NULL,
		    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
		{ "0c", 20, "Test With Truncation",
		    "a3b6167473100ee06e0c796c2955552b" },
		{ "aa", 131,
		    "Test Using Larger Than Block-Size Key - Hash Key First",
		    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		{ "aa", 131,
		    "This is a test using a larger than block-size key and a "
		    "larger than block-size data. The key needs to be hashed "
		    "before being used by the HMAC algorithm.",
		    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	};
	uint8_t key[256], data[256], mac[32], want[32];
	size_t keylen, datalen, maclen, i, j;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		keylen = unhex(v[i].key, key);
		for (j = 1; j < v[i].keyrep; j++)
			key[j] = key[0];
		if (v[i].keyrep > 1)
			keylen = v[i].keyrep;
		if (v[i].data != NULL) {
			datalen = strlen(v[i].data);
			memcpy(data, v[i].data, datalen);
		} else {
			/* Cases 3 and 4: 50 bytes of 0xdd / 0xcd. */
			datalen = 50;
			memset(data, (i == 2) ? 0xdd : 0xcd, datalen);
		}
		assert_int_equal(crypto_hmac_sha256(key, keylen, data,
		    datalen, mac), 0);
		maclen = unhex(v[i].mac, want);
		assert_memory_equal(mac, want, maclen);

		/* The verifier accepts the full MAC and rejects a flip. */
		assert_int_equal(crypto_hmac_sha256_verify(key, keylen, data,
		    datalen, mac), 0);
		mac[31] ^= 0x01;
		assert_int_equal(crypto_hmac_sha256_verify(key, keylen, data,
		    datalen, mac), -1);
	}
}

/* PBKDF2-HMAC-SHA256: the "password"/"salt" vectors and RFC 7914 s. 11. */
static void
test_pbkdf2_vectors(void ** state)
{
	static const struct {
		const char * pass;
		const char * salt;
		uint64_t iters;
		size_t len;
		const char * dk;
	} v[] = {
		{ "password", "salt", 1, 32,
		    "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b" },
		{ "password", "salt", 2, 32,
		    "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43" },
		{ "password", "salt", 4096, 32,
		    "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a" },
		{ "passwd", "salt", 1, 64,
		    "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
		    "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783" },
		{ "Password", "NaCl", 80000, 64,
		    "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
		    "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d" },
	};
	uint8_t dk[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(crypto_pbkdf2_sha256(
		    (const uint8_t *)v[i].pass, strlen(v[i].pass),
		    (const uint8_t *)v[i].salt, strlen(v[i].salt),
		    v[i].iters, dk, v[i].len), 0);
		assert_hex(dk, v[i].len, v[i].dk);
	}

	/* Zero iterations is refused. */
	assert_int_equal(crypto_pbkdf2_sha256((const uint8_t *)"a", 1,
	    (const uint8_t *)"b", 1, 0, dk, 32), -1);
}

/* Our p equals the script's p and OpenSSL's RFC 3526 prime. */
static void
test_dh_prime(void ** state)
{
	uint8_t ossl[256];
	BIGNUM * p;

	(void)state;
	assert_memory_equal(crypto_dh_prime(), dhv_p, 256);
	assert_non_null(p = BN_get_rfc3526_prime_2048(NULL));
	assert_int_equal(BN_bn2binpad(p, ossl, 256), 256);
	assert_memory_equal(crypto_dh_prime(), ossl, 256);
	BN_free(p);
}

/* y = 2^x mod p against Python's pow(). */
static void
test_dh_generate_vectors(void ** state)
{
	uint8_t y[256];
	size_t i;

	(void)state;
	assert_int_equal(crypto_dh_init(), 0);
	for (i = 0; i < sizeof(dhv_gen) / sizeof(dhv_gen[0]); i++) {
		assert_int_equal(crypto_dh_generate_from(dhv_gen[i].x, y), 0);
		assert_memory_equal(y, dhv_gen[i].y, 256);
	}
}

/* Z = y^x mod p against Python's pow(). */
static void
test_dh_compute_vectors(void ** state)
{
	uint8_t Z[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dhv_shared) / sizeof(dhv_shared[0]); i++) {
		assert_int_equal(crypto_dh_compute(dhv_shared[i].y_peer,
		    dhv_shared[i].x, Z), 0);
		assert_memory_equal(Z, dhv_shared[i].Z, 256);
	}
}

/* Two random key pairs agree on Z; values are < p. */
static void
test_dh_agree(void ** state)
{
	uint8_t xa[32], ya[256], xb[32], yb[256], za[256], zb[256];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(crypto_dh_generate(xa, ya), 0);
		assert_int_equal(crypto_dh_generate(xb, yb), 0);
		assert_memory_not_equal(xa, xb, 32);
		assert_int_equal(crypto_dh_sanitycheck(ya), 0);
		assert_int_equal(crypto_dh_sanitycheck(yb), 0);
		assert_int_equal(crypto_dh_compute(yb, xa, za), 0);
		assert_int_equal(crypto_dh_compute(ya, xb, zb), 0);
		assert_memory_equal(za, zb, 256);
	}
}

/* sanitycheck: p - 1 and 0 pass; p, above p, and all-ones fail. */
static void
test_dh_sanitycheck(void ** state)
{
	uint8_t y[256];

	(void)state;
	memcpy(y, dhv_p, 256);
	assert_int_equal(crypto_dh_sanitycheck(y), -1);
	y[255] -= 1;
	assert_int_equal(crypto_dh_sanitycheck(y), 0);
	y[255] += 1;
	y[8] += 1;		/* 0xc9 -> 0xca: just above p. */
	assert_int_equal(crypto_dh_sanitycheck(y), -1);
	memset(y, 0xff, 256);
	assert_int_equal(crypto_dh_sanitycheck(y), -1);
	memset(y, 0, 256);
	assert_int_equal(crypto_dh_sanitycheck(y), 0);

	/* crypto_dh_compute refuses a y >= p too. */
	memset(y, 0xff, 256);
	assert_int_equal(crypto_dh_compute(y, dhv_gen[0].x, y), -1);
}

/* Write ${len} bytes of ${c} (or ${s} if non-NULL) to a new temp file. */
static void
mkkeyfile(char * path, const char * s, size_t len, int c)
{
	FILE * f;
	int fd;
	size_t i;

	strcpy(path, "/tmp/rp-kat-key.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "wb"));
	if (s != NULL)
		assert_int_equal(fwrite(s, 1, len, f), len);
	else
		for (i = 0; i < len; i++)
			assert_int_equal(fputc(c, f), c);
	assert_int_equal(fclose(f), 0);
}

/* K = SHA-256(file): "abc", empty, one million 'a's (many reads). */
static void
test_secret_file(void ** state)
{
	char path[64];
	uint8_t K[32];

	(void)state;
	mkkeyfile(path, "abc", 3, 0);
	assert_int_equal(crypto_secret_load(path, K), 0);
	assert_hex(K, 32,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	unlink(path);

	mkkeyfile(path, "", 0, 0);
	assert_int_equal(crypto_secret_load(path, K), 0);
	assert_hex(K, 32,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	unlink(path);

	mkkeyfile(path, NULL, 1000000, 'a');
	assert_int_equal(crypto_secret_load(path, K), 0);
	assert_hex(K, 32,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	unlink(path);
}

/* "-" reads standard input to EOF. */
static void
test_secret_stdin(void ** state)
{
	char path[64];
	uint8_t K[32];

	(void)state;
	mkkeyfile(path, "abc", 3, 0);
	assert_non_null(freopen(path, "rb", stdin));
	assert_int_equal(crypto_secret_load("-", K), 0);
	assert_hex(K, 32,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	unlink(path);
}

/* A missing file fails with a message on stderr naming it. */
static void
test_secret_missing(void ** state)
{
	const char * missing = "/nonexistent/rp-no-such-key";
	char errpath[64];
	char msg[512];
	uint8_t K[32];
	FILE * f;
	int fd, saved;
	size_t n;

	(void)state;
	strcpy(errpath, "/tmp/rp-kat-err.XXXXXX");
	assert_true((fd = mkstemp(errpath)) >= 0);
	fflush(stderr);
	assert_true((saved = dup(2)) >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	memset(K, 0xaa, 32);
	assert_int_equal(crypto_secret_load(missing, K), -1);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(fd);

	assert_non_null(f = fopen(errpath, "r"));
	n = fread(msg, 1, sizeof(msg) - 1, f);
	msg[n] = '\0';
	fclose(f);
	unlink(errpath);
	assert_non_null(strstr(msg, missing));

	/* A directory cannot be read either. */
	assert_int_equal(crypto_secret_load("/", K), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_pbkdf2_vectors),
		cmocka_unit_test(test_dh_prime),
		cmocka_unit_test(test_dh_generate_vectors),
		cmocka_unit_test(test_dh_compute_vectors),
		cmocka_unit_test(test_dh_agree),
		cmocka_unit_test(test_dh_sanitycheck),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_secret_stdin),
		cmocka_unit_test(test_secret_missing),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
