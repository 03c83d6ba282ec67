#ifndef RP_DIAL_H_
#define RP_DIAL_H_

/*
 * Connecting to a target that has several addresses, in the Happy Eyeballs
 * manner (RFC 8305): the addresses are tried in the order the look-up gave
 * them; the next attempt starts as soon as the one before has failed, or
 * RP_DIAL_STAGGER seconds after it began if it has neither connected nor
 * failed by then; the attempts run side by side, the first to connect wins
 * and the others are closed.  So a first address that drops SYNs costs a
 * stagger, not the whole -o.
 *
 * rp_dial_step does no waiting: the control thread drives it from its
 * epoll loop (the caller's watch function puts each new attempt in its
 * epoll set), and ringpipe from a poll loop (rp_hsio_dial).  The caller
 * bounds the whole by its -o deadline.
 */

#include "rp_addr.h"

/* How long an attempt has before the next one starts, in seconds (RFC
 * 8305's recommended Connection Attempt Delay). */
#define RP_DIAL_STAGGER	0.25

/* What rp_dial_step came to. */
enum rp_dial_state {
	RP_DIAL_WAIT,		/* Attempts under way: step again on an event
				   on one of them, or at rp_dial_due. */
	RP_DIAL_CONNECTED,	/* One connected: its socket is the caller's. */
	RP_DIAL_NOFD,		/* No attempt under way, and none could start
				   for want of descriptors or socket memory
				   (or a UNIX target's full backlog): step
				   again once some are freed. */
	RP_DIAL_FAILED		/* Every address failed (errno says why the
				   last did). */
};

struct rp_dial {
	const struct rp_addr * addrs;	/* The target's addresses... */
	int naddrs;			/* ... and how many. */
	const struct rp_addr * bind;	/* -b, or NULL. */
	int keepalive;			/* RP_SOCK_KA_*. */
	int next;			/* The next address to try. */
	int nfds;			/* Attempts under way: fds[0..nfds). */
	int fds[RP_ADDR_MAX];
	int fdaddr[RP_ADDR_MAX];	/* The address of each attempt. */
	int won;			/* The address connected, or -1. */
	int sole_writable;		/* rp_dial_hint_writable: the next
					   step takes a sole attempt as
					   connected without asking. */
	double due;			/* The next attempt starts then (0: no
					   address is left to try). */
	int err;			/* Why the last attempt failed. */
};

/**
 * rp_dial_hint_writable(d):
 * Say that the readiness of ${d}'s attempts was just reported writable
 * with no error; if one attempt alone is under way, the next rp_dial_step
 * takes it as connected without a poll of its own.
 */
void rp_dial_hint_writable(struct rp_dial * d);

/**
 * rp_dial_peer(d):
 * Return the address ${d} connected to (after RP_DIAL_CONNECTED), or NULL.
 */
const struct rp_addr * rp_dial_peer(const struct rp_dial * d);

/**
 * rp_dial_init(d, addrs, naddrs, bind, keepalive):
 * Set ${d} up to connect to one of ${addrs}[0..${naddrs}) (at most
 * RP_ADDR_MAX, kept by the caller until the dial ends) from sockets bound
 * to ${bind} if it is not NULL, with the keepalive ${keepalive}
 * (RP_SOCK_KA_*, rp_sock_tune).
 * No attempt starts before the first rp_dial_step.
 */
void rp_dial_init(struct rp_dial * d, const struct rp_addr * addrs,
    int naddrs, const struct rp_addr * bind, int keepalive);

/**
 * rp_dial_step(d, now, watch, cookie, fd, watched):
 * Move ${d} on at the time ${now} (CLOCK_MONOTONIC seconds): look at the
 * attempts under way, and start the next ones that are due.  Each new
 * attempt still under way is passed to ${watch}(${cookie}, its socket)
 * unless ${watch} is NULL; an attempt whose ${watch} fails counts as
 * failed.  On RP_DIAL_CONNECTED, store the socket in ${fd}, and in
 * ${watched} whether it went through ${watch}; every other attempt is
 * closed then.
 */
enum rp_dial_state rp_dial_step(struct rp_dial * d, double now,
    int (* watch)(void *, int), void * cookie, int * fd, int * watched);

/**
 * rp_dial_due(d):
 * Return when ${d} wants rp_dial_step for its next attempt if none of its
 * attempts has reported by then, or 0 if it has none to start then (no
 * address left, or it waits for descriptors: RP_DIAL_NOFD).
 */
double rp_dial_due(const struct rp_dial * d);

/**
 * rp_dial_abort(d):
 * Close every attempt of ${d} that is under way.
 */
void rp_dial_abort(struct rp_dial * d);

#endif /* !RP_DIAL_H_ */
