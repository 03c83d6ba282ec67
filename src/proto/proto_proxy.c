/*
 * PROXY protocol v1 (text) and v2 (binary) headers, built from two socket
 * addresses.  No I/O.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proto_proxy.h"

/* The v2 signature: \r\n\r\n\0\r\nQUIT\n. */
static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* Whether ${src} and ${dst} are both TCP-able addresses of one family;
 * return that family, or AF_UNSPEC. */
static int
proxy_family(const struct sockaddr * src, const struct sockaddr * dst)
{

	if (src == NULL || dst == NULL || src->sa_family != dst->sa_family)
		return (AF_UNSPEC);
	if (src->sa_family == AF_INET || src->sa_family == AF_INET6)
		return (src->sa_family);
	return (AF_UNSPEC);
}

static size_t
proxy_v1(int fam, const struct sockaddr * src, const struct sockaddr * dst,
    uint8_t * out)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	unsigned sp, dp;
	int n;

	if (fam == AF_INET) {
		const struct sockaddr_in * a = (const void *)src;
		const struct sockaddr_in * b = (const void *)dst;

		inet_ntop(AF_INET, &a->sin_addr, s, sizeof(s));
		inet_ntop(AF_INET, &b->sin_addr, d, sizeof(d));
		sp = ntohs(a->sin_port);
		dp = ntohs(b->sin_port);
	} else if (fam == AF_INET6) {
		const struct sockaddr_in6 * a = (const void *)src;
		const struct sockaddr_in6 * b = (const void *)dst;

		inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof(s));
		inet_ntop(AF_INET6, &b->sin6_addr, d, sizeof(d));
		sp = ntohs(a->sin6_port);
		dp = ntohs(b->sin6_port);
	} else {
		memcpy(out, "PROXY UNKNOWN\r\n", 15);
		return (15);
	}
	n = snprintf((char *)out, PROTO_PROXY_MAXLEN, "PROXY %s %s %s %u %u\r\n",
	    fam == AF_INET ? "TCP4" : "TCP6", s, d, sp, dp);
	return ((n > 0 && n < PROTO_PROXY_MAXLEN) ? (size_t)n : 0);
}

static size_t
proxy_v2(int fam, const struct sockaddr * src, const struct sockaddr * dst,
    uint8_t * out)
{
	size_t alen = 0;

	memcpy(out, v2sig, sizeof(v2sig));
	if (fam == AF_INET) {
		const struct sockaddr_in * a = (const void *)src;
		const struct sockaddr_in * b = (const void *)dst;

		out[12] = 0x21;		/* Version 2, PROXY. */
		out[13] = 0x11;		/* AF_INET, STREAM. */
		memcpy(&out[16], &a->sin_addr, 4);
		memcpy(&out[20], &b->sin_addr, 4);
		memcpy(&out[24], &a->sin_port, 2);
		memcpy(&out[26], &b->sin_port, 2);
		alen = 12;
	} else if (fam == AF_INET6) {
		const struct sockaddr_in6 * a = (const void *)src;
		const struct sockaddr_in6 * b = (const void *)dst;

		out[12] = 0x21;
		out[13] = 0x21;		/* AF_INET6, STREAM. */
		memcpy(&out[16], &a->sin6_addr, 16);
		memcpy(&out[32], &b->sin6_addr, 16);
		memcpy(&out[48], &a->sin6_port, 2);
		memcpy(&out[50], &b->sin6_port, 2);
		alen = 36;
	} else {
		/* LOCAL: the receiver uses the connection's own addresses. */
		out[12] = 0x20;
		out[13] = 0x00;		/* AF_UNSPEC, UNSPEC. */
	}
	out[14] = (uint8_t)(alen >> 8);
	out[15] = (uint8_t)alen;
	return (16 + alen);
}

/**
 * proto_proxy_header(version, src, dst, out):
 * Write into ${out} (PROTO_PROXY_MAXLEN bytes) the PROXY protocol header of
 * ${version} (1 or 2) for a connection from ${src} to ${dst} (the client's
 * address and the address it connected to; either may be NULL for
 * "unknown").  Return its length, or 0 if ${version} is neither.
 */
size_t
proto_proxy_header(int version, const struct sockaddr * src,
    const struct sockaddr * dst, uint8_t out[PROTO_PROXY_MAXLEN])
{
	int fam = proxy_family(src, dst);

	if (version == 1)
		return (proxy_v1(fam, src, dst, out));
	if (version == 2)
		return (proxy_v2(fam, src, dst, out));
	return (0);
}
