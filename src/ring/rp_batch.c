#include <stdlib.h>

#include "crypto_pkt.h"
#include "proto_pipe.h"
#include "rp_batch.h"
#include "rp_log.h"
#include "rp_wk.h"

/* The most packets sealed, and opened, in one batch. */
#define BATCH_JOBS	512

struct batch_ent {
	struct rp_wconn * c;
	size_t sfirst, scount;
	size_t ofirst, ocount;
};

struct rp_batch {
	struct crypto_engine * eng;
	struct rp_wk_stats * stats;
	struct crypto_seal_job sjobs[BATCH_JOBS];
	struct crypto_open_job ojobs[BATCH_JOBS];
	struct batch_ent ents[BATCH_JOBS];
};

/**
 * rp_batch_new(eng, stats):
 * Create batch state that runs its crypto on ${eng} and counts packets and
 * bytes in ${stats}.  Return NULL on failure.
 */
struct rp_batch *
rp_batch_new(struct crypto_engine * eng, struct rp_wk_stats * stats)
{
	struct rp_batch * b;

	if ((b = malloc(sizeof(*b))) == NULL)
		return (NULL);
	b->eng = eng;
	b->stats = stats;
	return (b);
}

/**
 * rp_batch_free(b):
 * Free ${b}.  NULL is a no-op.
 */
void
rp_batch_free(struct rp_batch * b)
{

	free(b);
}

/* Run the crypto of the ${nent} entries (${ns} seal, ${no} open jobs) and
 * hand each pair its results. */
static void
batch_finish(struct rp_batch * b, size_t nent, size_t ns, size_t no,
    void (* after)(void *, struct rp_wconn *), void * arg)
{
	struct batch_ent * e;
	uint64_t sbytes = 0, obytes = 0, ook = 0;
	size_t i, j;

	if (ns && crypto_engine_seal(b->eng, b->sjobs, ns)) {
		/* Only an internal error of the backend gets here. */
		rp_warn("crypto backend failure");
		abort();
	}
	if (no)
		(void)crypto_engine_open(b->eng, b->ojobs, no);
	for (i = 0; i < ns; i++)
		sbytes += b->sjobs[i].len;
	for (i = 0; i < nent; i++) {
		e = &b->ents[i];
		if (e->scount)
			proto_pipe_seal_done(e->c->pipe, e->scount);

		/* A pair with a packet that did not verify fails whole: none
		 * of its packets in this batch counts as opened. */
		if (e->ocount && proto_pipe_open_done(e->c->pipe,
		    &b->ojobs[e->ofirst], e->ocount) == 0) {
			for (j = e->ofirst; j < e->ofirst + e->ocount; j++)
				obytes += (uint64_t)b->ojobs[j].len;
			ook += e->ocount;
		}
	}
	rp_wk_count(&b->stats->pkts[0], ns);
	rp_wk_count(&b->stats->bytes[0], sbytes);
	rp_wk_count(&b->stats->pkts[1], ook);
	rp_wk_count(&b->stats->bytes[1], obytes);
	/* Report after all pipes are updated: ${after} may free a pair. */
	for (i = 0; i < nent; i++)
		after(arg, b->ents[i].c);
}

/**
 * rp_batch_run(b, ready, after, arg):
 * Take the pairs now on ${ready} (pairs queued while this runs stay for the
 * next call), run their crypto in batches, and call ${after}(${arg}, c)
 * for each pair c taken, once its results are in its pipe.  ${after} may
 * queue c again, or close and free it.
 */
void
rp_batch_run(struct rp_batch * b, struct rp_wready * ready,
    void (* after)(void *, struct rp_wconn *), void * arg)
{
	struct rp_wconn * list = ready->head, * c;
	size_t nent = 0, ns = 0, no = 0;
	struct batch_ent * e;

	rp_wready_init(ready);
	while ((c = list) != NULL) {
		/* Full: run what is gathered before taking ${c}.  A pipe
		 * gets room for all it may crypt at once, so that a batch
		 * uses all the input lent to it (proto_pipe_rx_lend). */
		if (BATCH_JOBS - ns < PROTO_PIPE_SEAL_PKTS ||
		    BATCH_JOBS - no < PROTO_PIPE_OPEN_PKTS ||
		    nent == BATCH_JOBS) {
			batch_finish(b, nent, ns, no, after, arg);
			nent = ns = no = 0;
		}
		list = c->rnext;
		c->rnext = NULL;
		c->queued = 0;
		e = &b->ents[nent];
		e->c = c;
		e->sfirst = ns;
		e->ofirst = no;
		e->scount = e->ocount = 0;
		if (!c->dead) {
			e->scount = proto_pipe_seal_jobs(c->pipe,
			    &b->sjobs[ns], BATCH_JOBS - ns);
			e->ocount = proto_pipe_open_jobs(c->pipe,
			    &b->ojobs[no], BATCH_JOBS - no);
		}
		ns += e->scount;
		no += e->ocount;
		nent++;
	}
	if (nent)
		batch_finish(b, nent, ns, no, after, arg);
}
