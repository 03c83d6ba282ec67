/*
 * Unit tests of the workers (src/ring): each engine carries pairs over
 * socketpairs, with the test playing both the plaintext client and the
 * encrypted peer (sealing and opening with crypto_engine directly).
 * Checked on io_uring (skipped where it is blocked) and on epoll: a round
 * trip byte for byte with half-close, a tampered packet closes the pair as
 * failed, pairs whose clients never read do not stop a fresh one, and
 * held posts need one ring between them.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto_pkt.h"
#include "rp_engine.h"
#include "rp_pair.h"
#include "rp_uring.h"
#include "rp_worker.h"

static const uint8_t ke[32] = { 0x21 }, km[32] = { 0x22 };	/* To peer. */
static const uint8_t pe[32] = { 0x31 }, pm[32] = { 0x32 };	/* From peer. */

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int nclosed, nfailed;

static void
on_closed(void * cookie, int end, int timedout)
{

	(void)cookie;
	(void)timedout;
	pthread_mutex_lock(&mtx);
	nclosed++;
	nfailed += (end != PROTO_PIPE_END_EOF);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mtx);
}

/* Wait (at most 5 s) until ${n} pairs have closed. */
static int
wait_closed(int n)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&mtx);
	while (nclosed < n && rc == 0)
		rc = pthread_cond_timedwait(&cv, &mtx, &ts);
	pthread_mutex_unlock(&mtx);
	return (nclosed >= n ? 0 : -1);
}

struct tpair {
	int app;		/* The plaintext client's end. */
	int peer;		/* The encrypted peer's end. */
	struct crypto_pktkey * tx, * rx;	/* Peer's keys. */
	uint64_t tx_pnum, rx_pnum;
};

static struct rp_worker *
start(enum rp_engine e)
{
	struct rp_worker_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.engine = e;
	cfg.sendmode = RP_SEND_PLAIN;
	cfg.backend = CRYPTO_BACKEND_AUTO;
	cfg.closed = on_closed;
	pthread_mutex_lock(&mtx);
	nclosed = nfailed = 0;
	pthread_mutex_unlock(&mtx);
	return (rp_worker_start(0, &cfg));
}

/* Open ${t} and post it to ${w}: rung if ${ring}, else held; return what
 * rp_worker_post (0) or rp_worker_post_held (1: a ring is owed, 0) did. */
static int
tpair_post(struct rp_worker * w, struct tpair * t, int ring)
{
	int ps[2], cs[2];
	struct rp_pair * p;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, ps), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, cs), 0);
	t->app = ps[0];
	t->peer = cs[0];
	t->tx = crypto_pktkey_new(pe, pm);
	t->rx = crypto_pktkey_new(ke, km);
	t->tx_pnum = t->rx_pnum = 0;
	assert_non_null(p = rp_pair_new(ps[1], ps[1], cs[1], ke, km, pe, pm));
	return (ring ? rp_worker_post(w, p) : rp_worker_post_held(w, p));
}

static void
tpair_open(struct rp_worker * w, struct tpair * t)
{

	assert_int_equal(tpair_post(w, t, 1), 0);
}

static void
tpair_close(struct tpair * t)
{

	close(t->app);
	close(t->peer);
	crypto_pktkey_free(t->tx);
	crypto_pktkey_free(t->rx);
}

/* Read exactly ${len} bytes from ${fd} within 5 s; return bytes read. */
static size_t
read_full(int fd, uint8_t * buf, size_t len)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t off = 0;
	ssize_t n;

	while (off < len && poll(&pfd, 1, 5000) == 1) {
		if ((n = read(fd, buf + off, len - off)) <= 0)
			break;
		off += (size_t)n;
	}
	return (off);
}

struct writer {
	int fd;
	const uint8_t * buf;
	size_t len;
};

static void *
writer_main(void * arg)
{
	struct writer * wr = arg;
	size_t off = 0;
	ssize_t n;

	while (off < wr->len &&
	    (n = write(wr->fd, wr->buf + off, wr->len - off)) > 0)
		off += (size_t)n;
	return (NULL);
}

/* Read packets from the peer end and open them until ${len} plaintext
 * bytes are in ${out}; return the bytes opened, or -1 on a bad packet. */
static ptrdiff_t
peer_recv(struct crypto_engine * eng, struct tpair * t, uint8_t * out,
    size_t len)
{
	uint8_t pkt[CRYPTO_PKT_LEN], pt[CRYPTO_PKT_PADLEN];
	struct crypto_open_job j;
	size_t got = 0;

	while (got < len) {
		if (read_full(t->peer, pkt, sizeof(pkt)) != sizeof(pkt))
			break;
		j = (struct crypto_open_job){ t->rx, pkt, t->rx_pnum++, pt,
		    0 };
		if (crypto_engine_open(eng, &j, 1) != 1 ||
		    got + (size_t)j.len > len)
			return (-1);
		memcpy(out + got, pt, (size_t)j.len);
		got += (size_t)j.len;
	}
	return ((ptrdiff_t)got);
}

/* Seal ${len} bytes as packets and write them to the peer end. */
static void
peer_send(struct crypto_engine * eng, struct tpair * t, const uint8_t * in,
    size_t len)
{
	uint8_t pkt[CRYPTO_PKT_LEN];
	struct crypto_seal_job j;
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < CRYPTO_PKT_PTMAX ? len - off : CRYPTO_PKT_PTMAX;
		j = (struct crypto_seal_job){ t->tx, in + off, n,
		    t->tx_pnum++, pkt, 0 };
		assert_int_equal(crypto_engine_seal(eng, &j, 1), 0);
		assert_int_equal(write(t->peer, pkt, sizeof(pkt)),
		    sizeof(pkt));
	}
}

static int
engine_usable(enum rp_engine e)
{
	char why[256];

	return (e == RP_ENGINE_EPOLL || rp_uring_probe(why, sizeof(why)) == 0);
}

/* Plaintext out and back, both directions, then half-close each way. */
static void
roundtrip(enum rp_engine e)
{
	struct crypto_engine * eng = crypto_engine_new(CRYPTO_BACKEND_AUTO);
	size_t len = 300000, i;
	uint8_t * in = malloc(len), * out = malloc(len), b;
	struct rp_worker_counts c;
	struct writer wr;
	struct rp_worker * w;
	struct tpair t;
	pthread_t thr;

	if (!engine_usable(e)) {
		skip();
		return;
	}
	for (i = 0; i < len; i++)
		in[i] = (uint8_t)(i * 13 + (i >> 11));
	assert_non_null(w = start(e));
	tpair_open(w, &t);
	/* Client -> peer, written from a thread while the peer reads. */
	wr = (struct writer){ t.app, in, len };
	assert_int_equal(pthread_create(&thr, NULL, writer_main, &wr), 0);
	assert_int_equal(peer_recv(eng, &t, out, len), (ptrdiff_t)len);
	pthread_join(thr, NULL);
	assert_memory_equal(in, out, len);
	/* Half-close from the client: the peer sees EOF ... */
	shutdown(t.app, SHUT_WR);
	assert_int_equal(read_full(t.peer, &b, 1), 0);
	/* ... and the other direction still works. */
	peer_send(eng, &t, in, 5000);
	assert_int_equal(read_full(t.app, out, 5000), 5000);
	assert_memory_equal(in, out, 5000);
	shutdown(t.peer, SHUT_WR);
	assert_int_equal(read_full(t.app, &b, 1), 0);
	assert_int_equal(wait_closed(1), 0);
	assert_int_equal(nfailed, 0);
	/* The counters saw exactly this work. */
	rp_worker_counts(w, &c);
	assert_int_equal(c.bytes[0], len);
	assert_int_equal(c.bytes[1], 5000);
	assert_int_equal(c.pkts[1], 5);
	assert_true(c.pkts[0] >= (len + 1023) / 1024);
	assert_int_equal(c.closed[PROTO_PIPE_END_EOF], 1);
	assert_int_equal(c.pairs, 0);
	tpair_close(&t);
	rp_worker_stop(w);
	crypto_engine_free(eng);
	free(in);
	free(out);
}

/* A tampered packet from the peer closes the pair as failed. */
static void
tampered(enum rp_engine e)
{
	struct crypto_engine * eng = crypto_engine_new(CRYPTO_BACKEND_AUTO);
	uint8_t junk[CRYPTO_PKT_LEN], b;
	struct rp_worker_counts c;
	struct rp_worker * w;
	struct tpair t;

	if (!engine_usable(e)) {
		skip();
		return;
	}
	assert_non_null(w = start(e));
	tpair_open(w, &t);
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(write(t.peer, junk, sizeof(junk)), sizeof(junk));
	assert_int_equal(wait_closed(1), 0);
	assert_int_equal(nfailed, 1);
	rp_worker_counts(w, &c);
	assert_int_equal(c.closed[PROTO_PIPE_END_BAD_PACKET], 1);
	assert_int_equal(c.bytes[1], 0);
	/* Nothing reached the client; its end is closed. */
	assert_int_equal(read_full(t.app, &b, 1), 0);
	tpair_close(&t);
	rp_worker_stop(w);
	crypto_engine_free(eng);
}

/* Good packets, then a tampered one, in one write (so in one batch as a
 * rule): the pair fails, and the counters count as opened exactly the
 * plaintext that reached the client, not the packets the failure threw
 * away. */
static void
tampered_after_good(enum rp_engine e)
{
	struct crypto_engine * eng = crypto_engine_new(CRYPTO_BACKEND_AUTO);
	uint8_t wire[4 * CRYPTO_PKT_LEN], pt[3 * 1000], got[sizeof(pt)];
	struct crypto_seal_job j;
	struct rp_worker_counts c;
	struct rp_worker * w;
	struct tpair t;
	size_t i, n;

	if (!engine_usable(e)) {
		skip();
		return;
	}
	assert_non_null(w = start(e));
	tpair_open(w, &t);
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 31);
	for (i = 0; i < 3; i++) {
		j = (struct crypto_seal_job){ t.tx, pt + i * 1000, 1000,
		    t.tx_pnum++, wire + i * CRYPTO_PKT_LEN, 0 };
		assert_int_equal(crypto_engine_seal(eng, &j, 1), 0);
	}
	memset(wire + 3 * CRYPTO_PKT_LEN, 0x5a, CRYPTO_PKT_LEN);
	assert_int_equal(write(t.peer, wire, sizeof(wire)), sizeof(wire));
	assert_int_equal(wait_closed(1), 0);
	assert_int_equal(nfailed, 1);
	n = read_full(t.app, got, sizeof(got));
	assert_memory_equal(got, pt, n);
	rp_worker_counts(w, &c);
	assert_int_equal(c.closed[PROTO_PIPE_END_BAD_PACKET], 1);
	assert_int_equal(c.bytes[1], n);
	assert_int_equal(c.pkts[1], n / 1000);
	tpair_close(&t);
	rp_worker_stop(w);
	crypto_engine_free(eng);
}

/* 64 pairs whose clients never read, each with its peer pushing 1 MiB;
 * then a fresh pair on the same worker still echoes at once. */
static void
stalled(enum rp_engine e)
{
	struct crypto_engine * eng = crypto_engine_new(CRYPTO_BACKEND_AUTO);
	struct tpair st[64], t;
	struct rp_worker * w;
	uint8_t * in = calloc(1, 1 << 20), out[4096];
	size_t i;

	if (!engine_usable(e)) {
		skip();
		return;
	}
	assert_non_null(w = start(e));
	for (i = 0; i < 64; i++) {
		tpair_open(w, &st[i]);
		/* The peer writes as much as the sockets take. */
		assert_int_equal(setsockopt(st[i].peer, SOL_SOCKET,
		    SO_SNDTIMEO, &(struct timeval){ 0, 20000 },
		    sizeof(struct timeval)), 0);
	}
	for (i = 0; i < 64; i++) {
		uint8_t pkt[CRYPTO_PKT_LEN];
		struct crypto_seal_job j;
		size_t k;

		for (k = 0; k < 1024; k++) {
			j = (struct crypto_seal_job){ st[i].tx, in, 1024,
			    st[i].tx_pnum++, pkt, 0 };
			assert_int_equal(crypto_engine_seal(eng, &j, 1), 0);
			if (write(st[i].peer, pkt, sizeof(pkt)) !=
			    (ssize_t)sizeof(pkt))
				break;
		}
	}
	tpair_open(w, &t);
	peer_send(eng, &t, in, sizeof(out));
	assert_int_equal(read_full(t.app, out, sizeof(out)), sizeof(out));
	assert_int_equal(write(t.app, out, sizeof(out)), sizeof(out));
	assert_int_equal(peer_recv(eng, &t, out, sizeof(out)), sizeof(out));
	tpair_close(&t);
	for (i = 0; i < 64; i++)
		tpair_close(&st[i]);
	assert_int_equal(wait_closed(65), 0);
	rp_worker_stop(w);
	crypto_engine_free(eng);
	free(in);
}

/* rp_worker_abort_all closes every pair at once, as failed. */
static void
abort_all(enum rp_engine e)
{
	struct rp_worker * w;
	struct tpair t[3];
	uint8_t b;
	int i;

	if (!engine_usable(e)) {
		skip();
		return;
	}
	assert_non_null(w = start(e));
	for (i = 0; i < 3; i++)
		tpair_open(w, &t[i]);
	rp_worker_abort_all(w);
	assert_int_equal(wait_closed(3), 0);
	assert_int_equal(nfailed, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(read_full(t[i].app, &b, 1), 0);
		tpair_close(&t[i]);
	}
	rp_worker_stop(w);
}

/* Wait (5 s at most) until ${w}'s thread has slept in its engine's wait
 * for 20 ms on end (late completions, such as those of cancels, have
 * woken it by then); -1 if it never does. */
static int
wait_asleep(struct rp_worker * w)
{
	int i, run = 0;

	for (i = 0; i < 5000; i++) {
		run = rp_worker_asleep(w) ? run + 1 : 0;
		if (run >= 20)
			return (0);
		usleep(1000);
	}
	return (-1);
}

/*
 * Held posts: the first into an empty inbox of a sleeping worker owes the
 * ring, the ones after it do not, and one ring takes them all in; once the
 * inbox has been taken in, the next held post owes a ring again.  (A post
 * to a worker that is awake owes none: the concurrent tests carry those.)
 */
static void
held(enum rp_engine e)
{
	uint8_t pkt[CRYPTO_PKT_LEN];
	struct rp_worker * w;
	struct tpair t[4];
	uint8_t b = 'x';
	int i;

	if (!engine_usable(e)) {
		skip();
		return;
	}
	assert_non_null(w = start(e));
	assert_int_equal(wait_asleep(w), 0);
	assert_int_equal(tpair_post(w, &t[0], 0), 1);
	assert_int_equal(tpair_post(w, &t[1], 0), 0);
	assert_int_equal(tpair_post(w, &t[2], 0), 0);
	rp_worker_ring(w);

	/* The ring alone took the last one in: its byte goes out sealed. */
	assert_int_equal(write(t[2].app, &b, 1), 1);
	assert_int_equal(read_full(t[2].peer, pkt, sizeof(pkt)), sizeof(pkt));
	rp_worker_abort_all(w);
	assert_int_equal(wait_closed(3), 0);
	assert_int_equal(wait_asleep(w), 0);
	assert_int_equal(tpair_post(w, &t[3], 0), 1);
	rp_worker_ring(w);
	rp_worker_abort_all(w);
	assert_int_equal(wait_closed(4), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(read_full(t[i].app, &b, 1), 0);
		tpair_close(&t[i]);
	}
	rp_worker_stop(w);
}

static void t_held_uring(void ** s) { (void)s; held(RP_ENGINE_URING); }
static void t_held_epoll(void ** s) { (void)s; held(RP_ENGINE_EPOLL); }
static void t_abort_uring(void ** s) { (void)s; abort_all(RP_ENGINE_URING); }
static void t_abort_epoll(void ** s) { (void)s; abort_all(RP_ENGINE_EPOLL); }
static void t_roundtrip_uring(void ** s) { (void)s; roundtrip(RP_ENGINE_URING); }
static void t_roundtrip_epoll(void ** s) { (void)s; roundtrip(RP_ENGINE_EPOLL); }
static void t_tampered_uring(void ** s) { (void)s; tampered(RP_ENGINE_URING); }
static void t_tampered_epoll(void ** s) { (void)s; tampered(RP_ENGINE_EPOLL); }
static void t_tampered2_uring(void ** s) { (void)s; tampered_after_good(RP_ENGINE_URING); }
static void t_tampered2_epoll(void ** s) { (void)s; tampered_after_good(RP_ENGINE_EPOLL); }
static void t_stalled_uring(void ** s) { (void)s; stalled(RP_ENGINE_URING); }
static void t_stalled_epoll(void ** s) { (void)s; stalled(RP_ENGINE_EPOLL); }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_roundtrip_uring),
		cmocka_unit_test(t_roundtrip_epoll),
		cmocka_unit_test(t_tampered_uring),
		cmocka_unit_test(t_tampered_epoll),
		cmocka_unit_test(t_tampered2_uring),
		cmocka_unit_test(t_tampered2_epoll),
		cmocka_unit_test(t_stalled_uring),
		cmocka_unit_test(t_stalled_epoll),
		cmocka_unit_test(t_abort_uring),
		cmocka_unit_test(t_abort_epoll),
		cmocka_unit_test(t_held_uring),
		cmocka_unit_test(t_held_epoll),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
