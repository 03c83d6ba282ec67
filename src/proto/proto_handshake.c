#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_dh.h"
#include "crypto_hmac.h"
#include "crypto_wipe.h"

#include "proto_handshake.h"

/*
 * Wire layout of one direction of the handshake: a 32-byte nonce, then
 * y (256 bytes) and HMAC-SHA256(dhmac, y) (32 bytes).
 */
#define HS_NONCELEN	32
#define HS_MACLEN	CRYPTO_HMAC_LEN
#define HS_YHLEN	(CRYPTO_DH_PUBLEN + HS_MACLEN)
#define HS_MSGLEN	(HS_NONCELEN + HS_YHLEN)

struct proto_hs {
	enum proto_role role;
	int nopfs;			/* -f: send y = 1, Z = 1. */
	int requirepfs;			/* -g: reject a peer's y = 1. */
	uint8_t K[32];			/* Shared secret (a server's once the
					   client's MAC has picked it). */
	uint8_t Ks[PROTO_HS_MAXKEYS][32];	/* A server's candidates for K
					   until then. */
	size_t nkeys;
	uint8_t nonce_l[HS_NONCELEN];	/* Our nonce. */

	/* What we received: nonce_r || y_r || MAC(dhmac_r, y_r). */
	uint8_t in[HS_MSGLEN];
	size_t in_have;

	/* What we send: nonce_l, later y_l || MAC(dhmac_l, y_l). */
	uint8_t out[HS_MSGLEN];
	size_t out_start;
	size_t out_end;

	int have_dhmac;			/* dhmac_l, dhmac_r known: a client's
					   once both nonces are, a server's
					   once its key is picked. */
	uint8_t dhmac_l[32];
	uint8_t dhmac_r[32];

	int have_y;			/* x and y_l ready (y_l = 1 for -f). */
	int y_queued;			/* y_l || MAC is in out[]. */
	uint8_t x[CRYPTO_DH_PRIVLEN];
	uint8_t y_l[CRYPTO_DH_PUBLEN];

	int peer_ok;			/* y_r received and validated. */
	int have_keys;
	struct proto_keys keys;

	const char * err;		/* Why we failed, or NULL. */
	enum proto_hs_failure why;	/* The peer's fault, or NONE (then a
					   failure is INTERNAL). */
};

/* Record a failure and wipe everything secret we hold. */
static void
hs_fail(struct proto_hs * hs, const char * why)
{

	if (hs->err == NULL)
		hs->err = why;
	crypto_wipe(hs->K, sizeof(hs->K));
	crypto_wipe(hs->Ks, sizeof(hs->Ks));
	crypto_wipe(hs->dhmac_l, sizeof(hs->dhmac_l));
	crypto_wipe(hs->dhmac_r, sizeof(hs->dhmac_r));
	crypto_wipe(hs->x, sizeof(hs->x));
	crypto_wipe(&hs->keys, sizeof(hs->keys));
	hs->have_keys = 0;
	hs->out_start = hs->out_end = 0;
}

/* The peer sent something we refuse, for ${kind}: fail as ${why}. */
static void
hs_reject(struct proto_hs * hs, enum proto_hs_failure kind, const char * why)
{

	if (hs->err == NULL)
		hs->why = kind;
	hs_fail(hs, why);
}

/* Copy nonce_C || nonce_S into ${buf}. */
static void
hs_nonces(const struct proto_hs * hs, uint8_t buf[2 * HS_NONCELEN])
{
	const uint8_t * nonce_r = &hs->in[0];

	if (hs->role == PROTO_CLIENT) {
		memcpy(&buf[0], hs->nonce_l, HS_NONCELEN);
		memcpy(&buf[HS_NONCELEN], nonce_r, HS_NONCELEN);
	} else {
		memcpy(&buf[0], nonce_r, HS_NONCELEN);
		memcpy(&buf[HS_NONCELEN], hs->nonce_l, HS_NONCELEN);
	}
}

/* Both nonces are known: derive dhmac_C and dhmac_S. */
static int
hs_dhmac(struct proto_hs * hs)
{
	uint8_t salt[2 * HS_NONCELEN];
	uint8_t dk1[64];
	int c_first = (hs->role == PROTO_CLIENT);

	/* dk1 = PBKDF2(K, nonce_C || nonce_S, 1, 64) = dhmac_C || dhmac_S. */
	hs_nonces(hs, salt);
	if (crypto_pbkdf2_sha256(hs->K, 32, salt, sizeof(salt), 1, dk1,
	    sizeof(dk1)))
		goto err0;
	memcpy(hs->dhmac_l, &dk1[c_first ? 0 : 32], 32);
	memcpy(hs->dhmac_r, &dk1[c_first ? 32 : 0], 32);
	hs->have_dhmac = 1;

	/* Success! */
	crypto_wipe(dk1, sizeof(dk1));
	return (0);

err0:
	crypto_wipe(dk1, sizeof(dk1));

	/* Failure! */
	return (-1);
}

/*
 * A server has the client's nonce, y and MAC: find which of its keys the
 * client holds.  Every key is tried (a PBKDF2 for its dhmac pair, an HMAC
 * of y compared in constant time) whichever matches, and the pick is made
 * with masks, not branches on the comparisons, so that neither the time
 * nor the memory accesses say which key matched.  A stranger costs one
 * PBKDF2 and one HMAC per key, never an exponentiation.  The first key
 * that matched becomes K, with its dhmac pair; the candidates are wiped.
 * Return 0, or -1 with the failure recorded.
 */
static int
hs_server_pick(struct proto_hs * hs)
{
	const uint8_t * yh_r = &hs->in[HS_NONCELEN];
	uint8_t salt[2 * HS_NONCELEN];
	uint8_t dk1[64];
	uint8_t pick[32 + sizeof(dk1)];	/* K || dhmac_C || dhmac_S. */
	unsigned int ok, found = 0;
	uint8_t take;
	size_t i, j;

	hs_nonces(hs, salt);
	memset(pick, 0, sizeof(pick));
	for (i = 0; i < hs->nkeys; i++) {
		if (crypto_pbkdf2_sha256(hs->Ks[i], 32, salt, sizeof(salt), 1,
		    dk1, sizeof(dk1))) {
			hs_fail(hs, "key derivation failed");
			goto err0;
		}
		ok = (crypto_hmac_sha256_verify(dk1, 32, yh_r,
		    CRYPTO_DH_PUBLEN, &yh_r[CRYPTO_DH_PUBLEN]) == 0);

		/* take is 0xff for the first match, else 0. */
		take = (uint8_t)(0U - (ok & (found ^ 1U)));
		for (j = 0; j < 32; j++)
			pick[j] ^= (pick[j] ^ hs->Ks[i][j]) & take;
		for (j = 0; j < sizeof(dk1); j++)
			pick[32 + j] ^= (pick[32 + j] ^ dk1[j]) & take;
		found |= ok;
	}
	crypto_wipe(hs->Ks, sizeof(hs->Ks));
	if (!found) {
		hs_reject(hs, PROTO_HS_FAIL_BAD_MAC,
		    "bad MAC on the peer's DH value");
		goto err0;
	}
	memcpy(hs->K, &pick[0], 32);
	memcpy(hs->dhmac_r, &pick[32], 32);
	memcpy(hs->dhmac_l, &pick[64], 32);
	hs->have_dhmac = 1;

	/* Success! */
	crypto_wipe(dk1, sizeof(dk1));
	crypto_wipe(pick, sizeof(pick));
	return (0);

err0:
	crypto_wipe(dk1, sizeof(dk1));
	crypto_wipe(pick, sizeof(pick));

	/* Failure! */
	return (-1);
}

/* Append y_l || MAC(dhmac_l, y_l) to the output, once. */
static int
hs_queue_y(struct proto_hs * hs)
{
	uint8_t * p = &hs->out[hs->out_end];

	if (hs->y_queued)
		return (0);
	memcpy(p, hs->y_l, CRYPTO_DH_PUBLEN);
	if (crypto_hmac_sha256(hs->dhmac_l, 32, hs->y_l, CRYPTO_DH_PUBLEN,
	    &p[CRYPTO_DH_PUBLEN]))
		return (-1);
	hs->out_end += HS_YHLEN;
	hs->y_queued = 1;
	return (0);
}

/* A client sends y as soon as it has both y and the MAC key (a server
 * sends it from proto_hs_compute, after checking the client's).  Fail
 * ${hs} and return -1 if the MAC cannot be made. */
static int
hs_client_send_y(struct proto_hs * hs)
{

	if ((hs->role != PROTO_CLIENT) || !hs->have_y || !hs->have_dhmac)
		return (0);
	if (hs_queue_y(hs)) {
		hs_fail(hs, "HMAC failed");
		return (-1);
	}
	return (0);
}

/* Return non-zero if the 256-byte big-endian ${y} is the number 1. */
static int
is_one(const uint8_t y[CRYPTO_DH_PUBLEN])
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < CRYPTO_DH_PUBLEN - 1; i++)
		acc |= y[i];
	acc |= y[CRYPTO_DH_PUBLEN - 1] ^ 1;
	return (acc == 0);
}

/*
 * Return non-zero if the 256-byte big-endian ${y} is 0 or p - 1.  p is a
 * safe prime (p = 2q + 1), so the only elements of small order are 1 and
 * p - 1 (order 2); 0 is no group element at all.  With y_peer in {0, p - 1}
 * our Z = y_peer^x lies in {0, 1, p - 1} whatever x is, so a peer that holds
 * the key could make the session keys independent of our ephemeral secret
 * (no forward secrecy, and -g defeated).  y is public: no need for constant
 * time, but the loop runs over every byte anyway.
 */
static int
is_degenerate(const uint8_t y[CRYPTO_DH_PUBLEN])
{
	const uint8_t * p = crypto_dh_prime();
	uint8_t zero = 0, pm1 = 0;
	unsigned int borrow = 1;
	size_t i;

	/* Compare y with p - 1, subtracting the 1 with borrow from the end. */
	for (i = CRYPTO_DH_PUBLEN; i-- > 0; ) {
		unsigned int d = (unsigned int)p[i] - borrow;

		borrow = (d >> 8) & 1;
		pm1 |= y[i] ^ (uint8_t)d;
		zero |= y[i];
	}
	return ((zero == 0) || (pm1 == 0));
}

/*
 * The peer's y || MAC is complete: validate it as spiped does (MAC, y < p,
 * -g), and, unlike stock spiped 1.6.2, refuse y = 0 and y = p - 1 in every
 * mode (see is_degenerate).
 */
static int
hs_validate(struct proto_hs * hs)
{
	const uint8_t * yh_r = &hs->in[HS_NONCELEN];

	/* MAC first, in constant time; a server finds its key by it. */
	if (hs->role == PROTO_SERVER) {
		if (hs_server_pick(hs))
			return (-1);
	} else if (crypto_hmac_sha256_verify(hs->dhmac_r, 32, yh_r,
	    CRYPTO_DH_PUBLEN, &yh_r[CRYPTO_DH_PUBLEN])) {
		hs_reject(hs, PROTO_HS_FAIL_BAD_MAC,
		    "bad MAC on the peer's DH value");
		return (-1);
	}

	/* y_r < p. */
	if (crypto_dh_sanitycheck(yh_r)) {
		hs_reject(hs, PROTO_HS_FAIL_BAD_Y,
		    "peer's DH value is not less than p");
		return (-1);
	}

	/* 0 and p - 1 force Z into {0, 1, p - 1}: never a genuine key. */
	if (is_degenerate(yh_r)) {
		hs_reject(hs, PROTO_HS_FAIL_BAD_Y,
		    "peer's DH value is 0 or p - 1 (degenerate)");
		return (-1);
	}

	/* -g: the peer must not skip Diffie-Hellman. */
	if (hs->requirepfs && is_one(yh_r)) {
		hs_reject(hs, PROTO_HS_FAIL_NO_PFS,
		    "peer lacks forward secrecy (-f) and -g is set");
		return (-1);
	}

	hs->peer_ok = 1;
	return (0);
}

/* Compute Z and derive the session keys. */
static int
hs_finish(struct proto_hs * hs)
{
	uint8_t salt[2 * HS_NONCELEN + CRYPTO_DH_PUBLEN];
	uint8_t * Z = &salt[2 * HS_NONCELEN];
	uint8_t dk2[128];
	const uint8_t * kc;
	const uint8_t * ks;

	/* Z = y_r^x, or 1 if we skipped Diffie-Hellman (-f). */
	hs_nonces(hs, salt);
	if (hs->nopfs) {
		memset(Z, 0, CRYPTO_DH_PUBLEN - 1);
		Z[CRYPTO_DH_PUBLEN - 1] = 1;
	} else if (crypto_dh_compute(&hs->in[HS_NONCELEN], hs->x, Z)) {
		hs_fail(hs, "Diffie-Hellman computation failed");
		goto err0;
	}

	/* dk2 = PBKDF2(K, nonce_C || nonce_S || Z, 1, 128). */
	if (crypto_pbkdf2_sha256(hs->K, 32, salt, sizeof(salt), 1, dk2,
	    sizeof(dk2))) {
		hs_fail(hs, "key derivation failed");
		goto err0;
	}

	/* E_C || H_C || E_S || H_S; the client sends with the C keys. */
	kc = &dk2[0];
	ks = &dk2[64];
	if (hs->role == PROTO_SERVER) {
		kc = &dk2[64];
		ks = &dk2[0];
	}
	memcpy(hs->keys.send_enc, &kc[0], 32);
	memcpy(hs->keys.send_mac, &kc[32], 32);
	memcpy(hs->keys.recv_enc, &ks[0], 32);
	memcpy(hs->keys.recv_mac, &ks[32], 32);
	hs->have_keys = 1;

	/* The secrets behind the keys are no longer needed. */
	crypto_wipe(hs->x, sizeof(hs->x));
	crypto_wipe(hs->K, sizeof(hs->K));
	crypto_wipe(dk2, sizeof(dk2));
	crypto_wipe(salt, sizeof(salt));

	/* Success! */
	return (0);

err0:
	crypto_wipe(dk2, sizeof(dk2));
	crypto_wipe(salt, sizeof(salt));

	/* Failure! */
	return (-1);
}

/* Does ${hs} have an exponentiation to do? */
static int
hs_need_compute(const struct proto_hs * hs)
{

	if ((hs->err != NULL) || hs->have_keys)
		return (0);

	/* A client makes its key pair at once, without waiting. */
	if ((hs->role == PROTO_CLIENT) && !hs->have_y)
		return (1);

	/* Anyone with a validated peer value finishes (a server makes its
	 * key pair only now). */
	return (hs->peer_ok);
}

/**
 * proto_hs_new(role, K, nopfs, requirepfs):
 * Create a handshake for ${role} with the shared secret ${K}; ${nopfs} is
 * spiped's -f (send y = 1, no exponentiation), ${requirepfs} its -g (reject
 * a peer whose y is 1).  In every mode the peer's y must carry a good MAC and
 * be less than p, and must be neither 0 nor p - 1.  Return NULL on failure.
 */
struct proto_hs *
proto_hs_new(enum proto_role role, const uint8_t K[32], int nopfs,
    int requirepfs)
{

	return (proto_hs_new_keys(role, (const uint8_t (*)[32])K, 1, nopfs,
	    requirepfs));
}

/**
 * proto_hs_new_keys(role, Ks, nkeys, nopfs, requirepfs):
 * As proto_hs_new, with the ${nkeys} (1 to PROTO_HS_MAXKEYS) shared secrets
 * ${Ks}.  A server accepts a client that uses any of them: it tries each
 * on the MAC of the client's y (one PBKDF2 and one HMAC per key, every key
 * whichever matches) and answers with the first that matched.  A client
 * uses ${Ks}[0] only.  Return NULL on failure.
 */
struct proto_hs *
proto_hs_new_keys(enum proto_role role, const uint8_t (* Ks)[32],
    size_t nkeys, int nopfs, int requirepfs)
{
	struct proto_hs * hs;

	if ((role != PROTO_CLIENT) && (role != PROTO_SERVER))
		goto err0;
	if ((nkeys < 1) || (nkeys > PROTO_HS_MAXKEYS))
		goto err0;
	if ((hs = calloc(1, sizeof(struct proto_hs))) == NULL)
		goto err0;
	hs->role = role;
	hs->nopfs = nopfs ? 1 : 0;
	hs->requirepfs = requirepfs ? 1 : 0;

	/* A client knows its key; a server learns it from the client's MAC
	 * (hs_server_pick). */
	if (role == PROTO_CLIENT) {
		memcpy(hs->K, Ks[0], 32);
	} else {
		memcpy(hs->Ks, Ks, nkeys * 32);
		hs->nkeys = nkeys;
	}

	/* Our nonce goes out at once. */
	if (crypto_entropy_read(hs->nonce_l, HS_NONCELEN))
		goto err1;
	memcpy(hs->out, hs->nonce_l, HS_NONCELEN);
	hs->out_end = HS_NONCELEN;

	/* With -f our y is the number 1 and there is no private value. */
	if (hs->nopfs) {
		hs->y_l[CRYPTO_DH_PUBLEN - 1] = 1;
		hs->have_y = 1;
	}

	/* Make sure the group is usable before promising anything. */
	if (!hs->nopfs && crypto_dh_init())
		goto err1;

	/* Success! */
	return (hs);

err1:
	proto_hs_free(hs);
err0:
	/* Failure! */
	return (NULL);
}

/**
 * proto_hs_want(hs):
 * Return the PROTO_HS_* bits saying what ${hs} needs next.
 */
int
proto_hs_want(const struct proto_hs * hs)
{
	int want = 0;

	if (hs->err != NULL)
		return (PROTO_HS_FAILED);
	if (hs->out_start < hs->out_end)
		want |= PROTO_HS_WANT_WRITE;
	if (hs->have_keys)
		return (want ? want : PROTO_HS_DONE);
	if (hs->in_have < HS_MSGLEN)
		want |= PROTO_HS_WANT_READ;
	if (hs_need_compute(hs))
		want |= PROTO_HS_WANT_COMPUTE;
	return (want);
}

/**
 * proto_hs_read_hint(hs):
 * Return how many more bytes ${hs} can take before it must stop reading
 * (0 if it is not reading now).
 */
size_t
proto_hs_read_hint(const struct proto_hs * hs)
{

	if ((hs->err != NULL) || hs->have_keys)
		return (0);
	return (HS_MSGLEN - hs->in_have);
}

/**
 * proto_hs_input(hs, buf, len):
 * Feed ${len} received bytes from ${buf}, in fragments of any size.  Return
 * the number of bytes consumed (never more than the handshake needs).
 */
size_t
proto_hs_input(struct proto_hs * hs, const uint8_t * buf, size_t len)
{
	size_t n = proto_hs_read_hint(hs);

	/* Take no more than the handshake still needs. */
	if (len < n)
		n = len;
	if (n == 0)
		return (0);
	memcpy(&hs->in[hs->in_have], buf, n);
	hs->in_have += n;

	/* The peer's nonce is complete: a client can MAC its y (a server
	 * derives its MAC keys once the client's MAC says which key). */
	if ((hs->role == PROTO_CLIENT) && !hs->have_dhmac &&
	    (hs->in_have >= HS_NONCELEN)) {
		if (hs_dhmac(hs)) {
			hs_fail(hs, "key derivation failed");
			return (n);
		}
		if (hs_client_send_y(hs))
			return (n);
	}

	/* The peer's y is complete: check it before anything costly. */
	if (!hs->peer_ok && (hs->in_have == HS_MSGLEN)) {
		if (hs_validate(hs))
			return (n);

		/* With -f there is nothing costly left: finish here. */
		if (hs->nopfs) {
			if (hs_queue_y(hs)) {
				hs_fail(hs, "HMAC failed");
				return (n);
			}
			(void)hs_finish(hs);
		}
	}

	return (n);
}

/**
 * proto_hs_output(hs, len):
 * Return the pending bytes to send and store their count in ${len} (0 and
 * NULL when nothing is pending).
 */
const uint8_t *
proto_hs_output(struct proto_hs * hs, size_t * len)
{

	if ((hs->err != NULL) || (hs->out_start == hs->out_end)) {
		*len = 0;
		return (NULL);
	}
	*len = hs->out_end - hs->out_start;
	return (&hs->out[hs->out_start]);
}

/**
 * proto_hs_output_done(hs, n):
 * Record that ${n} bytes of the pending output were sent.
 */
void
proto_hs_output_done(struct proto_hs * hs, size_t n)
{
	size_t pending = hs->out_end - hs->out_start;

	hs->out_start += (n < pending) ? n : pending;
}

/**
 * proto_hs_compute(hs):
 * Do the pending expensive step (key generation, shared secret, key
 * derivation).  Safe to call on any thread.
 */
void
proto_hs_compute(struct proto_hs * hs)
{

	if (!hs_need_compute(hs))
		return;

	/* Our key pair (a client's at once, a server's once y_C is good). */
	if (!hs->have_y) {
		if (crypto_dh_generate(hs->x, hs->y_l)) {
			hs_fail(hs, "Diffie-Hellman key generation failed");
			return;
		}
		hs->have_y = 1;
	}

	/* Send y as soon as the MAC key is known. */
	if (hs->have_dhmac && hs_queue_y(hs)) {
		hs_fail(hs, "HMAC failed");
		return;
	}

	/* The shared secret and the session keys. */
	if (hs->peer_ok)
		(void)hs_finish(hs);
}

/**
 * proto_hs_compute_cheap(hs):
 * Return non-zero if what ${hs} computes involves no exponentiation (-f:
 * an HMAC and a one-round key derivation), so that running it at once
 * costs less than handing it to another thread.
 */
int
proto_hs_compute_cheap(const struct proto_hs * hs)
{

	return (hs->nopfs);
}

/**
 * proto_hs_need_key(hs):
 * Return non-zero if ${hs} wants a computation that starts by making its
 * ephemeral key pair (which proto_hs_set_key can supply instead).
 */
int
proto_hs_need_key(const struct proto_hs * hs)
{

	return (hs_need_compute(hs) && !hs->have_y);
}

/**
 * proto_hs_set_key(hs, x, y):
 * Use the ephemeral key pair (${x}, ${y} = 2^x mod p) made ahead of time,
 * once, for ${hs}, which must want one (proto_hs_need_key).  The pair must
 * never be used for anything else.
 */
void
proto_hs_set_key(struct proto_hs * hs, const uint8_t * x, const uint8_t * y)
{

	if (!proto_hs_need_key(hs))
		return;
	memcpy(hs->x, x, CRYPTO_DH_PRIVLEN);
	memcpy(hs->y_l, y, CRYPTO_DH_PUBLEN);
	hs->have_y = 1;
	(void)hs_client_send_y(hs);
}

/**
 * proto_hs_error(hs):
 * Return why ${hs} failed, or NULL if it has not.
 */
const char *
proto_hs_error(const struct proto_hs * hs)
{

	return (hs->err);
}

/**
 * proto_hs_failure(hs):
 * Return why ${hs} failed as a PROTO_HS_FAIL_* value, or
 * PROTO_HS_FAIL_NONE if it has not.
 */
enum proto_hs_failure
proto_hs_failure(const struct proto_hs * hs)
{

	if (hs->err == NULL)
		return (PROTO_HS_FAIL_NONE);
	return ((hs->why != PROTO_HS_FAIL_NONE) ? hs->why :
	    PROTO_HS_FAIL_INTERNAL);
}

/**
 * proto_hs_keys(hs, keys):
 * Copy the derived keys into ${keys}.  Return 0 on success, -1 if the
 * handshake is not DONE.
 */
int
proto_hs_keys(const struct proto_hs * hs, struct proto_keys * keys)
{

	if (proto_hs_want(hs) != PROTO_HS_DONE)
		return (-1);
	memcpy(keys, &hs->keys, sizeof(struct proto_keys));
	return (0);
}

/**
 * proto_hs_free(hs):
 * Wipe and free ${hs}.  NULL is a no-op.
 */
void
proto_hs_free(struct proto_hs * hs)
{

	if (hs == NULL)
		return;
	crypto_wipe(hs, sizeof(struct proto_hs));
	free(hs);
}
