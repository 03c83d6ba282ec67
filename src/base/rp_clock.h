#ifndef RP_CLOCK_H_
#define RP_CLOCK_H_

/*
 * The one monotonic clock (CLOCK_MONOTONIC) every layer reads: deadlines,
 * timers, condition-variable waits and measurements.  Never the wall
 * clock, which steps.
 */

#include <stdint.h>
#include <time.h>

/**
 * rp_clock_ns():
 * Return the monotonic time in nanoseconds (never 0).
 */
uint64_t rp_clock_ns(void);

/**
 * rp_clock_s():
 * Return the monotonic time in seconds.
 */
double rp_clock_s(void);

/**
 * rp_clock_after(secs):
 * Return the monotonic time ${secs} seconds from now, as a timespec (for
 * pthread_cond_timedwait on a condition set to CLOCK_MONOTONIC).
 */
struct timespec rp_clock_after(double secs);

#endif /* !RP_CLOCK_H_ */
