#include "tl_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

const char *tl_util_prog = "tool";
static int progress_shown;

uint64_t
tl_util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

int
tl_util_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;
	double mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return (-1);
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1024.0; end++;
		break;
	case 'm': case 'M':
		mult = 1024.0 * 1024; end++;
		break;
	case 'g': case 'G':
		mult = 1024.0 * 1024 * 1024; end++;
		break;
	case 't': case 'T':
		mult = 1024.0 * 1024 * 1024 * 1024; end++;
		break;
	default:
		return (-1);
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v * mult > 1e18)
		return (-1);
	*out = (uint64_t)(v * mult);
	return (0);
}

size_t
tl_util_buf_size(const char *opt, const char *s)
{
	uint64_t v;

	if (tl_util_parse_size(s, &v) || v < 4096 || v > (1ULL << 30))
		tl_util_die(2, "bad --%s: %s", opt, s);
	return ((size_t)v);
}

int
tl_util_parse_rate(const char *s, double *out)
{
	char *end;
	double v;
	double mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return (-1);
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1e3; end++;
		break;
	case 'm': case 'M':
		mult = 1e6; end++;
		break;
	case 'g': case 'G':
		mult = 1e9; end++;
		break;
	default:
		return (-1);
	}
	if (strcmp(end, "bit") == 0 || strcmp(end, "bps") == 0)
		end += strlen(end);
	if (*end != '\0')
		return (-1);
	*out = v * mult / 8.0;
	return (0);
}

int
tl_util_parse_secs(const char *s, uint64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v > 1e6)
		return (-1);
	if (strcmp(end, "ms") == 0)
		v /= 1000.0;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return (-1);
	*out = (uint64_t)(v * 1e9);
	return (0);
}

int
tl_util_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return (-1);
	*out = v;
	return (0);
}

void
tl_util_init(const char *argv0)
{
	const char *p = strrchr(argv0, '/');

	tl_util_prog = p ? p + 1 : argv0;
}

static void
vmsg(const char *fmt, va_list ap)
{
	if (progress_shown)
		tl_util_progress(NULL);
	fprintf(stderr, "%s: ", tl_util_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
tl_util_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
tl_util_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(code);
}

int
tl_util_progress_enabled(void)
{
	static int cached = -1;

	if (cached < 0)
		cached = isatty(STDERR_FILENO) ? 1 : 0;
	return (cached);
}

void
tl_util_progress(const char *fmt, ...)
{
	va_list ap;

	if (!tl_util_progress_enabled())
		return;
	fputs("\r\033[K", stderr);
	if (fmt == NULL) {
		progress_shown = 0;
		fflush(stderr);
		return;
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	progress_shown = 1;
}

int
tl_util_write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path,
	    (int)getpid()) >= sizeof(tmp))
		return (-1);
	if ((f = fopen(tmp, "w")) == NULL)
		return (-1);
	if (fputs(text, f) == EOF) {
		fclose(f);
		goto err;
	}
	if (fclose(f))
		goto err;
	if (rename(tmp, path))
		goto err;
	return (0);
err:
	unlink(tmp);
	return (-1);
}

uint64_t
tl_util_raise_nofile(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return (0);
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (rl.rlim_cur);
}
