#ifndef RP_SANDBOX_H_
#define RP_SANDBOX_H_

/*
 * The file-system sandbox (Landlock), on by default where the kernel has
 * it; --no-sandbox turns it off.  Once applied, the process may open for
 * reading only:
 *  - files in the directories of its key files and of its configuration
 *    file (-c) (directories, not files: a
 *    key rotation renames a new file over the old one, which is a new
 *    inode), and in the directory of a key file's target if it was a
 *    symbolic link at start-up;
 *  - the files glibc's resolver reads to re-resolve -t (-r, SIGHUP):
 *    /etc/hosts, /etc/resolv.conf (and the directory its symbolic link
 *    points into, e.g. /run/systemd/resolve, whose file is replaced by
 *    rename), /etc/nsswitch.conf, /etc/host.conf, /etc/gai.conf,
 *    /etc/services, /etc/ld.so.cache, /etc/localtime (syslog's time
 *    stamps), /etc/passwd and /etc/group (-u's look-ups);
 *  - files in the directories of the shared libraries already loaded (NSS
 *    modules such as libnss_dns are loaded lazily from there);
 *  - /proc/sys/kernel/io_uring_disabled (the engine's probe);
 * and may write only /dev/null and its own threads' names (the comm files
 * under /proc/self/task, which pthread_setname_np writes).  It creates, removes, renames, links and
 * truncates nothing, and executes nothing.  The pidfile is written before
 * (and kept open, so that it can be emptied at exit: removing it needs a
 * right on its directory, which the sandbox does not grant).
 *
 * The rules on /etc's files hold their inodes: one of them replaced by
 * rename after start-up (rather than rewritten in place) can no longer be
 * read, and name look-ups then go on without it, until a restart.
 *
 * What Landlock cannot restrict at ABI 1 to 7 is left alone: the network
 * (TCP rules exist from ABI 4; the daemon must still dial any address -t
 * resolves to) and connect(2) to UNIX sockets (-t /path, /dev/log for
 * --syslog), which Landlock does not govern; nor does it hide stat(2).
 * Each ABI's file-system rights are handled as far as the kernel has them
 * (TRUNCATE from ABI 3, IOCTL_DEV from ABI 5).
 *
 * Landlock binds the calling thread and the threads it creates after, not
 * those already running: so the sandbox is applied before the first
 * thread starts, at the end of the single-threaded start-up.
 */

#include <stddef.h>

/* What rp_sandbox_apply is to allow beyond what every daemon needs. */
struct rp_sandbox_cfg {
	const char * const * keyfiles;	/* Key files and the configuration
					   file ("-" is skipped) ... */
	size_t nkeyfiles;		/* ... and how many. */
};

/* What rp_sandbox_apply came to. */
enum rp_sandbox_state {
	RP_SANDBOX_ON,			/* Applied. */
	RP_SANDBOX_UNAVAILABLE		/* The kernel has no Landlock (or it
					   is disabled or blocked). */
};

/**
 * rp_sandbox_apply(cfg, desc, len):
 * Confine the calling thread, and every thread it creates from now on, as
 * rp_sandbox.h describes, allowing the directories of ${cfg}'s key files.
 * Store what came of it in ${desc} (${len} bytes), for the start line:
 * "landlock ABI N" or "unavailable (...)".  Return RP_SANDBOX_ON or
 * RP_SANDBOX_UNAVAILABLE, or -1 with a warning printed if the kernel has
 * Landlock but the sandbox could not be set up (start-up then fails).
 */
int rp_sandbox_apply(const struct rp_sandbox_cfg * cfg, char * desc,
    size_t len);

#endif /* !RP_SANDBOX_H_ */
