#include "tl_fifo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int
tl_fifo_init(struct tl_fifo *f, size_t cap)
{
	memset(f, 0, sizeof(*f));
	if ((f->buf = malloc(cap)) == NULL)
		return (-1);
	f->cap = cap;
	return (0);
}

void
tl_fifo_free(struct tl_fifo *f)
{
	free(f->buf);
	f->buf = NULL;
	f->cap = 0;
}

size_t
tl_fifo_len(const struct tl_fifo *f)
{
	return ((size_t)(f->in - f->out));
}

size_t
tl_fifo_space(const struct tl_fifo *f)
{
	return (f->cap - tl_fifo_len(f));
}

/* Up to two iovecs covering ${n} bytes starting at absolute ${pos}. */
static int
segs(const struct tl_fifo *f, uint64_t pos, size_t n, struct iovec iov[2])
{
	size_t at = (size_t)(pos % f->cap);
	size_t first = f->cap - at;

	iov[0].iov_base = f->buf + at;
	if (n <= first) {
		iov[0].iov_len = n;
		return (1);
	}
	iov[0].iov_len = first;
	iov[1].iov_base = f->buf;
	iov[1].iov_len = n - first;
	return (2);
}

ssize_t
tl_fifo_read_fd(struct tl_fifo *f, int fd, size_t max)
{
	struct iovec iov[2];
	size_t n = tl_fifo_space(f);
	ssize_t r;

	if (n > max)
		n = max;
	if (n == 0) {
		errno = EAGAIN;
		return (-1);
	}
	r = readv(fd, iov, segs(f, f->in, n, iov));
	if (r > 0)
		f->in += (uint64_t)r;
	return (r);
}

ssize_t
tl_fifo_write_fd(struct tl_fifo *f, int fd, size_t max)
{
	struct iovec iov[2];
	struct msghdr mh;
	size_t n = tl_fifo_len(f);
	ssize_t r;

	if (n > max)
		n = max;
	if (n == 0)
		return (0);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)segs(f, f->out, n, iov);
	r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	if (r > 0)
		f->out += (uint64_t)r;
	return (r);
}

size_t
tl_fifo_put(struct tl_fifo *f, const void *p, size_t n)
{
	struct iovec iov[2];
	int k, i;
	size_t done = 0;

	if (n > tl_fifo_space(f))
		n = tl_fifo_space(f);
	if (n == 0)
		return (0);
	k = segs(f, f->in, n, iov);
	for (i = 0; i < k; i++) {
		memcpy(iov[i].iov_base, (const uint8_t *)p + done, iov[i].iov_len);
		done += iov[i].iov_len;
	}
	f->in += n;
	return (n);
}

uint8_t *
tl_fifo_span(struct tl_fifo *f, size_t *len)
{
	size_t at = (size_t)(f->in % f->cap);
	size_t first = f->cap - at;
	size_t space = tl_fifo_space(f);

	*len = space < first ? space : first;
	return (f->buf + at);
}

void
tl_fifo_commit(struct tl_fifo *f, size_t k)
{
	f->in += k;
}
