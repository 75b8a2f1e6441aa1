/*
 * status_http.h -- the daemon's status endpoint ([general] status_listen).
 *
 * An HTTP server (status_server.h: capped connections, one deadline each)
 * on the daemon's loop, read-only:
 *   /             the HTML dashboard (status_page.c): a banner per group
 *                 headlining its state, servers and checks with a 24 h
 *                 strip, witnesses, with [quorum] the monitors
 *                 (status_quorum.h), records, pins, events newest first;
 *                 refreshing itself every interval, no JavaScript
 *   /api/status   the state as JSON (status_json.c): the state file's
 *                 content (state.h) plus verdicts, isolation, "quorum",
 *                 RFC 3339 times, "live": true and the daemon's counters
 *   /metrics      Prometheus text exposition (status_metrics.c; the
 *                 quorum families in status_quorum.h)
 * Anything else is 404; methods other than GET and HEAD are 405.  Every
 * answer is built from the daemon's memory at the time of the request, so
 * it is as fresh as the last round.  Nothing here changes state.
 */
#ifndef MXF_STATUS_HTTP_H
#define MXF_STATUS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "findings.h"
#include "state.h"

struct event_base;
struct queue_watch;
struct status_http;

/* What the daemon counts, for /metrics and /api/status. */
struct status_counters {
	uint64_t rounds;            /* rounds finished */
	uint64_t round_ms;          /* duration of the last round */
	uint64_t last_round_ms;     /* wall time the last round finished, 0 never */
	uint64_t updates_ok;        /* zone UPDATEs applied */
	uint64_t updates_failed;    /* zone UPDATEs that failed */
	uint64_t started_ms;        /* when the daemon started */
	char state_error[256];      /* why the last save of the state failed, "" */
	const struct queue_watch *queue; /* backup queues read, or NULL (status_queue.h) */
	const struct findings *audit; /* the background audit's (status_audit.h),
					 NULL when it is off or not `run` */
};

/*
 * The daemon's current view, asked for at each request; the pointers must
 * stay valid until the handler returns (the loop is single-threaded).
 */
typedef void (*status_http_view_fn)(void *arg, const struct config **cfg,
				    const struct state **st, const struct status_counters **ctr);

/*
 * status_http_new -- listen on @listen ("127.0.0.1:9053", "[::1]:9053").
 * @err  why it failed (address in use, bad address).
 * @return 0 with *out set (free with status_http_free), MXF_EINVAL (bad
 *         address), MXF_EIO (cannot bind), MXF_ENOMEM.
 */
int status_http_new(struct event_base *base, const char *listen, status_http_view_fn view,
		    void *arg, struct status_http **out, char *err, size_t errlen);

/* Stop listening and free; NULL is allowed. */
void status_http_free(struct status_http *sh);

/*
 * One answer to a request, as status_http_handle() decides it; the server
 * glue only sends it (without the body for HEAD).
 */
struct status_http_answer {
	int code;	    /* 200, 404, 405, 500 or 503 */
	const char *reason; /* "OK", "Not Found", ... */
	const char *type;   /* the Content-Type */
	const char *allow;  /* the Allow header (405 only), else NULL */
	const char *body;   /* what to send; never NULL; valid until _free */
	char *owned;	    /* the malloc'ed body, or NULL when it is static */
};

/*
 * status_http_handle -- the answer to one request (pure: no I/O, no clock,
 * nothing changes).
 * @method  "GET" or "HEAD" are served; anything else (NULL too) is 405.
 * @target  the request target as sent ("/metrics?x=1"): the query and
 *          fragment are ignored; NULL is "/".
 * @cfg, @st  the daemon's view; either NULL means it is still starting (503).
 * @ctr     the daemon's counters, or NULL (then /metrics and /api/status
 *          leave them out).
 * @now_ms  wall time, for pins and expiry.
 * @a       filled in every case (out of memory is a 500); free it with
 *          status_http_answer_free().
 */
void status_http_handle(const char *method, const char *target, const struct config *cfg,
			const struct state *st, const struct status_counters *ctr, uint64_t now_ms,
			struct status_http_answer *a);

/* Free what @a owns (its body when built); NULL is allowed. */
void status_http_answer_free(struct status_http_answer *a);

/*
 * status_http_metrics -- the Prometheus text for a view (pure; also used by
 * tests).  @return a malloc'ed string, or NULL when out of memory.
 */
char *status_http_metrics(const struct config *cfg, const struct state *st,
			  const struct status_counters *ctr, uint64_t now_ms);

/* The dashboard's HTML and /api/status's JSON text for a view, as
 * status_http_metrics() (pure; @ctr may be NULL). */
char *status_page_html(const struct config *cfg, const struct state *st,
		       const struct status_counters *ctr, uint64_t now_ms);
char *status_json_text(const struct config *cfg, const struct state *st,
		       const struct status_counters *ctr, uint64_t now_ms);

#endif
