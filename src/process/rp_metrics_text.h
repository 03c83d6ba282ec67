#ifndef RP_METRICS_TEXT_H_
#define RP_METRICS_TEXT_H_

/*
 * The metrics of one scrape written as Prometheus text, from numbers
 * already gathered (rp_metrics_scrape gathers them): kept apart from the
 * gathering so that tests can write any numbers.
 */

#include <stddef.h>

#include "rp_ctlstats.h"
#include "rp_metrics.h"
#include "rp_worker.h"

/* A pipe's counters in one scrape. */
struct rp_metrics_pipe {
	const char * name;		/* Labelled pipe="NAME"; NULL: no
					   label (command-line mode). */
	struct rp_ctlstats_snap s;
};

/**
 * rp_metrics_text(info, loop, pipes, npipes, wc, nw, len):
 * Return the metrics text for the daemon described by ${info}, with the
 * counters ${loop} of its control loop, those of its pipes
 * ${pipes}[0..${npipes}) and those ${wc}[0..${nw}) of its workers (to be
 * freed by the caller; its length stored in ${len}), or NULL if out of
 * memory.
 */
char * rp_metrics_text(const struct rp_metrics_info * info,
    const struct rp_ctlstats_snap * loop, const struct rp_metrics_pipe * pipes,
    int npipes, const struct rp_worker_counts * wc, int nw, size_t * len);

#endif /* !RP_METRICS_TEXT_H_ */
