/*
 * ringpiped: a spiped-compatible secure pipe daemon on io_uring.
 * Same flags, defaults and wire protocol as spiped 1.6.2, plus -w and -Z.
 */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_dh.h"
#include "crypto_secret.h"
#include "rp_addr.h"
#include "rp_ctl.h"
#include "rp_daemon.h"
#include "rp_engine.h"
#include "rp_log.h"
#include "rp_opts.h"
#include "rp_sock.h"
#include "rp_uring.h"
#include "rp_worker.h"

#define RINGPIPED_VERSION "0.1.0"
#define MAXADDR 16

static void
usage(void)
{

	fprintf(stderr,
	    "usage: ringpiped {-e | -d} -s <source socket> "
	    "-t <target socket> -k <key file>\n"
	    "    [-b <bind address>] [-DFj] [-f | -g] "
	    "[-n <max # connections>]\n"
	    "    [-o <connection timeout>] [-p <pidfile>] [-r <rtime> | -R] "
	    "[--syslog]\n"
	    "    [-u {<username> | <:groupname> | <username:groupname>}]\n"
	    "    [-w <worker threads>] [-Z]\n"
	    "       ringpiped -v\n");
	exit(1);
}

/* Say what is wrong with the command line, then show the usage. */
static void
usage_err(const char * msg, int opt)
{

	if (opt)
		rp_warn("%s: -%c", msg, opt);
	else
		rp_warn("%s", msg);
	usage();
}

#define TWICE(o) usage_err("option given more than once", o)
#define ONCE(flag) do { if (flag) TWICE(ch); flag = 1; } while (0)
#define ONCEP(p) do { if (p) TWICE(ch); p = optarg; } while (0)
#define OPTERR(o, a) do {						\
	rp_warn("Error parsing argument: -%c %s", o, a);		\
	exit(1);							\
} while (0)

/* Resolve ${s}, retrying every second if ${wait} (-D). */
static int
resolve(const char * s, struct rp_addr * a, int max, int wait)
{
	int n;

	while ((n = rp_addr_resolve(s, a, max)) < 0 && wait)
		sleep(1);
	return (n);
}

int
main(int argc, char * argv[])
{
	static const struct option longopts[] = {
		{ "syslog", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	int opt_d = 0, opt_e = 0, opt_D = 0, opt_F = 0, opt_f = 0, opt_g = 0;
	int opt_j = 0, opt_R = 0, opt_syslog = 0, opt_Z = 0;
	int set_n = 0, set_o = 0, set_r = 0, set_w = 0;
	const char * opt_b = NULL, * opt_k = NULL, * opt_p = NULL;
	const char * opt_s = NULL, * opt_t = NULL, * opt_u = NULL;
	size_t opt_n = 100, opt_w = 0;
	double opt_o = 5.0, opt_r = 60.0;
	struct rp_addr sa_s, sa_b, sas_t[MAXADDR];
	struct rp_worker_cfg wcfg;
	struct rp_ctl_cfg ccfg;
	struct rp_worker ** workers;
	struct rp_ctl * ctl;
	enum rp_engine engine;
	uint8_t K[32];
	char * pidfile;
	sigset_t ss;
	int ch, nt, lfd, i, nw;

	rp_log_init("ringpiped");
	while ((ch = getopt_long(argc, argv, "b:dDefFgjk:n:o:p:r:Rs:t:u:vw:Z",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'b': ONCEP(opt_b); break;
		case 'd':
		case 'e':
			if ((ch == 'd' && opt_d) || (ch == 'e' && opt_e))
				TWICE(ch);
			if (opt_d || opt_e)
				usage_err("-e and -d are mutually exclusive",
				    0);
			*(ch == 'd' ? &opt_d : &opt_e) = 1;
			break;
		case 'D': ONCE(opt_D); break;
		case 'f': ONCE(opt_f); break;
		case 'F': ONCE(opt_F); break;
		case 'g': ONCE(opt_g); break;
		case 'j': ONCE(opt_j); break;
		case 'R': ONCE(opt_R); break;
		case 'S': ONCE(opt_syslog); break;
		case 'Z': ONCE(opt_Z); break;
		case 'k': ONCEP(opt_k); break;
		case 'p': ONCEP(opt_p); break;
		case 's': ONCEP(opt_s); break;
		case 't': ONCEP(opt_t); break;
		case 'u': ONCEP(opt_u); break;
		case 'n':
			ONCE(set_n);
			if (rp_opts_size(optarg, &opt_n))
				OPTERR(ch, optarg);
			break;
		case 'o':
			ONCE(set_o);
			if (rp_opts_double(optarg, 0, &opt_o))
				OPTERR(ch, optarg);
			break;
		case 'r':
			ONCE(set_r);
			if (rp_opts_double(optarg, 0, &opt_r))
				OPTERR(ch, optarg);
			break;
		case 'w':
			ONCE(set_w);
			if (rp_opts_size(optarg, &opt_w) || opt_w == 0 ||
			    opt_w > 256)
				OPTERR(ch, optarg);
			break;
		case 'v':
			fprintf(stderr, "ringpiped " RINGPIPED_VERSION
			    " (spiped 1.6.2 protocol)\n");
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage_err("unexpected argument", 0);
	if (opt_o == 0.0)
		opt_o = 5.0;
	if (opt_r == 0.0)
		opt_r = 60.0;
	if (!opt_d && !opt_e)
		usage_err("one of -e and -d is required", 0);
	if (opt_f && opt_g)
		usage_err("-f and -g are mutually exclusive", 0);
	if (opt_k == NULL)
		usage_err("a key file is required", 'k');
	if (set_r && opt_R)
		usage_err("-r and -R are mutually exclusive", 0);
	if (opt_s == NULL)
		usage_err("a source address is required", 's');
	if (rp_addr_validate(opt_s)) {
		rp_warn("Invalid source address: %s", opt_s);
		usage();
	}
	if (opt_t == NULL)
		usage_err("a target address is required", 't');
	if (rp_addr_validate(opt_t)) {
		rp_warn("Invalid target address: %s", opt_t);
		usage();
	}
	if (opt_b && rp_addr_validate(opt_b)) {
		rp_warn("Invalid bind address: %s", opt_b);
		usage();
	}
	if (asprintf(&pidfile, "%s%s", opt_p ? opt_p : opt_s,
	    opt_p ? "" : ".pid") == -1)
		exit(1);
	if (!set_w) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		opt_w = (n > 0) ? (size_t)n : 1;
	}

	/* Fail early and clearly if io_uring cannot be used here. */
	if (rp_engine_resolve(RP_ENGINE_AUTO, &engine))
		exit(1);

	if (opt_D && !opt_F) {
		if (rp_daemonize(pidfile))
			exit(1);
		if (opt_syslog)
			rp_log_syslog();
	}
	if (resolve(opt_s, &sa_s, 1, opt_D) < 0) {
		rp_warn("Error resolving socket address: %s", opt_s);
		exit(1);
	}
	if ((nt = resolve(opt_t, sas_t, MAXADDR, opt_D)) < 0) {
		rp_warn("Error resolving socket address: %s", opt_t);
		exit(1);
	}
	if (opt_b && resolve(opt_b, &sa_b, 1, opt_D) < 0) {
		rp_warn("Error resolving socket address: %s", opt_b);
		exit(1);
	}
	if (crypto_secret_load(opt_k, K)) {
		rp_warnp("Error reading shared secret from %s", opt_k);
		exit(1);
	}
	if ((lfd = rp_sock_listen(&sa_s)) == -1)
		exit(1);
	if (!opt_D && !opt_F) {
		if (rp_daemonize(pidfile))
			exit(1);
		if (opt_syslog)
			rp_log_syslog();
	}

	/* SIGTERM is read through a signalfd; block it in every thread. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (crypto_dh_init()) {
		rp_warn("Cannot set up Diffie-Hellman");
		exit(1);
	}

	/* Workers register their buffers before privileges are dropped. */
	memset(&wcfg, 0, sizeof(wcfg));
	wcfg.engine = engine;
	wcfg.sendmode = opt_Z ? RP_SEND_ZC : RP_SEND_PLAIN;
	wcfg.closed = rp_ctl_pair_closed;
	wcfg.backend = CRYPTO_BACKEND_AUTO;
	if (getenv("RINGPIPED_CRYPTO") &&
	    strcmp(getenv("RINGPIPED_CRYPTO"), "openssl") == 0)
		wcfg.backend = CRYPTO_BACKEND_OPENSSL;
	memset(&ccfg, 0, sizeof(ccfg));
	if ((ctl = rp_ctl_new(&ccfg)) == NULL)
		exit(1);
	wcfg.cookie = ctl;
	nw = (int)opt_w;
	if ((workers = calloc((size_t)nw, sizeof(*workers))) == NULL)
		exit(1);
	for (i = 0; i < nw; i++)
		if ((workers[i] = rp_worker_start(i, &wcfg)) == NULL)
			exit(1);
	if (opt_u && rp_setuidgid(opt_u)) {
		rp_warn("Failed to drop privileges");
		exit(1);
	}

	ccfg.decrypt = opt_d;
	ccfg.target = opt_t;
	ccfg.bind = opt_b ? &sa_b : NULL;
	ccfg.nopfs = opt_f;
	ccfg.requirepfs = opt_g;
	ccfg.nokeepalive = opt_j;
	ccfg.maxconn = opt_n;
	ccfg.timeout = opt_o;
	ccfg.rtime = opt_R ? 0 : opt_r;
	ccfg.K = K;
	ccfg.workers = workers;
	ccfg.nworkers = nw;
	ccfg.nhsthreads = nw;
	if (rp_ctl_run(ctl, lfd, sas_t, nt))
		exit(1);
	for (i = 0; i < nw; i++)
		rp_worker_stop(workers[i]);
	free(workers);
	rp_ctl_free(ctl);
	free(pidfile);
	memset(K, 0, sizeof(K));
	return (0);
}
