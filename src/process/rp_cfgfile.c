#include <stdlib.h>
#include <string.h>

#include "rp_cfgfile.h"
#include "rp_log.h"

/* The section of the process's settings. */
#define CFG_GLOBAL	"global"

/* Take the value ${v} of a flag (${d}->arg is 0) at ${w}: yes or no.
 * Return 1 for yes, 0 for no, -1 (said) for anything else. */
static int
cfg_bool(const struct rp_optdef * d, const char * v,
    const struct rp_opt_where * w)
{

	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
		return (1);
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
		return (0);
	rp_warn("%s:%d: bad value for %s: %s (yes or no)", w->path, w->line,
	    d->key, v);
	return (-1);
}

/* Take the entries of section ${s} of ${path} into ${o}, each in the
 * ${scope} the section allows; 0, or -1 with the line said. */
static int
cfg_section(const char * path, const struct rp_conf_section * s,
    enum rp_opt_scope scope, struct rp_options * o)
{
	const struct rp_conf_entry * e;
	const struct rp_optdef * d;
	struct rp_opt_where w = { path, 0 };
	size_t i;
	int yes;

	for (i = 0; i < s->n; i++) {
		e = &s->e[i];
		w.line = e->line;
		if ((d = rp_options_key(e->key)) == NULL ||
		    d->scope == RP_OPT_CLI) {
			rp_warn("%s:%d: unknown key: %s", path, e->line,
			    e->key);
			return (-1);
		}
		if (d->scope != scope) {
			rp_warn("%s:%d: %s belongs in %s", path, e->line,
			    e->key, (d->scope == RP_OPT_GLOBAL) ?
			    "[" CFG_GLOBAL "]" : "a pipe's section");
			return (-1);
		}
		if (!d->arg) {
			if ((yes = cfg_bool(d, e->value, &w)) == -1)
				return (-1);
			if (!yes)
				continue;
		}
		if (rp_options_set(o, d->ch, d->arg ? e->value : NULL, &w) !=
		    RP_OPT_RUN)
			return (-1);
	}
	return (0);
}

/* Check that the pipes of ${cf} have distinct names and sources; 0, or -1
 * with the line said. */
static int
cfg_distinct(const char * path, const struct rp_cfgfile * cf)
{
	const struct rp_cfgpipe * a, * b;
	size_t i, j;

	for (i = 0; i < cf->n; i++) {
		b = &cf->pipes[i];
		for (j = 0; j < i; j++) {
			a = &cf->pipes[j];
			if (strcmp(a->name, b->name) == 0) {
				rp_warn("%s:%d: pipe [%s] defined twice (first "
				    "on line %d)", path, b->line, b->name,
				    a->line);
				return (-1);
			}
			if (strcmp(a->o.source, b->o.source) == 0) {
				rp_warn("%s:%d: source %s is pipe [%s]'s too "
				    "(line %d): two pipes on one source", path,
				    b->o.source_line, b->o.source, a->name,
				    a->o.source_line);
				return (-1);
			}
		}
	}
	return (0);
}

/**
 * rp_cfgfile_load(path):
 * Read and check the configuration file ${path}: every key known and in
 * its section, every pipe complete, no pipe name twice, no source shared.
 * Return it, or NULL with the file, line and reason printed.
 */
struct rp_cfgfile *
rp_cfgfile_load(const char * path)
{
	struct rp_cfgfile * cf;
	const struct rp_conf_section * s;
	struct rp_cfgpipe * p;
	struct rp_opt_where w = { path, 0 };
	char err[512];
	size_t i;
	int nglobal = 0;

	if ((cf = calloc(1, sizeof(*cf))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	if ((cf->conf = rp_conf_read(path, err, sizeof(err))) == NULL) {
		rp_warn("%s", err);
		goto err1;
	}
	if ((cf->pipes = calloc(cf->conf->n + 1, sizeof(*cf->pipes))) ==
	    NULL) {
		rp_warnp("calloc");
		goto err1;
	}
	rp_options_init(&cf->global);
	for (i = 0; i < cf->conf->n; i++) {
		s = &cf->conf->s[i];
		if (strcmp(s->name, CFG_GLOBAL) == 0) {
			if (nglobal++ > 0) {
				rp_warn("%s:%d: [" CFG_GLOBAL "] given twice",
				    path, s->line);
				goto err1;
			}
			if (cfg_section(path, s, RP_OPT_GLOBAL, &cf->global))
				goto err1;
			continue;
		}
		p = &cf->pipes[cf->n++];
		p->name = s->name;
		p->line = s->line;
		rp_options_init(&p->o);
		if (cfg_section(path, s, RP_OPT_PIPE, &p->o))
			goto err1;
		w.line = s->line;
		if (rp_options_check_pipe(&p->o, &w) != RP_OPT_RUN)
			goto err1;
	}
	if (cf->n == 0) {
		rp_warn("%s: no pipe (a [NAME] section with mode, source, "
		    "target and key)", path);
		goto err1;
	}
	if (cfg_distinct(path, cf))
		goto err1;
	w.line = 0;
	if (rp_options_check_global(&cf->global, &w) != RP_OPT_RUN)
		goto err1;
	return (cf);

err1:
	rp_cfgfile_free(cf);
err0:
	return (NULL);
}

/**
 * rp_cfgfile_free(cf):
 * Free ${cf}.  NULL is a no-op.
 */
void
rp_cfgfile_free(struct rp_cfgfile * cf)
{

	if (cf == NULL)
		return;
	free(cf->pipes);
	rp_conf_free(cf->conf);
	free(cf);
}

/* Whether the strings ${a} and ${b} (either may be NULL) are the same. */
static int
cfg_streq(const char * a, const char * b)
{

	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/**
 * rp_cfgfile_same_pipe(a, b):
 * Return whether the pipe settings ${a} and ${b} are the same (every key
 * of a pipe, key files in order).
 */
int
rp_cfgfile_same_pipe(const struct rp_options * a, const struct rp_options * b)
{
	size_t i;

	if (a->decrypt != b->decrypt || a->nopfs != b->nopfs ||
	    a->requirepfs != b->requirepfs ||
	    a->nokeepalive != b->nokeepalive ||
	    a->noresolve != b->noresolve || a->maxconn != b->maxconn ||
	    a->timeout != b->timeout || a->rtime != b->rtime ||
	    a->proxy != b->proxy || a->drain_timeout != b->drain_timeout ||
	    a->drain_delay != b->drain_delay || a->keepalive != b->keepalive ||
	    a->nkeyfiles != b->nkeyfiles)
		return (0);
	if (!cfg_streq(a->source, b->source) ||
	    !cfg_streq(a->target, b->target) || !cfg_streq(a->bind, b->bind))
		return (0);
	for (i = 0; i < a->nkeyfiles; i++)
		if (strcmp(a->keyfiles[i], b->keyfiles[i]) != 0)
			return (0);
	return (1);
}

/**
 * rp_cfgfile_same_global(a, b):
 * Return whether the process settings ${a} and ${b} are the same.
 */
int
rp_cfgfile_same_global(const struct rp_options * a,
    const struct rp_options * b)
{

	/* -F and -D matter only at start-up. */
	return (a->nworkers == b->nworkers && a->engine == b->engine &&
	    a->syslog == b->syslog && a->coalesce_ms == b->coalesce_ms && a->bufmem == b->bufmem &&
	    a->sendzc == b->sendzc && a->nosandbox == b->nosandbox &&
	    cfg_streq(a->metrics, b->metrics) &&
	    cfg_streq(a->pidfile, b->pidfile) && cfg_streq(a->user, b->user));
}
