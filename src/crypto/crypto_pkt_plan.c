/*
 * The measured choice of crypto path: which path seals and which opens a
 * chunk of each size.  When a name stands for more than one available
 * path, every path is probed once per process (crypto_pkt_probe.c) and
 * each chunk size gets the fastest, its time interpolated linearly between
 * the probe sizes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"

/*
 * Going down from full chunks, a chunk size keeps the path of the size
 * above it unless another is faster by more than this fraction: noise
 * between near-equal paths then does not cut the plan into many ranges
 * (each path in a plan costs every engine its state), and each size's
 * path stays within this fraction of the fastest measured.
 */
#define PLAN_GAIN 0.03

/* The probe of every path, made once per process. */
static struct crypto_pkt_probe probe;
static int probe_rc;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

/**
 * probe_init(void):
 * Probe every path into ${probe}.
 */
static void
probe_init(void)
{

	probe_rc = crypto_pkt_probe_run(&probe, ~0u);
}

/**
 * interp(ns, k):
 * Return the time of a chunk of ${k} packets interpolated from the times
 * ${ns} at the probe sizes.
 */
static double
interp(const double ns[CRYPTO_PKT_PROBE_NSIZES], size_t k)
{
	const size_t * sz = crypto_pkt_probe_sizes;
	size_t s;

	for (s = 0; s + 2 < CRYPTO_PKT_PROBE_NSIZES; s++) {
		if (k <= sz[s + 1])
			break;
	}
	return (ns[s] + (ns[s + 1] - ns[s]) * ((double)k - (double)sz[s]) /
	    (double)(sz[s + 1] - sz[s]));
}

/**
 * fastest_at(ns, cand, k, t):
 * Return the path of the mask ${cand} (not empty) that is fastest by the
 * times ${ns} for a chunk of ${k} packets, and its time in ${t}.
 */
static size_t
fastest_at(const double ns[][CRYPTO_PKT_PROBE_NSIZES], unsigned cand,
    size_t k, double * t)
{
	size_t p, best = CRYPTO_PKT_NPATHS;
	double tp;

	for (p = 0; p < CRYPTO_PKT_NPATHS; p++) {
		if (!(cand & (1u << p)))
			continue;
		tp = interp(ns[p], k);
		if ((best == CRYPTO_PKT_NPATHS) || (tp < *t)) {
			best = p;
			*t = tp;
		}
	}
	return (best);
}

/**
 * choose(ns, cand, sel):
 * Fill ${sel}[0..CRYPTO_PKT_CHUNK] with a path of the mask ${cand} (not
 * empty) for each chunk size, by the times ${ns}: the fastest for full
 * chunks, then going down, a faster one only if it gains PLAN_GAIN.
 */
static void
choose(const double ns[][CRYPTO_PKT_PROBE_NSIZES], unsigned cand,
    uint8_t sel[CRYPTO_PKT_CHUNK + 1])
{
	size_t k, cur, best;
	double tbest = 0;

	cur = fastest_at(ns, cand, CRYPTO_PKT_CHUNK, &tbest);
	for (k = CRYPTO_PKT_CHUNK; k >= 1; k--) {
		best = fastest_at(ns, cand, k, &tbest);
		if (interp(ns[cur], k) > tbest * (1 + PLAN_GAIN))
			cur = best;
		sel[k] = (uint8_t)cur;
	}
	sel[0] = sel[1];
}

/**
 * crypto_pkt_plan_make(name, plan):
 * Fill ${plan} for ${name} (as crypto_pkt_path_mask()): the fastest of its
 * paths at each chunk size, measured once per process if there is a
 * choice.  NULL ${name}: "auto".  Return 0, or -1 (errno: EINVAL unknown name, ENOTSUP none of
 * its paths available).
 */
int
crypto_pkt_plan_make(const char * name, struct crypto_pkt_plan * plan)
{
	struct crypto_pkt_path path;
	unsigned mask, avail = 0;
	size_t p, k;

	if (name == NULL)
		name = "auto";
	if ((mask = crypto_pkt_path_mask(name)) == 0) {
		errno = EINVAL;
		goto err0;
	}
	for (p = 0; crypto_pkt_path_get(p, &path) == 0; p++) {
		if ((mask & (1u << p)) && path.ops->available(path.v))
			avail |= 1u << p;
	}
	if (avail == 0)
		goto nopath;

	/* One path: nothing to measure.  Else the probe's fastest. */
	memset(plan, 0, sizeof(*plan));
	if ((avail & (avail - 1)) == 0) {
		for (p = 0; !(avail & (1u << p)); p++)
			continue;
		memset(plan->seal, (int)p, sizeof(plan->seal));
		memset(plan->open, (int)p, sizeof(plan->open));
	} else {
		if (pthread_once(&probe_once, probe_init) || probe_rc ||
		    ((avail &= probe.ok) == 0))
			goto nopath;
		choose(probe.seal_ns, avail, plan->seal);
		choose(probe.open_ns, avail, plan->open);
	}

	/* The paths used and the key layouts they need. */
	for (k = 1; k <= CRYPTO_PKT_CHUNK; k++)
		plan->paths |= (1u << plan->seal[k]) | (1u << plan->open[k]);
	for (p = 0; crypto_pkt_path_get(p, &path) == 0; p++) {
		if (plan->paths & (1u << p))
			plan->layouts |= 1u << path.ops->backend;
	}

	/* Success! */
	return (0);

nopath:
	errno = ENOTSUP;
err0:
	/* Failure! */
	return (-1);
}

/**
 * describe_dir(sel, buf, len):
 * Append "1-3 hybrid, 4+ avx512" for the chunk sizes ${sel} to the string
 * in the ${len} bytes at ${buf}.
 */
static void
describe_dir(const uint8_t sel[CRYPTO_PKT_CHUNK + 1], char * buf, size_t len)
{
	char range[32];
	size_t k, end, used;

	for (k = 1; k <= CRYPTO_PKT_CHUNK; k = end + 1) {
		for (end = k; (end < CRYPTO_PKT_CHUNK) &&
		    (sel[end + 1] == sel[k]); end++)
			continue;
		if (end == CRYPTO_PKT_CHUNK)
			snprintf(range, sizeof(range), "%zu+", k);
		else if (end == k)
			snprintf(range, sizeof(range), "%zu", k);
		else
			snprintf(range, sizeof(range), "%zu-%zu", k, end);
		used = strlen(buf);
		snprintf(&buf[used], len - used, "%s%s %s", (k > 1) ? ", " : "",
		    range, crypto_pkt_path_name(sel[k]));
	}
}

/**
 * crypto_pkt_plan_describe(plan, buf, len):
 * Write "seal: 1-3 hybrid, 4+ avx512; open: ..." for ${plan} into the
 * ${len} bytes at ${buf}.
 */
void
crypto_pkt_plan_describe(const struct crypto_pkt_plan * plan, char * buf,
    size_t len)
{

	snprintf(buf, len, "seal: ");
	describe_dir(plan->seal, buf, len);
	snprintf(&buf[strlen(buf)], len - strlen(buf), "; open: ");
	describe_dir(plan->open, buf, len);
}
