#ifndef RP_KEYS_H_
#define RP_KEYS_H_

/*
 * The shared secrets of the -k files (key rotation: -k may be given up to
 * RP_KEYS_MAX times), as a set that a reload (SIGHUP) replaces whole while
 * other threads take copies of it.  Each secret is SHA-256 of its file.
 * A key read from standard input ("-k -") cannot be read again: a reload
 * keeps the secret it gave.
 */

#include <stddef.h>
#include <stdint.h>

#include "proto_handshake.h"

/* The most -k files. */
#define RP_KEYS_MAX	PROTO_HS_MAXKEYS

/* One set of secrets, in the order of the -k files. */
struct rp_keyset {
	size_t n;			/* 1 to RP_KEYS_MAX. */
	uint8_t K[RP_KEYS_MAX][32];
};

struct rp_keys;

/**
 * rp_keys_secret(path, K):
 * Set ${K} to the shared secret of the key file ${path} ("-": standard
 * input), warning if it is empty: stock spiped takes an empty key, so it is
 * taken, but its secret is SHA-256 of nothing, which anyone can compute.
 * Return 0, or -1 with a warning printed naming ${path}.
 */
int rp_keys_secret(const char * path, uint8_t K[32]);

/**
 * rp_keys_load(files, n):
 * Read the ${n} (1 to RP_KEYS_MAX) key files ${files} (their paths are
 * copied; at most one of them "-", standard input).  Return the keys,
 * or NULL with a warning printed.
 */
struct rp_keys * rp_keys_load(const char * const * files, size_t n);

/**
 * rp_keys_read(keys, set):
 * Read ${keys}' files again into ${set} (the secret from standard input as
 * it was), changing nothing in ${keys}.  Return 0, or -1 with a warning
 * printed naming the file that failed (${set} is then wiped).
 */
int rp_keys_read(const struct rp_keys * keys, struct rp_keyset * set);

/**
 * rp_keys_set(keys, set):
 * Make ${set} (from rp_keys_read) the current secrets of ${keys}.  Safe
 * while other threads call rp_keys_get.
 */
void rp_keys_set(struct rp_keys * keys, const struct rp_keyset * set);

/**
 * rp_keys_get(keys, set):
 * Copy the current secrets of ${keys} into ${set}, which the caller wipes
 * (crypto_wipe) when done.  Safe from any thread.
 */
void rp_keys_get(struct rp_keys * keys, struct rp_keyset * set);

/**
 * rp_keys_check_reload(keys, user):
 * Having dropped privileges to ${user} (-u), check that each key file of
 * ${keys} can still be opened, as a reload (SIGHUP) will open them; warn
 * clearly for each that cannot.  Return the number that cannot.
 */
size_t rp_keys_check_reload(const struct rp_keys * keys, const char * user);

/**
 * rp_keys_sandboxed():
 * The process is confined now (the sandbox): from now on a key file that
 * cannot be opened (EACCES) although access(2), which the sandbox does not
 * govern, says it is readable, is said to be refused by the sandbox.
 */
void rp_keys_sandboxed(void);

/**
 * rp_keys_free(keys):
 * Wipe and free ${keys}.  NULL is a no-op.
 */
void rp_keys_free(struct rp_keys * keys);

#endif /* !RP_KEYS_H_ */
