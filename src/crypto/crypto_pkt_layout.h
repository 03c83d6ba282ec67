#ifndef CRYPTO_PKT_LAYOUT_H_
#define CRYPTO_PKT_LAYOUT_H_

/*
 * The spiped packet layout, shared by every packet crypto backend: padding,
 * the encoded length, the MAC input, tag comparison.  No crypto here.
 */

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto_pkt.h"

/* Bytes of an HMAC input: ciphertext || be64(pnum). */
#define CRYPTO_PKT_MACIN (CRYPTO_PKT_PADLEN + 8)

/**
 * crypto_pkt_fill(job):
 * Copy ${job}'s plaintext to its output (unless in place), zero the padding
 * and write be32(len) at offset 1024 and be64(pnum) at offset 1028.
 */
void crypto_pkt_fill(const struct crypto_seal_job * job);

/**
 * crypto_pkt_hmacpad(block, mac, c):
 * Fill the 64-byte ${block} with the HMAC key ${mac} (32 bytes) XORed into
 * bytes of value ${c} (0x36 for the inner pad, 0x5c for the outer).
 */
void crypto_pkt_hmacpad(uint8_t block[64], const uint8_t mac[32], uint8_t c);

/**
 * crypto_pkt_padlen(padded):
 * Return the plaintext length encoded in the 1028-byte ${padded} block, or
 * -1 if it is 0 or over CRYPTO_PKT_PTMAX.
 */
int crypto_pkt_padlen(const uint8_t * padded);

/**
 * crypto_pkt_be64enc(p, x):
 * Store ${x} big-endian at ${p}.
 */
static inline void
crypto_pkt_be64enc(uint8_t * p, uint64_t x)
{

	/* One byte swap and one store. */
	x = htobe64(x);
	memcpy(p, &x, 8);
}

/**
 * crypto_pkt_tag_eq(a, b):
 * Return 1 if the CRYPTO_PKT_MACLEN-byte tags ${a} and ${b} are equal, else
 * 0, in time independent of their contents (no early exit; inlined so that
 * a packet costs no call and no byte loop).
 */
static inline int
crypto_pkt_tag_eq(const uint8_t * a, const uint8_t * b)
{
	uint64_t x, y, d = 0;
	size_t i;

	for (i = 0; i < CRYPTO_PKT_MACLEN; i += 8) {
		memcpy(&x, &a[i], 8);
		memcpy(&y, &b[i], 8);
		d |= x ^ y;
	}
	return (d == 0);
}

#endif /* !CRYPTO_PKT_LAYOUT_H_ */
