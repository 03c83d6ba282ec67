#ifndef RP_ADDR_H_
#define RP_ADDR_H_

/*
 * Socket addresses in spiped's forms: "/absolute/unix/path",
 * "host.name:port", "[1.2.3.4]:port" and "[v6::addr]:port".
 */

#include <sys/socket.h>

struct rp_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* The most addresses kept from one look-up of a name. */
#define RP_ADDR_MAX	16

/**
 * rp_addr_validate(s):
 * Return 0 if ${s} has one of the accepted forms, -1 otherwise.
 */
int rp_addr_validate(const char * s);

/**
 * rp_addr_validate_bind(s):
 * Return 0 if ${s} is a valid -b address: one of the accepted forms, where
 * the port may be 0 or left out ("127.0.0.1", "[::1]", "host"), -1
 * otherwise.
 */
int rp_addr_validate_bind(const char * s);

/**
 * rp_addr_resolve(s, out, max):
 * Resolve ${s} into at most ${max} addresses stored in ${out}.  Return the
 * number found (at least 1), or -1 with a warning printed on failure.  Host
 * names go through getaddrinfo() and may block.
 */
int rp_addr_resolve(const char * s, struct rp_addr * out, int max);

/**
 * rp_addr_resolve_bind(s, out):
 * Resolve the -b address ${s} (see rp_addr_validate_bind) into ${out}: the
 * first address it names.  Return 0, or -1 with a warning printed.
 */
int rp_addr_resolve_bind(const char * s, struct rp_addr * out);

/**
 * rp_addr_format(a, buf, len):
 * Write a printable form of ${a} into ${buf} of ${len} bytes; return ${buf}.
 */
char * rp_addr_format(const struct rp_addr * a, char * buf, size_t len);

#endif /* !RP_ADDR_H_ */
