/*
 * rp-delay: a user-space relay that emulates a long link (the kernel here has
 * no netem).  It accepts connections, connects each onward, and forwards each
 * direction after a fixed one-way delay, at most at a given rate (one token
 * bucket per direction, shared by all connections, like one link), with
 * bounded buffering: when a direction's buffer is full it stops reading from
 * that side, so TCP backpressure reaches the sender.  EOF is delayed like
 * data and forwarded as shutdown(SHUT_WR) (half-close preserved); a reset or
 * error on either side resets both.
 *
 *   rp-delay -l LISTEN -c TARGET [--delay MS] [--rate RATE] [--buf SIZE]
 *            [--port-file FILE] [--lifetime SECS] [-v]
 *
 *   --delay 10ms    one-way delay (default 10 ms: 20 ms round trip)
 *   --rate 1G       bits per second per direction, k/M/G (default 1G; 0 or
 *                   "none": unlimited)
 *   --buf SIZE      buffer per connection and direction (default 4M)
 *   --port-file F   write the bound "[ip]:port" to F once listening
 *   --lifetime S    exit after S seconds (default 3600)
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
#include <time.h>
#include <unistd.h>

#include "tl_addr.h"
#include "tl_fifo.h"
#include "tl_util.h"

#define NMARKS 1024
#define MERGE_NS 50000ULL		/* bytes read within 50 us share a mark */

struct mark {
	uint64_t end;			/* fifo position after the last byte */
	uint64_t release;		/* when those bytes may leave */
};

struct dir {
	struct tl_fifo q;
	struct mark m[NMARKS];
	unsigned mhead, mlen;
	int eof;			/* EOF read from the source */
	uint64_t eof_release;
	int shut;			/* shutdown(SHUT_WR) done on the dest */
};

struct side {
	int fd;
	int can_read, can_write;
};

struct pair {
	struct side s[2];		/* 0: accepted client, 1: target */
	struct dir d[2];		/* d[i]: from s[i] to s[1 - i] */
	int connected;
	int dead;
	int pending;			/* on the pending list */
	struct pair *prev, *next;
	struct epoll_tag { struct pair *p; int i; } tag[2];
};

struct bucket {
	double tokens, burst, rate;	/* bytes, bytes, bytes/ns */
	uint64_t last;
};

static struct {
	uint64_t delay;
	double rate;			/* bytes/s; 0 unlimited */
	size_t buf;
	int verbose;
} cfg = { 10000000ULL, 125e6, 4 << 20, 0 };

static struct tl_addr target;
static struct bucket bkt[2];
static struct pair *pending;
static int epfd;
static volatile sig_atomic_t stop;
static uint64_t n_pairs, n_resets;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
bucket_refill(struct bucket *b, uint64_t now)
{
	if (b->rate <= 0)
		return;
	b->tokens += (double)(now - b->last) * b->rate;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last = now;
}

static void
pending_add(struct pair *p)
{
	if (p->pending)
		return;
	p->pending = 1;
	p->prev = NULL;
	p->next = pending;
	if (pending)
		pending->prev = p;
	pending = p;
}

static void
pending_del(struct pair *p)
{
	if (!p->pending)
		return;
	p->pending = 0;
	if (p->prev)
		p->prev->next = p->next;
	else
		pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

static void
pair_free(struct pair *p, int reset)
{
	struct linger lg = { 1, 0 };
	int i;

	for (i = 0; i < 2; i++) {
		if (p->s[i].fd < 0)
			continue;
		if (reset)
			(void)setsockopt(p->s[i].fd, SOL_SOCKET, SO_LINGER,
			    &lg, sizeof(lg));
		close(p->s[i].fd);
		p->s[i].fd = -1;
		tl_fifo_free(&p->d[i].q);
	}
	if (reset)
		n_resets++;
	p->dead = 1;
	pending_del(p);
}

/* Bytes of direction ${d} whose release time has come. */
static uint64_t
releasable(struct dir *d, uint64_t now)
{
	uint64_t end = d->q.out;
	unsigned i, k;

	/* Drop marks already sent. */
	while (d->mlen > 0 && d->m[d->mhead].end <= d->q.out) {
		d->mhead = (d->mhead + 1) % NMARKS;
		d->mlen--;
	}
	for (i = 0; i < d->mlen; i++) {
		k = (d->mhead + i) % NMARKS;
		if (d->m[k].release > now)
			break;
		end = d->m[k].end;
	}
	return (end - d->q.out);
}

/* Read from side ${i} into direction ${i}.  Return -1 on a fatal error. */
static int
dir_read(struct pair *p, int i, uint64_t now)
{
	struct side *s = &p->s[i];
	struct dir *d = &p->d[i];
	struct mark *last;
	ssize_t r;

	while (s->can_read && !d->eof && tl_fifo_space(&d->q) > 0) {
		last = d->mlen ? &d->m[(d->mhead + d->mlen - 1) % NMARKS] :
		    NULL;
		if (d->mlen == NMARKS &&
		    now + cfg.delay - last->release >= MERGE_NS)
			return (0);	/* too many marks: backpressure */
		r = tl_fifo_read_fd(&d->q, s->fd, 256 * 1024);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				s->can_read = 0;
				return (0);
			}
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (r == 0) {
			d->eof = 1;
			d->eof_release = now + cfg.delay;
			return (0);
		}
		if (last && now + cfg.delay - last->release < MERGE_NS) {
			last->end = d->q.in;
		} else {
			struct mark *m =
			    &d->m[(d->mhead + d->mlen) % NMARKS];

			m->end = d->q.in;
			m->release = now + cfg.delay;
			d->mlen++;
		}
	}
	return (0);
}

/* Forward direction ${i} to side 1 - ${i}.  Return -1 on a fatal error. */
static int
dir_write(struct pair *p, int i, uint64_t now)
{
	struct side *o = &p->s[1 - i];
	struct dir *d = &p->d[i];
	struct bucket *b = &bkt[i];
	uint64_t n;
	ssize_t r;

	if (!p->connected)
		return (0);
	while (o->can_write && (n = releasable(d, now)) > 0) {
		if (b->rate > 0) {
			bucket_refill(b, now);
			if (b->tokens < 1)
				return (0);
			if ((double)n > b->tokens)
				n = (uint64_t)b->tokens;
		}
		r = tl_fifo_write_fd(&d->q, o->fd, (size_t)n);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				o->can_write = 0;
				return (0);
			}
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (b->rate > 0)
			b->tokens -= (double)r;
	}
	if (d->eof && !d->shut && tl_fifo_len(&d->q) == 0 &&
	    now >= d->eof_release) {
		if (shutdown(o->fd, SHUT_WR) && errno != ENOTCONN)
			return (-1);
		d->shut = 1;
	}
	return (0);
}

/* When direction ${i} can next make progress by the clock (UINT64_MAX: no
 * timed work; it waits for I/O). */
static uint64_t
dir_wake(struct pair *p, int i, uint64_t now)
{
	struct dir *d = &p->d[i];
	struct bucket *b = &bkt[i];
	uint64_t need;
	unsigned k;

	if (!p->connected || !p->s[1 - i].can_write)
		return (UINT64_MAX);
	if (tl_fifo_len(&d->q) > 0) {
		(void)releasable(d, now);
		if (d->mlen > 0) {
			k = d->mhead;
			if (d->m[k].release > now)
				return (d->m[k].release);
		}
		if (b->rate > 0 && b->tokens < 1) {
			need = (uint64_t)((16384.0 < b->burst ? 16384.0 :
			    b->burst) / b->rate);
			return (now + need);
		}
		return (now);
	}
	if (d->eof && !d->shut)
		return (d->eof_release);
	return (UINT64_MAX);
}

static void
pair_service(struct pair *p)
{
	uint64_t now = tl_util_now_ns();
	int i, busy = 0;

	if (p->dead)
		return;
	if (!p->connected && p->s[1].can_write) {
		int err = tl_addr_connect_result(p->s[1].fd);

		if (err) {
			if (cfg.verbose)
				tl_util_warn("connect: %s", strerror(err));
			pair_free(p, 1);
			return;
		}
		p->connected = 1;
	}
	for (i = 0; i < 2; i++) {
		if (dir_read(p, i, now) || dir_write(p, i, now)) {
			pair_free(p, 1);
			return;
		}
	}
	if (p->d[0].shut && p->d[1].shut) {
		pair_free(p, 0);
		return;
	}
	for (i = 0; i < 2; i++)
		if (tl_fifo_len(&p->d[i].q) > 0 ||
		    (p->d[i].eof && !p->d[i].shut))
			busy = 1;
	if (busy)
		pending_add(p);
	else
		pending_del(p);
}

static void
accept_all(int lfd)
{
	struct epoll_event ev;
	struct pair *p;
	int fd, i, k;

	for (k = 0; k < 64; k++) {
		if ((fd = tl_addr_accept(lfd)) < 0)
			return;
		if ((p = calloc(1, sizeof(*p))) == NULL)
			goto fail0;
		if (tl_fifo_init(&p->d[0].q, cfg.buf))
			goto fail1;
		if (tl_fifo_init(&p->d[1].q, cfg.buf))
			goto fail2;
		p->s[0].fd = fd;
		if ((p->s[1].fd = tl_addr_connect(&target)) < 0) {
			if (cfg.verbose)
				tl_util_warn("connect: %s", strerror(errno));
			goto fail3;
		}
		for (i = 0; i < 2; i++) {
			p->tag[i].p = p;
			p->tag[i].i = i;
			ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
			ev.data.ptr = &p->tag[i];
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, p->s[i].fd, &ev))
				tl_util_die(1, "epoll_ctl: %s",
				    strerror(errno));
		}
		n_pairs++;
		continue;
fail3:
		tl_fifo_free(&p->d[1].q);
fail2:
		tl_fifo_free(&p->d[0].q);
fail1:
		free(p);
fail0:
		close(fd);
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rp-delay -l LISTEN -c TARGET [--delay MS] [--rate RATE]\n"
	    "                [--buf SIZE] [--port-file FILE] [--lifetime SECS]"
	    " [-v]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "connect", required_argument, NULL, 'c' },
		{ "delay", required_argument, NULL, 'D' },
		{ "rate", required_argument, NULL, 'r' },
		{ "buf", required_argument, NULL, 'b' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "lifetime", required_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct epoll_event evs[256];
	struct epoll_tag *t;
	struct tl_addr laddr;
	struct sigaction sa;
	struct timespec ts;
	struct pair *p, *next, *dead = NULL;
	const char *listen_s = NULL, *target_s = NULL, *port_file = NULL;
	uint64_t lifetime = 3600ULL * 1000000000ULL, deadline, now, wake, w, v;
	char *end;
	int lfd, ch, n, k, i;

	tl_util_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "l:c:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen_s = optarg; break;
		case 'c': target_s = optarg; break;
		case 'D':
			/* A bare number is milliseconds. */
			v = strtoull(optarg, &end, 10);
			if (*end == '\0' && end != optarg)
				cfg.delay = v * 1000000ULL;
			else if (tl_util_parse_secs(optarg, &cfg.delay))
				tl_util_die(2, "bad --delay: %s", optarg);
			break;
		case 'r':
			if (strcmp(optarg, "0") == 0 ||
			    strcmp(optarg, "none") == 0)
				cfg.rate = 0;
			else if (tl_util_parse_rate(optarg, &cfg.rate))
				tl_util_die(2, "bad --rate: %s", optarg);
			break;
		case 'b':
			cfg.buf = tl_util_buf_size("buf", optarg);
			break;
		case 'P': port_file = optarg; break;
		case 'L':
			if (tl_util_parse_secs(optarg, &lifetime))
				tl_util_die(2, "bad --lifetime: %s", optarg);
			break;
		case 'v': cfg.verbose = 1; break;
		default: usage();
		}
	}
	if (listen_s == NULL || target_s == NULL || optind != argc)
		usage();
	if (tl_addr_parse(listen_s, &laddr) || tl_addr_parse(target_s, &target))
		exit(2);
	tl_util_raise_nofile(1 << 20);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	now = tl_util_now_ns();
	for (i = 0; i < 2; i++) {
		bkt[i].rate = cfg.rate / 1e9;
		/* Burst: 1 ms at the line rate, at least 64 KiB. */
		bkt[i].burst = cfg.rate / 1e3 > 65536 ? cfg.rate / 1e3 : 65536;
		bkt[i].tokens = bkt[i].burst;
		bkt[i].last = now;
	}
	if ((lfd = tl_addr_listen(&laddr, 4096)) < 0)
		tl_util_die(1, "listen on %s: %s", listen_s, strerror(errno));
	if (tl_addr_publish(lfd, port_file))
		tl_util_die(1, "cannot write %s", port_file);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		tl_util_die(1, "epoll_create1: %s", strerror(errno));
	evs[0].events = EPOLLIN;
	evs[0].data.ptr = NULL;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &evs[0]))
		tl_util_die(1, "epoll_ctl: %s", strerror(errno));

	deadline = now + lifetime;
	while (!stop && (now = tl_util_now_ns()) < deadline) {
		/* Sleep until the earliest timed release (or 1 s). */
		wake = now + 1000000000ULL;
		if (wake > deadline)
			wake = deadline;
		for (p = pending; p != NULL; p = p->next)
			for (i = 0; i < 2; i++)
				if ((w = dir_wake(p, i, now)) < wake)
					wake = w;
		w = wake > now ? wake - now : 0;
		ts.tv_sec = (time_t)(w / 1000000000ULL);
		ts.tv_nsec = (long)(w % 1000000000ULL);
		n = epoll_pwait2(epfd, evs, 256, &ts, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			tl_util_die(1, "epoll_pwait2: %s", strerror(errno));
		}
		for (k = 0; k < n; k++) {
			if ((t = evs[k].data.ptr) == NULL) {
				accept_all(lfd);
				continue;
			}
			p = t->p;
			if (evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR))
				p->s[t->i].can_read = 1;
			if (evs[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				p->s[t->i].can_write = 1;
			pair_service(p);
			if (p->dead == 1) {
				/* Free after this batch: evs may hold another
				 * event for it. */
				p->dead = 2;
				p->next = dead;
				dead = p;
			}
		}
		/* Timed work: releases and token refills. */
		for (p = pending; p != NULL; p = next) {
			next = p->next;
			pair_service(p);
			if (p->dead == 1) {
				p->dead = 2;
				p->next = dead;
				dead = p;
			}
		}
		while (dead != NULL) {
			p = dead;
			dead = p->next;
			free(p);
		}
	}
	if (cfg.verbose)
		tl_util_warn("pairs %llu resets %llu",
		    (unsigned long long)n_pairs, (unsigned long long)n_resets);
	return (0);
}
