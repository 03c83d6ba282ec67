/*
 * Interoperability of the handshake machine with stock spiped over real
 * loopback sockets: our client against `spiped -d`, our server against
 * `spiped -e`, then one data packet each way sealed/opened with raw
 * OpenSSL (AES-256-CTR + HMAC-SHA256 per PROTOCOL.md) to prove the keys.
 * Skipped if /usr/bin/spiped is missing.  Every wait is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto_hmac.h"
#include "crypto_secret.h"
#include "proto_handshake.h"

#define SPIPED	"/usr/bin/spiped"
#define IOWAIT_MS 5000
#define PKTLEN	1060

static char keypath[64];
static uint8_t K[32];
static pid_t spiped_pid;	/* The running spiped, or 0. */

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A listening socket on 127.0.0.1, ephemeral port stored in ${port}. */
static int
listen_any(int * port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int s, one = 1;

	assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return (s);
}

/* A port that was free a moment ago. */
static int
free_port(void)
{
	int port, s = listen_any(&port);

	close(s);
	return (port);
}

/* Connect to 127.0.0.1:${port}, retrying until ${ms} have passed. */
static int
connect_retry(int port, int ms)
{
	struct sockaddr_in sin;
	long long end = now_ms() + ms;
	int s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	do {
		assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
		if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return (s);
		close(s);
		usleep(20000);
	} while (now_ms() < end);
	return (-1);
}

/* Accept on ${l} within IOWAIT_MS. */
static int
accept_wait(int l)
{
	struct pollfd p = { .fd = l, .events = POLLIN };

	if (poll(&p, 1, IOWAIT_MS) != 1)
		return (-1);
	return (accept(l, NULL, NULL));
}

/* Read exactly ${len} bytes within IOWAIT_MS; return 0 or -1. */
static int
read_full(int s, uint8_t * buf, size_t len)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	long long end = now_ms() + IOWAIT_MS;
	ssize_t r;
	size_t got = 0;

	while (got < len) {
		int left = (int)(end - now_ms());

		if ((left <= 0) || (poll(&p, 1, left) != 1))
			return (-1);
		if ((r = read(s, &buf[got], len - got)) <= 0)
			return (-1);
		got += (size_t)r;
	}
	return (0);
}

/* Start spiped with ${mode} ("-d"/"-e") and extra flag ${flag}. */
static pid_t
start_spiped(const char * mode, int sport, int tport, const char * flag)
{
	char s[64], t[64], pidf[64];
	pid_t pid;

	snprintf(s, sizeof(s), "[127.0.0.1]:%d", sport);
	snprintf(t, sizeof(t), "[127.0.0.1]:%d", tport);
	snprintf(pidf, sizeof(pidf), "/tmp/rp-hs-spiped.%d.pid", sport);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0)
			dup2(devnull, 1);
		if (flag != NULL)
			execl(SPIPED, "spiped", mode, "-s", s, "-t", t, "-k",
			    keypath, "-F", "-p", pidf, "-o", "5", flag,
			    (char *)NULL);
		else
			execl(SPIPED, "spiped", mode, "-s", s, "-t", t, "-k",
			    keypath, "-F", "-p", pidf, "-o", "5",
			    (char *)NULL);
		_exit(127);
	}
	spiped_pid = pid;
	return (pid);
}

static void
stop_spiped(pid_t pid)
{
	int st, i;

	if (pid <= 0)
		return;
	spiped_pid = 0;
	kill(pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* After each test, even a failed one: no spiped is left behind. */
static int
test_teardown(void ** state)
{

	(void)state;
	stop_spiped(spiped_pid);
	return (0);
}

/* The global time limit: kill our spiped, then give up. */
static void
on_alarm(int sig)
{

	(void)sig;
	if (spiped_pid > 0)
		kill(spiped_pid, SIGKILL);
	_exit(2);
}

/*
 * Run ${hs} over socket ${s} until DONE or FAILED (or the peer closes),
 * reading at most read_hint bytes at a time.  Return the final want.
 */
static int
hs_over_socket(struct proto_hs * hs, int s)
{
	long long end = now_ms() + IOWAIT_MS;
	uint8_t buf[512];
	const uint8_t * o;
	size_t n, hint;
	ssize_t r;
	int want;

	while (((want = proto_hs_want(hs)) &
	    (PROTO_HS_DONE | PROTO_HS_FAILED)) == 0) {
		struct pollfd p = { .fd = s, .events = POLLIN };

		if (now_ms() > end)
			return (-1);
		if (want & PROTO_HS_WANT_COMPUTE) {
			proto_hs_compute(hs);
			continue;
		}
		if (want & PROTO_HS_WANT_WRITE) {
			o = proto_hs_output(hs, &n);
			if ((r = write(s, o, n)) <= 0)
				return (-1);
			proto_hs_output_done(hs, (size_t)r);
			continue;
		}
		if (poll(&p, 1, 200) != 1)
			continue;
		hint = proto_hs_read_hint(hs);
		if (hint > sizeof(buf))
			hint = sizeof(buf);
		if ((r = read(s, buf, hint)) <= 0)
			return (-1);	/* the peer dropped us */
		assert_int_equal(proto_hs_input(hs, buf, (size_t)r),
		    (size_t)r);
	}
	return (want);
}

/* AES-256-CTR of 1028 bytes under counter block be64(pnum) || 0. */
static void
ctr(const uint8_t key[32], uint64_t pnum, const uint8_t * in, uint8_t * out)
{
	EVP_CIPHER_CTX * c;
	uint8_t iv[16] = {0};
	int l1, l2, i;

	for (i = 0; i < 8; i++)
		iv[i] = (uint8_t)(pnum >> (56 - 8 * i));
	assert_non_null(c = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, key,
	    iv), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out, &l1, in, 1028), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, &out[l1], &l2), 1);
	assert_int_equal(l1 + l2, 1028);
	EVP_CIPHER_CTX_free(c);
}

/* HMAC(mac, C || be64(pnum)) into ${tag}. */
static void
pkt_tag(const uint8_t mac[32], const uint8_t C[1028], uint64_t pnum,
    uint8_t tag[32])
{
	uint8_t buf[1036];
	int i;

	memcpy(buf, C, 1028);
	for (i = 0; i < 8; i++)
		buf[1028 + i] = (uint8_t)(pnum >> (56 - 8 * i));
	assert_int_equal(crypto_hmac_sha256(mac, 32, buf, sizeof(buf), tag),
	    0);
}

/* Seal ${len} bytes of ${msg} as packet 0 with the send keys. */
static void
seal0(const struct proto_keys * k, const char * msg, uint8_t pkt[PKTLEN])
{
	uint8_t pad[1028] = {0};
	size_t len = strlen(msg);

	memcpy(pad, msg, len);
	pad[1027] = (uint8_t)len;
	pad[1026] = (uint8_t)(len >> 8);
	ctr(k->send_enc, 0, pad, pkt);
	pkt_tag(k->send_mac, pkt, 0, &pkt[1028]);
}

/* Open packet 0 with the receive keys; check it carries ${msg}. */
static void
open0(const struct proto_keys * k, const uint8_t pkt[PKTLEN],
    const char * msg)
{
	uint8_t tag[32], pad[1028];
	size_t len = strlen(msg);

	pkt_tag(k->recv_mac, pkt, 0, tag);
	assert_int_equal(CRYPTO_memcmp(tag, &pkt[1028], 32), 0);
	ctr(k->recv_enc, 0, pkt, pad);
	assert_int_equal(pad[1024] | pad[1025] | pad[1026], 0);
	assert_int_equal(pad[1027], len);
	assert_memory_equal(pad, msg, len);
}

/* Our client against spiped -d ${flag}; ${ok} says if it should work. */
static void
client_vs_spiped_d(int nopfs, int requirepfs, const char * flag, int ok)
{
	struct proto_hs * hs;
	struct proto_keys k;
	uint8_t pkt[PKTLEN];
	char got[8];
	int tl, tport, sport, s, t, want;
	pid_t pid;

	tl = listen_any(&tport);
	sport = free_port();
	pid = start_spiped("-d", sport, tport, flag);
	assert_true((s = connect_retry(sport, IOWAIT_MS)) >= 0);

	assert_non_null(hs = proto_hs_new(PROTO_CLIENT, K, nopfs,
	    requirepfs));
	want = hs_over_socket(hs, s);
	if (!ok) {
		/* Either we refuse, or spiped drops us. */
		assert_int_not_equal(want, PROTO_HS_DONE);
		goto done;
	}
	assert_int_equal(want, PROTO_HS_DONE);
	assert_int_equal(proto_hs_keys(hs, &k), 0);

	/* One packet in: spiped decrypts "hello" to its target. */
	assert_true((t = accept_wait(tl)) >= 0);
	seal0(&k, "hello", pkt);
	assert_int_equal(write(s, pkt, PKTLEN), PKTLEN);
	assert_int_equal(read_full(t, (uint8_t *)got, 5), 0);
	assert_memory_equal(got, "hello", 5);

	/* One packet out: spiped encrypts "world" back to us. */
	assert_int_equal(write(t, "world", 5), 5);
	assert_int_equal(read_full(s, pkt, PKTLEN), 0);
	open0(&k, pkt, "world");
	close(t);
done:
	proto_hs_free(hs);
	close(s);
	close(tl);
	stop_spiped(pid);
}

/* Our server behind spiped -e ${flag}. */
static void
server_vs_spiped_e(int nopfs, int requirepfs, const char * flag, int ok)
{
	struct proto_hs * hs;
	struct proto_keys k;
	uint8_t pkt[PKTLEN];
	char got[8];
	int tl, tport, sport, p, s, want;
	pid_t pid;

	tl = listen_any(&tport);
	sport = free_port();
	pid = start_spiped("-e", sport, tport, flag);

	/* A plaintext client makes spiped connect to us. */
	assert_true((p = connect_retry(sport, IOWAIT_MS)) >= 0);
	assert_true((s = accept_wait(tl)) >= 0);
	assert_non_null(hs = proto_hs_new(PROTO_SERVER, K, nopfs,
	    requirepfs));
	want = hs_over_socket(hs, s);
	if (!ok) {
		/* If we refused, fine; a -f server is DONE (it cannot know)
		 * but then spiped -g drops the connection unused. */
		if (want == PROTO_HS_DONE)
			assert_int_equal(read_full(s, pkt, 1), -1);
		else
			assert_int_equal(want, PROTO_HS_FAILED);
		goto done;
	}
	assert_int_equal(want, PROTO_HS_DONE);
	assert_int_equal(proto_hs_keys(hs, &k), 0);

	/* Plaintext "ping" arrives sealed. */
	assert_int_equal(write(p, "ping", 4), 4);
	assert_int_equal(read_full(s, pkt, PKTLEN), 0);
	open0(&k, pkt, "ping");

	/* Our sealed "pong" comes out in plaintext. */
	seal0(&k, "pong", pkt);
	assert_int_equal(write(s, pkt, PKTLEN), PKTLEN);
	assert_int_equal(read_full(p, (uint8_t *)got, 4), 0);
	assert_memory_equal(got, "pong", 4);
done:
	proto_hs_free(hs);
	close(s);
	close(p);
	close(tl);
	stop_spiped(pid);
}

static int
setup(void ** state)
{
	uint8_t raw[32];
	FILE * f;
	int fd;

	(void)state;
	if (access(SPIPED, X_OK) != 0)
		return (0);
	strcpy(keypath, "/tmp/rp-hs-key.XXXXXX");
	if ((fd = mkstemp(keypath)) < 0)
		return (-1);
	if ((f = fdopen(fd, "wb")) == NULL)
		return (-1);
	if (RAND_bytes(raw, 32) != 1)
		return (-1);
	fwrite(raw, 1, 32, f);
	fclose(f);
	return (crypto_secret_load(keypath, K));
}

static int
teardown(void ** state)
{

	(void)state;
	if (keypath[0] != '\0')
		unlink(keypath);
	return (0);
}

#define NEED_SPIPED() do {				\
	if (access(SPIPED, X_OK) != 0)			\
		skip();					\
} while (0)

static void
test_client_default(void ** state)
{

	(void)state;
	NEED_SPIPED();
	client_vs_spiped_d(0, 0, NULL, 1);
	client_vs_spiped_d(0, 1, "-g", 1);
}

static void
test_client_nopfs(void ** state)
{

	(void)state;
	NEED_SPIPED();
	client_vs_spiped_d(1, 0, NULL, 1);
	client_vs_spiped_d(0, 0, "-f", 1);
	client_vs_spiped_d(1, 0, "-f", 1);
	client_vs_spiped_d(1, 0, "-g", 0);	/* spiped -g drops us */
	client_vs_spiped_d(0, 1, "-f", 0);	/* we drop spiped -f */
}

static void
test_server_default(void ** state)
{

	(void)state;
	NEED_SPIPED();
	server_vs_spiped_e(0, 0, NULL, 1);
	server_vs_spiped_e(0, 1, "-g", 1);
}

static void
test_server_nopfs(void ** state)
{

	(void)state;
	NEED_SPIPED();
	server_vs_spiped_e(1, 0, NULL, 1);
	server_vs_spiped_e(0, 0, "-f", 1);
	server_vs_spiped_e(0, 1, "-f", 0);	/* we drop spiped -f */
	server_vs_spiped_e(1, 0, "-g", 0);	/* spiped -g drops us */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_client_default, test_teardown),
		cmocka_unit_test_teardown(test_client_nopfs, test_teardown),
		cmocka_unit_test_teardown(test_server_default, test_teardown),
		cmocka_unit_test_teardown(test_server_nopfs, test_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(120);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
