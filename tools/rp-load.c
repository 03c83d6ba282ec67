/*
 * rp-load: load generator for ringpiped / spiped benchmarks and tests.
 * Every byte it sends is a per-connection seeded tl_prng stream and every
 * byte that comes back is checked against the expected stream, so any
 * corruption, reset or short transfer is detected, reported and makes the
 * exit status non-zero.  One epoll loop, non-blocking sockets.
 *
 *   rp-load MODE -c ADDR [options]
 *
 * Modes:
 *   stream    -n conns each send -b bytes (or for -t secs) to an rp-target
 *             --sink/--auto (tl_wire protocol: the target verifies and reports
 *             back); --both also streams the same amount back, verified here.
 *   echo      -n conns each send -b bytes (or for -t secs) through an echo
 *             target and verify every byte that comes back.
 *   rr        -n conns each do request/response of --size bytes (default 100)
 *             for -t secs (or --count requests each); latency p50/p99/p99.9
 *             (each connection's first request, which also waits for the
 *             connection to be set up, is not counted).
 *   connrate  -n parallel loops of: connect, send --size bytes, read the echo,
 *             close; for -t secs; reports connections per second.
 *   idle      open -n conns (at most --setup-concurrency connecting at once),
 *             check each with one echo, hold them all -t secs, check each again.
 *
 * Options:
 *   -c, --connect ADDR       target: host:port, [ip]:port or /unix/path
 *   -n, --conns N            connections (default 1)
 *   -b, --bytes SIZE         bytes per connection and direction (k/M/G suffix)
 *   -t, --time SECS          duration (stream/echo: instead of -b)
 *       --both               stream: data flows both ways at once
 *       --size N             message size for rr/connrate/idle (default 100)
 *       --count N            rr: requests per connection instead of -t
 *       --setup-concurrency K  connections being set up at once (default 8:
 *                            stock spiped listens with a backlog of 10); a
 *                            connection counts until data first comes back
 *                            through it (the target's ack in stream mode)
 *       --timeout SECS       give up (error) this long after the planned end
 *                            (default 30)
 *       --ready-file FILE    idle: written once every connection is checked
 *       --seed N             base seed (default 1)
 *       --label STR          copied into the JSON result
 *   -q, --quiet              no live progress (it is shown only on a tty)
 *       --rate SIZE          stream/echo: cap each connection at SIZE bytes
 *                            per second (k/M/G suffix), e.g. a background
 *                            load that is the same for every daemon
 *
 * Output: one JSON object on stdout; live progress on stderr if a terminal.
 * Exit status: 0 all verified; 1 a mismatch, reset, short transfer, timeout
 * or connect failure (each reported on stderr); 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tl_addr.h"
#include "tl_fifo.h"
#include "tl_hist.h"
#include "tl_prng.h"
#include "tl_util.h"
#include "tl_wire.h"

enum mode { M_STREAM, M_ECHO, M_RR, M_CONNRATE, M_IDLE };
static const char *mode_names[] = { "stream", "echo", "rr", "connrate", "idle" };

enum phase { P_WAITING, P_CONNECTING, P_RUN, P_DONE, P_FAILED };

enum err { E_MISMATCH, E_RESET, E_SHORT, E_CONNECT, E_TIMEOUT, E_PROTO, E_NUM };
static const char *err_names[] = {
	"mismatch", "reset", "short", "connect", "timeout", "protocol"
};

struct lconn {
	int fd;
	enum phase phase;
	uint64_t seq;			/* connection number: seeds */
	int can_read, can_write, wr_shut, rd_eof;
	int in_setup;			/* counted in setup_inflight */
	struct tl_fifo txq;
	struct tl_prng tx, rx;
	uint64_t hdr_len;		/* stream: header bytes in tx_sent */
	uint64_t tx_gen;		/* payload bytes generated */
	uint64_t tx_sent;		/* bytes written to the socket */
	uint64_t rx_ok;			/* payload bytes received, verified */
	size_t ack_len;			/* stream: ack bytes received */
	uint8_t lag[TL_WIRE_TRL_LEN];	/* stream: possible trailer */
	size_t lag_len;
	/* Message modes (rr, connrate, idle). */
	int msg_out;			/* waiting for a reply */
	uint64_t msg_t0, msg_rx, nmsgs;
	int round;			/* idle: 0 setup, 1 holding, 2 final */
	uint64_t t_connect;
	int queued;
	struct lconn *next_run;
};

static struct {
	enum mode mode;
	const char *target_s;
	struct tl_addr target;
	uint64_t conns;
	uint64_t bytes;			/* 0: use time */
	uint64_t time_ns;
	int both;
	uint64_t size;
	uint64_t count;
	uint64_t setup_conc;
	uint64_t timeout_ns;
	const char *ready_file;
	uint64_t seed;
	const char *label;
	int quiet;
	uint64_t rate;			/* stream/echo: bytes/s per conn */
} cfg = { .conns = 1, .size = 100, .setup_conc = 8,
    .timeout_ns = 30000000000ULL, .seed = 1 };

static struct {
	uint64_t t_start, t_end, t_send_end, t_hard;
	uint64_t t_established;		/* idle: when all were checked */
	uint64_t setup_inflight;
	uint64_t next_seq;
	uint64_t next_waiting;		/* index of the next P_WAITING conn */
	uint64_t established;		/* idle: conns past round 0 */
	uint64_t finished;		/* conns in P_DONE or P_FAILED */
	uint64_t tx_bytes, rx_bytes;	/* payload bytes */
	uint64_t completed;		/* connrate: connections; rr: requests */
	uint64_t errs[E_NUM];
	uint64_t nerr_printed;
	int send_over;			/* time-based sending has ended */
	struct tl_hist lat;
} st;

static struct lconn *conns;
static struct lconn *runq;
static int epfd;
static uint8_t scratch[256 * 1024];
static volatile sig_atomic_t interrupted;

static void service(struct lconn *c);

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
conn_close(struct lconn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->in_setup) {
		c->in_setup = 0;
		st.setup_inflight--;
	}
}

/* Record an error of ${kind} on ${c} and drop the connection. */
static void
fail(struct lconn *c, enum err kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
fail(struct lconn *c, enum err kind, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st.errs[kind]++;
	if (st.nerr_printed++ < 10)
		tl_util_warn("conn %llu: %s: %s", (unsigned long long)c->seq,
		    err_names[kind], msg);
	conn_close(c);
	c->phase = P_FAILED;
	st.finished++;
}

static void
finish(struct lconn *c)
{
	conn_close(c);
	c->phase = P_DONE;
	st.finished++;
}

static void
setup_done(struct lconn *c)
{
	if (c->in_setup) {
		c->in_setup = 0;
		st.setup_inflight--;
	}
}

/* Payload bytes of ${c} written so far (the stream header excluded). */
static uint64_t
payload_sent(const struct lconn *c)
{
	return (c->tx_sent > c->hdr_len ? c->tx_sent - c->hdr_len : 0);
}

static int
msg_mode(void)
{
	return (cfg.mode == M_RR || cfg.mode == M_CONNRATE ||
	    cfg.mode == M_IDLE);
}

/* Begin connection ${c} (fresh sequence number). */
static void
conn_start(struct lconn *c)
{
	struct epoll_event ev;
	struct tl_wire_hdr h;
	uint8_t hb[TL_WIRE_HDR_LEN];
	uint64_t seed;

	c->seq = st.next_seq++;
	seed = tl_prng_seed(cfg.seed, c->seq);
	c->can_read = c->can_write = c->wr_shut = c->rd_eof = 0;
	c->hdr_len = c->tx_gen = c->tx_sent = c->rx_ok = 0;
	c->lag_len = 0;
	c->ack_len = 0;
	c->msg_out = 0;
	c->msg_t0 = c->msg_rx = c->nmsgs = 0;
	c->round = 0;
	c->txq.in = c->txq.out = 0;
	tl_prng_init(&c->tx, seed);
	if (cfg.mode == M_STREAM) {
		/* The target checks our stream and may send one back. */
		h.seed_up = seed;
		h.seed_down = tl_prng_seed(seed, 0xd0d0);
		if (!cfg.both)
			h.bytes_down = 0;
		else if (cfg.bytes)
			h.bytes_down = cfg.bytes;
		else
			h.bytes_down = TL_WIRE_UNTIL_EOF;
		tl_wire_hdr_encode(&h, hb);
		tl_fifo_put(&c->txq, hb, sizeof(hb));
		c->hdr_len = sizeof(hb);
		tl_prng_init(&c->rx, h.seed_down);
	} else {
		tl_prng_init(&c->rx, seed);
	}
	c->t_connect = tl_util_now_ns();
	c->in_setup = 1;
	st.setup_inflight++;
	c->phase = P_CONNECTING;
	if ((c->fd = tl_addr_connect(&cfg.target)) < 0) {
		fail(c, E_CONNECT, "connect to %s: %s", cfg.target_s,
		    strerror(errno));
		return;
	}
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev))
		tl_util_die(1, "epoll_ctl: %s", strerror(errno));
}

/* Start waiting connections while the setup concurrency allows. */
static void
start_more(void)
{
	while (st.next_waiting < cfg.conns &&
	    st.setup_inflight < cfg.setup_conc && !interrupted)
		conn_start(&conns[st.next_waiting++]);
}

/* Payload bytes still to generate for stream/echo. */
static uint64_t
tx_left(const struct lconn *c)
{
	if (cfg.bytes)
		return (cfg.bytes - c->tx_gen);
	return (st.send_over ? 0 : UINT64_MAX);
}

/* Bytes ${c} may generate now under --rate (UINT64_MAX without it). */
static uint64_t
tx_allowed(const struct lconn *c)
{
	uint64_t due;

	if (cfg.rate == 0)
		return (UINT64_MAX);
	due = (uint64_t)((double)cfg.rate *
	    (double)(tl_util_now_ns() - st.t_start) * 1e-9);
	return (due > c->tx_gen ? due - c->tx_gen : 0);
}

/* Put one request message into the queue and start its clock. */
static void
msg_send(struct lconn *c)
{
	uint8_t *p;
	size_t room;

	/* The queue is empty between messages: start it at offset 0. */
	c->txq.in = c->txq.out = 0;
	p = tl_fifo_span(&c->txq, &room);
	if (room < cfg.size) {
		fail(c, E_PROTO, "internal: no room for a message");
		return;
	}
	tl_prng_fill(&c->tx, p, cfg.size);
	tl_fifo_commit(&c->txq, cfg.size);
	c->tx_gen += cfg.size;
	c->msg_out = 1;
	c->msg_rx = 0;
	c->msg_t0 = tl_util_now_ns();
}

/* Half-close our side once everything to send has gone. */
static void
maybe_shutdown(struct lconn *c)
{
	if (c->wr_shut || tl_fifo_len(&c->txq) != 0)
		return;
	if (msg_mode()) {
		if (c->msg_out)
			return;
		if (cfg.mode == M_RR) {
			if (cfg.count ? c->nmsgs < cfg.count : !st.send_over)
				return;
		} else if (cfg.mode == M_IDLE) {
			if (c->round < 2)
				return;
		} else {
			return;	/* connrate closes without half-close */
		}
	} else if (tx_left(c) != 0) {
		return;
	}
	if (shutdown(c->fd, SHUT_WR) && errno != ENOTCONN) {
		fail(c, E_RESET, "shutdown: %s", strerror(errno));
		return;
	}
	c->wr_shut = 1;
}

/* A whole reply arrived (message modes). */
static void
msg_reply(struct lconn *c)
{
	uint64_t now = tl_util_now_ns();

	c->msg_out = 0;
	c->nmsgs++;
	switch (cfg.mode) {
	case M_RR:
		setup_done(c);
		/* The first request also waits for the pipe's handshake:
		 * leave it out of the latency figures. */
		if (c->nmsgs > 1) {
			tl_hist_add(&st.lat, now - c->msg_t0);
			st.completed++;
		}
		if (cfg.count ? c->nmsgs < cfg.count : !st.send_over)
			msg_send(c);
		break;
	case M_CONNRATE:
		tl_hist_add(&st.lat, now - c->t_connect);
		st.completed++;
		finish(c);
		st.finished--;		/* the slot goes on */
		if (!st.send_over && !interrupted) {
			conn_start(c);
			if (c->phase == P_CONNECTING)
				service(c);
		} else {
			st.finished++;
		}
		break;
	case M_IDLE:
		if (c->round == 0) {
			c->round = 1;
			setup_done(c);
			st.established++;
			if (st.established == cfg.conns) {
				/* All checked: the hold starts now. */
				st.t_established = now;
				st.t_send_end = now + cfg.time_ns;
				st.t_hard = st.t_send_end + cfg.timeout_ns;
				if (cfg.ready_file &&
				    tl_util_write_file(cfg.ready_file,
				    "ready\n"))
					tl_util_warn("cannot write %s",
					    cfg.ready_file);
			}
			start_more();
		} else {
			c->round = 2;
		}
		break;
	default:
		break;
	}
}

/* Check ${n} received payload bytes at ${p}. Return -1 if ${c} failed. */
static int
rx_check(struct lconn *c, const uint8_t *p, size_t n)
{
	ptrdiff_t bad;

	if (n == 0)
		return (0);
	if (cfg.mode != M_STREAM &&
	    c->rx_ok + n > payload_sent(c)) {
		fail(c, E_PROTO, "received %llu bytes but sent only %llu",
		    (unsigned long long)(c->rx_ok + n),
		    (unsigned long long)payload_sent(c));
		return (-1);
	}
	if ((bad = tl_prng_check(&c->rx, p, n)) >= 0) {
		fail(c, E_MISMATCH, "data mismatch at received offset %llu",
		    (unsigned long long)(c->rx_ok + (uint64_t)bad));
		return (-1);
	}
	c->rx_ok += n;
	st.rx_bytes += n;
	return (0);
}

/* Stream mode: check data but hold back the last 32 bytes (the trailer). */
static int
rx_stream(struct lconn *c, const uint8_t *p, size_t n)
{
	size_t total, nv, from_lag, keep_lag, k;

	/* The target's ack comes first: the path is up end to end. */
	if (c->ack_len < TL_WIRE_ACK_LEN) {
		k = TL_WIRE_ACK_LEN - c->ack_len;
		if (k > n)
			k = n;
		if (memcmp(p, &TL_WIRE_ACK[c->ack_len], k) != 0) {
			fail(c, E_PROTO, "bad ack from target");
			return (-1);
		}
		c->ack_len += k;
		p += k;
		n -= k;
		if (c->ack_len == TL_WIRE_ACK_LEN)
			setup_done(c);
	}
	total = c->lag_len + n;
	if (total <= TL_WIRE_TRL_LEN) {
		memcpy(c->lag + c->lag_len, p, n);
		c->lag_len = total;
		return (0);
	}
	nv = total - TL_WIRE_TRL_LEN;
	from_lag = nv < c->lag_len ? nv : c->lag_len;
	if (rx_check(c, c->lag, from_lag))
		return (-1);
	if (rx_check(c, p, nv - from_lag))
		return (-1);
	keep_lag = c->lag_len - from_lag;
	memmove(c->lag, c->lag + from_lag, keep_lag);
	memcpy(c->lag + keep_lag, p + (nv - from_lag), n - (nv - from_lag));
	c->lag_len = TL_WIRE_TRL_LEN;
	return (0);
}

/* EOF from the target: judge the connection. */
static void
on_eof(struct lconn *c)
{
	struct tl_wire_trl t;
	uint64_t sent = payload_sent(c);

	c->rd_eof = 1;
	if (cfg.mode == M_STREAM) {
		if (!c->wr_shut) {
			fail(c, E_SHORT, "EOF from target after %llu of the "
			    "bytes sent (%llu received)",
			    (unsigned long long)sent,
			    (unsigned long long)c->rx_ok);
			return;
		}
		if (c->lag_len != TL_WIRE_TRL_LEN ||
		    tl_wire_trl_decode(c->lag, &t)) {
			fail(c, E_SHORT, "stream ended without the target's "
			    "report (sent %llu, received %llu)",
			    (unsigned long long)sent,
			    (unsigned long long)c->rx_ok);
			return;
		}
		if (t.first_bad_up != TL_WIRE_NONE) {
			fail(c, E_MISMATCH, "target saw a data mismatch at "
			    "offset %llu of our stream",
			    (unsigned long long)t.first_bad_up);
			return;
		}
		if (t.bytes_up != sent) {
			fail(c, E_SHORT, "sent %llu bytes, target received %llu",
			    (unsigned long long)sent,
			    (unsigned long long)t.bytes_up);
			return;
		}
		if (t.bytes_down != c->rx_ok ||
		    (cfg.both && cfg.bytes && c->rx_ok != cfg.bytes) ||
		    (!cfg.both && c->rx_ok != 0)) {
			fail(c, E_SHORT, "target sent %llu bytes back, received "
			    "%llu", (unsigned long long)t.bytes_down,
			    (unsigned long long)c->rx_ok);
			return;
		}
		finish(c);
		return;
	}
	if (!c->wr_shut || c->rx_ok != sent || c->msg_out) {
		fail(c, E_SHORT, "EOF from target: sent %llu bytes, %llu "
		    "came back%s", (unsigned long long)sent,
		    (unsigned long long)c->rx_ok,
		    c->wr_shut ? "" : " (before we finished sending)");
		return;
	}
	finish(c);
}

/* Read everything available.  Return -1 if ${c} is gone. */
static int
do_read(struct lconn *c, size_t *budget)
{
	ssize_t r;
	size_t want;

	while (c->can_read && !c->rd_eof && *budget > 0) {
		want = sizeof(scratch);
		if (msg_mode())		/* exactly the echo; 1 byte detects
					 * anything unexpected */
			want = c->msg_out ? cfg.size - c->msg_rx : 1;
		r = recv(c->fd, scratch, want, 0);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->can_read = 0;
				return (0);
			}
			if (errno == EINTR)
				continue;
			fail(c, errno == ECONNRESET ? E_RESET : E_PROTO,
			    "recv: %s (sent %llu, received %llu)",
			    strerror(errno),
			    (unsigned long long)payload_sent(c),
			    (unsigned long long)c->rx_ok);
			return (-1);
		}
		if (r == 0) {
			on_eof(c);
			return (-1);
		}
		*budget -= (size_t)r < *budget ? (size_t)r : *budget;
		if (cfg.mode == M_STREAM) {
			if (rx_stream(c, scratch, (size_t)r))
				return (-1);
			continue;
		}
		if (rx_check(c, scratch, (size_t)r))
			return (-1);
		if (cfg.mode == M_ECHO)
			setup_done(c);	/* data came back: the path is up */
		if (msg_mode()) {
			c->msg_rx += (uint64_t)r;
			if (!c->msg_out || c->msg_rx > cfg.size) {
				fail(c, E_PROTO, "unexpected data");
				return (-1);
			}
			if (c->msg_rx == cfg.size) {
				msg_reply(c);
				if (c->phase != P_RUN)
					return (-1);
			}
		}
	}
	return (0);
}

/* Generate and send.  Return -1 if ${c} is gone. */
static int
do_write(struct lconn *c, size_t *budget)
{
	uint8_t *p;
	size_t room, n;
	uint64_t left, before;
	ssize_t r;

	while (c->can_write && !c->wr_shut && *budget > 0) {
		if (!msg_mode()) {
			while ((left = tx_left(c)) > 0) {
				p = tl_fifo_span(&c->txq, &room);
				if (room == 0)
					break;
				if (tx_allowed(c) < left)
					left = tx_allowed(c);
				if (left == 0)
					break;
				n = room < left ? room : (size_t)left;
				tl_prng_fill(&c->tx, p, n);
				tl_fifo_commit(&c->txq, n);
				c->tx_gen += n;
			}
		}
		if (tl_fifo_len(&c->txq) == 0) {
			maybe_shutdown(c);
			return (c->phase == P_RUN ? 0 : -1);
		}
		r = tl_fifo_write_fd(&c->txq, c->fd, *budget);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->can_write = 0;
				return (0);
			}
			if (errno == EINTR)
				continue;
			fail(c, (errno == ECONNRESET || errno == EPIPE) ?
			    E_RESET : E_PROTO, "send: %s (sent %llu, "
			    "received %llu)", strerror(errno),
			    (unsigned long long)payload_sent(c),
			    (unsigned long long)c->rx_ok);
			return (-1);
		}
		before = c->tx_sent > c->hdr_len ? c->tx_sent - c->hdr_len : 0;
		c->tx_sent += (uint64_t)r;
		st.tx_bytes += (c->tx_sent > c->hdr_len ?
		    c->tx_sent - c->hdr_len : 0) - before;
		*budget -= (size_t)r < *budget ? (size_t)r : *budget;
	}
	return (0);
}

/* The connection is up: start the mode's conversation. */
static void
on_connected(struct lconn *c)
{
	int err = tl_addr_connect_result(c->fd);

	if (err) {
		fail(c, E_CONNECT, "connect to %s: %s", cfg.target_s,
		    strerror(err));
		return;
	}
	c->phase = P_RUN;
	if (cfg.mode == M_CONNRATE)
		setup_done(c);
	if (msg_mode())
		msg_send(c);
}

static void
service(struct lconn *c)
{
	size_t rbudget = 4 << 20, wbudget = 4 << 20;

	if (c->phase == P_CONNECTING) {
		if (!c->can_write && !c->can_read)
			return;
		on_connected(c);
		if (c->phase != P_RUN)
			return;
	}
	if (c->phase != P_RUN)
		return;
	/* Idle: after the hold, send the second check. */
	if (cfg.mode == M_IDLE && c->round == 1 && st.send_over &&
	    !c->msg_out)
		msg_send(c);
	for (;;) {
		if (do_read(c, &rbudget) || do_write(c, &wbudget))
			return;
		if (rbudget == 0 || wbudget == 0) {
			if (!c->queued) {
				c->queued = 1;
				c->next_run = runq;
				runq = c;
			}
			return;
		}
		if (!(c->can_read && !c->rd_eof) &&
		    !(c->can_write && !c->wr_shut &&
		    (tl_fifo_len(&c->txq) > 0 || (!msg_mode() &&
		    tx_left(c) > 0))))
			break;
	}
	maybe_shutdown(c);
}

static void
service_all(void)
{
	uint64_t i;

	for (i = 0; i < cfg.conns; i++)
		if (conns[i].phase == P_RUN)
			service(&conns[i]);
}

static int
all_finished(void)
{
	if (cfg.mode == M_CONNRATE)
		return (st.send_over && st.finished == cfg.conns);
	return (st.finished == cfg.conns);
}

static void
progress(uint64_t now, uint64_t *last_t, uint64_t *last_tx,
    uint64_t *last_rx, uint64_t *last_done)
{
	double dt = (double)(now - *last_t) / 1e9;
	double el = (double)(now - st.t_start) / 1e9;

	if (dt <= 0)
		return;
	switch (cfg.mode) {
	case M_STREAM:
	case M_ECHO:
		tl_util_progress("[%s] %.1fs conns %llu/%llu tx %.1f MB/s "
		    "rx %.1f MB/s", mode_names[cfg.mode], el,
		    (unsigned long long)st.finished,
		    (unsigned long long)cfg.conns,
		    (double)(st.tx_bytes - *last_tx) / dt / 1e6,
		    (double)(st.rx_bytes - *last_rx) / dt / 1e6);
		break;
	case M_RR:
	case M_CONNRATE:
		tl_util_progress("[%s] %.1fs %.0f/s p50 %.1f us p99 %.1f us",
		    mode_names[cfg.mode], el,
		    (double)(st.completed - *last_done) / dt,
		    (double)tl_hist_quantile(&st.lat, 0.5) / 1e3,
		    (double)tl_hist_quantile(&st.lat, 0.99) / 1e3);
		break;
	case M_IDLE:
		tl_util_progress("[idle] %.1fs established %llu/%llu%s", el,
		    (unsigned long long)st.established,
		    (unsigned long long)cfg.conns,
		    st.t_established ? " (holding)" : "");
		break;
	}
	*last_t = now;
	*last_tx = st.tx_bytes;
	*last_rx = st.rx_bytes;
	*last_done = st.completed;
}

static void
print_json(void)
{
	double el = (double)(st.t_end - st.t_start) / 1e9;
	uint64_t nerr = 0;
	int i;

	for (i = 0; i < E_NUM; i++)
		nerr += st.errs[i];
	printf("{\"tool\":\"rp-load\",\"mode\":\"%s\"", mode_names[cfg.mode]);
	if (cfg.label)
		printf(",\"label\":\"%s\"", cfg.label);
	printf(",\"target\":\"%s\",\"conns\":%llu,\"ok\":%s,\"errors\":%llu",
	    cfg.target_s, (unsigned long long)cfg.conns,
	    nerr ? "false" : "true", (unsigned long long)nerr);
	for (i = 0; i < E_NUM; i++)
		printf(",\"err_%s\":%llu", err_names[i],
		    (unsigned long long)st.errs[i]);
	printf(",\"elapsed_s\":%.6f,\"tx_bytes\":%llu,\"rx_bytes\":%llu",
	    el, (unsigned long long)st.tx_bytes,
	    (unsigned long long)st.rx_bytes);
	if (el > 0)
		printf(",\"tx_MBps\":%.3f,\"rx_MBps\":%.3f,\"total_MBps\":%.3f",
		    (double)st.tx_bytes / el / 1e6,
		    (double)st.rx_bytes / el / 1e6,
		    (double)(st.tx_bytes + st.rx_bytes) / el / 1e6);
	if (cfg.mode == M_RR || cfg.mode == M_CONNRATE) {
		printf(",\"completed\":%llu,\"per_s\":%.3f",
		    (unsigned long long)st.completed,
		    el > 0 ? (double)st.completed / el : 0.0);
		printf(",\"lat_us\":{\"n\":%llu,\"min\":%.3f,\"mean\":%.3f,"
		    "\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
		    "\"max\":%.3f}", (unsigned long long)st.lat.count,
		    st.lat.count ? (double)st.lat.min / 1e3 : 0.0,
		    tl_hist_mean(&st.lat) / 1e3,
		    (double)tl_hist_quantile(&st.lat, 0.5) / 1e3,
		    (double)tl_hist_quantile(&st.lat, 0.9) / 1e3,
		    (double)tl_hist_quantile(&st.lat, 0.99) / 1e3,
		    (double)tl_hist_quantile(&st.lat, 0.999) / 1e3,
		    (double)st.lat.max / 1e3);
	}
	if (cfg.mode == M_IDLE)
		printf(",\"established\":%llu,\"setup_s\":%.6f",
		    (unsigned long long)st.established,
		    st.t_established ?
		    (double)(st.t_established - st.t_start) / 1e9 : -1.0);
	printf("}\n");
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rp-load stream|echo|rr|connrate|idle -c ADDR [-n CONNS]\n"
	    "         [-b BYTES | -t SECS] [--both] [--size N] [--count N]\n"
	    "         [--setup-concurrency K] [--timeout SECS]\n"
	    "         [--ready-file FILE] [--seed N] [--label STR] [-q]\n"
	    "         [--rate BYTES_PER_SEC]\n");
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "conns", required_argument, NULL, 'n' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "time", required_argument, NULL, 't' },
		{ "both", no_argument, NULL, 'B' },
		{ "size", required_argument, NULL, 'S' },
		{ "count", required_argument, NULL, 'C' },
		{ "setup-concurrency", required_argument, NULL, 'K' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "seed", required_argument, NULL, 's' },
		{ "label", required_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "rate", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, i, time_set = 0;
	const char *p;

	tl_util_init(argv[0]);
	if (argc < 2)
		usage();
	for (i = 0; i < 5; i++)
		if (strcmp(argv[1], mode_names[i]) == 0)
			break;
	if (i == 5)
		usage();
	cfg.mode = (enum mode)i;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "c:n:b:t:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfg.target_s = optarg; break;
		case 'n':
			if (tl_util_parse_uint(optarg, 1000000, &cfg.conns) ||
			    cfg.conns == 0)
				tl_util_die(2, "bad -n: %s", optarg);
			break;
		case 'b':
			if (tl_util_parse_size(optarg, &cfg.bytes) ||
			    cfg.bytes == 0)
				tl_util_die(2, "bad -b: %s", optarg);
			break;
		case 't':
			if (tl_util_parse_secs(optarg, &cfg.time_ns))
				tl_util_die(2, "bad -t: %s", optarg);
			time_set = 1;
			break;
		case 'B': cfg.both = 1; break;
		case 'S':
			if (tl_util_parse_uint(optarg, 1 << 20, &cfg.size) ||
			    cfg.size == 0)
				tl_util_die(2, "bad --size: %s", optarg);
			break;
		case 'C':
			if (tl_util_parse_uint(optarg, 1ULL << 40, &cfg.count) ||
			    cfg.count == 0)
				tl_util_die(2, "bad --count: %s", optarg);
			break;
		case 'K':
			if (tl_util_parse_uint(optarg, 1000000,
			    &cfg.setup_conc) || cfg.setup_conc == 0)
				tl_util_die(2, "bad --setup-concurrency: %s",
				    optarg);
			break;
		case 'T':
			if (tl_util_parse_secs(optarg, &cfg.timeout_ns))
				tl_util_die(2, "bad --timeout: %s", optarg);
			break;
		case 'R': cfg.ready_file = optarg; break;
		case 's':
			if (tl_util_parse_uint(optarg, UINT64_MAX, &cfg.seed))
				tl_util_die(2, "bad --seed: %s", optarg);
			break;
		case 'L':
			for (p = optarg; *p; p++)
				if (*p == '"' || *p == '\\' ||
				    (unsigned char)*p < 0x20)
					tl_util_die(2, "bad --label");
			cfg.label = optarg;
			break;
		case 'q': cfg.quiet = 1; break;
		case 'r':
			if (tl_util_parse_size(optarg, &cfg.rate) ||
			    cfg.rate == 0)
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc || cfg.target_s == NULL)
		usage();
	for (p = cfg.target_s; *p; p++)
		if (*p == '"' || *p == '\\')
			tl_util_die(2, "bad address");
	if (tl_addr_parse(cfg.target_s, &cfg.target))
		exit(2);
	switch (cfg.mode) {
	case M_STREAM:
	case M_ECHO:
		if ((cfg.bytes != 0) == time_set)
			tl_util_die(2, "%s needs exactly one of -b and -t",
			    mode_names[cfg.mode]);
		break;
	case M_RR:
		if ((cfg.count != 0) == time_set)
			tl_util_die(2, "rr needs exactly one of --count and -t");
		break;
	case M_CONNRATE:
	case M_IDLE:
		if (!time_set)
			tl_util_die(2, "%s needs -t", mode_names[cfg.mode]);
		break;
	}
	if (cfg.both && cfg.mode != M_STREAM)
		tl_util_die(2, "--both is for stream mode");
	if (cfg.mode == M_CONNRATE)
		cfg.setup_conc = cfg.conns;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[512];
	struct sigaction sa;
	struct lconn *c, *list;
	uint64_t now, i, need, wake, last_t, last_tx = 0, last_rx = 0,
	    last_done = 0, next_prog;
	uint64_t nerr = 0;
	size_t qcap;
	int n, k, timeout;

	parse_args(argc, argv);
	need = cfg.conns + 64;
	if (tl_util_raise_nofile(need) < need)
		tl_util_die(2, "need %llu file descriptors; raise ulimit -n",
		    (unsigned long long)need);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	tl_hist_init(&st.lat);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		tl_util_die(1, "epoll_create1: %s", strerror(errno));
	if ((conns = calloc(cfg.conns, sizeof(*conns))) == NULL)
		tl_util_die(1, "out of memory");
	qcap = msg_mode() ? (cfg.size > 4096 ? cfg.size : 4096) : 128 * 1024;
	for (i = 0; i < cfg.conns; i++) {
		conns[i].fd = -1;
		if (tl_fifo_init(&conns[i].txq, qcap))
			tl_util_die(1, "out of memory");
	}

	st.t_start = tl_util_now_ns();
	st.t_send_end = cfg.time_ns ? st.t_start + cfg.time_ns : UINT64_MAX;
	if (cfg.mode == M_IDLE)
		st.t_send_end = UINT64_MAX;	/* set once all are checked */
	st.t_hard = st.t_start + cfg.time_ns + cfg.timeout_ns;
	last_t = st.t_start;
	next_prog = st.t_start + 500000000ULL;
	start_more();

	while (!all_finished()) {
		now = tl_util_now_ns();
		if (interrupted || now >= st.t_hard)
			break;
		start_more();
		if (!st.send_over && now >= st.t_send_end) {
			/* Stop sending (stream/echo/rr/connrate) or end the
			 * hold (idle). */
			st.send_over = 1;
			service_all();
			continue;
		}
		wake = st.t_hard;
		if (!st.send_over && st.t_send_end < wake)
			wake = st.t_send_end;
		if (!cfg.quiet && tl_util_progress_enabled() && next_prog < wake)
			wake = next_prog;
		if (runq != NULL || wake <= now)
			timeout = 0;
		else
			timeout = (int)((wake - now + 999999) / 1000000);
		if (timeout > 1000)
			timeout = 1000;
		if (cfg.rate && !st.send_over && timeout > 1)
			timeout = 1;	/* --rate: top up every millisecond */
		n = epoll_wait(epfd, evs, 512, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			tl_util_die(1, "epoll_wait: %s", strerror(errno));
		}
		for (k = 0; k < n; k++) {
			c = evs[k].data.ptr;
			if (evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR))
				c->can_read = 1;
			if (evs[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				c->can_write = 1;
			if (!c->queued && c->fd >= 0)
				service(c);
		}
		if (cfg.rate && !st.send_over)
			service_all();
		list = runq;
		runq = NULL;
		while (list != NULL) {
			c = list;
			list = c->next_run;
			c->queued = 0;
			if (c->fd >= 0)
				service(c);
		}
		now = tl_util_now_ns();
		if (!cfg.quiet && now >= next_prog) {
			progress(now, &last_t, &last_tx, &last_rx, &last_done);
			next_prog = now + 500000000ULL;
		}
	}
	st.t_end = tl_util_now_ns();
	if (!cfg.quiet)
		tl_util_progress(NULL);
	if (!all_finished()) {
		for (i = 0; i < cfg.conns; i++) {
			c = &conns[i];
			if (c->phase == P_DONE || c->phase == P_FAILED ||
			    (cfg.mode != M_CONNRATE && c->phase == P_WAITING &&
			    interrupted))
				continue;
			if (c->phase == P_WAITING) {
				st.errs[E_TIMEOUT]++;
				continue;
			}
			fail(c, E_TIMEOUT, "%s (short transfer): sent %llu, "
			    "received %llu, %s",
			    interrupted ? "interrupted" : "timed out",
			    (unsigned long long)payload_sent(c),
			    (unsigned long long)c->rx_ok,
			    c->phase == P_CONNECTING ? "still connecting" :
			    c->wr_shut ? "waiting for EOF" : "still sending");
		}
	}
	print_json();
	for (i = 0; i < E_NUM; i++)
		nerr += st.errs[i];
	if (nerr) {
		fprintf(stderr, "%s: FAILED:", tl_util_prog);
		for (i = 0; i < E_NUM; i++)
			if (st.errs[i])
				fprintf(stderr, " %llu %s",
				    (unsigned long long)st.errs[i],
				    err_names[i]);
		fprintf(stderr, "\n");
		return (1);
	}
	return (0);
}
