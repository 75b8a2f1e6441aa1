/*
 * status_audit.c -- the background audit's findings as JSON, Prometheus
 * text and a dashboard section; see status_audit.h.
 */
#include "status_audit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "status_view.h"
#include "value.h"

static const char *
status_audit_str(const char *s)
{
	return s != NULL ? s : "";
}

void
status_audit_json(json_t *root, const struct findings *f, uint64_t interval_ms)
{
	json_t *a = json_object(), *list = json_array();
	bool bad = a == NULL || list == NULL;

	for (size_t i = 0; f != NULL && !bad && i < f->n; i++) {
		const struct findings_item *it = &f->v[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "domain",
				      status_audit_str(it->domain), "id", status_audit_str(it->id),
				      "severity", findings_severity_name(it->severity, false),
				      "subject", status_audit_str(it->subject), "message",
				      status_audit_str(it->message), "hint",
				      status_audit_str(it->hint), "since_ms",
				      (json_int_t)it->since_ms);

		bad = o == NULL || json_array_append_new(list, o) != 0;
	}
	if (!bad) {
		bad = json_object_set_new(a, "interval_ms", json_integer((json_int_t)interval_ms)) ||
		      json_object_set_new(a, "enabled", json_boolean(f != NULL && interval_ms > 0)) ||
		      json_object_set_new(a, "runs", json_integer(f ? f->runs : 0)) ||
		      json_object_set_new(a, "last_ms", f && f->last_ms
								? json_integer((json_int_t)f->last_ms)
								: json_null()) ||
		      json_object_set_new(a, "seconds", json_real(f ? f->seconds : 0.0)) ||
		      json_object_set_new(a, "checks", json_integer(f ? f->checks : 0)) ||
		      json_object_set_new(a, "running", json_boolean(f && f->running)) ||
		      json_object_set_new(a, "error", f && f->error[0] ? json_string(f->error)
								       : json_null()) ||
		      json_object_set_new(
			      a, "counts",
			      json_pack("{s:I, s:I, s:I}", "error",
					(json_int_t)findings_count(f, FINDINGS_ERROR), "warning",
					(json_int_t)findings_count(f, FINDINGS_WARNING), "info",
					(json_int_t)findings_count(f, FINDINGS_INFO)));
	}
	if (!bad) {
		bad = json_object_set_new(a, "findings", list) != 0;
		list = NULL;
	}
	if (!bad && json_object_set_new(root, "audit", a) == 0)
		a = NULL;
	json_decref(list);
	json_decref(a);
}

void
status_audit_metrics(struct buf *b, const struct findings *f)
{
	static const enum findings_severity order[] = {FINDINGS_ERROR, FINDINGS_WARNING,
						       FINDINGS_INFO};

	buf_printf(b, "# HELP mxfailover_audit_findings Findings of the last background audit, "
		      "by severity.\n"
		      "# TYPE mxfailover_audit_findings gauge\n");
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		buf_printf(b, "mxfailover_audit_findings{severity=\"%s\"} %zu\n",
			   findings_severity_name(order[i], false), findings_count(f, order[i]));
	buf_printf(b, "# HELP mxfailover_audit_runs_total Background audits finished.\n"
		      "# TYPE mxfailover_audit_runs_total counter\n"
		      "mxfailover_audit_runs_total %u\n",
		   f != NULL ? f->runs : 0);
	if (f != NULL && f->last_ms != 0)
		buf_printf(b, "# HELP mxfailover_audit_last_run_seconds When the last background "
			      "audit finished.\n"
			      "# TYPE mxfailover_audit_last_run_seconds gauge\n"
			      "mxfailover_audit_last_run_seconds %llu\n",
			   (unsigned long long)(f->last_ms / 1000));
}

void
status_audit_html(struct buf *b, const struct findings *f, uint64_t interval_ms)
{
	char when[64] = "never";

	buf_printf(b, "<h2 id=\"audit\">Audit</h2>\n");
	if (f == NULL || interval_ms == 0) {
		buf_printf(b, "<p class=\"unknown\">The background audit is off "
			      "([general] audit_interval = 0).</p>\n");
		return;
	}
	if (f->last_ms == 0 && f->error[0] == '\0') {
		/* Nothing audited yet is not "0 errors": say when it will be. */
		char ivl[VALUE_DURATION_BUF];

		buf_printf(b, "<p class=\"unknown\">No audit has run yet%s: the first runs "
			      "one audit_interval (%s) after the start.</p>\n",
			   f->running ? " (one is running)" : "",
			   value_format_duration(interval_ms, ivl, sizeof(ivl)));
		return;
	}
	status_when_s(f->last_ms, when, sizeof(when));
	buf_printf(b, "<p class=\"%s\">%zu error%s, %zu warning%s, %zu info; last audit %s "
		      "(%.1f s, %u checks)%s</p>\n",
		   findings_count(f, FINDINGS_ERROR)	 ? "down"
		   : findings_count(f, FINDINGS_WARNING) ? "unknown"
							 : "up",
		   findings_count(f, FINDINGS_ERROR), findings_count(f, FINDINGS_ERROR) == 1 ? "" : "s",
		   findings_count(f, FINDINGS_WARNING),
		   findings_count(f, FINDINGS_WARNING) == 1 ? "" : "s",
		   findings_count(f, FINDINGS_INFO), when, f->seconds, f->checks,
		   f->running ? "; an audit is running" : "");
	if (f->error[0] != '\0') {
		buf_printf(b, "<p class=\"down\">The last audit could not run: ");
		status_html(b, status_audit_str(f->error));
		buf_printf(b, "</p>\n");
	}
	if (f->n == 0)
		return;
	buf_printf(b, "<table><tr><th>severity</th><th>id</th><th>subject</th><th>finding</th>"
		      "<th>what to do</th></tr>\n");
	for (int sev = FINDINGS_ERROR; sev >= FINDINGS_INFO; sev--) {
		for (size_t i = 0; i < f->n; i++) {
			const struct findings_item *it = &f->v[i];

			if ((int)it->severity != sev)
				continue;
			buf_printf(b, "<tr><td class=\"%s\">%s</td><td>",
				   sev == FINDINGS_ERROR ? "down" : sev == FINDINGS_WARNING ? "unknown" : "up",
				   findings_severity_name(it->severity, false));
			status_html(b, status_audit_str(it->id));
			buf_printf(b, "</td><td>");
			status_html(b, status_audit_str(it->subject));
			buf_printf(b, "</td><td>");
			status_html(b, status_audit_str(it->message));
			buf_printf(b, "</td><td>");
			status_html(b, status_audit_str(it->hint));
			buf_printf(b, "</td></tr>\n");
		}
	}
	buf_printf(b, "</table>\n");
}
