/*
 * status_queue.c -- the backup queues on /api/status, /metrics and the
 * dashboard; see status_queue.h.
 */
#include "status_queue.h"

#include <stdio.h>
#include <string.h>

#include "queue_json.h"
#include "status_view.h"
#include "value.h"

void
status_queue_json(json_t *root, const struct queue_watch *qw, int64_t now)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return;
	for (size_t i = 0; i < queue_watch_count(qw); i++) {
		const struct queue_watch_entry *e = queue_watch_entry(qw, i);
		struct queue_result r = {
			.rc = e->rc,
			.sum = e->sum,
			.zones = e->counts,
			.nzones = e->counts != NULL ? e->nzones : 0,
			.took_ms = (uint64_t)(e->seconds * 1000.0),
		};
		char t[40];
		json_t *o;

		snprintf(r.error, sizeof(r.error), "%s", e->error);
		o = e->have ? queue_json_result(&r, now) : json_object();
		if (o == NULL)
			continue;
		json_object_set_new(o, "server", json_string(e->server));
		json_object_set_new(o, "queue", json_string(e->q.url));
		json_object_set_new(o, "read", json_boolean(e->have));
		json_object_set_new(o, "read_at", e->have ? json_integer(e->read_at) : json_null());
		json_object_set_new(o, "read_time",
				    e->have ? json_string(queue_json_time(e->read_at, t, sizeof(t)))
					    : json_null());
		json_object_set_new(o, "why",
				    e->have && e->why != NULL ? json_string(e->why) : json_null());
		json_object_set_new(o, "watching", json_boolean(e->failed_over));
		json_object_set_new(o, "draining", json_boolean(e->drains != NULL));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "queues", arr);
}

/* "server=\"mx2\"" for entry @e. */
static void
status_queue_server(struct buf *b, const struct queue_watch_entry *e)
{
	buf_printf(b, "server=\"");
	status_label(b, e->server);
	buf_printf(b, "\"");
}

void
status_queue_metrics(struct buf *b, const struct queue_watch *qw, int64_t now)
{
	size_t n = queue_watch_count(qw), have = 0;

	for (size_t i = 0; i < n; i++)
		have += queue_watch_entry(qw, i)->have;
	if (have == 0)
		return;
	buf_printf(b,
		   "# HELP mxfailover_queue_read_success 1 when the last reading of the backup's "
		   "queue (postqueue -j over SSH) worked.\n"
		   "# TYPE mxfailover_queue_read_success gauge\n");
	for (size_t i = 0; i < n; i++) {
		const struct queue_watch_entry *e = queue_watch_entry(qw, i);

		if (!e->have)
			continue;
		buf_printf(b, "mxfailover_queue_read_success{");
		status_queue_server(b, e);
		buf_printf(b, "} %d\n", e->rc == 0);
	}
	buf_printf(b, "# HELP mxfailover_queue_read_timestamp_seconds When the backup's queue was "
		      "last read.\n"
		      "# TYPE mxfailover_queue_read_timestamp_seconds gauge\n");
	for (size_t i = 0; i < n; i++) {
		const struct queue_watch_entry *e = queue_watch_entry(qw, i);

		if (!e->have)
			continue;
		buf_printf(b, "mxfailover_queue_read_timestamp_seconds{");
		status_queue_server(b, e);
		buf_printf(b, "} %lld\n", (long long)e->read_at);
	}
	buf_printf(b,
		   "# HELP mxfailover_queue_messages Messages the backup held for the zone at the "
		   "last reading.\n"
		   "# TYPE mxfailover_queue_messages gauge\n");
	for (size_t i = 0; i < n; i++) {
		const struct queue_watch_entry *e = queue_watch_entry(qw, i);

		if (!e->have || e->rc != 0 || e->counts == NULL)
			continue;
		for (size_t z = 0; z < e->nzones; z++) {
			size_t zl = strlen(e->zones[z]);
			char zone[256];

			if (zl > 1 && e->zones[z][zl - 1] == '.')
				zl--;
			snprintf(zone, sizeof(zone), "%.*s", (int)zl, e->zones[z]);
			buf_printf(b, "mxfailover_queue_messages{");
			status_queue_server(b, e);
			buf_printf(b, ",zone=\"");
			status_label(b, zone);
			buf_printf(b, "\"} %zu\n", e->counts[z].messages);
		}
	}
	buf_printf(b, "# HELP mxfailover_queue_oldest_seconds Age of the oldest message the backup "
		      "held for its zones at the last reading (0: none).\n"
		      "# TYPE mxfailover_queue_oldest_seconds gauge\n");
	for (size_t i = 0; i < n; i++) {
		const struct queue_watch_entry *e = queue_watch_entry(qw, i);

		if (!e->have || e->rc != 0)
			continue;
		buf_printf(b, "mxfailover_queue_oldest_seconds{");
		status_queue_server(b, e);
		buf_printf(b, "} %lld\n",
			   (long long)(e->sum.oldest != 0 && now > e->sum.oldest
					       ? now - e->sum.oldest
					       : 0));
	}
}

void
status_queue_html(struct buf *b, const struct queue_watch *qw, int64_t now)
{
	size_t n = queue_watch_count(qw);

	if (n == 0)
		return;
	buf_printf(b, "<h2>Backup queues</h2><table><tr><th>server</th><th>held for its zones</th>"
		      "<th>oldest</th><th>read</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		const struct queue_watch_entry *e = queue_watch_entry(qw, i);
		char line[600], span[40], when[40];

		buf_printf(b, "<tr><td>");
		status_html(b, e->server);
		if (!e->have) {
			buf_printf(b, "</td><td class=\"unknown\" colspan=\"3\">not read "
				      "yet</td></tr>\n");
			continue;
		}
		if (e->rc != 0) {
			buf_printf(b, "</td><td class=\"down\" colspan=\"2\">could not be read: ");
			status_html(b, e->error);
		} else {
			queue_watch_describe(e, now, line, sizeof(line));
			buf_printf(b, "</td><td class=\"%s\">", e->sum.matched > 0 ? "down" : "up");
			status_html(b, line);
			buf_printf(b, "</td><td>%s",
				   e->sum.oldest != 0
					   ? value_format_duration_span(now - e->sum.oldest, span,
									sizeof(span))
					   : "-");
		}
		buf_printf(b, "</td><td>%s (%s)</td></tr>\n",
			   queue_json_time(e->read_at, when, sizeof(when)),
			   e->why != NULL ? e->why : "");
	}
	buf_printf(b, "</table>\n");
}
