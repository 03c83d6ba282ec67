#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "rp_opts.h"

/**
 * rp_opts_double(s, min, out):
 * Parse ${s} as a finite number >= ${min} into ${out}.  Return 0 or -1.
 */
int
rp_opts_double(const char * s, double min, double * out)
{
	char * end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v) || v < min)
		return (-1);
	*out = v;
	return (0);
}

/**
 * rp_opts_size(s, out):
 * Parse ${s} as a non-negative decimal integer into ${out}.  Return 0 or -1.
 */
int
rp_opts_size(const char * s, size_t * out)
{
	char * end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		return (-1);
	*out = (size_t)v;
	return (0);
}
