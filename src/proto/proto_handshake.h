#ifndef PROTO_HANDSHAKE_H_
#define PROTO_HANDSHAKE_H_

/*
 * The spiped handshake as a state machine that does no I/O.
 *
 * The caller asks proto_hs_want() what the machine needs next and then:
 * - PROTO_HS_WANT_WRITE: sends the bytes of proto_hs_output() and reports
 *   how many went out with proto_hs_output_done();
 * - PROTO_HS_WANT_READ: reads at most proto_hs_read_hint() bytes (never more,
 *   so that no data packet is swallowed) and hands them to proto_hs_input();
 * - PROTO_HS_WANT_COMPUTE: calls proto_hs_compute(), the expensive step
 *   (Diffie-Hellman), from any thread, while no other call is made on the
 *   same machine;
 * until PROTO_HS_DONE (keys ready via proto_hs_keys(), once any pending
 * output has been sent) or PROTO_HS_FAILED (proto_hs_error() says why; the
 * connection must be dropped without sending anything more).
 * Several WANT bits may be set at once (e.g. a client sends its nonce while
 * its ephemeral key is computed and the server's nonce is awaited).
 */

#include <stddef.h>
#include <stdint.h>

enum proto_role {
	PROTO_CLIENT = 0,	/* -e side / ringpipe: speaks first with y_C. */
	PROTO_SERVER = 1	/* -d side. */
};

#define PROTO_HS_WANT_READ	1
#define PROTO_HS_WANT_WRITE	2
#define PROTO_HS_WANT_COMPUTE	4
#define PROTO_HS_DONE		8
#define PROTO_HS_FAILED		16

/* The keys of an established connection. */
struct proto_keys {
	uint8_t send_enc[32];	/* AES-256 key for packets we send. */
	uint8_t send_mac[32];	/* HMAC key for packets we send. */
	uint8_t recv_enc[32];
	uint8_t recv_mac[32];
};

struct proto_hs;

/**
 * proto_hs_new(role, K, nopfs, requirepfs):
 * Create a handshake for ${role} with the shared secret ${K}; ${nopfs} is
 * spiped's -f (send y = 1, no exponentiation), ${requirepfs} its -g (reject
 * a peer whose y is 1).  In every mode the peer's y must carry a good MAC and
 * be less than p, and must be neither 0 nor p - 1.  Return NULL on failure.
 */
struct proto_hs * proto_hs_new(enum proto_role role, const uint8_t K[32],
    int nopfs, int requirepfs);

/* The most shared secrets a server tries on a client (key rotation). */
#define PROTO_HS_MAXKEYS	8

/**
 * proto_hs_new_keys(role, Ks, nkeys, nopfs, requirepfs):
 * As proto_hs_new, with the ${nkeys} (1 to PROTO_HS_MAXKEYS) shared secrets
 * ${Ks}.  A server accepts a client that uses any of them: it tries each
 * on the MAC of the client's y (one PBKDF2 and one HMAC per key, every key
 * whichever matches) and answers with the first that matched.  A client
 * uses ${Ks}[0] only.  Return NULL on failure.
 */
struct proto_hs * proto_hs_new_keys(enum proto_role role,
    const uint8_t (* Ks)[32], size_t nkeys, int nopfs, int requirepfs);

/**
 * proto_hs_want(hs):
 * Return the PROTO_HS_* bits saying what ${hs} needs next.
 */
int proto_hs_want(const struct proto_hs * hs);

/**
 * proto_hs_read_hint(hs):
 * Return how many more bytes ${hs} can take before it must stop reading
 * (0 if it is not reading now).
 */
size_t proto_hs_read_hint(const struct proto_hs * hs);

/**
 * proto_hs_input(hs, buf, len):
 * Feed ${len} received bytes from ${buf}, in fragments of any size.  Return
 * the number of bytes consumed (never more than the handshake needs).
 */
size_t proto_hs_input(struct proto_hs * hs, const uint8_t * buf, size_t len);

/**
 * proto_hs_output(hs, len):
 * Return the pending bytes to send and store their count in ${len} (0 and
 * NULL when nothing is pending).
 */
const uint8_t * proto_hs_output(struct proto_hs * hs, size_t * len);

/**
 * proto_hs_output_done(hs, n):
 * Record that ${n} bytes of the pending output were sent.
 */
void proto_hs_output_done(struct proto_hs * hs, size_t n);

/**
 * proto_hs_compute(hs):
 * Do the pending expensive step (key generation, shared secret, key
 * derivation).  Safe to call on any thread.
 */
void proto_hs_compute(struct proto_hs * hs);

/**
 * proto_hs_compute_cheap(hs):
 * Return non-zero if what ${hs} computes involves no exponentiation (-f:
 * an HMAC and a one-round key derivation), so that running it at once
 * costs less than handing it to another thread.
 */
int proto_hs_compute_cheap(const struct proto_hs * hs);

/**
 * proto_hs_need_key(hs):
 * Return non-zero if ${hs} wants a computation that starts by making its
 * ephemeral key pair (which proto_hs_set_key can supply instead).
 */
int proto_hs_need_key(const struct proto_hs * hs);

/**
 * proto_hs_set_key(hs, x, y):
 * Use the ephemeral key pair (${x}: CRYPTO_DH_PRIVLEN bytes; ${y} = 2^x mod
 * p: CRYPTO_DH_PUBLEN bytes, big-endian) made ahead of time, once, for
 * ${hs}, which must want one (proto_hs_need_key).  The pair must never be
 * used for anything else.
 */
void proto_hs_set_key(struct proto_hs * hs, const uint8_t * x,
    const uint8_t * y);

/**
 * proto_hs_error(hs):
 * Return why ${hs} failed, or NULL if it has not.
 */
const char * proto_hs_error(const struct proto_hs * hs);

/* Why a handshake failed (proto_hs_failure). */
enum proto_hs_failure {
	PROTO_HS_FAIL_NONE = 0,		/* It has not failed. */
	PROTO_HS_FAIL_BAD_MAC,		/* The peer's y had a bad MAC: the
					   peer holds another key. */
	PROTO_HS_FAIL_BAD_Y,		/* The peer's y was not less than p,
					   or was 0 or p - 1. */
	PROTO_HS_FAIL_NO_PFS,		/* The peer skipped Diffie-Hellman
					   (-f) and -g is set. */
	PROTO_HS_FAIL_INTERNAL		/* A computation of ours failed. */
};

/**
 * proto_hs_failure(hs):
 * Return why ${hs} failed as a PROTO_HS_FAIL_* value (proto_hs_error says
 * it in words), or PROTO_HS_FAIL_NONE if it has not.
 */
enum proto_hs_failure proto_hs_failure(const struct proto_hs * hs);

/**
 * proto_hs_keys(hs, keys):
 * Copy the derived keys into ${keys}.  Return 0 on success, -1 if the
 * handshake is not DONE.
 */
int proto_hs_keys(const struct proto_hs * hs, struct proto_keys * keys);

/**
 * proto_hs_free(hs):
 * Wipe and free ${hs}.  NULL is a no-op.
 */
void proto_hs_free(struct proto_hs * hs);

#endif /* !PROTO_HANDSHAKE_H_ */
