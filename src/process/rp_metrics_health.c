/*
 * What GET /healthz and GET /readyz of the metrics server answer, apart
 * from HTTP: liveness is the process itself (no fatal error raised); each
 * pipe judges its own readiness (rp_ctl_ready), so a daemon of many pipes
 * lists each one that is not ready.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_ctl.h"
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
	struct rp_ctl ** pipes;
	const char * name;
	char * text;
	size_t size;
	FILE * f;
	int i, n;

	if ((f = open_memstream(&text, &size)) == NULL)
		return (NULL);
	*ready = 1;
	if (rp_fatal_raised()) {
		*ready = 0;
		fprintf(f, "not ready: fatal error: exiting\n");
	}
	pipes = rp_ctl_loop_pipes(src->loop, &n);
	if (n == 0) {
		*ready = 0;
		fprintf(f, "not ready: no pipe\n");
	}
	for (i = 0; i < n; i++) {
		if (rp_ctl_ready(pipes[i], why, sizeof(why)))
			continue;
		*ready = 0;

		/* The one pipe of the command line has no name. */
		if ((name = rp_ctl_name(pipes[i])) != NULL)
			fprintf(f, "not ready: pipe %s: %s\n", name, why);
		else
			fprintf(f, "not ready: %s\n", why);
	}
	for (i = 0; i < n; i++)
		rp_ctl_put(pipes[i]);
	free(pipes);
	if (*ready)
		fprintf(f, "ok\n");
	if (fclose(f) != 0) {
		free(text);
		return (NULL);
	}
	return (text);
}
