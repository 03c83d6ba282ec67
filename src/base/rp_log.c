#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "rp_log.h"

static const char * log_name = "ringpiped";
static int log_dest = RP_LOG_STDERR;
static int log_opened;

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
 * rp_log_dest(dest):
 * Send every later message to ${dest}: RP_LOG_STDERR, RP_LOG_SYSLOG
 * (LOG_DAEMON), or both.
 */
void
rp_log_dest(int dest)
{

	if ((dest & RP_LOG_SYSLOG) && !log_opened) {
		openlog(log_name, LOG_PID, LOG_DAEMON);
		log_opened = 1;
	}
	log_dest = dest;
}

/* Emit the message made from ${fmt} and ${ap} (followed by ": " and
 * ${errstr} if that is not NULL) at syslog priority ${prio}. */
static void
log_emit(int prio, const char * fmt, va_list ap, const char * errstr)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_dest & RP_LOG_SYSLOG) {
		if (errstr)
			syslog(prio, "%s: %s", msg, errstr);
		else
			syslog(prio, "%s", msg);
	}
	if (log_dest & RP_LOG_STDERR) {
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
	log_emit(LOG_WARNING, fmt, ap, NULL);
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
	log_emit(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

/**
 * rp_error(fmt, ...):
 * Print an error made from ${fmt}: on stderr as "name: error: ...", in
 * syslog at LOG_ERR.  For what an operator must act on while the daemon
 * carries on (a reload that failed).
 */
void
rp_error(const char * fmt, ...)
{
	char efmt[512];
	va_list ap;

	va_start(ap, fmt);
	if (log_dest & RP_LOG_STDERR) {
		snprintf(efmt, sizeof(efmt), "error: %s", fmt);
		log_emit(LOG_ERR, efmt, ap, NULL);
	} else {
		log_emit(LOG_ERR, fmt, ap, NULL);
	}
	va_end(ap);
}
