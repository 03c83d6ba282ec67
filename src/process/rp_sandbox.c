/*
 * The Landlock sandbox (rp_sandbox.h).  glibc has no wrappers for the
 * Landlock system calls: they are made with syscall(2).  Debian 12's
 * <linux/landlock.h> knows ABI 1 and 2; the rights of later ABIs are
 * defined here.
 */

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "rp_log.h"
#include "rp_sandbox.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)	/* ABI 3. */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5. */
#endif

/* ABI 1's rights: EXECUTE (bit 0) to MAKE_SYM (bit 12). */
#define SANDBOX_FS_ABI1	((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1)

/* The most directories the loaded libraries lie in that are kept. */
#define SANDBOX_LIBDIRS	16

/* Single files read after start-up; those missing are skipped. */
/* An AddressSanitizer build: LeakSanitizer runs at exit. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_LSAN
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_LSAN
#endif
#endif

static const char * const sandbox_read_files[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf",
	"/etc/host.conf", "/etc/gai.conf", "/etc/services",
	"/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group",
	"/proc/sys/kernel/io_uring_disabled", NULL
};

/* A ruleset being built. */
struct sandbox {
	int fd;				/* The ruleset. */
	uint64_t handled;		/* The rights it handles. */
	char * libdirs[SANDBOX_LIBDIRS];	/* Libraries' directories. */
	int nlibdirs;
};

/* The file-system rights of Landlock ABI ${abi}. */
static uint64_t
sandbox_fs_rights(int abi)
{
	uint64_t r = SANDBOX_FS_ABI1;

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return (r);
}

/*
 * Allow ${access} on ${path} (a directory: on what lies beneath it; a
 * file: on it alone) in ${sb}.  A path that does not exist is skipped
 * unless ${must}.  Return 0, or -1 with a warning printed.
 */
static int
sandbox_allow(struct sandbox * sb, const char * path, uint64_t access,
    int must)
{
	struct landlock_path_beneath_attr pb;
	int fd;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		if (!must && (errno == ENOENT || errno == ENOTDIR))
			return (0);
		rp_warnp("sandbox: %s", path);
		return (-1);
	}
	pb.parent_fd = fd;
	pb.allowed_access = access & sb->handled;
	if (syscall(SYS_landlock_add_rule, sb->fd, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0)) {
		rp_warnp("sandbox: cannot allow %s", path);
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/* Allow reading files in the directory of ${path} in ${sb}; 0 or -1. */
static int
sandbox_allow_dir_of(struct sandbox * sb, const char * path)
{
	char * copy, * slash;
	int rc;

	if ((copy = strdup(path)) == NULL) {
		rp_warnp("strdup");
		return (-1);
	}
	if ((slash = strrchr(copy, '/')) == NULL)
		rc = sandbox_allow(sb, ".", LANDLOCK_ACCESS_FS_READ_FILE, 1);
	else {
		/* "/key" lies in "/". */
		slash[slash == copy ? 1 : 0] = '\0';
		rc = sandbox_allow(sb, copy, LANDLOCK_ACCESS_FS_READ_FILE, 1);
	}
	free(copy);
	return (rc);
}

/*
 * Allow reading files in the directory of ${path} and, if ${path} is a
 * symbolic link now, in the directory of the file it leads to; 0 or -1.
 * (Directories: a rotation renames a new file over the old one.)
 */
static int
sandbox_allow_dirs_of(struct sandbox * sb, const char * path)
{
	struct stat st;
	char * real;
	int rc;

	if (sandbox_allow_dir_of(sb, path))
		return (-1);
	if (lstat(path, &st) || !S_ISLNK(st.st_mode) ||
	    (real = realpath(path, NULL)) == NULL)
		return (0);
	rc = sandbox_allow_dir_of(sb, real);
	free(real);
	return (rc);
}

/* dl_iterate_phdr's callback: note in the struct sandbox ${cookie} the
 * directory of the library ${info} describes, once. */
static int
sandbox_libdir(struct dl_phdr_info * info, size_t size, void * cookie)
{
	struct sandbox * sb = cookie;
	const char * slash;
	size_t n;
	int i;

	(void)size;
	if (info->dlpi_name == NULL || info->dlpi_name[0] != '/' ||
	    (slash = strrchr(info->dlpi_name, '/')) == NULL ||
	    sb->nlibdirs == SANDBOX_LIBDIRS)
		return (0);
	n = (size_t)(slash - info->dlpi_name);
	for (i = 0; i < sb->nlibdirs; i++)
		if (strlen(sb->libdirs[i]) == n &&
		    strncmp(sb->libdirs[i], info->dlpi_name, n) == 0)
			return (0);
	if ((sb->libdirs[sb->nlibdirs] = strndup(info->dlpi_name,
	    n ? n : 1)) != NULL)
		sb->nlibdirs++;
	return (0);
}

/* Add to ${sb} what every daemon needs after start-up (rp_sandbox.h);
 * 0 or -1. */
static int
sandbox_base(struct sandbox * sb)
{
	char * real;
	int i, rc = 0;

	for (i = 0; sandbox_read_files[i] != NULL; i++)
		if (sandbox_allow(sb, sandbox_read_files[i],
		    LANDLOCK_ACCESS_FS_READ_FILE, 0))
			return (-1);

	/* resolv.conf is often a link into a directory whose file its
	 * manager replaces by rename (systemd-resolved, resolvconf). */
	if ((real = realpath("/etc/resolv.conf", NULL)) != NULL) {
		if (strncmp(real, "/etc/", 5) != 0)
			rc = sandbox_allow_dir_of(sb, real);
		free(real);
		if (rc)
			return (-1);
	}
	if (sandbox_allow(sb, "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE, 1))
		return (-1);

	/* pthread_setname_np names a thread through its comm file; the
	 * process's own threads only (/proc/self is this process). */
	if (sandbox_allow(sb, "/proc/self/task", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE, 1))
		return (-1);

#ifdef SANDBOX_LSAN
	/* LeakSanitizer's tracer, a clone of its own, lists and reads this
	 * process's threads through /proc at exit. */
	if (sandbox_allow(sb, "/proc", LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR, 1))
		return (-1);
#endif

	/* NSS modules and the like are loaded lazily from the directories
	 * of the libraries loaded already (libc's above all). */
	(void)dl_iterate_phdr(sandbox_libdir, sb);
	for (i = 0; i < sb->nlibdirs; i++)
		if (sandbox_allow(sb, sb->libdirs[i],
		    LANDLOCK_ACCESS_FS_READ_FILE, 0))
			return (-1);
	return (0);
}

/**
 * rp_sandbox_apply(cfg, desc, len):
 * Confine the calling thread, and every thread it creates from now on, as
 * rp_sandbox.h describes, allowing the directories of ${cfg}'s key files.
 * Store what came of it in ${desc} (${len} bytes), for the start line:
 * "landlock ABI N" or "unavailable (...)".  Return RP_SANDBOX_ON or
 * RP_SANDBOX_UNAVAILABLE, or -1 with a warning printed if the kernel has
 * Landlock but the sandbox could not be set up (start-up then fails).
 */
int
rp_sandbox_apply(const struct rp_sandbox_cfg * cfg, char * desc, size_t len)
{
	struct landlock_ruleset_attr attr;
	struct sandbox sb;
	size_t i;
	int abi, rc = -1;

	/* ENOSYS: no Landlock in the kernel; EOPNOTSUPP: disabled at boot;
	 * EPERM: blocked (a container's seccomp profile). */
	if ((abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION)) < 1) {
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			snprintf(desc, len, "unavailable (kernel: %s)",
			    errno == ENOSYS ? "no Landlock" :
			    "Landlock disabled");
		else
			snprintf(desc, len, "unavailable (landlock_create_"
			    "ruleset: %s; a system-call filter?)",
			    strerror(errno));
		return (RP_SANDBOX_UNAVAILABLE);
	}
	memset(&sb, 0, sizeof(sb));
	sb.handled = sandbox_fs_rights(abi);

	/* The header's struct has handled_access_fs alone: the network and
	 * scopes of later ABIs stay unhandled, so unrestricted. */
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = sb.handled;
	if ((sb.fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) == -1) {
		rp_warnp("sandbox: landlock_create_ruleset");
		goto err0;
	}
	if (sandbox_base(&sb))
		goto err1;
	for (i = 0; i < cfg->nkeyfiles; i++) {
		if (strcmp(cfg->keyfiles[i], "-") == 0)
			continue;
		if (sandbox_allow_dirs_of(&sb, cfg->keyfiles[i]))
			goto err1;
	}

	/* Required of a process without CAP_SYS_ADMIN; harmless for one
	 * that never executes anything. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		rp_warnp("sandbox: PR_SET_NO_NEW_PRIVS");
		goto err1;
	}
	if (syscall(SYS_landlock_restrict_self, sb.fd, 0)) {
		rp_warnp("sandbox: landlock_restrict_self");
		goto err1;
	}
	snprintf(desc, len, "landlock ABI %d", abi);
	rc = RP_SANDBOX_ON;

err1:
	close(sb.fd);
err0:
	for (i = 0; i < (size_t)sb.nlibdirs; i++)
		free(sb.libdirs[i]);
	if (rc == -1)
		rp_warn("Cannot set up the sandbox (Landlock ABI %d); "
		    "--no-sandbox starts without it", abi);
	return (rc);
}
