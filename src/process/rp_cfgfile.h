#ifndef RP_CFGFILE_H_
#define RP_CFGFILE_H_

/*
 * ringpiped -c FILE: the configuration file (rp_conf.h) given meaning.
 * [global] holds the process's settings; every other [NAME] is one pipe
 * named NAME.  Each key is an option of the one table (rp_options.h), in
 * the section its scope allows; a pipe's settings are checked as the
 * command line's would be.  Every error names the file and line.
 */

#include <stddef.h>

#include "rp_conf.h"
#include "rp_options.h"

/* One pipe of the file. */
struct rp_cfgpipe {
	const char * name;		/* Its [NAME]. */
	int line;			/* The line of [NAME]. */
	struct rp_options o;		/* Its settings (strings in conf). */
};

/* A file, read and checked. */
struct rp_cfgfile {
	struct rp_conf * conf;
	struct rp_options global;	/* [global] (strings in conf). */
	struct rp_cfgpipe * pipes;
	size_t n;
};

/**
 * rp_cfgfile_load(path):
 * Read and check the configuration file ${path}: every key known and in
 * its section, every pipe complete, no pipe name twice, no source shared.
 * Return it, or NULL with the file, line and reason printed.
 */
struct rp_cfgfile * rp_cfgfile_load(const char * path);

/**
 * rp_cfgfile_free(cf):
 * Free ${cf}.  NULL is a no-op.
 */
void rp_cfgfile_free(struct rp_cfgfile * cf);

/**
 * rp_cfgfile_same_pipe(a, b):
 * Return whether the pipe settings ${a} and ${b} are the same (every key
 * of a pipe, key files in order).
 */
int rp_cfgfile_same_pipe(const struct rp_options * a,
    const struct rp_options * b);

/**
 * rp_cfgfile_same_global(a, b):
 * Return whether the process settings ${a} and ${b} are the same.
 */
int rp_cfgfile_same_global(const struct rp_options * a,
    const struct rp_options * b);

#endif /* !RP_CFGFILE_H_ */
