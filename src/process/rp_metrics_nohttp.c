/*
 * The metrics server in a build without libmicrohttpd (the Makefile picks
 * this file then): --metrics is refused with a message saying why.
 */

#include <stddef.h>

#include "rp_log.h"
#include "rp_metrics.h"

/**
 * rp_metrics_unavailable():
 * Return NULL if this build can serve metrics (libmicrohttpd), else why
 * it cannot.
 */
const char *
rp_metrics_unavailable(void)
{

	return ("this ringpiped was built without libmicrohttpd (install "
	    "libmicrohttpd-dev and rebuild)");
}

/**
 * rp_metrics_listen(a):
 * Bind and listen on the address ${a} for metrics.  Without libmicrohttpd:
 * say so and return NULL.
 */
struct rp_metrics *
rp_metrics_listen(const struct rp_addr * a)
{

	(void)a;
	rp_warn("--metrics: %s", rp_metrics_unavailable());
	return (NULL);
}

/**
 * rp_metrics_start(m, src):
 * Start serving ${src} through ${m}: never reached without libmicrohttpd
 * (there is no ${m}); return -1.
 */
int
rp_metrics_start(struct rp_metrics * m, const struct rp_metrics_src * src)
{

	(void)m;
	(void)src;
	return (-1);
}

/**
 * rp_metrics_free(m):
 * Free ${m}: there is none without libmicrohttpd.
 */
void
rp_metrics_free(struct rp_metrics * m)
{

	(void)m;
}
