/*
 * status_quorum.c -- [quorum] on the status endpoint; see status_quorum.h.
 *
 * Everything here reads st->quorum as round_quorum_json() wrote it (and a
 * state file may have carried it): every string is escaped, a value of the
 * wrong type reads as absent, and nothing is trusted to be in config order
 * but what the config itself gives.
 */
#include "status_quorum.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "status_view.h"

static const char *const qs_states[] = {"up", "down", "unknown"};

static const json_t *
qs_quorum(const struct config *cfg, const struct state *st)
{
	return cfg->quorum.enabled && json_is_object(st->quorum) ? st->quorum : NULL;
}

static const char *
qs_str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static long long
qs_int(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* "up", "down" or "unknown" for a view's value: anything else is unknown
 * (as the record's parser reads it). */
static const char *
qs_state(const json_t *v)
{
	const char *s = json_string_value(v);

	for (size_t i = 0; s != NULL && i < 3; i++)
		if (strcmp(s, qs_states[i]) == 0)
			return qs_states[i];
	return "unknown";
}

void
status_quorum_json(json_t *root, const struct config *cfg, const struct state *st)
{
	const json_t *q = qs_quorum(cfg, st);
	/* A copy: what is added to the answer later (times) never reaches
	 * the state. */
	json_t *copy = q != NULL ? json_deep_copy(q) : NULL;

	json_object_set_new(root, "quorum", copy != NULL ? copy : json_null());
}

void
status_quorum_lost_words(struct buf *b, const struct config *cfg, const struct state *st)
{
	const json_t *q = qs_quorum(cfg, st);

	buf_printf(b, "quorum lost: %lld of %zu monitors fresh, need %u: nothing switches",
		   qs_int(q, "fresh"), cfg->quorum.nmonitors, cfg->quorum.need);
}

/* ---- /metrics ---- */

static void
qs_family(struct buf *b, const char *name, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* {monitor="m",server="s",state="x"} 1|0 for each state, @have the one. */
static void
qs_stateset(struct buf *b, const char *name, const char *monitor, const char *server,
	    const char *have)
{
	for (size_t i = 0; i < 3; i++) {
		buf_printf(b, "%s{", name);
		if (monitor != NULL) {
			buf_printf(b, "monitor=\"");
			status_label(b, monitor);
			buf_printf(b, "\",");
		}
		buf_printf(b, "server=\"");
		status_label(b, server);
		buf_printf(b, "\",state=\"%s\"} %d\n", qs_states[i],
			   strcmp(have, qs_states[i]) == 0);
	}
}

void
status_quorum_metrics(struct buf *b, const struct config *cfg, const struct state *st)
{
	const json_t *q = qs_quorum(cfg, st), *mons = json_object_get(q, "monitors"), *m;
	size_t i;

	if (!cfg->quorum.enabled)
		return;
	qs_family(b, "mxfailover_quorum_need",
		  "How many fresh monitors must agree before records switch ([quorum] need).");
	buf_printf(b, "mxfailover_quorum_need %u\n", cfg->quorum.need);
	qs_family(b, "mxfailover_quorum_monitors", "The monitors of [quorum], this one included.");
	buf_printf(b, "mxfailover_quorum_monitors %zu\n", cfg->quorum.nmonitors);
	qs_family(b, "mxfailover_quorum_have",
		  "1 while at least need monitors are fresh, 0 when quorum is lost and nothing "
		  "switches; no sample before the first round.");
	if (q != NULL)
		buf_printf(b, "mxfailover_quorum_have %d\n",
			   json_is_true(json_object_get(q, "have")) ? 1 : 0);
	qs_family(b, "mxfailover_quorum_fresh_monitors",
		  "Monitors whose view counts now (seen advancing within stale; this one: "
		  "published).");
	if (q != NULL)
		buf_printf(b, "mxfailover_quorum_fresh_monitors %lld\n", qs_int(q, "fresh"));
	qs_family(b, "mxfailover_quorum_monitor_fresh",
		  "1 while the monitor's view counts, 0 when it is stale, never seen or (this "
		  "monitor) not published.");
	json_array_foreach(mons, i, m)
	{
		buf_printf(b, "mxfailover_quorum_monitor_fresh{monitor=\"");
		status_label(b, qs_str(m, "id", "?"));
		buf_printf(b, "\"} %d\n", json_is_true(json_object_get(m, "fresh")) ? 1 : 0);
	}
	qs_family(b, "mxfailover_quorum_view",
		  "1 for the state (up, down, unknown) the monitor's last view read gives the "
		  "server, 0 for the other two; a view never read says unknown. Whether it "
		  "counts: mxfailover_quorum_monitor_fresh.");
	json_array_foreach(mons, i, m)
	{
		const json_t *views = json_object_get(m, "views");

		for (size_t s = 0; s < cfg->nservers; s++)
			qs_stateset(b, "mxfailover_quorum_view", qs_str(m, "id", "?"),
				    cfg->servers[s].id,
				    qs_state(json_object_get(views, cfg->servers[s].id)));
	}
	qs_family(b, "mxfailover_quorum_decision",
		  "1 for the state need fresh monitors agree on for the server (unknown while "
		  "they do not agree or quorum is lost), 0 for the other two.");
	for (size_t s = 0; q != NULL && s < cfg->nservers; s++)
		qs_stateset(b, "mxfailover_quorum_decision", NULL, cfg->servers[s].id,
			    qs_state(json_object_get(json_object_get(q, "decision"),
						     cfg->servers[s].id)));
}

/* ---- the dashboard ---- */

/* <td data-l="LABEL"> with the label escaped (server ids are column
 * labels here). */
static void
qs_td(struct buf *b, const char *label)
{
	buf_printf(b, "<td data-l=\"");
	status_html(b, label);
	buf_printf(b, "\">");
}

/* A view's state with the page's server-state badge. */
static void
qs_badge(struct buf *b, const json_t *v)
{
	if (v == NULL) {
		buf_printf(b, "<span class=\"unknown\" title=\"no view read\">-</span>");
		return;
	}
	buf_printf(b, "<span class=\"badge %s\">%s</span>", qs_state(v), qs_state(v));
}

/* The freshness cell of monitor @m: the word in the state colours, then
 * when its view last advanced (this monitor: was published). */
static void
qs_freshness(struct buf *b, const json_t *m)
{
	const json_t *age = json_object_get(m, "age_ms");
	bool self = json_is_true(json_object_get(m, "self"));
	bool seen = json_is_true(json_object_get(m, "seen"));
	const char *word, *cls;
	char dur[32];

	if (json_is_true(json_object_get(m, "fresh")))
		word = "fresh", cls = "up";
	else if (self)
		word = "not published", cls = "down";
	else if (!seen)
		word = "never seen", cls = "unknown";
	else
		word = "stale", cls = "down";
	buf_printf(b, "<span class=\"s %s\">%s</span>", cls, word);
	if (json_is_integer(age) && json_integer_value(age) >= 0)
		buf_printf(b, ", %s %s ago", self ? "published" : "advanced",
			   status_duration((uint64_t)json_integer_value(age), dur, sizeof(dur)));
	else if (seen && !self)
		buf_printf(b, ", not seen advancing since this monitor started");
	if (json_is_true(json_object_get(m, "read_error")))
		buf_printf(b, ", <span class=\"down\">last read failed</span>");
}

static void
qs_row(struct buf *b, const struct config *cfg, const json_t *m)
{
	const json_t *views = json_object_get(m, "views");
	bool self = json_is_true(json_object_get(m, "self"));
	bool seen = json_is_true(json_object_get(m, "seen"));

	buf_printf(b, "<tr%s>", self ? " class=\"self\" aria-current=\"true\"" : "");
	qs_td(b, "monitor");
	buf_printf(b, "<strong>");
	status_html(b, qs_str(m, "id", "?"));
	buf_printf(b, "</strong>%s</td>", self ? " (this monitor)" : "");
	qs_td(b, "freshness");
	qs_freshness(b, m);
	buf_printf(b, "</td>");
	qs_td(b, "seq");
	if (seen || self)
		buf_printf(b, "%lld", qs_int(m, "seq"));
	buf_printf(b, "</td>");
	for (size_t s = 0; s < cfg->nservers; s++) {
		qs_td(b, cfg->servers[s].id);
		qs_badge(b, json_object_get(views, cfg->servers[s].id));
		buf_printf(b, "</td>");
	}
	buf_printf(b, "</tr>\n");
}

/* Who agreed on the last switch this monitor made, per group. */
static void
qs_switches(struct buf *b, const struct config *cfg, const json_t *q)
{
	const json_t *last = json_object_get(q, "last_switch");

	buf_printf(b, "<h3 class=\"sub\">Last switch made by this monitor</h3>\n<table "
		      "class=\"rows\"><thead><tr>"
		      "<th>group</th><th>switched to</th><th>at</th><th>agreed</th></tr></thead>"
		      "<tbody>\n");
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const json_t *sw = json_object_get(last, cfg->groups[g].id), *agreed, *a;
		char when[64];
		size_t k;

		buf_printf(b, "<tr>");
		qs_td(b, "group");
		status_html(b, cfg->groups[g].id);
		buf_printf(b, "</td>");
		if (!json_is_object(sw)) {
			buf_printf(b, "<td data-l=\"switched to\" colspan=\"3\" class=\"unknown\">"
				      "no switch since this monitor started</td></tr>\n");
			continue;
		}
		qs_td(b, "switched to");
		status_html(b, qs_str(sw, "to", "?"));
		buf_printf(b, "</td>");
		qs_td(b, "at");
		buf_printf(b, "%s</td>",
			   status_when_s((uint64_t)(qs_int(sw, "at") > 0 ? qs_int(sw, "at") : 0) *
						 1000,
					 when, sizeof(when)));
		qs_td(b, "agreed");
		agreed = json_object_get(sw, "agreed");
		json_array_foreach(agreed, k, a)
		{
			buf_printf(b, "%s", k > 0 ? ", " : "");
			status_html(b, json_string_value(a) != NULL ? json_string_value(a) : "?");
		}
		buf_printf(b, "</td></tr>\n");
	}
	buf_printf(b, "</tbody></table>\n");
}

/* The banner when quorum is lost: the count, and who is not fresh. */
static void
qs_banner(struct buf *b, const struct config *cfg, const struct state *st, const json_t *q,
	  uint64_t now_ms)
{
	const json_t *m;
	size_t i, n = 0;
	uint64_t since = status_view_quorum_lost_since(cfg, st);
	char when[64], dur[32];

	buf_printf(b, "<div class=\"banner v-quorum_lost\" id=\"banner-quorum\"><span "
		      "class=\"head\">");
	status_quorum_lost_words(b, cfg, st);
	buf_printf(b, "</span><span class=\"line\">not fresh: ");
	json_array_foreach(json_object_get(q, "monitors"), i, m)
	{
		bool self = json_is_true(json_object_get(m, "self"));

		if (json_is_true(json_object_get(m, "fresh")))
			continue;
		buf_printf(b, "%s", n++ > 0 ? ", " : "");
		status_html(b, qs_str(m, "id", "?"));
		buf_printf(b, " (%s)",
			   self ? "this monitor, view not published"
			   : !json_is_true(json_object_get(m, "seen")) ? "never seen"
								       : "stale");
	}
	buf_printf(b, "</span>");
	if (since != 0)
		buf_printf(b, "<span class=\"line\">since %s (for %s)</span>",
			   status_when(since, when, sizeof(when)),
			   status_duration(now_ms > since ? now_ms - since : 0, dur, sizeof(dur)));
	buf_printf(b, "</div>\n");
}

void
status_quorum_html(struct buf *b, const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	const struct config_quorum *qc = &cfg->quorum;
	const json_t *q = qs_quorum(cfg, st), *m, *dec;
	char hb[32], stale[32];
	size_t i;

	if (!qc->enabled)
		return;
	buf_printf(b, "<h2 id=\"monitors\">Monitors</h2>\n<div class=\"meta\">this monitor: ");
	status_html(b, qc->id);
	buf_printf(b, " &middot; %zu monitors, need %u &middot; views at ID._mxfailover.",
		   qc->nmonitors, qc->need);
	status_html(b, qc->zone);
	buf_printf(b, " &middot; heartbeat %s, stale after %s</div>\n",
		   status_duration(qc->heartbeat_ms, hb, sizeof(hb)),
		   status_duration(qc->stale_ms, stale, sizeof(stale)));
	if (q == NULL) {
		buf_printf(b, "<p class=\"meta\">No views read yet.</p>\n");
		return;
	}
	if (status_view_quorum_lost(cfg, st))
		qs_banner(b, cfg, st, q, now_ms);
	else
		buf_printf(b,
			   "<p><span class=\"badge up\">quorum</span> %lld of %zu monitors "
			   "fresh, need %u</p>\n",
			   qs_int(q, "fresh"), qc->nmonitors, qc->need);
	buf_printf(b, "<table class=\"rows\" id=\"quorum-monitors\"><thead><tr><th>monitor</th>"
		      "<th>freshness</th><th>seq</th>");
	for (size_t s = 0; s < cfg->nservers; s++) {
		buf_printf(b, "<th>");
		status_html(b, cfg->servers[s].id);
		buf_printf(b, "</th>");
	}
	buf_printf(b, "</tr></thead><tbody>\n");
	json_array_foreach(json_object_get(q, "monitors"), i, m) qs_row(b, cfg, m);
	dec = json_object_get(q, "decision");
	buf_printf(b, "<tr class=\"decision\">");
	qs_td(b, "monitor");
	buf_printf(b, "<strong>decision</strong></td>");
	qs_td(b, "freshness");
	buf_printf(b, "need %u of %zu: %lld fresh</td><td data-l=\"seq\"></td>", qc->need,
		   qc->nmonitors, qs_int(q, "fresh"));
	for (size_t s = 0; s < cfg->nservers; s++) {
		qs_td(b, cfg->servers[s].id);
		qs_badge(b, json_object_get(dec, cfg->servers[s].id));
		buf_printf(b, "</td>");
	}
	buf_printf(b, "</tr>\n</tbody></table>\n");
	qs_switches(b, cfg, q);
}
