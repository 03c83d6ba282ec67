#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>

#include "rp_bufpool.h"
#include "rp_log.h"

/* Number of slots of ${slotsize} that fit the memlock limit (0: no limit). */
static size_t
bufpool_memlock_slots(size_t slotsize, size_t want)
{
	struct rlimit rl;
	size_t fit;

	if (geteuid() == 0 || getrlimit(RLIMIT_MEMLOCK, &rl) ||
	    rl.rlim_cur == RLIM_INFINITY)
		return (want);
	/* Leave room for the rings themselves and other workers. */
	fit = (size_t)(rl.rlim_cur / 4) / slotsize;
	return (fit < want ? fit : want);
}

/**
 * rp_bufpool_init(bp, ring, slotsize, nslots, allow_register):
 * Create ${nslots} slots of ${slotsize} bytes and, if ${allow_register},
 * register each as a fixed buffer of ${ring} (index = slot index).  When not
 * privileged the slot count is cut to fit RLIMIT_MEMLOCK; on ENOMEM/EPERM the
 * pool stays unregistered.  Return 0 on success, -1 on failure.
 */
int
rp_bufpool_init(struct rp_bufpool * bp, struct io_uring * ring,
    size_t slotsize, size_t nslots, int allow_register)
{
	struct iovec * iov;
	size_t regslots = nslots;
	size_t i;
	int rc;

	bp->slotsize = slotsize;
	bp->nslots = nslots;
	bp->registered = 0;
	bp->maplen = slotsize * nslots;
	bp->base = mmap(NULL, bp->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bp->base == MAP_FAILED)
		goto err0;
	if ((bp->freelist = malloc(nslots * sizeof(uint32_t))) == NULL)
		goto err1;
	for (i = 0; i < nslots; i++)
		bp->freelist[i] = (uint32_t)(nslots - 1 - i);
	bp->nfree = nslots;

	if (!allow_register)
		return (0);
	if (!(regslots = bufpool_memlock_slots(slotsize, nslots)))
		return (0);
	if ((iov = calloc(regslots, sizeof(*iov))) == NULL)
		goto err2;
	for (i = 0; i < regslots; i++) {
		iov[i].iov_base = rp_bufpool_ptr(bp, (int)i);
		iov[i].iov_len = slotsize;
	}
	rc = io_uring_register_buffers(ring, iov, (unsigned)regslots);
	free(iov);
	if (rc == 0) {
		bp->registered = 1;
		/* Only the registered prefix of the region is used. */
		if (regslots < nslots) {
			bp->nslots = bp->nfree = regslots;
			for (i = 0; i < regslots; i++)
				bp->freelist[i] = (uint32_t)(regslots - 1 - i);
		}
	} else if (rc != -ENOMEM && rc != -EPERM && rc != -EFAULT) {
		errno = -rc;
		rp_warnp("io_uring_register_buffers");
	}
	return (0);

err2:
	free(bp->freelist);
err1:
	munmap(bp->base, slotsize * nslots);
err0:
	return (-1);
}

/**
 * rp_bufpool_get(bp):
 * Take a free slot and return its index, or -1 if none is free.
 */
int
rp_bufpool_get(struct rp_bufpool * bp)
{

	if (bp->nfree == 0)
		return (-1);
	return ((int)bp->freelist[--bp->nfree]);
}

/**
 * rp_bufpool_put(bp, idx):
 * Return slot ${idx} to ${bp}.
 */
void
rp_bufpool_put(struct rp_bufpool * bp, int idx)
{

	bp->freelist[bp->nfree++] = (uint32_t)idx;
}

/**
 * rp_bufpool_free(bp):
 * Release the region of ${bp} (unregistering is left to ring teardown).
 */
void
rp_bufpool_free(struct rp_bufpool * bp)
{

	free(bp->freelist);
	munmap(bp->base, bp->maplen);
}
