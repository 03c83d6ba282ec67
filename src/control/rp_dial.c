#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rp_dial.h"
#include "rp_sock.h"

/* Close every attempt of ${d} but the one at index ${keep} (-1: all). */
static void
dial_close_all_but(struct rp_dial * d, int keep)
{
	int i;

	for (i = 0; i < d->nfds; i++)
		if (i != keep)
			close(d->fds[i]);
	d->nfds = 0;
	d->due = 0;
}

/**
 * rp_dial_init(d, addrs, naddrs, bind, keepalive):
 * Set ${d} up to connect to one of ${addrs}[0..${naddrs}) (at most
 * RP_ADDR_MAX, kept by the caller until the dial ends) from sockets bound
 * to ${bind} if it is not NULL, with the keepalive ${keepalive}
 * (RP_SOCK_KA_*, rp_sock_tune).
 * No attempt starts before the first rp_dial_step.
 */
void
rp_dial_init(struct rp_dial * d, const struct rp_addr * addrs, int naddrs,
    const struct rp_addr * bind, int keepalive)
{

	memset(d, 0, sizeof(*d));
	d->addrs = addrs;
	d->naddrs = (naddrs > RP_ADDR_MAX) ? RP_ADDR_MAX : naddrs;
	d->bind = bind;
	d->keepalive = keepalive;
	d->err = EDESTADDRREQ;		/* What no address at all fails with. */
	d->won = -1;
}

/**
 * rp_dial_hint_writable(d):
 * Say that the readiness of ${d}'s attempts was just reported writable
 * with no error; if one attempt alone is under way, the next rp_dial_step
 * takes it as connected without a poll of its own.
 */
void
rp_dial_hint_writable(struct rp_dial * d)
{

	d->sole_writable = 1;
}

/**
 * rp_dial_peer(d):
 * Return the address ${d} connected to (after RP_DIAL_CONNECTED), or NULL.
 */
const struct rp_addr *
rp_dial_peer(const struct rp_dial * d)
{

	return (d->won >= 0 ? &d->addrs[d->won] : NULL);
}

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
enum rp_dial_state
rp_dial_step(struct rp_dial * d, double now, int (* watch)(void *, int),
    void * cookie, int * fd, int * watched)
{
	int i, s, rc, sole = (d->sole_writable && d->nfds == 1);

	/* The attempts under way: the first found connected wins.  A
	 * connecting socket turns writable once connected, or with an
	 * error once failed. */
	d->sole_writable = 0;
	for (i = 0; i < d->nfds; ) {
		if ((rc = sole ? 1 : rp_sock_connected(d->fds[i])) == 1) {
			*fd = d->fds[i];
			d->won = d->fdaddr[i];
			*watched = (watch != NULL);
			dial_close_all_but(d, i);
			return (RP_DIAL_CONNECTED);
		}
		if (rc == 0) {
			i++;
			continue;
		}
		d->err = errno;
		close(d->fds[i]);
		d->nfds--;
		d->fds[i] = d->fds[d->nfds];
		d->fdaddr[i] = d->fdaddr[d->nfds];
	}

	/*
	 * The next addresses: at once while no attempt is under way (the
	 * last one failed), else once the stagger since the last start has
	 * passed.  Each pass starts an attempt or moves past an address
	 * (nfds <= next <= naddrs <= RP_ADDR_MAX), so the loop is bounded.
	 */
	while (d->next < d->naddrs && (d->nfds == 0 || now >= d->due)) {
		if ((rc = rp_sock_connect(&d->addrs[d->next], d->bind,
		    d->keepalive, &s)) == -1) {
			d->err = errno;
			if (rp_sock_out_of_fds(errno) || errno == EAGAIN) {
				/* This address again, once descriptors are
				 * freed or a stagger later. */
				if (d->nfds == 0)
					return (RP_DIAL_NOFD);
				d->due = now + RP_DIAL_STAGGER;
				break;
			}
			d->next++;
			continue;
		}
		d->next++;
		if (rc == 1) {
			dial_close_all_but(d, -1);
			d->won = d->next - 1;
			*fd = s;
			*watched = 0;
			return (RP_DIAL_CONNECTED);
		}
		if (watch != NULL && watch(cookie, s)) {
			d->err = errno;
			close(s);
			continue;
		}
		d->fdaddr[d->nfds] = d->next - 1;
		d->fds[d->nfds++] = s;
		d->due = now + RP_DIAL_STAGGER;
	}
	if (d->nfds == 0) {
		errno = d->err;
		return (RP_DIAL_FAILED);
	}
	return (RP_DIAL_WAIT);
}

/**
 * rp_dial_due(d):
 * Return when ${d} wants rp_dial_step for its next attempt if none of its
 * attempts has reported by then, or 0 if it has none to start then (no
 * address left, or it waits for descriptors: RP_DIAL_NOFD).
 */
double
rp_dial_due(const struct rp_dial * d)
{

	if (d->next >= d->naddrs || d->nfds == 0)
		return (0);
	return (d->due);
}

/**
 * rp_dial_abort(d):
 * Close every attempt of ${d} that is under way.
 */
void
rp_dial_abort(struct rp_dial * d)
{

	dial_close_all_but(d, -1);
}
