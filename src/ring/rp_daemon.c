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

/**
 * rp_daemonize(pidfile):
 * Detach into the background (fork, setsid, stdio to /dev/null) and write
 * the daemon's pid to ${pidfile}.  The parent exits 0 once the pidfile is
 * written.  Must be called before any thread is created.  Return 0 in the
 * daemon, -1 on failure.
 */
int
rp_daemonize(const char * pidfile)
{
	int fds[2];
	char c = 0;
	FILE * f;
	pid_t pid;
	int nul;

	if (pipe(fds)) {
		rp_warnp("pipe");
		goto err0;
	}
	if ((pid = fork()) == -1) {
		rp_warnp("fork");
		goto err1;
	}
	if (pid != 0) {
		/* Parent: wait for the daemon to say it is ready. */
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(fds[0]);
	if (setsid() == -1) {
		rp_warnp("setsid");
		goto err2;
	}
	if ((f = fopen(pidfile, "w")) == NULL) {
		rp_warnp("Cannot write pidfile %s", pidfile);
		goto err2;
	}
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f)) {
		rp_warnp("Cannot write pidfile %s", pidfile);
		goto err2;
	}
	if ((nul = open("/dev/null", O_RDWR)) != -1) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	if (write(fds[1], &c, 1) != 1) {
		/* The parent is gone; carry on. */
	}
	close(fds[1]);
	return (0);

err2:
	close(fds[1]);
	_exit(1);
err1:
	close(fds[0]);
	close(fds[1]);
err0:
	return (-1);
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
