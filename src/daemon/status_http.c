/*
 * status_http.c -- the daemon's read-only HTTP status endpoint.  See
 * status_http.h for the URLs.
 *
 * status_http_handle() answers a request from the method, the target and
 * the daemon's view alone (pure, unit-tested); the connections, their cap
 * and their deadline are status_server.c's, which asks status_http_serve()
 * below for each answer.
 */
#include "status_http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"
#include "status_audit.h"
#include "status_server.h"
#include "value.h"

struct status_http {
	struct status_server *srv;
	status_http_view_fn view;
	void *arg;
};

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void
status_http_label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_printf(b, "\\n");
		else
			buf_append(b, s, 1);
	}
}

/* HTML text: &, <, >, " escaped. */
static void
status_http_html(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_printf(b, "&amp;"); break;
		case '<': buf_printf(b, "&lt;"); break;
		case '>': buf_printf(b, "&gt;"); break;
		case '"': buf_printf(b, "&quot;"); break;
		default: buf_append(b, s, 1); break;
		}
	}
}

char *
status_http_metrics(const struct config *cfg, const struct state *st,
		    const struct status_counters *ctr, uint64_t now_ms)
{
	struct buf b = {0};

	buf_printf(&b, "# HELP mxfailover_server_up 1 when the server is up (pins included), 0 "
		       "when down, -1 unknown.\n"
		       "# TYPE mxfailover_server_up gauge\n");
	for (size_t s = 0; s < cfg->nservers; s++) {
		enum health_state hs = health_effective(st->health, s, now_ms);

		buf_printf(&b, "mxfailover_server_up{server=\"");
		status_http_label(&b, cfg->servers[s].id);
		buf_printf(&b, "\"} %d\n", hs == HEALTH_UP ? 1 : hs == HEALTH_DOWN ? 0 : -1);
	}
	buf_printf(&b, "# HELP mxfailover_server_pinned 1 when an operator pin is in force.\n"
		       "# TYPE mxfailover_server_pinned gauge\n");
	for (size_t s = 0; s < cfg->nservers; s++) {
		buf_printf(&b, "mxfailover_server_pinned{server=\"");
		status_http_label(&b, cfg->servers[s].id);
		buf_printf(&b, "\"} %d\n", health_pinned(st->health, s, now_ms) != HEALTH_PIN_NONE);
	}
	buf_printf(&b,
		   "# HELP mxfailover_check_ok 1 when the check's last result was up or warning.\n"
		   "# TYPE mxfailover_check_ok gauge\n");
	for (size_t s = 0; s < cfg->nservers; s++) {
		const struct health_server *hs = &st->health->servers[s];

		for (size_t c = 0; c < hs->nchecks; c++) {
			if (!hs->checks[c].seen)
				continue;
			buf_printf(&b, "mxfailover_check_ok{server=\"");
			status_http_label(&b, cfg->servers[s].id);
			buf_printf(&b, "\",check=\"");
			status_http_label(&b, cfg->servers[s].checks[c]);
			buf_printf(&b, "\"} %d\n", hs->checks[c].last != HEALTH_FAIL);
		}
	}
	buf_printf(&b,
		   "# HELP mxfailover_group_active 1 for the server a group's records point at.\n"
		   "# TYPE mxfailover_group_active gauge\n");
	for (size_t g = 0; g < cfg->ngroups; g++) {
		long active = st->failover->groups[g].active;

		for (size_t i = 0; i < cfg->groups[g].nservers; i++) {
			size_t s = cfg->groups[g].servers[i];

			buf_printf(&b, "mxfailover_group_active{group=\"");
			status_http_label(&b, cfg->groups[g].id);
			buf_printf(&b, "\",server=\"");
			status_http_label(&b, cfg->servers[s].id);
			buf_printf(&b, "\"} %d\n", active == (long)s);
		}
	}
	buf_printf(&b,
		   "# HELP mxfailover_isolated 1 while every witness fails (no DNS changes).\n"
		   "# TYPE mxfailover_isolated gauge\n"
		   "mxfailover_isolated %d\n",
		   st->failover->isolated ? 1 : 0);
	if (ctr != NULL) {
		buf_printf(&b,
			   "# HELP mxfailover_rounds_total Rounds of checks finished.\n"
			   "# TYPE mxfailover_rounds_total counter\n"
			   "mxfailover_rounds_total %llu\n"
			   "# HELP mxfailover_round_duration_seconds Duration of the last round.\n"
			   "# TYPE mxfailover_round_duration_seconds gauge\n"
			   "mxfailover_round_duration_seconds %.3f\n"
			   "# HELP mxfailover_dns_updates_total Zone UPDATE messages by result.\n"
			   "# TYPE mxfailover_dns_updates_total counter\n"
			   "mxfailover_dns_updates_total{result=\"ok\"} %llu\n"
			   "mxfailover_dns_updates_total{result=\"failed\"} %llu\n"
			   "# HELP mxfailover_start_time_seconds When the daemon started.\n"
			   "# TYPE mxfailover_start_time_seconds gauge\n"
			   "mxfailover_start_time_seconds %llu\n",
			   (unsigned long long)ctr->rounds, (double)ctr->round_ms / 1000.0,
			   (unsigned long long)ctr->updates_ok,
			   (unsigned long long)ctr->updates_failed,
			   (unsigned long long)(ctr->started_ms / 1000));
	}
	status_audit_metrics(&b, ctr != NULL ? ctr->audit : NULL);
	return buf_take(&b);
}

static char *
status_http_dashboard(const struct config *cfg, const struct state *st,
		      const struct status_counters *ctr, uint64_t now_ms, uint64_t interval_ms)
{
	struct buf b = {0};
	char when[64];

	buf_printf(&b,
		   "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		   "<meta http-equiv=\"refresh\" content=\"%llu\">"
		   "<title>mxfailover</title><style>"
		   "body{font-family:sans-serif;margin:1.5em}"
		   "table{border-collapse:collapse;margin-bottom:1em}"
		   "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
		   ".up{color:#070}.down{color:#b00;font-weight:bold}.unknown{color:#777}"
		   "</style></head><body><h1>mxfailover</h1>\n",
		   (unsigned long long)(interval_ms < 2000 ? 2 : interval_ms / 1000));
	if (st->failover->isolated)
		buf_printf(&b, "<p class=\"down\">ISOLATED: every witness fails; "
			       "no DNS changes.</p>\n");
	buf_printf(&b, "<h2>Servers</h2><table><tr><th>server</th><th>address</th><th>state</th>"
		       "<th>checks</th></tr>\n");
	for (size_t s = 0; s < cfg->nservers; s++) {
		const struct health_server *hs = &st->health->servers[s];
		enum health_state e = health_effective(st->health, s, now_ms);

		buf_printf(&b, "<tr><td>");
		status_http_html(&b, cfg->servers[s].id);
		buf_printf(&b, "</td><td>");
		status_http_html(&b, cfg->servers[s].address);
		buf_printf(&b, "</td><td class=\"%s\">%s%s</td><td>", health_state_name(e),
			   health_state_name(e),
			   health_pinned(st->health, s, now_ms) != HEALTH_PIN_NONE ? " (pinned)"
										   : "");
		for (size_t c = 0; c < hs->nchecks; c++) {
			const struct health_check *hc = &hs->checks[c];

			buf_printf(&b, "<div class=\"%s\">",
				   !hc->seen		     ? "unknown"
				   : hc->last == HEALTH_FAIL ? "down"
							     : "up");
			status_http_html(&b, cfg->servers[s].checks[c]);
			buf_printf(&b, ": ");
			status_http_html(&b, hc->reason);
			buf_printf(&b, "</div>");
		}
		buf_printf(&b, "</td></tr>\n");
	}
	buf_printf(&b, "</table><h2>Groups</h2>\n");
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];
		long active = st->failover->groups[g].active;
		const struct failover_dns *seen = st->seen != NULL ? st->seen[g] : NULL;

		buf_printf(&b, "<h3>");
		status_http_html(&b, gr->id);
		buf_printf(&b, " (%s): active ", config_rtype_name(gr->type));
		status_http_html(&b, active >= 0 ? cfg->servers[active].id : "unknown");
		buf_printf(&b, "</h3><table><tr><th>record</th><th>value</th></tr>\n");
		for (size_t z = 0; seen != NULL && z < gr->nzones; z++) {
			for (size_t r = 0; r < gr->nrecords; r++) {
				const struct failover_rec_view *v = &seen->zones[z].recs[r];
				char *owner = failover_owner_name(gr->zones[z], gr->records[r]);

				buf_printf(&b, "<tr><td>");
				status_http_html(&b, owner != NULL ? owner : "?");
				buf_printf(&b, "</td><td>");
				if (v->status == FAILOVER_REC_PRESENT)
					for (size_t i = 0; i < v->nvalues; i++) {
						buf_printf(&b, "%s", i > 0 ? ", " : "");
						status_http_html(&b, v->values[i]);
					}
				else
					buf_printf(&b, "(%s)", failover_rec_status_name(v->status));
				buf_printf(&b, "</td></tr>\n");
				free(owner);
			}
		}
		buf_printf(&b, "</table>\n");
	}
	status_audit_html(&b, ctr != NULL ? ctr->audit : NULL, cfg->general.audit_interval_ms);
	buf_printf(&b, "<h2>Recent events</h2><table>\n");
	for (size_t i = state_event_count(st); i-- > 0 && i + 50 >= state_event_count(st);) {
		const struct state_event *e = state_event_get(st, i);
		time_t t = (time_t)(e->at_ms / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		buf_printf(&b, "<tr><td>%s</td><td>%s</td><td>", when,
			   failover_event_name(e->type));
		status_http_html(&b, e->detail);
		buf_printf(&b, "</td></tr>\n");
	}
	buf_printf(&b, "</table></body></html>\n");
	return buf_take(&b);
}

/* /api/status: the state file's JSON plus "live" and the counters. */
static char *
status_http_json(const struct config *cfg, const struct state *st,
		 const struct status_counters *ctr, uint64_t now_ms)
{
	json_t *root = NULL;
	char *body = NULL;

	if (state_to_json(st, cfg, now_ms, &root) == 0) {
		json_object_set_new(root, "live", json_true());
		if (ctr != NULL)
			json_object_set_new(root, "daemon",
					    json_pack("{s:I, s:I, s:I, s:I, s:I}", "rounds",
						      (json_int_t)ctr->rounds, "round_ms",
						      (json_int_t)ctr->round_ms, "updates_ok",
						      (json_int_t)ctr->updates_ok, "updates_failed",
						      (json_int_t)ctr->updates_failed, "started_ms",
						      (json_int_t)ctr->started_ms));
		if (ctr != NULL)
			json_object_set_new(json_object_get(root, "daemon"), "state_write_error",
					    ctr->state_error[0] != '\0'
						    ? json_string(ctr->state_error)
						    : json_null());
		status_audit_json(root, ctr != NULL ? ctr->audit : NULL,
				  cfg->general.audit_interval_ms);
		body = json_dumps(root, JSON_INDENT(2));
	}
	json_decref(root);
	return body;
}

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
		status_http_built(a, "application/json", status_http_json(cfg, st, ctr, now_ms),
				  "{}\n");
	else if (strcmp(path, "/") == 0)
		status_http_built(a, "text/html; charset=utf-8",
				  status_http_dashboard(cfg, st, ctr, now_ms, cfg->general.interval_ms),
				  "out of memory\n");
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
status_http_serve(void *arg, const char *method, const char *target,
		  struct status_http_answer *a)
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
