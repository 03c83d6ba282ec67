/*
 * Unit tests of a region's fixed buffers (src/ring/rp_fixbuf.c): which
 * slot holds a send, and a SEND_ZC in the fixed-buffer form from a slot
 * registered on first use, over loopback TCP, arriving intact, while a
 * send naming a slot never registered is refused by the kernel.  The
 * ring parts are skipped where io_uring or SEND_ZC is unavailable.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>
#include <liburing.h>

#include "rp_fixbuf.h"
#include "rp_region.h"

#define W	RP_FIXBUF_WIN

/* Windows: a send lies in the slot of the window it starts in, which
 * spans that window and the next, clipped to the region. */
static void
t_window(void ** state)
{
	static uint8_t mem[4 * W + 100];
	struct rp_fixbuf f = { .base = mem, .size = sizeof(mem), .nslots = 5 };
	struct iovec iov;

	(void)state;
	assert_int_equal(rp_fixbuf_window(&f, mem, 1, &iov), 0);
	assert_ptr_equal(iov.iov_base, mem);
	assert_int_equal(iov.iov_len, 2 * W);
	/* Starts at the last byte of window 0, ends in window 1. */
	assert_int_equal(rp_fixbuf_window(&f, mem + W - 1, W, &iov), 0);
	assert_int_equal(rp_fixbuf_window(&f, mem + W, W, &iov), 1);
	assert_ptr_equal(iov.iov_base, mem + W);
	/* The last windows are clipped to the region. */
	assert_int_equal(rp_fixbuf_window(&f, mem + 3 * W + 5, W, &iov), 3);
	assert_int_equal(iov.iov_len, W + 100);
	assert_int_equal(rp_fixbuf_window(&f, mem + 4 * W + 50, 50, &iov), 4);
	assert_int_equal(iov.iov_len, 100);
	/* What no slot holds. */
	assert_int_equal(rp_fixbuf_window(&f, mem + 4 * W + 50, 51, &iov), -1);
	assert_int_equal(rp_fixbuf_window(&f, mem, W + 1, &iov), -1);
	assert_int_equal(rp_fixbuf_window(&f, mem, 0, &iov), -1);
	assert_int_equal(rp_fixbuf_window(&f, mem + sizeof(mem), 1, &iov), -1);
	assert_int_equal(rp_fixbuf_window(&f, (uint8_t *)&f, 1, &iov), -1);
	f.base = NULL;
	assert_int_equal(rp_fixbuf_window(&f, mem, 1, &iov), -1);
}

/* A connected loopback TCP pair in ${sv}; -1 if none can be made. */
static int
tcp_pair(int sv[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &alen) ||
	    (sv[0] = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		close(l);
		return (-1);
	}
	if (connect(sv[0], (struct sockaddr *)&a, sizeof(a)) ||
	    (sv[1] = accept(l, NULL, NULL)) == -1) {
		close(sv[0]);
		close(l);
		return (-1);
	}
	close(l);
	return (0);
}

/* Send ${len} bytes at ${buf} on ${fd} with SEND_ZC from fixed buffer
 * ${k}; return the send's result, once the kernel is done with it. */
static int
send_fixed(struct io_uring * ring, int fd, const uint8_t * buf, size_t len,
    int k)
{
	struct io_uring_sqe * sqe;
	struct io_uring_cqe * cqe;
	int res = 0, more = 1, first = 1;

	assert_non_null(sqe = io_uring_get_sqe(ring));
	io_uring_prep_send_zc_fixed(sqe, fd, buf, len, MSG_WAITALL, 0,
	    (unsigned)k);
	assert_int_equal(io_uring_submit(ring), 1);
	while (more) {
		assert_int_equal(io_uring_wait_cqe(ring, &cqe), 0);
		if (first)
			res = cqe->res;
		first = 0;
		more = (cqe->flags & IORING_CQE_F_MORE) != 0 &&
		    !(cqe->flags & IORING_CQE_F_NOTIF);
		io_uring_cqe_seen(ring, cqe);
	}
	return (res);
}

/* A send from a slot registered on first use arrives intact; the slot is
 * registered once; a slot never registered is refused. */
static void
t_send(void ** state)
{
	struct io_uring ring;
	struct rp_region * r;
	struct rp_fixbuf f;
	uint8_t * base, * buf, * got;
	size_t size, len = 60000, n = 0, i;
	ssize_t m;
	int sv[2] = { -1, -1 }, k;

	(void)state;
	if (io_uring_queue_init(8, &ring, 0))
		skip();
	assert_non_null(r = rp_region_new(1 << 20, 0));
	base = rp_region_base(r, &size);
	if (rp_fixbuf_init(&f, &ring, base, size) != 0) {
		rp_region_free(r);
		io_uring_queue_exit(&ring);
		skip();
	}
	assert_int_equal(f.nslots, size / W);
	assert_int_equal(tcp_pair(sv), 0);
	assert_non_null(got = malloc(len));

	/* Across the boundary of windows 2 and 3. */
	buf = base + 3 * W - 100;
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(rp_fixbuf_slot(&f, &ring, buf, len), 2);
	assert_int_equal(f.state[2], RP_FIXBUF_OK);
	assert_int_equal(f.state[3], RP_FIXBUF_NONE);
	if ((k = send_fixed(&ring, sv[0], buf, len, 2)) == -EINVAL ||
	    k == -EOPNOTSUPP) {
		/* No SEND_ZC in this kernel. */
		goto done;
	}
	assert_int_equal(k, (int)len);
	while (n < len) {
		assert_true((m = read(sv[1], got + n, len - n)) > 0);
		n += (size_t)m;
	}
	assert_memory_equal(buf, got, len);

	/* Found again without registering; an unregistered slot fails. */
	assert_int_equal(rp_fixbuf_slot(&f, &ring, buf + 50, 1000), 2);
	assert_int_equal(f.failed, 0);
	assert_int_equal(send_fixed(&ring, sv[0], base + 5 * W, 100, 5),
	    -EFAULT);

done:
	free(got);
	close(sv[0]);
	close(sv[1]);
	rp_fixbuf_fini(&f, &ring);
	rp_region_free(r);
	io_uring_queue_exit(&ring);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_window),
		cmocka_unit_test(t_send),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
