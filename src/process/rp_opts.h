#ifndef RP_OPTS_H_
#define RP_OPTS_H_

#include <stddef.h>

/**
 * rp_opts_double(s, min, out):
 * Parse ${s} as a finite number >= ${min} into ${out}.  Return 0 or -1.
 */
int rp_opts_double(const char * s, double min, double * out);

/**
 * rp_opts_size(s, out):
 * Parse ${s} as a non-negative decimal integer into ${out}.  Return 0 or -1.
 */
int rp_opts_size(const char * s, size_t * out);

#endif /* !RP_OPTS_H_ */
