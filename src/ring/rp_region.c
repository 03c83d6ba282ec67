/*
 * A worker's buffer region: a mapping cut into grains, with one bit per
 * grain (set: in use) and first-fit runs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "rp_region.h"

struct rp_region {
	uint8_t * base;
	size_t size;		/* Bytes mapped: ngrains grains. */
	size_t ngrains;
	size_t small;		/* Heap fallback at most this long. */
	size_t hint;		/* First grain that may be free. */
	uint64_t * map;		/* Bit g set: grain g is in use. */
};

#define BIT(g)	((uint64_t)1 << ((g) % 64))

/**
 * rp_region_new(size, small):
 * Map a region of ${size} bytes (rounded up to whole grains).  Buffers of
 * at most ${small} bytes fall back to the heap when the region is full.
 * Return NULL on failure.
 */
struct rp_region *
rp_region_new(size_t size, size_t small)
{
	struct rp_region * r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto err0;
	r->ngrains = (size + RP_REGION_GRAIN - 1) / RP_REGION_GRAIN;
	if (r->ngrains == 0)
		r->ngrains = 1;
	r->size = r->ngrains * RP_REGION_GRAIN;
	r->small = small;
	if ((r->map = calloc((r->ngrains + 63) / 64, sizeof(uint64_t))) ==
	    NULL)
		goto err1;
	/* Pages are touched as used: nothing pins the whole region. */
	if ((r->base = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		goto err2;
	return (r);

err2:
	free(r->map);
err1:
	free(r);
err0:
	return (NULL);
}

/**
 * rp_region_free(r):
 * Unmap ${r}; every buffer of it must have been released.  NULL is a no-op.
 */
void
rp_region_free(struct rp_region * r)
{

	if (r == NULL)
		return;
	munmap(r->base, r->size);
	free(r->map);
	free(r);
}

/**
 * rp_region_base(r, size):
 * Return the start of ${r}'s mapping and put its length in *${size}.
 */
void *
rp_region_base(const struct rp_region * r, size_t * size)
{

	*size = r->size;
	return (r->base);
}

/**
 * rp_region_has(r, p):
 * Return non-zero if ${p} points into ${r}.
 */
int
rp_region_has(const struct rp_region * r, const void * p)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)r->base;

	return (a >= b && a < b + r->size);
}

/* Find ${n} free grains in a row from the hint on, then from the start;
 * return the first, or ngrains if there is no such run. */
static size_t
region_find(const struct rp_region * r, size_t n)
{
	size_t g, run, start, pass;

	for (pass = 0; pass < 2; pass++) {
		run = 0;
		start = g = (pass == 0) ? r->hint : 0;
		while (g < r->ngrains) {
			/* Skip whole words in use. */
			if (run == 0 && g % 64 == 0 && g + 64 <= r->ngrains &&
			    r->map[g / 64] == UINT64_MAX) {
				g += 64;
				start = g;
				continue;
			}
			if (r->map[g / 64] & BIT(g)) {
				run = 0;
				start = ++g;
				continue;
			}
			if (++run == n)
				return (start);
			g++;
		}
		if (r->hint == 0)
			break;
	}
	return (r->ngrains);
}

/**
 * rp_region_alloc(arg, len):
 * Return a buffer of ${len} bytes from the region ${arg} (a struct
 * rp_region), or from the heap if the region is full and ${len} is small;
 * NULL if neither has room.  (The proto_pipe_env allocation hook.)
 */
void *
rp_region_alloc(void * arg, size_t len)
{
	struct rp_region * r = arg;
	size_t n = (len + RP_REGION_GRAIN - 1) / RP_REGION_GRAIN, g, i;

	if (n == 0)
		n = 1;
	if ((g = region_find(r, n)) == r->ngrains)
		return (len <= r->small ? malloc(len) : NULL);
	for (i = g; i < g + n; i++)
		r->map[i / 64] |= BIT(i);
	if (g == r->hint)
		r->hint = g + n;
	return (r->base + g * RP_REGION_GRAIN);
}

/**
 * rp_region_release(arg, p, len):
 * Give back the buffer ${p} of ${len} bytes that rp_region_alloc(${arg},
 * ${len}) returned.  NULL is a no-op.  (The proto_pipe_env release hook.)
 */
void
rp_region_release(void * arg, void * p, size_t len)
{
	struct rp_region * r = arg;
	size_t n = (len + RP_REGION_GRAIN - 1) / RP_REGION_GRAIN, g, i;

	if (p == NULL)
		return;
	if (!rp_region_has(r, p)) {
		free(p);
		return;
	}
	if (n == 0)
		n = 1;
	g = (size_t)((uint8_t *)p - r->base) / RP_REGION_GRAIN;
	for (i = g; i < g + n; i++)
		r->map[i / 64] &= ~BIT(i);
	if (g < r->hint)
		r->hint = g;
}
