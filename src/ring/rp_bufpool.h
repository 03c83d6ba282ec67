#ifndef RP_BUFPOOL_H_
#define RP_BUFPOOL_H_

/*
 * A worker's pool of fixed-size output slots in one region, registered with
 * the worker's io_uring when possible (so sends can use fixed buffers).
 * Single-threaded: owned by one worker.
 */

#include <stddef.h>
#include <stdint.h>

struct io_uring;

struct rp_bufpool {
	uint8_t * base;		/* The region: nslots * slotsize bytes. */
	size_t maplen;		/* Bytes mapped at base. */
	size_t slotsize;
	size_t nslots;
	size_t nfree;
	uint32_t * freelist;	/* Stack of free slot indices. */
	int registered;		/* 1 if registered as fixed buffer 0.. */
};

/**
 * rp_bufpool_init(bp, ring, slotsize, nslots, allow_register):
 * Create ${nslots} slots of ${slotsize} bytes and, if ${allow_register},
 * register each as a fixed buffer of ${ring} (index = slot index).  When not
 * privileged the slot count is cut to fit RLIMIT_MEMLOCK; on ENOMEM/EPERM the
 * pool stays unregistered.  Return 0 on success, -1 on failure.
 */
int rp_bufpool_init(struct rp_bufpool * bp, struct io_uring * ring,
    size_t slotsize, size_t nslots, int allow_register);

/**
 * rp_bufpool_get(bp):
 * Take a free slot and return its index, or -1 if none is free.
 */
int rp_bufpool_get(struct rp_bufpool * bp);

/**
 * rp_bufpool_put(bp, idx):
 * Return slot ${idx} to ${bp}.
 */
void rp_bufpool_put(struct rp_bufpool * bp, int idx);

/**
 * rp_bufpool_ptr(bp, idx):
 * Return the address of slot ${idx}.
 */
static inline uint8_t *
rp_bufpool_ptr(const struct rp_bufpool * bp, int idx)
{

	return (bp->base + (size_t)idx * bp->slotsize);
}

/**
 * rp_bufpool_free(bp):
 * Release the region of ${bp} (unregistering is left to ring teardown).
 */
void rp_bufpool_free(struct rp_bufpool * bp);

#endif /* !RP_BUFPOOL_H_ */
