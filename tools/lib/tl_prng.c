#include "tl_prng.h"

#include <string.h>

/* Four 64-bit lanes in one vector (GCC/clang vector extension). */
typedef uint64_t tl_prng_v4 __attribute__((vector_size(32)));

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static inline uint64_t
xs64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return (x);
}

/* Next full word of the stream; requires pos % 8 == 0. */
static inline uint64_t
next_word(struct tl_prng *p)
{
	return (xs64(&p->lane[(p->pos >> 3) & 3]));
}

uint64_t
tl_prng_seed(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x2545f4914f6cdd1dULL ^ b;

	(void)splitmix64(&x);
	return (splitmix64(&x));
}

void
tl_prng_init(struct tl_prng *p, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++) {
		do {
			p->lane[i] = splitmix64(&x);
		} while (p->lane[i] == 0);
	}
	p->pos = 0;
	memset(p->cur, 0, sizeof(p->cur));
}

void
tl_prng_fill(struct tl_prng *p, uint8_t *buf, size_t n)
{
	uint64_t w[4];

	/* Finish a partly used word. */
	while (n > 0 && (p->pos & 7) != 0) {
		*buf++ = p->cur[p->pos & 7];
		p->pos++;
		n--;
	}
	/* Single words up to a four-word boundary. */
	while (n >= 8 && (p->pos & 31) != 0) {
		w[0] = next_word(p);
		memcpy(buf, &w[0], 8);
		buf += 8; n -= 8; p->pos += 8;
	}
	/* Four lanes at a time, as one SIMD vector (the same stream as four
	 * scalar xs64 steps: lane i's word lands at bytes 8i..8i+7). */
	if (n >= 32) {
		tl_prng_v4 v;

		memcpy(&v, p->lane, sizeof(v));
		while (n >= 32) {
			v ^= v << 13;
			v ^= v >> 7;
			v ^= v << 17;
			memcpy(buf, &v, 32);
			buf += 32; n -= 32; p->pos += 32;
		}
		memcpy(p->lane, &v, sizeof(v));
	}
	while (n >= 8) {
		w[0] = next_word(p);
		memcpy(buf, &w[0], 8);
		buf += 8; n -= 8; p->pos += 8;
	}
	/* Start a new word for the tail, in memory byte order like the rest. */
	if (n > 0) {
		w[0] = next_word(p);
		memcpy(p->cur, &w[0], 8);
		while (n > 0) {
			*buf++ = p->cur[p->pos & 7];
			p->pos++;
			n--;
		}
	}
}

ptrdiff_t
tl_prng_check(struct tl_prng *p, const uint8_t *buf, size_t n)
{
	uint8_t scratch[4096];
	size_t done = 0;
	size_t k, i;

	while (done < n) {
		k = n - done;
		if (k > sizeof(scratch))
			k = sizeof(scratch);
		tl_prng_fill(p, scratch, k);
		if (memcmp(scratch, buf + done, k) != 0) {
			for (i = 0; i < k; i++)
				if (scratch[i] != buf[done + i])
					return ((ptrdiff_t)(done + i));
		}
		done += k;
	}
	return (-1);
}
