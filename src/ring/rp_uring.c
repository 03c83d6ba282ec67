#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rp_log.h"
#include "rp_uring.h"

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static unsigned char probe_ops[256];

static void
uring_probe(void)
{
	struct io_uring_probe * p;
	int op;

	if ((p = io_uring_get_probe()) == NULL)
		return;
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

static void
uring_explain(int err)
{
	int v = -1;
	FILE * f;

	if ((f = fopen("/proc/sys/kernel/io_uring_disabled", "r")) != NULL) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	if (err == ENOSYS) {
		rp_warn("io_uring is not available: the kernel lacks it "
		    "(Linux 6.1 or newer with CONFIG_IO_URING is needed)");
	} else if (v == 2 || (v == 1 && err == EPERM)) {
		rp_warn("io_uring is disabled by the sysctl "
		    "kernel.io_uring_disabled=%d; set it to 0 (or, for 1, add "
		    "this user to kernel.io_uring_group) to run ringpiped", v);
	} else if (err == EPERM) {
		rp_warn("io_uring_setup was refused (EPERM): a seccomp "
		    "profile (e.g. a container runtime's default) blocks "
		    "io_uring; allow io_uring_setup, io_uring_enter and "
		    "io_uring_register for ringpiped");
	} else {
		rp_warn("io_uring_setup failed: %s", strerror(err));
	}
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
	uring_explain(-rc);
	return (-1);
}

/**
 * rp_uring_check():
 * Check once that io_uring can be used at all, printing a clear message
 * (io_uring_disabled sysctl, seccomp, old kernel) if not.  Return 0 or -1.
 */
int
rp_uring_check(void)
{
	struct io_uring ring;

	if (rp_uring_init(&ring, 4, 0))
		return (-1);
	io_uring_queue_exit(&ring);
	return (0);
}

/**
 * rp_uring_sqe(ring):
 * Return a free SQE of ${ring}, submitting queued entries first if the
 * queue is full.  Never returns NULL.
 */
struct io_uring_sqe *
rp_uring_sqe(struct io_uring * ring)
{
	struct io_uring_sqe * sqe;

	while ((sqe = io_uring_get_sqe(ring)) == NULL)
		io_uring_submit(ring);
	return (sqe);
}
