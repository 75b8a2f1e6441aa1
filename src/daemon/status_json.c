/*
 * status_json.c -- /api/status: the state file's JSON (state.h) with what
 * a reader should not have to work out: each group's verdict (the
 * dashboard's banner), the isolation detail, each check's certificate
 * expiry in days, "records" in every switch event, an RFC 3339 time beside
 * every wall-clock "..._ms" field ("since_ms" -> "since_time"), "quorum"
 * (status_quorum.h: the monitors' views, null without [quorum]), "live":
 * true and the daemon's counters.  Pure.
 */
#include "status_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failover.h"
#include "health.h"
#include "mxf.h"
#include "round_pace.h"
#include "status_audit.h"
#include "status_queue.h"
#include "status_quorum.h"
#include "status_view.h"

/* The "..._ms" keys that hold wall-clock times (the others are durations). */
static const char *const json_time_keys[] = {"saved_ms",   "since_ms",	   "pin_until_ms",
					     "last_ms",	   "at_ms",	   "last_switch_ms",
					     "started_ms", "last_round_ms"};

static bool
json_is_time_key(const char *k)
{
	for (size_t i = 0; i < sizeof(json_time_keys) / sizeof(json_time_keys[0]); i++)
		if (strcmp(k, json_time_keys[i]) == 0)
			return true;
	return false;
}

/* Beside each wall-clock "X_ms" of @o and below, "X_time": RFC 3339 or null. */
static void
json_add_times(json_t *o)
{
	if (json_is_array(o)) {
		size_t i;
		json_t *v;

		json_array_foreach(o, i, v) json_add_times(v);
		return;
	}
	if (!json_is_object(o))
		return;
	const char *k;
	json_t *v;
	void *tmp;
	json_t *add = json_object();

	json_object_foreach_safe(o, tmp, k, v)
	{
		if (json_is_integer(v) && json_is_time_key(k)) {
			char key[64], when[40];
			uint64_t ms =
				json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;

			snprintf(key, sizeof(key), "%.*s_time", (int)(strlen(k) - 3), k);
			json_object_set_new(add, key,
					    ms ? json_string(status_rfc3339(ms, when, sizeof(when)))
					       : json_null());
		} else if (strcmp(k, "history") != 0) {
			json_add_times(v);
		}
	}
	json_object_update(o, add);
	json_decref(add);
}

/* Each check's "cert_days_left" (whole days, negative when expired). */
static void
json_checks(json_t *root, const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	json_t *servers = json_object_get(root, "servers");

	for (size_t s = 0; s < cfg->nservers; s++) {
		json_t *so = json_object_get(servers, cfg->servers[s].id);
		json_t *checks = json_object_get(so, "checks");
		const struct health_server *hs = &st->health->servers[s];

		json_object_set_new(
			so, "effective",
			json_string(health_state_name(health_effective(st->health, s, now_ms))));
		for (size_t c = 0; c < hs->nchecks && c < json_array_size(checks); c++) {
			int64_t exp = hs->checks[c].cert_expiry_s;
			int64_t left = exp - (int64_t)(now_ms / 1000);

			char when[40];

			json_object_set_new(
				json_array_get(checks, c), "cert_expiry_time",
				exp != 0 ? json_string(status_rfc3339((uint64_t)exp * 1000, when,
								      sizeof(when)))
					 : json_null());
			json_object_set_new(
				json_array_get(checks, c), "cert_days_left",
				exp != 0 ? json_integer((
						   json_int_t)(left < 0 ? -((-left + 86399) / 86400)
									: left / 86400))
					 : json_null());
		}
	}
}

/* Each group's verdict and view. */
static void
json_groups(json_t *root, const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	json_t *groups = json_object_get(root, "groups");

	for (size_t g = 0; g < cfg->ngroups; g++) {
		json_t *go = json_object_get(groups, cfg->groups[g].id);
		struct status_group_view v;

		if (go == NULL)
			continue;
		status_view_group(cfg, st, g, now_ms, &v);
		json_object_set_new(go, "verdict", json_string(status_verdict_id(v.verdict)));
		json_object_set_new(go, "preferred", json_string(cfg->servers[v.preferred].id));
		json_object_set_new(go, "failed_over", json_boolean(v.failed_over));
		json_object_set_new(go, "every_server_down", json_boolean(v.all_down));
		json_object_set_new(go, "records_changed_by_hand",
				    json_integer((json_int_t)v.nhand));
	}
}

/* "isolation": whether, since when, and which witnesses fail. */
static json_t *
json_isolation(const struct config *cfg, const struct state *st)
{
	json_t *failed = json_array();
	uint64_t since = status_view_isolated_since(st);

	for (size_t i = 0; i < cfg->general.nwitness; i++)
		if (status_view_witness_down(st, i))
			json_array_append_new(failed, json_string(cfg->general.witness[i]));
	return json_pack("{s:b, s:o, s:I, s:I}", "isolated", st->failover->isolated,
			 "witnesses_failed", failed, "witnesses", (json_int_t)cfg->general.nwitness,
			 "since_ms", (json_int_t)since);
}

/* "records" in every switch event, [] when it moved none (or comes from
 * a state file older than the field). */
static void
json_event_records(json_t *root, const struct state *st)
{
	json_t *events = json_object_get(root, "events");

	for (size_t i = 0; i < state_event_count(st) && i < json_array_size(events); i++) {
		const struct state_event *e = state_event_get(st, i);
		json_t *eo = json_array_get(events, i);

		if ((e->type == FAILOVER_EV_SWITCHED || e->type == FAILOVER_EV_SWITCHED_BACK ||
		     e->type == FAILOVER_EV_SWITCH_COMPLETED) &&
		    json_object_get(eo, "records") == NULL)
			json_object_set_new(eo, "records", json_array());
	}
}

/* The daemon's pace (round_pace.h): interval and fastinter, which one the
 * next round keeps, and the servers in transition. */
static void
status_json_pace(json_t *d, const struct config *cfg, const struct state *st)
{
	json_t *tr = json_array();
	bool fast = false;
	uint64_t next = round_pace_period(cfg, st->health, &fast, NULL);

	for (size_t s = 0; tr != NULL && s < cfg->nservers; s++)
		if (round_pace_in_transition(st->health, s))
			json_array_append_new(tr, json_string(cfg->servers[s].id));
	json_object_set_new(d, "interval_ms", json_integer((json_int_t)cfg->general.interval_ms));
	json_object_set_new(d, "fastinter_ms", json_integer((json_int_t)cfg->general.fastinter_ms));
	json_object_set_new(d, "pace", json_string(fast ? "fastinter" : "interval"));
	json_object_set_new(d, "pace_ms", json_integer((json_int_t)next));
	json_object_set_new(d, "in_transition", tr != NULL ? tr : json_null());
}

char *
status_json_text(const struct config *cfg, const struct state *st,
		 const struct status_counters *ctr, uint64_t now_ms)
{
	json_t *root = NULL;
	char *body = NULL;

	if (state_to_json(st, cfg, now_ms, &root) != 0)
		return NULL;
	json_object_set_new(root, "live", json_true());
	json_object_set_new(root, "verdict",
			    json_string(status_verdict_id(status_view_worst(cfg, st, now_ms))));
	json_object_set_new(root, "isolation", json_isolation(cfg, st));
	status_quorum_json(root, cfg, st);
	json_checks(root, cfg, st, now_ms);
	json_groups(root, cfg, st, now_ms);
	json_event_records(root, st);
	if (ctr != NULL) {
		json_t *d = json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "rounds",
			(json_int_t)ctr->rounds, "round_ms", (json_int_t)ctr->round_ms,
			"updates_ok", (json_int_t)ctr->updates_ok, "updates_failed",
			(json_int_t)ctr->updates_failed, "started_ms", (json_int_t)ctr->started_ms,
			"last_round_ms", (json_int_t)ctr->last_round_ms, "uptime_s",
			(json_int_t)(now_ms > ctr->started_ms ? (now_ms - ctr->started_ms) / 1000
							      : 0),
			"version", MXF_VERSION_STRING);

		json_object_set_new(d, "state_write_error",
				    ctr->state_error[0] != '\0' ? json_string(ctr->state_error)
								: json_null());
		status_json_pace(d, cfg, st);
		json_object_set_new(root, "daemon", d);
	}
	status_audit_json(root, ctr != NULL ? ctr->audit : NULL, cfg->general.audit_interval_ms);
	status_queue_json(root, ctr != NULL ? ctr->queue : NULL, (int64_t)(now_ms / 1000));
	json_add_times(root);
	body = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return body;
}
