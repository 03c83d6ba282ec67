#ifndef RP_MEM_H_
#define RP_MEM_H_

#include <stddef.h>

/**
 * rp_mem_release_startup(void):
 * Drop this process's page-table entries for the clean, read-only file
 * pages (program and library text and constants) that start-up touched:
 * libIPSec_MB's self-test at manager set-up runs every algorithm it has,
 * and the crypto path probe runs every candidate, but the data path uses
 * a few of them.  The pages stay in the page cache; what is used again
 * faults back in (a minor fault, no I/O).  A mapping that is writable, or
 * holds any page this process changed (relocations), is left alone, so
 * nothing but the page-table entries of unmodified file pages goes.
 * Return the KiB released (an estimate from /proc/self/smaps), or 0 if
 * that file cannot be read.
 */
size_t rp_mem_release_startup(void);

#endif /* !RP_MEM_H_ */
