#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "proto_handshake.h"
#include "rp_hspool.h"

struct rp_hspool {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct rp_hsjob * todo, ** todo_tail;
	struct rp_hsjob * done;
	int stop;
	int wakefd;
	int nthreads;
	pthread_t thr[];
};

static void *
hspool_main(void * arg)
{
	struct rp_hspool * pool = arg;
	struct rp_hsjob * job;
	uint64_t one = 1;

	pthread_mutex_lock(&pool->mtx);
	for (;;) {
		while (pool->todo == NULL && !pool->stop)
			pthread_cond_wait(&pool->cv, &pool->mtx);
		if ((job = pool->todo) == NULL)
			break;
		if ((pool->todo = job->next) == NULL)
			pool->todo_tail = &pool->todo;
		pthread_mutex_unlock(&pool->mtx);

		proto_hs_compute(job->hs);

		pthread_mutex_lock(&pool->mtx);
		job->next = pool->done;
		pool->done = job;
		if (write(pool->wakefd, &one, sizeof(one)) != sizeof(one)) {
			/* The eventfd cannot overflow in practice. */
		}
	}
	pthread_mutex_unlock(&pool->mtx);
	return (NULL);
}

/**
 * rp_hspool_start(nthreads, wakefd):
 * Start ${nthreads} compute threads; each finished job is announced by
 * writing 1 to the eventfd ${wakefd}.  Return NULL on failure.
 */
struct rp_hspool *
rp_hspool_start(int nthreads, int wakefd)
{
	struct rp_hspool * pool;
	int i;

	if ((pool = calloc(1, sizeof(*pool) +
	    (size_t)nthreads * sizeof(pthread_t))) == NULL)
		goto err0;
	pthread_mutex_init(&pool->mtx, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pool->todo_tail = &pool->todo;
	pool->wakefd = wakefd;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&pool->thr[i], NULL, hspool_main, pool))
			goto err1;
		pool->nthreads++;
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
	*pool->todo_tail = job;
	pool->todo_tail = &job->next;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mtx);
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
	pthread_mutex_destroy(&pool->mtx);
	pthread_cond_destroy(&pool->cv);
	free(pool);
}
