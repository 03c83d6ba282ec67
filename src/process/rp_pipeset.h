#ifndef RP_PIPESET_H_
#define RP_PIPESET_H_

/*
 * The pipes of one process: the one of the command line, or those of a
 * configuration file (rp_cfgfile.h), set up the same way (keys before any
 * fork, sockets bound, targets resolved, a control-plane pipe made for
 * each) and served by one control loop, one set of workers and one
 * handshake pool.  With a file, SIGHUP re-reads it (rp_pipeset_reload, on
 * the reload thread): added pipes start, removed ones drain, changed ones
 * take their new settings for new connections (their listening socket
 * passes to the new settings), and unchanged ones read their key files
 * again; a file that fails to load, or a pipe that cannot be set up,
 * changes nothing.
 */

#include <stddef.h>

#include "rp_addr.h"
#include "rp_cfgfile.h"
#include "rp_options.h"

struct rp_ctl;
struct rp_ctl_loop;
struct rp_keys;

/* One pipe. */
struct rp_pipeset_pipe {
	const char * name;		/* NULL: the command line's. */
	const struct rp_options * o;	/* Its settings. */
	struct rp_keys * keys;		/* Its keys (the ctl's once made). */
	int lfd;			/* Its listening socket until the ctl
					   is made, or -1. */
	struct rp_addr sa_t[RP_ADDR_MAX];	/* Its target's addresses ... */
	int nt;				/* ... and how many. */
	struct rp_addr sa_b;		/* -b, if given. */
	struct rp_ctl * ctl;		/* Serving it, once made. */
};

/* How names are resolved at start-up (-D waits); the count, or -1. */
typedef int rp_pipeset_resolve_fn(void * arg, const char * s, int bind,
    struct rp_addr * a, int max);

/* The pipes. */
struct rp_pipeset {
	const char * path;		/* The configuration file, or NULL. */
	struct rp_cfgfile * cf;		/* What it said last, or NULL. */
	struct rp_pipeset_pipe * p;
	size_t n;
	struct rp_ctl_loop * loop;	/* Once made. */
};

/**
 * rp_pipeset_keys(set):
 * Read the key files of every pipe of ${set} (before any fork: "-k -"
 * reads standard input).  Return 0, or -1 with the file and line named.
 */
int rp_pipeset_keys(struct rp_pipeset * set);

/**
 * rp_pipeset_systemd(set):
 * Take the sockets systemd passed in for the pipes of ${set} whose source
 * is systemd:NAME.  Return 0, or -1 with a warning printed.
 */
int rp_pipeset_systemd(struct rp_pipeset * set);

/**
 * rp_pipeset_bind(set, resolve, arg):
 * Resolve each pipe's source, target and bind address of ${set} with
 * ${resolve}(${arg}, ...), and bind and listen on its source.  Return 0,
 * or -1 with a warning printed.
 */
int rp_pipeset_bind(struct rp_pipeset * set, rp_pipeset_resolve_fn * resolve,
    void * arg);

/**
 * rp_pipeset_serve(set, loop):
 * Make the control-plane pipe of each pipe of ${set} in ${loop}, which
 * takes its keys and socket, and add it to the loop.  Return 0, or -1
 * with a warning printed.
 */
int rp_pipeset_serve(struct rp_pipeset * set, struct rp_ctl_loop * loop);

/**
 * rp_pipeset_reload(cookie):
 * The reload hook (rp_ctl_loop_cfg.reload) of the rp_pipeset ${cookie}
 * made from a configuration file: read it again and apply it.  Return 0
 * if it took effect, or -1 (said why) if nothing changed.
 */
int rp_pipeset_reload(void * cookie);

/**
 * rp_pipeset_free(set):
 * Free what ${set} still owns of its pipes (keys and sockets not handed to
 * a loop; the loop frees its pipes) and its file.
 */
void rp_pipeset_free(struct rp_pipeset * set);

#endif /* !RP_PIPESET_H_ */
