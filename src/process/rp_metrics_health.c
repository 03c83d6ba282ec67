/*
 * What GET /healthz and GET /readyz of the metrics server answer, apart
 * from HTTP: liveness is the process itself (no fatal error raised); each
 * pipe judges its own readiness (rp_ctl_ready), so a daemon of many pipes
 * lists each one that is not ready.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_ctl_health.h"
#include "rp_fatal.h"
#include "rp_metrics.h"

/* The longest reason one pipe gives. */
#define HEALTH_WHY	256

/**
 * rp_metrics_healthy(ready):
 * Return what GET /healthz answers, storing in ${ready} whether it is 200
 * (the process serves: no fatal error was raised) or 503.
 */
const char *
rp_metrics_healthy(int * ready)
{

	if (rp_fatal_raised()) {
		*ready = 0;
		return ("fatal error: exiting\n");
	}
	*ready = 1;
	return ("ok\n");
}

/**
 * rp_metrics_ready(src, ready):
 * Judge whether every pipe of ${src} is ready (rp_ctl_ready, which may
 * probe a target) and no fatal error was raised; store 1 or 0 in ${ready}
 * and return what GET /readyz answers: "ok", or a line per pipe that is
 * not ready saying why (to be freed by the caller); NULL if out of memory.
 */
char *
rp_metrics_ready(const struct rp_metrics_src * src, int * ready)
{
	char why[HEALTH_WHY];
	char * text;
	size_t size;
	FILE * f;
	int i;

	if ((f = open_memstream(&text, &size)) == NULL)
		return (NULL);
	*ready = 1;
	if (rp_fatal_raised()) {
		*ready = 0;
		fprintf(f, "not ready: fatal error: exiting\n");
	}
	for (i = 0; i < src->npipes; i++) {
		if (rp_ctl_ready(src->pipes[i], why, sizeof(why)))
			continue;
		*ready = 0;

		/* One pipe (command-line mode) needs no number. */
		if (src->npipes > 1)
			fprintf(f, "not ready: pipe %d: %s\n", i, why);
		else
			fprintf(f, "not ready: %s\n", why);
	}
	if (*ready)
		fprintf(f, "ok\n");
	if (fclose(f) != 0) {
		free(text);
		return (NULL);
	}
	return (text);
}
