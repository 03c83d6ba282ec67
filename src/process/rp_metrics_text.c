#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "proto_pipe.h"
#include "rp_ctl.h"
#include "rp_ctlstats.h"
#include "rp_metrics.h"
#include "rp_metrics_text.h"
#include "rp_prom.h"
#include "rp_worker.h"

#define NS_PER_S	1e9

/* The reason labels of failed set-ups, by RP_HSFAIL_*. */
static const char * const metrics_hsfail_names[RP_HSFAIL_N] = {
	[RP_HSFAIL_TIMEOUT] = "timeout",
	[RP_HSFAIL_BAD_MAC] = "bad_mac",
	[RP_HSFAIL_BAD_Y] = "bad_y",
	[RP_HSFAIL_PFS] = "pfs_required",
	[RP_HSFAIL_CONNECT] = "connect_failed",
	[RP_HSFAIL_PEER] = "peer_closed",
	[RP_HSFAIL_INTERNAL] = "internal"
};

/* The outcome labels of reloads: [0] took effect, [1] failed. */
static const char * const metrics_reload_names[2] = { "ok", "failed" };

/* The direction labels of the data counters: [0] sealed, [1] opened. */
static const char * const metrics_dir_names[2] = { "encrypted", "decrypted" };

/* The data numbers of one scrape, summed across the workers. */
struct metrics_sums {
	uint64_t pkts[2], bytes[2];		/* Sealed [0], opened [1]. */
};

/* Sum ${wc}[0..${nw}) into ${s}. */
static void
metrics_sum(const struct rp_worker_counts * wc, int nw,
    struct metrics_sums * s)
{
	int i, j;

	*s = (struct metrics_sums){ .pkts = { 0, 0 } };
	for (i = 0; i < nw; i++) {
		for (j = 0; j < 2; j++) {
			s->pkts[j] += wc[i].pkts[j];
			s->bytes[j] += wc[i].bytes[j];
		}
	}
}

/* Handshakes done of the pipe counters ${c}. */
static uint64_t
metrics_hs_ok(const struct rp_ctlstats_snap * c)
{
	uint64_t n = 0;
	int j;

	for (j = 0; j <= RP_CTLSTATS_NBOUNDS; j++)
		n += c->hs_bucket[j];
	return (n);
}

/* Set-ups failed of the pipe counters ${c}. */
static uint64_t
metrics_failed(const struct rp_ctlstats_snap * c)
{
	uint64_t n = 0;
	int j;

	for (j = 0; j < RP_HSFAIL_N; j++)
		n += c->failed[j];
	return (n);
}

/* The labels of pipe ${mp}, with ${key}="${val}" after them if ${key} is
 * not NULL, into ${l} (room for five). */
static const char * const *
metrics_labels(const struct rp_metrics_pipe * mp, const char * key,
    const char * val, const char ** l)
{
	int k = 0;

	if (mp->name != NULL) {
		l[k++] = "pipe";
		l[k++] = mp->name;
	}
	if (key != NULL) {
		l[k++] = key;
		l[k++] = val;
	}
	l[k] = NULL;
	return (l);
}

/*
 * The family ${name} of ${type} described by ${help} into ${p}, with a
 * sample per pipe of ${pipes}[0..${n}): ${get}(pipe counters, ${i}) for
 * each i < ${nv} labelled ${key}="${vals}[i]", or, with ${key} NULL, the
 * one sample ${get}(counters, 0).
 */
static void
metrics_per_pipe(struct rp_prom * p, const char * name, const char * type,
    const char * help, const struct rp_metrics_pipe * pipes, int n,
    const char * key, const char * const * vals, size_t nv,
    uint64_t (* get)(const struct rp_ctlstats_snap *, size_t))
{
	const char * l[5];
	size_t i;
	int j;

	rp_prom_family(p, name, type, help);
	for (j = 0; j < n; j++) {
		if (key == NULL) {
			rp_prom_u64(p, name, metrics_labels(&pipes[j], NULL,
			    NULL, l), get(&pipes[j].s, 0));
			continue;
		}
		for (i = 0; i < nv; i++)
			rp_prom_u64(p, name, metrics_labels(&pipes[j], key,
			    vals[i], l), get(&pipes[j].s, i));
	}
}

/*
 * The family ${name} of ${type} described by ${help} into ${p}: with
 * ${key} NULL its one sample ${v}[0], else a sample ${key}="${vals}[i]"
 * = ${v}[i] for each i < ${n}.
 */
static void
metrics_family(struct rp_prom * p, const char * name, const char * type,
    const char * help, const char * key, const char * const * vals,
    const uint64_t * v, size_t n)
{
	const char * labels[] = { key, NULL, NULL };
	size_t i;

	rp_prom_family(p, name, type, help);
	if (key == NULL) {
		rp_prom_u64(p, name, NULL, v[0]);
		return;
	}
	for (i = 0; i < n; i++) {
		labels[1] = vals[i];
		rp_prom_u64(p, name, labels, v[i]);
	}
}

/* The info metric of ${info} into ${p}. */
static void
metrics_info(struct rp_prom * p, const struct rp_metrics_info * info)
{
	const char * const labels[] = {
		"version", info->version, "mode", info->mode,
		"engine", info->engine, "crypto", info->crypto, NULL
	};

	rp_prom_family(p, "ringpiped_info", "gauge",
	    "What this ringpiped runs: version, mode (encrypt for -e, decrypt "
	    "for -d), data-path engine and crypto paths; always 1.");
	rp_prom_u64(p, "ringpiped_info", labels, 1);
}

/* The closed reasons: how a pair ended on a worker (PROTO_PIPE_END_*),
 * then how a set-up failed. */
#define METRICS_CLOSED_N	(PROTO_PIPE_END_N + 3)
static const char * const metrics_closed_names[METRICS_CLOSED_N] = {
	[PROTO_PIPE_END_EOF] = "eof",
	[PROTO_PIPE_END_IO] = "reset",
	[PROTO_PIPE_END_BAD_PACKET] = "bad_packet",
	[PROTO_PIPE_END_TRUNCATED] = "truncated",
	[PROTO_PIPE_END_NOMEM] = "nomem",
	[PROTO_PIPE_END_N] = "timeout",
	[PROTO_PIPE_END_N + 1] = "connect_failed",
	[PROTO_PIPE_END_N + 2] = "handshake_failed"
};

/* The getters of the per-pipe families, by counters ${c} and index ${i}. */
static uint64_t
get_accepted(const struct rp_ctlstats_snap * c, size_t i)
{

	(void)i;
	return (c->accepted);
}

/* Connections open now: in set-up, or carried by a worker (accepted, and
 * neither failed in set-up nor closed on a worker). */
static uint64_t
get_active(const struct rp_ctlstats_snap * c, size_t i)
{
	uint64_t done = metrics_failed(c);
	int j;

	(void)i;
	for (j = 0; j < PROTO_PIPE_END_N; j++)
		done += c->closed[j];

	/* Each counter is read atomically, the set not as one: an outcome
	 * read ahead of its accept would make it negative; never below 0. */
	return ((c->accepted > done) ? c->accepted - done : 0);
}

static uint64_t
get_limit_hits(const struct rp_ctlstats_snap * c, size_t i)
{

	(void)i;
	return (c->limit_hits);
}

static uint64_t
get_closed(const struct rp_ctlstats_snap * c, size_t i)
{

	if (i < PROTO_PIPE_END_N)
		return (c->closed[i]);
	if (i == PROTO_PIPE_END_N)
		return (c->failed[RP_HSFAIL_TIMEOUT]);
	if (i == PROTO_PIPE_END_N + 1)
		return (c->failed[RP_HSFAIL_CONNECT]);
	return (metrics_failed(c) - c->failed[RP_HSFAIL_TIMEOUT] -
	    c->failed[RP_HSFAIL_CONNECT]);
}

static uint64_t
get_timedout(const struct rp_ctlstats_snap * c, size_t i)
{

	(void)i;
	return (c->timedout);
}

static uint64_t
get_hs_ok(const struct rp_ctlstats_snap * c, size_t i)
{

	(void)i;
	return (metrics_hs_ok(c));
}

static uint64_t
get_hs_failed(const struct rp_ctlstats_snap * c, size_t i)
{

	return (c->failed[i]);
}

/* The connection metrics of ${pipes}[0..${n}) into ${p}. */
static void
metrics_conns(struct rp_prom * p, const struct rp_metrics_pipe * pipes,
    int n)
{

	metrics_per_pipe(p, "ringpiped_connections_accepted_total", "counter",
	    "Connections accepted on the source socket.", pipes, n, NULL,
	    NULL, 0, get_accepted);
	metrics_per_pipe(p, "ringpiped_connections_active", "gauge",
	    "Connections open now: in set-up (connect and handshake) or "
	    "carried by a worker; what -n counts.", pipes, n, NULL, NULL, 0,
	    get_active);
	metrics_per_pipe(p, "ringpiped_connection_limit_hits_total", "counter",
	    "Times an accept reached the -n limit: later connections wait in "
	    "the listen backlog until one closes.", pipes, n, NULL, NULL, 0,
	    get_limit_hits);
	metrics_per_pipe(p, "ringpiped_connections_closed_total", "counter",
	    "Connections closed, by how they ended: eof (both ways), reset "
	    "(reset or I/O error), bad_packet, truncated (EOF inside a "
	    "packet), nomem, or in set-up: timeout (-o), connect_failed, "
	    "handshake_failed.", pipes, n, "reason", metrics_closed_names,
	    METRICS_CLOSED_N, get_closed);
	metrics_per_pipe(p, "ringpiped_pairs_timed_out_total", "counter",
	    "Connection pairs closed because a socket failed with ETIMEDOUT: "
	    "its peer stopped answering keepalive probes or acknowledging "
	    "data (--keepalive sets how soon that is decided).", pipes, n,
	    NULL, NULL, 0, get_timedout);
}

/* The handshake metrics of ${pipes}[0..${n}) and the reloads of ${loop}
 * into ${p}. */
static void
metrics_handshakes(struct rp_prom * p, const struct rp_metrics_pipe * pipes,
    int n, const struct rp_ctlstats_snap * loop)
{
	const char * l[5];
	int j;

	metrics_per_pipe(p, "ringpiped_handshakes_ok_total", "counter",
	    "Handshakes done, their pairs handed to a worker.", pipes, n,
	    NULL, NULL, 0, get_hs_ok);
	metrics_per_pipe(p, "ringpiped_handshakes_failed_total", "counter",
	    "Connection set-ups that failed, by reason: timeout (-o), bad_mac "
	    "(the peer has another key), bad_y, pfs_required (-g), "
	    "connect_failed (the target), peer_closed, internal.", pipes, n,
	    "reason", metrics_hsfail_names, RP_HSFAIL_N, get_hs_failed);
	rp_prom_family(p, "ringpiped_handshake_duration_seconds", "histogram",
	    "Time from the start of a handshake (accept for -d, connected "
	    "for -e) until its pair went to a worker.");
	for (j = 0; j < n; j++)
		rp_prom_histogram(p, "ringpiped_handshake_duration_seconds",
		    metrics_labels(&pipes[j], NULL, NULL, l),
		    rp_ctlstats_bounds, RP_CTLSTATS_NBOUNDS,
		    pipes[j].s.hs_bucket, (double)pipes[j].s.hs_ns / NS_PER_S);
	metrics_family(p, "ringpiped_reloads_total", "counter",
	    "Reloads (SIGHUP) of the key files and targets, or of the "
	    "configuration file, by result: ok, or failed (what was in use "
	    "before stays).", "result", metrics_reload_names, loop->reloads,
	    2);
}

/* The data and per-worker metrics of ${s} and ${wc}[0..${nw}) into ${p}. */
static void
metrics_data(struct rp_prom * p, const struct metrics_sums * s,
    const struct rp_worker_counts * wc, int nw)
{
	const char * labels[] = { "worker", NULL, NULL };
	char id[16];
	int i;

	metrics_family(p, "ringpiped_plaintext_bytes_total", "counter",
	    "Plaintext bytes carried, all pipes together: encrypted (read "
	    "from the plaintext side, sent sealed) or decrypted (received "
	    "sealed, verified).", "direction", metrics_dir_names, s->bytes,
	    2);
	metrics_family(p, "ringpiped_packets_total", "counter",
	    "Packets (1060 bytes on the wire each) encrypted and sent, or "
	    "received and decrypted, all pipes together.", "direction",
	    metrics_dir_names, s->pkts, 2);
	rp_prom_family(p, "ringpiped_worker_pairs", "gauge",
	    "Connection pairs each worker thread carries now.");
	for (i = 0; i < nw; i++) {
		snprintf(id, sizeof(id), "%d", i);
		labels[1] = id;
		rp_prom_u64(p, "ringpiped_worker_pairs", labels, wc[i].pairs);
	}
}

/**
 * rp_metrics_text(info, loop, pipes, npipes, wc, nw, len):
 * Return the metrics text for the daemon described by ${info}, with the
 * counters ${loop} of its control loop, those of its pipes
 * ${pipes}[0..${npipes}) and those ${wc}[0..${nw}) of its workers (to be
 * freed by the caller; its length stored in ${len}), or NULL if out of
 * memory.
 */
char *
rp_metrics_text(const struct rp_metrics_info * info,
    const struct rp_ctlstats_snap * loop, const struct rp_metrics_pipe * pipes,
    int npipes, const struct rp_worker_counts * wc, int nw, size_t * len)
{
	struct metrics_sums s;
	struct rp_prom p;

	metrics_sum(wc, nw, &s);
	rp_prom_init(&p);
	metrics_info(&p, info);
	metrics_conns(&p, pipes, npipes);
	metrics_handshakes(&p, pipes, npipes, loop);
	metrics_data(&p, &s, wc, nw);
	return (rp_prom_finish(&p, len));
}

/**
 * rp_metrics_scrape(src, len):
 * Return what GET /metrics answers for ${src} now: the text (to be freed
 * by the caller), its length stored in ${len}; or NULL if out of memory.
 */
char *
rp_metrics_scrape(const struct rp_metrics_src * src, size_t * len)
{
	struct rp_ctlstats_snap loop;
	struct rp_worker_counts * wc;
	struct rp_metrics_pipe * mp = NULL;
	struct rp_ctl ** pipes;
	char * text = NULL;
	int i, n;

	if ((wc = calloc((size_t)src->nworkers + 1, sizeof(*wc))) == NULL)
		return (NULL);
	pipes = rp_ctl_loop_pipes(src->loop, &n);
	if ((mp = calloc((size_t)n + 1, sizeof(*mp))) == NULL)
		goto done;

	/*
	 * Each counter is read atomically, the set not as one: a pair that
	 * changes hands during the scrape (handed to a worker, not yet
	 * counted done) may count once more in connections_active.  Quiet,
	 * every sum is exact.
	 */
	rp_ctlstats_read(rp_ctl_loop_stats(src->loop), &loop);
	for (i = 0; i < n; i++) {
		mp[i].name = rp_ctl_name(pipes[i]);
		rp_ctlstats_read(rp_ctl_stats(pipes[i]), &mp[i].s);
	}
	for (i = 0; i < src->nworkers; i++)
		rp_worker_counts(src->workers[i], &wc[i]);
	text = rp_metrics_text(&src->info, &loop, mp, n, wc, src->nworkers,
	    len);
done:
	for (i = 0; i < n; i++)
		rp_ctl_put(pipes[i]);
	free(pipes);
	free(mp);
	free(wc);
	return (text);
}
