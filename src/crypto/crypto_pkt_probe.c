/*
 * The probe behind the measured choice of crypto path: check that each
 * path seals the same packets as path 0 (OpenSSL) and opens them (which
 * also warms it up), then time each on full packets at the probe sizes.
 * Times are monotonic clock time, which other load can only make longer
 * (the thread's CPU time can also come out short: the kernel may deduct
 * time stolen by the hypervisor before the sample from it); a sample
 * during which the thread moved to another CPU is taken again.  At each
 * size the paths are timed back to back, so that contention from other
 * load (which lasts longer than a round) slows them alike, and each sample
 * follows an untimed call of its own path, so that it does not start with
 * another path's code in the caches.  As interference only ever makes a
 * sample slower, each path's fastest sample counts:
 * PROBE_ROUNDS rounds of every path at every size, then one more of the
 * close calls, so that the fastest path loses only if all its samples were
 * slowed.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"
#include "rp_clock.h"

const size_t crypto_pkt_probe_sizes[CRYPTO_PKT_PROBE_NSIZES] =
    { 1, 2, 4, 8, 16, CRYPTO_PKT_CHUNK };

/* Timing rounds of every path at every size. */
#define PROBE_ROUNDS 2

/* The last round times a path at a size again if it is within this factor
 * of the fastest there. */
#define PROBE_CLOSE 1.25

/* A probe size below this many packets is timed over several calls. */
#define PROBE_MINPKTS 8

/* Most tries at a sample that stays on one CPU. */
#define PROBE_TRIES 4

/* Packets of the check: more than the 16 lanes of the widest manager. */
#define PROBE_CHECKPKTS 20

/* Buffers and jobs of one probe. */
struct probe {
	struct crypto_pktkey * key;	/* Every layout the paths need. */
	uint8_t * pt;			/* CHUNK x 1024 plaintext, slack. */
	uint8_t * ref;			/* Path 0's packets. */
	uint8_t * pkt;			/* The path's packets. */
	uint8_t * out;			/* Opened plaintext. */
	struct crypto_seal_job sj[CRYPTO_PKT_CHUNK];
	struct crypto_open_job oj[CRYPTO_PKT_CHUNK];
	struct crypto_pkt_path path[CRYPTO_PKT_NPATHS];

	/* Each backend's state, shared by its paths as in an engine; a
	 * path's own state if the shared one could not be made. */
	void * bst[CRYPTO_PKT_NBACKENDS];
	void * own[CRYPTO_PKT_NPATHS];
	void * st[CRYPTO_PKT_NPATHS];	/* What path p runs on, or NULL. */
};

/**
 * now_ns(void):
 * Return the monotonic clock in ns.
 */
static double
now_ns(void)
{

	return ((double)rp_clock_ns());
}

/**
 * jobs_set(pr, full):
 * Point ${pr}'s jobs at its buffers: full packets sealed from ${pr}->pt
 * with slack (as the data path seals) if ${full}, else a walk of lengths
 * (fill and padding, in place and not).
 */
static void
jobs_set(struct probe * pr, int full)
{
	size_t i, len;

	for (i = 0; i < CRYPTO_PKT_CHUNK; i++) {
		len = full || (i % 4 == 0) ? CRYPTO_PKT_PTMAX :
		    1 + (i * 337) % CRYPTO_PKT_PTMAX;
		pr->sj[i] = (struct crypto_seal_job){ pr->key,
		    &pr->pt[i * CRYPTO_PKT_PTMAX], len, (uint64_t)i << 31,
		    &pr->pkt[i * CRYPTO_PKT_LEN], CRYPTO_SEAL_PTSLACK };
		pr->oj[i] = (struct crypto_open_job){ pr->key,
		    &pr->pkt[i * CRYPTO_PKT_LEN], pr->sj[i].pnum,
		    &pr->out[i * CRYPTO_PKT_LEN], 0 };
	}
}

/**
 * run(pr, p, n, seal):
 * Seal (${seal}) or open the first ${n} packets of ${pr}'s jobs on path
 * ${p}.  Return
 * 0, or -1 if that failed.
 */
static int
run(struct probe * pr, size_t p, size_t n, int seal)
{
	const struct crypto_pkt_ops * ops = pr->path[p].ops;
	size_t v = pr->path[p].v;

	if (seal)
		return (ops->seal(pr->st[p], v, pr->sj, n));
	return ((ops->open(pr->st[p], v, pr->oj, n) == n) ? 0 : -1);
}

/**
 * check(pr, p):
 * Seal PROBE_CHECKPKTS packets on path ${p} and open them; return 0 if the
 * packets equal ${pr}->ref (path 0 fills it when ${p} is 0) and open to
 * the plaintext.
 */
static int
check(struct probe * pr, size_t p)
{
	size_t i;

	jobs_set(pr, 0);
	if (run(pr, p, PROBE_CHECKPKTS, 1))
		return (-1);
	if (p == 0)
		memcpy(pr->ref, pr->pkt, PROBE_CHECKPKTS * CRYPTO_PKT_LEN);
	else if (memcmp(pr->ref, pr->pkt, PROBE_CHECKPKTS * CRYPTO_PKT_LEN))
		return (-1);
	if (run(pr, p, PROBE_CHECKPKTS, 0))
		return (-1);
	for (i = 0; i < PROBE_CHECKPKTS; i++) {
		if ((pr->oj[i].len != (int)pr->sj[i].len) ||
		    memcmp(pr->oj[i].out, pr->sj[i].pt, pr->sj[i].len))
			return (-1);
	}
	return (0);
}

/**
 * timed(pr, p, n, seal):
 * Return the ns one batch of ${n} full packets takes to seal (${seal}) or
 * open on path ${p}, after one untimed packet, on one CPU if it can, or a
 * negative value if it failed.
 */
static double
timed(struct probe * pr, size_t p, size_t n, int seal)
{
	size_t calls, c;
	double t0, t1;
	int cpu, tries;

	calls = (n < PROBE_MINPKTS) ? PROBE_MINPKTS / n : 1;
	for (tries = 0; tries < PROBE_TRIES; tries++) {
		if (run(pr, p, 1, seal))
			return (-1);
		cpu = sched_getcpu();
		t0 = now_ns();
		for (c = 0; c < calls; c++) {
			if (run(pr, p, n, seal))
				return (-1);
		}
		t1 = now_ns();
		if (sched_getcpu() == cpu)
			break;
	}
	return ((t1 - t0) / (double)calls);
}

/**
 * fastest(ns, ok, s):
 * Return the least of the times ${ns}[p][${s}] of the paths p in ${ok}.
 */
static double
fastest(const double ns[][CRYPTO_PKT_PROBE_NSIZES], unsigned ok, size_t s)
{
	double best = 0;
	size_t p;

	for (p = 0; p < CRYPTO_PKT_NPATHS; p++) {
		if ((ok & (1u << p)) && ((best == 0) || (ns[p][s] < best)))
			best = ns[p][s];
	}
	return (best);
}

/**
 * round_run(pr, res, round):
 * Time the paths at every probe size, sealing then opening: every path in
 * the first PROBE_ROUNDS rounds, after that only those within PROBE_CLOSE
 * of the fastest.  Keep each path's fastest in ${res} (round 0's times as
 * they are).  Opening needs a chunk of good packets: every path seals the
 * same bytes, and the seals of round 0 came first.  A path that fails is
 * dropped (and path 0 seals the chunk again, in case the failure left it
 * half written).
 */
static void
round_run(struct probe * pr, struct crypto_pkt_probe * res, int round)
{
	double (* ns)[CRYPTO_PKT_PROBE_NSIZES];
	double t, close;
	size_t p, s;
	int seal;

	for (seal = 1; seal >= 0; seal--) {
		ns = seal ? res->seal_ns : res->open_ns;
		for (s = 0; s < CRYPTO_PKT_PROBE_NSIZES; s++) {
			close = fastest(ns, res->ok, s) * PROBE_CLOSE;
			for (p = 0; p < CRYPTO_PKT_NPATHS; p++) {
				if (!(res->ok & (1u << p)) ||
				    ((round >= PROBE_ROUNDS) && (ns[p][s] > close)))
					continue;
				t = timed(pr, p, crypto_pkt_probe_sizes[s], seal);
				if (t < 0) {
					res->ok &= ~(1u << p);
					if (!(res->ok & 1) ||
					    run(pr, 0, CRYPTO_PKT_CHUNK, 1))
						res->ok = 0;
					continue;
				}
				if ((round == 0) || (t < ns[p][s]))
					ns[p][s] = t;
			}
		}
	}
}

/**
 * probe_free(pr):
 * Free what ${pr} holds.
 */
static void
probe_free(struct probe * pr)
{
	size_t p, b;

	for (p = 0; p < CRYPTO_PKT_NPATHS; p++) {
		if (pr->own[p] != NULL)
			pr->path[p].ops->engine_free(pr->own[p]);
	}
	for (b = 0; b < CRYPTO_PKT_NBACKENDS; b++) {
		if (pr->bst[b] != NULL)
			crypto_pkt_backend((enum crypto_backend)b)->engine_free(
			    pr->bst[b]);
	}
	crypto_pktkey_free(pr->key);
	free(pr->out);
	free(pr->pkt);
	free(pr->ref);
	free(pr->pt);
}

/**
 * crypto_pkt_probe_run(res, paths):
 * Check and time each available path in the mask ${paths} on full packets
 * at every probe size, into ${res}.  Return 0, or -1 if nothing could be
 * set up.
 */
int
crypto_pkt_probe_run(struct crypto_pkt_probe * res, unsigned paths)
{
	static const uint8_t enc[32] = { 0x52, 0x50 }, mac[32] = { 0x44 };
	struct probe pr;
	unsigned layouts = 1u << CRYPTO_BACKEND_OPENSSL;
	unsigned vmask[CRYPTO_PKT_NBACKENDS] = {0};
	size_t p, b;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&pr, 0, sizeof(pr));

	/* Path 0 is the reference every other path must agree with. */
	paths |= 1;
	for (p = 0; p < CRYPTO_PKT_NPATHS; p++) {
		if (!(paths & (1u << p)) || crypto_pkt_path_get(p, &pr.path[p]) ||
		    !pr.path[p].ops->available(pr.path[p].v))
			continue;
		res->ok |= 1u << p;
		layouts |= 1u << pr.path[p].ops->backend;
	}

	/* Buffers (with 4 bytes of seal slack) and a key for every path. */
	if (((pr.pt = malloc(CRYPTO_PKT_CHUNK * CRYPTO_PKT_PTMAX + 4)) ==
	    NULL) ||
	    ((pr.ref = malloc(CRYPTO_PKT_CHUNK * CRYPTO_PKT_LEN)) == NULL) ||
	    ((pr.pkt = malloc(CRYPTO_PKT_CHUNK * CRYPTO_PKT_LEN)) == NULL) ||
	    ((pr.out = malloc(CRYPTO_PKT_CHUNK * CRYPTO_PKT_LEN)) == NULL) ||
	    ((pr.key = crypto_pktkey_new_layouts(enc, mac, layouts)) == NULL))
		goto err1;
	memset(pr.pt, 0x5a, CRYPTO_PKT_CHUNK * CRYPTO_PKT_PTMAX + 4);

	/* One state per backend for all its paths probed. */
	for (p = 0; p < CRYPTO_PKT_NPATHS; p++) {
		if (res->ok & (1u << p))
			vmask[pr.path[p].ops->backend] |= 1u << pr.path[p].v;
	}
	for (b = 0; b < CRYPTO_PKT_NBACKENDS; b++) {
		if (vmask[b])
			pr.bst[b] = crypto_pkt_backend(
			    (enum crypto_backend)b)->engine_new(vmask[b]);
	}

	/* Set up and check each path; path 0 first, as the reference. */
	for (p = 0; p < CRYPTO_PKT_NPATHS; p++) {
		if (!(res->ok & (1u << p)))
			continue;
		if ((pr.st[p] = pr.bst[pr.path[p].ops->backend]) == NULL)
			pr.st[p] = pr.own[p] = pr.path[p].ops->engine_new(1u <<
			    pr.path[p].v);
		if ((pr.st[p] == NULL) || check(&pr, p))
			res->ok &= ~(1u << p);
		if ((p == 0) && !(res->ok & 1)) {
			res->ok = 0;
			break;
		}
	}

	/* Time. */
	jobs_set(&pr, 1);
	for (r = 0; r <= PROBE_ROUNDS; r++)
		round_run(&pr, res, r);

	/* Success! */
	probe_free(&pr);
	return (0);

err1:
	probe_free(&pr);
	/* Failure! */
	errno = ENOMEM;
	return (-1);
}
