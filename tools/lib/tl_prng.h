#ifndef TL_PRNG_H
#define TL_PRNG_H
/*
 * tl_prng: a seeded pseudo-random byte stream used to fill and verify test
 * data.  Four interleaved xorshift64 lanes (word i of the stream comes from
 * lane i % 4) so generation and checking run at several GB/s.  The stream is
 * a pure function of the seed: the sender fills with one state, the receiver
 * checks with another state seeded identically, in any chunking.
 */
#include <stddef.h>
#include <stdint.h>

struct tl_prng {
	uint64_t lane[4];	/* xorshift64 states */
	uint64_t pos;		/* bytes produced so far */
	uint8_t cur[8];		/* current word's bytes when pos % 8 != 0 */
};

/* tl_prng_init(p, seed): start the stream for ${seed} at position 0. */
void tl_prng_init(struct tl_prng *p, uint64_t seed);

/* tl_prng_fill(p, buf, n): write the next ${n} bytes of the stream to ${buf}. */
void tl_prng_fill(struct tl_prng *p, uint8_t *buf, size_t n);

/*
 * tl_prng_check(p, buf, n): compare ${buf}[0..n) with the next ${n} bytes of
 * the stream, advancing past them.  Return -1 if they match, else the index
 * within ${buf} of the first differing byte.
 */
ptrdiff_t tl_prng_check(struct tl_prng *p, const uint8_t *buf, size_t n);

/* tl_prng_seed(a, b): derive a well-mixed 64-bit seed from ${a} and ${b}. */
uint64_t tl_prng_seed(uint64_t a, uint64_t b);

#endif
