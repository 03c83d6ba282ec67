/*
 * The pairs of a worker, under either engine: the pump policy, the ready
 * and hold lists, close and the freeing rule, and the worker loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "proto_pipe.h"
#include "rp_batch.h"
#include "rp_wconn.h"
#include "rp_wk.h"
#include "rp_wk_pairs.h"

/* After a fatal engine error: how long the pairs' operations may take to
 * come back once cancelled, and how long each wait for them lasts (ns). */
#define PAIRS_FATAL_WAIT	1000000000ULL
#define PAIRS_FATAL_STEP	100000000ULL

/**
 * rp_wkp_init(P, w):
 * Make ${P} the empty set of pairs of worker ${w}.
 */
void
rp_wkp_init(struct rp_wkp * P, struct rp_worker * w)
{

	P->w = w;
	P->conns = NULL;
	P->graveyard = NULL;
	rp_wready_init(&P->ready);
	P->hold.head = NULL;
	P->next_hold = 0;
	P->fatal = 0;
}

/* Half-close the output of direction ${d} of ${c}, which asked for it. */
static void
pairs_shut(struct rp_wconn * c, int d)
{

	if (c->sock_out[d])
		(void)shutdown(c->fd_out[d], SHUT_WR);
	proto_pipe_shut_done(c->pipe, d);
}

/**
 * rp_wkp_pump(P, c):
 * Do what the pipe of ${c} (a pair of ${P}) asks for: send, half-close,
 * queue input for crypto, or receive (a direction with input ready for
 * crypto receives again only after the batch: a receive now could only
 * fill the tail behind the pending bytes).  Close ${c} once its pipe has
 * finished or failed; put it on the hold list while it holds a part
 * packet.
 */
void
rp_wkp_pump(struct rp_wkp * P, struct rp_wconn * c)
{
	const struct rp_wk_ops * ops = P->w->ops;
	void * eng = P->w->eng;
	uint64_t t;
	int d, want;

	if (c->dead)
		return;
	for (d = 0; d < 2; d++) {
		if (proto_pipe_want(c->pipe, d) & PROTO_PIPE_WANT_SEND)
			ops->send(eng, c, d);
		/* A send done at once may have emptied the output. */
		want = proto_pipe_want(c->pipe, d);
		if (want & PROTO_PIPE_WANT_SHUT)
			pairs_shut(c, d);
		if (want & PROTO_PIPE_WANT_CRYPTO) {
			rp_wready_add(&P->ready, c);
			continue;
		}
		if (!(want & PROTO_PIPE_WANT_READ))
			continue;
		ops->recv(eng, c, d);
		/* A receive done at once may have brought input ready for
		 * crypto, or the end of a stream with nothing left to send. */
		want = proto_pipe_want(c->pipe, d);
		if (want & PROTO_PIPE_WANT_CRYPTO)
			rp_wready_add(&P->ready, c);
		if (want & PROTO_PIPE_WANT_SHUT)
			pairs_shut(c, d);
	}
	if (proto_pipe_finished(c->pipe)) {
		rp_wkp_close(P, c);
		return;
	}
	if (!c->held && (t = proto_pipe_deadline(c->pipe)) != 0) {
		rp_whold_add(&P->hold, c);
		if (P->next_hold == 0 || t < P->next_hold)
			P->next_hold = t;
	}
}

/**
 * rp_wkp_io_done(P, c):
 * An engine operation of ${c} has ended and its result is in the pipe:
 * pump ${c} unless it is closed.
 */
void
rp_wkp_io_done(struct rp_wkp * P, struct rp_wconn * c)
{

	if (!c->dead)
		rp_wkp_pump(P, c);
}

/**
 * rp_wkp_adopt(arg, c):
 * Take the new pair ${c} into the set ${arg} (a struct rp_wkp): let the
 * engine attach its descriptors, then pump it.
 */
void
rp_wkp_adopt(void * arg, struct rp_wconn * c)
{
	struct rp_wkp * P = arg;

	P->w->ops->attach(P->w->eng, c);
	/* They point into the pair, which goes once adopted. */
	c->peer_out[0] = c->peer_out[1] = NULL;
	c->prev = NULL;
	c->next = P->conns;
	if (P->conns)
		P->conns->prev = c;
	P->conns = c;
	rp_wkp_pump(P, c);
}

/**
 * rp_wkp_close(P, c):
 * Close ${c}: take it off every list of ${P}, have the engine cancel what
 * it has in flight, and free it once nothing refers to it (rp_wkp_bury).
 */
void
rp_wkp_close(struct rp_wkp * P, struct rp_wconn * c)
{

	if (c->dead)
		return;
	c->dead = 1;
	rp_wready_unlink(&P->ready, c);
	rp_whold_unlink(&P->hold, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		P->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	P->w->ops->cancel(P->w->eng, c);
	c->gnext = P->graveyard;
	P->graveyard = c;
}

/* Free every closed pair that nothing refers to any more. */
static void
pairs_bury(struct rp_wkp * P)
{
	struct rp_wconn ** pp, * c;
	void * owner;
	int end, timedout;

	for (pp = &P->graveyard; (c = *pp) != NULL; ) {
		if (c->refs > 0 || c->queued) {
			pp = &c->gnext;
			continue;
		}
		*pp = c->gnext;
		end = proto_pipe_end(c->pipe);
		timedout = c->timedout;
		owner = c->owner;
		P->w->ops->close_fds(P->w->eng, c);
		proto_pipe_free(c->pipe);
		free(c);
		rp_wk_pair_closed(P->w, owner, end, timedout);
	}
}

/**
 * rp_wkp_abort_all(P, all):
 * Fail and close every pair of ${P} now, as on a reset: all of them if
 * ${all}, else those whose owner the worker's cut filter picks (all
 * without one).
 */
void
rp_wkp_abort_all(struct rp_wkp * P, int all)
{
	struct rp_wconn * c, * next;
	int (* cut)(void *) = all ? NULL : P->w->cfg.cut;

	for (c = P->conns; c != NULL; c = next) {
		next = c->next;
		if (cut != NULL && !cut(c->owner))
			continue;
		proto_pipe_fail(c->pipe);
		rp_wkp_close(P, c);
	}
}

/* A held part packet's time has come (or it is gone), or the batch has
 * run: pump the pair. */
static void
pairs_after(void * arg, struct rp_wconn * c)
{

	rp_wkp_io_done(arg, c);
}

/* Pump the pairs whose held packet is due; keep the earliest deadline
 * left (pumping may hold new ones). */
static void
pairs_hold_scan(struct rp_wkp * P)
{
	uint64_t next;

	P->next_hold = 0;
	next = rp_whold_scan(&P->hold, rp_wk_clock(P->w), pairs_after, P);
	if (next != 0 && (P->next_hold == 0 || next < P->next_hold))
		P->next_hold = next;
}

/*
 * The engine failed for good: close every pair, as none can be served any
 * more, and wait for the engine's operations to come back (for
 * PAIRS_FATAL_WAIT at most), freeing each pair as its last one does.  A
 * pair still referred to after that (the engine is dead) has its
 * descriptors closed, so that its peers see the end, but keeps its memory:
 * the kernel may yet write into its buffers, and the process is ending.
 */
static void
pairs_fatal(struct rp_wkp * P)
{
	const struct rp_wk_ops * ops = P->w->ops;
	uint64_t until;
	struct rp_wconn * c;
	int i;

	P->fatal = 1;
	rp_wkp_abort_all(P, 1);
	until = rp_wk_clock(P->w) + PAIRS_FATAL_WAIT;
	for (i = 0; i < (int)(PAIRS_FATAL_WAIT / PAIRS_FATAL_STEP); i++) {
		pairs_bury(P);
		if (P->graveyard == NULL || rp_wk_clock(P->w) >= until)
			break;
		if (ops->wait(P->w->eng, 1,
		    rp_wk_clock(P->w) + PAIRS_FATAL_STEP))
			break;
		ops->flush(P->w->eng);
	}
	pairs_bury(P);
	for (c = P->graveyard; c != NULL; c = c->gnext)
		rp_wconn_close_fds(c);
}

/**
 * rp_wkp_run(P):
 * Run the worker loop of ${P} until the worker is stopping and no pair is
 * left: wait for the engine's events, fire held packets
 * that are due, run one crypto batch over the ready list, let the engine
 * flush, free what may be freed.  On a fatal engine error close every
 * pair and return.
 */
void
rp_wkp_run(struct rp_wkp * P)
{
	struct rp_worker * w = P->w;
	int block, rc;

	while (!(w->stopping && w->npairs == 0)) {
		/* A pair posted while the thread was awake comes with no ring
		 * (rp_worker_post_held): look at the inbox before blocking. */
		block = (P->ready.head == NULL);
		if (block && rp_wk_sleep_begin(w))
			block = 0;
		rc = w->ops->wait(w->eng, block, P->next_hold);
		if (block)
			rp_wk_sleep_end(w);
		if (rc) {
			pairs_fatal(P);
			break;
		}
		rp_wk_take_posted(w);
		if (w->env.coalesce)
			(void)rp_wk_clock(w);
		if (P->hold.head != NULL)
			pairs_hold_scan(P);
		rp_batch_run(w->batch, &P->ready, pairs_after, P);
		w->ops->flush(w->eng);
		pairs_bury(P);
	}
}
