#ifndef RP_LOG_H_
#define RP_LOG_H_

/* Warnings to stderr (prefixed with the program name), to syslog once the
 * daemon has detached with --syslog, or to both while a daemon that let its
 * parent go early (-D waiting for DNS) is still starting up. */

/* Where messages go (rp_log_dest): any of these. */
#define RP_LOG_STDERR	1
#define RP_LOG_SYSLOG	2

/**
 * rp_log_init(name):
 * Set the program name ${name} used as the prefix of every message.
 */
void rp_log_init(const char * name);

/**
 * rp_log_dest(dest):
 * Send every later message to ${dest}: RP_LOG_STDERR, RP_LOG_SYSLOG
 * (LOG_DAEMON), or both.
 */
void rp_log_dest(int dest);

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

/**
 * rp_error(fmt, ...):
 * Print an error made from ${fmt}: on stderr as "name: error: ...", in
 * syslog at LOG_ERR.  For what an operator must act on while the daemon
 * carries on (a reload that failed).
 */
void rp_error(const char * fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* !RP_LOG_H_ */
