#include <stdint.h>
#include <time.h>

#include "rp_clock.h"

#define NS_PER_S	1000000000L

/**
 * rp_clock_ns():
 * Return the monotonic time in nanoseconds (never 0).
 */
uint64_t
rp_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);

	/* Not 0, which callers keep for "never". */
	return ((uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec + 1);
}

/**
 * rp_clock_s():
 * Return the monotonic time in seconds.
 */
double
rp_clock_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

/**
 * rp_clock_after(secs):
 * Return the monotonic time ${secs} seconds from now, as a timespec (for
 * pthread_cond_timedwait on a condition set to CLOCK_MONOTONIC).
 */
struct timespec
rp_clock_after(double secs)
{
	struct timespec ts;
	long ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)secs;
	ns = ts.tv_nsec + (long)((secs - (double)(time_t)secs) * NS_PER_S);
	ts.tv_sec += ns / NS_PER_S;
	ts.tv_nsec = ns % NS_PER_S;
	return (ts);
}
