/*
 * ringpiped: a spiped-compatible secure pipe daemon.
 * Same flags, defaults and wire protocol as spiped 1.6.2, plus -w, -Z and
 * long options of its own (--engine, --keepalive, ...).  main() parses the
 * command line into a struct rpd_opts, then rpd_serve() sets everything
 * up, serves until SIGTERM and unwinds.
 */

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_dh.h"
#include "rp_addr.h"
#include "rp_ctl.h"
#include "rp_daemon.h"
#include "rp_engine.h"
#include "rp_fatal.h"
#include "rp_keys.h"
#include "rp_log.h"
#include "rp_metrics.h"
#include "rp_opts.h"
#include "rp_sandbox.h"
#include "rp_sd.h"
#include "rp_sock.h"
#include "rp_worker.h"

#define RINGPIPED_VERSION "0.1.0"

/* spiped's defaults: -n, -o and -r (also what -o 0 and -r 0 mean). */
#define RPD_MAXCONN	100
#define RPD_TIMEOUT	5.0
#define RPD_RTIME	60.0

/* The most worker threads -w takes. */
#define RPD_MAXWORKERS	256

/* Seconds between look-ups while -D waits for DNS. */
#define RPD_DNS_RETRY	1

/* --buffer-memory bounds (KiB per worker). */
#define RPD_MINBUFMEM	256
#define RPD_MAXBUFMEM	(1024 * 1024)

/* The longest --coalesce: a part packet waits at most this many ms. */
#define RPD_MAXCOALESCE	10000

/* The longest --drain-delay, in seconds: a balancer's health checks come
 * every few seconds; a daemon must still stop within minutes. */
#define RPD_MAXDRAINDELAY	600

/* Long options have no short form: their getopt values lie past a char. */
enum {
	RPD_OPT_SYSLOG = UCHAR_MAX + 1,
	RPD_OPT_ENGINE,
	RPD_OPT_COALESCE,
	RPD_OPT_PROXY,
	RPD_OPT_DRAIN,
	RPD_OPT_METRICS,
	RPD_OPT_KEEPALIVE,
	RPD_OPT_BUFMEM,
	RPD_OPT_NOZC,
	RPD_OPT_DRAIN_DELAY,
	RPD_OPT_NO_SANDBOX,
	RPD_OPT_END
};

static const struct option rpd_longopts[] = {
	{ "syslog", no_argument, NULL, RPD_OPT_SYSLOG },
	{ "engine", required_argument, NULL, RPD_OPT_ENGINE },
	{ "coalesce", required_argument, NULL, RPD_OPT_COALESCE },
	{ "proxy-protocol", required_argument, NULL, RPD_OPT_PROXY },
	{ "drain-timeout", required_argument, NULL, RPD_OPT_DRAIN },
	{ "metrics", required_argument, NULL, RPD_OPT_METRICS },
	{ "keepalive", required_argument, NULL, RPD_OPT_KEEPALIVE },
	{ "buffer-memory", required_argument, NULL, RPD_OPT_BUFMEM },
	{ "no-zerocopy", no_argument, NULL, RPD_OPT_NOZC },
	{ "drain-delay", required_argument, NULL, RPD_OPT_DRAIN_DELAY },
	{ "no-sandbox", no_argument, NULL, RPD_OPT_NO_SANDBOX },
	{ NULL, 0, NULL, 0 }
};

/* The command line. */
struct rpd_opts {
	int decrypt, encrypt;		/* -d, -e. */
	int dnswait;			/* -D. */
	int foreground;			/* -F. */
	int nopfs, requirepfs;		/* -f, -g. */
	int nokeepalive;		/* -j. */
	int noresolve;			/* -R. */
	int syslog;			/* --syslog. */
	int sendzc;			/* -Z (default) or --no-zerocopy. */
	int nosandbox;			/* --no-sandbox. */
	const char * bind;		/* -b, or NULL. */
	const char * keyfiles[RP_KEYS_MAX];	/* -k, in order: -e uses the
					   first, -d accepts any. */
	size_t nkeyfiles;
	const char * pidfile;		/* -p, or NULL for <source>.pid. */
	const char * source;		/* -s. */
	const char * target;		/* -t. */
	const char * user;		/* -u, or NULL. */
	size_t maxconn;			/* -n; 0 = no limit. */
	double timeout;			/* -o. */
	double rtime;			/* -r. */
	size_t nworkers;		/* -w; 0 = one per online CPU. */
	enum rp_engine engine;		/* --engine. */
	unsigned coalesce_ms;		/* --coalesce; 0 = off. */
	size_t bufmem;			/* --buffer-memory (bytes); 0: default. */
	int proxy;			/* --proxy-protocol: 1, 2; 0 = off. */
	double drain_timeout;		/* --drain-timeout; 0 = unbounded. */
	double drain_delay;		/* --drain-delay; 0 = close at once. */
	const char * metrics;		/* --metrics address, or NULL. */
	int keepalive;			/* --keepalive seconds; 0 = the
					   kernel's timers. */
	unsigned char given[RPD_OPT_END];	/* Options seen so far. */
};

/* What main() does once the command line is parsed. */
enum rpd_parsed {
	RPD_RUN,			/* Serve. */
	RPD_EXIT_OK,			/* -v: done. */
	RPD_EXIT_FAIL			/* Bad command line: said why. */
};

static void
rpd_usage(void)
{

	fprintf(stderr,
	    "usage: ringpiped {-e | -d} -s {<source socket> | "
	    "systemd:[<name>]}\n"
	    "    -t <target socket> -k <key file> [-k <key file> ...]\n"
	    "    [-b <bind address>] [-DFj] [-f | -g] "
	    "[-n <max # connections>]\n"
	    "    [-o <connection timeout>] [-p <pidfile>] [-r <rtime> | -R] "
	    "[--syslog]\n"
	    "    [-u {<username> | <:groupname> | <username:groupname>}]\n"
	    "    [-w <worker threads>] [-Z] "
	    "[--engine {auto | io_uring | epoll}]\n"
	    "    [--coalesce <milliseconds>] [--proxy-protocol {v1 | v2}]\n"
	    "    [--drain-timeout <seconds>] [--drain-delay <seconds>]\n"
	    "    [--metrics <address>] [--keepalive <seconds>] [--no-sandbox]\n"
	    "    [--buffer-memory <KiB per worker>] [--no-zerocopy]\n"
	    "       ringpiped -v\n");
}

/* The name of option ${ch} as given: "-c" or "--name". */
static const char *
rpd_optname(int ch, char * buf, size_t len)
{
	const struct option * lo;

	for (lo = rpd_longopts; lo->name != NULL; lo++) {
		if (lo->val == ch) {
			snprintf(buf, len, "--%s", lo->name);
			return (buf);
		}
	}
	snprintf(buf, len, "-%c", ch);
	return (buf);
}

/* Say what is wrong with the command line (about option ${ch} if it is
 * not 0), show the usage, and return RPD_EXIT_FAIL. */
static enum rpd_parsed
rpd_usage_err(const char * msg, int ch)
{
	char name[32];

	if (ch)
		rp_warn("%s: %s", msg, rpd_optname(ch, name, sizeof(name)));
	else
		rp_warn("%s", msg);
	rpd_usage();
	return (RPD_EXIT_FAIL);
}

/* The argument ${arg} of option ${ch} does not parse: say so and return
 * RPD_EXIT_FAIL. */
static enum rpd_parsed
rpd_arg_err(int ch, const char * arg)
{
	char name[32];

	rp_warn("Error parsing argument: %s %s",
	    rpd_optname(ch, name, sizeof(name)), arg);
	return (RPD_EXIT_FAIL);
}

/* Take option ${ch} with argument ${arg} into ${o}. */
static enum rpd_parsed
rpd_opt(struct rpd_opts * o, int ch, const char * arg)
{
	size_t n;

	if (ch < 0 || ch >= RPD_OPT_END)
		goto usage;
	if (o->given[ch] && ch != 'k')
		return (rpd_usage_err("option given more than once", ch));
	o->given[ch] = 1;
	switch (ch) {
	case 'b': o->bind = arg; break;
	case 'd': o->decrypt = 1; break;
	case 'D': o->dnswait = 1; break;
	case 'e': o->encrypt = 1; break;
	case 'f': o->nopfs = 1; break;
	case 'F': o->foreground = 1; break;
	case 'g': o->requirepfs = 1; break;
	case 'j': o->nokeepalive = 1; break;
	case 'k':
		if (o->nkeyfiles == RP_KEYS_MAX)
			return (rpd_usage_err("too many key files", ch));
		o->keyfiles[o->nkeyfiles++] = arg;
		break;
	case 'p': o->pidfile = arg; break;
	case 'R': o->noresolve = 1; break;
	case 's': o->source = arg; break;
	case 't': o->target = arg; break;
	case 'u': o->user = arg; break;
	case 'Z': o->sendzc = 1; break;		/* The default. */
	case RPD_OPT_NOZC: o->sendzc = 0; break;
	case RPD_OPT_BUFMEM:
		if (rp_opts_size(arg, &n) || n < RPD_MINBUFMEM ||
		    n > RPD_MAXBUFMEM)
			return (rpd_arg_err(ch, arg));
		o->bufmem = n << 10;
		break;
	case RPD_OPT_SYSLOG: o->syslog = 1; break;
	case RPD_OPT_NO_SANDBOX: o->nosandbox = 1; break;
	case 'n':
		if (rp_opts_size(arg, &o->maxconn))
			return (rpd_arg_err(ch, arg));
		break;
	case 'o':
		if (rp_opts_double(arg, 0, &o->timeout))
			return (rpd_arg_err(ch, arg));
		break;
	case 'r':
		if (rp_opts_double(arg, 0, &o->rtime))
			return (rpd_arg_err(ch, arg));
		break;
	case 'w':
		if (rp_opts_size(arg, &n) || n == 0 || n > RPD_MAXWORKERS)
			return (rpd_arg_err(ch, arg));
		o->nworkers = n;
		break;
	case RPD_OPT_ENGINE:
		if (rp_engine_parse(arg, &o->engine))
			return (rpd_arg_err(ch, arg));
		break;
	case RPD_OPT_COALESCE:
		if (rp_opts_size(arg, &n) || n > RPD_MAXCOALESCE)
			return (rpd_arg_err(ch, arg));
		o->coalesce_ms = (unsigned)n;
		break;
	case RPD_OPT_METRICS: o->metrics = arg; break;
	case RPD_OPT_KEEPALIVE:
		if (rp_opts_size(arg, &n) || n == 0 || n > RP_SOCK_KA_MAX)
			return (rpd_arg_err(ch, arg));
		o->keepalive = (int)n;
		break;
	case RPD_OPT_DRAIN:
		if (rp_opts_double(arg, 0, &o->drain_timeout))
			return (rpd_arg_err(ch, arg));
		break;
	case RPD_OPT_DRAIN_DELAY:
		if (rp_opts_double(arg, 0, &o->drain_delay) ||
		    o->drain_delay > RPD_MAXDRAINDELAY)
			return (rpd_arg_err(ch, arg));
		break;
	case RPD_OPT_PROXY:
		if (strcmp(arg, "v1") == 0 || strcmp(arg, "1") == 0)
			o->proxy = 1;
		else if (strcmp(arg, "v2") == 0 || strcmp(arg, "2") == 0)
			o->proxy = 2;
		else
			return (rpd_arg_err(ch, arg));
		break;
	case 'v':
		fprintf(stderr, "ringpiped " RINGPIPED_VERSION
		    " (spiped 1.6.2 protocol)\n");
		return (RPD_EXIT_OK);
	default:
		goto usage;
	}
	if (o->decrypt && o->encrypt)
		return (rpd_usage_err("-e and -d are mutually exclusive", 0));
	return (RPD_RUN);

usage:
	rpd_usage();
	return (RPD_EXIT_FAIL);
}

/* Whether the --metrics address ${s} can be served: 0, or -1 with a
 * warning printed (a build without libmicrohttpd, a bad address). */
static int
rpd_check_metrics(const char * s)
{
	const char * why;

	if ((why = rp_metrics_unavailable()) != NULL) {
		rp_warn("--metrics: %s", why);
		return (-1);
	}
	if (rp_addr_validate(s)) {
		rp_warn("Invalid metrics address: %s", s);
		return (-1);
	}
	return (0);
}

/* Check ${o} as a whole, and fill in what follows from what was given. */
static enum rpd_parsed
rpd_check(struct rpd_opts * o)
{
	long ncpu;

	if (o->timeout == 0.0)
		o->timeout = RPD_TIMEOUT;
	if (o->rtime == 0.0)
		o->rtime = RPD_RTIME;
	if (!o->decrypt && !o->encrypt)
		return (rpd_usage_err("one of -e and -d is required", 0));
	if (o->nopfs && o->requirepfs)
		return (rpd_usage_err("-f and -g are mutually exclusive", 0));
	if (o->keepalive && o->nokeepalive)
		return (rpd_usage_err("--keepalive and -j are mutually "
		    "exclusive", 0));
	if (o->proxy && !o->encrypt)
		return (rpd_usage_err("--proxy-protocol goes with -e", 0));
	if (o->nkeyfiles == 0)
		return (rpd_usage_err("a key file is required", 'k'));
	if (o->given['r'] && o->noresolve)
		return (rpd_usage_err("-r and -R are mutually exclusive", 0));
	if (o->source == NULL)
		return (rpd_usage_err("a source address is required", 's'));
	if (rp_sd_source(o->source) != NULL) {
		if (rp_sd_unavailable() != NULL) {
			rp_warn("-s %s: %s", o->source, rp_sd_unavailable());
			return (RPD_EXIT_FAIL);
		}
	} else if (rp_addr_validate(o->source)) {
		rp_warn("Invalid source address: %s", o->source);
		goto usage;
	}
	if (o->target == NULL)
		return (rpd_usage_err("a target address is required", 't'));
	if (rp_addr_validate(o->target)) {
		rp_warn("Invalid target address: %s", o->target);
		goto usage;
	}
	if (o->bind && rp_addr_validate_bind(o->bind)) {
		rp_warn("Invalid bind address: %s", o->bind);
		goto usage;
	}
	if (o->metrics && rpd_check_metrics(o->metrics))
		return (RPD_EXIT_FAIL);
	if (o->nworkers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		o->nworkers = (ncpu > 0) ? (size_t)ncpu : 1;
	}
	return (RPD_RUN);

usage:
	rpd_usage();
	return (RPD_EXIT_FAIL);
}

/* Parse the command line ${argc}, ${argv} into ${o}. */
static enum rpd_parsed
rpd_parse(int argc, char * argv[], struct rpd_opts * o)
{
	enum rpd_parsed r;
	int ch;

	memset(o, 0, sizeof(*o));
	o->maxconn = RPD_MAXCONN;
	o->timeout = RPD_TIMEOUT;
	o->rtime = RPD_RTIME;
	o->engine = RP_ENGINE_AUTO;
	o->sendzc = 1;
	while ((ch = getopt_long(argc, argv, "b:dDefFgjk:n:o:p:r:Rs:t:u:vw:Z",
	    rpd_longopts, NULL)) != -1) {
		if ((r = rpd_opt(o, ch, optarg)) != RPD_RUN)
			return (r);
	}
	if (optind != argc)
		return (rpd_usage_err("unexpected argument", 0));
	return (rpd_check(o));
}

/*
 * -D waits for DNS: a daemonized parent exits 0 now, and start-up goes on
 * with its errors on the standard error the daemon was started with (stock
 * spiped's) and in syslog, so that a port that cannot be bound once the
 * name resolves is still said somewhere a person will see it.
 */
static void
rpd_release(const struct rpd_opts * o)
{

	if (o->foreground)
		return;
	rp_daemon_release();
	rp_log_dest(RP_LOG_STDERR | RP_LOG_SYSLOG);
}

/* Start-up is over: a daemonized parent exits 0 now (if rpd_release did
 * not let it go), and what follows goes to syslog if ${o} says so. */
static void
rpd_ready(const struct rpd_opts * o)
{

	if (o->foreground)
		return;
	rp_daemon_ready();
	rp_log_dest(o->syslog ? RP_LOG_SYSLOG : RP_LOG_STDERR);
}

/* Resolve ${s} into at most ${max} addresses at ${a} (the -b form if
 * ${bind}: one address, the port may be left out), retrying every
 * RPD_DNS_RETRY seconds if ${o} says -D; the count, or -1 with a warning
 * printed. */
static int
rpd_resolve(const struct rpd_opts * o, const char * s, int bind,
    struct rp_addr * a, int max)
{
	int n;

	for (;;) {
		if (bind)
			n = rp_addr_resolve_bind(s, a) ? -1 : 1;
		else
			n = rp_addr_resolve(s, a, max);
		if (n > 0 || !o->dnswait)
			break;

		/* Waiting for DNS is no start-up error: let the parent go. */
		rpd_release(o);
		sleep(RPD_DNS_RETRY);
	}
	if (n < 0)
		rp_warn("Error resolving socket address: %s", s);
	return (n);
}

/* The crypto backend: RINGPIPED_CRYPTO=openssl forces OpenSSL. */
static enum crypto_backend
rpd_backend(void)
{
	const char * s = getenv("RINGPIPED_CRYPTO");

	if (s != NULL && strcmp(s, "openssl") == 0)
		return (CRYPTO_BACKEND_OPENSSL);
	return (CRYPTO_BACKEND_AUTO);
}

/* The control plane's hook to the service manager: tell it ${state}. */
static void
rpd_notify(const char * state)
{

	if (strcmp(state, "RELOADING=1") == 0)
		rp_sd_reloading();
	else
		rp_sd_notify(state);
}

/* Start ${n} workers with ${wcfg} into ${workers}; return how many
 * started (all of them on success). */
static size_t
rpd_start_workers(struct rp_worker ** workers, size_t n,
    const struct rp_worker_cfg * wcfg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((workers[i] = rp_worker_start((int)i, wcfg)) == NULL)
			break;
	return (i);
}

/* Stop the ${n} workers at ${workers}. */
static void
rpd_stop_workers(struct rp_worker ** workers, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		rp_worker_stop(workers[i]);
}

/* Bind the --metrics address of ${o}: the server, or NULL with a warning
 * printed. */
static struct rp_metrics *
rpd_metrics_listen(const struct rpd_opts * o)
{
	struct rp_addr a;

	if (rpd_resolve(o, o->metrics, 0, &a, 1) < 0)
		return (NULL);
	return (rp_metrics_listen(&a));
}

/* Serve through ${m} the counters of the one pipe's control state
 * ${pipes}[0] (which, like the array, must outlive the server) and of its
 * ${workers}, whose engine is ${engine}, as ${o} describes them, and its
 * readiness; 0, or -1 with a warning printed. */
static int
rpd_metrics_start(const struct rpd_opts * o, struct rp_metrics * m,
    struct rp_ctl * const * pipes, struct rp_worker ** workers,
    enum rp_engine engine)
{

	const struct rp_metrics_src src = {
		.info = {
			.version = RINGPIPED_VERSION,
			.mode = o->decrypt ? "decrypt" : "encrypt",
			.engine = rp_engine_name(engine),
			.crypto = crypto_engine_describe()
		},
		.ctl = rp_ctl_stats(pipes[0]),
		.workers = workers,
		.nworkers = (int)o->nworkers,
		.pipes = pipes,
		.npipes = 1
	};

	return (rp_metrics_start(m, &src));
}

/*
 * Confine the process (rp_sandbox.h) as ${o} asks, and say what came of it
 * in ${desc} (${len} bytes) for the start line; 0, or -1 with a warning
 * printed.  Called before the first thread starts: Landlock binds the
 * calling thread and those it creates later, not those already running.
 */
static int
rpd_sandbox(const struct rpd_opts * o, char * desc, size_t len)
{
	const struct rp_sandbox_cfg cfg = {
		.keyfiles = o->keyfiles,
		.nkeyfiles = o->nkeyfiles
	};
	int rc;

	if (o->nosandbox) {
		snprintf(desc, len, "off (--no-sandbox)");
		return (0);
	}
	if ((rc = rp_sandbox_apply(&cfg, desc, len)) == -1)
		return (-1);
	if (rc == RP_SANDBOX_ON)
		rp_keys_sandboxed();
	return (0);
}

/*
 * Set up what ${o} asks for, serve until SIGTERM has drained every
 * connection, and tear it down.  Return the exit status.
 */
static int
rpd_serve(const struct rpd_opts * o)
{
	struct rp_addr sa_s, sa_b, sa_t[RP_ADDR_MAX];
	struct rp_worker_cfg wcfg;
	struct rp_ctl_cfg ccfg;
	struct rp_worker ** workers;
	struct rp_ctl * ctl;
	struct rp_ctl * pipes[1];
	struct rp_metrics * metrics = NULL;
	struct rp_keys * keys = NULL;
	const char * sdname = rp_sd_source(o->source);
	char * pidfile;
	char sandbox[64];
	sigset_t ss;
	size_t nstarted;
	int nt, lfd = -1, rc1, rc = 1;

	memset(&wcfg, 0, sizeof(wcfg));
	if (asprintf(&pidfile, "%s%s", o->pidfile ? o->pidfile : o->source,
	    o->pidfile ? "" : ".pid") == -1) {
		rp_warnp("asprintf");
		goto err0;
	}

	/* Fail early and clearly if the engine asked for cannot run. */
	if (rp_engine_resolve(o->engine, &wcfg.engine))
		goto err1;

	/* Every key before any fork: -k - reads standard input, which
	 * daemonizing points at /dev/null. */
	if ((keys = rp_keys_load(o->keyfiles, o->nkeyfiles)) == NULL)
		goto err1;

	/* -s systemd:NAME: the socket is taken before any fork, since
	 * LISTEN_PID names the process systemd started. */
	if (sdname != NULL && (lfd = rp_sd_listen(sdname)) == -1)
		goto err2;

	/*
	 * -D waits for DNS in the background.  Either way the parent stays
	 * until start-up is over (rpd_ready) or the wait begins
	 * (rpd_release), so that what fails before then is said to the
	 * person who started the daemon.
	 */
	if (o->dnswait && !o->foreground && rp_daemonize(pidfile))
		goto err2;
	if ((sdname == NULL && rpd_resolve(o, o->source, 0, &sa_s, 1) < 0) ||
	    (nt = rpd_resolve(o, o->target, 0, sa_t, RP_ADDR_MAX)) < 0 ||
	    (o->bind && rpd_resolve(o, o->bind, 1, &sa_b, 1) < 0))
		goto err2;
	if (lfd == -1 && (lfd = rp_sock_listen(&sa_s)) == -1)
		goto err2;
	if (!o->dnswait && !o->foreground && rp_daemonize(pidfile))
		goto err2;

	/* SIGTERM and SIGHUP (reload) are read through the control thread's
	 * signalfd; block them in every thread. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (crypto_dh_init()) {
		rp_warn("Cannot set up Diffie-Hellman");
		goto err2;
	}

	/* The sandbox once the pidfile is written and the addresses are
	 * resolved, before any thread starts. */
	if (rpd_sandbox(o, sandbox, sizeof(sandbox)))
		goto err2;

	/* The control state first: the workers report closes to it. */
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.decrypt = o->decrypt;
	ccfg.target = o->target;
	ccfg.bind = o->bind ? &sa_b : NULL;
	ccfg.nopfs = o->nopfs;
	ccfg.requirepfs = o->requirepfs;
	ccfg.keepalive = o->nokeepalive ? RP_SOCK_KA_OFF : o->keepalive;
	ccfg.maxconn = o->maxconn;
	ccfg.timeout = o->timeout;
	ccfg.rtime = o->noresolve ? 0 : o->rtime;
	ccfg.keys = keys;
	ccfg.nworkers = (int)o->nworkers;
	ccfg.nhsthreads = (int)o->nworkers;
	ccfg.proxy = o->proxy;
	ccfg.drain_timeout = o->drain_timeout;
	ccfg.drain_delay = o->drain_delay;
	ccfg.notify = rpd_notify;
	if ((ctl = rp_ctl_new(&ccfg)) == NULL)
		goto err2;

	/* Workers register their buffers before privileges are dropped. */
	wcfg.sendmode = o->sendzc ? RP_SEND_ZC : RP_SEND_PLAIN;
	wcfg.backend = rpd_backend();
	wcfg.coalesce_ms = o->coalesce_ms;
	wcfg.buffer_bytes = o->bufmem;
	wcfg.closed = rp_ctl_pair_closed;
	wcfg.cookie = ctl;
	if ((workers = calloc(o->nworkers, sizeof(*workers))) == NULL) {
		rp_warnp("calloc");
		goto err4;
	}
	if ((nstarted = rpd_start_workers(workers, o->nworkers, &wcfg)) <
	    o->nworkers)
		goto err5;
	ccfg.workers = workers;
	rp_warn("%zu workers, %s; %s; sandbox: %s; Diffie-Hellman: %s",
	    o->nworkers, rp_worker_name(workers[0]), crypto_engine_describe(),
	    sandbox, o->nopfs ? "none (-f)" : crypto_dh_path());
	if (o->metrics && (metrics = rpd_metrics_listen(o)) == NULL)
		goto err5;
	if (o->user && rp_setuidgid(o->user)) {
		rp_warn("Failed to drop privileges");
		goto err5;
	}
	if (o->user)
		(void)rp_keys_check_reload(keys, o->user);

	/* The control state owns the listening socket from here on. */
	rc1 = rp_ctl_start(ctl, lfd, sa_t, nt);
	lfd = -1;
	if (rc1)
		goto err5;
	pipes[0] = ctl;
	if (metrics && rpd_metrics_start(o, metrics, pipes, workers,
	    wcfg.engine))
		goto err5;

	/* Started: the parent may go, and systemd (Type=notify) may send
	 * connections our way. */
	rpd_ready(o);
	rp_sd_notify("READY=1");
	if (rp_ctl_run(ctl) == 0)
		rc = 0;

err5:
	/* The metrics server reads the workers: it stops first.  After a
	 * fatal error (rp_fatal) the workers close their pairs at once. */
	rp_metrics_free(metrics);
	rpd_stop_workers(workers, nstarted);
	free(workers);

	/* A fatal error after the loop ended (in a worker, while draining)
	 * fails the exit too. */
	if (rp_fatal_raised())
		rc = 1;
err4:
	rp_ctl_free(ctl);
err2:
	rp_keys_free(keys);
	if (lfd != -1)
		close(lfd);
	rp_daemon_exit();
err1:
	free(pidfile);
err0:
	return (rc);
}

/* SIGINT as PID 1: exit at once (see main). */
static void
rpd_sigint(int signo)
{

	(void)signo;
	_exit(0);
}

int
main(int argc, char * argv[])
{
	struct rpd_opts o;

	rp_log_init("ringpiped");

	/*
	 * As PID 1 (a container's init) a signal without a handler does
	 * nothing, so SIGINT (docker stop's default, ^C in docker run -it)
	 * would be ignored: exit on it, as stock spiped does.  Set before
	 * daemonizing, so the daemon keeps it.
	 */
	if (getpid() == 1 && signal(SIGINT, rpd_sigint) == SIG_ERR)
		rp_warnp("Cannot handle SIGINT");
	switch (rpd_parse(argc, argv, &o)) {
	case RPD_RUN:
		break;
	case RPD_EXIT_OK:
		return (0);
	case RPD_EXIT_FAIL:
		return (1);
	}
	return (rpd_serve(&o));
}
