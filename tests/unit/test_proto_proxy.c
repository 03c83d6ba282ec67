/*
 * Unit tests of PROXY protocol headers (src/proto/proto_proxy.c) against
 * the byte layouts of HAProxy's proxy-protocol.txt, and of a header put
 * ahead of a pipe's plaintext (proto_pipe_prefix).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "crypto_pkt.h"
#include "pipe_sim.h"
#include "proto_proxy.h"

static struct sockaddr_in
v4(const char * a, uint16_t port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return (s);
}

static struct sockaddr_in6
v6(const char * a, uint16_t port)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	s.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return (s);
}

static void
t_v1(void ** state)
{
	struct sockaddr_in a = v4("192.0.2.7", 51234), b = v4("127.0.0.1", 8080);
	struct sockaddr_in6 c = v6("2001:db8::1", 443), d = v6("::1", 80);
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	uint8_t out[PROTO_PROXY_MAXLEN];
	size_t n;

	(void)state;
	n = proto_proxy_header(1, (void *)&a, (void *)&b, out);
	assert_int_equal(n, strlen("PROXY TCP4 192.0.2.7 127.0.0.1 51234 8080\r\n"));
	assert_memory_equal(out, "PROXY TCP4 192.0.2.7 127.0.0.1 51234 8080\r\n", n);
	n = proto_proxy_header(1, (void *)&c, (void *)&d, out);
	assert_memory_equal(out, "PROXY TCP6 2001:db8::1 ::1 443 80\r\n", n);
	n = proto_proxy_header(1, (void *)&u, (void *)&u, out);
	assert_memory_equal(out, "PROXY UNKNOWN\r\n", n);
	assert_int_equal(n, 15);
	/* Mixed families are unknown too. */
	n = proto_proxy_header(1, (void *)&a, (void *)&d, out);
	assert_memory_equal(out, "PROXY UNKNOWN\r\n", n);
	assert_int_equal(proto_proxy_header(3, (void *)&a, (void *)&b, out), 0);
}

static void
t_v2(void ** state)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	static const uint8_t v4body[16] = { 0x21, 0x11, 0x00, 0x0c,
	    192, 0, 2, 7, 127, 0, 0, 1, 0xc8, 0x22, 0x1f, 0x90 };
	struct sockaddr_in a = v4("192.0.2.7", 51234), b = v4("127.0.0.1", 8080);
	struct sockaddr_in6 c = v6("2001:db8::1", 443), d = v6("::1", 80);
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	uint8_t out[PROTO_PROXY_MAXLEN];
	size_t n;

	(void)state;
	n = proto_proxy_header(2, (void *)&a, (void *)&b, out);
	assert_int_equal(n, 28);
	assert_memory_equal(out, sig, 12);
	assert_memory_equal(out + 12, v4body, 16);
	n = proto_proxy_header(2, (void *)&c, (void *)&d, out);
	assert_int_equal(n, 52);
	assert_int_equal(out[12], 0x21);
	assert_int_equal(out[13], 0x21);
	assert_int_equal(out[15], 36);
	assert_memory_equal(out + 16, &c.sin6_addr, 16);
	assert_memory_equal(out + 32, &d.sin6_addr, 16);
	assert_int_equal(out[48] << 8 | out[49], 443);
	assert_int_equal(out[50] << 8 | out[51], 80);
	/* UNIX sockets: LOCAL, no addresses. */
	n = proto_proxy_header(2, (void *)&u, (void *)&u, out);
	assert_int_equal(n, 16);
	assert_int_equal(out[12], 0x20);
	assert_int_equal(out[13], 0x00);
	assert_int_equal(out[14] << 8 | out[15], 0);
	n = proto_proxy_header(2, NULL, NULL, out);
	assert_int_equal(n, 16);
}

/* The header comes out first, then the stream, byte for byte. */
static void
t_prefix(void ** state)
{
	struct crypto_engine * eng = crypto_engine_new(CRYPTO_BACKEND_AUTO);
	static const uint8_t hdr[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
	uint8_t in[3000];
	struct sim s;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 3);
	assert_int_equal(sim_init(&s, eng, in, sizeof(in), SIZE_MAX), 0);
	assert_int_equal(proto_pipe_prefix(s.a, hdr, sizeof(hdr) - 1), 0);
	sim_drain(&s, 10000);
	assert_int_equal(s.outlen, sizeof(hdr) - 1 + sizeof(in));
	assert_memory_equal(s.out, hdr, sizeof(hdr) - 1);
	assert_memory_equal(s.out + sizeof(hdr) - 1, in, sizeof(in));
	/* Not once the input has ended, nor while a read is out. */
	assert_int_equal(proto_pipe_prefix(s.a, hdr, 4), -1);
	sim_free(&s);
	assert_int_equal(sim_init(&s, eng, in, sizeof(in), SIZE_MAX), 0);
	assert_non_null(proto_pipe_rx_get(s.a, PROTO_PIPE_SEAL, &len));
	assert_int_equal(proto_pipe_prefix(s.a, hdr, 4), -1);
	proto_pipe_rx_abort(s.a, PROTO_PIPE_SEAL);
	assert_int_equal(proto_pipe_prefix(s.a, hdr, CRYPTO_PKT_PTMAX + 1), -1);
	sim_free(&s);
	crypto_engine_free(eng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_v1),
		cmocka_unit_test(t_v2),
		cmocka_unit_test(t_prefix),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
