#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rp_addr.h"
#include "rp_log.h"
#include "rp_metrics.h"
#include "rp_options.h"
#include "rp_opts.h"
#include "rp_sd.h"
#include "rp_sock.h"

#define RINGPIPED_VERSION_LINE	"ringpiped 0.1.0 (spiped 1.6.2 protocol)"

/* spiped's defaults: -n, -o and -r (also what -o 0 and -r 0 mean). */
#define OPT_MAXCONN	100
#define OPT_TIMEOUT	5.0
#define OPT_RTIME	60.0

/* The most worker threads -w takes. */
#define OPT_MAXWORKERS	256

/* --buffer-memory bounds (KiB per worker). */
#define OPT_MINBUFMEM	256
#define OPT_MAXBUFMEM	(1024 * 1024)

/* The longest --coalesce: a part packet waits at most this many ms. */
#define OPT_MAXCOALESCE	10000

/* The longest --drain-delay, in seconds: a balancer's health checks come
 * every few seconds; a daemon must still stop within minutes. */
#define OPT_MAXDRAINDELAY	600

/* The table: every option, its file key and scope.  -c and -v are the
 * command line's; -e and -d are "mode" in a file. */
static const struct rp_optdef opt_table[] = {
	{ RP_OPT_MODE, "mode", 1, RP_OPT_PIPE },
	{ 's', "source", 1, RP_OPT_PIPE },
	{ 't', "target", 1, RP_OPT_PIPE },
	{ 'k', "key", 1, RP_OPT_PIPE },
	{ 'b', "bind", 1, RP_OPT_PIPE },
	{ 'f', "no-pfs", 0, RP_OPT_PIPE },
	{ 'g', "require-pfs", 0, RP_OPT_PIPE },
	{ 'n', "max-connections", 1, RP_OPT_PIPE },
	{ 'o', "timeout", 1, RP_OPT_PIPE },
	{ 'r', "resolve-interval", 1, RP_OPT_PIPE },
	{ 'R', "no-resolve", 0, RP_OPT_PIPE },
	{ 'j', "no-keepalive", 0, RP_OPT_PIPE },
	{ RP_OPT_KEEPALIVE, "keepalive", 1, RP_OPT_PIPE },
	{ RP_OPT_PROXY, "proxy-protocol", 1, RP_OPT_PIPE },
	{ RP_OPT_DRAIN, "drain-timeout", 1, RP_OPT_PIPE },
	{ RP_OPT_DRAIN_DELAY, "drain-delay", 1, RP_OPT_PIPE },
	{ 'w', "workers", 1, RP_OPT_GLOBAL },
	{ RP_OPT_METRICS, "metrics", 1, RP_OPT_GLOBAL },
	{ RP_OPT_ENGINE, "engine", 1, RP_OPT_GLOBAL },
	{ 'p', "pidfile", 1, RP_OPT_GLOBAL },
	{ 'u', "user", 1, RP_OPT_GLOBAL },
	{ RP_OPT_SYSLOG, "syslog", 0, RP_OPT_GLOBAL },
	{ 'D', "dns-wait", 0, RP_OPT_GLOBAL },
	{ 'F', "foreground", 0, RP_OPT_GLOBAL },
	{ RP_OPT_COALESCE, "coalesce", 1, RP_OPT_GLOBAL },
	{ RP_OPT_BUFMEM, "buffer-memory", 1, RP_OPT_GLOBAL },
	{ RP_OPT_NOZC, "no-zerocopy", 0, RP_OPT_GLOBAL },
	{ RP_OPT_NO_SANDBOX, "no-sandbox", 0, RP_OPT_GLOBAL },
	{ 'Z', "zerocopy", 0, RP_OPT_CLI },
	{ 'c', "config", 1, RP_OPT_CLI },
	{ 'e', "encrypt", 0, RP_OPT_CLI },
	{ 'd', "decrypt", 0, RP_OPT_CLI },
	{ 'v', "version", 0, RP_OPT_CLI },
	{ 0, NULL, 0, RP_OPT_CLI }
};

static const struct option opt_long[] = {
	{ "syslog", no_argument, NULL, RP_OPT_SYSLOG },
	{ "engine", required_argument, NULL, RP_OPT_ENGINE },
	{ "coalesce", required_argument, NULL, RP_OPT_COALESCE },
	{ "proxy-protocol", required_argument, NULL, RP_OPT_PROXY },
	{ "drain-timeout", required_argument, NULL, RP_OPT_DRAIN },
	{ "metrics", required_argument, NULL, RP_OPT_METRICS },
	{ "keepalive", required_argument, NULL, RP_OPT_KEEPALIVE },
	{ "buffer-memory", required_argument, NULL, RP_OPT_BUFMEM },
	{ "no-zerocopy", no_argument, NULL, RP_OPT_NOZC },
	{ "drain-delay", required_argument, NULL, RP_OPT_DRAIN_DELAY },
	{ "no-sandbox", no_argument, NULL, RP_OPT_NO_SANDBOX },
	{ NULL, 0, NULL, 0 }
};

/* Show the usage. */
static void
opt_usage(void)
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
	    "       ringpiped -c <configuration file> [-F]\n"
	    "       ringpiped -v\n");
}

/* The name of option ${ch} as ${where} knows it: "-c" or "--name" on the
 * command line, the key in a file. */
static const char *
opt_name(int ch, const struct rp_opt_where * where, char * buf, size_t len)
{
	const struct rp_optdef * d;
	const struct option * lo;

	if (where != NULL && where->path != NULL) {
		for (d = opt_table; d->key != NULL; d++)
			if (d->ch == ch)
				return (d->key);
	}
	for (lo = opt_long; lo->name != NULL; lo++) {
		if (lo->val == ch) {
			snprintf(buf, len, "--%s", lo->name);
			return (buf);
		}
	}
	snprintf(buf, len, "-%c", ch);
	return (buf);
}

/* Say what is wrong (about option ${ch} if it is not 0) at ${where}: on
 * the command line with the usage, in a file with its line. */
static enum rp_opt_result
opt_usage_err(const char * msg, int ch, const struct rp_opt_where * where)
{
	char name[32];

	if (where != NULL && where->path != NULL) {
		if (ch)
			rp_warn("%s:%d: %s: %s", where->path, where->line, msg,
			    opt_name(ch, where, name, sizeof(name)));
		else
			rp_warn("%s:%d: %s", where->path, where->line, msg);
		return (RP_OPT_EXIT_FAIL);
	}
	if (ch)
		rp_warn("%s: %s", msg, opt_name(ch, where, name,
		    sizeof(name)));
	else
		rp_warn("%s", msg);
	opt_usage();
	return (RP_OPT_EXIT_FAIL);
}

/* The argument ${arg} of option ${ch} does not parse: say so at ${where}. */
static enum rp_opt_result
opt_arg_err(int ch, const char * arg, const struct rp_opt_where * where)
{
	char name[32];

	if (where != NULL && where->path != NULL)
		rp_warn("%s:%d: bad value for %s: %s", where->path,
		    where->line, opt_name(ch, where, name, sizeof(name)), arg);
	else
		rp_warn("Error parsing argument: %s %s",
		    opt_name(ch, where, name, sizeof(name)), arg);
	return (RP_OPT_EXIT_FAIL);
}

/* Say at ${where} that ${what} is wrong with address ${s}: the command
 * line's words (stock spiped's), or the file's line. */
static enum rp_opt_result
opt_addr_err(const char * what, const char * s,
    const struct rp_opt_where * where, int usage)
{

	if (where != NULL && where->path != NULL) {
		rp_warn("%s:%d: %s: %s", where->path, where->line, what, s);
		return (RP_OPT_EXIT_FAIL);
	}
	rp_warn("%s: %s", what, s);
	if (usage)
		opt_usage();
	return (RP_OPT_EXIT_FAIL);
}

/**
 * rp_options_init(o):
 * Fill ${o} with spiped's defaults.
 */
void
rp_options_init(struct rp_options * o)
{

	memset(o, 0, sizeof(*o));
	o->maxconn = OPT_MAXCONN;
	o->timeout = OPT_TIMEOUT;
	o->rtime = OPT_RTIME;
	o->engine = RP_ENGINE_AUTO;
	o->sendzc = 1;
}

/**
 * rp_options_key(key):
 * Return the option whose file key is ${key}, or NULL.
 */
const struct rp_optdef *
rp_options_key(const char * key)
{
	const struct rp_optdef * d;

	for (d = opt_table; d->key != NULL; d++)
		if (strcmp(d->key, key) == 0)
			return (d);
	return (NULL);
}

/**
 * rp_options_set(o, ch, arg, where):
 * Take option ${ch} with its argument ${arg} (NULL for a flag) into ${o};
 * say what is wrong at ${where} if it is bad.
 */
enum rp_opt_result
rp_options_set(struct rp_options * o, int ch, const char * arg,
    const struct rp_opt_where * where)
{
	size_t n;

	if (ch < 0 || ch >= RP_OPT_END)
		goto usage;
	if (o->given[ch] && ch != 'k')
		return (opt_usage_err("option given more than once", ch,
		    where));
	o->given[ch] = 1;
	switch (ch) {
	case 'b': o->bind = arg; break;
	case 'c': o->conffile = arg; break;
	case 'd': o->decrypt = 1; break;
	case 'D': o->dnswait = 1; break;
	case 'e': o->encrypt = 1; break;
	case 'f': o->nopfs = 1; break;
	case 'F': o->foreground = 1; break;
	case 'g': o->requirepfs = 1; break;
	case 'j': o->nokeepalive = 1; break;
	case 'k':
		if (o->nkeyfiles == RP_KEYS_MAX)
			return (opt_usage_err("too many key files", ch,
			    where));
		o->keylines[o->nkeyfiles] = where ? where->line : 0;
		o->keyfiles[o->nkeyfiles++] = arg;
		break;
	case 'p': o->pidfile = arg; break;
	case 'R': o->noresolve = 1; break;
	case 's':
		o->source = arg;
		o->source_line = where ? where->line : 0;
		break;
	case 't': o->target = arg; break;
	case 'u': o->user = arg; break;
	case 'Z': o->sendzc = 1; break;		/* The default. */
	case RP_OPT_NOZC: o->sendzc = 0; break;
	case RP_OPT_MODE:
		if (strcmp(arg, "encrypt") == 0)
			o->encrypt = 1;
		else if (strcmp(arg, "decrypt") == 0)
			o->decrypt = 1;
		else
			return (opt_arg_err(ch, arg, where));
		break;
	case RP_OPT_BUFMEM:
		if (rp_opts_size(arg, &n) || n < OPT_MINBUFMEM ||
		    n > OPT_MAXBUFMEM)
			return (opt_arg_err(ch, arg, where));
		o->bufmem = n << 10;
		break;
	case RP_OPT_SYSLOG: o->syslog = 1; break;
	case RP_OPT_NO_SANDBOX: o->nosandbox = 1; break;
	case 'n':
		if (rp_opts_size(arg, &o->maxconn))
			return (opt_arg_err(ch, arg, where));
		break;
	case 'o':
		if (rp_opts_double(arg, 0, &o->timeout))
			return (opt_arg_err(ch, arg, where));
		break;
	case 'r':
		if (rp_opts_double(arg, 0, &o->rtime))
			return (opt_arg_err(ch, arg, where));
		break;
	case 'w':
		if (rp_opts_size(arg, &n) || n == 0 || n > OPT_MAXWORKERS)
			return (opt_arg_err(ch, arg, where));
		o->nworkers = n;
		break;
	case RP_OPT_ENGINE:
		if (rp_engine_parse(arg, &o->engine))
			return (opt_arg_err(ch, arg, where));
		break;
	case RP_OPT_COALESCE:
		if (rp_opts_size(arg, &n) || n > OPT_MAXCOALESCE)
			return (opt_arg_err(ch, arg, where));
		o->coalesce_ms = (unsigned)n;
		break;
	case RP_OPT_METRICS: o->metrics = arg; break;
	case RP_OPT_KEEPALIVE:
		if (rp_opts_size(arg, &n) || n == 0 || n > RP_SOCK_KA_MAX)
			return (opt_arg_err(ch, arg, where));
		o->keepalive = (int)n;
		break;
	case RP_OPT_DRAIN:
		if (rp_opts_double(arg, 0, &o->drain_timeout))
			return (opt_arg_err(ch, arg, where));
		break;
	case RP_OPT_DRAIN_DELAY:
		if (rp_opts_double(arg, 0, &o->drain_delay) ||
		    o->drain_delay > OPT_MAXDRAINDELAY)
			return (opt_arg_err(ch, arg, where));
		break;
	case RP_OPT_PROXY:
		if (strcmp(arg, "v1") == 0 || strcmp(arg, "1") == 0)
			o->proxy = 1;
		else if (strcmp(arg, "v2") == 0 || strcmp(arg, "2") == 0)
			o->proxy = 2;
		else
			return (opt_arg_err(ch, arg, where));
		break;
	case 'v':
		fprintf(stderr, RINGPIPED_VERSION_LINE "\n");
		return (RP_OPT_EXIT_OK);
	default:
		goto usage;
	}
	if (o->decrypt && o->encrypt)
		return (opt_usage_err(where && where->path ?
		    "mode given more than once" :
		    "-e and -d are mutually exclusive", 0, where));
	return (RP_OPT_RUN);

usage:
	opt_usage();
	return (RP_OPT_EXIT_FAIL);
}

/**
 * rp_options_check_pipe(o, where):
 * Check the pipe settings of ${o} as a whole (-e or -d, -s, -t, -k, and
 * what excludes what), and fill in what follows from what was given; say
 * what is wrong at ${where}.
 */
enum rp_opt_result
rp_options_check_pipe(struct rp_options * o, const struct rp_opt_where * where)
{
	int file = (where != NULL && where->path != NULL);

	if (o->timeout == 0.0)
		o->timeout = OPT_TIMEOUT;
	if (o->rtime == 0.0)
		o->rtime = OPT_RTIME;
	if (!o->decrypt && !o->encrypt)
		return (opt_usage_err(file ? "no mode (encrypt or decrypt)" :
		    "one of -e and -d is required", 0, where));
	if (o->nopfs && o->requirepfs)
		return (opt_usage_err(file ? "no-pfs and require-pfs are "
		    "mutually exclusive" : "-f and -g are mutually exclusive",
		    0, where));
	if (o->keepalive && o->nokeepalive)
		return (opt_usage_err(file ? "keepalive and no-keepalive are "
		    "mutually exclusive" : "--keepalive and -j are mutually "
		    "exclusive", 0, where));
	if (o->proxy && !o->encrypt)
		return (opt_usage_err(file ? "proxy-protocol goes with mode = "
		    "encrypt" : "--proxy-protocol goes with -e", 0, where));
	if (o->nkeyfiles == 0)
		return (opt_usage_err(file ? "no key" : "a key file is "
		    "required", file ? 0 : 'k', where));
	if (o->given['r'] && o->noresolve)
		return (opt_usage_err(file ? "resolve-interval and no-resolve "
		    "are mutually exclusive" : "-r and -R are mutually "
		    "exclusive", 0, where));
	if (o->source == NULL)
		return (opt_usage_err(file ? "no source" : "a source address "
		    "is required", file ? 0 : 's', where));
	if (rp_sd_source(o->source) == NULL && rp_addr_validate(o->source)) {
		return (opt_addr_err("Invalid source address", o->source,
		    where, 1));
	}
	if (o->target == NULL)
		return (opt_usage_err(file ? "no target" : "a target address "
		    "is required", file ? 0 : 't', where));
	if (rp_addr_validate(o->target))
		return (opt_addr_err("Invalid target address", o->target,
		    where, 1));
	if (o->bind && rp_addr_validate_bind(o->bind))
		return (opt_addr_err("Invalid bind address", o->bind, where,
		    1));
	return (RP_OPT_RUN);
}

/**
 * rp_options_check_global(o, where):
 * Check the process settings of ${o} (--metrics) and fill in the number of
 * workers; say what is wrong at ${where}.
 */
enum rp_opt_result
rp_options_check_global(struct rp_options * o,
    const struct rp_opt_where * where)
{
	const char * why;
	long ncpu;

	if (o->metrics != NULL) {
		if ((why = rp_metrics_unavailable()) != NULL) {
			rp_warn("--metrics: %s", why);
			return (RP_OPT_EXIT_FAIL);
		}
		if (rp_addr_validate(o->metrics))
			return (opt_addr_err("Invalid metrics address",
			    o->metrics, where, 0));
	}
	if (o->nworkers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		o->nworkers = (ncpu > 0) ? (size_t)ncpu : 1;
	}
	return (RP_OPT_RUN);
}

/**
 * rp_options_parse(argc, argv, o):
 * Parse the command line ${argc}, ${argv} into ${o} and check it (with -c,
 * only the process settings the command line may give besides it).
 */
enum rp_opt_result
rp_options_parse(int argc, char * argv[], struct rp_options * o)
{
	enum rp_opt_result r;
	int ch, i;

	rp_options_init(o);
	while ((ch = getopt_long(argc, argv,
	    "b:c:dDefFgjk:n:o:p:r:Rs:t:u:vw:Z", opt_long, NULL)) != -1) {
		if ((r = rp_options_set(o, ch, optarg, NULL)) != RP_OPT_RUN)
			return (r);
	}
	if (optind != argc)
		return (opt_usage_err("unexpected argument", 0, NULL));
	if (o->conffile != NULL) {
		/* The file says the rest; -F (as under systemd) may come
		 * with it. */
		for (i = 0; i < RP_OPT_END; i++)
			if (o->given[i] && i != 'c' && i != 'F')
				return (opt_usage_err("-c takes no other "
				    "option but -F", i, NULL));
		return (RP_OPT_RUN);
	}
	if ((r = rp_options_check_pipe(o, NULL)) != RP_OPT_RUN)
		return (r);
	return (rp_options_check_global(o, NULL));
}
