#include "tl_hist.h"

#include <string.h>

static unsigned
bucket_of(uint64_t v)
{
	unsigned e;

	if (v < 128)
		return ((unsigned)v);
	e = 63u - (unsigned)__builtin_clzll(v);
	return (128u + (e - 7u) * 64u + (unsigned)((v >> (e - 6u)) & 63u));
}

static uint64_t
bucket_low(unsigned i)
{
	unsigned e, s;

	if (i < 128)
		return (i);
	e = (i - 128u) / 64u + 7u;
	s = (i - 128u) % 64u;
	return ((64ULL + s) << (e - 6u));
}

static uint64_t
bucket_width(unsigned i)
{
	if (i < 128)
		return (1);
	return (1ULL << ((i - 128u) / 64u + 1u));
}

void
tl_hist_init(struct tl_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
tl_hist_add(struct tl_hist *h, uint64_t v)
{
	h->b[bucket_of(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

uint64_t
tl_hist_quantile(const struct tl_hist *h, double q)
{
	uint64_t want, seen = 0, v;
	unsigned i;

	if (h->count == 0)
		return (0);
	if (q <= 0)
		return (h->min);
	if (q >= 1)
		return (h->max);
	want = (uint64_t)(q * (double)h->count + 0.999999);
	if (want == 0)
		want = 1;
	for (i = 0; i < TL_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want)
			break;
	}
	if (i == TL_HIST_BUCKETS)
		return (h->max);
	v = bucket_low(i) + bucket_width(i) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return (v);
}

double
tl_hist_mean(const struct tl_hist *h)
{
	return (h->count ? h->sum / (double)h->count : 0.0);
}
