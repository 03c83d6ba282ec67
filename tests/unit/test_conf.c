/*
 * Unit tests of the configuration-file reader (src/process/rp_conf.c) and
 * the option table (src/process/rp_options.c): sections, keys, values and
 * their line numbers; comments on their own lines and after a value;
 * entries before the first section going to [global]; every malformed line
 * refused as "PATH:LINE: reason"; every file key of the table found, with
 * its scope, and the command line's own (-c, -v) not taken from a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rp_conf.h"
#include "rp_options.h"

/* Parse ${text} as "f"; the result or NULL, the error in ${err}. */
static struct rp_conf *
parse(const char * text, char * err, size_t len)
{

	err[0] = '\0';
	return (rp_conf_parse("f", text, strlen(text), err, len));
}

/* A well-formed file: what each line became. */
static void
t_shape(void ** state)
{
	const char * text =
	    "# a comment\n"
	    "workers = 2\t\t# -w\n"
	    "\n"
	    "[web]\n"
	    "  mode=encrypt\n"
	    "source = [127.0.0.1]:8080 ; the port\n"
	    "key = /k#1\n"
	    "; another\n"
	    "[b.c_d-e]   # trailing\n"
	    "target = a b\n";
	struct rp_conf * c;
	char err[128];

	(void)state;
	assert_non_null(c = parse(text, err, sizeof(err)));
	assert_int_equal(c->n, 3);
	assert_string_equal(c->s[0].name, "global");
	assert_int_equal(c->s[0].n, 1);
	assert_string_equal(c->s[0].e[0].key, "workers");
	assert_string_equal(c->s[0].e[0].value, "2");
	assert_int_equal(c->s[0].e[0].line, 2);
	assert_string_equal(c->s[1].name, "web");
	assert_int_equal(c->s[1].line, 4);
	assert_int_equal(c->s[1].n, 3);
	assert_string_equal(c->s[1].e[0].value, "encrypt");
	assert_string_equal(c->s[1].e[1].value, "[127.0.0.1]:8080");
	assert_int_equal(c->s[1].e[1].line, 6);
	/* A # not after a blank is part of the value. */
	assert_string_equal(c->s[1].e[2].value, "/k#1");
	assert_string_equal(c->s[2].name, "b.c_d-e");
	assert_string_equal(c->s[2].e[0].value, "a b");
	rp_conf_free(c);

	/* No trailing newline, CRLF-free, empty file. */
	assert_non_null(c = parse("[x]\nk = v", err, sizeof(err)));
	assert_string_equal(c->s[0].e[0].value, "v");
	rp_conf_free(c);
	assert_non_null(c = parse("", err, sizeof(err)));
	assert_int_equal(c->n, 0);
	rp_conf_free(c);
}

/* Each malformed line is refused with its line number. */
static void
t_errors(void ** state)
{
	static const struct {
		const char * text;
		const char * err;
	} bad[] = {
		{ "[x]\n[y\n", "f:2: bad section line" },
		{ "[]\n", "f:1: bad section line" },
		{ "[a b]\n", "f:1: bad section line" },
		{ "[x] y\n", "f:1: text after the section name" },
		{ "[x]\nk\n", "f:2: bad line" },
		{ "[x]\n= v\n", "f:2: bad line" },
		{ "[x]\nk v\n", "f:2: bad line" },
		{ "[x]\n\nk =\n", "f:3: no value for k" },
		{ "[x]\nk = # c\n", "f:2: no value for k" },
	};
	struct rp_conf * c;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = parse(bad[i].text, err, sizeof(err));
		if (c != NULL || strncmp(err, bad[i].err,
		    strlen(bad[i].err)) != 0)
			fail_msg("%s: got \"%s\", want \"%s...\"",
			    bad[i].text, err, bad[i].err);
	}
	c = rp_conf_parse("f", "[x]\nk\0 = v\n", 11, err, sizeof(err));
	assert_null(c);
	assert_string_equal(err, "f:2: NUL byte");
}

/* The table: each key, its scope; the command line's own keys are not a
 * file's. */
static void
t_table(void ** state)
{
	static const char * const pipe_keys[] = {
		"mode", "source", "target", "key", "bind", "no-pfs",
		"require-pfs", "max-connections", "timeout", "resolve-interval",
		"no-resolve", "no-keepalive", "keepalive", "proxy-protocol",
		"drain-timeout", "drain-delay", NULL
	};
	static const char * const global_keys[] = {
		"workers", "metrics", "engine", "pidfile", "user", "syslog",
		"dns-wait", "foreground", "coalesce", "buffer-memory",
		"no-zerocopy", "no-sandbox", NULL
	};
	const struct rp_optdef * d;
	size_t i;

	(void)state;
	for (i = 0; pipe_keys[i] != NULL; i++) {
		assert_non_null(d = rp_options_key(pipe_keys[i]));
		assert_int_equal(d->scope, RP_OPT_PIPE);
	}
	for (i = 0; global_keys[i] != NULL; i++) {
		assert_non_null(d = rp_options_key(global_keys[i]));
		assert_int_equal(d->scope, RP_OPT_GLOBAL);
	}
	assert_int_equal(rp_options_key("config")->scope, RP_OPT_CLI);
	assert_null(rp_options_key("sourc"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_shape),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
