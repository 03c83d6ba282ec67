#ifndef TL_ADDR_H
#define TL_ADDR_H
/*
 * tl_addr: socket addresses in spiped's forms ("/unix/path", "host:port",
 * "[1.2.3.4]:port", "[v6::addr]:port") and non-blocking sockets on them.
 */
#include <stddef.h>
#include <sys/socket.h>

struct tl_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;		/* AF_UNIX, AF_INET or AF_INET6 */
};

/*
 * tl_addr_parse(s, a): resolve ${s} into ${a} (the first address found).
 * Return 0 on success, -1 (with a message on stderr) on failure.
 */
int tl_addr_parse(const char *s, struct tl_addr *a);

/*
 * tl_addr_listen(a, backlog): a non-blocking listening socket bound to ${a}
 * (SO_REUSEADDR; a stale UNIX socket file is removed first).  Return the fd,
 * or -1 with errno set.
 */
int tl_addr_listen(const struct tl_addr *a, int backlog);

/*
 * tl_addr_connect(a): a non-blocking socket with connect() to ${a} started
 * (TCP_NODELAY set for TCP).  Return the fd, or -1 with errno set.  The
 * connection may still be in progress: wait for writability and check it
 * with tl_addr_connect_result().
 */
int tl_addr_connect(const struct tl_addr *a);

/*
 * tl_addr_connect_result(fd): 0 if the non-blocking connect on ${fd}
 * succeeded, else the errno value it failed with.
 */
int tl_addr_connect_result(int fd);

/*
 * tl_addr_accept(lfd): accept one connection from ${lfd} as a non-blocking
 * socket with TCP_NODELAY.  Return the fd, or -1 with errno set (EAGAIN when
 * none is pending).
 */
int tl_addr_accept(int lfd);

/*
 * tl_addr_bound(fd, buf, len): write the local address of ${fd} into ${buf}
 * in "[ip]:port" or path form.  Return 0 on success, -1 on error.
 */
int tl_addr_bound(int fd, char *buf, size_t len);

/*
 * tl_addr_publish(fd, path): if ${path} is not NULL, write the local address
 * of ${fd} (as tl_addr_bound gives it) plus a newline to ${path}
 * atomically, so a script can start a server on port 0 and read the port back.
 * Return 0 on success, -1 on error.
 */
int tl_addr_publish(int fd, const char *path);

#endif
