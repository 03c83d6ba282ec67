#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_conf.h"

/* The largest file read: a configuration, not a data file. */
#define CONF_FILE_MAX	(1024 * 1024)

/* Format "PATH:LINE: reason" into ${err}; return NULL. */
static void * __attribute__((format(printf, 5, 6)))
conf_err(char * err, size_t errlen, const char * path, int line,
    const char * fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "%s:%d: ", path, line);
	if (n < 0 || (size_t)n >= errlen)
		return (NULL);
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return (NULL);
}

/* Whether ${c} may be part of a section name or a key. */
static int
conf_namechar(int c)
{

	return (isalnum(c) || c == '-' || c == '_' || c == '.');
}

/* Add a section ${name} at ${line} to ${conf}; 0 or -1. */
static int
conf_section(struct rp_conf * conf, const char * name, size_t len, int line)
{
	struct rp_conf_section * s;

	if ((s = realloc(conf->s, (conf->n + 1) * sizeof(*s))) == NULL)
		return (-1);
	conf->s = s;
	s = &conf->s[conf->n];
	memset(s, 0, sizeof(*s));
	if ((s->name = strndup(name, len)) == NULL)
		return (-1);
	s->line = line;
	conf->n++;
	return (0);
}

/* Add ${key} = ${value} at ${line} to the last section of ${conf}; 0 or
 * -1. */
static int
conf_entry(struct rp_conf * conf, const char * key, size_t klen,
    const char * value, size_t vlen, int line)
{
	struct rp_conf_section * s = &conf->s[conf->n - 1];
	struct rp_conf_entry * e;

	if ((e = realloc(s->e, (s->n + 1) * sizeof(*e))) == NULL)
		return (-1);
	s->e = e;
	e = &s->e[s->n];
	e->line = line;
	e->value = NULL;
	if ((e->key = strndup(key, klen)) == NULL)
		return (-1);
	if ((e->value = strndup(value, vlen)) == NULL) {
		free(e->key);
		return (-1);
	}
	s->n++;
	return (0);
}

/* The length of ${p}[0..${len}) without the blanks at its end. */
static size_t
conf_trim(const char * p, size_t len)
{

	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	return (len);
}

/* Parse line ${line} (${p}[0..${len}), without its newline) into ${conf};
 * NULL with ${err} filled on a bad line, else ${conf}. */
static struct rp_conf *
conf_line(struct rp_conf * conf, const char * p, size_t len, int line,
    char * err, size_t errlen)
{
	const char * path = conf->path, * k, * v;
	size_t i, klen, vlen;

	/* Leading blanks, blank lines and comment lines. */
	for (i = 0; i < len && isspace((unsigned char)p[i]); i++)
		;
	p += i;
	len -= i;
	if (len == 0 || p[0] == '#' || p[0] == ';')
		return (conf);
	len = conf_trim(p, len);

	if (p[0] == '[') {
		for (i = 1; i < len && conf_namechar((unsigned char)p[i]); i++)
			;
		if (i == 1 || i >= len || p[i] != ']')
			return (conf_err(err, errlen, path, line,
			    "bad section line (expected [NAME], NAME of "
			    "letters, digits, '-', '_', '.')"));
		if (i - 1 > RP_CONF_NAME_MAX)
			return (conf_err(err, errlen, path, line,
			    "section name longer than %d characters",
			    RP_CONF_NAME_MAX));
		for (i++; i < len && isspace((unsigned char)p[i]); i++)
			;
		if (i < len && p[i] != '#' && p[i] != ';')
			return (conf_err(err, errlen, path, line,
			    "text after the section name"));
		if (conf_section(conf, p + 1, (size_t)(strchr(p, ']') - p) -
		    1, line))
			goto nomem;
		return (conf);
	}

	/* key = value */
	k = p;
	for (i = 0; i < len && conf_namechar((unsigned char)p[i]); i++)
		;
	klen = i;
	for (; i < len && isspace((unsigned char)p[i]); i++)
		;
	if (klen == 0 || i >= len || p[i] != '=')
		return (conf_err(err, errlen, path, line,
		    "bad line (expected key = value, or [NAME])"));
	if (klen > RP_CONF_NAME_MAX)
		return (conf_err(err, errlen, path, line,
		    "key longer than %d characters", RP_CONF_NAME_MAX));
	for (i++; i < len && isspace((unsigned char)p[i]); i++)
		;
	v = p + i;
	vlen = len - i;

	/* A comment after a blank ends the value. */
	for (i = 1; i < vlen; i++) {
		if ((v[i] == '#' || v[i] == ';') &&
		    isspace((unsigned char)v[i - 1])) {
			vlen = conf_trim(v, i);
			break;
		}
	}
	if (vlen > 0 && (v[0] == '#' || v[0] == ';'))
		vlen = 0;
	if (vlen == 0)
		return (conf_err(err, errlen, path, line,
		    "no value for %.*s", (int)klen, k));
	if (conf->n == 0 && conf_section(conf, "global", 6, 0))
		goto nomem;
	if (conf_entry(conf, k, klen, v, vlen, line))
		goto nomem;
	return (conf);

nomem:
	return (conf_err(err, errlen, path, line, "out of memory"));
}

/**
 * rp_conf_parse(path, text, len, err, errlen):
 * Parse the ${len} bytes at ${text}, read from ${path} (kept for messages).
 * Return the file's sections, or NULL with "PATH:LINE: reason" in ${err}
 * (${errlen} bytes) if a line is malformed or memory runs out.
 */
struct rp_conf *
rp_conf_parse(const char * path, const char * text, size_t len, char * err,
    size_t errlen)
{
	struct rp_conf * conf;
	const char * p = text, * end = text + len, * nl;
	int line;

	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (conf->path = strdup(path)) == NULL) {
		free(conf);
		snprintf(err, errlen, "%s: out of memory", path);
		return (NULL);
	}
	for (line = 1; p < end; line++, p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL) {
			conf_err(err, errlen, path, line, "NUL byte");
			goto err;
		}
		if (nl - p > RP_CONF_LINE_MAX) {
			conf_err(err, errlen, path, line,
			    "line longer than %d bytes", RP_CONF_LINE_MAX);
			goto err;
		}
		if (conf_line(conf, p, (size_t)(nl - p), line, err,
		    errlen) == NULL)
			goto err;
	}
	return (conf);

err:
	rp_conf_free(conf);
	return (NULL);
}

/**
 * rp_conf_read(path, err, errlen):
 * Read the file ${path} and parse it (rp_conf_parse).  Return its sections,
 * or NULL with the reason in ${err} (${errlen} bytes).
 */
struct rp_conf *
rp_conf_read(const char * path, char * err, size_t errlen)
{
	struct rp_conf * conf = NULL;
	char * buf;
	size_t len;
	FILE * f;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto done;
	}
	len = fread(buf, 1, CONF_FILE_MAX + 1, f);
	if (ferror(f))
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (len > CONF_FILE_MAX)
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    CONF_FILE_MAX);
	else
		conf = rp_conf_parse(path, buf, len, err, errlen);
	free(buf);
done:
	fclose(f);
	return (conf);
}

/**
 * rp_conf_free(conf):
 * Free ${conf}.  NULL is a no-op.
 */
void
rp_conf_free(struct rp_conf * conf)
{
	size_t i, j;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->n; i++) {
		for (j = 0; j < conf->s[i].n; j++) {
			free(conf->s[i].e[j].key);
			free(conf->s[i].e[j].value);
		}
		free(conf->s[i].e);
		free(conf->s[i].name);
	}
	free(conf->s);
	free(conf->path);
	free(conf);
}
