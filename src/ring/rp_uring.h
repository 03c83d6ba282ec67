#ifndef RP_URING_H_
#define RP_URING_H_

/* io_uring set-up with run-time feature detection. */

#include <stddef.h>

#include <liburing.h>

#include "rp_compat.h"

/**
 * rp_uring_init(ring, entries, single):
 * Set up ${ring} with ${entries} entries, asking for SUBMIT_ALL, and when
 * ${single} also SINGLE_ISSUER + DEFER_TASKRUN (the ring is then used by
 * the calling thread only), dropping flags the kernel refuses.  Return 0 on
 * success; on failure print why io_uring is unavailable and what to change,
 * and return -1.
 */
int rp_uring_init(struct io_uring * ring, unsigned entries, int single);

/**
 * rp_uring_has_op(op):
 * Return non-zero if the running kernel supports io_uring opcode ${op}.
 */
int rp_uring_has_op(int op);

/**
 * rp_uring_probe(why, len):
 * Check that io_uring can run the data path here: a ring can be set up and
 * the kernel has every opcode the engine needs.  Return 0 if so; otherwise
 * describe the cause in the ${len} bytes at ${why} and return -1.
 */
int rp_uring_probe(char * why, size_t len);

/**
 * rp_uring_pin_free():
 * Return non-zero if the pages that io_uring pins for the calling process
 * (rings, fixed buffers) are not counted against a locked-memory limit:
 * it may lock memory (CAP_IPC_LOCK), or RLIMIT_MEMLOCK is unlimited.
 */
int rp_uring_pin_free(void);

/**
 * rp_uring_sqe(ring):
 * Return a free SQE of ${ring}, submitting queued entries first if the
 * queue is full; NULL if the kernel takes none now (its completion queue
 * is backed up: reap completions, then try again).
 */
struct io_uring_sqe * rp_uring_sqe(struct io_uring * ring);

#endif /* !RP_URING_H_ */
