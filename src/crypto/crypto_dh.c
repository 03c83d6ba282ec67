#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "crypto_dh.h"
#include "rp_clock.h"
#include "crypto_dh_fixed.h"
#include "crypto_dh_ifma.h"
#include "crypto_wipe.h"

/*
 * Group 14 of RFC 3526: p = 2^2048 - 2^1984 - 1 + 2^64 * (floor(2^1918 pi)
 * + 124476), big-endian.  The generator is 2.
 */
static const uint8_t group14_p[CRYPTO_DH_PUBLEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xc9, 0x0f, 0xda, 0xa2, 0x21, 0x68, 0xc2, 0x34,
	0xc4, 0xc6, 0x62, 0x8b, 0x80, 0xdc, 0x1c, 0xd1,
	0x29, 0x02, 0x4e, 0x08, 0x8a, 0x67, 0xcc, 0x74,
	0x02, 0x0b, 0xbe, 0xa6, 0x3b, 0x13, 0x9b, 0x22,
	0x51, 0x4a, 0x08, 0x79, 0x8e, 0x34, 0x04, 0xdd,
	0xef, 0x95, 0x19, 0xb3, 0xcd, 0x3a, 0x43, 0x1b,
	0x30, 0x2b, 0x0a, 0x6d, 0xf2, 0x5f, 0x14, 0x37,
	0x4f, 0xe1, 0x35, 0x6d, 0x6d, 0x51, 0xc2, 0x45,
	0xe4, 0x85, 0xb5, 0x76, 0x62, 0x5e, 0x7e, 0xc6,
	0xf4, 0x4c, 0x42, 0xe9, 0xa6, 0x37, 0xed, 0x6b,
	0x0b, 0xff, 0x5c, 0xb6, 0xf4, 0x06, 0xb7, 0xed,
	0xee, 0x38, 0x6b, 0xfb, 0x5a, 0x89, 0x9f, 0xa5,
	0xae, 0x9f, 0x24, 0x11, 0x7c, 0x4b, 0x1f, 0xe6,
	0x49, 0x28, 0x66, 0x51, 0xec, 0xe4, 0x5b, 0x3d,
	0xc2, 0x00, 0x7c, 0xb8, 0xa1, 0x63, 0xbf, 0x05,
	0x98, 0xda, 0x48, 0x36, 0x1c, 0x55, 0xd3, 0x9a,
	0x69, 0x16, 0x3f, 0xa8, 0xfd, 0x24, 0xcf, 0x5f,
	0x83, 0x65, 0x5d, 0x23, 0xdc, 0xa3, 0xad, 0x96,
	0x1c, 0x62, 0xf3, 0x56, 0x20, 0x85, 0x52, 0xbb,
	0x9e, 0xd5, 0x29, 0x07, 0x70, 0x96, 0x96, 0x6d,
	0x67, 0x0c, 0x35, 0x4e, 0x4a, 0xbc, 0x98, 0x04,
	0xf1, 0x74, 0x6c, 0x08, 0xca, 0x18, 0x21, 0x7c,
	0x32, 0x90, 0x5e, 0x46, 0x2e, 0x36, 0xce, 0x3b,
	0xe3, 0x9e, 0x77, 0x2c, 0x18, 0x0e, 0x86, 0x03,
	0x9b, 0x27, 0x83, 0xa2, 0xec, 0x07, 0xa2, 0x8f,
	0xb5, 0xc5, 0x5d, 0xf0, 0x6f, 0x4c, 0x52, 0xc9,
	0xde, 0x2b, 0xcb, 0xf6, 0x95, 0x58, 0x17, 0x18,
	0x39, 0x95, 0x49, 0x7c, 0xea, 0x95, 0x6a, 0xe5,
	0x15, 0xd2, 0x26, 0x18, 0x98, 0xfa, 0x05, 0x10,
	0x15, 0x72, 0x8e, 0x5a, 0x8a, 0xac, 0xaa, 0x68,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/*
 * Process-wide group state, made once by dh_init_once() and read-only
 * afterwards, so that any number of threads may share it.
 */
static pthread_once_t dh_once = PTHREAD_ONCE_INIT;
static int dh_ok;
static BIGNUM * dh_p;		/* The modulus, BN_FLG_CONSTTIME. */
static BIGNUM * dh_g;		/* The generator 2. */
static BN_MONT_CTX * dh_mont;	/* Montgomery context for dh_p. */
static const char * dh_pathname = "openssl";	/* See crypto_dh_path(). */

static int modexp(uint8_t[CRYPTO_DH_PUBLEN], const BIGNUM *,
    const uint8_t[CRYPTO_DH_PRIVLEN]);

#if defined(__x86_64__)
/**
 * usec_now():
 * Return a monotonic clock reading in microseconds.
 */
static double
usec_now(void)
{

	return ((double)rp_clock_ns() / 1e3);
}

#define PICK_TRIALS 3	/* Runs of each path: the minimum sheds most noise. */

/**
 * ifma_wins():
 * Time Z = y^x with OpenSSL and with IFMA, PICK_TRIALS times each,
 * alternating, on a fixed y and x; return nonzero if the quickest IFMA run
 * beat the quickest OpenSSL run and both gave the same Z.  Return 0 if the
 * OpenSSL path fails.
 */
static int
ifma_wins(void)
{
	uint8_t y[CRYPTO_DH_PUBLEN], x[CRYPTO_DH_PRIVLEN];
	uint8_t z_ossl[CRYPTO_DH_PUBLEN], z_ifma[CRYPTO_DH_PUBLEN];
	double t0, t, t_ossl = 1e300, t_ifma = 1e300;
	BIGNUM * a;
	size_t i;
	int n, rc = 0;

	/* Any residue will do: y has a zero top bit, so y < p. */
	for (i = 0; i < CRYPTO_DH_PUBLEN; i++)
		y[i] = (uint8_t)(0x5a ^ (i * 29));
	y[0] &= 0x7f;
	for (i = 0; i < CRYPTO_DH_PRIVLEN; i++)
		x[i] = (uint8_t)(0xa5 ^ (i * 43));
	if ((a = BN_bin2bn(y, CRYPTO_DH_PUBLEN, NULL)) == NULL)
		goto err0;

	for (n = 0; n < PICK_TRIALS; n++) {
		t0 = usec_now();
		if (modexp(z_ossl, a, x))
			goto err1;
		if ((t = usec_now() - t0) < t_ossl)
			t_ossl = t;
		t0 = usec_now();
		crypto_dh_ifma_modexp(z_ifma, y, x);
		if ((t = usec_now() - t0) < t_ifma)
			t_ifma = t;
	}
	rc = (t_ifma < t_ossl) && !memcmp(z_ossl, z_ifma, CRYPTO_DH_PUBLEN);

err1:
	BN_free(a);
err0:
	/* Done, one way or the other. */
	return (rc);
}
#endif

/* What the program asked for (crypto_dh_set_path): "openssl", "ifma",
 * or NULL for the measured choice. */
static const char * dh_wanted;

/**
 * crypto_dh_set_path(name):
 * Ask for the arithmetic ${name} ("openssl", "ifma"; NULL or anything
 * else: the measured choice) before crypto_dh_init; the program reads it
 * from its environment (RINGPIPED_DH), no library does.
 */
void
crypto_dh_set_path(const char * name)
{

	dh_wanted = name;
}

/**
 * dh_pick_path():
 * Choose the modular arithmetic for the process: OpenSSL, or AVX-512 IFMA
 * if the CPU has it and it is faster here (measured, since which one wins
 * depends on the microarchitecture, not the vendor), unless RINGPIPED_DH
 * asked for "openssl" or "ifma" (crypto_dh_set_path).  Runs once, from
 * dh_init_once().
 */
static void
dh_pick_path(void)
{
#if defined(__x86_64__)
	const char * env = dh_wanted;
	int on;

	if (env != NULL && strcmp(env, "openssl") == 0)
		return;
	if (!crypto_dh_ifma_supported() || crypto_dh_ifma_init(group14_p))
		return;
	if (env != NULL && strcmp(env, "ifma") == 0)
		on = 1;
	else
		on = ifma_wins();
	crypto_dh_ifma_set_active(on);
	if (on)
		dh_pathname = "ifma";
#endif
}

/* Build the group state; leave dh_ok at 0 on failure. */
static void
dh_init_once(void)
{
	BN_CTX * ctx;

	if ((ctx = BN_CTX_new()) == NULL)
		goto err0;
	if ((dh_p = BN_bin2bn(group14_p, CRYPTO_DH_PUBLEN, NULL)) == NULL)
		goto err1;
	BN_set_flags(dh_p, BN_FLG_CONSTTIME);
	if ((dh_g = BN_new()) == NULL)
		goto err2;
	if (!BN_set_word(dh_g, 2))
		goto err3;
	if ((dh_mont = BN_MONT_CTX_new()) == NULL)
		goto err3;
	if (!BN_MONT_CTX_set(dh_mont, dh_p, ctx))
		goto err4;
	if (crypto_dh_fixed_init(dh_p, dh_mont))
		goto err4;
	dh_pick_path();

	/* Success! */
	BN_CTX_free(ctx);
	dh_ok = 1;
	return;

err4:
	BN_MONT_CTX_free(dh_mont);
	dh_mont = NULL;
err3:
	BN_free(dh_g);
	dh_g = NULL;
err2:
	BN_free(dh_p);
	dh_p = NULL;
err1:
	BN_CTX_free(ctx);
err0:
	/* Failure! */
	return;
}

/**
 * crypto_dh_init():
 * Prepare the process-wide group state (Montgomery context, fixed-base
 * tables).  Idempotent and thread-safe; other crypto_dh_* calls do it
 * implicitly.  Return 0 on success, -1 on failure.
 */
int
crypto_dh_init(void)
{

	if (pthread_once(&dh_once, dh_init_once))
		return (-1);
	return (dh_ok ? 0 : -1);
}

/**
 * crypto_dh_path():
 * Return the name of the arithmetic crypto_dh_compute() and the key
 * generation use in this process: "ifma" or "openssl".
 */
const char *
crypto_dh_path(void)
{

	(void)crypto_dh_init();
	return (dh_pathname);
}

/**
 * modexp(r, base, x):
 * Set ${r} = ${base}^${x} mod p as CRYPTO_DH_PUBLEN big-endian bytes with
 * OpenSSL, in time independent of ${x}.  ${base} must be less than p, and
 * the group state built (dh_init_once() calls this, so it cannot call
 * crypto_dh_init()).
 */
static int
modexp(uint8_t r[CRYPTO_DH_PUBLEN], const BIGNUM * base,
    const uint8_t x[CRYPTO_DH_PRIVLEN])
{
	BN_CTX * ctx;
	BIGNUM * e;
	BIGNUM * rr;
	int rc = -1;

	/* Per-call scratch: the shared state is only read. */
	if ((ctx = BN_CTX_secure_new()) == NULL)
		goto err0;
	if ((e = BN_secure_new()) == NULL)
		goto err1;
	BN_set_flags(e, BN_FLG_CONSTTIME);
	if (BN_bin2bn(x, CRYPTO_DH_PRIVLEN, e) == NULL)
		goto err2;
	if ((rr = BN_secure_new()) == NULL)
		goto err2;

	/* r = base^x mod p with the fixed-window constant-time ladder. */
	if (!BN_mod_exp_mont_consttime(rr, base, e, dh_p, ctx, dh_mont))
		goto err3;
	if (BN_bn2binpad(rr, r, CRYPTO_DH_PUBLEN) != CRYPTO_DH_PUBLEN)
		goto err3;

	/* Success! */
	rc = 0;

err3:
	BN_clear_free(rr);
err2:
	BN_clear_free(e);
err1:
	BN_CTX_free(ctx);
err0:
	/* Done, one way or the other. */
	return (rc);
}

/**
 * crypto_dh_generate_from(x, y):
 * Set ${y} = 2^${x} mod p, in constant time, for a caller-chosen private
 * ${x} (tests, pre-generation).  Return 0 on success, -1 on failure.
 */
int
crypto_dh_generate_from(const uint8_t x[CRYPTO_DH_PRIVLEN],
    uint8_t y[CRYPTO_DH_PUBLEN])
{

	if (crypto_dh_init())
		return (-1);
	return (crypto_dh_fixed_pow2(y, x));
}

/**
 * crypto_dh_generate(x, y):
 * Pick a fresh private ${x} from the OS CSPRNG and set ${y} = 2^x mod p, in
 * constant time.  Return 0 on success, -1 on failure.
 */
int
crypto_dh_generate(uint8_t x[CRYPTO_DH_PRIVLEN],
    uint8_t y[CRYPTO_DH_PUBLEN])
{

	/* Pick x. */
	if (RAND_priv_bytes(x, CRYPTO_DH_PRIVLEN) != 1)
		goto err0;

	/* Compute y. */
	if (crypto_dh_generate_from(x, y))
		goto err1;

	/* Success! */
	return (0);

err1:
	crypto_wipe(x, CRYPTO_DH_PRIVLEN);
err0:
	/* Failure! */
	return (-1);
}

/**
 * crypto_dh_compute(y_peer, x, Z):
 * Set ${Z} = ${y_peer}^x mod p, in constant time.  Return 0 on success, -1
 * on failure.
 */
int
crypto_dh_compute(const uint8_t y_peer[CRYPTO_DH_PUBLEN],
    const uint8_t x[CRYPTO_DH_PRIVLEN], uint8_t Z[CRYPTO_DH_PUBLEN])
{
	BIGNUM * a;
	int rc = -1;

	/* The peer's value must be a residue. */
	if (crypto_dh_sanitycheck(y_peer))
		goto err0;
	if (crypto_dh_init())
		goto err0;
#if defined(__x86_64__)
	if (crypto_dh_ifma_active()) {
		crypto_dh_ifma_modexp(Z, y_peer, x);
		return (0);
	}
#endif
	if ((a = BN_bin2bn(y_peer, CRYPTO_DH_PUBLEN, NULL)) == NULL)
		goto err0;

	/* Z = y_peer^x mod p. */
	if (modexp(Z, a, x))
		goto err1;

	/* Success! */
	rc = 0;

err1:
	BN_free(a);
err0:
	/* Done, one way or the other. */
	return (rc);
}

/**
 * crypto_dh_sanitycheck(y):
 * Return 0 if ${y} < p, -1 otherwise.
 */
int
crypto_dh_sanitycheck(const uint8_t y[CRYPTO_DH_PUBLEN])
{

	/* Both are big-endian and the same length: compare bytes. */
	if (memcmp(y, group14_p, CRYPTO_DH_PUBLEN) >= 0)
		return (-1);
	return (0);
}

/**
 * crypto_dh_prime():
 * Return the CRYPTO_DH_PUBLEN big-endian bytes of the group 14 modulus p.
 */
const uint8_t *
crypto_dh_prime(void)
{

	return (group14_p);
}
