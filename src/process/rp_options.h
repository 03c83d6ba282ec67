#ifndef RP_OPTIONS_H_
#define RP_OPTIONS_H_

/*
 * ringpiped's settings, from the command line (spiped's flags and long
 * options of its own) or from a configuration file (rp_conf.h), through
 * one table: every option has a key named after its long meaning, which
 * is what the file calls it, and a scope: a pipe's (-e/-d, -s, -t, -k,
 * -b, -f, -g, -n, -o, -r, -R, -j, --keepalive, --proxy-protocol,
 * --drain-timeout, --drain-delay) or the process's (-w, --metrics,
 * --engine, -p, -u, --syslog, -D, -F, --coalesce, --buffer-memory,
 * --no-zerocopy, --no-sandbox).  The parsing and checks are the same for
 * both; only where an error is said differs.
 */

#include <limits.h>
#include <stddef.h>

#include "rp_engine.h"
#include "rp_keys.h"

/* Long options have no short form: their values lie past a char. */
enum {
	RP_OPT_SYSLOG = UCHAR_MAX + 1,
	RP_OPT_ENGINE,
	RP_OPT_COALESCE,
	RP_OPT_PROXY,
	RP_OPT_DRAIN,
	RP_OPT_METRICS,
	RP_OPT_KEEPALIVE,
	RP_OPT_BUFMEM,
	RP_OPT_NOZC,
	RP_OPT_DRAIN_DELAY,
	RP_OPT_NO_SANDBOX,
	RP_OPT_MODE,			/* The file's mode = encrypt|decrypt. */
	RP_OPT_END
};

/* Where an option may be given. */
enum rp_opt_scope {
	RP_OPT_PIPE,			/* A pipe's: [NAME] in a file. */
	RP_OPT_GLOBAL,			/* The process's: [global]. */
	RP_OPT_CLI			/* The command line only. */
};

/* One option of the table. */
struct rp_optdef {
	int ch;				/* Its getopt value. */
	const char * key;		/* Its name in a file (and its long
					   option, if it has no letter). */
	int arg;			/* It takes a value (else a flag; in
					   a file, yes/no). */
	enum rp_opt_scope scope;
};

/* The settings. */
struct rp_options {
	int decrypt, encrypt;		/* -d, -e. */
	int dnswait;			/* -D. */
	int foreground;			/* -F. */
	int nopfs, requirepfs;		/* -f, -g. */
	int nokeepalive;		/* -j. */
	int noresolve;			/* -R. */
	int syslog;			/* --syslog. */
	int sendzc;			/* -Z (default) or --no-zerocopy. */
	int nosandbox;			/* --no-sandbox. */
	const char * conffile;		/* -c, or NULL. */
	const char * bind;		/* -b, or NULL. */
	const char * keyfiles[RP_KEYS_MAX];	/* -k, in order: -e uses the
					   first, -d accepts any. */
	int keylines[RP_KEYS_MAX];	/* Their lines in a file. */
	size_t nkeyfiles;
	const char * pidfile;		/* -p, or NULL for <source>.pid. */
	const char * source;		/* -s. */
	int source_line;		/* Its line in a file. */
	const char * target;		/* -t. */
	const char * user;		/* -u, or NULL. */
	size_t maxconn;			/* -n; 0 = no limit. */
	double timeout;			/* -o. */
	double rtime;			/* -r. */
	size_t nworkers;		/* -w; 0 = one per online CPU. */
	enum rp_engine engine;		/* --engine. */
	unsigned coalesce_ms;		/* --coalesce; 0 = off. */
	size_t bufmem;			/* --buffer-memory (bytes); 0: default. */
	int proxy;			/* --proxy-protocol: 1, 2; 0 = off. */
	double drain_timeout;		/* --drain-timeout; 0 = unbounded. */
	double drain_delay;		/* --drain-delay; 0 = close at once. */
	const char * metrics;		/* --metrics address, or NULL. */
	int keepalive;			/* --keepalive seconds; 0 = the
					   kernel's timers. */
	unsigned char given[RP_OPT_END];	/* Options seen so far. */
};

/* Where an option came from, for its error messages. */
struct rp_opt_where {
	const char * path;		/* The file; NULL: the command line. */
	int line;
};

/* What a parse or check came to. */
enum rp_opt_result {
	RP_OPT_RUN,			/* Go on. */
	RP_OPT_EXIT_OK,			/* -v: done. */
	RP_OPT_EXIT_FAIL		/* Bad: said why. */
};

/**
 * rp_options_init(o):
 * Fill ${o} with spiped's defaults.
 */
void rp_options_init(struct rp_options * o);

/**
 * rp_options_key(key):
 * Return the option whose file key is ${key}, or NULL.
 */
const struct rp_optdef * rp_options_key(const char * key);

/**
 * rp_options_set(o, ch, arg, where):
 * Take option ${ch} with its argument ${arg} (NULL for a flag) into ${o};
 * say what is wrong at ${where} if it is bad.
 */
enum rp_opt_result rp_options_set(struct rp_options * o, int ch,
    const char * arg, const struct rp_opt_where * where);

/**
 * rp_options_check_pipe(o, where):
 * Check the pipe settings of ${o} as a whole (-e or -d, -s, -t, -k, and
 * what excludes what), and fill in what follows from what was given; say
 * what is wrong at ${where}.
 */
enum rp_opt_result rp_options_check_pipe(struct rp_options * o,
    const struct rp_opt_where * where);

/**
 * rp_options_check_global(o, where):
 * Check the process settings of ${o} (--metrics) and fill in the number of
 * workers; say what is wrong at ${where}.
 */
enum rp_opt_result rp_options_check_global(struct rp_options * o,
    const struct rp_opt_where * where);

/**
 * rp_options_parse(argc, argv, o):
 * Parse the command line ${argc}, ${argv} into ${o} and check it (with -c,
 * only the process settings the command line may give besides it).
 */
enum rp_opt_result rp_options_parse(int argc, char * argv[],
    struct rp_options * o);

#endif /* !RP_OPTIONS_H_ */
