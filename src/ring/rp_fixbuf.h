#ifndef RP_FIXBUF_H_
#define RP_FIXBUF_H_

/*
 * A worker region's fixed buffers, for SEND_ZC in its fixed-buffer form:
 * the region is cut into windows of RP_FIXBUF_WIN bytes, and slot k of the
 * ring's (sparse) buffer table covers windows k and k + 1, so that any
 * send of at most RP_FIXBUF_WIN bytes that starts in window k lies within
 * slot k.  A slot is registered the first time a send needs it: fixed
 * buffers pin their pages, and registering the whole region at start
 * would fault in memory the connections may never touch.
 */

#include <stddef.h>
#include <stdint.h>

#include <liburing.h>

/* Window size: at least the longest send (PROTO_PIPE_SEND_MAX). */
#define RP_FIXBUF_WIN	(64U << 10)

struct rp_fixbuf {
	const uint8_t * base;		/* The region; NULL: no table. */
	size_t size;
	unsigned nslots;
	uint8_t * state;		/* Per slot: RP_FIXBUF_*. */
	int failed;			/* The errno of the kernel's refusal
					   of a slot; 0: none. */
};

#define RP_FIXBUF_NONE	0		/* Not registered (yet). */
#define RP_FIXBUF_OK	1		/* Registered. */

/**
 * rp_fixbuf_init(f, ring, base, size):
 * Give ${ring} a sparse buffer table of one slot per window of the region
 * of ${size} bytes at ${base}, none registered.  Return 0, or the negative
 * errno of the kernel's refusal (${f} is then empty, and every lookup
 * finds no slot).
 */
int rp_fixbuf_init(struct rp_fixbuf * f, struct io_uring * ring,
    const uint8_t * base, size_t size);

/**
 * rp_fixbuf_fini(f, ring):
 * Drop ${f}'s table from ${ring}.
 */
void rp_fixbuf_fini(struct rp_fixbuf * f, struct io_uring * ring);

/**
 * rp_fixbuf_window(f, buf, len, iov):
 * The slot of ${f} that holds the ${len} bytes at ${buf}, with its span
 * in *${iov}; -1 if none can (not in the region, too long, or no table).
 */
int rp_fixbuf_window(const struct rp_fixbuf * f, const uint8_t * buf,
    size_t len, struct iovec * iov);

/**
 * rp_fixbuf_slot(f, ring, buf, len):
 * The index of the registered fixed buffer of ${ring} that holds the
 * ${len} bytes at ${buf}, registering its slot first if no send has
 * needed it yet; -1 if there is none (the caller sends from ${buf} as it
 * is).  After the kernel refuses one slot, no more are tried
 * (${f}->failed holds its errno).
 */
int rp_fixbuf_slot(struct rp_fixbuf * f, struct io_uring * ring,
    const uint8_t * buf, size_t len);

#endif /* !RP_FIXBUF_H_ */
