#ifndef CRYPTO_PKT_H_
#define CRYPTO_PKT_H_

/*
 * Batch sealing and opening of spiped data packets.
 *
 * A packet carries 1..1024 plaintext bytes.  The plaintext is zero-padded to
 * 1024 bytes, followed by be32(length) (1028 bytes in all), encrypted with
 * AES-256-CTR under the counter block be64(pnum) || be64(block index), and
 * followed by HMAC-SHA256(H, ciphertext || be64(pnum)): 1060 bytes on the
 * wire.  Every packet of a batch may use its own key, so one batch can span
 * many connections.  No I/O is done here.
 */

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_PKT_PTMAX 1024	/* Most plaintext bytes in one packet. */
#define CRYPTO_PKT_PADLEN 1028	/* Padded plaintext: data, zeros, be32 len. */
#define CRYPTO_PKT_MACLEN 32
#define CRYPTO_PKT_LEN 1060	/* Bytes on the wire per packet. */
#define CRYPTO_PKT_KEYLEN 32

/* Opaque expanded key set (AES key schedule, HMAC pad states) of one
 * direction, in the layout of each backend it was made for.  Immutable once
 * made; may be used by any thread. */
struct crypto_pktkey;

/* One packet to seal.  ${pt} may equal ${out} (sealing in place); otherwise
 * the two must not overlap.  ${out} has room for CRYPTO_PKT_LEN bytes.
 * ${flags} may hold CRYPTO_SEAL_PTSLACK: the 4 bytes after ${pt}[len - 1]
 * are readable (their values do not matter and are not changed), which lets
 * a full packet be encrypted straight from ${pt} without copying it first.
 * Initializers that leave ${flags} out get 0: no such promise. */
struct crypto_seal_job {
	const struct crypto_pktkey * key;
	const uint8_t * pt;
	size_t len;		/* 1..CRYPTO_PKT_PTMAX */
	uint64_t pnum;
	uint8_t * out;
	unsigned flags;		/* CRYPTO_SEAL_* */
};
#define CRYPTO_SEAL_PTSLACK	1

/* One packet to open.  ${in} holds CRYPTO_PKT_LEN bytes and must be
 * writable: its MAC bytes serve as scratch during the call (so the MAC input
 * ciphertext || be64(pnum) needs no copy) and are restored before return;
 * so the jobs of one batch must not share an ${in}.
 * ${out} has room for CRYPTO_PKT_PADLEN bytes and may equal ${in} (opening in
 * place).  On return ${len} is the plaintext length (1..1024, plaintext at
 * ${out}) or -1 if the MAC did not verify or the encoded length was 0 or over
 * 1024; ${out} is not written unless the MAC verified. */
struct crypto_open_job {
	const struct crypto_pktkey * key;
	uint8_t * in;
	uint64_t pnum;
	uint8_t * out;
	int len;
};

enum crypto_backend {
	CRYPTO_BACKEND_AUTO = 0,	/* The process default (set by the
					   program), else measured. */
	CRYPTO_BACKEND_IPSECMB,
	CRYPTO_BACKEND_OPENSSL
};

/*
 * Per-thread crypto state: the state of each crypto path it runs (ipsec-mb
 * managers, OpenSSL contexts) and which path runs a chunk of each size.
 * A path is one way of running seal and open: "openssl", and with ipsec-mb
 * "hybrid" (avx512 CTR + sse SHA-NI HMAC), "avx512", "avx2", "sse".  Every
 * path makes the same packets.  The process default, which AUTO engines
 * use, is what the program set (crypto_pkt_set_default: ringpiped takes
 * RINGPIPED_CRYPTO), else "auto": every path is timed once per process (a
 * few ms) and each batch size gets the fastest.
 */
struct crypto_engine;

/**
 * crypto_pktkey_new(enc, mac):
 * Expand the AES-256 key ${enc} and the HMAC-SHA256 key ${mac} (32 bytes
 * each) for the backends that CRYPTO_BACKEND_AUTO engines use (the process
 * default).  Return NULL on failure.
 */
struct crypto_pktkey * crypto_pktkey_new(const uint8_t enc[32],
    const uint8_t mac[32]);

/**
 * crypto_pktkey_new_engine(eng, enc, mac):
 * As crypto_pktkey_new(), but for the backends ${eng} uses.  An engine
 * made with another name than the process default needs such keys.
 */
struct crypto_pktkey * crypto_pktkey_new_engine(
    const struct crypto_engine * eng, const uint8_t enc[32],
    const uint8_t mac[32]);

/**
 * crypto_pktkey_free(key):
 * Wipe and free ${key}.  NULL is a no-op.
 */
void crypto_pktkey_free(struct crypto_pktkey * key);

/**
 * crypto_pkt_set_default(name):
 * Make ${name} (as for crypto_engine_new_path(); NULL or "": "auto") the
 * process default that AUTO engines and keys use.  Must be called, if at
 * all, before the first of them is made; the program reads it from its
 * environment (RINGPIPED_CRYPTO), no library does.
 */
void crypto_pkt_set_default(const char * name);

/**
 * crypto_engine_new(backend):
 * Create an engine for the calling thread using ${backend}; AUTO follows
 * the process default (crypto_pkt_set_default), else the measured choice.  Return NULL (with
 * errno set) if ${backend} is unavailable.
 */
struct crypto_engine * crypto_engine_new(enum crypto_backend backend);

/**
 * crypto_engine_new_path(name):
 * Create an engine for the calling thread using ${name}: "auto" (every
 * path, the measured choice), a backend ("openssl", "ipsecmb": the
 * measured choice among its paths) or one path (crypto_pkt_path_name()).
 * Return NULL (errno: EINVAL if ${name} is none of these, ENOTSUP if it
 * cannot run here).
 */
struct crypto_engine * crypto_engine_new_path(const char * name);

/**
 * crypto_pkt_path_name(i):
 * Return the name of crypto path ${i} (numbered from 0 across the backends
 * built in, e.g. "openssl", "hybrid"), or NULL if there are not that many.
 */
const char * crypto_pkt_path_name(size_t i);

/**
 * crypto_engine_describe(void):
 * Return one line saying which crypto path engines made with
 * CRYPTO_BACKEND_AUTO use at each batch size and why, e.g.
 * "seal: 1-3 hybrid, 4+ avx512; open: 1-15 hybrid, 16+ avx512", prefixed
 * by "RINGPIPED_CRYPTO=...: " when a default was set.  The first call (of this
 * or of anything that makes an AUTO engine or key) measures.
 */
const char * crypto_engine_describe(void);

/**
 * crypto_engine_backend(eng):
 * Return the backend ${eng} actually uses (never AUTO); if it runs more
 * than one, the one that seals full chunks.
 */
enum crypto_backend crypto_engine_backend(const struct crypto_engine * eng);

/**
 * crypto_engine_name(eng):
 * Return a short human-readable name of ${eng}'s backend and its SIMD
 * architecture (e.g. "ipsec-mb/avx512+sse", "openssl"); for an engine that
 * runs several paths, their names separated by ", ".
 */
const char * crypto_engine_name(const struct crypto_engine * eng);

/**
 * crypto_engine_free(eng):
 * Free ${eng}.  NULL is a no-op.
 */
void crypto_engine_free(struct crypto_engine * eng);

/**
 * crypto_engine_seal(eng, jobs, n):
 * Seal the ${n} packets described by ${jobs} as one batch.
 * Return 0 on success, -1 on an internal failure (no job is then usable).
 */
int crypto_engine_seal(struct crypto_engine * eng,
    struct crypto_seal_job * jobs, size_t n);

/**
 * crypto_engine_open(eng, jobs, n):
 * Verify (in constant time) and then decrypt the ${n} packets of ${jobs} as
 * one batch, setting each job's ${len}.  Return the number of packets that
 * opened successfully.
 */
size_t crypto_engine_open(struct crypto_engine * eng,
    struct crypto_open_job * jobs, size_t n);

#endif /* !CRYPTO_PKT_H_ */
