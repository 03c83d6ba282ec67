/*
 * systemd support in a build without libsystemd (the Makefile picks this
 * file then): notifications do nothing, and -s systemd:NAME is refused
 * with a message saying why.
 */

#include <stddef.h>

#include "rp_log.h"
#include "rp_sd.h"

/**
 * rp_sd_unavailable():
 * Return NULL if this build has libsystemd, else why socket activation
 * cannot work.
 */
const char *
rp_sd_unavailable(void)
{

	return ("this ringpiped was built without libsystemd (install "
	    "libsystemd-dev and rebuild)");
}

/**
 * rp_sd_listen(name):
 * Take the socket systemd passed in as ${name}: without libsystemd, say
 * why that cannot be and return -1.
 */
int
rp_sd_listen(const char * name)
{

	rp_warn("-s systemd:%s: %s", name, rp_sd_unavailable());
	return (-1);
}

/**
 * rp_sd_notify(state):
 * Tell the service manager ${state}: nothing to do without libsystemd.
 */
void
rp_sd_notify(const char * state)
{

	(void)state;
}

/**
 * rp_sd_reloading():
 * Tell the service manager that a reload begins: nothing to do without
 * libsystemd.
 */
void
rp_sd_reloading(void)
{

}
