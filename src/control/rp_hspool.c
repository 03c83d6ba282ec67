#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_dh.h"
#include "crypto_wipe.h"
#include "proto_handshake.h"
#include "rp_fatal.h"
#include "rp_hspool.h"
#include "rp_log.h"

/* Ephemeral key pairs kept ready (288 bytes each). */
#define HSPOOL_KEYS	16

struct hspool_key {
	uint8_t x[CRYPTO_DH_PRIVLEN];
	uint8_t y[CRYPTO_DH_PUBLEN];
};

struct rp_hspool {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct rp_hsjob * todo, * todo_last;	/* Linked both ways. */
	struct rp_hsjob * done;
	int stop;
	int wakefd;
	int nthreads;

	/* Key pairs made while no job waited: [0, nkeys) are ready; a
	 * thread making one counts in nmaking, so the threads never make
	 * more than HSPOOL_KEYS in all. */
	int want_keys;
	int nkeys, nmaking;
	struct hspool_key keys[HSPOOL_KEYS];

	pthread_t thr[];
};

/* Whether a thread with nothing queued should make a key pair. */
static int
hspool_key_due(const struct rp_hspool * pool)
{

	return (pool->want_keys && !pool->stop &&
	    pool->nkeys + pool->nmaking < HSPOOL_KEYS);
}

/* Make one key pair (${pool}->mtx held on entry and on return). */
static void
hspool_make_key(struct rp_hspool * pool)
{
	struct hspool_key k;
	int rc;

	pool->nmaking++;
	pthread_mutex_unlock(&pool->mtx);
	rc = crypto_dh_generate(k.x, k.y);
	pthread_mutex_lock(&pool->mtx);
	pool->nmaking--;
	if (rc == 0)
		pool->keys[pool->nkeys++] = k;
	else
		pool->want_keys = 0;	/* Handshakes make their own. */
	crypto_wipe(&k, sizeof(k));
}

/* Take the queued ${job} off ${pool}'s queue (${pool}->mtx held). */
static void
hspool_unlink(struct rp_hspool * pool, struct rp_hsjob * job)
{

	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		pool->todo = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	else
		pool->todo_last = job->prev;
	job->next = job->prev = NULL;
	job->queued = 0;
}

static void *
hspool_main(void * arg)
{
	struct rp_hspool * pool = arg;
	struct rp_hsjob * job;
	uint64_t one = 1;

	pthread_mutex_lock(&pool->mtx);
	for (;;) {
		while (pool->todo == NULL && !pool->stop &&
		    !hspool_key_due(pool))
			pthread_cond_wait(&pool->cv, &pool->mtx);
		if ((job = pool->todo) == NULL) {
			if (!hspool_key_due(pool))
				break;
			/* Idle: make a key pair ahead of time, so that a
			 * handshake can skip its 2^x (and a thread hop). */
			hspool_make_key(pool);
			continue;
		}
		hspool_unlink(pool, job);
		pthread_mutex_unlock(&pool->mtx);

		proto_hs_compute(job->hs);

		pthread_mutex_lock(&pool->mtx);
		job->next = pool->done;
		pool->done = job;
		/* The eventfd cannot overflow in practice: a failure
		 * (EBADF...) means the owner can no longer be told, and its
		 * handshakes would wait for ever. */
		if (write(pool->wakefd, &one, sizeof(one)) != sizeof(one)) {
			rp_warnp("handshake thread: write");
			rp_fatal("a handshake thread");
		}
	}
	pthread_mutex_unlock(&pool->mtx);
	return (NULL);
}

/**
 * rp_hspool_start(nthreads, wakefd, keys):
 * Start ${nthreads} compute threads; each finished job is announced by
 * writing 1 to the eventfd ${wakefd}.  If ${keys} is non-zero, idle threads
 * keep a few ephemeral key pairs ready for rp_hspool_take_key.  Return NULL
 * on failure.
 */
struct rp_hspool *
rp_hspool_start(int nthreads, int wakefd, int keys)
{
	struct rp_hspool * pool;
	char name[16];
	int i;

	if ((pool = calloc(1, sizeof(*pool) +
	    (size_t)nthreads * sizeof(pthread_t))) == NULL)
		goto err0;
	pthread_mutex_init(&pool->mtx, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pool->wakefd = wakefd;
	pool->want_keys = keys ? 1 : 0;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&pool->thr[i], NULL, hspool_main, pool))
			goto err1;
		pool->nthreads++;
		/* Named for top -H, gdb and the fault tests. */
		snprintf(name, sizeof(name), "rp-hs/%d", i % 10000);
		(void)pthread_setname_np(pool->thr[i], name);
	}
	return (pool);

err1:
	rp_hspool_stop(pool);
err0:
	return (NULL);
}

/**
 * rp_hspool_submit(pool, job):
 * Queue ${job}: proto_hs_compute(${job}->hs) will run on a pool thread.
 * The caller must not touch the handshake until the job is collected.
 */
void
rp_hspool_submit(struct rp_hspool * pool, struct rp_hsjob * job)
{

	job->next = NULL;
	pthread_mutex_lock(&pool->mtx);
	job->prev = pool->todo_last;
	if (pool->todo_last != NULL)
		pool->todo_last->next = job;
	else
		pool->todo = job;
	pool->todo_last = job;
	job->queued = 1;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mtx);
}

/**
 * rp_hspool_cancel(pool, job):
 * Take ${job} off the queue if no thread has started it: return 0 then
 * (the job will never run nor be collected), or -1 if it is running or
 * done (it will be collected as usual).
 */
int
rp_hspool_cancel(struct rp_hspool * pool, struct rp_hsjob * job)
{
	int rc = -1;

	pthread_mutex_lock(&pool->mtx);
	if (job->queued) {
		hspool_unlink(pool, job);
		rc = 0;
	}
	pthread_mutex_unlock(&pool->mtx);
	return (rc);
}

/**
 * rp_hspool_take_key(pool, x, y):
 * Move a key pair made ahead of time into ${x} (CRYPTO_DH_PRIVLEN bytes)
 * and ${y} (CRYPTO_DH_PUBLEN bytes) and return 0, or return -1 if none is
 * ready.  The pair is forgotten by the pool.
 */
int
rp_hspool_take_key(struct rp_hspool * pool, uint8_t * x, uint8_t * y)
{
	struct hspool_key * k;
	int rc = -1;

	pthread_mutex_lock(&pool->mtx);
	if (pool->nkeys > 0) {
		k = &pool->keys[--pool->nkeys];
		memcpy(x, k->x, CRYPTO_DH_PRIVLEN);
		memcpy(y, k->y, CRYPTO_DH_PUBLEN);
		crypto_wipe(k, sizeof(*k));
		rc = 0;
		/* An idle thread makes the next one. */
		pthread_cond_signal(&pool->cv);
	}
	pthread_mutex_unlock(&pool->mtx);
	return (rc);
}

/**
 * rp_hspool_collect(pool):
 * Return the list (linked by ->next) of jobs finished since the last call.
 */
struct rp_hsjob *
rp_hspool_collect(struct rp_hspool * pool)
{
	struct rp_hsjob * list;

	pthread_mutex_lock(&pool->mtx);
	list = pool->done;
	pool->done = NULL;
	pthread_mutex_unlock(&pool->mtx);
	return (list);
}

/**
 * rp_hspool_stop(pool):
 * Stop and join the threads (after the queued jobs ran) and free ${pool}.
 */
void
rp_hspool_stop(struct rp_hspool * pool)
{
	int i;

	pthread_mutex_lock(&pool->mtx);
	pool->stop = 1;
	pthread_cond_broadcast(&pool->cv);
	pthread_mutex_unlock(&pool->mtx);
	for (i = 0; i < pool->nthreads; i++)
		pthread_join(pool->thr[i], NULL);
	crypto_wipe(pool->keys, sizeof(pool->keys));
	pthread_mutex_destroy(&pool->mtx);
	pthread_cond_destroy(&pool->cv);
	free(pool);
}
