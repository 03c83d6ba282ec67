/*
 * The metrics server over libmicrohttpd: the library parses HTTP and
 * rejects what is malformed or too large; this file only routes a parsed
 * request to the scrape, /healthz, /readyz, a 404 or a 405.
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rp_log.h"
#include "rp_metrics.h"
#include "rp_mhd.h"
#include "rp_prom.h"
#include "rp_sock.h"

/*
 * Bounds on what a client can hold: scrapers are few, a request is one
 * line and a few headers (more than METRICS_MEMORY is refused by the
 * library with 431 or 414), and an idle or slow client is closed after
 * METRICS_TIMEOUT seconds.
 */
#define METRICS_CONNS	16
#define METRICS_TIMEOUT	10
#define METRICS_MEMORY	(16 * 1024)

struct rp_metrics {
	const struct rp_mhd * mhd;	/* The library's functions. */
	int fd;				/* Listening socket. */
	struct MHD_Daemon * d;		/* Running server, or NULL. */
	struct rp_metrics_src src;
};

/* Queue the short text answer ${body} with ${status} on ${conn} of ${m};
 * for a 405 with the Allow header. */
static enum MHD_Result
metrics_reply(struct rp_metrics * m, struct MHD_Connection * conn,
    unsigned int status, const char * body)
{
	struct MHD_Response * r;
	enum MHD_Result rc;

	if ((r = m->mhd->create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY)) == NULL)
		return (MHD_NO);
	(void)m->mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)m->mhd->add_response_header(r, MHD_HTTP_HEADER_ALLOW,
		    "GET, HEAD");
	rc = m->mhd->queue_response(conn, status, r);
	m->mhd->destroy_response(r);
	return (rc);
}

/* Queue the scrape of ${m} on ${conn}. */
static enum MHD_Result
metrics_scrape(struct rp_metrics * m, struct MHD_Connection * conn)
{
	struct MHD_Response * r;
	enum MHD_Result rc;
	size_t len;
	char * text;

	if ((text = rp_metrics_scrape(&m->src, &len)) == NULL)
		return (metrics_reply(m, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n"));
	if ((r = m->mhd->create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(text);
		return (MHD_NO);
	}
	(void)m->mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    RP_PROM_CONTENT_TYPE);
	rc = m->mhd->queue_response(conn, MHD_HTTP_OK, r);
	m->mhd->destroy_response(r);
	return (rc);
}

/* Queue the answer of /healthz, or of /readyz if ${readyz}, for ${m} on
 * ${conn}: 200 or 503 with a short text saying what is not ready. */
static enum MHD_Result
metrics_health(struct rp_metrics * m, struct MHD_Connection * conn,
    int readyz)
{
	enum MHD_Result rc;
	const char * body;
	char * text;
	int ok;

	if (!readyz) {
		body = rp_metrics_healthy(&ok);
		return (metrics_reply(m, conn, ok ? MHD_HTTP_OK :
		    MHD_HTTP_SERVICE_UNAVAILABLE, body));
	}
	if ((text = rp_metrics_ready(&m->src, &ok)) == NULL)
		return (metrics_reply(m, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n"));
	rc = metrics_reply(m, conn, ok ? MHD_HTTP_OK :
	    MHD_HTTP_SERVICE_UNAVAILABLE, text);
	free(text);
	return (rc);
}

/*
 * The library's request handler, called once the request line and headers
 * have parsed: every answer goes out from this first call, so a request
 * body is never read (the library closes such a connection after the
 * answer).  HEAD gets GET's headers without the body.
 */
static enum MHD_Result
metrics_request(void * cls, struct MHD_Connection * conn, const char * url,
    const char * method, const char * version, const char * upload_data,
    size_t * upload_data_size, void ** con_cls)
{
	struct rp_metrics * m = cls;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return (metrics_reply(m, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed: GET /metrics, /healthz, /readyz\n"));
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0)
		return (metrics_health(m, conn, url[1] == 'r'));
	if (strcmp(url, "/metrics") != 0)
		return (metrics_reply(m, conn, MHD_HTTP_NOT_FOUND,
		    "not found: GET /metrics, /healthz, /readyz\n"));
	return (metrics_scrape(m, conn));
}

/**
 * rp_metrics_unavailable():
 * Return NULL if this build can serve metrics (libmicrohttpd), else why
 * it cannot.
 */
const char *
rp_metrics_unavailable(void)
{

	return (NULL);
}

/**
 * rp_metrics_listen(a):
 * Bind and listen on the address ${a} for metrics (before privileges are
 * dropped and before the daemon detaches; no thread starts yet).  Return
 * the server, or NULL with a warning printed.
 */
struct rp_metrics *
rp_metrics_listen(const struct rp_addr * a)
{
	struct rp_metrics * m;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	if ((m->mhd = rp_mhd_load()) == NULL)
		goto err1;
	if ((m->fd = rp_sock_listen(a)) == -1)
		goto err1;
	return (m);

err1:
	free(m);
err0:
	return (NULL);
}

/**
 * rp_metrics_start(m, src):
 * Start serving ${src} through ${m} on a thread of the server's own.
 * Return 0, or -1 with a warning printed.
 */
int
rp_metrics_start(struct rp_metrics * m, const struct rp_metrics_src * src)
{

	m->src = *src;

	/* The library's own polling thread; errors are answered, not
	 * logged (a client must not be able to flood the log). */
	if ((m->d = m->mhd->start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL,
	    NULL, metrics_request, m,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_MEMORY,
	    MHD_OPTION_END)) == NULL) {
		rp_warn("Cannot start the metrics server (libmicrohttpd)");
		return (-1);
	}
	return (0);
}

/**
 * rp_metrics_free(m):
 * Stop ${m} (waiting for a scrape under way), close its socket and free
 * it.  NULL is a no-op.
 */
void
rp_metrics_free(struct rp_metrics * m)
{

	if (m == NULL)
		return;

	/* A running server closes the listening socket as it stops. */
	if (m->d != NULL)
		m->mhd->stop_daemon(m->d);
	else
		close(m->fd);
	free(m);
}
