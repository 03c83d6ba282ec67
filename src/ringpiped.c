/*
 * ringpiped: a spiped-compatible secure pipe daemon.
 * Same flags, defaults and wire protocol as spiped 1.6.2, plus -w, -Z and
 * long options of its own (--engine, --keepalive, ...), or many pipes from
 * one configuration file (-c).  main() parses the command line into a
 * struct rp_options (rp_options.h), reads the file if -c names one
 * (rp_cfgfile.h), then rpd_serve() sets every pipe up (rp_pipeset.h) on
 * one control loop and one set of workers, serves until SIGTERM and
 * unwinds.
 */

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_dh.h"
#include "rp_addr.h"
#include "rp_cfgfile.h"
#include "rp_ctl.h"
#include "rp_daemon.h"
#include "rp_engine.h"
#include "rp_env.h"
#include "rp_fatal.h"
#include "rp_keys.h"
#include "rp_log.h"
#include "rp_metrics.h"
#include "rp_options.h"
#include "rp_pipeset.h"
#include "rp_sandbox.h"
#include "rp_sd.h"
#include "rp_sock.h"
#include "rp_worker.h"

#define RINGPIPED_VERSION "0.1.0"

/* Seconds between look-ups while -D waits for DNS. */
#define RPD_DNS_RETRY	1

/* What the process serves: its settings and its pipes. */
struct rpd {
	struct rp_options * g;		/* The process's settings. */
	enum crypto_backend backend;	/* The workers' (RINGPIPED_CRYPTO). */
	const char * pidsrc;		/* What the default pidfile is named
					   after: -s, or the file of -c. */
	struct rp_pipeset set;
};

/*
 * -D waits for DNS: a daemonized parent exits 0 now, and start-up goes on
 * with its errors on the standard error the daemon was started with (stock
 * spiped's) and in syslog, so that a port that cannot be bound once the
 * name resolves is still said somewhere a person will see it.
 */
static void
rpd_release(const struct rp_options * o)
{

	if (o->foreground)
		return;
	rp_daemon_release();
	rp_log_dest(RP_LOG_STDERR | RP_LOG_SYSLOG);
}

/* Start-up is over: a daemonized parent exits 0 now (if rpd_release did
 * not let it go), and what follows goes to syslog if ${o} says so. */
static void
rpd_ready(const struct rp_options * o)
{

	if (o->foreground)
		return;
	rp_daemon_ready();
	rp_log_dest(o->syslog ? RP_LOG_SYSLOG : RP_LOG_STDERR);
}

/* Resolve ${s} into at most ${max} addresses at ${a} (the -b form if
 * ${bind}: one address, the port may be left out), retrying every
 * RPD_DNS_RETRY seconds if the settings ${cookie} say -D; the count, or -1
 * with a warning printed.  (An rp_pipeset_resolve_fn.) */
static int
rpd_resolve(void * cookie, const char * s, int bind, struct rp_addr * a,
    int max)
{
	const struct rp_options * o = cookie;
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

/* The control plane's hook to the service manager: tell it ${state}. */
static void
rpd_notify(const char * state)
{

	if (strcmp(state, "RELOADING=1") == 0)
		rp_sd_reloading();
	else
		rp_sd_notify(state);
}

/* Bind the --metrics address of ${o}: the server, or NULL with a warning
 * printed. */
static struct rp_metrics *
rpd_metrics_listen(const struct rp_options * o)
{
	struct rp_addr a;

	if (rpd_resolve((void *)(uintptr_t)o, o->metrics, 0, &a, 1) < 0)
		return (NULL);
	return (rp_metrics_listen(&a));
}

/* The mode of ${r} for the info metric: the one pipe's, or "many" if the
 * pipes differ. */
static const char *
rpd_mode(const struct rpd * r)
{
	size_t i;

	for (i = 1; i < r->set.n; i++)
		if (r->set.p[i].o->decrypt != r->set.p[0].o->decrypt)
			return ("mixed");
	return (r->set.p[0].o->decrypt ? "decrypt" : "encrypt");
}

/* Serve through ${m} the counters of ${r}'s pipes on ${loop} and of its
 * ${workers}, whose engine is ${engine}, and its readiness; 0, or -1 with
 * a warning printed. */
static int
rpd_metrics_start(const struct rpd * r, struct rp_metrics * m,
    struct rp_ctl_loop * loop, struct rp_worker ** workers,
    enum rp_engine engine)
{

	const struct rp_metrics_src src = {
		.info = {
			.version = RINGPIPED_VERSION,
			.mode = rpd_mode(r),
			.engine = rp_engine_name(engine),
			.crypto = crypto_engine_describe()
		},
		.loop = loop,
		.workers = workers,
		.nworkers = (int)r->g->nworkers
	};

	return (rp_metrics_start(m, &src));
}

/*
 * Confine the process (rp_sandbox.h) as ${r} asks, allowing the
 * directories of every pipe's key files and of the configuration file,
 * and say what came of it in ${desc} (${len} bytes) for the start line;
 * 0, or -1 with a warning printed.  Called before the first thread
 * starts: Landlock binds the calling thread and those it creates later,
 * not those already running.
 */
static int
rpd_sandbox(const struct rpd * r, char * desc, size_t len)
{
	struct rp_sandbox_cfg cfg;
	const char ** files;
	size_t i, j, n = 1;
	int rc = -1;

	if (r->g->nosandbox) {
		snprintf(desc, len, "off (--no-sandbox)");
		return (0);
	}
	for (i = 0; i < r->set.n; i++)
		n += r->set.p[i].o->nkeyfiles;
	if ((files = calloc(n, sizeof(*files))) == NULL) {
		rp_warnp("calloc");
		return (-1);
	}
	for (n = i = 0; i < r->set.n; i++)
		for (j = 0; j < r->set.p[i].o->nkeyfiles; j++)
			files[n++] = r->set.p[i].o->keyfiles[j];
	if (r->set.path != NULL)
		files[n++] = r->set.path;
	cfg.keyfiles = files;
	cfg.nkeyfiles = n;
	if ((rc = rp_sandbox_apply(&cfg, desc, len)) == RP_SANDBOX_ON)
		rp_keys_sandboxed();
	free(files);
	return (rc == -1 ? -1 : 0);
}

/* Say what each pipe of ${r} serves, with a configuration file. */
static void
rpd_say_pipes(const struct rpd * r)
{
	const struct rp_options * o;
	size_t i;

	if (r->set.path == NULL)
		return;
	for (i = 0; i < r->set.n; i++) {
		o = r->set.p[i].o;
		rp_warn("pipe [%s]: %s %s -> %s", r->set.p[i].name,
		    o->decrypt ? "decrypt" : "encrypt", o->source, o->target);
	}
}

/* Whether some pipe of ${r} may use forward secrecy (not -f). */
static int
rpd_pfs(const struct rpd * r)
{
	size_t i;

	for (i = 0; i < r->set.n; i++)
		if (!r->set.p[i].o->nopfs)
			return (1);
	return (0);
}

/* Having dropped privileges to -u, check that each pipe's key files of
 * ${r} can still be read by a reload. */
static void
rpd_check_reload(const struct rpd * r)
{
	size_t i;

	for (i = 0; i < r->set.n; i++)
		(void)rp_keys_check_reload(rp_ctl_keys(r->set.p[i].ctl),
		    r->g->user);
}

/*
 * Set up what ${r} asks for, serve until SIGTERM has drained every
 * connection, and tear it down.  Return the exit status.
 */
static int
rpd_serve(struct rpd * r)
{
	const struct rp_options * o = r->g;
	struct rp_worker_cfg wcfg;
	struct rp_ctl_loop_cfg lcfg;
	struct rp_worker ** workers = NULL;
	struct rp_ctl_loop * loop = NULL;
	struct rp_metrics * metrics = NULL;
	char * pidfile;
	char sandbox[64];
	sigset_t ss;
	size_t nstarted = 0;
	int rc = 1;

	memset(&wcfg, 0, sizeof(wcfg));
	if (asprintf(&pidfile, "%s%s", o->pidfile ? o->pidfile : r->pidsrc,
	    o->pidfile ? "" : ".pid") == -1) {
		rp_warnp("asprintf");
		goto err0;
	}

	/* Fail early and clearly if the engine asked for cannot run. */
	if (rp_engine_resolve(o->engine, &wcfg.engine))
		goto err1;

	/* Every key before any fork: -k - reads standard input, which
	 * daemonizing points at /dev/null. */
	if (rp_pipeset_keys(&r->set))
		goto err2;

	/* -s systemd:NAME: the socket is taken before any fork, since
	 * LISTEN_PID names the process systemd started. */
	if (rp_pipeset_systemd(&r->set))
		goto err2;

	/*
	 * -D waits for DNS in the background.  Either way the parent stays
	 * until start-up is over (rpd_ready) or the wait begins
	 * (rpd_release), so that what fails before then is said to the
	 * person who started the daemon.
	 */
	if (o->dnswait && !o->foreground && rp_daemonize(pidfile))
		goto err2;
	if (rp_pipeset_bind(&r->set, rpd_resolve, (void *)(uintptr_t)o))
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
	if (rpd_sandbox(r, sandbox, sizeof(sandbox)))
		goto err2;

	/* The control loop and its pipes first: the workers report closes
	 * to the pipes. */
	memset(&lcfg, 0, sizeof(lcfg));
	lcfg.nhsthreads = (int)o->nworkers;
	lcfg.pfs = rpd_pfs(r);
	lcfg.notify = rpd_notify;
	if (r->set.path != NULL) {
		lcfg.reload = rp_pipeset_reload;
		lcfg.reload_arg = &r->set;
	}
	if ((loop = rp_ctl_loop_new(&lcfg)) == NULL)
		goto err2;
	if (rp_pipeset_serve(&r->set, loop))
		goto err4;

	/* Workers register their buffers before privileges are dropped. */
	wcfg.sendmode = o->sendzc ? RP_SEND_ZC : RP_SEND_PLAIN;
	wcfg.backend = r->backend;
	wcfg.coalesce_ms = o->coalesce_ms;
	wcfg.buffer_bytes = o->bufmem;
	wcfg.closed = rp_ctl_pair_closed;
	wcfg.cut = rp_ctl_pair_cut;
	if ((workers = calloc(o->nworkers, sizeof(*workers))) == NULL) {
		rp_warnp("calloc");
		goto err4;
	}
	if ((nstarted = rp_worker_start_all(workers, o->nworkers, &wcfg,
	    o->engine == RP_ENGINE_AUTO)) < o->nworkers)
		goto err5;
	rp_ctl_loop_workers(loop, workers, (int)o->nworkers);
	/* Start-up (the crypto paths' timing, the workers' set-up) freed
	 * more than it keeps: give those pages back, in every arena. */
	(void)malloc_trim(0);
	rp_warn("%zu workers, %s; %s; sandbox: %s; Diffie-Hellman: %s",
	    o->nworkers, rp_worker_name(workers[0]), crypto_engine_describe(),
	    sandbox, rpd_pfs(r) ? crypto_dh_path() : "none (-f)");
	rpd_say_pipes(r);
	if (o->metrics && (metrics = rpd_metrics_listen(o)) == NULL)
		goto err5;
	if (o->user && rp_setuidgid(o->user)) {
		rp_warn("Failed to drop privileges");
		goto err5;
	}
	if (o->user)
		rpd_check_reload(r);
	if (rp_ctl_loop_start(loop))
		goto err5;
	if (metrics && rpd_metrics_start(r, metrics, loop, workers,
	    wcfg.engine))
		goto err5;

	/* Started: the parent may go, and systemd (Type=notify) may send
	 * connections our way. */
	rpd_ready(o);
	rp_sd_notify("READY=1");
	if (rp_ctl_loop_run(loop) == 0)
		rc = 0;

err5:
	/* The metrics server reads the workers and the pipes: it stops
	 * first.  After a fatal error (rp_fatal) the workers close their
	 * pairs at once. */
	rp_metrics_free(metrics);
	rp_worker_stop_all(workers, nstarted);

	/* A fatal error after the loop ended (in a worker, while draining)
	 * fails the exit too. */
	if (rp_fatal_raised())
		rc = 1;
err4:
	rp_ctl_loop_free(loop);
	free(workers);
err2:
	rp_pipeset_free(&r->set);
	rp_daemon_exit();
err1:
	free(pidfile);
err0:
	return (rc);
}

/* Make ${r} the one pipe of the command line ${o}; 0 or -1. */
static int
rpd_cli(struct rpd * r, struct rp_options * o)
{

	memset(r, 0, sizeof(*r));
	r->g = o;
	r->pidsrc = o->source;
	if ((r->set.p = calloc(1, sizeof(*r->set.p))) == NULL) {
		rp_warnp("calloc");
		return (-1);
	}
	r->set.n = 1;
	r->set.p[0].o = o;
	r->set.p[0].lfd = -1;
	return (0);
}

/* Make ${r} the pipes of the configuration file of ${o}; 0 or -1 (said
 * why, with the line). */
static int
rpd_file(struct rpd * r, const struct rp_options * o)
{
	struct rp_cfgfile * cf;
	size_t i;

	memset(r, 0, sizeof(*r));
	if ((cf = rp_cfgfile_load(o->conffile)) == NULL)
		return (-1);
	if (o->foreground)
		cf->global.foreground = 1;
	if ((r->set.p = calloc(cf->n, sizeof(*r->set.p))) == NULL) {
		rp_warnp("calloc");
		rp_cfgfile_free(cf);
		return (-1);
	}
	r->set.path = o->conffile;
	r->set.cf = cf;
	r->set.n = cf->n;
	for (i = 0; i < cf->n; i++) {
		r->set.p[i].name = cf->pipes[i].name;
		r->set.p[i].o = &cf->pipes[i].o;
		r->set.p[i].lfd = -1;
	}
	r->g = &cf->global;
	r->pidsrc = o->conffile;
	return (0);
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
	struct rp_options o;
	struct rpd r;

	rp_log_init("ringpiped");

	/*
	 * As PID 1 (a container's init) a signal without a handler does
	 * nothing, so SIGINT (docker stop's default, ^C in docker run -it)
	 * would be ignored: exit on it, as stock spiped does.  Set before
	 * daemonizing, so the daemon keeps it.
	 */
	if (getpid() == 1 && signal(SIGINT, rpd_sigint) == SIG_ERR)
		rp_warnp("Cannot handle SIGINT");
	switch (rp_options_parse(argc, argv, &o)) {
	case RP_OPT_RUN:
		break;
	case RP_OPT_EXIT_OK:
		return (0);
	case RP_OPT_EXIT_FAIL:
		return (1);
	}
	if ((o.conffile != NULL ? rpd_file(&r, &o) : rpd_cli(&r, &o)) != 0)
		return (1);

	/* The environment is read here, once, not by any library. */
	if (rp_env_apply(&r.g->engine, r.g->given[RP_OPT_ENGINE], &r.backend)) {
		rp_pipeset_free(&r.set);
		return (1);
	}
	return (rpd_serve(&r));
}
