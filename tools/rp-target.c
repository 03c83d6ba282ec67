/*
 * rp-target: a fast test server for rp-load: echo, or sink (discard, verify
 * and count; optionally stream data back), with correct half-close.
 *
 *   rp-target --echo|--sink|--auto -l ADDR [--port-file FILE]
 *             [--buf SIZE] [--sndbuf SIZE] [--corrupt-after N]
 *             [--reset-after N] [--lifetime SECS] [-v]
 *
 * --echo: send back every byte; on EOF from the client finish echoing, then
 *         shutdown(SHUT_WR) and close.
 * --sink: speak tl_wire (see tools/lib/tl_wire.h): verify the client's
 *         stream byte for byte, send the requested stream back, and after the
 *         client's EOF send the trailer and shutdown(SHUT_WR).
 * --auto: sink if a connection starts with the tl_wire magic, else echo
 *         (the first 8 bytes, or EOF, decide; so echo clients must send at
 *         least 8 bytes before waiting for a reply).
 * --sndbuf SIZE: set SO_SNDBUF of each connection to SIZE (no autotuning),
 *         so that many stalled downloads do not take the machine's TCP
 *         memory (net.ipv4.tcp_mem) for themselves.
 * --corrupt-after N: flip one bit of the byte at offset N of what each
 *         connection receives (to test that verifiers notice).
 * --reset-after N: reset (RST) each connection once it has received N bytes.
 * --port-file FILE: write the bound address ("[ip]:port") there once
 *         listening (use port 0 to let the kernel pick).
 * --lifetime SECS: exit after SECS seconds (default 3600).
 * Exits 0 on SIGTERM/SIGINT or when the lifetime ends.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tl_addr.h"
#include "tl_fifo.h"
#include "tl_prng.h"
#include "tl_util.h"
#include "tl_wire.h"

enum mode { M_AUTO, M_ECHO, M_SINK };

struct conn {
	int fd;
	enum mode mode;
	struct tl_fifo out;		/* echo data / stream back + trailer */
	uint8_t hdr[TL_WIRE_HDR_LEN];
	size_t hdr_len;
	struct tl_wire_hdr h;
	struct tl_prng up;		/* checks the client's stream */
	struct tl_prng down;		/* generates the stream back */
	uint64_t rx;			/* bytes received (incl. header) */
	uint64_t up_bytes;		/* stream bytes received (sink) */
	uint64_t first_bad;
	uint64_t down_gen;		/* stream bytes queued back (sink) */
	int can_read, can_write;
	int rd_eof;
	int trailer_queued;
	int queued;			/* on the run list */
	struct conn *next_run;
};

static struct {
	enum mode mode;
	size_t buf;
	uint64_t corrupt_after;		/* UINT64_MAX: never */
	uint64_t reset_after;		/* UINT64_MAX: never */
	int verbose;
	int sndbuf;			/* 0: the kernel's autotuning */
} cfg = { M_ECHO, 128 * 1024, UINT64_MAX, UINT64_MAX, 0, 0 };

static struct {
	uint64_t accepted, closed, resets, bad_streams, rx, tx;
} stats;

static volatile sig_atomic_t stop;
static int epfd;
static struct conn *runq;
static uint8_t scratch[256 * 1024];

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
conn_close(struct conn *c, int reset)
{
	if (reset) {
		struct linger lg = { 1, 0 };

		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(c->fd);
	tl_fifo_free(&c->out);
	stats.closed++;
	/* The conn may still be on the run list: mark it dead. */
	c->fd = -1;
	if (!c->queued)
		free(c);
}

/* Corrupt the received bytes ${p}[0..n) that sit at offset ${at} onwards. */
static void
maybe_corrupt(uint8_t *p, size_t n, uint64_t at)
{
	if (cfg.corrupt_after >= at && cfg.corrupt_after < at + n)
		p[cfg.corrupt_after - at] ^= 0x01;
}

/* The header is in: switch to sink mode, or echo (--auto), or refuse. */
static int
sink_start(struct conn *c)
{
	if (tl_wire_hdr_decode(c->hdr, &c->h)) {
		if (cfg.mode == M_SINK) {
			tl_util_warn("connection without the rp-load header");
			return (-1);
		}
		c->mode = M_ECHO;
		tl_fifo_put(&c->out, c->hdr, c->hdr_len);
		return (0);
	}
	c->mode = M_SINK;
	c->first_bad = TL_WIRE_NONE;
	tl_prng_init(&c->up, c->h.seed_up);
	tl_prng_init(&c->down, c->h.seed_down);
	tl_fifo_put(&c->out, TL_WIRE_ACK, TL_WIRE_ACK_LEN);
	return (0);
}

/* Account ${n} stream bytes received in sink mode. */
static void
sink_consume(struct conn *c, const uint8_t *p, size_t n)
{
	ptrdiff_t bad;

	if (c->first_bad == TL_WIRE_NONE &&
	    (bad = tl_prng_check(&c->up, p, n)) >= 0) {
		c->first_bad = c->up_bytes + (uint64_t)bad;
		stats.bad_streams++;
		if (cfg.verbose)
			tl_util_warn("fd %d: stream mismatch at offset %llu",
			    c->fd, (unsigned long long)c->first_bad);
	}
	c->up_bytes += n;
}

/* Receive what is available.  Return -1 if the connection must go. */
static int
do_read(struct conn *c, size_t *budget)
{
	ssize_t r;
	uint8_t *p;
	size_t room;

	while (c->can_read && !c->rd_eof && *budget > 0) {
		if (c->mode == M_SINK) {
			p = scratch;
			room = sizeof(scratch);
		} else if (c->mode == M_ECHO) {
			p = tl_fifo_span(&c->out, &room);
			if (room == 0)
				return (0);	/* backpressure */
		} else {
			p = c->hdr + c->hdr_len;
			room = (c->hdr_len < 8 ? 8 : TL_WIRE_HDR_LEN) -
			    c->hdr_len;
		}
		if (cfg.reset_after != UINT64_MAX &&
		    room > cfg.reset_after - c->rx + 1)
			room = (size_t)(cfg.reset_after - c->rx + 1);
		r = recv(c->fd, p, room, 0);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->can_read = 0;
				return (0);
			}
			if (errno == EINTR)
				continue;
			stats.resets++;
			return (-1);
		}
		if (r == 0) {
			c->rd_eof = 1;
			if (c->mode == M_AUTO) {
				/* Short prologue: echo what came. */
				if (cfg.mode == M_SINK)
					return (-1);
				c->mode = M_ECHO;
				tl_fifo_put(&c->out, c->hdr, c->hdr_len);
			}
			return (0);
		}
		maybe_corrupt(p, (size_t)r, c->rx);
		c->rx += (uint64_t)r;
		stats.rx += (uint64_t)r;
		*budget -= (size_t)r < *budget ? (size_t)r : *budget;
		if (c->rx > cfg.reset_after) {
			stats.resets++;
			conn_close(c, 1);
			return (1);
		}
		switch (c->mode) {
		case M_SINK:
			sink_consume(c, p, (size_t)r);
			break;
		case M_ECHO:
			tl_fifo_commit(&c->out, (size_t)r);
			break;
		case M_AUTO:
			c->hdr_len += (size_t)r;
			if ((c->hdr_len == 8 && memcmp(c->hdr, "RPLOAD01", 8)) ||
			    c->hdr_len == TL_WIRE_HDR_LEN) {
				if (sink_start(c))
					return (-1);
			}
			break;
		}
	}
	return (0);
}

/* Queue the stream back and the trailer (sink mode). */
static void
sink_fill(struct conn *c)
{
	uint8_t *p;
	size_t room, n;
	uint64_t left;
	struct tl_wire_trl t;

	for (;;) {
		if (c->h.bytes_down == TL_WIRE_UNTIL_EOF)
			left = c->rd_eof ? 0 : UINT64_MAX;
		else
			left = c->h.bytes_down - c->down_gen;
		if (left == 0)
			break;
		p = tl_fifo_span(&c->out, &room);
		if (room == 0)
			return;
		n = room < left ? room : (size_t)left;
		tl_prng_fill(&c->down, p, n);
		tl_fifo_commit(&c->out, n);
		c->down_gen += n;
	}
	if (c->rd_eof && !c->trailer_queued &&
	    tl_fifo_space(&c->out) >= TL_WIRE_TRL_LEN) {
		uint8_t b[TL_WIRE_TRL_LEN];

		t.bytes_up = c->up_bytes;
		t.first_bad_up = c->first_bad;
		t.bytes_down = c->down_gen;
		tl_wire_trl_encode(&t, b);
		tl_fifo_put(&c->out, b, sizeof(b));
		c->trailer_queued = 1;
	}
}

/* Send what is queued.  Return -1 if the connection must go. */
static int
do_write(struct conn *c, size_t *budget)
{
	ssize_t r;

	while (c->can_write && *budget > 0) {
		if (c->mode == M_SINK)
			sink_fill(c);
		if (tl_fifo_len(&c->out) == 0)
			return (0);
		r = tl_fifo_write_fd(&c->out, c->fd, *budget);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->can_write = 0;
				return (0);
			}
			if (errno == EINTR)
				continue;
			stats.resets++;
			return (-1);
		}
		stats.tx += (uint64_t)r;
		*budget -= (size_t)r < *budget ? (size_t)r : *budget;
	}
	return (0);
}

/* Is this connection finished (EOF seen, everything sent)? */
static int
done(struct conn *c)
{
	if (!c->rd_eof || tl_fifo_len(&c->out) != 0)
		return (0);
	if (c->mode == M_SINK)
		return (c->trailer_queued);
	return (1);
}

static void
service(struct conn *c)
{
	size_t rbudget = 4 << 20, wbudget = 4 << 20;
	int rc;

	for (;;) {
		if ((rc = do_read(c, &rbudget)) != 0) {
			if (rc < 0)
				conn_close(c, 0);
			return;
		}
		if (do_write(c, &wbudget)) {
			conn_close(c, 0);
			return;
		}
		if (done(c)) {
			(void)shutdown(c->fd, SHUT_WR);
			conn_close(c, 0);
			return;
		}
		if (rbudget == 0 || wbudget == 0) {
			/* More may be possible: come back after others. */
			if (!c->queued) {
				c->queued = 1;
				c->next_run = runq;
				runq = c;
			}
			return;
		}
		/* Progress possible only if readable with room or writable. */
		if (!(c->can_read && !c->rd_eof &&
		    (c->mode != M_ECHO || tl_fifo_space(&c->out) > 0)) &&
		    !(c->can_write && (tl_fifo_len(&c->out) > 0 ||
		    (c->mode == M_SINK && !c->trailer_queued &&
		    (c->rd_eof || c->h.bytes_down > c->down_gen)))))
			return;
	}
}

static void
accept_all(int lfd)
{
	struct epoll_event ev;
	struct conn *c;
	int fd, i;

	for (i = 0; i < 256; i++) {
		if ((fd = tl_addr_accept(lfd)) < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				tl_util_warn("accept: %s", strerror(errno));
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    tl_fifo_init(&c->out, cfg.buf)) {
			tl_util_warn("out of memory");
			free(c);
			close(fd);
			return;
		}
		if (cfg.sndbuf > 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cfg.sndbuf,
			    sizeof(cfg.sndbuf));
		c->fd = fd;
		c->mode = cfg.mode;
		if (c->mode == M_SINK)
			c->mode = M_AUTO;	/* reads the header first */
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
			tl_util_warn("epoll_ctl: %s", strerror(errno));
			tl_fifo_free(&c->out);
			free(c);
			close(fd);
			return;
		}
		stats.accepted++;
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rp-target --echo|--sink|--auto -l ADDR [--port-file FILE]\n"
	    "                 [--buf SIZE] [--sndbuf SIZE] [--corrupt-after N]\n"
	    "                 [--reset-after N] [--lifetime SECS] [-v]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "echo", no_argument, NULL, 'E' },
		{ "sink", no_argument, NULL, 'S' },
		{ "auto", no_argument, NULL, 'A' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "buf", required_argument, NULL, 'b' },
		{ "sndbuf", required_argument, NULL, 's' },
		{ "corrupt-after", required_argument, NULL, 'c' },
		{ "reset-after", required_argument, NULL, 'r' },
		{ "lifetime", required_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct epoll_event evs[256];
	struct sigaction sa;
	struct tl_addr addr;
	const char *listen_s = NULL, *port_file = NULL;
	uint64_t lifetime = 3600ULL * 1000000000ULL, deadline, now;
	int lfd, ch, n, i, timeout;
	struct conn *c, *list;

	tl_util_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "l:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'E': cfg.mode = M_ECHO; break;
		case 'S': cfg.mode = M_SINK; break;
		case 'A': cfg.mode = M_AUTO; break;
		case 'l': listen_s = optarg; break;
		case 'P': port_file = optarg; break;
		case 'b':
			cfg.buf = tl_util_buf_size("buf", optarg);
			break;
		case 's':
			cfg.sndbuf = (int)tl_util_buf_size("sndbuf", optarg);
			break;
		case 'c':
			if (tl_util_parse_size(optarg, &cfg.corrupt_after))
				tl_util_die(2, "bad --corrupt-after: %s", optarg);
			break;
		case 'r':
			if (tl_util_parse_size(optarg, &cfg.reset_after))
				tl_util_die(2, "bad --reset-after: %s", optarg);
			break;
		case 'L':
			if (tl_util_parse_secs(optarg, &lifetime))
				tl_util_die(2, "bad --lifetime: %s", optarg);
			break;
		case 'v': cfg.verbose = 1; break;
		default: usage();
		}
	}
	if (listen_s == NULL || optind != argc)
		usage();
	if (tl_addr_parse(listen_s, &addr))
		exit(2);
	tl_util_raise_nofile(1 << 20);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((lfd = tl_addr_listen(&addr, 4096)) < 0)
		tl_util_die(1, "listen on %s: %s", listen_s, strerror(errno));
	if (tl_addr_publish(lfd, port_file))
		tl_util_die(1, "cannot write %s", port_file);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		tl_util_die(1, "epoll_create1: %s", strerror(errno));
	evs[0].events = EPOLLIN;
	evs[0].data.ptr = NULL;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &evs[0]))
		tl_util_die(1, "epoll_ctl: %s", strerror(errno));

	deadline = tl_util_now_ns() + lifetime;
	while (!stop && (now = tl_util_now_ns()) < deadline) {
		if (runq != NULL)
			timeout = 0;
		else if (deadline - now > 1000000000ULL)
			timeout = 1000;
		else
			timeout = (int)((deadline - now) / 1000000) + 1;
		n = epoll_wait(epfd, evs, 256, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			tl_util_die(1, "epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			if ((c = evs[i].data.ptr) == NULL) {
				accept_all(lfd);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR))
				c->can_read = 1;
			if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				c->can_write = 1;
			if (!c->queued)
				service(c);
		}
		/* Serve the connections that ran out of budget. */
		list = runq;
		runq = NULL;
		while (list != NULL) {
			c = list;
			list = c->next_run;
			c->queued = 0;
			if (c->fd < 0)
				free(c);
			else
				service(c);
		}
	}
	if (cfg.verbose)
		tl_util_warn("accepted %llu closed %llu resets %llu "
		    "bad-streams %llu rx %llu tx %llu",
		    (unsigned long long)stats.accepted,
		    (unsigned long long)stats.closed,
		    (unsigned long long)stats.resets,
		    (unsigned long long)stats.bad_streams,
		    (unsigned long long)stats.rx, (unsigned long long)stats.tx);
	return (0);
}
