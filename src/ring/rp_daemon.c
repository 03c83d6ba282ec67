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

/**
 * rp_daemonize(pidfile):
 * Detach into the background (fork, setsid, standard input and output to
 * /dev/null) and write the daemon's pid to ${pidfile}.  The parent stays
 * until the daemon calls rp_daemon_ready, copying what the daemon writes
 * to its standard error until then to its own, and exits 0 then; if the
 * daemon exits first, the parent exits with its status (1 if that was 0).
 * Must be called before any thread is created.  Return 0 in the daemon,
 * -1 on failure (in the caller, which was not forked).
 */
int
rp_daemonize(const char * pidfile)
{
	int msg[2], ready[2];
	FILE * f;
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
	if (daemon_dup_to(msg[1], STDERR_FILENO))
		_exit(1);
	daemon_readyfd = ready[1];
	if (setsid() == -1) {
		rp_warnp("setsid");
		_exit(1);
	}
	if ((f = fopen(pidfile, "w")) == NULL) {
		rp_warnp("Cannot write pidfile %s", pidfile);
		_exit(1);
	}
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f)) {
		rp_warnp("Cannot write pidfile %s", pidfile);
		_exit(1);
	}
	if ((nul = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(nul, STDIN_FILENO) == -1 || daemon_dup_to(nul, STDOUT_FILENO)) {
		rp_warnp("/dev/null");
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

/**
 * rp_daemon_ready():
 * In a daemon made by rp_daemonize: start-up is over, so let the parent
 * exit 0, and send standard error to /dev/null from now on.  A no-op
 * otherwise, and after the first call.
 */
void
rp_daemon_ready(void)
{
	int nul;

	if (daemon_readyfd == -1)
		return;

	/* The byte first: the parent reads it once standard error closes. */
	daemon_write_all(daemon_readyfd, "", 1);
	close(daemon_readyfd);
	daemon_readyfd = -1;
	if ((nul = open("/dev/null", O_WRONLY)) != -1)
		(void)daemon_dup_to(nul, STDERR_FILENO);
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
