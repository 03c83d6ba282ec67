#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "rp_log.h"

static const char * log_name = "ringpiped";
static int log_to_syslog = 0;

/**
 * rp_log_init(name):
 * Set the program name ${name} used as the prefix of every message.
 */
void
rp_log_init(const char * name)
{

	log_name = name;
}

/**
 * rp_log_syslog():
 * Send every later message to syslog (LOG_DAEMON) instead of stderr.
 */
void
rp_log_syslog(void)
{

	openlog(log_name, LOG_PID, LOG_DAEMON);
	log_to_syslog = 1;
}

static void
log_emit(const char * fmt, va_list ap, const char * errstr)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_syslog) {
		if (errstr)
			syslog(LOG_WARNING, "%s: %s", msg, errstr);
		else
			syslog(LOG_WARNING, "%s", msg);
	} else {
		if (errstr)
			fprintf(stderr, "%s: %s: %s\n", log_name, msg, errstr);
		else
			fprintf(stderr, "%s: %s\n", log_name, msg);
	}
}

/**
 * rp_warn(fmt, ...):
 * Print a warning made from ${fmt}.
 */
void
rp_warn(const char * fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(fmt, ap, NULL);
	va_end(ap);
}

/**
 * rp_warnp(fmt, ...):
 * Print a warning made from ${fmt}, followed by ": " and strerror(errno).
 */
void
rp_warnp(const char * fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_emit(fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}
