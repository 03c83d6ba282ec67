/*
 * The packet crypto backends built in, and the paths (backend variants)
 * they offer, numbered across backends with OpenSSL's first.
 */
#include <stddef.h>
#include <string.h>

#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"

/* Backends in path order; [0] is the portable reference. */
static const struct crypto_pkt_ops * const backends[] = {
	&crypto_pkt_openssl,
#ifdef RP_HAVE_IPSECMB
	&crypto_pkt_ipsecmb,
#endif
};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

/**
 * crypto_pkt_backend(b):
 * Return the backend with enum value ${b}, or NULL if it is not built in.
 */
const struct crypto_pkt_ops *
crypto_pkt_backend(enum crypto_backend b)
{
	size_t i;

	for (i = 0; i < NBACKENDS; i++) {
		if (backends[i]->backend == b)
			return (backends[i]);
	}
	return (NULL);
}

/**
 * crypto_pkt_path_get(i, path):
 * Fill ${path} with path number ${i}.  Return 0, or -1 if there are not
 * that many paths.
 */
int
crypto_pkt_path_get(size_t i, struct crypto_pkt_path * path)
{
	size_t b;

	for (b = 0; b < NBACKENDS; b++) {
		if (i < backends[b]->nvariants) {
			path->ops = backends[b];
			path->v = i;
			return ((i < CRYPTO_PKT_NPATHS) ? 0 : -1);
		}
		i -= backends[b]->nvariants;
	}
	return (-1);
}

/**
 * crypto_pkt_path_name(i):
 * Return the name of crypto path ${i} (numbered from 0 across the backends
 * built in, e.g. "openssl", "hybrid"), or NULL if there are not that many.
 */
const char *
crypto_pkt_path_name(size_t i)
{
	struct crypto_pkt_path p;

	if (crypto_pkt_path_get(i, &p))
		return (NULL);
	return (p.ops->variants[p.v].path);
}

/**
 * crypto_pkt_path_mask(name):
 * Return the mask of the paths ${name} stands for: "auto" every path, a
 * backend ("openssl", "ipsecmb") its paths, a path name that path.  Return
 * 0 if ${name} is none of these.
 */
unsigned
crypto_pkt_path_mask(const char * name)
{
	static const struct {
		const char * name;
		enum crypto_backend b;
	} bnames[] = {
		{ "openssl", CRYPTO_BACKEND_OPENSSL },
		{ "ipsecmb", CRYPTO_BACKEND_IPSECMB },
		{ "ipsec-mb", CRYPTO_BACKEND_IPSECMB },
	};
	struct crypto_pkt_path p;
	unsigned mask = 0;
	size_t i, j;

	for (i = 0; crypto_pkt_path_get(i, &p) == 0; i++) {
		if (strcmp(name, "auto") == 0)
			mask |= 1u << i;
		else if (strcmp(name, p.ops->variants[p.v].path) == 0)
			mask |= 1u << i;
		for (j = 0; j < sizeof(bnames) / sizeof(bnames[0]); j++) {
			if ((strcmp(name, bnames[j].name) == 0) &&
			    (p.ops->backend == bnames[j].b))
				mask |= 1u << i;
		}
	}
	return (mask);
}
