#include <stdlib.h>
#include <string.h>

#include "rp_engine.h"
#include "rp_log.h"
#include "rp_uring.h"

/**
 * rp_engine_parse(s, e):
 * Parse the engine name ${s} ("auto", "io_uring" or "epoll") into *${e}.
 * Return 0 on success, -1 if ${s} names no engine.
 */
int
rp_engine_parse(const char * s, enum rp_engine * e)
{

	if (strcmp(s, "auto") == 0)
		*e = RP_ENGINE_AUTO;
	else if (strcmp(s, "io_uring") == 0 || strcmp(s, "uring") == 0)
		*e = RP_ENGINE_URING;
	else if (strcmp(s, "epoll") == 0)
		*e = RP_ENGINE_EPOLL;
	else
		return (-1);
	return (0);
}

/**
 * rp_engine_resolve(want, got):
 * Decide which engine runs for the request ${want} and store it in *${got}.
 * AUTO probes io_uring and falls back to epoll with one log line naming the
 * cause; an explicit RP_ENGINE_URING that cannot run prints why and fails.
 * Return 0 on success, -1 on failure.
 */
int
rp_engine_resolve(enum rp_engine want, enum rp_engine * got)
{
	char why[256];

	if (want == RP_ENGINE_EPOLL) {
		*got = RP_ENGINE_EPOLL;
		return (0);
	}
	if (rp_uring_probe(why, sizeof(why)) == 0) {
		*got = RP_ENGINE_URING;
		return (0);
	}
	if (want == RP_ENGINE_URING) {
		rp_warn("%s", why);
		return (-1);
	}
	rp_warn("using the epoll engine: %s", why);
	*got = RP_ENGINE_EPOLL;
	return (0);
}

/**
 * rp_engine_name(e):
 * Return the name of engine ${e} as rp_engine_parse() takes it.
 */
const char *
rp_engine_name(enum rp_engine e)
{

	switch (e) {
	case RP_ENGINE_URING:
		return ("io_uring");
	case RP_ENGINE_EPOLL:
		return ("epoll");
	default:
		return ("auto");
	}
}
