#ifndef HS_FUZZ_COMMON_H_
#define HS_FUZZ_COMMON_H_

/*
 * The shared body of fuzz_hs_client and fuzz_hs_server: drive one
 * handshake machine with peer bytes chosen by the fuzzer, in fragments
 * chosen by the fuzzer, servicing COMPUTE and WRITE as they come.
 *
 * Input layout:
 *   byte 0      flags: 1 = -f, 2 = -g (dropped if -f is set), 4 = "fix up":
 *               the harness replaces the peer's MAC by the correct one
 *               (computed from the known K and the machine's nonce), so
 *               the fuzzer can reach the checks behind the MAC.
 *   bytes 1-8   fragment sizes, cycled: fragment i is (b % 64) + 1 bytes.
 *   the rest    the peer's byte stream (nonce, y, MAC, then anything).
 *
 * Invariants checked (abort on violation): a call never consumes more
 * than it was given or than proto_hs_read_hint() allowed, nor more than
 * 320 bytes in all; output never exceeds 320 bytes; nothing is output
 * after FAILED; a server never asks for COMPUTE before it has a verified
 * 288-byte y || MAC; without "fix up" (the MAC is then garbage with
 * overwhelming probability) the machine never reports DONE; with it, the
 * outcome is DONE exactly when y < p, y is neither 0 nor p - 1, and not
 * (-g and y == 1).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_dh.h"
#include "crypto_hmac.h"
#include "proto_handshake.h"

#define HSF_MSGLEN 320

static const uint8_t hsf_K[32] = {
	0x66, 0x75, 0x7a, 0x7a, 0x20, 0x6b, 0x65, 0x79
};

#define HSF_CHECK(c) do { if (!(c)) abort(); } while (0)

/* Service COMPUTE and WRITE until ${hs} wants neither. */
static void
hsf_service(struct proto_hs * hs, enum proto_role role, uint8_t * sent,
    size_t * nsent, size_t consumed, int mac_ok)
{
	const uint8_t * o;
	size_t n;
	int want, rounds;

	for (rounds = 0; rounds < 8; rounds++) {
		want = proto_hs_want(hs);
		if (want & PROTO_HS_FAILED) {
			HSF_CHECK(proto_hs_error(hs) != NULL);
			HSF_CHECK(proto_hs_output(hs, &n) == NULL);
			return;
		}
		if (want & PROTO_HS_WANT_COMPUTE) {
			/* A server spends nothing on an unverified peer. */
			if (role == PROTO_SERVER)
				HSF_CHECK((consumed == HSF_MSGLEN) && mac_ok);
			proto_hs_compute(hs);
			continue;
		}
		if (want & PROTO_HS_WANT_WRITE) {
			HSF_CHECK((o = proto_hs_output(hs, &n)) != NULL);
			HSF_CHECK(*nsent + n <= HSF_MSGLEN);
			memcpy(&sent[*nsent], o, n);
			*nsent += n;
			proto_hs_output_done(hs, n);
			continue;
		}
		return;
	}
}

/* Is the 256-byte big-endian ${y} the number 1? */
static int
hsf_is_one(const uint8_t * y)
{
	size_t i;

	for (i = 0; i < 255; i++)
		if (y[i] != 0)
			return (0);
	return (y[255] == 1);
}

/* Is the 256-byte big-endian ${y} 0 or p - 1 (p ends in 0xff, so p - 1 is
 * p with its last byte 0xfe)? */
static int
hsf_is_degenerate(const uint8_t * y)
{
	uint8_t pm1[256];
	size_t i;

	for (i = 0; i < 256; i++)
		if (y[i] != 0)
			break;
	if (i == 256)
		return (1);
	memcpy(pm1, crypto_dh_prime(), 256);
	HSF_CHECK(pm1[255] == 0xff);
	pm1[255] = 0xfe;
	return (memcmp(y, pm1, 256) == 0);
}

static int
hsf_run(enum proto_role role, const uint8_t * data, size_t size)
{
	struct proto_hs * hs;
	uint8_t stream[HSF_MSGLEN + 4096];
	uint8_t sent[HSF_MSGLEN];
	uint8_t salt[64], dk1[64];
	const uint8_t * frag;
	uint8_t * buf;
	size_t nsent = 0, consumed = 0, slen, pos, len, hint, c;
	int nopfs, requirepfs, fixup, mac_ok = 0, fixed = 0, i = 0;

	if (size < 9)
		return (0);
	nopfs = data[0] & 1;
	requirepfs = (data[0] & 2) && !nopfs;
	fixup = (data[0] & 4) != 0;
	frag = &data[1];
	slen = size - 9;
	if (slen > sizeof(stream))
		slen = sizeof(stream);
	memcpy(stream, &data[9], slen);

	if ((hs = proto_hs_new(role, hsf_K, nopfs, requirepfs)) == NULL)
		abort();
	hsf_service(hs, role, sent, &nsent, consumed, mac_ok);

	for (pos = 0; pos < slen; pos += len) {
		/* Once our nonce and the peer's are known, fix up the MAC. */
		if (fixup && !fixed && (consumed >= 32) && (nsent >= 32) &&
		    (slen >= HSF_MSGLEN)) {
			const uint8_t * nc = (role == PROTO_CLIENT) ?
			    sent : stream;
			const uint8_t * ns = (role == PROTO_CLIENT) ?
			    stream : sent;

			memcpy(salt, nc, 32);
			memcpy(&salt[32], ns, 32);
			HSF_CHECK(crypto_pbkdf2_sha256(hsf_K, 32, salt, 64, 1,
			    dk1, 64) == 0);
			HSF_CHECK(crypto_hmac_sha256(
			    &dk1[(role == PROTO_CLIENT) ? 32 : 0], 32,
			    &stream[32], 256, &stream[288]) == 0);
			fixed = 1;
		}
		if (fixed)
			mac_ok = 1;

		/* The next fragment, in its own allocation (ASan sees any
		 * over-read). */
		len = (size_t)(frag[i++ % 8] % 64) + 1;
		if (len > slen - pos)
			len = slen - pos;
		if ((buf = malloc(len)) == NULL)
			abort();
		memcpy(buf, &stream[pos], len);
		hint = proto_hs_read_hint(hs);
		c = proto_hs_input(hs, buf, len);
		free(buf);
		HSF_CHECK(c <= len);
		HSF_CHECK(c <= hint);
		consumed += c;
		HSF_CHECK(consumed <= HSF_MSGLEN);
		hsf_service(hs, role, sent, &nsent, consumed, mac_ok);
		if (proto_hs_want(hs) & (PROTO_HS_FAILED | PROTO_HS_DONE))
			break;
	}

	/* A finished machine takes nothing more. */
	if (proto_hs_want(hs) & (PROTO_HS_FAILED | PROTO_HS_DONE))
		HSF_CHECK(proto_hs_input(hs, stream, slen) == 0);

	/* Judge the outcome. */
	if (proto_hs_want(hs) == PROTO_HS_DONE) {
		HSF_CHECK(fixed && (consumed == HSF_MSGLEN));
		HSF_CHECK(nsent == HSF_MSGLEN);
	}
	if (fixed && (consumed == HSF_MSGLEN)) {
		int good = (crypto_dh_sanitycheck(&stream[32]) == 0) &&
		    !hsf_is_degenerate(&stream[32]) &&
		    !(requirepfs && hsf_is_one(&stream[32]));

		HSF_CHECK((proto_hs_want(hs) == PROTO_HS_DONE) == good);
	}
	if (!fixed)
		HSF_CHECK(proto_hs_want(hs) != PROTO_HS_DONE);

	proto_hs_free(hs);
	return (0);
}

#endif /* !HS_FUZZ_COMMON_H_ */
