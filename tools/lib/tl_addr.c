#include "tl_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tl_util.h"

int
tl_addr_parse(const char *s, struct tl_addr *a)
{
	struct addrinfo hints, *res;
	char host[256];
	const char *port;
	const char *colon;
	size_t hlen;
	int rc;

	memset(a, 0, sizeof(*a));
	if (s[0] == '/') {
		struct sockaddr_un *sun = (struct sockaddr_un *)&a->ss;

		if (strlen(s) >= sizeof(sun->sun_path)) {
			tl_util_warn("UNIX socket path too long: %s", s);
			return (-1);
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, s);
		a->len = sizeof(*sun);
		a->family = AF_UNIX;
		return (0);
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		hlen = (size_t)(close - s - 1);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		port = close + 2;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			goto bad;
		hlen = (size_t)(colon - s);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';
	if (*port == '\0')
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		tl_util_warn("cannot resolve %s: %s", s, gai_strerror(rc));
		return (-1);
	}
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	a->family = res->ai_family;
	freeaddrinfo(res);
	return (0);
bad:
	tl_util_warn("bad address (want /path, host:port or [ip]:port): %s", s);
	return (-1);
}

static void
set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
tl_addr_listen(const struct tl_addr *a, int backlog)
{
	int fd, one = 1, saved;

	if ((fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		return (-1);
	if (a->family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;
		struct stat st;

		if (stat(sun->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
			(void)unlink(sun->sun_path);
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) ||
	    listen(fd, backlog))
		goto err;
	return (fd);
err:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

int
tl_addr_connect(const struct tl_addr *a)
{
	int fd, saved;

	if ((fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		return (-1);
	if (a->family != AF_UNIX)
		set_nodelay(fd);
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) &&
	    errno != EINPROGRESS) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

int
tl_addr_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return (errno);
	return (err);
}

int
tl_addr_accept(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0 && ss.ss_family != AF_UNIX)
		set_nodelay(fd);
	return (fd);
}

int
tl_addr_bound(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return (-1);
	switch (ss.ss_family) {
	case AF_UNIX:
		n = snprintf(buf, len, "%s",
		    ((struct sockaddr_un *)&ss)->sun_path);
		break;
	case AF_INET: {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		n = snprintf(buf, len, "[%s]:%u", ip, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		n = snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
		break;
	}
	default:
		return (-1);
	}
	return ((n < 0 || (size_t)n >= len) ? -1 : 0);
}

int
tl_addr_publish(int fd, const char *path)
{
	char buf[512];

	if (path == NULL)
		return (0);
	if (tl_addr_bound(fd, buf, sizeof(buf) - 1))
		return (-1);
	strcat(buf, "\n");
	return (tl_util_write_file(path, buf));
}
