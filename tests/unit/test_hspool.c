/*
 * The handshake compute pool (src/control/rp_hspool.c): a job cancelled
 * before a thread took it never runs and is never collected; one that was
 * taken is collected as usual; the queue stays whole whichever job goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto_dh.h"
#include "proto_handshake.h"
#include "rp_hspool.h"

#define NJOBS	64
#define NROUNDS	10

static const uint8_t testK[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* Sleep a millisecond. */
static void
ms_sleep(void)
{
	struct timespec ts = { 0, 1000000 };

	nanosleep(&ts, NULL);
}

/* No thread: jobs stay queued, and any of them can be taken off. */
static void
test_cancel_queue(void ** state)
{
	struct rp_hsjob jobs[4];
	struct rp_hspool * pool;
	int efd, i;

	(void)state;
	assert_true((efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) != -1);
	assert_non_null(pool = rp_hspool_start(0, efd, 0));
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < 4; i++)
		rp_hspool_submit(pool, &jobs[i]);

	/* The middle, the head, the tail, then the last one left. */
	assert_int_equal(rp_hspool_cancel(pool, &jobs[1]), 0);
	assert_int_equal(rp_hspool_cancel(pool, &jobs[1]), -1);
	assert_int_equal(rp_hspool_cancel(pool, &jobs[0]), 0);
	assert_int_equal(rp_hspool_cancel(pool, &jobs[3]), 0);
	assert_int_equal(rp_hspool_cancel(pool, &jobs[2]), 0);
	assert_int_equal(rp_hspool_cancel(pool, &jobs[2]), -1);

	/* An emptied queue takes jobs again, a cancelled one too. */
	rp_hspool_submit(pool, &jobs[1]);
	rp_hspool_submit(pool, &jobs[2]);
	assert_int_equal(rp_hspool_cancel(pool, &jobs[2]), 0);
	assert_int_equal(rp_hspool_cancel(pool, &jobs[1]), 0);
	assert_null(rp_hspool_collect(pool));
	rp_hspool_stop(pool);
	close(efd);
}

/*
 * One round: one thread, NJOBS client handshakes (each wants its key pair
 * made), cancelled from the last back while the thread works on the first
 * ones: the ones cancelled while queued never run nor come back; the
 * others come back computed.  Return how many were cancelled.
 */
static int
cancel_round(void)
{
	struct rp_hsjob jobs[NJOBS], * j;
	struct proto_hs * hs[NJOBS];
	int cancelled[NJOBS], back[NJOBS];
	struct rp_hspool * pool;
	int efd, i, ncancelled = 0, nleft, tries;

	assert_true((efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) != -1);
	assert_non_null(pool = rp_hspool_start(1, efd, 0));
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < NJOBS; i++) {
		assert_non_null(hs[i] = proto_hs_new(PROTO_CLIENT, testK, 0,
		    0));
		assert_true(proto_hs_want(hs[i]) & PROTO_HS_WANT_COMPUTE);
		jobs[i].hs = hs[i];
		back[i] = 0;
	}
	for (i = 0; i < NJOBS; i++)
		rp_hspool_submit(pool, &jobs[i]);
	for (i = NJOBS - 1; i >= 0; i--) {
		cancelled[i] = (rp_hspool_cancel(pool, &jobs[i]) == 0);
		ncancelled += cancelled[i];
	}

	/* Collect what was not cancelled, for at most 10 s. */
	nleft = NJOBS - ncancelled;
	for (tries = 0; nleft > 0 && tries < 10000; tries++) {
		for (j = rp_hspool_collect(pool); j != NULL; j = j->next) {
			i = (int)(j - jobs);
			assert_false(cancelled[i]);
			assert_int_equal(back[i], 0);
			back[i] = 1;
			nleft--;
		}
		if (nleft > 0)
			ms_sleep();
	}
	assert_int_equal(nleft, 0);
	rp_hspool_stop(pool);

	/* A cancelled handshake still wants its computation: none ran. */
	for (i = 0; i < NJOBS; i++) {
		if (cancelled[i])
			assert_true(proto_hs_want(hs[i]) &
			    PROTO_HS_WANT_COMPUTE);
		else
			assert_false(proto_hs_want(hs[i]) &
			    PROTO_HS_WANT_COMPUTE);
		proto_hs_free(hs[i]);
	}
	close(efd);
	return (ncancelled);
}

/* Rounds of cancel_round, until one found some job still queued (the
 * thread may run ahead of the cancels on a loaded machine). */
static void
test_cancel_running(void ** state)
{
	int round, ncancelled = 0;

	(void)state;
	assert_int_equal(crypto_dh_init(), 0);
	for (round = 0; round < NROUNDS && ncancelled == 0; round++)
		ncancelled = cancel_round();
	assert_true(ncancelled > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancel_queue),
		cmocka_unit_test(test_cancel_running),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
