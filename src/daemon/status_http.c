/*
 * status_http.c -- the daemon's read-only HTTP status endpoint.  See
 * status_http.h for the URLs.
 *
 * status_http_handle() answers a request from the method, the target and
 * the daemon's view alone (pure, unit-tested): the dashboard is
 * status_page.c's, /metrics status_metrics.c's, /api/status
 * status_json.c's, and what they share (each group's verdict, formats)
 * status_view.c's.  The connections, their cap and their deadline are
 * status_server.c's, which asks status_http_serve() below for each answer.
 */
#include "status_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mxf.h"
#include "status_server.h"
#include "value.h"

struct status_http {
	struct status_server *srv;
	status_http_view_fn view;
	void *arg;
};

/* A fixed answer: nothing to free. */
static void
status_http_fixed(struct status_http_answer *a, int code, const char *reason, const char *type,
		  const char *body)
{
	*a = (struct status_http_answer){
		.code = code, .reason = reason, .type = type, .body = body};
}

/* A built answer: 200 with @built (taken over), or 500 with @oom when it is NULL. */
static void
status_http_built(struct status_http_answer *a, const char *type, char *built, const char *oom)
{
	if (built == NULL) {
		status_http_fixed(a, 500, "Internal Server Error", type, oom);
		return;
	}
	status_http_fixed(a, 200, "OK", type, built);
	a->owned = built;
}

void
status_http_handle(const char *method, const char *target, const struct config *cfg,
		   const struct state *st, const struct status_counters *ctr, uint64_t now_ms,
		   struct status_http_answer *a)
{
	const char *uri = target != NULL ? target : "/";
	size_t n = strcspn(uri, "?#");
	char path[64];

	if (method == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
		status_http_fixed(a, 405, "Method Not Allowed", "text/plain", "GET or HEAD only\n");
		a->allow = "GET, HEAD";
		return;
	}
	snprintf(path, sizeof(path), "%.*s", (int)(n < sizeof(path) - 1 ? n : sizeof(path) - 1),
		 uri);
	if (cfg == NULL || st == NULL)
		status_http_fixed(a, 503, "Service Unavailable", "text/plain", "starting\n");
	else if (strcmp(path, "/metrics") == 0)
		status_http_built(a, "text/plain; version=0.0.4",
				  status_http_metrics(cfg, st, ctr, now_ms), "out of memory\n");
	else if (strcmp(path, "/api/status") == 0)
		status_http_built(a, "application/json", status_json_text(cfg, st, ctr, now_ms),
				  "{}\n");
	else if (strcmp(path, "/") == 0)
		status_http_built(a, "text/html; charset=utf-8",
				  status_page_html(cfg, st, ctr, now_ms), "out of memory\n");
	else
		status_http_fixed(a, 404, "Not Found", "text/plain",
				  "not found: try /, /api/status or /metrics\n");
}

void
status_http_answer_free(struct status_http_answer *a)
{
	if (a == NULL)
		return;
	free(a->owned);
	a->owned = NULL;
	a->body = NULL;
}

/* The server's question: the daemon's view, then the answer. */
static void
status_http_serve(void *arg, const char *method, const char *target, struct status_http_answer *a)
{
	struct status_http *sh = arg;
	const struct config *cfg = NULL;
	const struct state *st = NULL;
	const struct status_counters *ctr = NULL;

	sh->view(sh->arg, &cfg, &st, &ctr);
	status_http_handle(method, target, cfg, st, ctr, clock_wall_ms(), a);
}

int
status_http_new(struct event_base *base, const char *listen, status_http_view_fn view, void *arg,
		struct status_http **out, char *err, size_t errlen)
{
	struct status_http *sh;
	char *host = NULL;
	uint16_t port = 0;
	int rc;

	*out = NULL;
	if (value_parse_hostport(listen, &host, &port, 0) != 0 || port == 0) {
		snprintf(err, errlen, "status_listen '%s' is not ADDRESS:PORT", listen);
		free(host);
		return MXF_EINVAL;
	}
	sh = calloc(1, sizeof(*sh));
	if (sh == NULL) {
		free(host);
		return MXF_ENOMEM;
	}
	sh->view = view;
	sh->arg = arg;
	rc = status_server_new(base, host, port, 0, 0, status_http_serve, sh, &sh->srv, err,
			       errlen);
	free(host);
	if (rc != 0) {
		if (rc == MXF_EIO)
			snprintf(err, errlen, "cannot listen on %s (address in use or not local)",
				 listen);
		free(sh);
		return rc;
	}
	*out = sh;
	return 0;
}

void
status_http_free(struct status_http *sh)
{
	if (sh == NULL)
		return;
	status_server_free(sh->srv);
	free(sh);
}
