/*
 * Unit tests of crypto_entropy_read (src/crypto/crypto_wipe.c), which hands
 * out getrandom(2) bytes from a block per thread: reads never repeat bytes,
 * reads larger than the block and reads that straddle its end are whole,
 * threads draw different bytes, and a forked child does not replay the
 * bytes its parent still had in its block.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto_wipe.h"

#define NREADS	64

/* Whether any two of the ${n} ${len}-byte values at ${v} are equal. */
static int
any_equal(const uint8_t * v, size_t n, size_t len)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (memcmp(&v[i * len], &v[j * len], len) == 0)
				return (1);
	return (0);
}

/* 64 nonces of 32 bytes (eight blocks' worth): all different, none zero. */
static void
t_nonces(void ** state)
{
	static const uint8_t zero[32];
	uint8_t v[NREADS][32];
	size_t i;

	(void)state;
	for (i = 0; i < NREADS; i++) {
		assert_int_equal(crypto_entropy_read(v[i], 32), 0);
		assert_true(memcmp(v[i], zero, 32) != 0);
	}
	assert_false(any_equal(&v[0][0], NREADS, 32));
}

/* Odd sizes straddle the block's end; a large read bypasses it. */
static void
t_sizes(void ** state)
{
	uint8_t a[7][37], big[2][4096];
	size_t i, nz = 0;

	(void)state;
	for (i = 0; i < 7; i++)
		assert_int_equal(crypto_entropy_read(a[i], 37), 0);
	assert_false(any_equal(&a[0][0], 7, 37));
	assert_int_equal(crypto_entropy_read(big[0], 4096), 0);
	assert_int_equal(crypto_entropy_read(big[1], 4096), 0);
	assert_true(memcmp(big[0], big[1], 4096) != 0);
	for (i = 0; i < 4096; i++)
		nz += (big[0][i] != 0);
	/* 4096 random bytes have about 16 zeros. */
	assert_true(nz > 3900);
}

/* A thread's nonce. */
static void *
thread_read(void * arg)
{

	if (crypto_entropy_read(arg, 32))
		memset(arg, 0, 32);
	return (NULL);
}

/* Two threads, each with a block of its own, and this one: all differ. */
static void
t_threads(void ** state)
{
	uint8_t v[3][32];
	pthread_t t[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_read,
		    v[i]), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(crypto_entropy_read(v[2], 32), 0);
	assert_false(any_equal(&v[0][0], 3, 32));
}

/* After a fork, parent and child draw different bytes, though the parent's
 * block had bytes left at the fork. */
static void
t_fork(void ** state)
{
	uint8_t first[32], mine[32], child[32];
	int fds[2], st;
	pid_t pid;

	(void)state;
	/* Leaves the block part used. */
	assert_int_equal(crypto_entropy_read(first, 32), 0);
	assert_int_equal(pipe(fds), 0);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		if (crypto_entropy_read(child, 32) ||
		    write(fds[1], child, 32) != 32)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], child, 32), 32);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(crypto_entropy_read(mine, 32), 0);
	assert_true(memcmp(mine, child, 32) != 0);
	assert_true(memcmp(first, child, 32) != 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_nonces),
		cmocka_unit_test(t_sizes),
		cmocka_unit_test(t_threads),
		cmocka_unit_test(t_fork),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
