/*
 * Unit tests of the metrics text (src/process/rp_prom.c,
 * src/control/rp_ctlstats.c, src/process/rp_metrics_text.c): label escaping, cumulative histogram buckets at and
 * around their bounds, the reasons of failed set-ups, and the whole text
 * for known counters (sums across workers, active connections, closed by
 * reason); and a scrape of counters no connection has touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto_handshake.h"
#include "proto_pipe.h"
#include "rp_ctl.h"
#include "rp_ctlstats.h"
#include "rp_metrics.h"
#include "rp_metrics_text.h"
#include "rp_prom.h"
#include "rp_worker.h"

static const struct rp_metrics_info info = {
	.version = "9.9", .mode = "decrypt", .engine = "epoll",
	.crypto = "seal: 1+ \"x\\y\"\nopen"
};

/* Assert that ${text} has the line ${line} (without its newline). */
static void
has_line(const char * text, const char * line)
{
	size_t n = strlen(line);
	const char * p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fprintf(stderr, "missing line: %s\n", line);
	fail();
}

/* Label values are escaped (\\, \", \n); HELP and TYPE come first. */
static void
t_prom_escape(void ** state)
{
	const char * const labels[] = { "a", "x\"y\\z\nw", "b", "", NULL };
	struct rp_prom p;
	size_t len;
	char * t;

	(void)state;
	rp_prom_init(&p);
	rp_prom_family(&p, "m_total", "counter", "Things.");
	rp_prom_u64(&p, "m_total", labels, UINT64_MAX);
	rp_prom_u64(&p, "m_total", NULL, 0);
	assert_non_null(t = rp_prom_finish(&p, &len));
	assert_int_equal(len, strlen(t));
	assert_string_equal(t, "# HELP m_total Things.\n"
	    "# TYPE m_total counter\n"
	    "m_total{a=\"x\\\"y\\\\z\\nw\",b=\"\"} 18446744073709551615\n"
	    "m_total 0\n");
	free(t);

	/* An empty text is an empty string. */
	rp_prom_init(&p);
	assert_non_null(t = rp_prom_finish(&p, &len));
	assert_int_equal(len, 0);
	assert_string_equal(t, "");
	free(t);
}

/* Durations at, just above and far beyond the bounds fall in the right
 * buckets; the buckets written are cumulative and _count their total. */
static void
t_histogram(void ** state)
{
	struct rp_ctlstats s;
	struct rp_ctlstats_snap snap;
	struct rp_prom p;
	size_t len;
	char * t;

	(void)state;
	memset(&s, 0, sizeof(s));
	rp_ctlstats_hs_ok(&s, 0.0005);		/* At the first bound. */
	rp_ctlstats_hs_ok(&s, -1);		/* A clock step: 0. */
	rp_ctlstats_hs_ok(&s, 0.00051);		/* Just above it. */
	rp_ctlstats_hs_ok(&s, 0.75);		/* In (0.5, 1]. */
	rp_ctlstats_hs_ok(&s, 10);		/* At the last bound. */
	rp_ctlstats_hs_ok(&s, 60);		/* +Inf. */
	rp_ctlstats_read(&s, &snap);
	assert_int_equal(snap.hs_bucket[0], 2);
	assert_int_equal(snap.hs_bucket[1], 1);
	assert_int_equal(snap.hs_bucket[10], 1);
	assert_int_equal(snap.hs_bucket[RP_CTLSTATS_NBOUNDS - 1], 1);
	assert_int_equal(snap.hs_bucket[RP_CTLSTATS_NBOUNDS], 1);
	assert_int_equal(snap.hs_ns, 500000 + 510000 + 750000000 +
	    10000000000ULL + 60000000000ULL);

	rp_prom_init(&p);
	rp_prom_histogram(&p, "h_seconds", NULL, rp_ctlstats_bounds,
	    RP_CTLSTATS_NBOUNDS, snap.hs_bucket, 70.75101);
	assert_non_null(t = rp_prom_finish(&p, &len));
	has_line(t, "h_seconds_bucket{le=\"0.0005\"} 2");
	has_line(t, "h_seconds_bucket{le=\"0.001\"} 3");
	has_line(t, "h_seconds_bucket{le=\"0.5\"} 3");
	has_line(t, "h_seconds_bucket{le=\"1\"} 4");
	has_line(t, "h_seconds_bucket{le=\"5\"} 4");
	has_line(t, "h_seconds_bucket{le=\"10\"} 5");
	has_line(t, "h_seconds_bucket{le=\"+Inf\"} 6");
	has_line(t, "h_seconds_sum 70.75101");
	has_line(t, "h_seconds_count 6");
	free(t);
}

/* A failed handshake maps to its reason; one that did not fail on its own
 * (rp_hsio_pump saw EOF or a reset) is the peer's closing. */
static void
t_hs_why(void ** state)
{
	uint8_t K[32] = { 1 }, junk[32 + 288];
	struct proto_hs * hs;

	(void)state;
	assert_non_null(hs = proto_hs_new(PROTO_SERVER, K, 0, 0));
	assert_int_equal(rp_ctlstats_hs_why(hs), RP_HSFAIL_PEER);
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(proto_hs_input(hs, junk, sizeof(junk)),
	    sizeof(junk));
	assert_int_equal(proto_hs_want(hs), PROTO_HS_FAILED);
	assert_int_equal(proto_hs_failure(hs), PROTO_HS_FAIL_BAD_MAC);
	assert_int_equal(rp_ctlstats_hs_why(hs), RP_HSFAIL_BAD_MAC);
	proto_hs_free(hs);
}

/* The whole text for known counters of the control thread and two
 * workers: sums, active connections, every reason, per-worker pairs. */
static void
t_text(void ** state)
{
	struct rp_ctlstats s;
	struct rp_ctlstats_snap snap;
	struct rp_metrics_pipe mp;
	struct rp_worker_counts wc[2];
	size_t len;
	char * t;
	int i;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(wc, 0, sizeof(wc));
	for (i = 0; i < 20; i++)
		rp_ctlstats_count(&s.accepted);
	rp_ctlstats_count(&s.limit_hits);
	for (i = 0; i < 12; i++)
		rp_ctlstats_hs_ok(&s, 0.002);
	rp_ctlstats_hs_failed(&s, RP_HSFAIL_BAD_MAC);
	rp_ctlstats_hs_failed(&s, RP_HSFAIL_BAD_MAC);
	rp_ctlstats_hs_failed(&s, RP_HSFAIL_TIMEOUT);
	rp_ctlstats_hs_failed(&s, RP_HSFAIL_CONNECT);
	rp_ctlstats_hs_failed(&s, RP_HSFAIL_PEER);
	rp_ctlstats_hs_failed(&s, RP_HSFAIL_N + 3);	/* Out of range. */
	rp_ctlstats_read(&s, &snap);

	/* 12 handed off: 7 closed, 5 carried; 20 - 12 - 6 = 2 in set-up. */
	snap.closed[PROTO_PIPE_END_EOF] = 5;
	snap.closed[PROTO_PIPE_END_IO] = 1;
	snap.timedout = 1;
	snap.closed[PROTO_PIPE_END_BAD_PACKET] = 1;
	mp.name = NULL;
	mp.s = snap;
	wc[0].pairs = 2;
	wc[1].pairs = 3;
	wc[0].bytes[0] = 1000;
	wc[1].bytes[0] = 24;
	wc[0].bytes[1] = 1ULL << 40;
	wc[0].pkts[0] = 2;
	wc[1].pkts[0] = 1;
	wc[1].pkts[1] = 7;

	assert_non_null(t = rp_metrics_text(&info, &snap, &mp, 1, wc, 2,
	    &len));
	assert_int_equal(len, strlen(t));
	has_line(t, "ringpiped_info{version=\"9.9\",mode=\"decrypt\","
	    "engine=\"epoll\",crypto=\"seal: 1+ \\\"x\\\\y\\\"\\nopen\"} 1");
	has_line(t, "# TYPE ringpiped_connections_accepted_total counter");
	has_line(t, "ringpiped_connections_accepted_total 20");
	has_line(t, "ringpiped_connections_active 7");
	has_line(t, "ringpiped_connection_limit_hits_total 1");
	has_line(t, "ringpiped_connections_closed_total{reason=\"eof\"} 5");
	has_line(t, "ringpiped_connections_closed_total{reason=\"reset\"} 1");
	has_line(t, "ringpiped_connections_closed_total"
	    "{reason=\"bad_packet\"} 1");
	has_line(t, "ringpiped_connections_closed_total"
	    "{reason=\"truncated\"} 0");
	has_line(t, "ringpiped_connections_closed_total{reason=\"nomem\"} 0");
	has_line(t, "ringpiped_connections_closed_total"
	    "{reason=\"timeout\"} 1");
	has_line(t, "ringpiped_connections_closed_total"
	    "{reason=\"connect_failed\"} 1");
	has_line(t, "ringpiped_connections_closed_total"
	    "{reason=\"handshake_failed\"} 4");
	has_line(t, "# TYPE ringpiped_pairs_timed_out_total counter");
	has_line(t, "ringpiped_pairs_timed_out_total 1");
	has_line(t, "ringpiped_handshakes_ok_total 12");
	has_line(t, "ringpiped_handshakes_failed_total{reason=\"bad_mac\"} 2");
	has_line(t, "ringpiped_handshakes_failed_total{reason=\"bad_y\"} 0");
	has_line(t, "ringpiped_handshakes_failed_total"
	    "{reason=\"pfs_required\"} 0");
	has_line(t, "ringpiped_handshakes_failed_total"
	    "{reason=\"peer_closed\"} 1");
	has_line(t, "ringpiped_handshakes_failed_total{reason=\"internal\"} 1");
	has_line(t, "# TYPE ringpiped_handshake_duration_seconds histogram");
	has_line(t, "ringpiped_handshake_duration_seconds_bucket"
	    "{le=\"0.001\"} 0");
	has_line(t, "ringpiped_handshake_duration_seconds_bucket"
	    "{le=\"0.002\"} 12");
	has_line(t, "ringpiped_handshake_duration_seconds_sum 0.024");
	has_line(t, "ringpiped_handshake_duration_seconds_count 12");
	has_line(t, "ringpiped_plaintext_bytes_total"
	    "{direction=\"encrypted\"} 1024");
	has_line(t, "ringpiped_plaintext_bytes_total"
	    "{direction=\"decrypted\"} 1099511627776");
	has_line(t, "ringpiped_packets_total{direction=\"encrypted\"} 3");
	has_line(t, "ringpiped_packets_total{direction=\"decrypted\"} 7");
	has_line(t, "ringpiped_worker_pairs{worker=\"0\"} 2");
	has_line(t, "ringpiped_worker_pairs{worker=\"1\"} 3");
	free(t);
}

/* Two named pipes (a configuration file): every per-pipe series carries
 * pipe="NAME" first, histograms too; the process's series carry none. */
static void
t_text_pipes(void ** state)
{
	struct rp_ctlstats_snap loop;
	struct rp_metrics_pipe mp[2];
	struct rp_worker_counts wc[1];
	size_t len;
	char * t;

	(void)state;
	memset(&loop, 0, sizeof(loop));
	memset(mp, 0, sizeof(mp));
	memset(wc, 0, sizeof(wc));
	loop.reloads[0] = 2;
	mp[0].name = "web";
	mp[0].s.accepted = 3;
	mp[0].s.hs_bucket[0] = 3;
	mp[0].s.closed[PROTO_PIPE_END_EOF] = 1;
	mp[1].name = "gra\"phite";
	mp[1].s.accepted = 1;
	mp[1].s.failed[RP_HSFAIL_BAD_MAC] = 1;
	assert_non_null(t = rp_metrics_text(&info, &loop, mp, 2, wc, 1,
	    &len));
	has_line(t, "ringpiped_connections_accepted_total{pipe=\"web\"} 3");
	has_line(t, "ringpiped_connections_accepted_total"
	    "{pipe=\"gra\\\"phite\"} 1");
	has_line(t, "ringpiped_connections_active{pipe=\"web\"} 2");
	has_line(t, "ringpiped_connections_active{pipe=\"gra\\\"phite\"} 0");
	has_line(t, "ringpiped_connections_closed_total"
	    "{pipe=\"web\",reason=\"eof\"} 1");
	has_line(t, "ringpiped_handshakes_failed_total"
	    "{pipe=\"gra\\\"phite\",reason=\"bad_mac\"} 1");
	has_line(t, "ringpiped_handshake_duration_seconds_bucket"
	    "{pipe=\"web\",le=\"+Inf\"} 3");
	has_line(t, "ringpiped_handshake_duration_seconds_count"
	    "{pipe=\"web\"} 3");
	has_line(t, "ringpiped_reloads_total{result=\"ok\"} 2");
	has_line(t, "ringpiped_worker_pairs{worker=\"0\"} 0");
	free(t);
}

/* A scrape of a loop with no pipe yet and no workers: no per-pipe sample,
 * the process's counters 0. */
static void
t_scrape_empty(void ** state)
{
	struct rp_ctl_loop_cfg lcfg;
	struct rp_metrics_src src = { .info = info };
	size_t len;
	char * t;

	(void)state;
	memset(&lcfg, 0, sizeof(lcfg));
	assert_non_null(src.loop = rp_ctl_loop_new(&lcfg));
	assert_non_null(t = rp_metrics_scrape(&src, &len));
	has_line(t, "ringpiped_reloads_total{result=\"ok\"} 0");
	assert_null(strstr(t, "\nringpiped_connections_accepted_total"));
	assert_null(strstr(t, "ringpiped_worker_pairs{"));
	free(t);
	rp_ctl_loop_free(src.loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_prom_escape),
		cmocka_unit_test(t_histogram),
		cmocka_unit_test(t_hs_why),
		cmocka_unit_test(t_text),
		cmocka_unit_test(t_text_pipes),
		cmocka_unit_test(t_scrape_empty),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
