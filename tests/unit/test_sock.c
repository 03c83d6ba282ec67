/*
 * Unit tests of the socket tuning (src/control/rp_sock.c, rp_sock_tune): what
 * -j, the default and --keepalive S leave on a TCP socket (the keepalive
 * timers and TCP_USER_TIMEOUT derived from S, at its bounds), and that a
 * UNIX socket is left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rp_sock.h"

/* The int option ${level}/${name} of ${fd}. */
static int
opt(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
	return (v);
}

/* A fresh TCP socket tuned with ${keepalive}. */
static int
tuned(int keepalive)
{
	int fd;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	rp_sock_tune(fd, keepalive);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_NODELAY), 1);
	return (fd);
}

/* --keepalive ${s} gives idle ${idle}, interval ${intvl}, 3 probes and a
 * user timeout of ${s} seconds. */
static void
check_seconds(int s, int idle, int intvl)
{
	int fd = tuned(s);

	assert_int_equal(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), idle);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPINTVL), intvl);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), s * 1000);
	close(fd);
}

/* Half of S rounded up, a sixth of S (at least 1), S in ms; the idle
 * time stops at the kernel's most. */
static void
t_seconds(void ** state)
{

	(void)state;
	check_seconds(1, 1, 1);
	check_seconds(10, 5, 1);
	check_seconds(13, 7, 2);
	check_seconds(RP_SOCK_KA_MAX, 32767, RP_SOCK_KA_MAX / 6);
}

/* The default: SO_KEEPALIVE with the kernel's timers, no user timeout;
 * -j: no SO_KEEPALIVE. */
static void
t_kernel_and_off(void ** state)
{
	int fd, fresh;

	(void)state;
	assert_true((fresh = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	fd = tuned(RP_SOCK_KA_KERNEL);
	assert_int_equal(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
	    opt(fresh, IPPROTO_TCP, TCP_KEEPIDLE));
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	close(fd);
	fd = tuned(RP_SOCK_KA_OFF);
	assert_int_equal(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	close(fd);
	close(fresh);
}

/* A UNIX socket takes no TCP option: tuning it does nothing, and it
 * still works. */
static void
t_unix(void ** state)
{
	int sv[2];
	char c = 'x';

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	rp_sock_tune(sv[0], 10);
	assert_int_equal(send(sv[0], &c, 1, 0), 1);
	assert_int_equal(recv(sv[1], &c, 1, 0), 1);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_seconds),
		cmocka_unit_test(t_kernel_and_off),
		cmocka_unit_test(t_unix),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
