#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_prom.h"

/* The first allocation; a scrape of ringpiped is a few KiB. */
#define PROM_INITIAL	4096

/* Make room in ${p} for ${n} more bytes and a NUL; 0, or -1 (failed). */
static int
prom_reserve(struct rp_prom * p, size_t n)
{
	size_t cap = p->cap ? p->cap : PROM_INITIAL;
	char * nb;

	if (p->failed)
		return (-1);
	while (cap - p->len <= n) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	if (cap != p->cap) {
		if ((nb = realloc(p->buf, cap)) == NULL)
			goto fail;
		p->buf = nb;
		p->cap = cap;
	}
	return (0);

fail:
	p->failed = 1;
	return (-1);
}

/* Append ${fmt} formatted to ${p}. */
static void __attribute__((format(printf, 2, 3)))
prom_printf(struct rp_prom * p, const char * fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		p->failed = 1;
		return;
	}
	if (prom_reserve(p, (size_t)n))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(&p->buf[p->len], p->cap - p->len, fmt, ap);
	va_end(ap);
	p->len += (size_t)n;
}

/* Append the label value ${v} to ${p}, escaped as the format requires:
 * backslash, double quote and line feed. */
static void
prom_escape(struct rp_prom * p, const char * v)
{

	for (; *v != '\0'; v++) {
		switch (*v) {
		case '\\':
			prom_printf(p, "\\\\");
			break;
		case '"':
			prom_printf(p, "\\\"");
			break;
		case '\n':
			prom_printf(p, "\\n");
			break;
		default:
			prom_printf(p, "%c", *v);
			break;
		}
	}
}

/* Append ${name}{${labels}} and a space to ${p}. */
static void
prom_name(struct rp_prom * p, const char * name, const char * const * labels)
{
	size_t i;

	prom_printf(p, "%s", name);
	if (labels == NULL || labels[0] == NULL) {
		prom_printf(p, " ");
		return;
	}
	for (i = 0; labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
		prom_printf(p, "%s%s=\"", (i == 0) ? "{" : ",", labels[i]);
		prom_escape(p, labels[i + 1]);
		prom_printf(p, "\"");
	}
	prom_printf(p, "} ");
}

/* The shortest of %.15g and %.17g that reads back as ${v}, into ${buf}. */
static const char *
prom_double(double v, char * buf, size_t len)
{

	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
	return (buf);
}

/**
 * rp_prom_init(p):
 * Start an empty text in ${p}.
 */
void
rp_prom_init(struct rp_prom * p)
{

	memset(p, 0, sizeof(*p));
}

/**
 * rp_prom_family(p, name, type, help):
 * Start the metric family ${name} of ${type} ("counter", "gauge",
 * "histogram") described by ${help} (one line, no backslash) in ${p}.
 */
void
rp_prom_family(struct rp_prom * p, const char * name, const char * type,
    const char * help)
{

	prom_printf(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/**
 * rp_prom_u64(p, name, labels, v):
 * Write the sample ${name}{${labels}} = ${v} into ${p}.  ${labels} is NULL
 * or a NULL-terminated array of name, value pairs; values are escaped.
 */
void
rp_prom_u64(struct rp_prom * p, const char * name,
    const char * const * labels, uint64_t v)
{

	prom_name(p, name, labels);
	prom_printf(p, "%" PRIu64 "\n", v);
}

/**
 * rp_prom_histogram(p, name, labels, bounds, n, counts, sum):
 * Write the samples of the histogram ${name}{${labels}} (as for
 * rp_prom_u64; le comes after them) into ${p}: ${counts}[i]
 * observations fell at most ${bounds}[i] and above the bound before it,
 * for i < ${n}, ${counts}[${n}] above ${bounds}[${n} - 1]; ${sum} is the
 * sum of all observations.  The buckets written are cumulative, the last
 * one le="+Inf", and _count is their total.
 */
void
rp_prom_histogram(struct rp_prom * p, const char * name,
    const char * const * labels, const double * bounds, size_t n,
    const uint64_t * counts, double sum)
{
	const char * lv[8];
	char le[32], num[32], series[128];
	uint64_t total = 0;
	size_t i, k = 0;

	/* The caller's labels (at most three pairs), then le. */
	for (i = 0; labels != NULL && labels[i] != NULL && k < 6; i++)
		lv[k++] = labels[i];
	lv[k] = "le";
	lv[k + 1] = le;
	lv[k + 2] = NULL;
	snprintf(series, sizeof(series), "%s_bucket", name);
	for (i = 0; i <= n; i++) {
		total += counts[i];
		if (i < n)
			snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		rp_prom_u64(p, series, lv, total);
	}
	lv[k] = NULL;
	snprintf(series, sizeof(series), "%s_sum", name);
	prom_name(p, series, lv);
	prom_printf(p, "%s\n", prom_double(sum, num, sizeof(num)));
	snprintf(series, sizeof(series), "%s_count", name);
	rp_prom_u64(p, series, lv, total);
}

/**
 * rp_prom_finish(p, len):
 * Return the text of ${p} (NUL-terminated, to be freed by the caller) and
 * store its length in ${len}, or return NULL if writing it ran out of
 * memory (the buffer is freed then).
 */
char *
rp_prom_finish(struct rp_prom * p, size_t * len)
{
	char * text;

	/* An empty text still gets its buffer and NUL. */
	if (prom_reserve(p, 0) == 0)
		p->buf[p->len] = '\0';
	if (p->failed) {
		free(p->buf);
		rp_prom_init(p);
		return (NULL);
	}
	text = p->buf;
	*len = p->len;
	rp_prom_init(p);
	return (text);
}
