#ifndef RP_BUFRING_H_
#define RP_BUFRING_H_

/*
 * A worker's provided-buffer ring: buffers of one size, carved from the
 * worker's region and registered with its io_uring as one buffer group,
 * from which multishot receives take a buffer per completion.  The
 * receiver keeps the buffers it was handed in per-direction queues
 * (struct rp_bufq), linked through the ring's own table, and gives each
 * back once its bytes have been taken.
 */

#include <stddef.h>
#include <stdint.h>

#include <liburing.h>

struct rp_region;

struct rp_bufring {
	struct io_uring_buf_ring * br;	/* Entries the kernel takes from. */
	uint8_t * bufs;			/* nbufs buffers of bufsz bytes. */
	size_t bufsz;			/* Bytes the kernel receives. */
	size_t headroom;		/* Bytes before each it leaves alone. */
	size_t slot;			/* headroom + bufsz. */
	unsigned nbufs;
	unsigned nents;			/* Ring entries: nbufs, rounded up to
					   a power of 2. */
	unsigned nfree;			/* In the kernel's hands. */
	unsigned bgid;
	uint16_t * next;		/* Queue link of each buffer. */
	uint32_t * len;			/* Bytes received into each. */
	uint8_t * raw;			/* The region memory of br. */
};

/* A queue of received buffers, oldest first. */
struct rp_bufq {
	int head, tail;			/* Buffer ids, -1: empty. */
	uint32_t off;			/* Bytes of head already taken. */
	size_t bytes;			/* Bytes not yet taken. */
};

/**
 * rp_bufring_init(b, ring, region, bgid, nbufs, bufsz, headroom):
 * Carve ${nbufs} buffers of ${bufsz} bytes, each after ${headroom} bytes
 * the kernel does not write, and their ring from ${region}, register them
 * with ${ring} as buffer group ${bgid}, and give them all to the kernel.
 * Return 0, or -1 (nothing is kept) if the region has no room or the
 * kernel refuses.
 */
int rp_bufring_init(struct rp_bufring * b, struct io_uring * ring,
    struct rp_region * region, unsigned bgid, unsigned nbufs, size_t bufsz,
    size_t headroom);

/**
 * rp_bufring_fini(b, ring, region):
 * Unregister ${b} from ${ring} and give its memory back to ${region}.
 */
void rp_bufring_fini(struct rp_bufring * b, struct io_uring * ring,
    struct rp_region * region);

/**
 * rp_bufq_init(q):
 * Make ${q} an empty queue.
 */
void rp_bufq_init(struct rp_bufq * q);

/**
 * rp_bufq_push(b, q, bid, len):
 * Append buffer ${bid} of ${b}, which a completion says holds ${len}
 * bytes, to ${q}.
 */
void rp_bufq_push(struct rp_bufring * b, struct rp_bufq * q, unsigned bid,
    size_t len);

/**
 * rp_bufq_take(b, q, dst, max):
 * Copy up to ${max} of the oldest bytes of ${q} to ${dst}, giving each
 * buffer emptied back to the kernel; return how many were copied.
 */
size_t rp_bufq_take(struct rp_bufring * b, struct rp_bufq * q, uint8_t * dst,
    size_t max);

/**
 * rp_bufq_head(b, q, len, before, after):
 * Return the oldest bytes of ${q} not yet taken (NULL if none), with their
 * number in *${len}, the bytes before them in their buffer (the headroom
 * too) in *${before}, and the bytes after them in *${after}.
 */
uint8_t * rp_bufq_head(const struct rp_bufring * b, const struct rp_bufq * q,
    size_t * len, size_t * before, size_t * after);

/**
 * rp_bufq_lent(b, q, held, n):
 * The oldest ${n} bytes of ${q} were lent: take them off ${q}, moving each
 * buffer emptied to ${held}, where it waits to be given back.
 */
void rp_bufq_lent(struct rp_bufring * b, struct rp_bufq * q,
    struct rp_bufq * held, size_t n);

/**
 * rp_bufq_drop(b, q):
 * Give every buffer of ${q} back to the kernel, unread.
 */
void rp_bufq_drop(struct rp_bufring * b, struct rp_bufq * q);

/**
 * rp_bufring_put(b, bid):
 * Give buffer ${bid} of ${b} back to the kernel.
 */
void rp_bufring_put(struct rp_bufring * b, unsigned bid);

#endif /* !RP_BUFRING_H_ */
