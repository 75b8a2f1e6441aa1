/*
 * status_page.c -- the dashboard (/): one banner per group that headlines
 * its state in words and colour, the servers with their checks and a 24 h
 * history strip (inline SVG), the witnesses, the records, the pins and the
 * events, newest first.  Plain HTML and CSS that refreshes itself: no
 * JavaScript.  Narrow screens (a 390 px phone) get the tables as stacked
 * label/value rows instead of columns running off the screen.  Pure.
 */
#include "status_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"
#include "status_audit.h"
#include "status_queue.h"
#include "status_quorum.h"
#include "status_view.h"

static const char page_css[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;"
	"padding:.8em;max-width:72em;color:#1f2328;background:#f6f8fa;line-height:1.35}"
	"h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .4em}"
	"h3{font-size:1em;margin:.2em 0}"
	".meta{color:#57606a;font-size:.9em}.meta a{color:#0969da}"
	".banner{padding:.7em 1em;border-radius:8px;margin:.6em 0;color:#fff}"
	".banner .head{font-size:1.25em;font-weight:700;display:block}"
	".banner .line{display:block;margin-top:.2em}"
	".v-ok{background:#1a7f37}.v-waiting{background:#6e7781}"
	".v-hand_changed{background:#9a6700}.v-failed_over{background:#bc4c00}"
	".v-active_down{background:#cf222e}.v-isolated{background:#8250df}.v-all_down{background:#"
	"cf222e}"
	".card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:.6em .8em;"
	"margin:.6em 0}"
	"table{border-collapse:collapse;width:100%;background:#fff}"
	"td,th{border-bottom:1px solid #d8dee4;padding:.3em .5em;text-align:left;"
	"vertical-align:top;overflow-wrap:anywhere}"
	"th{background:#eaeef2;font-weight:600;white-space:nowrap;overflow-wrap:normal}"
	".t{white-space:nowrap}"
	".s{font-weight:700;white-space:nowrap}"
	".up,.ok{color:#1a7f37}.warning{color:#9a6700}.down,.failed{color:#cf222e}"
	".unknown{color:#6e7781}"
	".badge{display:inline-block;padding:0 .5em;border-radius:1em;color:#fff;"
	"font-size:.85em;font-weight:700}"
	".badge.up{background:#1a7f37;color:#fff}.badge.down{background:#cf222e;color:#fff}"
	".badge.unknown{background:#6e7781;color:#fff}.badge.warning{background:#9a6700;color:#fff}"
	".hand{background:#fff8c5}"
	".strip{display:block;width:100%;height:14px;margin:.3em 0 0}"
	".axis{display:flex;justify-content:space-between;color:#57606a;font-size:.75em}"
	"@media (max-width:640px){body{padding:.5em}"
	"table.rows thead{display:none}"
	"table.rows,table.rows tbody,table.rows tr,table.rows td{display:block;width:auto}"
	"table.rows tr{border-bottom:2px solid #d0d7de;padding:.2em 0}"
	"table.rows td{border:0;padding:.1em .4em}table.rows td:empty{display:none}"
	".t{white-space:normal}"
	"table.rows td::before{content:attr(data-l) ': ';color:#57606a;font-weight:600}}";

/* Only with [quorum] (the page without it is as it always was): quorum
 * lost is purple as isolated is (this monitor changes nothing), this
 * monitor's row and the decision row stand out. */
static const char page_quorum_css[] = ".v-quorum_lost{background:#8250df}.banner a{color:#fff}"
				      "tr.self td{background:#ddf4ff}tr.decision "
				      "td{background:#eaeef2}h3.sub{margin:.8em 0 .3em}";

/* One table cell with its label for the narrow layout. */
static void
page_td(struct buf *b, const char *label, const char *cls)
{
	buf_printf(b, "<td data-l=\"%s\"%s%s%s>", label, cls != NULL ? " class=\"" : "",
		   cls != NULL ? cls : "", cls != NULL ? "\"" : "");
}

static void
page_table_head(struct buf *b, const char *const *cols, size_t n)
{
	buf_printf(b, "<table class=\"rows\"><thead><tr>");
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "<th>%s</th>", cols[i]);
	buf_printf(b, "</tr></thead><tbody>\n");
}

/* "2026-12-02 02:10 UTC (3h 05m ago)" */
static void
page_since(struct buf *b, uint64_t ms, uint64_t now_ms)
{
	char when[64], dur[32];

	if (ms == 0) {
		buf_printf(b, "unknown");
		return;
	}
	buf_printf(b, "%s (for %s)", status_when(ms, when, sizeof(when)),
		   status_duration(now_ms > ms ? now_ms - ms : 0, dur, sizeof(dur)));
}

static const char *
page_server_id(const struct config *cfg, long s)
{
	return s >= 0 && (size_t)s < cfg->nservers ? cfg->servers[s].id : "unknown";
}

/* The banner's lines about the down servers of group @g. */
static void
page_banner_down(struct buf *b, const struct config *cfg, const struct state *st, size_t g,
		 uint64_t now_ms)
{
	const struct config_group *gr = &cfg->groups[g];

	for (size_t i = 0; i < gr->nservers; i++) {
		size_t s = gr->servers[i];
		const struct health_server *hs = &st->health->servers[s];

		if (health_effective(st->health, s, now_ms) != HEALTH_DOWN)
			continue;
		buf_printf(b, "<span class=\"line\">");
		status_html(b, cfg->servers[s].id);
		buf_printf(b, " down since ");
		page_since(b, hs->since_ms, now_ms);
		buf_printf(b, ": ");
		status_html(b, hs->pin == HEALTH_PIN_DOWN ? "pinned down by the operator"
							  : hs->reason);
		buf_printf(b, "</span>");
	}
}

static void
page_banner(struct buf *b, const struct config *cfg, const struct state *st, size_t g,
	    uint64_t now_ms)
{
	const struct config_group *gr = &cfg->groups[g];
	const struct failover_group_mem *m = &st->failover->groups[g];
	struct status_group_view v;

	status_view_group(cfg, st, g, now_ms, &v);
	buf_printf(b, "<div class=\"banner v-%s\" id=\"banner-", status_verdict_id(v.verdict));
	status_html(b, gr->id);
	buf_printf(b, "\"><span class=\"head\">");
	status_html(b, gr->id);
	buf_printf(b, ": ");
	switch (v.verdict) {
	case STATUS_VERDICT_OK:
		buf_printf(b, "on the preferred server ");
		status_html(b, page_server_id(cfg, v.active));
		break;
	case STATUS_VERDICT_HAND: buf_printf(b, "a record CHANGED BY HAND"); break;
	case STATUS_VERDICT_WAITING:
		buf_printf(b, "waiting for the first checks (active: ");
		status_html(b, page_server_id(cfg, v.active));
		buf_printf(b, ")");
		break;
	case STATUS_VERDICT_FAILED_OVER:
		buf_printf(b, "FAILED OVER to ");
		status_html(b, page_server_id(cfg, v.active));
		break;
	case STATUS_VERDICT_ACTIVE_DOWN:
		buf_printf(b, "records on ");
		status_html(b, page_server_id(cfg, v.active));
		buf_printf(b, ", which is DOWN");
		break;
	case STATUS_VERDICT_QUORUM_LOST: buf_printf(b, "QUORUM LOST: no DNS changes"); break;
	case STATUS_VERDICT_ISOLATED: buf_printf(b, "ISOLATED: no DNS changes"); break;
	case STATUS_VERDICT_ALL_DOWN: buf_printf(b, "EVERY SERVER DOWN"); break;
	}
	buf_printf(b, "</span>");
	if (v.failed_over && !v.all_down) {
		buf_printf(b, "<span class=\"line\">on ");
		status_html(b, page_server_id(cfg, v.active));
		buf_printf(b, " since ");
		page_since(b, v.switch_ms, now_ms);
		buf_printf(b, "; preferred: ");
		status_html(b, cfg->servers[v.preferred].id);
		buf_printf(b, "</span>");
	}
	if (v.verdict == STATUS_VERDICT_OK && v.active >= 0) {
		const struct health_server *hs = &st->health->servers[v.active];

		buf_printf(b, "<span class=\"line\">");
		status_html(b, cfg->servers[v.active].id);
		buf_printf(b, " up");
		if (hs->since_ms != 0) {
			buf_printf(b, " since ");
			page_since(b, hs->since_ms, now_ms);
		}
		if (v.switch_ms != 0) {
			char when[64], dur[32];

			buf_printf(b, "; last switch %s (%s ago)",
				   status_when(v.switch_ms, when, sizeof(when)),
				   status_duration(now_ms > v.switch_ms ? now_ms - v.switch_ms : 0,
						   dur, sizeof(dur)));
		}
		buf_printf(b, "</span>");
	}
	if (v.verdict == STATUS_VERDICT_ACTIVE_DOWN)
		buf_printf(b, "<span class=\"line\">the switch has not happened yet: see the "
			      "events (an update failing, a zone unreadable, a server still "
			      "unknown)</span>");
	if (v.verdict == STATUS_VERDICT_HAND) {
		buf_printf(b, "<span class=\"line\">otherwise on the preferred server ");
		status_html(b, page_server_id(cfg, v.active));
		buf_printf(b, "</span>");
	}
	if (v.all_down) {
		buf_printf(b, "<span class=\"line\">the records stay on ");
		status_html(b, page_server_id(cfg, v.active));
		buf_printf(b, " until a server is up again</span>");
	}
	if (v.isolated) {
		buf_printf(b, "<span class=\"line\">every witness fails (");
		for (size_t i = 0, n = 0; i < cfg->general.nwitness; i++) {
			if (!status_view_witness_down(st, i))
				continue;
			buf_printf(b, "%s", n++ > 0 ? ", " : "");
			status_html(b, cfg->general.witness[i]);
		}
		buf_printf(b, "): this monitor may be cut off, so it changes nothing");
		if (status_view_isolated_since(st) != 0) {
			buf_printf(b, "; since ");
			page_since(b, status_view_isolated_since(st), now_ms);
		}
		buf_printf(b, "</span>");
	}
	if (v.quorum_lost) {
		buf_printf(b, "<span class=\"line\">");
		status_quorum_lost_words(b, cfg, st);
		buf_printf(b, " (see <a href=\"#monitors\">Monitors</a>)</span>");
	}
	page_banner_down(b, cfg, st, g, now_ms);
	for (size_t z = 0; z < gr->nzones; z++) {
		for (size_t r = 0; r < gr->nrecords; r++) {
			char *owner;

			if (!m->hand_changed[z * m->nrecords + r])
				continue;
			owner = failover_owner_name(gr->zones[z], gr->records[r]);
			buf_printf(b, "<span class=\"line\">changed by hand: ");
			status_html(b, owner != NULL ? owner : gr->records[r]);
			buf_printf(b, " (left alone until it points at a server of the group "
				      "again)</span>");
			free(owner);
		}
	}
	buf_printf(b, "</div>\n");
}

/* The last 24 h of server @s: one rect per run of equal marks. */
static void
page_strip(struct buf *b, const struct state *st, size_t s, uint64_t now_ms)
{
	static const char *const fill[] = {"#d0d7de", "#2da44e", "#d4a72c", "#cf222e"};
	uint64_t last = now_ms / STATE_HISTORY_SLOT_MS;
	uint64_t first = last >= STATE_HISTORY_SLOTS ? last - STATE_HISTORY_SLOTS + 1 : 0;
	size_t counts[4] = {0};

	for (uint64_t p = first; p <= last; p++)
		counts[state_history_get(st, s, p)]++;
	buf_printf(b,
		   "<svg class=\"strip\" viewBox=\"0 0 %u 10\" preserveAspectRatio=\"none\" "
		   "role=\"img\" aria-label=\"last 24 hours: up %zu, warning %zu, down %zu, no "
		   "data %zu of %u ten-minute periods\">",
		   STATE_HISTORY_SLOTS, counts[1], counts[2], counts[3], counts[0],
		   STATE_HISTORY_SLOTS);
	for (uint64_t p = first; p <= last;) {
		enum state_mark m = state_history_get(st, s, p);
		uint64_t q = p + 1;

		while (q <= last && state_history_get(st, s, q) == m)
			q++;
		buf_printf(b,
			   "<rect x=\"%llu\" width=\"%llu\" height=\"10\" fill=\"%s\">"
			   "<title>%s</title></rect>",
			   (unsigned long long)(p - first), (unsigned long long)(q - p), fill[m],
			   m == STATE_MARK_NONE ? "no data" : state_mark_name(m));
		p = q;
	}
	buf_printf(b, "</svg><div class=\"axis\"><span>24 h ago</span><span>now</span></div>");
}

static void
page_servers(struct buf *b, const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	static const char *const cols[] = {"check", "state", "latency", "certificate",
					   "last result"};

	buf_printf(b, "<h2>Servers</h2>\n");
	for (size_t s = 0; s < cfg->nservers; s++) {
		const struct health_server *hs = &st->health->servers[s];
		enum health_state e = health_effective(st->health, s, now_ms);
		enum health_pin pin = health_pinned(st->health, s, now_ms);

		buf_printf(b, "<div class=\"card\" id=\"server-");
		status_html(b, cfg->servers[s].id);
		buf_printf(b, "\"><h3>");
		status_html(b, cfg->servers[s].id);
		/* Up with a check warning is amber: it counts as up, but is not fine. */
		bool warn = state_history_judge(st->health, s, now_ms) == STATE_MARK_WARNING;

		buf_printf(b, " <span class=\"badge %s\">%s%s%s</span></h3><div class=\"meta\">",
			   warn ? "warning" : health_state_name(e), health_state_name(e),
			   warn ? ", warning" : "", pin != HEALTH_PIN_NONE ? " (pinned)" : "");
		status_html(b, cfg->servers[s].address);
		if (e == HEALTH_DOWN) {
			buf_printf(b, " &middot; down since ");
			page_since(b, hs->since_ms, now_ms);
		} else if (e == HEALTH_UP && hs->since_ms != 0) {
			buf_printf(b, " &middot; up since ");
			page_since(b, hs->since_ms, now_ms);
		}
		buf_printf(b, "</div>");
		page_strip(b, st, s, now_ms);
		page_table_head(b, cols, 5);
		for (size_t c = 0; c < hs->nchecks; c++) {
			const struct health_check *hc = &hs->checks[c];
			const char *cls = !hc->seen		    ? "unknown"
					  : hc->last == HEALTH_FAIL ? "down"
					  : hc->last == HEALTH_WARN ? "warning"
								    : "up";

			buf_printf(b, "<tr>");
			page_td(b, "check", NULL);
			status_html(b, cfg->servers[s].checks[c]);
			buf_printf(b, "</td>");
			page_td(b, "state", NULL);
			buf_printf(b, "<span class=\"s %s\">%s</span></td>", cls,
				   !hc->seen ? "not run yet" : health_outcome_name(hc->last));
			page_td(b, "latency", NULL);
			if (hc->seen)
				buf_printf(b, "%llu ms", (unsigned long long)hc->elapsed_ms);
			buf_printf(b, "</td>");
			page_td(b, "certificate",
				hc->cert_expiry_s == 0			       ? NULL
				: hc->last == HEALTH_WARN		       ? "warning"
				: (int64_t)(now_ms / 1000) > hc->cert_expiry_s ? "down"
									       : "ok");
			if (hc->cert_expiry_s != 0) {
				int64_t left = hc->cert_expiry_s - (int64_t)(now_ms / 1000);

				if (left < 0)
					buf_printf(b, "expired %lld days ago",
						   (long long)((-left + 86399) / 86400));
				else
					buf_printf(b, "%lld days left", (long long)(left / 86400));
			}
			buf_printf(b, "</td>");
			page_td(b, "last result", NULL);
			status_html(b, hc->reason);
			if (hc->state == HEALTH_DOWN && hc->since_ms != 0) {
				buf_printf(b, " (down since ");
				page_since(b, hc->since_ms, now_ms);
				buf_printf(b, ")");
			}
			buf_printf(b, "</td></tr>\n");
		}
		buf_printf(b, "</tbody></table></div>\n");
	}
}

static void
page_witnesses(struct buf *b, const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	static const char *const cols[] = {"witness", "state", "latency", "since", "last result"};

	if (cfg->general.nwitness == 0)
		return;
	buf_printf(b, "<h2>Witnesses</h2>\n");
	page_table_head(b, cols, 5);
	for (size_t i = 0; i < cfg->general.nwitness; i++) {
		const struct state_witness *w = i < st->nwitness ? &st->witness[i] : NULL;
		bool seen = w != NULL && w->seen;

		buf_printf(b, "<tr>");
		page_td(b, "witness", NULL);
		status_html(b, cfg->general.witness[i]);
		buf_printf(b, "</td>");
		page_td(b, "state", NULL);
		buf_printf(b, "<span class=\"s %s\">%s</span></td>",
			   !seen   ? "unknown"
			   : w->up ? "up"
				   : "down",
			   !seen   ? "not run yet"
			   : w->up ? "up"
				   : "down");
		page_td(b, "latency", NULL);
		if (seen)
			buf_printf(b, "%llu ms", (unsigned long long)w->elapsed_ms);
		buf_printf(b, "</td>");
		page_td(b, "since", NULL);
		if (seen)
			page_since(b, w->since_ms, now_ms);
		buf_printf(b, "</td>");
		page_td(b, "last result", NULL);
		if (seen)
			status_html(b, w->reason);
		buf_printf(b, "</td></tr>\n");
	}
	buf_printf(b, "</tbody></table>\n");
}

static void
page_records(struct buf *b, const struct config *cfg, const struct state *st)
{
	static const char *const cols[] = {"record", "value", "TTL", "note"};

	buf_printf(b, "<h2>Records</h2>\n");
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];
		const struct failover_group_mem *m = &st->failover->groups[g];
		const struct failover_dns *seen = st->seen != NULL ? st->seen[g] : NULL;

		buf_printf(b, "<h3>");
		status_html(b, gr->id);
		buf_printf(b, " (%s), active: ", config_rtype_name(gr->type));
		status_html(b, page_server_id(cfg, m->active));
		buf_printf(b, "</h3>");
		page_table_head(b, cols, 4);
		for (size_t z = 0; seen != NULL && z < gr->nzones; z++) {
			for (size_t r = 0; r < gr->nrecords; r++) {
				const struct failover_rec_view *v = &seen->zones[z].recs[r];
				char *owner = failover_owner_name(gr->zones[z], gr->records[r]);
				bool hand = m->hand_changed[z * m->nrecords + r];
				bool missing = m->missing[z * m->nrecords + r];

				buf_printf(b, "<tr%s>", hand ? " class=\"hand\"" : "");
				page_td(b, "record", NULL);
				status_html(b, owner != NULL ? owner : "?");
				buf_printf(b, "</td>");
				page_td(b, "value", NULL);
				if (v->status == FAILOVER_REC_PRESENT)
					for (size_t i = 0; i < v->nvalues; i++) {
						buf_printf(b, "%s", i > 0 ? ", " : "");
						status_html(b, v->values[i]);
					}
				else
					buf_printf(b, "(%s)", failover_rec_status_name(v->status));
				buf_printf(b, "</td>");
				page_td(b, "TTL", NULL);
				if (v->ttl >= 0)
					buf_printf(b, "%lld", (long long)v->ttl);
				buf_printf(b, "</td>");
				page_td(b, "note", hand ? "warning" : missing ? "down" : NULL);
				buf_printf(b, "%s",
					   hand	     ? "<strong>changed by hand</strong>"
					   : missing ? "missing"
						     : "");
				buf_printf(b, "</td></tr>\n");
				free(owner);
			}
		}
		buf_printf(b, "</tbody></table>\n");
	}
}

static void
page_pins(struct buf *b, const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	static const char *const cols[] = {"server", "pinned", "expires"};
	size_t n = 0;

	for (size_t s = 0; s < cfg->nservers; s++)
		n += health_pinned(st->health, s, now_ms) != HEALTH_PIN_NONE;
	buf_printf(b, "<h2>Pins</h2>\n");
	if (n == 0) {
		buf_printf(b, "<p class=\"meta\">No server is pinned.</p>\n");
		return;
	}
	page_table_head(b, cols, 3);
	for (size_t s = 0; s < cfg->nservers; s++) {
		enum health_pin pin = health_pinned(st->health, s, now_ms);
		uint64_t until = st->health->servers[s].pin_until_ms;
		char when[64], dur[32];

		if (pin == HEALTH_PIN_NONE)
			continue;
		buf_printf(b, "<tr>");
		page_td(b, "server", NULL);
		status_html(b, cfg->servers[s].id);
		buf_printf(b, "</td>");
		page_td(b, "pinned", pin == HEALTH_PIN_DOWN ? "down" : "up");
		buf_printf(b, "%s</td>", health_pin_name(pin));
		page_td(b, "expires", NULL);
		if (until == 0)
			buf_printf(b, "never (until unpinned)");
		else
			buf_printf(b, "%s (in %s)", status_when(until, when, sizeof(when)),
				   status_duration(until > now_ms ? until - now_ms : 0, dur,
						   sizeof(dur)));
		buf_printf(b, "</td></tr>\n");
	}
	buf_printf(b, "</tbody></table>\n");
}

static void
page_events(struct buf *b, const struct state *st)
{
	static const char *const cols[] = {"time", "event", "detail"};
	size_t n = state_event_count(st);

	buf_printf(b, "<h2>Events, newest first</h2>\n");
	if (n == 0) {
		buf_printf(b, "<p class=\"meta\">No events yet.</p>\n");
		return;
	}
	page_table_head(b, cols, 3);
	for (size_t i = n; i-- > 0 && i + 50 >= n;) {
		const struct state_event *e = state_event_get(st, i);
		char when[64];
		const char *cls =
			e->type == FAILOVER_EV_SERVER_UP || e->type == FAILOVER_EV_ISOLATION_OVER ||
					e->type == FAILOVER_EV_QUORUM_BACK
				? "t up"
			: e->type == FAILOVER_EV_SERVER_DOWN || e->type == FAILOVER_EV_ALL_DOWN ||
					e->type == FAILOVER_EV_SWITCH_FAILED ||
					e->type == FAILOVER_EV_ISOLATED ||
					e->type == FAILOVER_EV_QUORUM_LOST
				? "t down"
				: "t";

		buf_printf(b, "<tr>");
		page_td(b, "time", "t");
		buf_printf(b, "%s</td>", status_when_s(e->at_ms, when, sizeof(when)));
		page_td(b, "event", cls);
		buf_printf(b, "%s</td>", failover_event_name(e->type));
		page_td(b, "detail", NULL);
		status_html(b, e->detail);
		buf_printf(b, "</td></tr>\n");
	}
	buf_printf(b, "</tbody></table>\n");
}

char *
status_page_html(const struct config *cfg, const struct state *st,
		 const struct status_counters *ctr, uint64_t now_ms)
{
	struct buf b = {0};
	uint64_t interval_ms = cfg->general.interval_ms;
	enum status_verdict worst = status_view_worst(cfg, st, now_ms);
	char when[64], dur[32];

	buf_printf(&b,
		   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		   "<meta http-equiv=\"refresh\" content=\"%llu\">"
		   "<title>%s - mxfailover</title><style>%s%s</style></head>\n"
		   "<body class=\"worst-%s\"><h1>mxfailover</h1><div class=\"meta\">as of %s",
		   (unsigned long long)(interval_ms < 2000 ? 2 : interval_ms / 1000),
		   status_verdict_words(worst), page_css,
		   cfg->quorum.enabled ? page_quorum_css : "", status_verdict_id(worst),
		   status_when(now_ms, when, sizeof(when)));
	buf_printf(&b, " &middot; version %s", MXF_VERSION_STRING);
	if (ctr != NULL && ctr->started_ms != 0)
		buf_printf(&b, " &middot; daemon up %s",
			   status_duration(now_ms > ctr->started_ms ? now_ms - ctr->started_ms : 0,
					   dur, sizeof(dur)));
	buf_printf(&b, " &middot; <a href=\"/api/status\">/api/status</a> &middot; "
		       "<a href=\"/metrics\">/metrics</a></div>\n");
	for (size_t g = 0; g < cfg->ngroups; g++)
		page_banner(&b, cfg, st, g, now_ms);
	page_servers(&b, cfg, st, now_ms);
	page_witnesses(&b, cfg, st, now_ms);
	status_quorum_html(&b, cfg, st, now_ms);
	page_records(&b, cfg, st);
	page_pins(&b, cfg, st, now_ms);
	status_audit_html(&b, ctr != NULL ? ctr->audit : NULL, cfg->general.audit_interval_ms);
	status_queue_html(&b, ctr != NULL ? ctr->queue : NULL, (int64_t)(now_ms / 1000));
	page_events(&b, st);
	buf_printf(&b, "</body></html>\n");
	return buf_take(&b);
}
