/*
 * state.c -- the in-memory state bundle and its JSON state file; see
 * state.h.  The file format, version 1:
 *
 * { "version": 1, "program": "mxfailover X.Y.Z", "saved_ms": N,
 *   "isolated": false,
 *   "servers": { ID: { "state": "up", "good_run": N, "bad_run": N,
 *                      "since_ms": N, "reason": "...",
 *                      "pin": "none", "pin_until_ms": N,
 *                      "checks": [ { "url": "...", "state": "up",
 *                                    "seen": true, "last": "ok",
 *                                    "good_run": N, "bad_run": N,
 *                                    "last_ms": N, "elapsed_ms": N,
 *                                    "since_ms": N,
 *                                    "reason": "..." } ] } },
 *   "groups": { ID: { "active": ID or null, "last_switch_ms": N,
 *                     "all_down": false, "failback_requested": false,
 *                     "switches": N } },
 *                     -- each group's "zones" are in the companion file
 *                        PATH.zones, rewritten only when they change
 *                        (state_zones.h); state_to_json() and a file
 *                        written before the split carry them inline:
 *                     "zones": { ZONE: { "failed": false, "intent": ID or null,
 *                                "records": { LABEL: { "status": "present",
 *                                      "values": [...], "ttl": N,
 *                                      "hand_changed": false,
 *                                      "missing": false,
 *                                      "written": ID or null } } } }
 *   "events": [ { "at_ms": N, "event": "switched", "group": ID, "server":
 *                 ID, "from": ID, "to": ID, "zone": Z, "record": L,
 *                 "zones": [Z...] (only when set), "detail": "..." } ] }
 *                                            -- oldest first
 * and optional "history", "witnesses" (state_history.h), "audit_findings"
 * (state_findings.h), "quorum" (the daemon's round_quorum_json, as is).
 *
 * Times are wall-clock milliseconds.  Every field is optional on load
 * (a missing one keeps the fresh value), but a present field of the wrong
 * type or value makes the whole file invalid: it is corrupt, and a partly
 * believed state file is worse than a rebuilt one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "mxf.h"
#include "state.h"
#include "state_event.h"
#include "state_file.h"
#include "state_history.h"
#include "state_zones.h"
#include "value.h"

/* ---- bundle ---------------------------------------------------------- */

int state_new(const struct config *cfg, struct state **out)
{
	struct state *st = calloc(1, sizeof(*st));
	if (!st)
		return MXF_ENOMEM;
	int e = health_new(cfg, &st->health);
	if (!e)
		e = failover_new(cfg, &st->failover);
	if (e)
		goto fail;
	e = MXF_ENOMEM;
	st->ngroups = cfg->ngroups;
	st->seen = mxf_calloc(cfg->ngroups, sizeof(*st->seen));
	if (!st->seen)
		goto fail;
	for (size_t g = 0; g < cfg->ngroups; g++) {
		e = failover_dns_new(cfg, g, &st->seen[g]);
		if (e)
			goto fail;
	}
	e = state_history_init(st, cfg);
	if (e)
		goto fail;
	*out = st;
	return 0;
fail:
	state_free(st);
	return e;
}

void state_free(struct state *st)
{
	if (!st)
		return;
	health_free(st->health);
	failover_free(st->failover);
	for (size_t g = 0; st->seen && g < st->ngroups; g++)
		failover_dns_free(st->seen[g]);
	free(st->seen);
	free(st->history);
	free(st->switches);
	free(st->witness);
	state_findings_clear(&st->findings);
	json_decref(st->quorum);
	for (size_t i = 0; i < STATE_EVENTS_MAX; i++)
		state_event_clear(&st->events[i]);
	free(st);
}

/* ---- events ---------------------------------------------------------- */

/* strdup that keeps NULL; sets *bad on allocation failure. */
static const char *state_server_id(const struct config *cfg, long i)
{
	return i >= 0 && (size_t)i < cfg->nservers ? cfg->servers[i].id : NULL;
}

/* ---- seen values ----------------------------------------------------- */

int state_update_seen(struct state *st, const struct failover_dns *dns)
{
	if (!st || !dns || dns->group >= st->ngroups)
		return MXF_EINVAL;
	struct failover_dns *seen = st->seen[dns->group];
	if (seen->nzones != dns->nzones || seen->nrecords != dns->nrecords)
		return MXF_EINVAL;
	for (size_t z = 0; z < dns->nzones; z++) {
		for (size_t r = 0; r < dns->nrecords; r++) {
			const struct failover_rec_view *v = &dns->zones[z].recs[r];
			if (v->status != FAILOVER_REC_PRESENT && v->status != FAILOVER_REC_ABSENT)
				continue;
			int e = failover_dns_set(seen, z, r, v->status,
						 (const char *const *)v->values, v->nvalues, v->ttl,
						 NULL);
			if (e)
				return e;
		}
	}
	return 0;
}

/* ---- to JSON --------------------------------------------------------- */

/* json_object_set_new that remembers a failure in *bad. */
static void state_set(json_t *obj, const char *key, json_t *v, bool *bad)
{
	if (!v || json_object_set_new(obj, key, v) != 0)
		*bad = true;
}

static json_t *state_ms(uint64_t ms)
{
	return json_integer((json_int_t)ms);
}

static json_t *state_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *state_server_json(const struct health_server *s, bool *bad)
{
	json_t *o = json_object(), *checks = json_array();
	if (!o || !checks) {
		json_decref(o);
		json_decref(checks);
		*bad = true;
		return NULL;
	}
	state_set(o, "state", json_string(health_state_name(s->state)), bad);
	state_set(o, "good_run", json_integer(s->good_run), bad);
	state_set(o, "bad_run", json_integer(s->bad_run), bad);
	state_set(o, "since_ms", state_ms(s->since_ms), bad);
	state_set(o, "reason", json_string(s->reason), bad);
	state_set(o, "pin", json_string(health_pin_name(s->pin)), bad);
	state_set(o, "pin_until_ms", state_ms(s->pin_until_ms), bad);
	for (size_t c = 0; c < s->nchecks; c++) {
		const struct health_check *ck = &s->checks[c];
		json_t *co = json_object();
		if (!co || json_array_append_new(checks, co) != 0) {
			*bad = true;
			break;
		}
		state_set(co, "url", json_string(ck->label), bad);
		state_set(co, "state", json_string(health_state_name(ck->state)), bad);
		state_set(co, "seen", json_boolean(ck->seen), bad);
		state_set(co, "last", json_string(health_outcome_name(ck->last)), bad);
		state_set(co, "good_run", json_integer(ck->good_run), bad);
		state_set(co, "bad_run", json_integer(ck->bad_run), bad);
		state_set(co, "last_ms", state_ms(ck->last_ms), bad);
		state_set(co, "since_ms", state_ms(ck->since_ms), bad);
		state_set(co, "elapsed_ms", state_ms(ck->elapsed_ms), bad);
		state_set(co, "cert_expiry", ck->cert_expiry_s != 0
						     ? json_integer((json_int_t)ck->cert_expiry_s)
						     : json_null(), bad);
		state_set(co, "reason", json_string(ck->reason), bad);
	}
	state_set(o, "checks", checks, bad);
	return o;
}

static json_t *state_group_json(const struct config *cfg, const struct state *st, size_t gi,
				bool with_zones, bool *bad)
{
	const struct config_group *g = &cfg->groups[gi];
	const struct failover_group_mem *m = &st->failover->groups[gi];
	json_t *o = json_object();
	if (!o) {
		*bad = true;
		return NULL;
	}
	state_set(o, "active", state_str_or_null(state_server_id(cfg, m->active)), bad);
	state_set(o, "last_switch_ms", state_ms(m->last_switch_ms), bad);
	state_set(o, "all_down", json_boolean(m->all_down), bad);
	state_set(o, "failback_requested", json_boolean(m->failback_requested), bad);
	state_set(o, "switches", json_integer((json_int_t)st->switches[gi]), bad);
	if (!with_zones)
		return o;
	json_t *zones = json_object();
	for (size_t z = 0; zones && z < g->nzones && !*bad; z++)
		state_set(zones, g->zones[z], state_zone_json(cfg, st, gi, z, bad), bad);
	state_set(o, "zones", zones, bad);
	return o;
}

/* The state as a JSON object; the zones of the groups only @with_zones
 * (state_zones.h: the file keeps them in its companion). */
static int state_doc_json(const struct state *st, const struct config *cfg, uint64_t now_ms,
			  bool with_zones, json_t **out)
{
	bool bad = false;
	json_t *root = json_object(), *servers = json_object(), *groups = json_object(),
	       *events = json_array();
	if (!root || !servers || !groups || !events) {
		json_decref(root);
		json_decref(servers);
		json_decref(groups);
		json_decref(events);
		return MXF_ENOMEM;
	}
	state_set(root, "version", json_integer(STATE_VERSION), &bad);
	state_set(root, "program", json_string("mxfailover " MXF_VERSION_STRING), &bad);
	state_set(root, "saved_ms", state_ms(now_ms), &bad);
	state_set(root, "isolated", json_boolean(st->failover->isolated), &bad);
	for (size_t i = 0; i < cfg->nservers && i < st->health->nservers; i++)
		state_set(servers, cfg->servers[i].id, state_server_json(&st->health->servers[i], &bad),
			  &bad);
	state_set(root, "servers", servers, &bad);
	for (size_t g = 0; g < cfg->ngroups && g < st->ngroups; g++)
		state_set(groups, cfg->groups[g].id, state_group_json(cfg, st, g, with_zones, &bad),
			  &bad);
	state_set(root, "groups", groups, &bad);
	for (size_t i = 0; i < state_event_count(st); i++) {
		json_t *eo = state_event_to_json(state_event_get(st, i));
		if (!eo || json_array_append_new(events, eo) != 0) {
			bad = true;
			break;
		}
	}
	state_set(root, "events", events, &bad);
	state_set(root, "history", state_history_to_json(st, cfg), &bad);
	state_set(root, "witnesses", state_witness_to_json(st, cfg), &bad);
	state_set(root, "audit_findings", state_findings_to_json(&st->findings), &bad);
	if (st->quorum)
		state_set(root, "quorum", json_incref(st->quorum), &bad);
	if (bad) {
		json_decref(root);
		return MXF_ENOMEM;
	}
	*out = root;
	return 0;
}

int state_to_json(const struct state *st, const struct config *cfg, uint64_t now_ms, json_t **out)
{
	return state_doc_json(st, cfg, now_ms, true, out);
}

/* ---- from JSON ------------------------------------------------------- */

/* Parsing context: the error message and the first error code. */
struct state_rd {
	char *err;
	size_t errlen;
	int code;
};

static void state_fail(struct state_rd *rd, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void state_fail(struct state_rd *rd, int code, const char *fmt, ...)
{
	if (rd->code)
		return;
	rd->code = code;
	if (rd->err && rd->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(rd->err, rd->errlen, fmt, ap);
		va_end(ap);
	}
}

/* Optional member of type JSON object; NULL when absent or wrong (error). */
static const json_t *state_get(struct state_rd *rd, const json_t *obj, const char *key,
			       json_type type, const char *where)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return NULL;
	if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))) {
		state_fail(rd, MXF_EINVAL, "%s.%s: wrong type", where, key);
		return NULL;
	}
	return v;
}

/* Member @key of @parent, which must be an object if present; @where gets
 * "@prefix.@key" for messages ("...: not an object").  NULL when absent or
 * wrong. */
static const json_t *state_member(struct state_rd *rd, const json_t *parent, const char *prefix,
				  const char *key, char *where, size_t wsize)
{
	snprintf(where, wsize, "%s.%s", prefix, key);
	const json_t *v = json_object_get(parent, key);
	if (v && !json_is_object(v)) {
		state_fail(rd, MXF_EINVAL, "%s: not an object", where);
		return NULL;
	}
	return v;
}

static void state_get_ms(struct state_rd *rd, const json_t *obj, const char *key,
			 const char *where, uint64_t *out)
{
	const json_t *v = state_get(rd, obj, key, JSON_INTEGER, where);
	if (!v)
		return;
	if (json_integer_value(v) < 0) {
		state_fail(rd, MXF_EINVAL, "%s.%s: negative", where, key);
		return;
	}
	*out = (uint64_t)json_integer_value(v);
}

/* An optional time: absent, null or negative leaves *out as it is. */
static void state_opt_ms(const json_t *obj, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		*out = (uint64_t)json_integer_value(v);
}

static void state_get_uint(struct state_rd *rd, const json_t *obj, const char *key,
			   const char *where, unsigned *out)
{
	const json_t *v = state_get(rd, obj, key, JSON_INTEGER, where);
	if (!v)
		return;
	if (json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX) {
		state_fail(rd, MXF_EINVAL, "%s.%s: out of range", where, key);
		return;
	}
	*out = (unsigned)json_integer_value(v);
}

static void state_get_bool(struct state_rd *rd, const json_t *obj, const char *key,
			   const char *where, bool *out)
{
	const json_t *v = state_get(rd, obj, key, JSON_TRUE, where);
	if (v)
		*out = json_is_true(v);
}

static void state_get_reason(struct state_rd *rd, const json_t *obj, const char *key,
			     const char *where, char *buf, size_t size)
{
	const json_t *v = state_get(rd, obj, key, JSON_STRING, where);
	/* A longer reason (another version wrote it) is cut on a boundary. */
	if (v)
		value_utf8_clean(buf, size, json_string_value(v), json_string_length(v));
}

/* A name from a table: @parse returns 0 or MXF_EINVAL. */
#define STATE_GET_ENUM(rd, obj, key, where, parse, outp)                                   \
	do {                                                                                \
		const json_t *v_ = state_get((rd), (obj), (key), JSON_STRING, (where));      \
		if (v_ && parse(json_string_value(v_), (outp)) != 0)                          \
			state_fail((rd), MXF_EINVAL, "%s.%s: unknown value '%s'", (where), (key), \
				   json_string_value(v_));                                      \
	} while (0)

static void state_read_server(struct state_rd *rd, const json_t *so, const struct config_server *cs,
			      struct health_server *s)
{
	char where[300];
	snprintf(where, sizeof(where), "servers.%s", cs->id);
	STATE_GET_ENUM(rd, so, "state", where, health_state_parse, &s->state);
	state_get_uint(rd, so, "good_run", where, &s->good_run);
	state_get_uint(rd, so, "bad_run", where, &s->bad_run);
	state_get_ms(rd, so, "since_ms", where, &s->since_ms);
	state_get_reason(rd, so, "reason", where, s->reason, sizeof(s->reason));
	STATE_GET_ENUM(rd, so, "pin", where, health_pin_parse, &s->pin);
	state_get_ms(rd, so, "pin_until_ms", where, &s->pin_until_ms);
	if (s->pin == HEALTH_PIN_NONE)
		s->pin_until_ms = 0;

	const json_t *checks = state_get(rd, so, "checks", JSON_ARRAY, where);
	if (!checks)
		return;
	bool *used = calloc(json_array_size(checks) + 1, sizeof(*used));
	if (!used) {
		state_fail(rd, MXF_ENOMEM, "out of memory");
		return;
	}
	for (size_t c = 0; c < s->nchecks; c++) {
		struct health_check *ck = &s->checks[c];
		/* Match by URL, in order, so a check removed from the config
		 * does not lend its counters to the next one. */
		size_t i;
		const json_t *co = NULL;
		json_array_foreach(checks, i, co)
		{
			const json_t *url = json_is_object(co) ? json_object_get(co, "url") : NULL;
			if (!used[i] && json_is_string(url) &&
			    strcmp(json_string_value(url), ck->label) == 0)
				break;
		}
		if (i >= json_array_size(checks))
			continue;
		used[i] = true;
		char cw[600];
		snprintf(cw, sizeof(cw), "%s.checks[%zu]", where, i);
		STATE_GET_ENUM(rd, co, "state", cw, health_state_parse, &ck->state);
		state_get_bool(rd, co, "seen", cw, &ck->seen);
		STATE_GET_ENUM(rd, co, "last", cw, health_outcome_parse, &ck->last);
		state_get_uint(rd, co, "good_run", cw, &ck->good_run);
		state_get_uint(rd, co, "bad_run", cw, &ck->bad_run);
		state_get_ms(rd, co, "last_ms", cw, &ck->last_ms);
		state_get_ms(rd, co, "since_ms", cw, &ck->since_ms);
		state_get_reason(rd, co, "reason", cw, ck->reason, sizeof(ck->reason));
		/* Optional: older state files lack them. */
		state_opt_ms(co, "elapsed_ms", &ck->elapsed_ms);
		const json_t *ce = json_object_get(co, "cert_expiry");
		if (json_is_integer(ce))
			ck->cert_expiry_s = (int64_t)json_integer_value(ce);
	}
	free(used);
	size_t i;
	const json_t *co;
	json_array_foreach(checks, i, co)
	{
		if (!json_is_object(co))
			state_fail(rd, MXF_EINVAL, "%s.checks[%zu]: not an object", where, i);
	}
}

/* A server of group @g by id, or null: *out is its index, -1 for null or a
 * server no longer in the group (the next round decides anew). */
static void state_get_member(struct state_rd *rd, const json_t *obj, const char *key,
			     const char *where, const struct config *cfg,
			     const struct config_group *g, long *out)
{
	const json_t *v = json_object_get(obj, key);
	if (v && json_is_string(v)) {
		long s = config_server_index(cfg, json_string_value(v));
		bool member = false;
		for (size_t i = 0; s >= 0 && i < g->nservers; i++)
			member = member || (long)g->servers[i] == s;
		*out = member ? s : -1;
	} else if (v && !json_is_null(v)) {
		state_fail(rd, MXF_EINVAL, "%s.%s: wrong type", where, key);
	}
}

static void state_read_record(struct state_rd *rd, const json_t *ro, const char *where,
			      const struct config *cfg, const struct config_group *g,
			      struct failover_dns *seen, size_t z, size_t r, bool *hand, long *written,
			      bool *missing)
{
	state_get_member(rd, ro, "written", where, cfg, g, written);
	enum failover_rec_status status = FAILOVER_REC_UNREAD;
	STATE_GET_ENUM(rd, ro, "status", where, failover_rec_status_parse, &status);
	const json_t *vals = state_get(rd, ro, "values", JSON_ARRAY, where);
	const json_t *ttl = state_get(rd, ro, "ttl", JSON_INTEGER, where);
	state_get_bool(rd, ro, "hand_changed", where, hand);
	state_get_bool(rd, ro, "missing", where, missing);
	if (rd->code)
		return;
	size_t n = vals ? json_array_size(vals) : 0;
	if (status == FAILOVER_REC_FAILED)
		status = FAILOVER_REC_UNREAD;
	if (status == FAILOVER_REC_PRESENT && n == 0) {
		state_fail(rd, MXF_EINVAL, "%s: present without values", where);
		return;
	}
	const char **v = mxf_calloc(n, sizeof(*v));
	if (!v) {
		state_fail(rd, MXF_ENOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *s = json_array_get(vals, i);
		if (!json_is_string(s)) {
			state_fail(rd, MXF_EINVAL, "%s.values[%zu]: not a string", where, i);
			free(v);
			return;
		}
		v[i] = json_string_value(s);
	}
	if (failover_dns_set(seen, z, r, status, v, n, ttl ? json_integer_value(ttl) : -1, NULL))
		state_fail(rd, MXF_ENOMEM, "out of memory");
	free(v);
}

static void state_read_zone(struct state_rd *rd, const json_t *zo, const char *zw,
			    const struct config *cfg, const struct config_group *g,
			    struct failover_group_mem *m, struct failover_dns *seen, size_t z)
{
	state_get_bool(rd, zo, "failed", zw, &m->zones[z].failed);
	state_get_member(rd, zo, "intent", zw, cfg, g, &m->zones[z].intent);
	const json_t *recs = state_get(rd, zo, "records", JSON_OBJECT, zw);
	char rpre[700];
	snprintf(rpre, sizeof(rpre), "%s.records", zw);
	for (size_t r = 0; recs && r < g->nrecords && !rd->code; r++) {
		char rw[900];
		const json_t *ro = state_member(rd, recs, rpre, g->records[r], rw, sizeof(rw));
		if (ro)
			state_read_record(rd, ro, rw, cfg, g, seen, z, r,
					  &m->hand_changed[z * m->nrecords + r],
					  &m->written[z * m->nrecords + r],
					  &m->missing[z * m->nrecords + r]);
	}
}

static void state_read_group(struct state_rd *rd, const json_t *go, const struct config *cfg,
			     size_t gi, struct state *st)
{
	const struct config_group *g = &cfg->groups[gi];
	struct failover_group_mem *m = &st->failover->groups[gi];
	char where[300];
	snprintf(where, sizeof(where), "groups.%s", g->id);
	state_get_member(rd, go, "active", where, cfg, g, &m->active);
	state_get_ms(rd, go, "last_switch_ms", where, &m->last_switch_ms);
	state_get_bool(rd, go, "all_down", where, &m->all_down);
	state_get_bool(rd, go, "failback_requested", where, &m->failback_requested);
	const json_t *sw = json_object_get(go, "switches"); /* optional: newer files */
	if (json_is_integer(sw) && json_integer_value(sw) >= 0)
		st->switches[gi] = (uint64_t)json_integer_value(sw);
	const json_t *zones = state_get(rd, go, "zones", JSON_OBJECT, where);
	char zpre[400];
	snprintf(zpre, sizeof(zpre), "%s.zones", where);
	for (size_t z = 0; zones && z < g->nzones && !rd->code; z++) {
		char zw[600];
		const json_t *zo = state_member(rd, zones, zpre, g->zones[z], zw, sizeof(zw));
		if (zo)
			state_read_zone(rd, zo, zw, cfg, g, m, st->seen[gi], z);
	}
}

static void state_read_events(struct state_rd *rd, const json_t *events, struct state *st)
{
	size_t i;
	const json_t *eo;
	json_array_foreach(events, i, eo)
	{
		struct state_event e;
		char msg[256];
		int code = state_event_from_json(eo, i, &e, msg, sizeof(msg));
		if (code) {
			state_fail(rd, code, "%s", msg);
			return;
		}
		state_event_push(st, &e);
	}
}

int state_from_json(const json_t *root, const struct config *cfg, struct state **out, char *err,
		    size_t errlen)
{
	struct state_rd rd = { .err = err, .errlen = errlen };
	if (!json_is_object(root)) {
		state_fail(&rd, MXF_EINVAL, "not a JSON object");
		return rd.code;
	}
	const json_t *ver = json_object_get(root, "version");
	if (!json_is_integer(ver)) {
		state_fail(&rd, MXF_EINVAL, "no \"version\" field: not a mxfailover state file");
		return rd.code;
	}
	if (json_integer_value(ver) != STATE_VERSION) {
		state_fail(&rd, json_integer_value(ver) > STATE_VERSION ? MXF_EUNSUPPORTED : MXF_EINVAL,
			   "version %lld, this program reads version %d",
			   (long long)json_integer_value(ver), STATE_VERSION);
		return rd.code;
	}

	struct state *st;
	int e = state_new(cfg, &st);
	if (e) {
		state_fail(&rd, e, "out of memory");
		return e;
	}
	state_get_ms(&rd, root, "saved_ms", "state", &st->saved_ms);
	state_get_bool(&rd, root, "isolated", "state", &st->failover->isolated);

	const json_t *servers = state_get(&rd, root, "servers", JSON_OBJECT, "state");
	for (size_t i = 0; servers && i < cfg->nservers && !rd.code; i++) {
		char where[300];
		const json_t *so =
			state_member(&rd, servers, "servers", cfg->servers[i].id, where, sizeof(where));
		if (so)
			state_read_server(&rd, so, &cfg->servers[i], &st->health->servers[i]);
	}
	const json_t *groups = state_get(&rd, root, "groups", JSON_OBJECT, "state");
	for (size_t g = 0; groups && g < cfg->ngroups && !rd.code; g++) {
		char where[300];
		const json_t *go =
			state_member(&rd, groups, "groups", cfg->groups[g].id, where, sizeof(where));
		if (go)
			state_read_group(&rd, go, cfg, g, st);
	}
	const json_t *events = state_get(&rd, root, "events", JSON_ARRAY, "state");
	if (events && !rd.code)
		state_read_events(&rd, events, st);
	state_history_from_json(st, cfg, json_object_get(root, "history"));
	state_witness_from_json(st, cfg, json_object_get(root, "witnesses"));
	state_findings_from_json(&st->findings, json_object_get(root, "audit_findings"));
	if (json_is_object(json_object_get(root, "quorum")))
		st->quorum = json_incref(json_object_get(root, "quorum"));
	if (rd.code) {
		state_free(st);
		return rd.code;
	}
	*out = st;
	return 0;
}

/* ---- files ----------------------------------------------------------- */

int state_load(const char *path, const struct config *cfg, struct state **out, char *err,
	       size_t errlen)
{
	char msg[512] = "";
	char *buf = NULL;
	size_t len = 0;
	int e = file_read(path, STATE_FILE_MAX, 0, &buf, &len, err, errlen);
	if (e)
		return e;
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: not valid JSON (truncated or corrupt): %s", path,
			 jerr.line, jerr.column, jerr.text);
		return MXF_EINVAL;
	}
	bool have_hash = false, newer = false;
	uint64_t hash = 0;
	char warn[600] = "";
	e = state_zones_merge(path, root, &have_hash, &hash, &newer, warn, sizeof(warn));
	if (e) {
		json_decref(root);
		snprintf(err, errlen, "%s: out of memory", path);
		return e;
	}
	e = state_from_json(root, cfg, out, msg, sizeof(msg));
	json_decref(root);
	if (e) {
		snprintf(err, errlen, "%s: %s", path, msg);
		return e;
	}
	/* Zones saved after the rest: what they say was written may be a
	 * switch the state file never recorded (failover_commit reports it). */
	for (size_t g = 0; newer && (*out)->failover && g < (*out)->failover->ngroups; g++)
		(*out)->failover->groups[g].zones_newer = true;
	/* The companion holds exactly what this state would write: an
	 * unchanged save need not rewrite it. */
	if (have_hash && state_zones_hash(*out, cfg) == hash) {
		(*out)->zones_hash = hash;
		(*out)->zones_saved = true;
	}
	if (errlen)
		snprintf(err, errlen, "%s", warn);
	return 0;
}

int state_save(const char *path, const struct config *cfg, struct state *st, uint64_t now_ms,
	       char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	/* The zones first: a crash between the two files leaves the newer
	 * zones with the older rest, never the other way round. */
	int e = state_zones_save(path, cfg, st, now_ms, err, errlen);
	if (e)
		return e;
	json_t *root;
	if (state_doc_json(st, cfg, now_ms, false, &root)) {
		snprintf(err, errlen, "%s: out of memory", path);
		return MXF_ENOMEM;
	}
	char warn[512] = "";
	snprintf(warn, sizeof(warn), "%s", err); /* the companion's warning, if any */
	e = state_file_write_json(path, root, JSON_INDENT(1) | JSON_PRESERVE_ORDER, err, errlen);
	json_decref(root);
	if (!e && err[0] == '\0' && warn[0] != '\0')
		snprintf(err, errlen, "%s", warn);
	return e;
}

/* ---- reload ---------------------------------------------------------- */

int state_rebind(const struct state *st, const struct config *oldcfg,
		 const struct config *newcfg, struct state **out)
{
	json_t *root;
	int e = state_to_json(st, oldcfg, st->saved_ms, &root);
	if (e)
		return e;
	char err[256];
	e = state_from_json(root, newcfg, out, err, sizeof(err));
	json_decref(root);
	/* What we wrote ourselves parses; only memory can fail here. */
	if (e)
		return MXF_ENOMEM;
	/* Not in the file: a switch whose save was lost is still to tell. */
	for (size_t g = 0; st->failover && (*out)->failover && g < newcfg->ngroups &&
			   g < (*out)->failover->ngroups;
	     g++)
		for (size_t o = 0; o < oldcfg->ngroups && o < st->failover->ngroups; o++)
			if (strcmp(newcfg->groups[g].id, oldcfg->groups[o].id) == 0)
				(*out)->failover->groups[g].zones_newer =
					st->failover->groups[o].zones_newer;
	return 0;
}

uint64_t state_stale_after_ms(const struct config *cfg)
{
	unsigned n = cfg->general.fall > cfg->general.rise ? cfg->general.fall : cfg->general.rise;
	uint64_t ms = 3u * (uint64_t)(n ? n : 1) * cfg->general.interval_ms;
	return ms ? ms : 1;
}

int state_forget_stale(struct state *st, const struct config *cfg, uint64_t now_ms, char *why,
		       size_t whylen)
{
	uint64_t limit = state_stale_after_ms(cfg);
	char reason[HEALTH_REASON_MAX];
	if (st->saved_ms > now_ms + limit) {
		snprintf(reason, sizeof(reason),
			 "health in the state file was saved %llu s in the future (clock went "
			 "back?): unknown until checked again",
			 (unsigned long long)((st->saved_ms - now_ms) / 1000));
	} else if (st->saved_ms + limit < now_ms) {
		snprintf(reason, sizeof(reason),
			 "health in the state file is %llu s old, more than %llu s (3 x max(fall, "
			 "rise) x interval): unknown until checked again",
			 (unsigned long long)((now_ms - st->saved_ms) / 1000),
			 (unsigned long long)(limit / 1000));
	} else {
		return 0;
	}
	health_forget(st->health, reason);
	if (why && whylen)
		snprintf(why, whylen, "%s", reason);
	return 1;
}
