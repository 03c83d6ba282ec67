#ifndef RP_REGION_H_
#define RP_REGION_H_

/*
 * A worker's buffer region: one mapping, sized at start, from which the
 * data buffers of its pipes come (proto_pipe_env's allocator hooks), and
 * from which the io_uring engine carves the provided-buffer ring it
 * registers with its ring once (rp_bufring.c).  Buffers are runs of
 * RP_REGION_GRAIN-byte grains, first fit.  Buffers of at most the size
 * given at creation come from the heap when the region is full (a pair is
 * never refused for lack of region).
 */

#include <stddef.h>
#include <stdint.h>

#define RP_REGION_GRAIN	2048

struct rp_region;

/**
 * rp_region_new(size, small):
 * Map a region of ${size} bytes (rounded up to whole grains).  Buffers of
 * at most ${small} bytes fall back to the heap when the region is full.
 * Return NULL on failure.
 */
struct rp_region * rp_region_new(size_t size, size_t small);

/**
 * rp_region_free(r):
 * Unmap ${r}; every buffer of it must have been released.  NULL is a no-op.
 */
void rp_region_free(struct rp_region * r);

/**
 * rp_region_base(r, size):
 * Return the start of ${r}'s mapping and put its length in *${size}.
 */
void * rp_region_base(const struct rp_region * r, size_t * size);

/**
 * rp_region_has(r, p):
 * Return non-zero if ${p} points into ${r}.
 */
int rp_region_has(const struct rp_region * r, const void * p);

/**
 * rp_region_alloc(arg, len):
 * Return a buffer of ${len} bytes from the region ${arg} (a struct
 * rp_region), or from the heap if the region is full and ${len} is small;
 * NULL if neither has room.  (The proto_pipe_env allocation hook.)
 */
void * rp_region_alloc(void * arg, size_t len);

/**
 * rp_region_release(arg, p, len):
 * Give back the buffer ${p} of ${len} bytes that rp_region_alloc(${arg},
 * ${len}) returned.  NULL is a no-op.  (The proto_pipe_env release hook.)
 */
void rp_region_release(void * arg, void * p, size_t len);

#endif /* !RP_REGION_H_ */
