/*
 * A worker region's fixed buffers: overlapping windows of a sparse buffer
 * table, each registered the first time a send needs it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "rp_fixbuf.h"

/* The kernel's bound on a buffer table (IORING_MAX_REG_BUFFERS). */
#define FIXBUF_MAX_SLOTS	(1U << 14)

/**
 * rp_fixbuf_init(f, ring, base, size):
 * Give ${ring} a sparse buffer table of one slot per window of the region
 * of ${size} bytes at ${base}, none registered.  Return 0, or the negative
 * errno of the kernel's refusal (${f} is then empty, and every lookup
 * finds no slot).
 */
int
rp_fixbuf_init(struct rp_fixbuf * f, struct io_uring * ring,
    const uint8_t * base, size_t size)
{
	size_t n;
	int rc;

	memset(f, 0, sizeof(*f));
	n = (size + RP_FIXBUF_WIN - 1) / RP_FIXBUF_WIN;
	if (n == 0)
		return (-EINVAL);
	if (n > FIXBUF_MAX_SLOTS)
		n = FIXBUF_MAX_SLOTS;
	if ((f->state = calloc(n, 1)) == NULL) {
		rc = -ENOMEM;
		goto err0;
	}
	if ((rc = io_uring_register_buffers_sparse(ring, (unsigned)n)) != 0)
		goto err1;
	f->base = base;
	f->size = size;
	f->nslots = (unsigned)n;
	return (0);

err1:
	free(f->state);
	f->state = NULL;
err0:
	return (rc);
}

/**
 * rp_fixbuf_fini(f, ring):
 * Drop ${f}'s table from ${ring}.
 */
void
rp_fixbuf_fini(struct rp_fixbuf * f, struct io_uring * ring)
{

	if (f->base != NULL)
		(void)io_uring_unregister_buffers(ring);
	free(f->state);
	memset(f, 0, sizeof(*f));
}

/**
 * rp_fixbuf_window(f, buf, len, iov):
 * The slot of ${f} that holds the ${len} bytes at ${buf}, with its span
 * in *${iov}; -1 if none can (not in the region, too long, or no table).
 */
int
rp_fixbuf_window(const struct rp_fixbuf * f, const uint8_t * buf,
    size_t len, struct iovec * iov)
{
	size_t off, k, end;

	if (f->base == NULL || buf < f->base || len == 0 ||
	    len > RP_FIXBUF_WIN)
		return (-1);
	off = (size_t)(buf - f->base);
	if (off >= f->size || len > f->size - off)
		return (-1);
	if ((k = off / RP_FIXBUF_WIN) >= f->nslots)
		return (-1);

	/* Windows k and k + 1, clipped to the region: off - k * WIN < WIN
	 * and len <= WIN, so the send ends within them. */
	end = (k + 2) * RP_FIXBUF_WIN;
	if (end > f->size)
		end = f->size;
	iov->iov_base = (void *)(uintptr_t)(f->base + k * RP_FIXBUF_WIN);
	iov->iov_len = end - k * RP_FIXBUF_WIN;
	return ((int)k);
}

/**
 * rp_fixbuf_slot(f, ring, buf, len):
 * The index of the registered fixed buffer of ${ring} that holds the
 * ${len} bytes at ${buf}, registering its slot first if no send has
 * needed it yet; -1 if there is none (the caller sends from ${buf} as it
 * is).  After the kernel refuses one slot, no more are tried
 * (${f}->failed holds its errno).
 */
int
rp_fixbuf_slot(struct rp_fixbuf * f, struct io_uring * ring,
    const uint8_t * buf, size_t len)
{
	struct iovec iov;
	int k, rc;

	if ((k = rp_fixbuf_window(f, buf, len, &iov)) < 0)
		return (-1);
	if (f->state[k] == RP_FIXBUF_OK)
		return (k);
	if (f->failed)
		return (-1);
	if ((rc = io_uring_register_buffers_update_tag(ring, (unsigned)k,
	    &iov, NULL, 1)) != 1) {
		/* RLIMIT_MEMLOCK, most likely: pinned pages are counted
		 * against it unless the process may lock memory. */
		f->failed = rc < 0 ? -rc : EIO;
		return (-1);
	}
	f->state[k] = RP_FIXBUF_OK;
	return (k);
}
