#ifndef CRYPTO_PKT_INTERNAL_H_
#define CRYPTO_PKT_INTERNAL_H_

/*
 * Internals of packet crypto, shared by the dispatcher (crypto_pkt.c), the
 * backends, the measured choice of path, tests and benchmarks.
 *
 * A backend (OpenSSL, ipsec-mb) is a const struct crypto_pkt_ops.  It runs
 * one or more variants: ways of running seal/open (ipsec-mb: which
 * managers run AES-256-CTR and which run HMAC-SHA256).  A path is one
 * variant of one backend; paths are numbered across the backends built in,
 * OpenSSL's first.  Backends see only this header, crypto_pkt_layout.h and
 * crypto_wipe.h: they never call the dispatcher or each other.
 */

#include <stddef.h>
#include <stdint.h>

#include "crypto_pkt.h"

/* Most packets one backend call handles at once; bigger batches are cut. */
#define CRYPTO_PKT_CHUNK 64

/* Slots of per-backend arrays, indexed by enum crypto_backend. */
#define CRYPTO_PKT_NBACKENDS 3

/* Most paths of all backends together (path masks are unsigned). */
#define CRYPTO_PKT_NPATHS 8

/*
 * Key set of one direction: one expanded key per backend that will use it.
 * Written once by crypto_pktkey_new_layouts(), only read afterwards.
 */
struct crypto_pktkey {
	/* Backend ${b}'s expansion (its own layout), or NULL. */
	void * lay[CRYPTO_PKT_NBACKENDS];

	/* Bit (1 << b) set for each non-NULL lay[b]. */
	unsigned layouts;

	/* Unique per key set made by this process (never reused, never 0),
	 * so engines can cache per-key state safely. */
	uint64_t id;
};

/* One variant of a backend. */
struct crypto_pkt_variant {
	const char * path;	/* Path name: "openssl", "hybrid", ... */
	const char * label;	/* Backend and SIMD: "ipsec-mb/avx512+sse". */
};

/* A backend.  Engine state is per thread; keys may be shared. */
struct crypto_pkt_ops {
	enum crypto_backend backend;	/* Its slot in key->lay[]. */
	const struct crypto_pkt_variant * variants;
	size_t nvariants;

	/* Non-zero if variant ${v} can run on this CPU. */
	int (*available)(size_t v);

	/* State running the variants in the bit mask ${vmask}, or NULL. */
	void * (*engine_new)(unsigned vmask);
	void (*engine_free)(void * st);

	/* Seal / open ${n} <= CRYPTO_PKT_CHUNK packets with variant ${v}
	 * (one of engine_new's); every key has this backend's layout.
	 * Contracts as crypto_engine_seal() / crypto_engine_open(). */
	int (*seal)(void * st, size_t v, struct crypto_seal_job * jobs,
	    size_t n);
	size_t (*open)(void * st, size_t v, struct crypto_open_job * jobs,
	    size_t n);

	/* This backend's expansion of (${enc}, ${mac}), or NULL. */
	void * (*key_expand)(const uint8_t enc[32], const uint8_t mac[32]);

	/* Wipe and free an expansion; NULL is a no-op. */
	void (*key_free)(void * k);
};

extern const struct crypto_pkt_ops crypto_pkt_openssl;
#ifdef RP_HAVE_IPSECMB
extern const struct crypto_pkt_ops crypto_pkt_ipsecmb;
#endif

/**
 * crypto_pkt_backend(b):
 * Return the backend with enum value ${b}, or NULL if it is not built in.
 */
const struct crypto_pkt_ops * crypto_pkt_backend(enum crypto_backend b);

/* Path ${i}: variant ${v} of ${ops}. */
struct crypto_pkt_path {
	const struct crypto_pkt_ops * ops;
	size_t v;
};

/**
 * crypto_pkt_path_get(i, path):
 * Fill ${path} with path number ${i}.  Return 0, or -1 if there are not
 * that many paths.
 */
int crypto_pkt_path_get(size_t i, struct crypto_pkt_path * path);

/**
 * crypto_pkt_path_mask(name):
 * Return the mask of the paths ${name} stands for: "auto" every path, a
 * backend ("openssl", "ipsecmb") its paths, a path name that path.  Return
 * 0 if ${name} is none of these.
 */
unsigned crypto_pkt_path_mask(const char * name);

/**
 * crypto_pktkey_new_layouts(enc, mac, layouts):
 * Make a key set of (${enc}, ${mac}) expanded for each backend ${b} with
 * bit (1 << b) in ${layouts}.  Return NULL on failure.
 */
struct crypto_pktkey * crypto_pktkey_new_layouts(const uint8_t enc[32],
    const uint8_t mac[32], unsigned layouts);

/* Batch sizes the probe times; a chunk between two is interpolated. */
#define CRYPTO_PKT_PROBE_NSIZES 6
extern const size_t crypto_pkt_probe_sizes[CRYPTO_PKT_PROBE_NSIZES];

/* What the probe measured. */
struct crypto_pkt_probe {
	/* Paths that sealed the same packets as path 0 and opened them. */
	unsigned ok;

	/* Fastest time of one batch of each probe size, ns, for ok paths. */
	double seal_ns[CRYPTO_PKT_NPATHS][CRYPTO_PKT_PROBE_NSIZES];
	double open_ns[CRYPTO_PKT_NPATHS][CRYPTO_PKT_PROBE_NSIZES];
};

/**
 * crypto_pkt_probe_run(res, paths):
 * Check and time each available path in the mask ${paths} on full packets
 * at every probe size, into ${res}.  Return 0, or -1 if nothing could be
 * set up.
 */
int crypto_pkt_probe_run(struct crypto_pkt_probe * res, unsigned paths);

/* Which path runs each chunk size. */
struct crypto_pkt_plan {
	uint8_t seal[CRYPTO_PKT_CHUNK + 1];	/* [k]: path for k packets. */
	uint8_t open[CRYPTO_PKT_CHUNK + 1];
	unsigned paths;				/* Mask of the paths used. */
	unsigned layouts;			/* Their backends' key layouts. */
};

/**
 * crypto_pkt_plan_make(name, plan):
 * Fill ${plan} for ${name} (as crypto_pkt_path_mask()): the fastest of its
 * paths at each chunk size, measured once per process if there is a
 * choice.  NULL ${name}: "auto".  Return 0, or -1 (errno: EINVAL unknown name, ENOTSUP none of
 * its paths available).
 */
int crypto_pkt_plan_make(const char * name, struct crypto_pkt_plan * plan);

/**
 * crypto_pkt_plan_describe(plan, buf, len):
 * Write "seal: 1-3 hybrid, 4+ avx512; open: ..." for ${plan} into the
 * ${len} bytes at ${buf}.
 */
void crypto_pkt_plan_describe(const struct crypto_pkt_plan * plan,
    char * buf, size_t len);

#endif /* !CRYPTO_PKT_INTERNAL_H_ */
