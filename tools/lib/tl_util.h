#ifndef TL_UTIL_H
#define TL_UTIL_H
/*
 * tl_util: small helpers shared by the tools: clocks, parsing of sizes and
 * durations, diagnostics and terminal progress.
 */
#include <stdint.h>
#include <stdio.h>

/* tl_util_now_ns(): CLOCK_MONOTONIC in nanoseconds. */
uint64_t tl_util_now_ns(void);

/*
 * tl_util_parse_size(s, out): parse ${s} as a byte count with an optional
 * suffix k, M, G, T (powers of 1024) and store it in ${out}.  Return 0 on
 * success, -1 if ${s} is not a valid size.
 */
int tl_util_parse_size(const char *s, uint64_t *out);

/*
 * tl_util_buf_size(opt, s): the byte count ${s} (as tl_util_parse_size
 * takes it) for the buffer option --${opt}, between 4 KiB and 1 GiB; exits
 * with status 2 and "bad --${opt}" otherwise.
 */
size_t tl_util_buf_size(const char *opt, const char *s);

/*
 * tl_util_parse_rate(s, out): parse ${s} as a rate in bits per second with an
 * optional suffix k, M, G (powers of 1000; "1G" = 1e9 bit/s) and store it in
 * bytes per second in ${out}.  Return 0 on success, -1 on a bad rate.
 */
int tl_util_parse_rate(const char *s, double *out);

/*
 * tl_util_parse_secs(s, out): parse ${s} as a duration in seconds (a decimal
 * number, optionally followed by "s" or "ms") and store nanoseconds in
 * ${out}.  Return 0 on success, -1 on a bad duration.
 */
int tl_util_parse_secs(const char *s, uint64_t *out);

/*
 * tl_util_parse_uint(s, max, out): parse ${s} as a decimal integer in
 * [0, ${max}] into ${out}.  Return 0 on success, -1 otherwise.
 */
int tl_util_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* tl_util_prog: the program name used in messages (set by tl_util_init). */
extern const char *tl_util_prog;

/* tl_util_init(argv0): remember the program name for messages. */
void tl_util_init(const char *argv0);

/* tl_util_warn(fmt, ...): print "prog: message" to stderr. */
void tl_util_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tl_util_die(code, fmt, ...): print "prog: message" and exit(${code}). */
void tl_util_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/*
 * tl_util_progress_enabled(): non-zero if live progress may be printed
 * (stderr is a terminal).
 */
int tl_util_progress_enabled(void);

/*
 * tl_util_progress(fmt, ...): overwrite the current progress line on stderr
 * (no-op unless tl_util_progress_enabled()).  tl_util_progress(NULL) clears it.
 */
void tl_util_progress(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * tl_util_write_file(path, text): write ${text} to ${path} atomically (temp
 * file and rename).  Return 0 on success, -1 on error.
 */
int tl_util_write_file(const char *path, const char *text);

/*
 * tl_util_raise_nofile(want): raise RLIMIT_NOFILE's soft limit to at least
 * ${want} (bounded by the hard limit).  Return the resulting soft limit.
 */
uint64_t tl_util_raise_nofile(uint64_t want);

#endif
