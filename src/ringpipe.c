/*
 * ringpipe: a spipe-compatible client.  Connects to a spiped/ringpiped -d
 * server, pipes standard input through the encrypted connection and writes
 * what comes back to standard output.  Same flags as spipe 1.6.2.
 */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_secret.h"
#include "crypto_wipe.h"
#include "proto_handshake.h"
#include "rp_addr.h"
#include "rp_engine.h"
#include "rp_env.h"
#include "rp_hsio.h"
#include "rp_keys.h"
#include "rp_log.h"
#include "rp_opts.h"
#include "rp_pair.h"
#include "rp_sock.h"
#include "rp_worker.h"

#define RINGPIPE_VERSION "0.1.0"

static pthread_mutex_t done_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int done_flag, done_failed;

/* The command line, parsed. */
struct pipe_opts {
	int nopfs, requirepfs, nokeepalive;	/* -f, -g, -j */
	const char * bind;			/* -b */
	const char * keyfile;			/* The first -k */
	const char * target;			/* -t */
	double timeout;				/* -o */
	enum rp_engine engine;			/* --engine */
};

static void
usage(void)
{

	fprintf(stderr,
	    "usage: ringpipe -t <target socket> -k <key file> "
	    "[-k <key file> ...]\n"
	    "    [-b <bind address>] [-fgj]"
	    " [-o <connection timeout>] [--engine auto|io_uring|epoll]\n"
	    "       ringpipe -v\n");
}

/* Worker callback: the one pair has closed. */
static void
pipe_closed(void * cookie, int end, int timedout)
{

	(void)cookie;
	(void)timedout;
	pthread_mutex_lock(&done_mtx);
	done_flag = 1;
	done_failed = (end != PROTO_PIPE_END_EOF);
	pthread_cond_signal(&done_cv);
	pthread_mutex_unlock(&done_mtx);
}

/*
 * Parse ${argv} into ${o}.  Return 0 to go on, 1 if the program is done
 * (-v), -1 on a bad command line (after saying what is wrong).
 */
static int
pipe_parse(int argc, char * argv[], struct pipe_opts * o)
{
	static const struct option longopts[] = {
		{ "engine", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, set_o = 0, set_E = 0;

	memset(o, 0, sizeof(*o));
	o->timeout = 5.0;
	o->engine = RP_ENGINE_AUTO;
	while ((ch = getopt_long(argc, argv, "b:fgjk:o:t:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b': if (o->bind) goto twice; o->bind = optarg; break;
		case 'f': if (o->nopfs) goto twice; o->nopfs = 1; break;
		case 'g': if (o->requirepfs) goto twice; o->requirepfs = 1;
			break;
		case 'j': if (o->nokeepalive) goto twice; o->nokeepalive = 1;
			break;
		case 'k':
			/* Key rotation: -k may be repeated; a client uses
			 * the first key (the others are not read). */
			if (o->keyfile == NULL)
				o->keyfile = optarg;
			break;
		case 't': if (o->target) goto twice; o->target = optarg;
			break;
		case 'o':
			if (set_o++)
				goto twice;
			if (rp_opts_double(optarg, 0, &o->timeout) ||
			    !(o->timeout > 0.0)) {
				rp_warn("Error parsing argument: -o %s",
				    optarg);
				return (-1);
			}
			break;
		case 'E':
			if (set_E++)
				goto twice;
			if (rp_engine_parse(optarg, &o->engine)) {
				rp_warn("Error parsing argument: --engine %s",
				    optarg);
				return (-1);
			}
			break;
		case 'v':
			fprintf(stderr, "ringpipe " RINGPIPE_VERSION
			    " (spiped 1.6.2 protocol)\n");
			return (1);
		default:
			goto bad;
		}
	}
	if (optind != argc || o->keyfile == NULL || o->target == NULL)
		goto bad;
	if (o->nopfs && o->requirepfs)
		goto bad;
	if (rp_addr_validate(o->target) ||
	    (o->bind && rp_addr_validate_bind(o->bind))) {
		rp_warn("Invalid socket address");
		goto bad;
	}
	return (0);

twice:
	rp_warn("option given more than once: -%c", ch);
bad:
	usage();
	return (-1);
}

/* Connect to the target and run the handshake; return the socket and the
 * session keys in *${k}, or -1. */
static int
pipe_connect(const struct pipe_opts * o, const uint8_t K[32],
    struct proto_keys * k)
{
	struct rp_addr sa_t[RP_ADDR_MAX], sa_b;
	struct proto_hs * hs;
	int fd, nt;

	if ((nt = rp_addr_resolve(o->target, sa_t, RP_ADDR_MAX)) < 1) {
		rp_warn("Error resolving socket address: %s", o->target);
		goto err0;
	}
	if (o->bind && rp_addr_resolve_bind(o->bind, &sa_b)) {
		rp_warn("Error resolving socket address: %s", o->bind);
		goto err0;
	}

	/* Every address of the target in turn, staggered (rp_dial). */
	if ((fd = rp_hsio_dial(sa_t, nt, o->bind ? &sa_b : NULL,
	    o->nokeepalive ? RP_SOCK_KA_OFF : RP_SOCK_KA_KERNEL,
	    o->timeout)) == -1) {
		rp_warnp("Could not connect to %s", o->target);
		goto err0;
	}
	if ((hs = proto_hs_new(PROTO_CLIENT, K, o->nopfs,
	    o->requirepfs)) == NULL)
		goto err1;
	if (rp_hsio_run(fd, hs, o->timeout) || proto_hs_keys(hs, k)) {
		rp_warn("Handshake with %s failed%s%s", o->target,
		    proto_hs_error(hs) ? ": " : "",
		    proto_hs_error(hs) ? proto_hs_error(hs) : "");
		goto err2;
	}
	proto_hs_free(hs);
	return (fd);

err2:
	proto_hs_free(hs);
err1:
	close(fd);
err0:
	return (-1);
}

/* Carry standard input and output over ${fd} with the keys ${k} on one
 * worker of ${engine} (or epoll, if ${fallback} and its io_uring cannot
 * be set up) until the pair closes; return the exit status. */
static int
pipe_run(enum rp_engine engine, int fallback, int fd, struct proto_keys * k)
{
	struct rp_worker_cfg wcfg;
	struct rp_worker * w;
	struct rp_pair * p;

	memset(&wcfg, 0, sizeof(wcfg));
	wcfg.engine = engine;
	wcfg.sendmode = RP_SEND_PLAIN;
	wcfg.backend = CRYPTO_BACKEND_AUTO;	/* RINGPIPED_CRYPTO: the default. */
	wcfg.closed = pipe_closed;
	if (rp_worker_start_all(&w, 1, &wcfg, fallback) < 1)
		goto err0;
	if ((p = rp_pair_new(STDIN_FILENO, STDOUT_FILENO, fd, k->send_enc,
	    k->send_mac, k->recv_enc, k->recv_mac)) == NULL)
		goto err1;
	if (rp_worker_post(w, p))
		goto err2;
	pthread_mutex_lock(&done_mtx);
	while (!done_flag)
		pthread_cond_wait(&done_cv, &done_mtx);
	pthread_mutex_unlock(&done_mtx);
	rp_worker_stop(w);
	return (done_failed ? 1 : 0);

err2:
	rp_pair_discard(p);
err1:
	rp_worker_stop(w);
err0:
	rp_warnp("Cannot start the pipe");
	close(fd);
	return (1);
}

int
main(int argc, char * argv[])
{
	struct pipe_opts o;
	struct proto_keys k;
	enum rp_engine engine;
	enum crypto_backend backend;
	uint8_t K[32];
	int fd, rc;

	rp_log_init("ringpipe");
	if ((rc = pipe_parse(argc, argv, &o)) != 0)
		return (rc > 0 ? 0 : 1);

	/* The environment is read here, once, not by any library. */
	if (rp_env_apply(&o.engine, o.engine != RP_ENGINE_AUTO, &backend))
		return (1);
	if (rp_engine_resolve(o.engine, &engine))
		return (1);
	if (rp_keys_secret(o.keyfile, K))
		return (1);
	signal(SIGPIPE, SIG_IGN);
	fd = pipe_connect(&o, K, &k);
	crypto_wipe(K, sizeof(K));
	if (fd == -1)
		return (1);
	rc = pipe_run(engine, o.engine == RP_ENGINE_AUTO, fd, &k);
	crypto_wipe(&k, sizeof(k));
	return (rc);
}
