#ifndef RP_CONF_H_
#define RP_CONF_H_

/*
 * The configuration file of ringpiped -c, read as text: INI-like, as
 * stunnel's.  Lines are "[NAME]" (a section), "key = value", blank, or a
 * comment ("#" or ";" first on the line); a "#" or ";" after a blank ends
 * a value.  This reader knows no keys: it checks the shape of each line
 * and keeps every section, key and value with its line number, so that
 * whoever gives the keys meaning can name the line of a bad one.  It does
 * no I/O but rp_conf_read's one read of the file.
 */

#include <stddef.h>

/* One "key = value" line. */
struct rp_conf_entry {
	char * key;
	char * value;
	int line;
};

/* One section: its entries in the file's order. */
struct rp_conf_section {
	char * name;
	int line;			/* Of its "[NAME]" line. */
	struct rp_conf_entry * e;
	size_t n;
};

/* A file: its sections in order; entries before the first "[NAME]" go to
 * a section named "global", as if "[global]" came first. */
struct rp_conf {
	char * path;
	struct rp_conf_section * s;
	size_t n;
};

/* The longest line, section name, and key. */
#define RP_CONF_LINE_MAX	4096
#define RP_CONF_NAME_MAX	64

/**
 * rp_conf_parse(path, text, len, err, errlen):
 * Parse the ${len} bytes at ${text}, read from ${path} (kept for messages).
 * Return the file's sections, or NULL with "PATH:LINE: reason" in ${err}
 * (${errlen} bytes) if a line is malformed or memory runs out.
 */
struct rp_conf * rp_conf_parse(const char * path, const char * text,
    size_t len, char * err, size_t errlen);

/**
 * rp_conf_read(path, err, errlen):
 * Read the file ${path} and parse it (rp_conf_parse).  Return its sections,
 * or NULL with the reason in ${err} (${errlen} bytes).
 */
struct rp_conf * rp_conf_read(const char * path, char * err, size_t errlen);

/**
 * rp_conf_free(conf):
 * Free ${conf}.  NULL is a no-op.
 */
void rp_conf_free(struct rp_conf * conf);

#endif /* !RP_CONF_H_ */
