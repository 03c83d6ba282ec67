#ifndef TL_HIST_H
#define TL_HIST_H
/*
 * tl_hist: a fixed-size log-linear histogram of nanosecond values (64
 * sub-buckets per power of two: about 1.5% resolution), so latency
 * percentiles take bounded memory however many samples there are.
 */
#include <stdint.h>

#define TL_HIST_BUCKETS (128 + 57 * 64)

struct tl_hist {
	uint64_t count;
	uint64_t min, max;
	double sum;
	uint64_t b[TL_HIST_BUCKETS];
};

/* tl_hist_init(h): empty ${h}. */
void tl_hist_init(struct tl_hist *h);

/* tl_hist_add(h, v): record the value ${v} (ns) in ${h}. */
void tl_hist_add(struct tl_hist *h, uint64_t v);

/*
 * tl_hist_quantile(h, q): the value below which a fraction ${q} (0..1) of
 * the samples in ${h} lie (bucket midpoint, clamped to [min, max]); 0 if
 * ${h} is empty.
 */
uint64_t tl_hist_quantile(const struct tl_hist *h, double q);

/* tl_hist_mean(h): the mean of the samples in ${h}; 0 if empty. */
double tl_hist_mean(const struct tl_hist *h);

#endif
