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
#include "proto_handshake.h"
#include "rp_addr.h"
#include "rp_engine.h"
#include "rp_hsio.h"
#include "rp_log.h"
#include "rp_opts.h"
#include "rp_pair.h"
#include "rp_sock.h"
#include "rp_uring.h"
#include "rp_worker.h"

#define MAXADDR 16

static pthread_mutex_t done_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int done_flag, done_failed;

static void
usage(void)
{

	fprintf(stderr,
	    "usage: ringpipe -t <target socket> -k <key file> "
	    "[-b <bind address>] [-fgj]\n"
	    "    [-o <connection timeout>]\n"
	    "       ringpipe -v\n");
	exit(1);
}

/* Worker callback: the one pair has closed. */
static void
pipe_closed(void * cookie, int failed)
{

	(void)cookie;
	pthread_mutex_lock(&done_mtx);
	done_flag = 1;
	done_failed = failed;
	pthread_cond_signal(&done_cv);
	pthread_mutex_unlock(&done_mtx);
}

int
main(int argc, char * argv[])
{
	int opt_f = 0, opt_g = 0, opt_j = 0, set_o = 0;
	const char * opt_b = NULL, * opt_k = NULL, * opt_t = NULL;
	double opt_o = 5.0;
	struct rp_addr sa_t[MAXADDR], sa_b;
	struct rp_worker_cfg wcfg;
	struct rp_worker * w;
	struct proto_hs * hs;
	struct proto_keys k;
	struct rp_pair * p;
	uint8_t K[32];
	enum rp_engine engine;
	int ch, fd, nt;

	rp_log_init("ringpipe");
	while ((ch = getopt(argc, argv, "b:fgjk:o:t:v")) != -1) {
		switch (ch) {
		case 'b': if (opt_b) usage(); opt_b = optarg; break;
		case 'f': if (opt_f) usage(); opt_f = 1; break;
		case 'g': if (opt_g) usage(); opt_g = 1; break;
		case 'j': if (opt_j) usage(); opt_j = 1; break;
		case 'k': if (opt_k) usage(); opt_k = optarg; break;
		case 't': if (opt_t) usage(); opt_t = optarg; break;
		case 'o':
			if (set_o) usage();
			set_o = 1;
			if (rp_opts_double(optarg, 0, &opt_o)) {
				rp_warn("Error parsing argument: -o %s",
				    optarg);
				exit(1);
			}
			break;
		case 'v':
			fprintf(stderr, "ringpipe 0.1.0 (spiped 1.6.2 "
			    "protocol)\n");
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc || opt_k == NULL || opt_t == NULL)
		usage();
	if ((opt_f && opt_g) || !(opt_o > 0.0))
		usage();
	if (opt_o == 0.0)
		opt_o = 5.0;
	if (rp_addr_validate(opt_t) || (opt_b && rp_addr_validate(opt_b))) {
		rp_warn("Invalid socket address");
		usage();
	}
	if (rp_engine_resolve(RP_ENGINE_AUTO, &engine))
		exit(1);
	if ((nt = rp_addr_resolve(opt_t, sa_t, MAXADDR)) < 0)
		exit(1);
	if (opt_b && rp_addr_resolve(opt_b, &sa_b, 1) < 0)
		exit(1);
	if (crypto_secret_load(opt_k, K)) {
		rp_warn("Error reading shared secret");
		exit(1);
	}
	signal(SIGPIPE, SIG_IGN);

	/* Connect and handshake (blocking: there is one connection). */
	if ((fd = rp_sock_new(&sa_t[0], opt_b ? &sa_b : NULL)) == -1) {
		rp_warnp("socket");
		exit(1);
	}
	if (rp_hsio_connect(fd, &sa_t[0].ss, sa_t[0].len, opt_o)) {
		rp_warnp("Could not connect to %s", opt_t);
		exit(1);
	}
	rp_sock_tune(fd, opt_j);
	if ((hs = proto_hs_new(PROTO_CLIENT, K, opt_f, opt_g)) == NULL)
		exit(1);
	if (rp_hsio_run(fd, hs, opt_o) || proto_hs_keys(hs, &k)) {
		rp_warn("Handshake with %s failed%s%s", opt_t,
		    proto_hs_error(hs) ? ": " : "",
		    proto_hs_error(hs) ? proto_hs_error(hs) : "");
		exit(1);
	}
	proto_hs_free(hs);
	memset(K, 0, sizeof(K));

	/* Then the data plane: one worker carrying one pair. */
	memset(&wcfg, 0, sizeof(wcfg));
	wcfg.engine = engine;
	wcfg.sendmode = RP_SEND_PLAIN;
	wcfg.backend = CRYPTO_BACKEND_AUTO;
	wcfg.closed = pipe_closed;
	if ((w = rp_worker_start(0, &wcfg)) == NULL)
		exit(1);
	p = rp_pair_new(0, 1, fd, k.send_enc, k.send_mac, k.recv_enc,
	    k.recv_mac);
	memset(&k, 0, sizeof(k));
	if (p == NULL || rp_worker_post(w, p)) {
		rp_warnp("Cannot start the pipe");
		exit(1);
	}
	pthread_mutex_lock(&done_mtx);
	while (!done_flag)
		pthread_cond_wait(&done_cv, &done_mtx);
	pthread_mutex_unlock(&done_mtx);
	rp_worker_stop(w);
	return (done_failed ? 1 : 0);
}
