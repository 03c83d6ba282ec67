/*
 * libFuzzer target: the configuration-file reader (rp_conf_parse) on any
 * bytes.  It must never crash or leak, must say "PATH:LINE: reason" when it
 * refuses, and what it accepts must hold together: every section named,
 * every entry with a non-empty key and value and a line within the input,
 * and lines in increasing order.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t * data, size_t len)
{
	struct rp_conf * c;
	char err[256];
	size_t i, j, nlines = 1;
	int last = 0;

	for (i = 0; i < len; i++)
		nlines += (data[i] == '\n');
	err[0] = '\0';
	if ((c = rp_conf_parse("f", (const char *)data, len, err,
	    sizeof(err))) == NULL) {
		if (strncmp(err, "f:", 2) != 0)
			abort();
		return (0);
	}
	for (i = 0; i < c->n; i++) {
		if (c->s[i].name == NULL || c->s[i].name[0] == '\0')
			abort();
		for (j = 0; j < c->s[i].n; j++) {
			if (c->s[i].e[j].key[0] == '\0' ||
			    c->s[i].e[j].value[0] == '\0' ||
			    c->s[i].e[j].line <= last ||
			    (size_t)c->s[i].e[j].line > nlines)
				abort();
			last = c->s[i].e[j].line;
		}
	}
	rp_conf_free(c);
	return (0);
}
