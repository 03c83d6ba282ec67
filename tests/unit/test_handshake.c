/*
 * The handshake state machine (src/proto/proto_handshake.c) driven in
 * memory: against itself, and against a scripted peer that builds its
 * messages from PROTOCOL.md with the (separately tested) primitives, so the
 * derived keys can be checked against a reference derivation.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto_dh.h"
#include "crypto_hmac.h"
#include "proto_handshake.h"

#define MSGLEN	320	/* nonce (32) || y (256) || MAC (32) */

static const uint8_t testK[32] = {
	0x52, 0x69, 0x6e, 0x67, 0x70, 0x69, 0x70, 0x65,
	0x64, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x6b,
	0x65, 0x79, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e
};

/* -- Reference derivation, straight from PROTOCOL.md. -- */

/* dhmac_C || dhmac_S = PBKDF2(K, nonce_C || nonce_S, 1, 64). */
static void
ref_dhmac(const uint8_t nc[32], const uint8_t ns[32], uint8_t dk1[64])
{
	uint8_t salt[64];

	memcpy(salt, nc, 32);
	memcpy(&salt[32], ns, 32);
	assert_int_equal(crypto_pbkdf2_sha256(testK, 32, salt, 64, 1, dk1,
	    64), 0);
}

/* The client's keys from nonce_C, nonce_S and Z. */
static void
ref_keys(const uint8_t nc[32], const uint8_t ns[32], const uint8_t Z[256],
    struct proto_keys * client)
{
	uint8_t salt[320];
	uint8_t dk2[128];

	memcpy(salt, nc, 32);
	memcpy(&salt[32], ns, 32);
	memcpy(&salt[64], Z, 256);
	assert_int_equal(crypto_pbkdf2_sha256(testK, 32, salt, 320, 1, dk2,
	    128), 0);
	memcpy(client->send_enc, &dk2[0], 32);
	memcpy(client->send_mac, &dk2[32], 32);
	memcpy(client->recv_enc, &dk2[64], 32);
	memcpy(client->recv_mac, &dk2[96], 32);
}

/* The server's view of the client's keys. */
static void
swap_keys(const struct proto_keys * in, struct proto_keys * out)
{

	memcpy(out->send_enc, in->recv_enc, 32);
	memcpy(out->send_mac, in->recv_mac, 32);
	memcpy(out->recv_enc, in->send_enc, 32);
	memcpy(out->recv_mac, in->send_mac, 32);
}

/* y || HMAC(key, y) into ${yh}. */
static void
mac_y(const uint8_t key[32], const uint8_t y[256], uint8_t yh[288])
{

	memcpy(yh, y, 256);
	assert_int_equal(crypto_hmac_sha256(key, 32, y, 256, &yh[256]), 0);
}

static void
set_one(uint8_t y[256])
{

	memset(y, 0, 256);
	y[255] = 1;
}

/* -- Driving two machines against each other. -- */

struct side {
	struct proto_hs * hs;
	uint8_t sent[MSGLEN];	/* Everything it wrote, for inspection. */
	size_t nsent;
	size_t consumed;	/* Everything it consumed. */
	int computes;
};

/* Move ${a}'s output into ${b}, ${chunk} bytes per input call. */
static int
move(struct side * a, struct side * b, size_t chunk)
{
	const uint8_t * o;
	size_t n, k, c;
	int moved = 0;

	if ((o = proto_hs_output(a->hs, &n)) == NULL)
		return (0);
	assert_true(a->nsent + n <= MSGLEN);
	for (k = 0; k < n; k += c) {
		size_t want = (n - k < chunk) ? n - k : chunk;
		size_t hint = proto_hs_read_hint(b->hs);

		if (!(proto_hs_want(b->hs) & PROTO_HS_WANT_READ))
			break;
		c = proto_hs_input(b->hs, &o[k], want);
		assert_true(c <= want);
		assert_true(c <= hint);
		b->consumed += c;
		if (c == 0)
			break;
		moved = 1;
	}
	memcpy(&a->sent[a->nsent], o, k);
	a->nsent += k;
	proto_hs_output_done(a->hs, k);
	return (moved);
}

/* Service COMPUTE on ${a}. */
static int
compute(struct side * a)
{

	if (!(proto_hs_want(a->hs) & PROTO_HS_WANT_COMPUTE))
		return (0);
	proto_hs_compute(a->hs);
	a->computes++;
	return (1);
}

/*
 * Run client ${c} and server ${s} until neither makes progress, with
 * ${cc}/${sc}-byte input fragments.
 */
static void
run_pair(struct side * c, struct side * s, size_t cc, size_t sc)
{
	int progress, rounds = 0;

	do {
		progress = 0;
		progress |= compute(c);
		progress |= move(c, s, sc);
		progress |= compute(s);
		progress |= move(s, c, cc);
		assert_true(++rounds < 2000);
	} while (progress);
}

static void
side_init(struct side * x, enum proto_role role, int f, int g)
{

	memset(x, 0, sizeof(*x));
	assert_non_null(x->hs = proto_hs_new(role, testK, f, g));
}

static void
assert_keys_match(struct side * c, struct side * s)
{
	struct proto_keys kc, ks;

	assert_int_equal(proto_hs_want(c->hs), PROTO_HS_DONE);
	assert_int_equal(proto_hs_want(s->hs), PROTO_HS_DONE);
	assert_null(proto_hs_error(c->hs));
	assert_int_equal(proto_hs_keys(c->hs, &kc), 0);
	assert_int_equal(proto_hs_keys(s->hs, &ks), 0);
	assert_memory_equal(kc.send_enc, ks.recv_enc, 32);
	assert_memory_equal(kc.send_mac, ks.recv_mac, 32);
	assert_memory_equal(kc.recv_enc, ks.send_enc, 32);
	assert_memory_equal(kc.recv_mac, ks.send_mac, 32);
	assert_memory_not_equal(kc.send_enc, kc.recv_enc, 32);
	assert_memory_not_equal(kc.send_mac, kc.recv_mac, 32);
	assert_int_equal(c->consumed, MSGLEN);
	assert_int_equal(s->consumed, MSGLEN);
	assert_int_equal(c->nsent, MSGLEN);
	assert_int_equal(s->nsent, MSGLEN);
}

/* With -f on either side Z = 1: the client's keys equal the reference. */
static void
assert_keys_ref_one(struct side * c, struct side * s)
{
	struct proto_keys kc, ref;
	uint8_t Z[256];

	set_one(Z);
	ref_keys(c->sent, s->sent, Z, &ref);
	assert_int_equal(proto_hs_keys(c->hs, &kc), 0);
	assert_memory_equal(&kc, &ref, sizeof(kc));
}

/* A default pair agrees, each side exponentiates (client twice). */
static void
test_pair_default(void ** state)
{
	struct side c, s;

	(void)state;
	side_init(&c, PROTO_CLIENT, 0, 0);
	side_init(&s, PROTO_SERVER, 0, 0);
	run_pair(&c, &s, 4096, 4096);
	assert_keys_match(&c, &s);
	assert_true(s.computes == 1);
	assert_true(c.computes >= 1 && c.computes <= 2);
	proto_hs_free(c.hs);
	proto_hs_free(s.hs);
}

/*
 * Every -f/-g combination (client x server; -f and -g exclusive per side):
 * only a -g side facing a -f peer fails; whenever a side used -f, Z = 1
 * and the keys equal the reference derivation.
 */
static void
test_pfs_matrix(void ** state)
{
	static const int flags[3][2] = { {0, 0}, {1, 0}, {0, 1} };
	struct side c, s;
	struct proto_keys kc;
	int ci, si, cf, cg, sf, sg, fails;

	(void)state;
	for (ci = 0; ci < 3; ci++) {
		for (si = 0; si < 3; si++) {
			cf = flags[ci][0];
			cg = flags[ci][1];
			sf = flags[si][0];
			sg = flags[si][1];
			side_init(&c, PROTO_CLIENT, cf, cg);
			side_init(&s, PROTO_SERVER, sf, sg);
			run_pair(&c, &s, 4096, 4096);
			fails = (cg && sf) || (sg && cf);
			if (!fails) {
				assert_keys_match(&c, &s);
				if (cf || sf)
					assert_keys_ref_one(&c, &s);
				/* Exponentiations: none on a -f side. */
				if (sf)
					assert_int_equal(s.computes, 0);
				if (cf)
					assert_int_equal(c.computes, 0);
			} else if (sg) {
				/* The -g server drops a -f client before
				 * sending y_S or spending a modexp. */
				assert_int_equal(proto_hs_want(s.hs),
				    PROTO_HS_FAILED);
				assert_non_null(proto_hs_error(s.hs));
				assert_int_equal(s.computes, 0);
				assert_int_equal(s.nsent, 32);
				assert_int_not_equal(proto_hs_want(c.hs),
				    PROTO_HS_DONE);
			} else {
				/* The -g client drops a -f server. */
				assert_int_equal(proto_hs_want(c.hs),
				    PROTO_HS_FAILED);
				assert_non_null(proto_hs_error(c.hs));
				assert_int_equal(proto_hs_keys(c.hs, &kc), -1);
			}
			proto_hs_free(c.hs);
			proto_hs_free(s.hs);
		}
	}
}

/* One byte per input call gives the same result as whole messages. */
static void
test_bytewise(void ** state)
{
	struct side c, s;

	(void)state;
	side_init(&c, PROTO_CLIENT, 0, 0);
	side_init(&s, PROTO_SERVER, 0, 0);
	run_pair(&c, &s, 1, 1);
	assert_keys_match(&c, &s);
	proto_hs_free(c.hs);
	proto_hs_free(s.hs);

	/* With -f on both the keys are known in advance. */
	side_init(&c, PROTO_CLIENT, 1, 0);
	side_init(&s, PROTO_SERVER, 1, 0);
	run_pair(&c, &s, 1, 7);
	assert_keys_match(&c, &s);
	assert_keys_ref_one(&c, &s);
	proto_hs_free(c.hs);
	proto_hs_free(s.hs);
}

/* Partial writes: output_done with small counts. */
static void
test_partial_writes(void ** state)
{
	struct side c, s;
	const uint8_t * o;
	size_t n;
	int rounds = 0, progress;

	(void)state;
	side_init(&c, PROTO_CLIENT, 0, 0);
	side_init(&s, PROTO_SERVER, 0, 0);
	do {
		struct side * a, * b;
		int i;

		progress = 0;
		for (i = 0; i < 2; i++) {
			a = i ? &s : &c;
			b = i ? &c : &s;
			progress |= compute(a);
			if ((o = proto_hs_output(a->hs, &n)) != NULL) {
				n = (n > 5) ? 5 : n;
				n = proto_hs_input(b->hs, o, n);
				b->consumed += n;
				memcpy(&a->sent[a->nsent], o, n);
				a->nsent += n;
				proto_hs_output_done(a->hs, n);
				progress |= (n > 0);
			}
		}
		assert_true(++rounds < 5000);
	} while (progress);
	assert_keys_match(&c, &s);
	proto_hs_free(c.hs);
	proto_hs_free(s.hs);
}

/* -- A scripted client against the real server. -- */

struct fake {
	uint8_t nonce_peer[32];
	uint8_t nonce_own[32];
	uint8_t dk1[64];	/* dhmac_C || dhmac_S */
	uint8_t x[32];
	uint8_t y[256];
};

/* Start a server and exchange nonces with it. */
static struct proto_hs *
fake_client_start(struct fake * f, int sf, int sg)
{
	struct proto_hs * s;
	const uint8_t * o;
	size_t n;

	assert_non_null(s = proto_hs_new(PROTO_SERVER, testK, sf, sg));
	assert_int_equal(proto_hs_want(s),
	    PROTO_HS_WANT_READ | PROTO_HS_WANT_WRITE);
	assert_non_null(o = proto_hs_output(s, &n));
	assert_int_equal(n, 32);
	memcpy(f->nonce_peer, o, 32);
	proto_hs_output_done(s, 32);
	memset(f->nonce_own, 0x5a, 32);
	assert_int_equal(proto_hs_input(s, f->nonce_own, 32), 32);
	ref_dhmac(f->nonce_own, f->nonce_peer, f->dk1);
	assert_int_equal(crypto_dh_generate(f->x, f->y), 0);
	return (s);
}

/* The server's keys match the reference, with a real DH on both sides;
 * and it asks for COMPUTE only once the client's 288 bytes are good. */
static void
test_server_vs_reference(void ** state)
{
	struct fake f;
	struct proto_hs * s;
	struct proto_keys ks, ref, refs;
	uint8_t yh[288], Z[256];
	const uint8_t * o;
	size_t n, i;

	(void)state;
	s = fake_client_start(&f, 0, 1);
	mac_y(f.dk1, f.y, yh);

	/* Up to the last byte: reading, no output, no COMPUTE. */
	for (i = 0; i < 287; i++) {
		assert_int_equal(proto_hs_read_hint(s), 288 - i);
		assert_int_equal(proto_hs_input(s, &yh[i], 1), 1);
		assert_int_equal(proto_hs_want(s), PROTO_HS_WANT_READ);
		assert_null(proto_hs_output(s, &n));
	}
	assert_int_equal(proto_hs_input(s, &yh[287], 1), 1);
	assert_int_equal(proto_hs_want(s), PROTO_HS_WANT_COMPUTE);
	assert_int_equal(proto_hs_read_hint(s), 0);
	assert_int_equal(proto_hs_keys(s, &ks), -1);
	proto_hs_compute(s);

	/* y_S || MAC(dhmac_S, y_S), then DONE once it is sent. */
	assert_int_equal(proto_hs_want(s), PROTO_HS_WANT_WRITE);
	assert_int_equal(proto_hs_keys(s, &ks), -1);
	assert_non_null(o = proto_hs_output(s, &n));
	assert_int_equal(n, 288);
	assert_int_equal(crypto_hmac_sha256_verify(&f.dk1[32], 32, o, 256,
	    &o[256]), 0);
	assert_int_equal(crypto_dh_sanitycheck(o), 0);
	assert_int_equal(crypto_dh_compute(o, f.x, Z), 0);
	proto_hs_output_done(s, 100);
	assert_int_equal(proto_hs_want(s), PROTO_HS_WANT_WRITE);
	proto_hs_output_done(s, 188);
	assert_int_equal(proto_hs_want(s), PROTO_HS_DONE);

	ref_keys(f.nonce_own, f.nonce_peer, Z, &ref);
	swap_keys(&ref, &refs);
	assert_int_equal(proto_hs_keys(s, &ks), 0);
	assert_memory_equal(&ks, &refs, sizeof(ks));
	proto_hs_free(s);
}

enum tamper { T_NONE, T_FLIP_MAC, T_FLIP_Y };

/* Build y || MAC(key, y), then damage it as ${t} says. */
static void
build_yh(const uint8_t key[32], const uint8_t y[256], enum tamper t,
    uint8_t yh[288])
{

	mac_y(key, y, yh);
	if (t == T_FLIP_MAC)
		yh[256 + 17] ^= 0x80;
	if (t == T_FLIP_Y)
		yh[200] ^= 0x01;
}

/* The proto_hs_failure that goes with the error piece ${why}. */
static enum proto_hs_failure
why_failure(const char * why)
{

	if (strcmp(why, "MAC") == 0)
		return (PROTO_HS_FAIL_BAD_MAC);
	if (strcmp(why, "forward secrecy") == 0)
		return (PROTO_HS_FAIL_NO_PFS);
	return (PROTO_HS_FAIL_BAD_Y);
}

/* Give a fresh server (-f ${sf}, -g ${sg}) the y ${y} (NULL: a genuine
 * one) tampered as ${t}; expect failure saying ${why}, with no COMPUTE and
 * nothing more sent. */
static void
server_rejects(const uint8_t * y, enum tamper t, int sf, int sg,
    const char * why)
{
	struct fake f;
	struct proto_hs * s;
	uint8_t yh[288];
	size_t n;

	s = fake_client_start(&f, sf, sg);
	build_yh(f.dk1, (y != NULL) ? y : f.y, t, yh);
	assert_int_equal(proto_hs_input(s, yh, 288), 288);
	assert_int_equal(proto_hs_want(s), PROTO_HS_FAILED);
	assert_non_null(proto_hs_error(s));
	assert_non_null(strstr(proto_hs_error(s), why));
	assert_int_equal(proto_hs_failure(s), why_failure(why));
	assert_null(proto_hs_output(s, &n));
	assert_int_equal(n, 0);
	assert_int_equal(proto_hs_read_hint(s), 0);
	assert_int_equal(proto_hs_input(s, yh, 288), 0);

	/* compute is a no-op now. */
	proto_hs_compute(s);
	assert_int_equal(proto_hs_want(s), PROTO_HS_FAILED);
	proto_hs_free(s);
}

/* Give a fresh server (-f ${sf}, -g ${sg}) ${y} with a good MAC; expect it
 * to want COMPUTE (with -f: nothing to compute, its y_S goes out at once). */
static void
server_accepts(const uint8_t y[256], int sf, int sg)
{
	struct fake f;
	struct proto_hs * s;
	uint8_t yh[288];

	s = fake_client_start(&f, sf, sg);
	build_yh(f.dk1, y, T_NONE, yh);
	assert_int_equal(proto_hs_input(s, yh, 288), 288);
	if (!sf) {
		assert_int_equal(proto_hs_want(s), PROTO_HS_WANT_COMPUTE);
		proto_hs_compute(s);
	}
	assert_int_equal(proto_hs_want(s), PROTO_HS_WANT_WRITE);
	assert_null(proto_hs_error(s));
	assert_int_equal(proto_hs_failure(s), PROTO_HS_FAIL_NONE);
	proto_hs_free(s);
}

/* The peer values every role must judge alike (y as 256 bytes). */
enum yval { Y_ZERO, Y_ONE, Y_TWO, Y_PM2, Y_PM1, Y_P, Y_PP1, Y_MAX, Y_N };
static const char * const yval_name[Y_N] = {
	"0", "1", "2", "p-2", "p-1", "p", "p+1", "2^2048-1"
};

/* Set ${y} to the value ${v}.  p ends in 0xff, so p - 2 and p - 1 touch
 * only its last byte. */
static void
set_yval(enum yval v, uint8_t y[256])
{
	const uint8_t * p = crypto_dh_prime();
	size_t i;

	assert_int_equal(p[255], 0xff);
	memset(y, 0, 256);
	switch (v) {
	case Y_ZERO:
		break;
	case Y_ONE:
		y[255] = 1;
		break;
	case Y_TWO:
		y[255] = 2;
		break;
	case Y_PM2:
	case Y_PM1:
	case Y_P:
		memcpy(y, p, 256);
		y[255] = (uint8_t)(0xff - (Y_P - v));
		break;
	case Y_PP1:
		/* p + 1: add with carry (p's low 64 bits are all ones). */
		memcpy(y, p, 256);
		for (i = 256; i-- > 0; )
			if (++y[i] != 0)
				break;
		break;
	default:
		memset(y, 0xff, 256);
		break;
	}
}

/* What a side with -g ${g} must say about ${v}: NULL to accept, else a
 * piece of the error.  The same in both roles and with or without -f. */
static const char *
yval_verdict(enum yval v, int g)
{

	switch (v) {
	case Y_ZERO:
	case Y_PM1:
		return ("degenerate");
	case Y_P:
	case Y_PP1:
	case Y_MAX:
		return ("not less than p");
	case Y_ONE:
		return (g ? "forward secrecy" : NULL);
	default:
		return (NULL);
	}
}

/* Modes of one side: none, -f, -g (spiped takes -f and -g exclusively). */
static const int yval_modes[3][2] = { {0, 0}, {1, 0}, {0, 1} };

/* Bad MACs, y >= p (with a valid MAC), and -g against y = 1. */
static void
test_server_rejects(void ** state)
{
	uint8_t y[256];

	(void)state;
	server_rejects(NULL, T_FLIP_MAC, 0, 0, "MAC");
	server_rejects(NULL, T_FLIP_Y, 0, 0, "MAC");
	memcpy(y, crypto_dh_prime(), 256);
	server_rejects(y, T_NONE, 0, 0, "not less than p");
	memset(y, 0xff, 256);
	server_rejects(y, T_NONE, 0, 0, "not less than p");
	set_one(y);
	server_rejects(y, T_NONE, 0, 1, "forward secrecy");

	/* As stock spiped: without -g, 1 is fine. */
	server_accepts(y, 0, 0);
}

/*
 * Every peer value of enum yval against a ${who} in every mode: ${rejects}
 * where yval_verdict says so, else ${accepts}.
 */
static void
yvals_each(const char * who,
    void (* rejects)(const uint8_t *, enum tamper, int, int, const char *),
    void (* accepts)(const uint8_t *, int, int))
{
	uint8_t y[256];
	const char * why;
	int v, m, f, g;

	for (m = 0; m < 3; m++) {
		f = yval_modes[m][0];
		g = yval_modes[m][1];
		for (v = 0; v < Y_N; v++) {
			print_message("%s -f %d -g %d, y = %s\n", who, f, g,
			    yval_name[v]);
			set_yval((enum yval)v, y);
			why = yval_verdict((enum yval)v, g);
			if (why != NULL)
				rejects(y, T_NONE, f, g, why);
			else
				accepts(y, f, g);
		}
	}
}

/*
 * A client y of 0 or p - 1 (which stock spiped 1.6.2 accepts) is refused
 * before any exponentiation, in every server mode, as are y >= p and, with
 * -g, y = 1; the neighbours 2 and p - 2 are accepted.
 */
static void
test_server_yvals(void ** state)
{

	(void)state;
	yvals_each("server", server_rejects, server_accepts);
}

/* A server keyed with another secret fails on the MAC. */
static void
test_wrong_key(void ** state)
{
	struct side c, s;
	uint8_t K2[32];

	(void)state;
	memcpy(K2, testK, 32);
	K2[0] ^= 1;
	side_init(&c, PROTO_CLIENT, 0, 0);
	memset(&s, 0, sizeof(s));
	assert_non_null(s.hs = proto_hs_new(PROTO_SERVER, K2, 0, 0));
	run_pair(&c, &s, 4096, 4096);
	assert_int_equal(proto_hs_want(s.hs), PROTO_HS_FAILED);
	assert_non_null(strstr(proto_hs_error(s.hs), "MAC"));
	assert_int_equal(proto_hs_failure(s.hs), PROTO_HS_FAIL_BAD_MAC);
	assert_int_equal(proto_hs_failure(c.hs), PROTO_HS_FAIL_NONE);
	assert_int_equal(s.computes, 0);
	assert_int_equal(s.nsent, 32);
	assert_int_not_equal(proto_hs_want(c.hs), PROTO_HS_DONE);
	proto_hs_free(c.hs);
	proto_hs_free(s.hs);
}

/* -- A scripted server against the real client. -- */

/* The client computes early, sends y_C as soon as the server's nonce is
 * in (without waiting for y_S), and its keys match the reference. */
static void
test_client_vs_reference(void ** state)
{
	struct proto_hs * c;
	struct proto_keys kc, ref;
	uint8_t nonce_C[32], nonce_S[32], dk1[64], xS[32], yS[256];
	uint8_t yh[288], Z[256];
	const uint8_t * o;
	size_t n;

	(void)state;
	assert_non_null(c = proto_hs_new(PROTO_CLIENT, testK, 0, 0));
	assert_int_equal(proto_hs_want(c), PROTO_HS_WANT_READ |
	    PROTO_HS_WANT_WRITE | PROTO_HS_WANT_COMPUTE);
	assert_int_equal(proto_hs_read_hint(c), MSGLEN);

	/* Nonce out; key pair made before the server's nonce arrives. */
	assert_non_null(o = proto_hs_output(c, &n));
	assert_int_equal(n, 32);
	memcpy(nonce_C, o, 32);
	proto_hs_output_done(c, 32);
	proto_hs_compute(c);
	assert_int_equal(proto_hs_want(c), PROTO_HS_WANT_READ);
	assert_null(proto_hs_output(c, &n));

	/* Server nonce in, in two pieces: y_C || MAC goes out at once. */
	memset(nonce_S, 0xa5, 32);
	assert_int_equal(proto_hs_input(c, nonce_S, 10), 10);
	assert_null(proto_hs_output(c, &n));
	assert_int_equal(proto_hs_input(c, &nonce_S[10], 22), 22);
	assert_int_equal(proto_hs_want(c),
	    PROTO_HS_WANT_READ | PROTO_HS_WANT_WRITE);
	assert_non_null(o = proto_hs_output(c, &n));
	assert_int_equal(n, 288);
	ref_dhmac(nonce_C, nonce_S, dk1);
	assert_int_equal(crypto_hmac_sha256_verify(dk1, 32, o, 256, &o[256]),
	    0);
	assert_int_equal(crypto_dh_sanitycheck(o), 0);
	assert_int_equal(crypto_dh_generate(xS, yS), 0);
	assert_int_equal(crypto_dh_compute(o, xS, Z), 0);
	proto_hs_output_done(c, 288);

	/* y_S || MAC in: COMPUTE, then DONE with the reference keys. */
	build_yh(&dk1[32], yS, T_NONE, yh);
	assert_int_equal(proto_hs_input(c, yh, 288), 288);
	assert_int_equal(proto_hs_want(c), PROTO_HS_WANT_COMPUTE);
	assert_int_equal(proto_hs_keys(c, &kc), -1);
	proto_hs_compute(c);
	assert_int_equal(proto_hs_want(c), PROTO_HS_DONE);
	ref_keys(nonce_C, nonce_S, Z, &ref);
	assert_int_equal(proto_hs_keys(c, &kc), 0);
	assert_memory_equal(&kc, &ref, sizeof(kc));
	proto_hs_free(c);
}

/* Start a client (-f ${cf}, -g ${cg}) and give it, before it computed
 * anything, a whole server transcript with ${y} tampered as ${t}. */
static struct proto_hs *
client_fed(const uint8_t y[256], enum tamper t, int cf, int cg)
{
	struct proto_hs * c;
	uint8_t nonce_C[32], msg[MSGLEN], dk1[64];
	const uint8_t * o;
	size_t n;

	assert_non_null(c = proto_hs_new(PROTO_CLIENT, testK, cf, cg));
	assert_non_null(o = proto_hs_output(c, &n));
	memcpy(nonce_C, o, 32);
	proto_hs_output_done(c, 32);
	memset(msg, 0x3c, 32);
	ref_dhmac(nonce_C, msg, dk1);
	build_yh(&dk1[32], y, t, &msg[32]);
	assert_int_equal(proto_hs_input(c, msg, MSGLEN), MSGLEN);
	return (c);
}

/* Give a client (-f ${cf}, -g ${cg}) a server transcript with ${y}
 * tampered as ${t}; expect failure saying ${why}, nothing more sent. */
static void
client_rejects(const uint8_t y[256], enum tamper t, int cf, int cg,
    const char * why)
{
	struct proto_hs * c;
	size_t n;

	c = client_fed(y, t, cf, cg);
	assert_int_equal(proto_hs_want(c), PROTO_HS_FAILED);
	assert_non_null(strstr(proto_hs_error(c), why));
	assert_int_equal(proto_hs_failure(c), why_failure(why));
	assert_null(proto_hs_output(c, &n));
	assert_int_equal(n, 0);
	assert_int_equal(proto_hs_read_hint(c), 0);

	/* compute is a no-op now. */
	proto_hs_compute(c);
	assert_int_equal(proto_hs_want(c), PROTO_HS_FAILED);
	assert_null(proto_hs_output(c, &n));
	proto_hs_free(c);
}

/* Give a client (-f ${cf}, -g ${cg}) a server transcript with ${y}; expect
 * it to finish the handshake. */
static void
client_accepts(const uint8_t y[256], int cf, int cg)
{
	struct proto_hs * c;
	const uint8_t * o;
	size_t n;
	int i;

	c = client_fed(y, T_NONE, cf, cg);

	/* At most: compute, send y_C || MAC, done. */
	for (i = 0; i < 3; i++) {
		if (proto_hs_want(c) & PROTO_HS_WANT_COMPUTE)
			proto_hs_compute(c);
		if ((o = proto_hs_output(c, &n)) != NULL)
			proto_hs_output_done(c, n);
	}
	assert_null(proto_hs_error(c));
	assert_int_equal(proto_hs_want(c), PROTO_HS_DONE);
	proto_hs_free(c);
}

static void
test_client_rejects(void ** state)
{
	uint8_t x[32], y[256];

	(void)state;
	assert_int_equal(crypto_dh_generate(x, y), 0);
	client_rejects(y, T_FLIP_MAC, 0, 0, "MAC");
	client_rejects(y, T_FLIP_Y, 0, 0, "MAC");
	client_accepts(y, 0, 0);
	memcpy(y, crypto_dh_prime(), 256);
	client_rejects(y, T_NONE, 0, 0, "not less than p");
	memset(y, 0xff, 256);
	client_rejects(y, T_NONE, 0, 0, "not less than p");
	set_one(y);
	client_rejects(y, T_NONE, 0, 1, "forward secrecy");
}

/* The server's y judged by the client as the server judges the client's
 * (test_server_yvals), in every client mode. */
static void
test_client_yvals(void ** state)
{

	(void)state;
	yvals_each("client", client_rejects, client_accepts);
}

/* Whole messages plus trailing data: exactly 320 bytes are consumed. */
static void
test_no_overconsume(void ** state)
{
	struct side c, s;
	struct proto_hs * c2, * s2;
	uint8_t buf[MSGLEN + 1500];
	struct proto_keys k1, k2;
	size_t n;

	(void)state;

	/* A normal run records both transcripts. */
	side_init(&c, PROTO_CLIENT, 1, 0);
	side_init(&s, PROTO_SERVER, 1, 0);
	run_pair(&c, &s, 4096, 4096);
	assert_keys_match(&c, &s);

	/* Replaying the server's transcript plus data to a client that
	 * happens to produce a different nonce still consumes only 320. */
	assert_non_null(c2 = proto_hs_new(PROTO_CLIENT, testK, 1, 0));
	memcpy(buf, s.sent, MSGLEN);
	memset(&buf[MSGLEN], 0xee, sizeof(buf) - MSGLEN);
	n = proto_hs_input(c2, buf, sizeof(buf));
	assert_int_equal(n, MSGLEN);
	assert_int_equal(proto_hs_input(c2, &buf[n], sizeof(buf) - n), 0);
	assert_int_equal(proto_hs_read_hint(c2), 0);
	proto_hs_free(c2);

	/* The same for a server fed the client's bytes and data. */
	assert_non_null(s2 = proto_hs_new(PROTO_SERVER, testK, 0, 0));
	memcpy(buf, c.sent, MSGLEN);
	n = proto_hs_input(s2, buf, sizeof(buf));
	assert_int_equal(n, MSGLEN);
	assert_int_equal(proto_hs_input(s2, &buf[n], sizeof(buf) - n), 0);
	proto_hs_free(s2);

	/* Keys are stable across calls. */
	assert_int_equal(proto_hs_keys(c.hs, &k1), 0);
	assert_int_equal(proto_hs_keys(c.hs, &k2), 0);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	proto_hs_free(c.hs);
	proto_hs_free(s.hs);
}

/* A message cut short never completes. */
static void
test_truncated(void ** state)
{
	struct side c, s;
	struct proto_hs * x;
	struct proto_keys k;
	size_t cut;
	int role;

	(void)state;
	side_init(&c, PROTO_CLIENT, 0, 0);
	side_init(&s, PROTO_SERVER, 0, 0);
	run_pair(&c, &s, 4096, 4096);
	assert_keys_match(&c, &s);

	for (role = 0; role < 2; role++) {
		const uint8_t * msg = role ? c.sent : s.sent;

		for (cut = 0; cut < MSGLEN; cut += (cut < 40) ? 1 : 37) {
			assert_non_null(x = proto_hs_new(role ? PROTO_SERVER :
			    PROTO_CLIENT, testK, 0, 0));
			assert_int_equal(proto_hs_input(x, msg, cut), cut);
			if (proto_hs_want(x) & PROTO_HS_WANT_COMPUTE)
				proto_hs_compute(x);
			assert_true(proto_hs_want(x) & PROTO_HS_WANT_READ);
			assert_int_equal(proto_hs_read_hint(x), MSGLEN - cut);
			assert_int_equal(proto_hs_keys(x, &k), -1);
			proto_hs_free(x);
		}
	}
	proto_hs_free(c.hs);
	proto_hs_free(s.hs);
}

/* Handshakes whose compute steps run on several threads at once. */
#define NTHREADS 4
#define PERTHREAD 6

static void *
hs_thread(void * arg)
{
	int * ok = arg;
	struct proto_hs * c, * s;
	struct proto_keys kc, ks;
	const uint8_t * o;
	size_t n;
	int i, r;

	*ok = 1;
	for (i = 0; i < PERTHREAD; i++) {
		c = proto_hs_new(PROTO_CLIENT, testK, 0, 0);
		s = proto_hs_new(PROTO_SERVER, testK, 0, 0);
		if ((c == NULL) || (s == NULL)) {
			*ok = 0;
			break;
		}
		for (r = 0; r < 20; r++) {
			if (proto_hs_want(c) & PROTO_HS_WANT_COMPUTE)
				proto_hs_compute(c);
			if ((o = proto_hs_output(c, &n)) != NULL)
				proto_hs_output_done(c,
				    proto_hs_input(s, o, n));
			if (proto_hs_want(s) & PROTO_HS_WANT_COMPUTE)
				proto_hs_compute(s);
			if ((o = proto_hs_output(s, &n)) != NULL)
				proto_hs_output_done(s,
				    proto_hs_input(c, o, n));
		}
		if (proto_hs_keys(c, &kc) || proto_hs_keys(s, &ks) ||
		    memcmp(kc.send_enc, ks.recv_enc, 32) ||
		    memcmp(kc.recv_mac, ks.send_mac, 32))
			*ok = 0;
		proto_hs_free(c);
		proto_hs_free(s);
	}
	return (NULL);
}

static void
test_threads(void ** state)
{
	pthread_t t[NTHREADS];
	int ok[NTHREADS];
	int i;

	(void)state;
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hs_thread,
		    &ok[i]), 0);
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_true(ok[i]);
	}
}

/*
 * Key pairs made ahead of time (proto_hs_set_key): the client's given at
 * once or only after the server's nonce arrived, the server's only once it
 * wants one.  Each side sends exactly the y it was given, computes once
 * (the shared secret alone), and the keys equal the reference derivation.
 * A pair offered when none is wanted (a server before the client's y, a
 * -f side) is ignored.
 */
static void
premade_run(int late)
{
	uint8_t xc[32], yc[256], xs[32], ys[256], x0[32], y0[256], Z[256];
	struct proto_keys kc, ref;
	struct side c, s;
	int rounds = 0, progress;

	assert_int_equal(crypto_dh_generate(xc, yc), 0);
	assert_int_equal(crypto_dh_generate(xs, ys), 0);
	assert_int_equal(crypto_dh_generate(x0, y0), 0);
	side_init(&c, PROTO_CLIENT, 0, 0);
	side_init(&s, PROTO_SERVER, 0, 0);
	assert_true(proto_hs_need_key(c.hs));
	assert_false(proto_hs_need_key(s.hs));
	proto_hs_set_key(s.hs, x0, y0);		/* Not wanted: ignored. */
	if (!late)
		proto_hs_set_key(c.hs, xc, yc);
	else
		assert_true(move(&s, &c, 4096));	/* nonce_S in first */
	if (late) {
		assert_true(proto_hs_need_key(c.hs));
		proto_hs_set_key(c.hs, xc, yc);
	}
	assert_false(proto_hs_need_key(c.hs));
	assert_false(proto_hs_want(c.hs) & PROTO_HS_WANT_COMPUTE);
	do {
		assert_true(++rounds < 100);
		progress = move(&c, &s, 4096);
		progress |= move(&s, &c, 4096);
		if (proto_hs_need_key(s.hs))	/* as rp_ctl does */
			proto_hs_set_key(s.hs, xs, ys);
		progress |= compute(&s);
		progress |= compute(&c);
	} while (progress);
	assert_keys_match(&c, &s);
	assert_int_equal(c.computes, 1);
	assert_int_equal(s.computes, 1);
	assert_memory_equal(&c.sent[32], yc, 256);
	assert_memory_equal(&s.sent[32], ys, 256);

	/* Z = y_S^x_C, and the client's keys from it. */
	assert_int_equal(crypto_dh_compute(ys, xc, Z), 0);
	ref_keys(c.sent, s.sent, Z, &ref);
	assert_int_equal(proto_hs_keys(c.hs, &kc), 0);
	assert_memory_equal(&kc, &ref, sizeof(kc));
	proto_hs_free(c.hs);
	proto_hs_free(s.hs);

	/* -f never wants a key pair. */
	side_init(&c, PROTO_CLIENT, 1, 0);
	assert_false(proto_hs_need_key(c.hs));
	proto_hs_set_key(c.hs, xc, yc);
	proto_hs_free(c.hs);
}

static void
test_premade_keys(void ** state)
{

	(void)state;
	premade_run(0);
	premade_run(1);
}

/* NULL free is a no-op; a bad role is refused. */
static void
test_api_edges(void ** state)
{

	(void)state;
	proto_hs_free(NULL);
	assert_null(proto_hs_new((enum proto_role)7, testK, 0, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_default),
		cmocka_unit_test(test_pfs_matrix),
		cmocka_unit_test(test_bytewise),
		cmocka_unit_test(test_partial_writes),
		cmocka_unit_test(test_server_vs_reference),
		cmocka_unit_test(test_server_rejects),
		cmocka_unit_test(test_server_yvals),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_client_vs_reference),
		cmocka_unit_test(test_client_rejects),
		cmocka_unit_test(test_client_yvals),
		cmocka_unit_test(test_no_overconsume),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_premade_keys),
		cmocka_unit_test(test_api_edges),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
