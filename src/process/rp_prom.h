#ifndef RP_PROM_H_
#define RP_PROM_H_

/*
 * A writer of the Prometheus text exposition format, version 0.0.4, into a
 * growing buffer: metric families (HELP and TYPE lines), samples with
 * escaped label values, and histograms.  The writer remembers a failure to
 * grow its buffer; rp_prom_finish reports it.
 */

#include <stddef.h>
#include <stdint.h>

/* The Content-Type of what it writes. */
#define RP_PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct rp_prom {
	char * buf;
	size_t len;		/* Bytes written, not counting the NUL. */
	size_t cap;		/* Bytes allocated. */
	int failed;		/* Out of memory: the text is incomplete. */
};

/**
 * rp_prom_init(p):
 * Start an empty text in ${p}.
 */
void rp_prom_init(struct rp_prom * p);

/**
 * rp_prom_family(p, name, type, help):
 * Start the metric family ${name} of ${type} ("counter", "gauge",
 * "histogram") described by ${help} (one line, no backslash) in ${p}.
 */
void rp_prom_family(struct rp_prom * p, const char * name, const char * type,
    const char * help);

/**
 * rp_prom_u64(p, name, labels, v):
 * Write the sample ${name}{${labels}} = ${v} into ${p}.  ${labels} is NULL
 * or a NULL-terminated array of name, value pairs; values are escaped.
 */
void rp_prom_u64(struct rp_prom * p, const char * name,
    const char * const * labels, uint64_t v);

/**
 * rp_prom_histogram(p, name, labels, bounds, n, counts, sum):
 * Write the samples of the histogram ${name}{${labels}} (as for
 * rp_prom_u64; le comes after them) into ${p}: ${counts}[i]
 * observations fell at most ${bounds}[i] and above the bound before it,
 * for i < ${n}, ${counts}[${n}] above ${bounds}[${n} - 1]; ${sum} is the
 * sum of all observations.  The buckets written are cumulative, the last
 * one le="+Inf", and _count is their total.
 */
void rp_prom_histogram(struct rp_prom * p, const char * name,
    const char * const * labels, const double * bounds, size_t n,
    const uint64_t * counts, double sum);

/**
 * rp_prom_finish(p, len):
 * Return the text of ${p} (NUL-terminated, to be freed by the caller) and
 * store its length in ${len}, or return NULL if writing it ran out of
 * memory (the buffer is freed then).
 */
char * rp_prom_finish(struct rp_prom * p, size_t * len);

#endif /* !RP_PROM_H_ */
