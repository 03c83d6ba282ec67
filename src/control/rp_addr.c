#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "rp_addr.h"
#include "rp_log.h"

/* Split "${s}" at its last ':' into host and port; NULL on a bad form. */
static char *
addr_split(const char * s, char ** port)
{
	char * h;
	char * c;

	if ((h = strdup(s)) == NULL)
		return (NULL);
	if ((c = strrchr(h, ':')) == NULL || c[1] == '\0' || c == h) {
		free(h);
		return (NULL);
	}
	*c = '\0';
	*port = c + 1;
	return (h);
}

/* Parse the decimal port ${p}, at least ${min}, into ${port}; 0 or -1. */
static int
addr_port(const char * p, unsigned long min, unsigned * port)
{
	char * end;
	unsigned long v;

	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || *end != '\0' || v < min || v > 65535 || p[0] == '-' ||
	    p[0] == '+')
		return (-1);
	*port = (unsigned)v;
	return (0);
}

/* Parse "[ip]" in ${h} with ${port} into ${a}; return 0 or -1. */
static int
addr_literal(char * h, unsigned port, struct rp_addr * a)
{
	size_t l = strlen(h);
	struct sockaddr_in * sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 * sin6 = (struct sockaddr_in6 *)&a->ss;

	if (l < 3 || h[0] != '[' || h[l - 1] != ']')
		return (-1);
	h[l - 1] = '\0';
	h++;
	memset(a, 0, sizeof(*a));
	if (strchr(h, ':') != NULL) {
		if (inet_pton(AF_INET6, h, &sin6->sin6_addr) != 1)
			return (-1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*sin6);
	} else {
		if (inet_pton(AF_INET, h, &sin->sin_addr) != 1)
			return (-1);
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		a->len = sizeof(*sin);
	}
	return (0);
}

/* Return 0 if ${s} has one of the accepted forms with a port of at least
 * ${minport}, -1 otherwise. */
static int
addr_validate(const char * s, unsigned long minport)
{
	struct rp_addr a;
	char * h;
	char * p;
	unsigned port;
	int rc = 0;

	if (s[0] == '/')
		return (strlen(s) < sizeof(((struct sockaddr_un *)0)->sun_path)
		    ? 0 : -1);
	if ((h = addr_split(s, &p)) == NULL)
		return (-1);
	if (addr_port(p, minport, &port))
		rc = -1;
	else if (h[0] == '[')
		rc = addr_literal(h, port, &a);
	free(h);
	return (rc);
}

/*
 * The -b address ${s} as spiped 1.6.3 and later take it: a host or a
 * bracketed address without a port gets ":0" (the OS picks the port); a
 * UNIX path or an address with a port stays as it is.  Return a copy to
 * free, or NULL.
 */
static char *
addr_bind_form(const char * s)
{
	const char * c = strrchr(s, ':');
	char * out;

	if (s[0] == '/' || (c != NULL &&
	    (s[0] != '[' || (c > s && c[-1] == ']'))))
		return (strdup(s));
	if (asprintf(&out, "%s:0", s) == -1)
		return (NULL);
	return (out);
}

/**
 * rp_addr_validate(s):
 * Return 0 if ${s} has one of the accepted forms, -1 otherwise.
 */
int
rp_addr_validate(const char * s)
{

	return (addr_validate(s, 1));
}

/**
 * rp_addr_validate_bind(s):
 * Return 0 if ${s} is a valid -b address: one of the accepted forms, where
 * the port may be 0 or left out ("127.0.0.1", "[::1]", "host"), -1
 * otherwise.
 */
int
rp_addr_validate_bind(const char * s)
{
	char * b;
	int rc;

	if ((b = addr_bind_form(s)) == NULL)
		return (-1);
	rc = addr_validate(b, 0);
	free(b);
	return (rc);
}

/* Resolve ${s}, whose port is at least ${minport}; see rp_addr_resolve. */
static int
addr_resolve(const char * s, unsigned long minport, struct rp_addr * out,
    int max)
{
	struct sockaddr_un * sun = (struct sockaddr_un *)&out[0].ss;
	struct addrinfo hints, * res, * r;
	char * h;
	char * p;
	unsigned port;
	int n = 0;
	int rc;

	if (addr_validate(s, minport)) {
		rp_warn("Invalid socket address: %s", s);
		return (-1);
	}
	if (s[0] == '/') {
		memset(&out[0], 0, sizeof(out[0]));
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, s);
		out[0].len = sizeof(*sun);
		return (1);
	}
	if ((h = addr_split(s, &p)) == NULL)
		return (-1);
	(void)addr_port(p, minport, &port);
	if (h[0] == '[') {
		n = (addr_literal(h, port, &out[0]) == 0) ? 1 : -1;
		free(h);
		return (n);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(h, p, &hints, &res)) != 0) {
		rp_warn("Error resolving socket address: %s: %s", s,
		    gai_strerror(rc));
		free(h);
		return (-1);
	}
	for (r = res; r != NULL && n < max; r = r->ai_next) {
		if (r->ai_addrlen > sizeof(out[n].ss))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(&out[n].ss, r->ai_addr, r->ai_addrlen);
		out[n].len = r->ai_addrlen;
		n++;
	}
	freeaddrinfo(res);
	free(h);
	if (n == 0) {
		rp_warn("No addresses found for %s", s);
		return (-1);
	}
	return (n);
}

/**
 * rp_addr_resolve(s, out, max):
 * Resolve ${s} into at most ${max} addresses stored in ${out}.  Return the
 * number found (at least 1), or -1 with a warning printed on failure.  Host
 * names go through getaddrinfo() and may block.
 */
int
rp_addr_resolve(const char * s, struct rp_addr * out, int max)
{

	return (addr_resolve(s, 1, out, max));
}

/**
 * rp_addr_resolve_bind(s, out):
 * Resolve the -b address ${s} (see rp_addr_validate_bind) into ${out}: the
 * first address it names.  Return 0, or -1 with a warning printed.
 */
int
rp_addr_resolve_bind(const char * s, struct rp_addr * out)
{
	char * b;
	int n;

	if ((b = addr_bind_form(s)) == NULL) {
		rp_warnp("Cannot parse bind address %s", s);
		return (-1);
	}
	n = addr_resolve(b, 0, out, 1);
	free(b);
	return (n < 1 ? -1 : 0);
}

/**
 * rp_addr_format(a, buf, len):
 * Write a printable form of ${a} into ${buf} of ${len} bytes; return ${buf}.
 */
char *
rp_addr_format(const struct rp_addr * a, char * buf, size_t len)
{
	const struct sockaddr_in * sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 * sin6 = (const struct sockaddr_in6 *)&a->ss;
	char ip[INET6_ADDRSTRLEN];

	switch (a->ss.ss_family) {
	case AF_UNIX:
		snprintf(buf, len, "%s",
		    ((const struct sockaddr_un *)&a->ss)->sun_path);
		break;
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(buf, len, "(unknown family %d)", a->ss.ss_family);
	}
	return (buf);
}
