/*
 * The spiped packet layout: padding and the encoded length.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto_pkt.h"
#include "crypto_pkt_layout.h"

/**
 * crypto_pkt_fill(job):
 * Copy ${job}'s plaintext to its output (unless in place), zero the padding
 * and write be32(len) at offset 1024 and be64(pnum) at offset 1028.
 */
void
crypto_pkt_fill(const struct crypto_seal_job * job)
{
	uint8_t * p = job->out;
	size_t len = job->len;

	if (job->pt != p)
		memcpy(p, job->pt, len);
	memset(&p[len], 0, CRYPTO_PKT_PTMAX - len);
	p[1024] = (uint8_t)(len >> 24);
	p[1025] = (uint8_t)(len >> 16);
	p[1026] = (uint8_t)(len >> 8);
	p[1027] = (uint8_t)len;
	crypto_pkt_be64enc(&p[CRYPTO_PKT_PADLEN], job->pnum);
}

/**
 * crypto_pkt_hmacpad(block, mac, c):
 * Fill the 64-byte ${block} with the HMAC key ${mac} (32 bytes) XORed into
 * bytes of value ${c} (0x36 for the inner pad, 0x5c for the outer).
 */
void
crypto_pkt_hmacpad(uint8_t block[64], const uint8_t mac[32], uint8_t c)
{
	size_t i;

	memset(block, c, 64);
	for (i = 0; i < 32; i++)
		block[i] ^= mac[i];
}

/**
 * crypto_pkt_padlen(padded):
 * Return the plaintext length encoded in the 1028-byte ${padded} block, or
 * -1 if it is 0 or over CRYPTO_PKT_PTMAX.
 */
int
crypto_pkt_padlen(const uint8_t * padded)
{
	uint32_t len;

	len = ((uint32_t)padded[1024] << 24) | ((uint32_t)padded[1025] << 16) |
	    ((uint32_t)padded[1026] << 8) | (uint32_t)padded[1027];
	if ((len == 0) || (len > CRYPTO_PKT_PTMAX))
		return (-1);
	return ((int)len);
}
