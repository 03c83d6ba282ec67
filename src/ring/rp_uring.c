#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "rp_log.h"
#include "rp_uring.h"

/* The smallest ring a worker falls back to when memory is short. */
#define URING_MIN_ENTRIES	64

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static unsigned char probe_ops[256];
static int probe_failed;		/* No ring for the probe. */

static void
uring_probe(void)
{
	struct io_uring_probe * p;
	int op;

	if ((p = io_uring_get_probe()) == NULL) {
		probe_failed = 1;
		return;
	}
	for (op = 0; op < 256; op++)
		probe_ops[op] = io_uring_opcode_supported(p, op) ? 1 : 0;
	io_uring_free_probe(p);
}

/**
 * rp_uring_has_op(op):
 * Return non-zero if the running kernel supports io_uring opcode ${op}.
 */
int
rp_uring_has_op(int op)
{

	pthread_once(&probe_once, uring_probe);
	return (op >= 0 && op < 256 && probe_ops[op]);
}

/* Describe in ${why} why io_uring_setup failed with ${err}. */
static void
uring_explain(int err, char * why, size_t len)
{
	struct rlimit rl;
	int v = -1;
	FILE * f;

	if ((f = fopen("/proc/sys/kernel/io_uring_disabled", "r")) != NULL) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	if (err == ENOSYS) {
		snprintf(why, len, "io_uring is not available: the kernel "
		    "lacks it (ENOSYS)");
	} else if (v == 2 || (v == 1 && (err == EPERM || err == EACCES))) {
		snprintf(why, len, "io_uring is disabled by the sysctl "
		    "kernel.io_uring_disabled=%d", v);
	} else if (err == EPERM || err == EACCES) {
		snprintf(why, len, "io_uring_setup was refused (%s): a "
		    "seccomp profile (e.g. a container runtime's default) "
		    "blocks io_uring", err == EPERM ? "EPERM" : "EACCES");
	} else if (err == ENOMEM && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY) {
		snprintf(why, len, "io_uring_setup failed (ENOMEM): the "
		    "rings are counted against the locked-memory limit, "
		    "%llu KiB here (raise it: ulimit -l, LimitMEMLOCK=)",
		    (unsigned long long)rl.rlim_cur >> 10);
	} else {
		snprintf(why, len, "io_uring_setup failed: %s",
		    strerror(err));
	}
}

/* Set up ${ring}; on failure describe the cause in ${why}, return -errno. */
static int
uring_init(struct io_uring * ring, unsigned entries, int single,
    char * why, size_t len)
{
	static const unsigned tries[] = {
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
		    IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
		    IORING_SETUP_COOP_TASKRUN,
		IORING_SETUP_SUBMIT_ALL,
		0
	};
	struct io_uring_params p;
	size_t i;
	int rc = -ENOSYS;

again:
	for (i = single ? 0 : 2; i < sizeof(tries) / sizeof(tries[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = tries[i];
		p.flags |= IORING_SETUP_CQSIZE;
		p.cq_entries = entries * 4;
		if ((rc = io_uring_queue_init_params(entries, ring, &p)) == 0)
			return (0);
		if (rc != -EINVAL)
			break;
	}

	/* The ring's pages count against RLIMIT_MEMLOCK: a smaller ring
	 * only submits in smaller batches (rp_uring_sqe). */
	if (rc == -ENOMEM && entries > URING_MIN_ENTRIES) {
		entries /= 4;
		if (entries < URING_MIN_ENTRIES)
			entries = URING_MIN_ENTRIES;
		goto again;
	}
	uring_explain(-rc, why, len);
	return (rc);
}

/**
 * rp_uring_init(ring, entries, single):
 * Set up ${ring} with ${entries} entries, asking for SUBMIT_ALL, and when
 * ${single} also SINGLE_ISSUER + DEFER_TASKRUN (the ring is then used by
 * the calling thread only), dropping flags the kernel refuses.  Return 0 on
 * success; on failure print why io_uring is unavailable and what to change,
 * and return -1.
 */
int
rp_uring_init(struct io_uring * ring, unsigned entries, int single)
{
	char why[256];

	if (uring_init(ring, entries, single, why, sizeof(why)) == 0)
		return (0);
	rp_warn("%s", why);
	return (-1);
}

/**
 * rp_uring_probe(why, len):
 * Check that io_uring can run the data path here: a ring can be set up and
 * the kernel has every opcode the engine needs.  Return 0 if so; otherwise
 * describe the cause in the ${len} bytes at ${why} and return -1.
 */
int
rp_uring_probe(char * why, size_t len)
{
	static const int needed[] = {
		IORING_OP_RECV, IORING_OP_SEND, IORING_OP_READ,
		IORING_OP_WRITE, IORING_OP_ASYNC_CANCEL, IORING_OP_MSG_RING
	};
	struct io_uring ring;
	size_t i;

	if (uring_init(&ring, 4, 0, why, len))
		return (-1);
	io_uring_queue_exit(&ring);
	pthread_once(&probe_once, uring_probe);
	if (probe_failed) {
		snprintf(why, len, "io_uring's opcodes could not be probed: "
		    "its ring could not be set up");
		return (-1);
	}
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (!rp_uring_has_op(needed[i])) {
			snprintf(why, len, "the kernel's io_uring lacks "
			    "opcode %d", needed[i]);
			return (-1);
		}
	}
	return (0);
}

/**
 * rp_uring_pin_free():
 * Return non-zero if the pages that io_uring pins for the calling process
 * (rings, fixed buffers) are not counted against a locked-memory limit:
 * it may lock memory (CAP_IPC_LOCK), or RLIMIT_MEMLOCK is unlimited.
 */
int
rp_uring_pin_free(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY)
		return (1);
	if (syscall(SYS_capget, &h, d) == 0 &&
	    (d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &
	    CAP_TO_MASK(CAP_IPC_LOCK)))
		return (1);
	return (0);
}

/**
 * rp_uring_sqe(ring):
 * Return a free SQE of ${ring}, submitting queued entries first if the
 * queue is full; NULL if the kernel takes none now (its completion queue
 * is backed up: reap completions, then try again).
 */
struct io_uring_sqe *
rp_uring_sqe(struct io_uring * ring)
{
	struct io_uring_sqe * sqe;
	int i, rc;

	for (i = 0; i < 3; i++) {
		if ((sqe = io_uring_get_sqe(ring)) != NULL)
			return (sqe);
		if ((rc = io_uring_submit(ring)) < 0 && rc != -EINTR)
			break;
	}
	return (NULL);
}
