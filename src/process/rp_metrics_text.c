#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "proto_pipe.h"
#include "rp_ctlstats.h"
#include "rp_metrics.h"
#include "rp_metrics_text.h"
#include "rp_prom.h"
#include "rp_worker.h"

#define NS_PER_S	1e9

/* The reason labels of pairs that closed on a worker, by PROTO_PIPE_END_*. */
static const char * const metrics_end_names[PROTO_PIPE_END_N] = {
	[PROTO_PIPE_END_EOF] = "eof",
	[PROTO_PIPE_END_IO] = "reset",
	[PROTO_PIPE_END_BAD_PACKET] = "bad_packet",
	[PROTO_PIPE_END_TRUNCATED] = "truncated",
	[PROTO_PIPE_END_NOMEM] = "nomem"
};

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

/* The numbers of one scrape, summed across the workers. */
struct metrics_sums {
	uint64_t closed[PROTO_PIPE_END_N];	/* Pairs closed, by end. */
	uint64_t timedout;			/* Of those, by ETIMEDOUT. */
	uint64_t pkts[2], bytes[2];		/* Sealed [0], opened [1]. */
	uint64_t pairs;				/* Carried now. */
	uint64_t hs_ok;				/* Handshakes done. */
	uint64_t failed;			/* Set-ups failed. */
};

/* Sum ${ctl} and ${wc}[0..${nw}) into ${s}. */
static void
metrics_sum(const struct rp_ctlstats_snap * ctl,
    const struct rp_worker_counts * wc, int nw, struct metrics_sums * s)
{
	int i, j;

	*s = (struct metrics_sums){ .pairs = 0 };
	for (i = 0; i < nw; i++) {
		for (j = 0; j < PROTO_PIPE_END_N; j++)
			s->closed[j] += wc[i].closed[j];
		s->timedout += wc[i].timedout;
		for (j = 0; j < 2; j++) {
			s->pkts[j] += wc[i].pkts[j];
			s->bytes[j] += wc[i].bytes[j];
		}
		s->pairs += wc[i].pairs;
	}
	for (j = 0; j <= RP_CTLSTATS_NBOUNDS; j++)
		s->hs_ok += ctl->hs_bucket[j];
	for (j = 0; j < RP_HSFAIL_N; j++)
		s->failed += ctl->failed[j];
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

/* The connection metrics of ${ctl} and ${s} into ${p}. */
static void
metrics_conns(struct rp_prom * p, const struct rp_ctlstats_snap * ctl,
    const struct metrics_sums * s)
{
	const char * names[PROTO_PIPE_END_N + 3];
	uint64_t v[PROTO_PIPE_END_N + 3], setup;
	size_t i;

	metrics_family(p, "ringpiped_connections_accepted_total", "counter",
	    "Connections accepted on the source socket.", NULL, NULL,
	    &ctl->accepted, 1);

	/* Those neither done nor failed are in set-up (0 if a scrape saw
	 * an outcome before its accept: rp_ctlstats_read rules it out). */
	setup = (ctl->accepted > s->hs_ok + s->failed) ?
	    ctl->accepted - s->hs_ok - s->failed : 0;
	v[0] = setup + s->pairs;
	metrics_family(p, "ringpiped_connections_active", "gauge",
	    "Connections open now: in set-up (connect and handshake) or "
	    "carried by a worker; what -n counts.", NULL, NULL, v, 1);
	metrics_family(p, "ringpiped_connection_limit_hits_total", "counter",
	    "Times an accept reached the -n limit: later connections wait in "
	    "the listen backlog until one closes.", NULL, NULL,
	    &ctl->limit_hits, 1);

	/* Closed on a worker, by how the pipe ended; or in set-up. */
	for (i = 0; i < PROTO_PIPE_END_N; i++) {
		names[i] = metrics_end_names[i];
		v[i] = s->closed[i];
	}
	names[i] = "timeout";
	v[i++] = ctl->failed[RP_HSFAIL_TIMEOUT];
	names[i] = "connect_failed";
	v[i++] = ctl->failed[RP_HSFAIL_CONNECT];
	names[i] = "handshake_failed";
	v[i++] = s->failed - ctl->failed[RP_HSFAIL_TIMEOUT] -
	    ctl->failed[RP_HSFAIL_CONNECT];
	metrics_family(p, "ringpiped_connections_closed_total", "counter",
	    "Connections closed, by how they ended: eof (both ways), reset "
	    "(reset or I/O error), bad_packet, truncated (EOF inside a "
	    "packet), nomem, or in set-up: timeout (-o), connect_failed, "
	    "handshake_failed.", "reason", names, v, i);
	metrics_family(p, "ringpiped_pairs_timed_out_total", "counter",
	    "Connection pairs closed because a socket failed with ETIMEDOUT: "
	    "its peer stopped answering keepalive probes or acknowledging "
	    "data (--keepalive sets how soon that is decided).", NULL, NULL,
	    &s->timedout, 1);
}

/* The handshake metrics of ${ctl} and ${s} into ${p}. */
static void
metrics_handshakes(struct rp_prom * p, const struct rp_ctlstats_snap * ctl,
    const struct metrics_sums * s)
{

	metrics_family(p, "ringpiped_handshakes_ok_total", "counter",
	    "Handshakes done, their pairs handed to a worker.", NULL, NULL,
	    &s->hs_ok, 1);
	metrics_family(p, "ringpiped_handshakes_failed_total", "counter",
	    "Connection set-ups that failed, by reason: timeout (-o), bad_mac "
	    "(the peer has another key), bad_y, pfs_required (-g), "
	    "connect_failed (the target), peer_closed, internal.", "reason",
	    metrics_hsfail_names, ctl->failed, RP_HSFAIL_N);
	rp_prom_family(p, "ringpiped_handshake_duration_seconds", "histogram",
	    "Time from the start of a handshake (accept for -d, connected "
	    "for -e) until its pair went to a worker.");
	rp_prom_histogram(p, "ringpiped_handshake_duration_seconds",
	    rp_ctlstats_bounds, RP_CTLSTATS_NBOUNDS, ctl->hs_bucket,
	    (double)ctl->hs_ns / NS_PER_S);
	metrics_family(p, "ringpiped_reloads_total", "counter",
	    "Reloads of the key files and target (SIGHUP), by result: ok, or "
	    "failed (the keys and addresses in use before stay).", "result",
	    metrics_reload_names, ctl->reloads, 2);
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
	    "Plaintext bytes carried: encrypted (read from the plaintext "
	    "side, sent sealed) or decrypted (received sealed, verified).",
	    "direction", metrics_dir_names, s->bytes, 2);
	metrics_family(p, "ringpiped_packets_total", "counter",
	    "Packets (1060 bytes on the wire each) encrypted and sent, or "
	    "received and decrypted.", "direction", metrics_dir_names,
	    s->pkts, 2);
	rp_prom_family(p, "ringpiped_worker_pairs", "gauge",
	    "Connection pairs each worker thread carries now.");
	for (i = 0; i < nw; i++) {
		snprintf(id, sizeof(id), "%d", i);
		labels[1] = id;
		rp_prom_u64(p, "ringpiped_worker_pairs", labels, wc[i].pairs);
	}
}

/**
 * rp_metrics_text(info, ctl, wc, nw, len):
 * Return the metrics text for the daemon described by ${info}, with the
 * control thread's counters ${ctl} and the counters ${wc}[0..${nw}) of its
 * workers (to be freed by the caller; its length stored in ${len}), or
 * NULL if out of memory.
 */
char *
rp_metrics_text(const struct rp_metrics_info * info,
    const struct rp_ctlstats_snap * ctl, const struct rp_worker_counts * wc,
    int nw, size_t * len)
{
	struct metrics_sums s;
	struct rp_prom p;

	metrics_sum(ctl, wc, nw, &s);
	rp_prom_init(&p);
	metrics_info(&p, info);
	metrics_conns(&p, ctl, &s);
	metrics_handshakes(&p, ctl, &s);
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
	struct rp_ctlstats_snap ctl;
	struct rp_worker_counts * wc;
	char * text;
	int i;

	if ((wc = calloc((size_t)src->nworkers + 1, sizeof(*wc))) == NULL)
		return (NULL);

	/*
	 * Each counter is read atomically, the set not as one: a pair that
	 * changes hands during the scrape (handed to a worker, not yet
	 * counted done) may count once more in connections_active.  Quiet,
	 * every sum is exact.
	 */
	rp_ctlstats_read(src->ctl, &ctl);
	for (i = 0; i < src->nworkers; i++)
		rp_worker_counts(src->workers[i], &wc[i]);
	text = rp_metrics_text(&src->info, &ctl, wc, src->nworkers, len);
	free(wc);
	return (text);
}
