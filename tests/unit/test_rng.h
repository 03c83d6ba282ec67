#ifndef TEST_RNG_H_
#define TEST_RNG_H_

/*
 * Deterministic pseudo-random numbers for unit tests (xorshift64*).  Each
 * test file has its own state, starting at TEST_RNG_SEED if it defines one
 * before including this header.
 */

#include <stddef.h>
#include <stdint.h>

#ifndef TEST_RNG_SEED
#define TEST_RNG_SEED 0x9e3779b97f4a7c15ULL
#endif

static uint64_t rngstate = TEST_RNG_SEED;

/**
 * rng():
 * Return the next pseudo-random 64-bit number.
 */
static inline uint64_t
rng(void)
{

	rngstate ^= rngstate >> 12;
	rngstate ^= rngstate << 25;
	rngstate ^= rngstate >> 27;
	return (rngstate * 0x2545f4914f6cdd1dULL);
}

/**
 * rngfill(p, n):
 * Fill ${p}[0..${n}) with pseudo-random bytes.
 */
static inline void
rngfill(uint8_t * p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 32);
}

#endif /* !TEST_RNG_H_ */
