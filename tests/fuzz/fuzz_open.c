/*
 * libFuzzer target: open every packet of a ciphertext stream on every
 * crypto path (and the automatic choice), and check that the paths agree
 * and that a packet we sealed always opens.  (Cutting a stream into
 * packets across reads is the pipe core's, fuzzed by fuzz_pipe.)
 *
 * Input: byte 0 is ignored (it seeded fragment sizes once, and keeps the
 * corpus valid); the rest, R, is used twice: its first min(|R|, 1024)
 * bytes are sealed as packet 0 of the stream, and R itself follows as raw
 * ciphertext (packets 1, 2, ...).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"

#define NENG (CRYPTO_PKT_NPATHS + 1)

/* Engine i and the key made for it; [0] is OpenSSL. */
static struct crypto_engine * engs[NENG];
static struct crypto_pktkey * keys[NENG];
static size_t neng;

/* Set up the engines and keys once: every path that runs here, then the
 * automatic choice. */
static void
setup(void)
{
	static const uint8_t e[32] = {0x11, 0x22}, h[32] = {0x33, 0x44};
	const char * name;
	size_t i;

	for (i = 0; (name = crypto_pkt_path_name(i)) != NULL; i++) {
		if ((engs[neng] = crypto_engine_new_path(name)) != NULL)
			neng++;
	}
	if ((neng == 0) ||
	    ((engs[neng++] = crypto_engine_new(CRYPTO_BACKEND_AUTO)) == NULL))
		abort();
	for (i = 0; i < neng; i++) {
		if ((keys[i] = crypto_pktkey_new_engine(engs[i], e, h)) == NULL)
			abort();
	}
}

/* Open ${pkt} (number ${pnum}; its MAC bytes are scratch) on every
 * engine; they must agree. */
static int
open_all(uint8_t * pkt, uint64_t pnum)
{
	uint8_t out[NENG][CRYPTO_PKT_PADLEN];
	struct crypto_open_job oj;
	int len0 = 0;
	size_t i;

	for (i = 0; i < neng; i++) {
		memset(out[i], 0xa5, sizeof(out[i]));
		oj = (struct crypto_open_job){ keys[i], pkt, pnum, out[i],
		    0 };
		if (crypto_engine_open(engs[i], &oj, 1) != (oj.len > 0))
			abort();
		if (i == 0)
			len0 = oj.len;
		else if ((oj.len != len0) ||
		    ((len0 > 0) && memcmp(out[i], out[0], (size_t)len0)))
			abort();
	}
	return (len0);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t * data, size_t size)
{
	uint8_t first[CRYPTO_PKT_LEN];
	struct crypto_seal_job sj;
	const uint8_t * r;
	uint8_t * stream;
	size_t rlen, slen, off, i, mlen;
	uint64_t pnum = 0;

	if (neng == 0)
		setup();
	if (size < 1)
		return (0);
	r = &data[1];
	rlen = size - 1;

	/* Packet 0: the first bytes of R, sealed by every engine alike. */
	mlen = (rlen == 0) ? 1 : (rlen < 1024 ? rlen : 1024);
	for (i = 0; i < neng; i++) {
		uint8_t pkt[CRYPTO_PKT_LEN];

		sj = (struct crypto_seal_job){ keys[i], rlen ? r : data, mlen,
		    0, (i == 0) ? first : pkt, 0 };
		if (crypto_engine_seal(engs[i], &sj, 1))
			abort();
		if ((i > 0) && memcmp(pkt, first, sizeof(pkt)))
			abort();
	}

	/* The stream: packet 0, then R. */
	slen = CRYPTO_PKT_LEN + rlen;
	if ((stream = malloc(slen)) == NULL)
		abort();
	memcpy(stream, first, CRYPTO_PKT_LEN);
	memcpy(&stream[CRYPTO_PKT_LEN], r, rlen);

	/* Open each whole packet; a trailing part packet is left over. */
	for (off = 0; off + CRYPTO_PKT_LEN <= slen; off += CRYPTO_PKT_LEN,
	    pnum++) {
		if ((open_all(&stream[off], pnum) == -1) && (pnum == 0))
			abort();	/* Our own packet must open. */
	}

	free(stream);
	return (0);
}
