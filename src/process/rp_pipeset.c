#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_wipe.h"
#include "rp_ctl.h"
#include "rp_keys.h"
#include "rp_log.h"
#include "rp_pipeset.h"
#include "rp_sd.h"
#include "rp_sock.h"

/* Read the key files of ${p}; with a file at ${path}, name the line of
 * the one that cannot be read.  0 or -1. */
static int
pipeset_keys1(struct rp_pipeset_pipe * p, const char * path)
{
	const struct rp_options * o = p->o;
	size_t i;
	int fd;

	if ((p->keys = rp_keys_load(o->keyfiles, o->nkeyfiles)) != NULL)
		return (0);
	if (path == NULL)
		return (-1);
	for (i = 0; i < o->nkeyfiles; i++) {
		if (strcmp(o->keyfiles[i], "-") == 0)
			continue;
		if ((fd = open(o->keyfiles[i], O_RDONLY | O_CLOEXEC)) == -1) {
			rp_warn("%s:%d: cannot read key file %s of pipe [%s]",
			    path, o->keylines[i], o->keyfiles[i], p->name);
			return (-1);
		}
		close(fd);
	}
	rp_warn("%s: the keys of pipe [%s] cannot be used (see above)", path,
	    p->name);
	return (-1);
}

/**
 * rp_pipeset_keys(set):
 * Read the key files of every pipe of ${set} (before any fork: "-k -"
 * reads standard input).  Return 0, or -1 with the file and line named.
 */
int
rp_pipeset_keys(struct rp_pipeset * set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (pipeset_keys1(&set->p[i], set->path))
			return (-1);
	return (0);
}

/**
 * rp_pipeset_systemd(set):
 * Take the sockets systemd passed in for the pipes of ${set} whose source
 * is systemd:NAME.  Return 0, or -1 with a warning printed.
 */
int
rp_pipeset_systemd(struct rp_pipeset * set)
{
	const char * name;
	size_t i;

	for (i = 0; i < set->n; i++) {
		if ((name = rp_sd_source(set->p[i].o->source)) == NULL)
			continue;
		if ((set->p[i].lfd = rp_sd_listen(name)) == -1)
			return (-1);
	}
	return (0);
}

/* Resolve ${p}'s target and bind address with ${resolve}(${arg}), and its
 * source too and listen on it if ${listen}.  0 or -1. */
static int
pipeset_bind1(struct rp_pipeset_pipe * p, int listen,
    rp_pipeset_resolve_fn * resolve, void * arg)
{
	const struct rp_options * o = p->o;
	struct rp_addr sa_s;

	if (listen && p->lfd == -1 &&
	    resolve(arg, o->source, 0, &sa_s, 1) < 0)
		return (-1);
	if ((p->nt = resolve(arg, o->target, 0, p->sa_t, RP_ADDR_MAX)) < 0)
		return (-1);
	if (o->bind != NULL && resolve(arg, o->bind, 1, &p->sa_b, 1) < 0)
		return (-1);
	if (listen && p->lfd == -1 && (p->lfd = rp_sock_listen(&sa_s)) == -1) {
		if (p->name != NULL)
			rp_warn("Pipe [%s] cannot listen on %s", p->name,
			    o->source);
		return (-1);
	}
	return (0);
}

/**
 * rp_pipeset_bind(set, resolve, arg):
 * Resolve each pipe's source, target and bind address of ${set} with
 * ${resolve}(${arg}, ...), and bind and listen on its source.  Return 0,
 * or -1 with a warning printed.
 */
int
rp_pipeset_bind(struct rp_pipeset * set, rp_pipeset_resolve_fn * resolve,
    void * arg)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (pipeset_bind1(&set->p[i], 1, resolve, arg))
			return (-1);
	return (0);
}

/* Make the control-plane pipe of ${p} in ${loop} with the socket ${lfd}
 * (-1: it takes over the one of the pipe it replaces); it takes ${p}'s
 * keys.  The pipe, or NULL with a warning printed. */
static struct rp_ctl *
pipeset_ctl(struct rp_pipeset_pipe * p, struct rp_ctl_loop * loop, int lfd)
{
	const struct rp_options * o = p->o;
	struct rp_ctl_cfg c;

	memset(&c, 0, sizeof(c));
	c.name = p->name;
	c.decrypt = o->decrypt;
	c.target = o->target;
	c.bind = o->bind ? &p->sa_b : NULL;
	c.nopfs = o->nopfs;
	c.requirepfs = o->requirepfs;
	c.keepalive = o->nokeepalive ? RP_SOCK_KA_OFF : o->keepalive;
	c.maxconn = o->maxconn;
	c.timeout = o->timeout;
	c.rtime = o->noresolve ? 0 : o->rtime;
	c.keys = p->keys;
	c.proxy = o->proxy;
	c.drain_timeout = o->drain_timeout;
	c.drain_delay = o->drain_delay;

	/* The keys are the new pipe's (freed by it on failure too). */
	p->keys = NULL;
	return (rp_ctl_new(loop, &c, lfd, p->sa_t, p->nt));
}

/**
 * rp_pipeset_serve(set, loop):
 * Make the control-plane pipe of each pipe of ${set} in ${loop}, which
 * takes its keys and socket, and add it to the loop.  Return 0, or -1
 * with a warning printed.
 */
int
rp_pipeset_serve(struct rp_pipeset * set, struct rp_ctl_loop * loop)
{
	struct rp_pipeset_pipe * p;
	size_t i;
	int lfd;

	set->loop = loop;
	for (i = 0; i < set->n; i++) {
		p = &set->p[i];
		lfd = p->lfd;
		p->lfd = -1;
		if ((p->ctl = pipeset_ctl(p, loop, lfd)) == NULL)
			return (-1);
		rp_ctl_loop_add(loop, p->ctl);
	}
	return (0);
}

/* Resolve names at once, whatever -D says: a reload does not wait. */
static int
pipeset_resolve_now(void * arg, const char * s, int bind, struct rp_addr * a,
    int max)
{
	int n;

	(void)arg;
	if (bind)
		n = rp_addr_resolve_bind(s, a) ? -1 : 1;
	else
		n = rp_addr_resolve(s, a, max);
	if (n < 0)
		rp_warn("Error resolving socket address: %s", s);
	return (n);
}

/* The pipe of ${p}[0..${n}) named ${name}, or NULL. */
static struct rp_pipeset_pipe *
pipeset_find_in(struct rp_pipeset_pipe * p, size_t n, const char * name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].name != NULL && strcmp(p[i].name, name) == 0)
			return (&p[i]);
	return (NULL);
}

/* The pipe of ${set} named ${name}, or NULL. */
static struct rp_pipeset_pipe *
pipeset_find(struct rp_pipeset * set, const char * name)
{

	return (pipeset_find_in(set->p, set->n, name));
}

/* What a reload does with a pipe of the new file. */
enum pipeset_act {
	PIPESET_KEEP,		/* Unchanged: its key files read again. */
	PIPESET_REPLACE,	/* Changed, same source: takes the socket. */
	PIPESET_MOVE,		/* Changed source: new socket, old removed. */
	PIPESET_ADD		/* New. */
};

/* Undo what a failed reload prepared in ${np}[0..${n}) (acts ${act}). */
static void
pipeset_undo(struct rp_pipeset_pipe * np, const enum pipeset_act * act,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (act[i] == PIPESET_KEEP)
			continue;
		rp_keys_free(np[i].keys);
		if (np[i].lfd != -1)
			close(np[i].lfd);
	}
}

/* Prepare pipe ${i} of the new file ${cf} for ${set}: its action in
 * ${act}, keys, addresses and socket in ${np}, and for a kept pipe its key
 * files read again into ${sets}.  0, or -1 with a warning printed. */
static int
pipeset_prepare(struct rp_pipeset * set, struct rp_cfgfile * cf, size_t i,
    struct rp_pipeset_pipe * np, enum pipeset_act * act,
    struct rp_keyset * sets)
{
	const struct rp_cfgpipe * cp = &cf->pipes[i];
	struct rp_pipeset_pipe * old = pipeset_find(set, cp->name);

	if (old != NULL && rp_cfgfile_same_pipe(old->o, &cp->o)) {
		act[i] = PIPESET_KEEP;
		np[i] = *old;
		np[i].name = cp->name;
		np[i].o = &cp->o;
		return (rp_keys_read(rp_ctl_keys(np[i].ctl), &sets[i]));
	}
	memset(&np[i], 0, sizeof(np[i]));
	np[i].name = cp->name;
	np[i].o = &cp->o;
	np[i].lfd = -1;
	if (old == NULL)
		act[i] = PIPESET_ADD;
	else if (strcmp(old->o->source, cp->o.source) == 0)
		act[i] = PIPESET_REPLACE;
	else
		act[i] = PIPESET_MOVE;
	if (act[i] != PIPESET_REPLACE && rp_sd_source(cp->o.source) != NULL) {
		rp_warn("%s:%d: a reload cannot take a socket from systemd "
		    "(%s)", set->path, cp->o.source_line, cp->o.source);
		return (-1);
	}
	if (pipeset_keys1(&np[i], set->path))
		return (-1);
	return (pipeset_bind1(&np[i], act[i] != PIPESET_REPLACE,
	    pipeset_resolve_now, NULL));
}

/* Apply the prepared pipes ${np}[0..${n}) (acts ${act}, key sets ${sets})
 * to ${set}'s loop, and stop the pipes of ${set} the new file has not. */
static void
pipeset_commit(struct rp_pipeset * set, struct rp_pipeset_pipe * np,
    const enum pipeset_act * act, const struct rp_keyset * sets, size_t n)
{
	struct rp_pipeset_pipe * old;
	struct rp_ctl * ctl;
	size_t i, nkeep = 0, nchg = 0, nadd = 0, nrm = 0;
	int lfd;

	for (i = 0; i < n; i++) {
		old = pipeset_find(set, np[i].name);
		if (act[i] == PIPESET_KEEP) {
			rp_keys_set(rp_ctl_keys(np[i].ctl), &sets[i]);
			nkeep++;
			continue;
		}
		lfd = np[i].lfd;
		np[i].lfd = -1;
		if ((ctl = pipeset_ctl(&np[i], set->loop, lfd)) == NULL) {
			/* Out of memory (pipeset_ctl freed the keys and the
			 * socket): this pipe stays as it was. */
			rp_error("Reload: pipe [%s] could not be set up: left "
			    "as it was", np[i].name);
			if (old != NULL)
				np[i].ctl = old->ctl;
			else
				np[i].name = NULL;
			continue;
		}
		np[i].ctl = ctl;
		if (act[i] == PIPESET_REPLACE) {
			rp_ctl_loop_replace(set->loop, old->ctl, ctl);
			nchg++;
		} else {
			rp_ctl_loop_add(set->loop, ctl);
			if (old != NULL) {
				rp_ctl_loop_remove(set->loop, old->ctl);
				nchg++;
			} else
				nadd++;
		}
		rp_warn("Reload: pipe [%s] %s", np[i].name, (old != NULL) ?
		    "changed: new connections take its new settings" :
		    "added");
	}
	for (i = 0; i < set->n; i++) {
		old = &set->p[i];
		if (old->ctl == NULL)
			continue;
		if (pipeset_find_in(np, n, old->name) != NULL)
			continue;
		rp_ctl_loop_remove(set->loop, old->ctl);
		rp_warn("Reload: pipe [%s] removed: it accepts no more and "
		    "drains", old->name);
		nrm++;
	}
	rp_warn("Reloaded %s: %zu pipe%s unchanged (keys read again), %zu "
	    "changed, %zu added, %zu removed", set->path, nkeep,
	    (nkeep == 1) ? "" : "s", nchg, nadd, nrm);
}

/**
 * rp_pipeset_reload(cookie):
 * The reload hook (rp_ctl_loop_cfg.reload) of the rp_pipeset ${cookie}
 * made from a configuration file: read it again and apply it.  Return 0
 * if it took effect, or -1 (said why) if nothing changed.
 */
int
rp_pipeset_reload(void * cookie)
{
	struct rp_pipeset * set = cookie;
	struct rp_cfgfile * cf;
	struct rp_pipeset_pipe * np = NULL;
	struct rp_keyset * sets = NULL;
	enum pipeset_act * act = NULL;
	size_t i, n;

	rp_warn("SIGHUP: reloading %s", set->path);
	if ((cf = rp_cfgfile_load(set->path)) == NULL)
		goto err0;
	n = cf->n;
	if ((np = calloc(n, sizeof(*np))) == NULL ||
	    (act = calloc(n, sizeof(*act))) == NULL ||
	    (sets = calloc(n, sizeof(*sets))) == NULL) {
		rp_warnp("calloc");
		goto err1;
	}
	if (!rp_cfgfile_same_global(&set->cf->global, &cf->global))
		rp_warn("%s: [global] changed: its settings take effect at a "
		    "restart; the pipes are reloaded now", set->path);
	for (i = 0; i < n; i++) {
		if (pipeset_prepare(set, cf, i, np, act, sets)) {
			pipeset_undo(np, act, i + 1);
			goto err1;
		}
	}
	pipeset_commit(set, np, act, sets, n);

	/* The pipes that a commit could not set up are dropped. */
	for (i = 0; i < n; ) {
		if (np[i].name == NULL) {
			memmove(&np[i], &np[i + 1], (n - i - 1) * sizeof(*np));
			n--;
		} else
			i++;
	}
	crypto_wipe(sets, cf->n * sizeof(*sets));
	free(sets);
	free(act);
	free(set->p);
	set->p = np;
	set->n = n;
	rp_cfgfile_free(set->cf);
	set->cf = cf;
	return (0);

err1:
	if (sets != NULL)
		crypto_wipe(sets, n * sizeof(*sets));
	free(sets);
	free(act);
	free(np);
	rp_cfgfile_free(cf);
err0:
	rp_error("Reload failed (%s): nothing changed", set->path);
	return (-1);
}

/**
 * rp_pipeset_free(set):
 * Free what ${set} still owns of its pipes (keys and sockets not handed to
 * a loop; the loop frees its pipes) and its file.
 */
void
rp_pipeset_free(struct rp_pipeset * set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (set->p[i].ctl != NULL)
			continue;
		rp_keys_free(set->p[i].keys);
		if (set->p[i].lfd != -1)
			close(set->p[i].lfd);
	}
	free(set->p);
	set->p = NULL;
	set->n = 0;
	rp_cfgfile_free(set->cf);
	set->cf = NULL;
}
