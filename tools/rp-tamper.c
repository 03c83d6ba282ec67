/*
 * rp-tamper: a relay that damages a spiped stream on purpose, placed between
 * an -e daemon and a -d daemon (or any spiped client and server) to check
 * that damage is detected and never delivered.
 *
 *   rp-tamper -l ADDR -c ADDR [--port-file FILE] [--lifetime SECS]
 *             [--flip DIR:OFFSET] [--drop DIR:N] [--replay DIR:N]
 *             [--reorder DIR:N] [--every K] [-v]
 *
 * DIR is "up" (client -> server: what the accepted side sends) or "down"
 * (server -> client).  Offsets count bytes of that direction from 0; the
 * first 32 + 288 = 320 bytes of each direction are the handshake (nonce, then
 * DH value and MAC), then come 1060-byte packets, numbered from 0.
 *
 * --flip DIR:OFFSET   flip the low bit of the byte at OFFSET.
 * --drop DIR:N        leave out packet N.
 * --replay DIR:N      send packet N twice.
 * --reorder DIR:N     send packet N+1 before packet N.
 * --every K           damage only every K-th connection (1st, K+1-th, ...);
 *                     the others are relayed untouched (default 1: all).
 * --lifetime SECS     exit after SECS (default 3600).
 *
 * One thread per direction and blocking sockets: it is a test tool.  When a
 * side fails (reset, error) the other side is reset too; EOF is forwarded
 * as a half-close.  Counters go to stderr at exit with -v.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tl_addr.h"
#include "tl_util.h"

#define TAMPER_HS	(32 + 288)	/* Handshake bytes per direction. */
#define TAMPER_PKT	1060		/* One data packet. */
#define TAMPER_NONE	UINT64_MAX

/* What to do to one direction. */
struct tamper_ops {
	uint64_t flip;		/* Byte offset to flip, or TAMPER_NONE. */
	uint64_t drop;		/* Packet numbers, or TAMPER_NONE. */
	uint64_t replay;
	uint64_t reorder;
};

/* One connection: two sockets shared by two direction threads. */
struct tamper_conn {
	int fd[2];		/* [0] accepted (client side), [1] server. */
	int damage;		/* Apply the ops to this connection. */
	atomic_int refs;
	atomic_int failed;
};

struct tamper_dir {
	struct tamper_conn * conn;
	int from;		/* Index into conn->fd. */
	const struct tamper_ops * ops;
};

static struct {
	struct tl_addr target;
	struct tamper_ops ops[2];	/* [0] up, [1] down. */
	uint64_t every;
	int verbose;
} cfg = { .every = 1 };

static atomic_ullong st_conns, st_bytes, st_damaged, st_resets;

/* Write all of ${buf}[0..${len}) to ${fd}; 0 or -1. */
static int
tamper_write_all(int fd, const uint8_t * buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = send(fd, buf, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += w;
		len -= (size_t)w;
	}
	return (0);
}

/* Reset both sockets of ${c} (once), waking the other direction. */
static void
tamper_fail(struct tamper_conn * c)
{
	struct linger lg = { 1, 0 };
	int i;

	if (atomic_exchange(&c->failed, 1))
		return;
	st_resets++;
	for (i = 0; i < 2; i++) {
		(void)setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &lg,
		    sizeof(lg));
		(void)shutdown(c->fd[i], SHUT_RDWR);
	}
}

static void
tamper_release(struct tamper_conn * c)
{

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	close(c->fd[0]);
	close(c->fd[1]);
	free(c);
}

/*
 * Emit one whole packet ${pkt} (number ${n}) to ${fd}, applying the packet
 * operations of ${ops}; ${held} keeps a packet held back for a reorder.
 */
static int
tamper_packet(int fd, const struct tamper_ops * ops, uint64_t n,
    const uint8_t * pkt, uint8_t * held)
{

	if (n == ops->drop) {
		st_damaged++;
		return (0);
	}
	if (n == ops->reorder) {
		memcpy(held, pkt, TAMPER_PKT);
		st_damaged++;
		return (0);
	}
	if (tamper_write_all(fd, pkt, TAMPER_PKT))
		return (-1);
	if (n == ops->replay) {
		st_damaged++;
		if (tamper_write_all(fd, pkt, TAMPER_PKT))
			return (-1);
	}
	if (ops->reorder != TAMPER_NONE && n == ops->reorder + 1 &&
	    tamper_write_all(fd, held, TAMPER_PKT))
		return (-1);
	return (0);
}

static void *
tamper_dir_main(void * arg)
{
	struct tamper_dir * d = arg;
	struct tamper_conn * c = d->conn;
	const struct tamper_ops * ops = d->ops;
	int in = c->fd[d->from], out = c->fd[!d->from];
	int pktmode = c->damage && (ops->drop != TAMPER_NONE ||
	    ops->replay != TAMPER_NONE || ops->reorder != TAMPER_NONE);
	static const struct tamper_ops none = { TAMPER_NONE, TAMPER_NONE,
	    TAMPER_NONE, TAMPER_NONE };
	uint8_t buf[65536], pkt[TAMPER_PKT], held[TAMPER_PKT];
	uint64_t off = 0, pnum = 0;
	size_t plen = 0, i, take, len;
	int held_out = 0;
	ssize_t r;

	if (!c->damage)
		ops = &none;
	for (;;) {
		if ((r = recv(in, buf, sizeof(buf), 0)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		len = (size_t)r;
		st_bytes += len;
		if (ops->flip >= off && ops->flip < off + len) {
			buf[ops->flip - off] ^= 0x01;
			st_damaged++;
		}
		if (!pktmode) {
			off += len;
			if (tamper_write_all(out, buf, len))
				goto fail;
			continue;
		}
		for (i = 0; i < len; i += take) {
			if (off < TAMPER_HS) {
				take = len - i;
				if (take > TAMPER_HS - off)
					take = (size_t)(TAMPER_HS - off);
				if (tamper_write_all(out, buf + i, take))
					goto fail;
			} else {
				take = len - i;
				if (take > TAMPER_PKT - plen)
					take = TAMPER_PKT - plen;
				memcpy(pkt + plen, buf + i, take);
				if ((plen += take) == TAMPER_PKT) {
					if (tamper_packet(out, ops, pnum, pkt,
					    held))
						goto fail;
					held_out = (pnum == ops->reorder);
					pnum++;
					plen = 0;
				}
			}
			off += take;
		}
	}
	/* EOF: flush what is held, then half-close. */
	if (held_out && tamper_write_all(out, held, TAMPER_PKT))
		goto fail;
	if (plen > 0 && tamper_write_all(out, pkt, plen))
		goto fail;
	(void)shutdown(out, SHUT_WR);
	goto done;

fail:
	tamper_fail(c);
done:
	tamper_release(c);
	free(d);
	return (NULL);
}

static int
tamper_connect(void)
{
	struct pollfd pfd;
	int fd, fl;

	if ((fd = tl_addr_connect(&cfg.target)) < 0)
		return (-1);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 5000) != 1 || tl_addr_connect_result(fd)) {
		close(fd);
		return (-1);
	}
	fl = fcntl(fd, F_GETFL);
	(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return (fd);
}

/* Relay accepted socket ${afd}: connect to the target, start two threads. */
static void
tamper_start(int afd, uint64_t seq)
{
	struct linger lg = { 1, 0 };
	struct tamper_conn * c;
	struct tamper_dir * d;
	pthread_attr_t attr;
	pthread_t t;
	int fl, i;

	fl = fcntl(afd, F_GETFL);
	(void)fcntl(afd, F_SETFL, fl & ~O_NONBLOCK);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto err0;
	c->fd[0] = afd;
	if ((c->fd[1] = tamper_connect()) < 0) {
		/* The server is not there: reset the client. */
		(void)setsockopt(afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		free(c);
		goto err0;
	}
	c->damage = (seq % cfg.every) == 0;
	atomic_init(&c->refs, 2);
	st_conns++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < 2; i++) {
		if ((d = malloc(sizeof(*d))) == NULL)
			abort();
		d->conn = c;
		d->from = i;
		d->ops = &cfg.ops[i];
		if (pthread_create(&t, &attr, tamper_dir_main, d))
			abort();
	}
	pthread_attr_destroy(&attr);
	return;

err0:
	close(afd);
}

/* Parse "up:N" / "down:N" into the field at ${field} of ops[dir]. */
static void
tamper_parse_op(const char * opt, const char * s, size_t field)
{
	uint64_t v;
	int dir;

	if (strncmp(s, "up:", 3) == 0)
		dir = 0;
	else if (strncmp(s, "down:", 5) == 0)
		dir = 1;
	else
		tl_util_die(2, "bad --%s: %s (want up:N or down:N)", opt, s);
	if (tl_util_parse_uint(strchr(s, ':') + 1, UINT64_MAX - 2, &v))
		tl_util_die(2, "bad --%s: %s", opt, s);
	*(uint64_t *)((char *)&cfg.ops[dir] + field) = v;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rp-tamper -l ADDR -c ADDR [--port-file FILE] "
	    "[--lifetime SECS]\n"
	    "                 [--flip DIR:OFFSET] [--drop DIR:N] "
	    "[--replay DIR:N]\n"
	    "                 [--reorder DIR:N] [--every K] [-v]   "
	    "(DIR: up | down)\n");
	exit(2);
}

int
main(int argc, char ** argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "connect", required_argument, NULL, 'c' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "lifetime", required_argument, NULL, 'L' },
		{ "flip", required_argument, NULL, 'f' },
		{ "drop", required_argument, NULL, 'd' },
		{ "replay", required_argument, NULL, 'r' },
		{ "reorder", required_argument, NULL, 'o' },
		{ "every", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char * listen_s = NULL, * connect_s = NULL, * port_file = NULL;
	uint64_t lifetime = 3600ULL * 1000000000ULL, deadline, now, seq = 0;
	struct tl_addr laddr;
	struct pollfd pfd;
	int lfd, fd, ch, i;

	tl_util_init(argv[0]);
	for (i = 0; i < 2; i++)
		cfg.ops[i] = (struct tamper_ops){ TAMPER_NONE, TAMPER_NONE,
		    TAMPER_NONE, TAMPER_NONE };
	while ((ch = getopt_long(argc, argv, "l:c:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen_s = optarg; break;
		case 'c': connect_s = optarg; break;
		case 'P': port_file = optarg; break;
		case 'L':
			if (tl_util_parse_secs(optarg, &lifetime))
				tl_util_die(2, "bad --lifetime: %s", optarg);
			break;
		case 'f':
			tamper_parse_op("flip", optarg,
			    offsetof(struct tamper_ops, flip));
			break;
		case 'd':
			tamper_parse_op("drop", optarg,
			    offsetof(struct tamper_ops, drop));
			break;
		case 'r':
			tamper_parse_op("replay", optarg,
			    offsetof(struct tamper_ops, replay));
			break;
		case 'o':
			tamper_parse_op("reorder", optarg,
			    offsetof(struct tamper_ops, reorder));
			break;
		case 'k':
			if (tl_util_parse_uint(optarg, 1000000, &cfg.every) ||
			    cfg.every == 0)
				tl_util_die(2, "bad --every: %s", optarg);
			break;
		case 'v': cfg.verbose = 1; break;
		default: usage();
		}
	}
	if (listen_s == NULL || connect_s == NULL || optind != argc)
		usage();
	if (tl_addr_parse(listen_s, &laddr) ||
	    tl_addr_parse(connect_s, &cfg.target))
		exit(2);
	tl_util_raise_nofile(1 << 16);
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = tl_addr_listen(&laddr, 1024)) < 0)
		tl_util_die(1, "listen on %s: %s", listen_s, strerror(errno));
	if (tl_addr_publish(lfd, port_file))
		tl_util_die(1, "cannot write %s", port_file);

	deadline = tl_util_now_ns() + lifetime;
	while ((now = tl_util_now_ns()) < deadline) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((fd = tl_addr_accept(lfd)) < 0)
			continue;
		tamper_start(fd, seq++);
	}
	if (cfg.verbose)
		tl_util_warn("conns %llu bytes %llu damaged %llu resets %llu",
		    (unsigned long long)st_conns, (unsigned long long)st_bytes,
		    (unsigned long long)st_damaged,
		    (unsigned long long)st_resets);
	return (0);
}
