#ifndef PROTO_PROXY_H_
#define PROTO_PROXY_H_

/*
 * PROXY protocol headers (HAProxy's proxy-protocol.txt, versions 1 and 2),
 * without I/O: the bytes an -e writes as the first plaintext of a
 * connection so that the backend behind the -d learns the original
 * client's address.  TCP over IPv4 and IPv6 get the address forms; any
 * other family (UNIX sockets) gets v1's "UNKNOWN" or v2's LOCAL command.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest header: v1 is at most 107 bytes; v2 here at most 16 + 36. */
#define PROTO_PROXY_MAXLEN	108

/**
 * proto_proxy_header(version, src, dst, out):
 * Write into ${out} (PROTO_PROXY_MAXLEN bytes) the PROXY protocol header of
 * ${version} (1 or 2) for a connection from ${src} to ${dst} (the client's
 * address and the address it connected to; either may be NULL for
 * "unknown").  Return its length, or 0 if ${version} is neither.
 */
size_t proto_proxy_header(int version, const struct sockaddr * src,
    const struct sockaddr * dst, uint8_t out[PROTO_PROXY_MAXLEN]);

#endif /* !PROTO_PROXY_H_ */
