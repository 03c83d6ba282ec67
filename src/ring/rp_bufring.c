/*
 * A worker's provided-buffer ring, and the queues of received buffers
 * that its multishot receives fill.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#include "rp_bufring.h"
#include "rp_region.h"

/* The kernel wants the ring's entries page-aligned. */
#define BUFRING_ALIGN	4096

/* Bytes of region memory the ring entries of ${n} buffers take, with room
 * to align them. */
static size_t
bufring_ring_bytes(unsigned n)
{

	return (n * sizeof(struct io_uring_buf) + BUFRING_ALIGN);
}

/* Where the kernel receives into buffer ${bid} of ${b}. */
static inline uint8_t *
bufring_addr(const struct rp_bufring * b, unsigned bid)
{

	return (b->bufs + (size_t)bid * b->slot + b->headroom);
}

/**
 * rp_bufring_init(b, ring, region, bgid, nbufs, bufsz, headroom):
 * Carve ${nbufs} buffers of ${bufsz} bytes, each after ${headroom} bytes
 * the kernel does not write, and their ring from ${region}, register them
 * with ${ring} as buffer group ${bgid}, and give them all to the kernel.
 * Return 0, or -1 (nothing is kept) if the region has no room or the
 * kernel refuses.
 */
int
rp_bufring_init(struct rp_bufring * b, struct io_uring * ring,
    struct rp_region * region, unsigned bgid, unsigned nbufs, size_t bufsz,
    size_t headroom)
{
	size_t slot = headroom + bufsz;

	struct io_uring_buf_reg reg;
	uint8_t * raw;
	unsigned i, nents;

	memset(b, 0, sizeof(*b));
	if (nbufs == 0 || nbufs > 32768)
		goto err0;
	for (nents = 1; nents < nbufs; nents *= 2)
		continue;
	if ((b->next = calloc(nbufs, sizeof(*b->next))) == NULL)
		goto err0;
	if ((b->len = calloc(nbufs, sizeof(*b->len))) == NULL)
		goto err1;
	/* Region memory, not the heap: the ring entries and the buffers lie
	 * in what the worker registered and budgets. */
	if ((raw = rp_region_alloc(region, bufring_ring_bytes(nents))) == NULL ||
	    !rp_region_has(region, raw))
		goto err2;
	b->br = (void *)(((uintptr_t)raw + BUFRING_ALIGN - 1) &
	    ~(uintptr_t)(BUFRING_ALIGN - 1));
	if ((b->bufs = rp_region_alloc(region, nbufs * slot)) == NULL ||
	    !rp_region_has(region, b->bufs))
		goto err3;
	b->bufsz = bufsz;
	b->headroom = headroom;
	b->slot = slot;
	b->nbufs = nbufs;
	b->nents = nents;
	b->bgid = bgid;
	io_uring_buf_ring_init(b->br);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)b->br;
	reg.ring_entries = nents;
	reg.bgid = (uint16_t)bgid;
	if (io_uring_register_buf_ring(ring, &reg, 0))
		goto err4;
	for (i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(b->br, bufring_addr(b, i),
		    (unsigned)bufsz, (unsigned short)i,
		    io_uring_buf_ring_mask(nents), (int)i);
	io_uring_buf_ring_advance(b->br, (int)nbufs);
	b->nfree = nbufs;
	b->raw = raw;
	return (0);

err4:
	rp_region_release(region, b->bufs, nbufs * slot);
err3:
	rp_region_release(region, raw, bufring_ring_bytes(nents));
err2:
	free(b->len);
err1:
	free(b->next);
err0:
	memset(b, 0, sizeof(*b));
	return (-1);
}

/**
 * rp_bufring_fini(b, ring, region):
 * Unregister ${b} from ${ring} and give its memory back to ${region}.
 */
void
rp_bufring_fini(struct rp_bufring * b, struct io_uring * ring,
    struct rp_region * region)
{

	if (b->br == NULL)
		return;
	(void)io_uring_unregister_buf_ring(ring, (int)b->bgid);
	rp_region_release(region, b->bufs, b->nbufs * b->slot);
	rp_region_release(region, b->raw, bufring_ring_bytes(b->nents));
	free(b->len);
	free(b->next);
	memset(b, 0, sizeof(*b));
}

/**
 * rp_bufring_put(b, bid):
 * Give buffer ${bid} of ${b} back to the kernel.
 */
void
rp_bufring_put(struct rp_bufring * b, unsigned bid)
{

	io_uring_buf_ring_add(b->br, bufring_addr(b, bid),
	    (unsigned)b->bufsz, (unsigned short)bid,
	    io_uring_buf_ring_mask(b->nents), 0);
	io_uring_buf_ring_advance(b->br, 1);
	b->nfree++;
}

/**
 * rp_bufq_init(q):
 * Make ${q} an empty queue.
 */
void
rp_bufq_init(struct rp_bufq * q)
{

	q->head = q->tail = -1;
	q->off = 0;
	q->bytes = 0;
}

/**
 * rp_bufq_push(b, q, bid, len):
 * Append buffer ${bid} of ${b}, which a completion says holds ${len}
 * bytes, to ${q}.
 */
void
rp_bufq_push(struct rp_bufring * b, struct rp_bufq * q, unsigned bid,
    size_t len)
{

	b->nfree--;
	b->len[bid] = (uint32_t)len;
	if (q->tail < 0)
		q->head = (int)bid;
	else
		b->next[q->tail] = (uint16_t)bid;
	q->tail = (int)bid;
	q->bytes += len;
}

/* Take the head buffer off ${q} and return its id. */
static unsigned
bufq_unlink(struct rp_bufring * b, struct rp_bufq * q)
{
	unsigned bid = (unsigned)q->head;

	q->head = (q->head == q->tail) ? -1 : (int)b->next[bid];
	if (q->head < 0)
		q->tail = -1;
	q->off = 0;
	return (bid);
}

/* Take the head buffer off ${q} and give it back to the kernel. */
static void
bufq_pop(struct rp_bufring * b, struct rp_bufq * q)
{

	rp_bufring_put(b, bufq_unlink(b, q));
}

/**
 * rp_bufq_head(b, q, len, before, after):
 * Return the oldest bytes of ${q} not yet taken (NULL if none), with their
 * number in *${len}, the bytes before them in their buffer (the headroom
 * too) in *${before}, and the bytes after them in *${after}.
 */
uint8_t *
rp_bufq_head(const struct rp_bufring * b, const struct rp_bufq * q,
    size_t * len, size_t * before, size_t * after)
{
	unsigned bid;

	if (q->head < 0)
		return (NULL);
	bid = (unsigned)q->head;
	*len = b->len[bid] - q->off;
	*before = b->headroom + q->off;
	*after = b->bufsz - b->len[bid];
	return (bufring_addr(b, bid) + q->off);
}

/**
 * rp_bufq_lent(b, q, held, n):
 * The oldest ${n} bytes of ${q} were lent: take them off ${q}, moving each
 * buffer emptied to ${held}, where it waits to be given back.
 */
void
rp_bufq_lent(struct rp_bufring * b, struct rp_bufq * q, struct rp_bufq * held,
    size_t n)
{
	size_t k;
	unsigned bid;

	q->bytes -= n;
	while (n > 0 && q->head >= 0) {
		bid = (unsigned)q->head;
		k = b->len[bid] - q->off;
		if (k > n) {
			q->off += (uint32_t)n;
			return;
		}
		n -= k;
		(void)bufq_unlink(b, q);
		if (held->tail < 0)
			held->head = (int)bid;
		else
			b->next[held->tail] = (uint16_t)bid;
		held->tail = (int)bid;
	}
}

/**
 * rp_bufq_take(b, q, dst, max):
 * Copy up to ${max} of the oldest bytes of ${q} to ${dst}, giving each
 * buffer emptied back to the kernel; return how many were copied.
 */
size_t
rp_bufq_take(struct rp_bufring * b, struct rp_bufq * q, uint8_t * dst,
    size_t max)
{
	size_t n = 0, k;
	unsigned bid;

	while (n < max && q->head >= 0) {
		bid = (unsigned)q->head;
		k = b->len[bid] - q->off;
		if (k > max - n)
			k = max - n;
		memcpy(dst + n, bufring_addr(b, bid) + q->off, k);
		n += k;
		q->off += (uint32_t)k;
		if (q->off == b->len[bid])
			bufq_pop(b, q);
	}
	q->bytes -= n;
	return (n);
}

/**
 * rp_bufq_drop(b, q):
 * Give every buffer of ${q} back to the kernel, unread.
 */
void
rp_bufq_drop(struct rp_bufring * b, struct rp_bufq * q)
{

	while (q->head >= 0)
		bufq_pop(b, q);
	q->bytes = 0;
}
