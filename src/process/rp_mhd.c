#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "rp_log.h"
#include "rp_mhd.h"

/* The library's file name (its soname: the ABI the headers describe). */
#ifndef RP_MHD_SONAME
#define RP_MHD_SONAME	"libmicrohttpd.so.12"
#endif

static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static struct rp_mhd mhd_fns;
static const struct rp_mhd * mhd_table;	/* &mhd_fns once loaded. */

/* Look up ${name} in ${h} into *${fn}; -1 (with a warning) if missing. */
static int
mhd_sym(void * h, const char * name, void * fn)
{
	void * p;

	if ((p = dlsym(h, name)) == NULL) {
		rp_warn("%s: %s is missing", RP_MHD_SONAME, name);
		return (-1);
	}
	/* POSIX: a data pointer from dlsym converts to a function pointer. */
	*(void **)fn = p;
	return (0);
}

/* Load the library once (pthread_once). */
static void
mhd_load_once(void)
{
	void * h;
	const char * err;

	if ((h = dlopen(RP_MHD_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		rp_warn("Cannot load %s for --metrics: %s (install "
		    "libmicrohttpd12)", RP_MHD_SONAME,
		    err != NULL ? err : "unknown error");
		goto err0;
	}
	if (mhd_sym(h, "MHD_start_daemon", &mhd_fns.start_daemon) ||
	    mhd_sym(h, "MHD_stop_daemon", &mhd_fns.stop_daemon) ||
	    mhd_sym(h, "MHD_create_response_from_buffer",
	    &mhd_fns.create_response_from_buffer) ||
	    mhd_sym(h, "MHD_add_response_header",
	    &mhd_fns.add_response_header) ||
	    mhd_sym(h, "MHD_queue_response", &mhd_fns.queue_response) ||
	    mhd_sym(h, "MHD_destroy_response", &mhd_fns.destroy_response))
		goto err1;

	/* Success!  The library stays loaded for the life of the process. */
	mhd_table = &mhd_fns;
	return;

err1:
	dlclose(h);
err0:
	/* Failure! */
	return;
}

/**
 * rp_mhd_load(void):
 * Load libmicrohttpd (once per process; later calls return the same
 * table) and return its functions, or NULL with a warning printed that
 * names what is missing.
 */
const struct rp_mhd *
rp_mhd_load(void)
{

	(void)pthread_once(&mhd_once, mhd_load_once);
	return (mhd_table);
}
