/*
 * Packet crypto engines: run each chunk of a batch on the path the plan
 * names for its size, through the backends' ops tables; and the process
 * default (RINGPIPED_CRYPTO, else the measured choice), which AUTO engines
 * and crypto_pktkey_new() follow.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"

struct crypto_engine {
	struct crypto_pkt_plan plan;

	/* Each used path's backend, its state (shared by that backend's
	 * paths) and its variant. */
	struct engine_path {
		const struct crypto_pkt_ops * ops;
		void * st;
		size_t v;
	} path[CRYPTO_PKT_NPATHS];

	/* Backend states, by enum crypto_backend; NULL if unused. */
	void * st[CRYPTO_PKT_NBACKENDS];

	char name[128];
};

/* The process default plan, made once. */
static struct crypto_pkt_plan defplan;
static int defplan_errno;		/* 0: ${defplan} is usable. */
static const char * defplan_name;	/* crypto_pkt_set_default; NULL:
					   "auto". */
static char defplan_desc[512];
static pthread_once_t defplan_once = PTHREAD_ONCE_INIT;

/**
 * crypto_pkt_set_default(name):
 * Make ${name} (as for crypto_engine_new_path(); NULL or "": "auto") the
 * process default that AUTO engines and keys use.  Must be called, if at
 * all, before the first of them is made; the program reads it from its
 * environment (RINGPIPED_CRYPTO), no library does.
 */
void
crypto_pkt_set_default(const char * name)
{

	defplan_name = name;
}

/**
 * defplan_init(void):
 * Make ${defplan} and its description.
 */
static void
defplan_init(void)
{
	const char * env = defplan_name;
	char prefix[64] = "";
	size_t i, used;

	if ((env != NULL) && (env[0] != '\0'))
		snprintf(prefix, sizeof(prefix), "RINGPIPED_CRYPTO=%.40s: ", env);
	else
		env = NULL;
	if (crypto_pkt_plan_make(env != NULL ? env : "auto", &defplan) == 0) {
		snprintf(defplan_desc, sizeof(defplan_desc), "%s", prefix);
		used = strlen(defplan_desc);
		crypto_pkt_plan_describe(&defplan, &defplan_desc[used],
		    sizeof(defplan_desc) - used);
		return;
	}
	defplan_errno = errno;
	if (defplan_errno == ENOTSUP) {
		snprintf(defplan_desc, sizeof(defplan_desc),
		    "%sno such crypto path works here", prefix);
		return;
	}
	snprintf(defplan_desc, sizeof(defplan_desc),
	    "%snot a crypto path (one of auto%s", prefix,
	    (crypto_pkt_backend(CRYPTO_BACKEND_IPSECMB) != NULL) ?
	    ", ipsecmb" : "");
	for (i = 0; crypto_pkt_path_name(i) != NULL; i++) {
		used = strlen(defplan_desc);
		snprintf(&defplan_desc[used], sizeof(defplan_desc) - used,
		    ", %s", crypto_pkt_path_name(i));
	}
	used = strlen(defplan_desc);
	snprintf(&defplan_desc[used], sizeof(defplan_desc) - used, ")");
}

/**
 * defplan_get(void):
 * Return the process default plan, or NULL (errno set).
 */
static const struct crypto_pkt_plan *
defplan_get(void)
{

	if (pthread_once(&defplan_once, defplan_init)) {
		errno = EAGAIN;
		return (NULL);
	}
	if (defplan_errno) {
		errno = defplan_errno;
		return (NULL);
	}
	return (&defplan);
}

/**
 * crypto_engine_describe(void):
 * Return one line saying which crypto path engines made with
 * CRYPTO_BACKEND_AUTO use at each batch size and why.
 */
const char *
crypto_engine_describe(void)
{

	(void)defplan_get();
	return (defplan_desc);
}

/**
 * engine_new(plan):
 * Create an engine running ${plan}.  Return NULL (errno set) on failure.
 */
static struct crypto_engine *
engine_new(const struct crypto_pkt_plan * plan)
{
	struct crypto_engine * eng;
	struct crypto_pkt_path path;
	unsigned vmask[CRYPTO_PKT_NBACKENDS] = {0};
	size_t p, b, used;

	if ((eng = calloc(1, sizeof(*eng))) == NULL)
		goto err0;
	eng->plan = *plan;

	/* Which variants each backend runs. */
	for (p = 0; crypto_pkt_path_get(p, &path) == 0; p++) {
		if (plan->paths & (1u << p))
			vmask[path.ops->backend] |= 1u << path.v;
	}

	/* One state per backend used, shared by its paths. */
	for (b = 0; b < CRYPTO_PKT_NBACKENDS; b++) {
		if (vmask[b] && ((eng->st[b] = crypto_pkt_backend(
		    (enum crypto_backend)b)->engine_new(vmask[b])) == NULL))
			goto err1;
	}
	for (p = 0; crypto_pkt_path_get(p, &path) == 0; p++) {
		if (!(plan->paths & (1u << p)))
			continue;
		eng->path[p] = (struct engine_path){ path.ops,
		    eng->st[path.ops->backend], path.v };
		used = strlen(eng->name);
		snprintf(&eng->name[used], sizeof(eng->name) - used, "%s%s",
		    used ? ", " : "", path.ops->variants[path.v].label);
	}

	/* Success! */
	return (eng);

err1:
	crypto_engine_free(eng);
err0:
	/* Failure! */
	return (NULL);
}

/**
 * crypto_engine_new(backend):
 * Create an engine for the calling thread using ${backend}; AUTO follows
 * RINGPIPED_CRYPTO if set, else the measured choice.  Return NULL (with
 * errno set) if ${backend} is unavailable.
 */
struct crypto_engine *
crypto_engine_new(enum crypto_backend backend)
{
	const struct crypto_pkt_plan * plan;

	switch (backend) {
	case CRYPTO_BACKEND_AUTO:
		if ((plan = defplan_get()) == NULL)
			return (NULL);
		return (engine_new(plan));
	case CRYPTO_BACKEND_IPSECMB:
		if (crypto_pkt_backend(backend) == NULL) {
			errno = ENOTSUP;
			return (NULL);
		}
		return (crypto_engine_new_path("ipsecmb"));
	case CRYPTO_BACKEND_OPENSSL:
		return (crypto_engine_new_path("openssl"));
	default:
		errno = EINVAL;
		return (NULL);
	}
}

/**
 * crypto_engine_new_path(name):
 * Create an engine for the calling thread using ${name}: "auto" (every
 * path, the measured choice), a backend ("openssl", "ipsecmb": the
 * measured choice among its paths) or one path (crypto_pkt_path_name()).
 * Return NULL (errno: EINVAL if ${name} is none of these, ENOTSUP if it
 * cannot run here).
 */
struct crypto_engine *
crypto_engine_new_path(const char * name)
{
	struct crypto_pkt_plan plan;

	if (crypto_pkt_plan_make(name, &plan))
		return (NULL);
	return (engine_new(&plan));
}

/**
 * crypto_engine_backend(eng):
 * Return the backend ${eng} actually uses (never AUTO); if it runs more
 * than one, the one that seals full chunks.
 */
enum crypto_backend
crypto_engine_backend(const struct crypto_engine * eng)
{

	return (eng->path[eng->plan.seal[CRYPTO_PKT_CHUNK]].ops->backend);
}

/**
 * crypto_engine_name(eng):
 * Return a short human-readable name of ${eng}'s backend and its SIMD
 * architecture (e.g. "ipsec-mb/avx512+sse", "openssl"); for an engine that
 * runs several paths, their names separated by ", ".
 */
const char *
crypto_engine_name(const struct crypto_engine * eng)
{

	return (eng->name);
}

/**
 * crypto_engine_free(eng):
 * Free ${eng}.  NULL is a no-op.
 */
void
crypto_engine_free(struct crypto_engine * eng)
{
	size_t b;

	/* Behave consistently with free(NULL). */
	if (eng == NULL)
		return;

	for (b = 0; b < CRYPTO_PKT_NBACKENDS; b++) {
		if (eng->st[b] != NULL)
			crypto_pkt_backend((enum crypto_backend)b)->engine_free(
			    eng->st[b]);
	}
	free(eng);
}

/**
 * crypto_pktkey_new(enc, mac):
 * Expand the AES-256 key ${enc} and the HMAC-SHA256 key ${mac} (32 bytes
 * each) for the backends that CRYPTO_BACKEND_AUTO engines use.  Return
 * NULL on failure.
 */
struct crypto_pktkey *
crypto_pktkey_new(const uint8_t enc[32], const uint8_t mac[32])
{
	const struct crypto_pkt_plan * plan;

	if ((plan = defplan_get()) == NULL)
		return (NULL);
	return (crypto_pktkey_new_layouts(enc, mac, plan->layouts));
}

/**
 * crypto_pktkey_new_engine(eng, enc, mac):
 * As crypto_pktkey_new(), but for the backends ${eng} uses.
 */
struct crypto_pktkey *
crypto_pktkey_new_engine(const struct crypto_engine * eng,
    const uint8_t enc[32], const uint8_t mac[32])
{

	return (crypto_pktkey_new_layouts(enc, mac, eng->plan.layouts));
}

/**
 * crypto_engine_seal(eng, jobs, n):
 * Seal the ${n} packets described by ${jobs} as one batch.
 * Return 0 on success, -1 on an internal failure (no job is then usable).
 */
int
crypto_engine_seal(struct crypto_engine * eng,
    struct crypto_seal_job * jobs, size_t n)
{
	const struct engine_path * p;
	unsigned need = eng->plan.layouts;
	size_t i, k;

	/* Refuse lengths no packet can carry, and keys not made for us. */
	for (i = 0; i < n; i++) {
		if ((jobs[i].len == 0) || (jobs[i].len > CRYPTO_PKT_PTMAX) ||
		    ((jobs[i].key->layouts & need) != need)) {
			errno = EINVAL;
			return (-1);
		}
	}

	/* Each chunk on the path for its size. */
	for (i = 0; i < n; i += k) {
		k = (n - i < CRYPTO_PKT_CHUNK) ? n - i : CRYPTO_PKT_CHUNK;
		p = &eng->path[eng->plan.seal[k]];
		if (p->ops->seal(p->st, p->v, &jobs[i], k))
			return (-1);
	}

	/* Success! */
	return (0);
}

/**
 * crypto_engine_open(eng, jobs, n):
 * Verify (in constant time) and then decrypt the ${n} packets of ${jobs} as
 * one batch, setting each job's ${len}.  Return the number of packets that
 * opened successfully.
 */
size_t
crypto_engine_open(struct crypto_engine * eng,
    struct crypto_open_job * jobs, size_t n)
{
	const struct engine_path * p;
	unsigned need = eng->plan.layouts;
	size_t i, k, nok = 0;

	/* A key not made for us fails the whole batch. */
	for (i = 0; i < n; i++) {
		if ((jobs[i].key->layouts & need) != need) {
			for (i = 0; i < n; i++)
				jobs[i].len = -1;
			errno = EINVAL;
			return (0);
		}
	}

	/* Each chunk on the path for its size. */
	for (i = 0; i < n; i += k) {
		k = (n - i < CRYPTO_PKT_CHUNK) ? n - i : CRYPTO_PKT_CHUNK;
		p = &eng->path[eng->plan.open[k]];
		nok += p->ops->open(p->st, p->v, &jobs[i], k);
	}

	return (nok);
}
