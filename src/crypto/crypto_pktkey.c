/*
 * Packet key sets: (E, H) expanded once for each backend that will use
 * them, in that backend's own layout.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"

/* Source of key set ids; 0 is never handed out. */
static atomic_uint_fast64_t crypto_pktkey_nextid = 1;

/**
 * crypto_pktkey_new_layouts(enc, mac, layouts):
 * Make a key set of (${enc}, ${mac}) expanded for each backend ${b} with
 * bit (1 << b) in ${layouts}.  Return NULL on failure.
 */
struct crypto_pktkey *
crypto_pktkey_new_layouts(const uint8_t enc[32], const uint8_t mac[32],
    unsigned layouts)
{
	const struct crypto_pkt_ops * ops;
	struct crypto_pktkey * key;
	size_t b;

	if ((key = calloc(1, sizeof(*key))) == NULL)
		goto err0;
	for (b = 0; b < CRYPTO_PKT_NBACKENDS; b++) {
		if (!(layouts & (1u << b)))
			continue;
		if ((ops = crypto_pkt_backend((enum crypto_backend)b)) == NULL) {
			errno = ENOTSUP;
			goto err1;
		}
		if ((key->lay[b] = ops->key_expand(enc, mac)) == NULL)
			goto err1;
		key->layouts |= 1u << b;
	}
	if (key->layouts == 0) {
		errno = EINVAL;
		goto err1;
	}

	/* A fresh id, so engines can cache per-key state safely. */
	key->id = atomic_fetch_add(&crypto_pktkey_nextid, 1);

	/* Success! */
	return (key);

err1:
	crypto_pktkey_free(key);
err0:
	/* Failure! */
	return (NULL);
}

/**
 * crypto_pktkey_free(key):
 * Wipe and free ${key}.  NULL is a no-op.
 */
void
crypto_pktkey_free(struct crypto_pktkey * key)
{
	size_t b;

	/* Behave consistently with free(NULL). */
	if (key == NULL)
		return;

	/* Each backend wipes its own expansion. */
	for (b = 0; b < CRYPTO_PKT_NBACKENDS; b++) {
		if (key->lay[b] != NULL)
			crypto_pkt_backend((enum crypto_backend)b)->key_free(
			    key->lay[b]);
	}
	free(key);
}
