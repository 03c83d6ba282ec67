#ifndef RP_METRICS_H_
#define RP_METRICS_H_

/*
 * --metrics: an HTTP server (libmicrohttpd, on a thread of its own) that
 * answers GET /metrics with the daemon's counters in the Prometheus text
 * format, GET /healthz (200 "ok" while the process serves) and GET /readyz
 * (200 "ok" while every pipe is ready, rp_ctl_health.h; else 503 naming
 * what is not), 404 for any other path and 405 for any other method.  A scrape
 * reads the counters the control thread and the workers keep anyway
 * (rp_ctlstats, rp_worker_counts) and sums them: the data path does no
 * work for it.  Built without libmicrohttpd, rp_metrics_unavailable says
 * so and rp_metrics_listen fails.
 */

#include "rp_addr.h"

struct rp_ctl;
struct rp_ctl_loop;
struct rp_ctlstats;
struct rp_worker;

/* What the info metric says about this daemon. */
struct rp_metrics_info {
	const char * version;
	const char * mode;		/* "encrypt" (-e) or "decrypt" (-d). */
	const char * engine;		/* The workers' engine. */
	const char * crypto;		/* The crypto paths chosen. */
};

/* What a scrape reads; it must outlive the server. */
struct rp_metrics_src {
	struct rp_metrics_info info;
	struct rp_ctl_loop * loop;	/* Its pipes, read at each request. */
	struct rp_worker * const * workers;
	int nworkers;
};

struct rp_metrics;

/**
 * rp_metrics_unavailable():
 * Return NULL if this build can serve metrics (libmicrohttpd), else why
 * it cannot.
 */
const char * rp_metrics_unavailable(void);

/**
 * rp_metrics_listen(a):
 * Bind and listen on the address ${a} for metrics (before privileges are
 * dropped and before the daemon detaches; no thread starts yet).  Return
 * the server, or NULL with a warning printed.
 */
struct rp_metrics * rp_metrics_listen(const struct rp_addr * a);

/**
 * rp_metrics_start(m, src):
 * Start serving ${src} through ${m} on a thread of the server's own.
 * Return 0, or -1 with a warning printed.
 */
int rp_metrics_start(struct rp_metrics * m, const struct rp_metrics_src * src);

/**
 * rp_metrics_free(m):
 * Stop ${m} (waiting for a scrape under way), close its socket and free
 * it.  NULL is a no-op.
 */
void rp_metrics_free(struct rp_metrics * m);

/**
 * rp_metrics_scrape(src, len):
 * Return what GET /metrics answers for ${src} now: the text (to be freed
 * by the caller), its length stored in ${len}; or NULL if out of memory.
 */
char * rp_metrics_scrape(const struct rp_metrics_src * src, size_t * len);

/**
 * rp_metrics_ready(src, ready):
 * Judge whether every pipe of ${src} is ready (rp_ctl_ready, which may
 * probe a target) and no fatal error was raised; store 1 or 0 in ${ready}
 * and return what GET /readyz answers: "ok", or a line per pipe that is
 * not ready saying why (to be freed by the caller); NULL if out of memory.
 */
char * rp_metrics_ready(const struct rp_metrics_src * src, int * ready);

/**
 * rp_metrics_healthy(ready):
 * Return what GET /healthz answers, storing in ${ready} whether it is 200
 * (the process serves: no fatal error was raised) or 503.
 */
const char * rp_metrics_healthy(int * ready);

#endif /* !RP_METRICS_H_ */
