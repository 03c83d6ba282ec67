/*
 * Unit tests of the provided-buffer ring and its receive queues
 * (src/ring/rp_bufring.c): a multishot receive over a socket pair fills
 * buffers that a queue hands back in order, across buffer boundaries, and
 * every buffer returns to the kernel once taken or dropped.  Skipped where
 * io_uring is blocked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <liburing.h>

#include "rp_bufring.h"
#include "rp_region.h"

#define NBUFS	8
#define BUFSZ	4096
#define HEADROOM	1060

struct fixture {
	struct io_uring ring;
	struct rp_region * region;
	struct rp_bufring b;
	int sv[2];
};

static int
setup(void ** state)
{
	struct fixture * f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (-1);
	if (io_uring_queue_init(16, &f->ring, 0)) {
		free(f);
		*state = NULL;
		return (0);
	}
	assert_non_null(f->region = rp_region_new(1 << 20, 0));
	assert_int_equal(rp_bufring_init(&f->b, &f->ring, f->region, 3, NBUFS,
	    BUFSZ, HEADROOM), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv), 0);
	*state = f;
	return (0);
}

static int
teardown(void ** state)
{
	struct fixture * f = *state;

	if (f == NULL)
		return (0);
	close(f->sv[0]);
	close(f->sv[1]);
	rp_bufring_fini(&f->b, &f->ring, f->region);
	rp_region_free(f->region);
	io_uring_queue_exit(&f->ring);
	free(f);
	return (0);
}

/* Arm a multishot receive on ${fd} over the ring of ${f}. */
static void
arm(struct fixture * f, int fd)
{
	struct io_uring_sqe * sqe;

	assert_non_null(sqe = io_uring_get_sqe(&f->ring));
	io_uring_prep_recv(sqe, fd, NULL, 0, 0);
	sqe->ioprio |= IORING_RECV_MULTISHOT;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 3;
	io_uring_sqe_set_data64(sqe, 1);
	assert_true(io_uring_submit(&f->ring) >= 0);
}

/* Reap one completion into ${q}; return its result and whether more come
 * in *${more}. */
static int
reap(struct fixture * f, struct rp_bufq * q, int * more)
{
	struct io_uring_cqe * cqe;
	int res;

	assert_int_equal(io_uring_wait_cqe(&f->ring, &cqe), 0);
	res = cqe->res;
	*more = (cqe->flags & IORING_CQE_F_MORE) != 0;
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		if (res > 0)
			rp_bufq_push(&f->b, q,
			    cqe->flags >> IORING_CQE_BUFFER_SHIFT, (size_t)res);
		else
			rp_bufring_put(&f->b,
			    cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	}
	io_uring_cqe_seen(&f->ring, cqe);
	return (res);
}

/* Bytes sent come back in order through the queue, a buffer at most per
 * completion, taken in pieces that cross buffer boundaries. */
static void
t_order(void ** state)
{
	struct fixture * f = *state;
	struct rp_bufq q;
	uint8_t src[3 * BUFSZ + 100], dst[sizeof(src)];
	size_t i, got = 0, n;
	int more = 1, res;

	if (f == NULL)
		skip();
	rp_bufq_init(&q);
	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(write(f->sv[1], src, sizeof(src)),
	    (ssize_t)sizeof(src));
	arm(f, f->sv[0]);
	while (q.bytes < sizeof(src)) {
		res = reap(f, &q, &more);
		assert_true(res > 0 && res <= BUFSZ);
		assert_true(more);
	}
	assert_int_equal(f->b.nfree, NBUFS - 4);
	/* Odd-sized takes: each crosses into the next buffer. */
	while (got < sizeof(src)) {
		n = rp_bufq_take(&f->b, &q, dst + got, 1000);
		assert_true(n > 0);
		got += n;
	}
	assert_memory_equal(src, dst, sizeof(src));
	assert_int_equal(q.bytes, 0);
	assert_int_equal(q.head, -1);
	assert_int_equal(f->b.nfree, NBUFS);
	/* End of stream ends the receive. */
	close(f->sv[1]);
	f->sv[1] = -1;
	assert_int_equal(reap(f, &q, &more), 0);
	assert_false(more);
}

/* Lending: the head's bytes come with the headroom before them (which the
 * kernel left alone) and the room after; bytes lent in part stay queued,
 * buffers lent whole wait in the held queue, not in the kernel's hands,
 * until it is dropped. */
static void
t_lend(void ** state)
{
	struct fixture * f = *state;
	struct rp_bufq q, held;
	uint8_t src[2 * BUFSZ + 100], * p;
	size_t len, before, after, k = 0;
	int more = 1;

	if (f == NULL)
		skip();
	rp_bufq_init(&q);
	rp_bufq_init(&held);
	memset(src, 0x3c, sizeof(src));
	assert_int_equal(write(f->sv[1], src, sizeof(src)),
	    (ssize_t)sizeof(src));
	arm(f, f->sv[0]);
	while (q.bytes < sizeof(src))
		(void)reap(f, &q, &more);
	assert_int_equal(f->b.nfree, NBUFS - 3);
	assert_non_null(p = rp_bufq_head(&f->b, &q, &len, &before, &after));
	assert_int_equal(before, HEADROOM);
	assert_int_equal(len + after, BUFSZ);
	/* The headroom is writable and the kernel did not touch it. */
	memset(p - HEADROOM, 0, HEADROOM);
	rp_bufq_lent(&f->b, &q, &held, 100);
	assert_non_null(p = rp_bufq_head(&f->b, &q, &len, &before, &after));
	assert_int_equal(before, HEADROOM + 100);
	rp_bufq_lent(&f->b, &q, &held, len + 10);
	assert_int_equal(held.head >= 0, 1);
	for (; (p = rp_bufq_head(&f->b, &q, &len, &before, &after)) != NULL;
	    k += len)
		rp_bufq_lent(&f->b, &q, &held, len);
	assert_int_equal(k, sizeof(src) - BUFSZ - 10);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(f->b.nfree, NBUFS - 3);
	rp_bufq_drop(&f->b, &held);
	assert_int_equal(f->b.nfree, NBUFS);
}

/* With every buffer held, the receive ends with ENOBUFS; dropping a queue
 * gives its buffers back unread. */
static void
t_nobufs(void ** state)
{
	struct fixture * f = *state;
	struct rp_bufq q;
	uint8_t src[(NBUFS + 2) * BUFSZ];
	int more = 1, res, last = 0;

	if (f == NULL)
		skip();
	rp_bufq_init(&q);
	memset(src, 0x5a, sizeof(src));
	assert_int_equal(write(f->sv[1], src, sizeof(src)),
	    (ssize_t)sizeof(src));
	arm(f, f->sv[0]);
	while (more) {
		res = reap(f, &q, &more);
		if (res < 0)
			last = res;
	}
	assert_int_equal(last, -ENOBUFS);
	assert_int_equal(f->b.nfree, 0);
	assert_int_equal(q.bytes, (size_t)NBUFS * BUFSZ);
	rp_bufq_drop(&f->b, &q);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(f->b.nfree, NBUFS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_order, setup, teardown),
		cmocka_unit_test_setup_teardown(t_nobufs, setup, teardown),
		cmocka_unit_test_setup_teardown(t_lend, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
