/*
 * cmd_status_quorum.c -- the [quorum] part of `status`: every monitor's
 * view and freshness as the daemon last decided on them, and who agreed on
 * each group's last switch.  It reads the "quorum" object the daemon writes
 * into the state file (round_quorum_json, round_quorum.h); nothing here
 * decides anything.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd_status.h"

static const char *
sq_str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

void
status_print_quorum(const struct config *cfg, const struct state *st)
{
	const json_t *q = st->quorum, *mons, *m, *last, *sw;
	const char *key;
	size_t i;

	if (!cfg->quorum.enabled)
		return;
	if (q == NULL) {
		printf("quorum: monitor %s of %zu, need %u: no views read yet\n", cfg->quorum.id,
		       cfg->quorum.nmonitors, cfg->quorum.need);
		return;
	}
	printf("quorum: monitor %s, %lld of %zu monitors fresh, need %u%s (views in "
	       "_mxfailover.%s)\n",
	       cfg->quorum.id, (long long)json_integer_value(json_object_get(q, "fresh")),
	       cfg->quorum.nmonitors, cfg->quorum.need,
	       json_is_true(json_object_get(q, "have")) ? "" : ": QUORUM LOST, nothing switches",
	       cfg->quorum.zone);
	mons = json_object_get(q, "monitors");
	json_array_foreach(mons, i, m)
	{
		const json_t *views = json_object_get(m, "views"),
			     *age = json_object_get(m, "age_ms"), *v;
		const char *server;
		char fresh[64];

		if (json_is_true(json_object_get(m, "fresh")))
			snprintf(fresh, sizeof(fresh), "fresh");
		else if (json_is_true(json_object_get(m, "self")))
			snprintf(fresh, sizeof(fresh), "not published");
		else if (!json_is_true(json_object_get(m, "seen")))
			snprintf(fresh, sizeof(fresh), "never seen advancing");
		else
			snprintf(fresh, sizeof(fresh), "stale");
		printf("  %-16s %-8s %s", sq_str(m, "id", "?"),
		       json_is_true(json_object_get(m, "self")) ? "(this)" : "", fresh);
		if (json_is_integer(age))
			printf(", advanced %lld s ago",
			       (long long)(json_integer_value(age) / 1000));
		printf(", seq %lld", (long long)json_integer_value(json_object_get(m, "seq")));
		if (json_is_true(json_object_get(m, "read_error")))
			printf(", last read failed");
		printf(":");
		json_object_foreach((json_t *)views, server, v)
			printf(" %s %s", server, json_string_value(v) ? json_string_value(v) : "?");
		printf("\n");
	}
	last = json_object_get(q, "last_switch");
	json_object_foreach((json_t *)last, key, sw)
	{
		const json_t *agreed = json_object_get(sw, "agreed"), *a;
		time_t t = (time_t)json_integer_value(json_object_get(sw, "at"));
		struct tm tm;
		char when[64] = "?";
		size_t k;

		if (gmtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		printf("  group %s: this monitor switched it to %s at %s, agreed by", key,
		       sq_str(sw, "to", "?"), when);
		json_array_foreach(agreed, k, a)
			printf(" %s", json_string_value(a) ? json_string_value(a) : "?");
		printf("\n");
	}
}

bool
status_quorum_lost(const struct config *cfg, const struct state *st, char *msg, size_t len)
{
	const json_t *q = st->quorum;

	if (!cfg->quorum.enabled || q == NULL || json_is_true(json_object_get(q, "have")))
		return false;
	snprintf(msg, len, "quorum lost: %lld of %zu monitors fresh, %u needed: nothing switches",
		 (long long)json_integer_value(json_object_get(q, "fresh")), cfg->quorum.nmonitors,
		 cfg->quorum.need);
	return true;
}
