#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "crypto_dh.h"
#include "proto_handshake.h"
#include "rp_ctl.h"
#include "rp_hspool.h"
#include "rp_log.h"
#include "rp_pair.h"
#include "rp_sock.h"
#include "rp_uring.h"
#include "rp_worker.h"

#define TAG_NONE	0
#define TAG_ACCEPT	1	/* ptr = ctl. */
#define TAG_CONNECT	2	/* ptr = conn. */
#define TAG_HSRECV	3	/* ptr = conn. */
#define TAG_HSSEND	4	/* ptr = conn. */
#define TAG_WAKE	5	/* eventfd: compute done or pair closed. */
#define TAG_SIGNAL	6	/* signalfd. */
#define TAG_TICK	7	/* periodic timeout. */
#define TAG_MASK	7

#define CTL_SQES	512
#define CTL_TICK_NS	100000000L	/* 100 ms. */
#define CTL_MAXADDR	16

/* A connection in its set-up phase (connect + handshake). */
struct ctl_conn {
	struct rp_ctl * ctl;
	int afd;		/* Accepted socket. */
	int tfd;		/* Socket to the target, or -1. */
	int hsfd;		/* The one the handshake runs on. */
	struct proto_hs * hs;
	struct rp_hsjob job;
	struct rp_addr taddr;	/* Target being connected to. */
	double deadline;
	int inflight;		/* Ring operations and compute in flight. */
	unsigned connected:1, hs_started:1, recv_busy:1, send_busy:1;
	unsigned computing:1, dead:1;	/* dead: being dropped. */
	unsigned need_connect:1;	/* Out of descriptors: retry on tick. */
	size_t rlen;		/* Received, not yet fed (while computing). */
	size_t slen, soff;	/* Handshake output being sent. */
	uint8_t rbuf[320];
	uint8_t sbuf[640];
	struct ctl_conn * prev, * next;
};

struct rp_ctl {
	const struct rp_ctl_cfg * cfg;
	struct io_uring ring;
	int lfd;
	int accepting;		/* Multishot accept armed. */
	double accept_pause;	/* Re-arm accept after this time. */
	int fds_freed;		/* Descriptors were closed: retry at once. */
	size_t nneed;		/* Connections with need_connect set. */
	atomic_size_t nclosed;	/* Pairs closed by workers, ever. */
	size_t nclosed_seen;
	int draining;		/* SIGTERM seen. */
	int wakefd;
	uint64_t wakebuf;
	int sigfd;
	struct signalfd_siginfo sibuf;
	struct __kernel_timespec tick;
	struct rp_hspool * pool;
	struct ctl_conn * conns;	/* Connections in set-up. */
	size_t nconns;
	int * parked;			/* Accepted past -n: FIFO ring of */
	size_t parked_cap;		/* descriptors not started yet (a */
	size_t parked_head;		/* multishot accept can deliver a */
	size_t nparked;			/* burst before its cancel lands). */
	int unparking;
	atomic_size_t npairs;		/* Pairs carried by workers. */
	int warned_max;
	double last_warn_accept;
	double last_warn_socket;

	/* Target addresses, refreshed by the resolver thread. */
	pthread_mutex_t amtx;
	struct rp_addr taddr[CTL_MAXADDR];
	int ntaddr;
	pthread_t resolver;
	int have_resolver;
	pthread_cond_t rcv;		/* Wakes the resolver to stop. */
	int rstop;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

static inline uint64_t
ud(void * p, int tag)
{

	return ((uint64_t)(uintptr_t)p | (uint64_t)tag);
}

static void conn_step(struct rp_ctl *, struct ctl_conn *);
static void ctl_accepted(struct rp_ctl *, int);
static void ctl_unpark(struct rp_ctl *);

/* Worker callback: a pair closed (worker thread). */
void
rp_ctl_pair_closed(void * cookie, int failed)
{
	struct rp_ctl * ctl = cookie;
	uint64_t one = 1;

	(void)failed;
	atomic_fetch_add(&ctl->nclosed, 1);
	/*
	 * Wake first, count down second: once npairs reaches 0 the control
	 * thread may exit and close wakefd, so this thread must be done with
	 * it by then.  (If the wake-up is seen before the count drops, the
	 * 100 ms tick re-checks.)
	 */
	if (write(ctl->wakefd, &one, sizeof(one)) != sizeof(one)) {
		/* Cannot overflow in practice. */
	}
	atomic_fetch_sub(&ctl->npairs, 1);
}

static size_t
ctl_total(struct rp_ctl * ctl)
{

	return (ctl->nconns + atomic_load(&ctl->npairs));
}

static void
ctl_arm_accept(struct rp_ctl * ctl)
{
	struct io_uring_sqe * sqe;

	if (ctl->accepting || ctl->draining || ctl->lfd == -1 ||
	    ctl->nparked > 0 || now() < ctl->accept_pause)
		return;
	if (ctl->cfg->maxconn && ctl_total(ctl) >= ctl->cfg->maxconn)
		return;
	sqe = rp_uring_sqe(&ctl->ring);
	io_uring_prep_multishot_accept(sqe, ctl->lfd, NULL, NULL,
	    SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, ud(ctl, TAG_ACCEPT));
	ctl->accepting = 1;
}

static void
ctl_cancel_accept(struct rp_ctl * ctl)
{
	struct io_uring_sqe * sqe;

	if (!ctl->accepting)
		return;
	sqe = rp_uring_sqe(&ctl->ring);
	io_uring_prep_cancel64(sqe, ud(ctl, TAG_ACCEPT), 0);
	io_uring_sqe_set_data64(sqe, TAG_NONE);
}

/* Free ${c} once nothing of it is in flight. */
static void
conn_reap(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (c->inflight > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nconns--;
	if (c->need_connect)
		ctl->nneed--;
	if (c->afd != -1 || c->tfd != -1)
		ctl->fds_freed = 1;
	if (c->afd != -1)
		close(c->afd);
	if (c->tfd != -1)
		close(c->tfd);
	proto_hs_free(c->hs);
	free(c);
	ctl_unpark(ctl);
	ctl_arm_accept(ctl);
}

/* Keep accepted ${fd} until a connection slot frees; -1 if out of memory. */
static int
ctl_park(struct rp_ctl * ctl, int fd)
{
	size_t ncap, i;
	int * np;

	if (ctl->nparked == ctl->parked_cap) {
		ncap = ctl->parked_cap ? ctl->parked_cap * 2 : 64;
		if ((np = malloc(ncap * sizeof(*np))) == NULL)
			return (-1);
		for (i = 0; i < ctl->nparked; i++)
			np[i] = ctl->parked[(ctl->parked_head + i) %
			    ctl->parked_cap];
		free(ctl->parked);
		ctl->parked = np;
		ctl->parked_cap = ncap;
		ctl->parked_head = 0;
	}
	ctl->parked[(ctl->parked_head + ctl->nparked) % ctl->parked_cap] = fd;
	ctl->nparked++;
	return (0);
}

/* Start parked connections while there is room under -n. */
static void
ctl_unpark(struct rp_ctl * ctl)
{
	int fd;

	if (ctl->unparking)
		return;
	ctl->unparking = 1;
	while (ctl->nparked > 0 && (ctl->cfg->maxconn == 0 ||
	    ctl_total(ctl) < ctl->cfg->maxconn)) {
		fd = ctl->parked[ctl->parked_head];
		ctl->parked_head = (ctl->parked_head + 1) % ctl->parked_cap;
		ctl->nparked--;
		if (ctl->draining)
			close(fd);
		else
			ctl_accepted(ctl, fd);
	}
	ctl->unparking = 0;
}

/* Drop ${c}: cancel its operations; it is freed when they are back. */
static void
conn_drop(struct rp_ctl * ctl, struct ctl_conn * c)
{
	struct io_uring_sqe * sqe;
	int fds[2] = { c->afd, c->tfd };
	int i;

	if (!c->dead) {
		c->dead = 1;
		for (i = 0; i < 2; i++) {
			if (fds[i] == -1)
				continue;
			sqe = rp_uring_sqe(&ctl->ring);
			io_uring_prep_cancel_fd(sqe, fds[i],
			    IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data64(sqe, TAG_NONE);
		}
		/* Submit the cancels now, before the descriptors can be
		 * closed and their numbers reused. */
		io_uring_submit(&ctl->ring);
	}
	conn_reap(ctl, c);
}

/* Start connecting ${c} to the target; return -1 if that failed. */
static int
conn_connect(struct rp_ctl * ctl, struct ctl_conn * c)
{
	struct io_uring_sqe * sqe;

	pthread_mutex_lock(&ctl->amtx);
	c->taddr = ctl->taddr[0];
	pthread_mutex_unlock(&ctl->amtx);
	if ((c->tfd = rp_sock_new(&c->taddr, ctl->cfg->bind)) == -1) {
		if ((errno == EMFILE || errno == ENFILE) &&
		    now() - ctl->last_warn_socket > 10) {
			/* At most one warning per 10 s: no log flood. */
			rp_warnp("Cannot create socket to target");
			ctl->last_warn_socket = now();
		}
		return (-1);
	}
	sqe = rp_uring_sqe(&ctl->ring);
	io_uring_prep_connect(sqe, c->tfd,
	    (const struct sockaddr *)&c->taddr.ss, c->taddr.len);
	io_uring_sqe_set_data64(sqe, ud(c, TAG_CONNECT));
	c->inflight++;
	return (0);
}

static void
conn_start_hs(struct rp_ctl * ctl, struct ctl_conn * c)
{

	c->hs_started = 1;
	c->deadline = now() + ctl->cfg->timeout;
	conn_step(ctl, c);
}

static void
ctl_accepted(struct rp_ctl * ctl, int fd)
{
	const struct rp_ctl_cfg * cfg = ctl->cfg;
	struct ctl_conn * c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto err0;
	c->ctl = ctl;
	c->afd = fd;
	c->tfd = -1;
	c->deadline = now() + cfg->timeout;
	if ((c->hs = proto_hs_new(cfg->decrypt ? PROTO_SERVER : PROTO_CLIENT,
	    cfg->K, cfg->nopfs, cfg->requirepfs)) == NULL)
		goto err1;
	c->job.hs = c->hs;
	rp_sock_tune(fd, cfg->nokeepalive);
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->nconns++;
	if (conn_connect(ctl, c)) {
		if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
		    errno != ENOMEM) {
			conn_drop(ctl, c);
			return;
		}
		/* Out of descriptors: keep the client (within -o), retry the
		 * connect on each tick, and accept nothing more meanwhile. */
		c->need_connect = 1;
		ctl->nneed++;
		ctl->accept_pause = now() + 0.25;
		ctl_cancel_accept(ctl);
	}
	if (cfg->decrypt) {
		/* -d: handshake at once, in parallel with the connect. */
		c->hsfd = fd;
		conn_start_hs(ctl, c);
	}
	return;

err1:
	free(c);
err0:
	close(fd);
}

/* The handshake is done: hand the pair to the least-loaded worker. */
static void
conn_handoff(struct rp_ctl * ctl, struct ctl_conn * c)
{
	const struct rp_ctl_cfg * cfg = ctl->cfg;
	struct proto_keys k;
	struct rp_pair * p;
	int plain = cfg->decrypt ? c->tfd : c->afd;
	int cipher = cfg->decrypt ? c->afd : c->tfd;
	int i, best = 0;

	if (proto_hs_keys(c->hs, &k))
		goto drop;
	p = rp_pair_new(plain, plain, cipher, k.send_enc, k.send_mac,
	    k.recv_enc, k.recv_mac);
	memset(&k, 0, sizeof(k));
	if (p == NULL)
		goto drop;
	for (i = 1; i < cfg->nworkers; i++)
		if (rp_worker_load(cfg->workers[i]) <
		    rp_worker_load(cfg->workers[best]))
			best = i;
	atomic_fetch_add(&ctl->npairs, 1);
	if (rp_worker_post(cfg->workers[best], p)) {
		atomic_fetch_sub(&ctl->npairs, 1);
		rp_pair_discard(p);
		goto drop;
	}
	/* The worker owns the descriptors now. */
	c->afd = c->tfd = -1;
	conn_reap(ctl, c);
	return;

drop:
	conn_drop(ctl, c);
}

/* Give ${c} an ephemeral key pair made ahead of time, if one is ready:
 * then a client needs no thread hop before it can send y, and a server's
 * computation is the shared secret alone. */
static void
conn_take_key(struct rp_ctl * ctl, struct ctl_conn * c)
{
	uint8_t x[CRYPTO_DH_PRIVLEN], y[CRYPTO_DH_PUBLEN];

	if (rp_hspool_take_key(ctl->pool, x, y))
		return;
	proto_hs_set_key(c->hs, x, y);
	OPENSSL_cleanse(x, sizeof(x));
}

/* Drive the handshake of ${c}: feed input, send output, compute. */
static void
conn_step(struct rp_ctl * ctl, struct ctl_conn * c)
{
	struct io_uring_sqe * sqe;
	const uint8_t * out;
	size_t len, hint;
	int want;

	if (c->computing || !c->hs_started)
		return;
	if (c->rlen) {
		(void)proto_hs_input(c->hs, c->rbuf, c->rlen);
		c->rlen = 0;
	}
	if (proto_hs_need_key(c->hs))
		conn_take_key(ctl, c);
	want = proto_hs_want(c->hs);
	if (want & PROTO_HS_FAILED) {
		conn_drop(ctl, c);
		return;
	}
	if ((want & PROTO_HS_WANT_WRITE) && c->slen == 0) {
		out = proto_hs_output(c->hs, &len);
		if (len > sizeof(c->sbuf))
			len = sizeof(c->sbuf);
		memcpy(c->sbuf, out, len);
		proto_hs_output_done(c->hs, len);
		c->slen = len;
		c->soff = 0;
		want = proto_hs_want(c->hs);
	}
	if (c->slen > c->soff && !c->send_busy) {
		sqe = rp_uring_sqe(&ctl->ring);
		io_uring_prep_send(sqe, c->hsfd, c->sbuf + c->soff,
		    c->slen - c->soff, MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, ud(c, TAG_HSSEND));
		c->send_busy = 1;
		c->inflight++;
	}
	if ((want & PROTO_HS_WANT_READ) && !c->recv_busy &&
	    (hint = proto_hs_read_hint(c->hs)) > 0) {
		if (hint > sizeof(c->rbuf))
			hint = sizeof(c->rbuf);
		sqe = rp_uring_sqe(&ctl->ring);
		io_uring_prep_recv(sqe, c->hsfd, c->rbuf, hint, 0);
		io_uring_sqe_set_data64(sqe, ud(c, TAG_HSRECV));
		c->recv_busy = 1;
		c->inflight++;
	}
	if (want & PROTO_HS_WANT_COMPUTE) {
		c->computing = 1;
		c->inflight++;
		rp_hspool_submit(ctl->pool, &c->job);
		return;
	}
	if ((want & PROTO_HS_DONE) && c->slen == 0 && c->connected)
		conn_handoff(ctl, c);
}

static void
conn_cqe(struct rp_ctl * ctl, struct ctl_conn * c, int tag, int res)
{

	c->inflight--;
	if (c->dead) {
		conn_reap(ctl, c);
		return;
	}
	switch (tag) {
	case TAG_CONNECT:
		if (res < 0) {
			conn_drop(ctl, c);
			return;
		}
		c->connected = 1;
		rp_sock_tune(c->tfd, ctl->cfg->nokeepalive);
		if (!ctl->cfg->decrypt) {
			c->hsfd = c->tfd;
			conn_start_hs(ctl, c);
		} else {
			conn_step(ctl, c);
		}
		return;
	case TAG_HSRECV:
		c->recv_busy = 0;
		if (res <= 0) {
			conn_drop(ctl, c);
			return;
		}
		c->rlen = (size_t)res;
		break;
	case TAG_HSSEND:
		c->send_busy = 0;
		if (res < 0) {
			conn_drop(ctl, c);
			return;
		}
		c->soff += (size_t)res;
		if (c->soff == c->slen)
			c->slen = c->soff = 0;
		break;
	}
	conn_step(ctl, c);
}

static void
ctl_arm_wake(struct rp_ctl * ctl)
{
	struct io_uring_sqe * sqe = rp_uring_sqe(&ctl->ring);

	io_uring_prep_read(sqe, ctl->wakefd, &ctl->wakebuf,
	    sizeof(ctl->wakebuf), 0);
	io_uring_sqe_set_data64(sqe, TAG_WAKE);
}

static void
ctl_arm_signal(struct rp_ctl * ctl)
{
	struct io_uring_sqe * sqe = rp_uring_sqe(&ctl->ring);

	io_uring_prep_read(sqe, ctl->sigfd, &ctl->sibuf, sizeof(ctl->sibuf),
	    0);
	io_uring_sqe_set_data64(sqe, TAG_SIGNAL);
}

static void
ctl_arm_tick(struct rp_ctl * ctl)
{
	struct io_uring_sqe * sqe = rp_uring_sqe(&ctl->ring);

	ctl->tick.tv_sec = 0;
	ctl->tick.tv_nsec = CTL_TICK_NS;
	io_uring_prep_timeout(sqe, &ctl->tick, 0, 0);
	io_uring_sqe_set_data64(sqe, TAG_TICK);
}

/* Compute jobs came back, or pairs closed. */
static void
ctl_wake(struct rp_ctl * ctl)
{
	struct rp_hsjob * job, * next;
	struct ctl_conn * c;

	for (job = rp_hspool_collect(ctl->pool); job != NULL; job = next) {
		next = job->next;
		c = (struct ctl_conn *)((char *)job -
		    offsetof(struct ctl_conn, job));
		c->computing = 0;
		c->inflight--;
		if (c->dead)
			conn_reap(ctl, c);
		else
			conn_step(ctl, c);
	}
	if (atomic_load(&ctl->nclosed) != ctl->nclosed_seen) {
		ctl->nclosed_seen = atomic_load(&ctl->nclosed);
		ctl->fds_freed = 1;
	}
	ctl_unpark(ctl);
	ctl_arm_accept(ctl);
	ctl_arm_wake(ctl);
}

/* Try again to connect ${c}, which ran out of descriptors before. */
static void
conn_retry_connect(struct rp_ctl * ctl, struct ctl_conn * c)
{

	if (conn_connect(ctl, c) == 0) {
		c->need_connect = 0;
		ctl->nneed--;
	} else if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
	    errno != ENOMEM) {
		conn_drop(ctl, c);
	}
}

/*
 * Descriptors were freed (a connection closed): end an accept back-off at
 * once and retry the connections waiting for a descriptor.  Each retry is
 * paid for by a close, so this cannot spin.
 */
static void
ctl_retry_freed(struct rp_ctl * ctl)
{
	struct ctl_conn * c, * next;

	ctl->fds_freed = 0;
	ctl->accept_pause = 0;
	for (c = ctl->conns; c != NULL && ctl->nneed > 0; c = next) {
		next = c->next;
		if (!c->dead && c->need_connect)
			conn_retry_connect(ctl, c);
	}
	ctl_unpark(ctl);
	ctl_arm_accept(ctl);
}

static void
ctl_tick(struct rp_ctl * ctl)
{
	struct ctl_conn * c, * next;
	double t = now();

	for (c = ctl->conns; c != NULL; c = next) {
		next = c->next;
		if (c->dead)
			continue;
		if (t > c->deadline)
			conn_drop(ctl, c);
		else if (c->need_connect)
			conn_retry_connect(ctl, c);
	}
	ctl_unpark(ctl);
	ctl_arm_accept(ctl);
	ctl_arm_tick(ctl);
}

static void
ctl_accept_cqe(struct rp_ctl * ctl, const struct io_uring_cqe * cqe)
{
	double t;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		ctl->accepting = 0;
	if (cqe->res >= 0) {
		if (ctl->draining) {
			close(cqe->res);
			return;
		}
		if (ctl->cfg->maxconn && ctl_total(ctl) >=
		    ctl->cfg->maxconn) {
			/* Over -n: a burst of the multishot accept. */
			if (ctl_park(ctl, cqe->res))
				close(cqe->res);
		} else {
			ctl_accepted(ctl, cqe->res);
		}
		if (ctl->cfg->maxconn && ctl_total(ctl) >= ctl->cfg->maxconn) {
			if (!ctl->warned_max) {
				rp_warn("Maximum number of connections "
				    "(%zu) reached", ctl->cfg->maxconn);
				ctl->warned_max = 1;
			}
			ctl_cancel_accept(ctl);
		}
	} else if (cqe->res == -EMFILE || cqe->res == -ENFILE ||
	    cqe->res == -ENOBUFS || cqe->res == -ENOMEM) {
		/* Out of descriptors or memory: back off, never spin. */
		t = now();
		if (t - ctl->last_warn_accept > 10) {
			errno = -cqe->res;
			rp_warnp("accept");
			ctl->last_warn_accept = t;
		}
		ctl->accept_pause = t + 0.25;
		if (ctl->accepting)
			ctl_cancel_accept(ctl);
	} else if (cqe->res != -ECANCELED && cqe->res != -EINTR &&
	    cqe->res != -ECONNABORTED && cqe->res != -EAGAIN) {
		errno = -cqe->res;
		rp_warnp("accept");
		ctl->accept_pause = now() + 0.25;
	}
	ctl_arm_accept(ctl);
}

static void
ctl_sigterm(struct rp_ctl * ctl)
{

	ctl->draining = 1;
	ctl_cancel_accept(ctl);
	while (ctl->nparked > 0) {
		close(ctl->parked[ctl->parked_head]);
		ctl->parked_head = (ctl->parked_head + 1) % ctl->parked_cap;
		ctl->nparked--;
	}
	if (ctl->lfd != -1) {
		close(ctl->lfd);
		ctl->lfd = -1;
	}
}

/* Re-resolve the target every -r seconds until ctl->rstop is set. */
static void *
ctl_resolver(void * arg)
{
	struct rp_ctl * ctl = arg;
	struct rp_addr a[CTL_MAXADDR];
	struct timespec ts;
	double t;
	int n;

	pthread_mutex_lock(&ctl->amtx);
	while (!ctl->rstop) {
		t = now() + ctl->cfg->rtime;
		ts.tv_sec = (time_t)t;
		ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
		while (!ctl->rstop && pthread_cond_timedwait(&ctl->rcv,
		    &ctl->amtx, &ts) != ETIMEDOUT)
			;
		if (ctl->rstop)
			break;
		pthread_mutex_unlock(&ctl->amtx);
		n = rp_addr_resolve(ctl->cfg->target, a, CTL_MAXADDR);
		pthread_mutex_lock(&ctl->amtx);
		if (n > 0) {
			memcpy(ctl->taddr, a, (size_t)n * sizeof(a[0]));
			ctl->ntaddr = n;
		}
	}
	pthread_mutex_unlock(&ctl->amtx);
	return (NULL);
}

static void
ctl_cqe(struct rp_ctl * ctl, const struct io_uring_cqe * cqe)
{
	uint64_t u = cqe->user_data;
	void * ptr = (void *)(uintptr_t)(u & ~(uint64_t)TAG_MASK);
	int tag = (int)(u & TAG_MASK);

	switch (tag) {
	case TAG_ACCEPT:
		ctl_accept_cqe(ctl, cqe);
		break;
	case TAG_CONNECT:
	case TAG_HSRECV:
	case TAG_HSSEND:
		conn_cqe(ctl, ptr, tag, cqe->res);
		break;
	case TAG_WAKE:
		ctl_wake(ctl);
		break;
	case TAG_SIGNAL:
		if (cqe->res > 0 && ctl->sibuf.ssi_signo == SIGTERM)
			ctl_sigterm(ctl);
		ctl_arm_signal(ctl);
		break;
	case TAG_TICK:
		ctl_tick(ctl);
		break;
	default:
		break;
	}
}

/**
 * rp_ctl_new(cfg):
 * Create the control state for ${cfg} (which must outlive it; its workers
 * may be filled in later, before rp_ctl_run).  Return NULL on failure.
 */
struct rp_ctl *
rp_ctl_new(const struct rp_ctl_cfg * cfg)
{
	struct rp_ctl * ctl;
	pthread_condattr_t cattr;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return (NULL);
	ctl->cfg = cfg;
	ctl->lfd = -1;
	ctl->wakefd = -1;
	pthread_mutex_init(&ctl->amtx, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&ctl->rcv, &cattr);
	pthread_condattr_destroy(&cattr);
	if ((ctl->wakefd = eventfd(0, EFD_CLOEXEC)) == -1) {
		rp_warnp("eventfd");
		pthread_cond_destroy(&ctl->rcv);
		pthread_mutex_destroy(&ctl->amtx);
		free(ctl);
		return (NULL);
	}
	return (ctl);
}

/**
 * rp_ctl_free(ctl):
 * Free ${ctl} once rp_ctl_run has returned (or was never called).
 */
void
rp_ctl_free(struct rp_ctl * ctl)
{

	if (ctl == NULL)
		return;
	close(ctl->wakefd);
	pthread_cond_destroy(&ctl->rcv);
	pthread_mutex_destroy(&ctl->amtx);
	free(ctl);
}

/**
 * rp_ctl_run(ctl, lfd, taddrs, ntaddrs):
 * Serve the listening socket ${lfd} towards the already resolved target
 * addresses ${taddrs}[0..${ntaddrs}) according to ${ctl}'s configuration,
 * until SIGTERM (which must be blocked in every thread) has been received
 * and every connection has finished.  Return 0 then, or -1 on a fatal
 * error.
 */
int
rp_ctl_run(struct rp_ctl * ctl, int lfd, const struct rp_addr * taddrs,
    int ntaddrs)
{
	const struct rp_ctl_cfg * cfg = ctl->cfg;
	struct io_uring_cqe * cqe;
	sigset_t ss;
	unsigned head, n;
	int rc = -1;

	ctl->lfd = lfd;
	ctl->ntaddr = ntaddrs < CTL_MAXADDR ? ntaddrs : CTL_MAXADDR;
	memcpy(ctl->taddr, taddrs, (size_t)ctl->ntaddr * sizeof(taddrs[0]));
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	if ((ctl->sigfd = signalfd(-1, &ss, SFD_CLOEXEC)) == -1) {
		rp_warnp("signalfd");
		goto err2;
	}
	if (rp_uring_init(&ctl->ring, CTL_SQES, 1))
		goto err3;
	if ((ctl->pool = rp_hspool_start(cfg->nhsthreads, ctl->wakefd,
	    !cfg->nopfs)) == NULL) {
		rp_warnp("Cannot start handshake threads");
		goto err4;
	}
	if (cfg->rtime > 0 &&
	    pthread_create(&ctl->resolver, NULL, ctl_resolver, ctl) == 0)
		ctl->have_resolver = 1;

	ctl_arm_wake(ctl);
	ctl_arm_signal(ctl);
	ctl_arm_tick(ctl);
	ctl_arm_accept(ctl);
	while (!(ctl->draining && ctl->conns == NULL &&
	    atomic_load(&ctl->npairs) == 0)) {
		io_uring_submit_and_wait(&ctl->ring, 1);
		n = 0;
		io_uring_for_each_cqe(&ctl->ring, head, cqe) {
			ctl_cqe(ctl, cqe);
			n++;
		}
		io_uring_cq_advance(&ctl->ring, n);
		if (ctl->fds_freed)
			ctl_retry_freed(ctl);
	}
	rc = 0;

	rp_hspool_stop(ctl->pool);
err4:
	io_uring_queue_exit(&ctl->ring);
err3:
	close(ctl->sigfd);
err2:
	if (ctl->lfd != -1)
		close(ctl->lfd);
	free(ctl->parked);
	ctl->parked = NULL;
	if (ctl->have_resolver) {
		pthread_mutex_lock(&ctl->amtx);
		ctl->rstop = 1;
		pthread_cond_signal(&ctl->rcv);
		pthread_mutex_unlock(&ctl->amtx);
		pthread_join(ctl->resolver, NULL);
	}
	return (rc);
}
