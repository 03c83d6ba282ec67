#include <stdlib.h>
#include <string.h>

#include "crypto_dh.h"
#include "rp_env.h"
#include "rp_log.h"

/**
 * rp_env_apply(engine, given, backend):
 * Read the environment: store RINGPIPED_ENGINE's engine in ${engine} unless
 * ${given} (--engine was given), the workers' crypto backend in
 * ${backend}, and hand RINGPIPED_CRYPTO and RINGPIPED_DH to the crypto
 * library.  Return 0, or -1 with a warning printed if RINGPIPED_ENGINE
 * names no engine.
 */
int
rp_env_apply(enum rp_engine * engine, int given, enum crypto_backend * backend)
{
	const char * s;

	/* The environment picks for a daemon started without the flag. */
	if (!given && (s = getenv("RINGPIPED_ENGINE")) != NULL &&
	    rp_engine_parse(s, engine)) {
		rp_warn("RINGPIPED_ENGINE=%s names no engine "
		    "(auto, io_uring, epoll)", s);
		return (-1);
	}
	s = getenv("RINGPIPED_CRYPTO");
	crypto_pkt_set_default(s);
	*backend = (s != NULL && strcmp(s, "openssl") == 0) ?
	    CRYPTO_BACKEND_OPENSSL : CRYPTO_BACKEND_AUTO;
	crypto_dh_set_path(getenv("RINGPIPED_DH"));
	return (0);
}
