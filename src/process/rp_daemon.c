#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rp_daemon.h"
#include "rp_log.h"

/* The daemon's end of the pipe that tells the parent that start-up is
 * over, or -1 (not a daemon made by rp_daemonize, or already told). */
static int daemon_readyfd = -1;

/* The standard error of the process that called rp_daemonize, kept for
 * rp_daemon_release, or -1. */
static int daemon_origerr = -1;

/* The pidfile this process wrote, or NULL, and a descriptor open on it
 * for writing (-1 if none): the sandbox grants no right to remove it, so
 * at exit it is emptied through this instead. */
static char * daemon_pidfile;
static int daemon_pidfd = -1;

/* Write the ${len} bytes at ${buf} to ${fd}; give up on an error. */
static void
daemon_write_all(int fd, const char * buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * The parent of the daemon ${pid}: copy what the daemon writes to its
 * standard error (${msgfd}) to ours until it closes it, which it does once
 * start-up is over or by exiting; then exit 0 if it said it is ready on
 * ${readyfd}, else with its exit status (1 if that was 0 or it was
 * killed).
 */
static void
daemon_parent(pid_t pid, int msgfd, int readyfd)
{
	char buf[512];
	ssize_t n;
	char c;
	int st;

	while ((n = read(msgfd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		daemon_write_all(STDERR_FILENO, buf, (size_t)n);
	}
	while ((n = read(readyfd, &c, 1)) == -1 && errno == EINTR)
		;
	if (n == 1)
		_exit(0);
	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR)
			_exit(1);
	}
	_exit((WIFEXITED(st) && WEXITSTATUS(st) != 0) ? WEXITSTATUS(st) : 1);
}

/* Make ${fd} the daemon's ${to} (0, 1 or 2) and close it; 0 or -1. */
static int
daemon_dup_to(int fd, int to)
{

	if (dup2(fd, to) == -1)
		return (-1);
	if (fd != to)
		close(fd);
	return (0);
}

/* Write our pid to ${pidfile}, which is created or truncated but never
 * followed if it is a symbolic link (it is written as root, often in a
 * directory others can write); 0, or -1 with a warning printed. */
static int
daemon_write_pidfile(const char * pidfile)
{
	char buf[32];
	int fd, len;

	if ((fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		goto err0;
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)len) != len)
		goto err1;
	if ((daemon_pidfile = strdup(pidfile)) == NULL)
		goto err1;
	daemon_pidfd = fd;
	return (0);

err1:
	close(fd);
err0:
	rp_warnp("Cannot write pidfile %s", pidfile);
	return (-1);
}

/**
 * rp_daemonize(pidfile):
 * Detach into the background (fork, setsid, standard input and output to
 * /dev/null) and write the daemon's pid to ${pidfile} (never through a
 * symbolic link).  The parent stays until the daemon calls
 * rp_daemon_release or rp_daemon_ready, copying what the daemon writes to
 * its standard error until then to its own, and exits 0 then; if the
 * daemon exits first, the parent exits with its status (1 if that was 0).
 * Must be called before any thread is created.  Return 0 in the daemon,
 * -1 on failure (in the caller, which was not forked).
 */
int
rp_daemonize(const char * pidfile)
{
	int msg[2], ready[2];
	pid_t pid;
	int nul;

	if (pipe2(msg, O_CLOEXEC) || pipe2(ready, O_CLOEXEC)) {
		rp_warnp("pipe");
		goto err0;
	}
	if ((pid = fork()) == -1) {
		rp_warnp("fork");
		goto err1;
	}
	if (pid != 0) {
		close(msg[1]);
		close(ready[1]);
		daemon_parent(pid, msg[0], ready[0]);
	}

	/* From here on what the daemon says goes to the parent. */
	close(msg[0]);
	close(ready[0]);
	daemon_origerr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (daemon_dup_to(msg[1], STDERR_FILENO))
		_exit(1);
	daemon_readyfd = ready[1];
	if (setsid() == -1) {
		rp_warnp("setsid");
		_exit(1);
	}
	if (daemon_write_pidfile(pidfile))
		_exit(1);
	if ((nul = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(nul, STDIN_FILENO) == -1 || daemon_dup_to(nul, STDOUT_FILENO)) {
		rp_warnp("/dev/null");
		rp_daemon_exit();
		_exit(1);
	}
	return (0);

err1:
	close(msg[0]);
	close(msg[1]);
	close(ready[0]);
	close(ready[1]);
err0:
	return (-1);
}

/* Let the parent exit 0 if it still waits. */
static void
daemon_tell_parent(void)
{

	if (daemon_readyfd == -1)
		return;

	/* The byte first: the parent reads it once standard error closes. */
	daemon_write_all(daemon_readyfd, "", 1);
	close(daemon_readyfd);
	daemon_readyfd = -1;
}

/**
 * rp_daemon_release():
 * In a daemon made by rp_daemonize that is still starting up but should
 * not hold its parent (-D waiting for DNS): let the parent exit 0 now, and
 * point standard error back at the one the daemon was started with (as
 * stock spiped leaves it), so that a later start-up error still reaches
 * whoever started it.  A no-op otherwise, and after the first call.
 */
void
rp_daemon_release(void)
{

	if (daemon_readyfd == -1)
		return;
	if (daemon_origerr != -1 &&
	    dup2(daemon_origerr, STDERR_FILENO) == -1) {
		/* Keep the pipe: what is written to it is lost either way. */
	}
	daemon_tell_parent();
}

/**
 * rp_daemon_ready():
 * In a daemon made by rp_daemonize: start-up is over, so let the parent
 * exit 0 if rp_daemon_release did not, and send standard error to
 * /dev/null from now on.  A no-op otherwise, and after the first call.
 */
void
rp_daemon_ready(void)
{
	int nul;

	if (daemon_readyfd == -1 && daemon_origerr == -1)
		return;
	daemon_tell_parent();
	if (daemon_origerr != -1) {
		close(daemon_origerr);
		daemon_origerr = -1;
	}
	if ((nul = open("/dev/null", O_WRONLY)) != -1)
		(void)daemon_dup_to(nul, STDERR_FILENO);
}

/**
 * rp_daemon_exit():
 * The daemon is exiting: remove the pidfile rp_daemonize wrote, if any.
 * Having dropped privileges (-u) or in the sandbox, it may lack the right
 * to: the file is then emptied (through the descriptor kept from writing
 * it), so that it names no process.
 */
void
rp_daemon_exit(void)
{

	if (daemon_pidfile == NULL)
		return;
	if (unlink(daemon_pidfile) && daemon_pidfd != -1 &&
	    ftruncate(daemon_pidfd, 0)) {
		/* Exiting: nothing more can be done about it. */
	}
	if (daemon_pidfd != -1)
		close(daemon_pidfd);
	daemon_pidfd = -1;
	free(daemon_pidfile);
	daemon_pidfile = NULL;
}

/**
 * rp_setuidgid(spec):
 * Drop privileges to ${spec}: "user", ":group" or "user:group".  Return 0
 * on success, -1 with a warning printed on failure.
 */
int
rp_setuidgid(const char * spec)
{
	char * s, * colon;
	const char * user, * group = NULL;
	struct passwd * pw = NULL;
	struct group * gr = NULL;
	int rc = -1;

	if ((s = strdup(spec)) == NULL)
		return (-1);
	user = s;
	if ((colon = strchr(s, ':')) != NULL) {
		*colon = '\0';
		group = colon + 1;
	}
	if (*user != '\0' && (pw = getpwnam(user)) == NULL) {
		rp_warn("No such user: %s", user);
		goto done;
	}
	if (group != NULL && (gr = getgrnam(group)) == NULL) {
		rp_warn("No such group: %s", group);
		goto done;
	}
	if (gr != NULL || pw != NULL) {
		gid_t gid = gr ? gr->gr_gid : pw->pw_gid;

		if (setgroups(1, &gid) && errno != EPERM) {
			rp_warnp("setgroups");
			goto done;
		}
		if (setgid(gid)) {
			rp_warnp("setgid");
			goto done;
		}
	}
	if (pw != NULL && setuid(pw->pw_uid)) {
		rp_warnp("setuid");
		goto done;
	}
	rc = 0;
done:
	free(s);
	return (rc);
}
