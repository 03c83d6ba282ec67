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

/**
 * rp_metrics_text(info, ctl, wc, nw, len):
 * Return the metrics text for the daemon described by ${info}, with the
 * control thread's counters ${ctl} and the counters ${wc}[0..${nw}) of its
 * workers (to be freed by the caller; its length stored in ${len}), or
 * NULL if out of memory.
 */
char * rp_metrics_text(const struct rp_metrics_info * info,
    const struct rp_ctlstats_snap * ctl, const struct rp_worker_counts * wc,
    int nw, size_t * len);

#endif /* !RP_METRICS_TEXT_H_ */
