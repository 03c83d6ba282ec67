#ifndef RP_LOG_H_
#define RP_LOG_H_

/* Warnings to stderr (prefixed with the program name), or to syslog once
 * the daemon has detached with --syslog. */

/**
 * rp_log_init(name):
 * Set the program name ${name} used as the prefix of every message.
 */
void rp_log_init(const char * name);

/**
 * rp_log_syslog():
 * Send every later message to syslog (LOG_DAEMON) instead of stderr.
 */
void rp_log_syslog(void);

/**
 * rp_warn(fmt, ...):
 * Print a warning made from ${fmt}.
 */
void rp_warn(const char * fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * rp_warnp(fmt, ...):
 * Print a warning made from ${fmt}, followed by ": " and strerror(errno).
 */
void rp_warnp(const char * fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* !RP_LOG_H_ */
