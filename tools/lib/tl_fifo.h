#ifndef TL_FIFO_H
#define TL_FIFO_H
/*
 * tl_fifo: a fixed-capacity byte ring buffer between sockets.  Positions are
 * absolute 64-bit byte counts (in = bytes ever added, out = bytes ever
 * removed), so callers can attach metadata (e.g. release times) to ranges.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tl_fifo {
	uint8_t *buf;
	size_t cap;
	uint64_t in;		/* total bytes added */
	uint64_t out;		/* total bytes removed */
};

/* tl_fifo_init(f, cap): allocate ${cap} bytes for ${f}.  0 or -1 (ENOMEM). */
int tl_fifo_init(struct tl_fifo *f, size_t cap);

/* tl_fifo_free(f): release ${f}'s buffer. */
void tl_fifo_free(struct tl_fifo *f);

/* tl_fifo_len(f): bytes queued in ${f}. */
size_t tl_fifo_len(const struct tl_fifo *f);

/* tl_fifo_space(f): bytes that can still be added to ${f}. */
size_t tl_fifo_space(const struct tl_fifo *f);

/*
 * tl_fifo_read_fd(f, fd, max): read at most ${max} bytes (and at most the
 * free space) from ${fd} into ${f}.  Return like read(2): bytes added, 0 at
 * EOF, -1 with errno set (EAGAIN if nothing is available).
 */
ssize_t tl_fifo_read_fd(struct tl_fifo *f, int fd, size_t max);

/*
 * tl_fifo_write_fd(f, fd, max): send at most ${max} queued bytes of ${f} to
 * ${fd} (MSG_NOSIGNAL) and remove what was sent.  Return bytes sent or -1
 * with errno set.
 */
ssize_t tl_fifo_write_fd(struct tl_fifo *f, int fd, size_t max);

/*
 * tl_fifo_put(f, p, n): append up to ${n} bytes from ${p} to ${f}; return
 * how many fitted.
 */
size_t tl_fifo_put(struct tl_fifo *f, const void *p, size_t n);

/*
 * tl_fifo_span(f, len): a pointer to the longest contiguous run of free
 * space in ${f}, its length stored in ${len}; after writing k bytes there
 * call tl_fifo_commit(f, k).
 */
uint8_t *tl_fifo_span(struct tl_fifo *f, size_t *len);

/* tl_fifo_commit(f, k): count ${k} bytes written at tl_fifo_span() as added. */
void tl_fifo_commit(struct tl_fifo *f, size_t k);

#endif
