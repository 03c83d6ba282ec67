#ifndef TL_WIRE_H
#define TL_WIRE_H
/*
 * tl_wire: the tiny framing rp-load uses with rp-target in sink mode.
 *
 * The client opens with a 32-byte header, then sends its pseudo-random
 * stream (tl_prng, seed_up) until it half-closes.  The target answers the
 * header at once with the 8-byte TL_WIRE_ACK (so the client knows the path
 * is up end to end), verifies the client's stream byte for byte, sends
 * bytes_down bytes of the stream for seed_down back
 * (TL_WIRE_UNTIL_EOF: until the client's EOF), then a 32-byte trailer, then
 * half-closes.  The client holds back the last 32 bytes it receives until
 * EOF: they are the trailer.  All integers are little-endian.
 *
 *   header:  "RPLOAD01" | seed_up | seed_down | bytes_down
 *   trailer: "RPTRLR01" | bytes_up_received | first_bad_up | bytes_down_sent
 *
 * first_bad_up is the offset of the first wrong byte received, or
 * TL_WIRE_NONE.
 */
#include <stdint.h>

#define TL_WIRE_HDR_LEN 32
#define TL_WIRE_ACK "RPACK001"
#define TL_WIRE_ACK_LEN 8
#define TL_WIRE_TRL_LEN 32
#define TL_WIRE_UNTIL_EOF UINT64_MAX
#define TL_WIRE_NONE UINT64_MAX

struct tl_wire_hdr {
	uint64_t seed_up;
	uint64_t seed_down;
	uint64_t bytes_down;
};

struct tl_wire_trl {
	uint64_t bytes_up;
	uint64_t first_bad_up;
	uint64_t bytes_down;
};

/* tl_wire_hdr_encode(h, out): write ${h} as 32 bytes to ${out}. */
void tl_wire_hdr_encode(const struct tl_wire_hdr *h, uint8_t out[32]);

/* tl_wire_hdr_decode(in, h): parse 32 bytes at ${in}; 0, or -1 if bad magic. */
int tl_wire_hdr_decode(const uint8_t in[32], struct tl_wire_hdr *h);

/* tl_wire_trl_encode(t, out): write ${t} as 32 bytes to ${out}. */
void tl_wire_trl_encode(const struct tl_wire_trl *t, uint8_t out[32]);

/* tl_wire_trl_decode(in, t): parse 32 bytes at ${in}; 0, or -1 if bad magic. */
int tl_wire_trl_decode(const uint8_t in[32], struct tl_wire_trl *t);

#endif
