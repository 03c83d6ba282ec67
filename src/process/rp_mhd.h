#ifndef RP_MHD_H_
#define RP_MHD_H_

/*
 * libmicrohttpd, loaded when the metrics server is first asked for
 * (dlopen), not linked: a process that serves no metrics maps neither it
 * nor GnuTLS and the libraries under that, whose relocated and writable
 * pages are private memory in every process that maps them.
 */

#include <microhttpd.h>

/* The library's functions that the metrics server calls. */
struct rp_mhd {
	struct MHD_Daemon * (* start_daemon)(unsigned int, uint16_t,
	    MHD_AcceptPolicyCallback, void *, MHD_AccessHandlerCallback,
	    void *, ...);
	void (* stop_daemon)(struct MHD_Daemon *);
	struct MHD_Response * (* create_response_from_buffer)(size_t, void *,
	    enum MHD_ResponseMemoryMode);
	enum MHD_Result (* add_response_header)(struct MHD_Response *,
	    const char *, const char *);
	enum MHD_Result (* queue_response)(struct MHD_Connection *,
	    unsigned int, struct MHD_Response *);
	void (* destroy_response)(struct MHD_Response *);
};

/**
 * rp_mhd_load(void):
 * Load libmicrohttpd (once per process; later calls return the same
 * table) and return its functions, or NULL with a warning printed that
 * names what is missing.
 */
const struct rp_mhd * rp_mhd_load(void);

#endif /* !RP_MHD_H_ */
