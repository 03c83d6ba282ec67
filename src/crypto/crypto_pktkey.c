/*
 * Packet key sets: expand (E, H) once into everything every backend needs.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"

/* Source of key set ids; 0 is never handed out. */
static atomic_uint_fast64_t crypto_pktkey_nextid = 1;

/**
 * crypto_pktkey_new(enc, mac):
 * Expand the AES-256 key ${enc} and the HMAC-SHA256 key ${mac} (32 bytes
 * each) into a key set usable by every backend.  Return NULL on failure.
 */
struct crypto_pktkey *
crypto_pktkey_new(const uint8_t enc[32], const uint8_t mac[32])
{
	struct crypto_pktkey * key;

	/* Aligned allocation: the round keys and pad states want 16. */
	if ((key = aligned_alloc(64, (sizeof(*key) + 63) & ~(size_t)63)) ==
	    NULL)
		goto err0;
	memset(key, 0, sizeof(*key));

	/* Raw AES key and the OpenSSL HMAC states. */
	memcpy(key->enc, enc, CRYPTO_PKT_KEYLEN);
	crypto_pkt_ossl_keyinit(key, mac);

#ifdef RP_HAVE_IPSECMB
	/* ipsec-mb round keys and pad states. */
	if (crypto_pkt_imb_keyinit(key, mac))
		goto err1;
#endif

	/* A fresh id, so engines can cache per-key state safely. */
	key->id = atomic_fetch_add(&crypto_pktkey_nextid, 1);

	/* Success! */
	return (key);

#ifdef RP_HAVE_IPSECMB
err1:
	OPENSSL_cleanse(key, sizeof(*key));
	free(key);
#endif
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

	/* Behave consistently with free(NULL). */
	if (key == NULL)
		return;

	/* Wipe every secret, then free. */
	OPENSSL_cleanse(key, sizeof(*key));
	free(key);
}
