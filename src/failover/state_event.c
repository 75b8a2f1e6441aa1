/*
 * state_event.c -- the ring of recent events in a struct state, and each
 * event's JSON object in the state file; see state_event.h, and state.c
 * for the file format.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxf.h"
#include "state_event.h"

void
state_event_clear(struct state_event *e)
{
	free(e->group);
	free(e->server);
	free(e->from);
	free(e->to);
	free(e->zone);
	free(e->record);
	for (size_t i = 0; e->zones && i < e->nzones; i++)
		free(e->zones[i]);
	free(e->zones);
	for (size_t i = 0; e->records && i < e->nrecords; i++)
		free(e->records[i]);
	free(e->records);
	free(e->detail);
	memset(e, 0, sizeof(*e));
}

size_t
state_event_count(const struct state *st)
{
	return st ? st->ev_count : 0;
}

const struct state_event *
state_event_get(const struct state *st, size_t i)
{
	if (!st || i >= st->ev_count)
		return NULL;
	return &st->events[(st->ev_first + i) % STATE_EVENTS_MAX];
}

void
state_event_push(struct state *st, struct state_event *e)
{
	size_t slot;
	if (st->ev_count == STATE_EVENTS_MAX) {
		slot = st->ev_first;
		state_event_clear(&st->events[slot]);
		st->ev_first = (st->ev_first + 1) % STATE_EVENTS_MAX;
	} else {
		slot = (st->ev_first + st->ev_count++) % STATE_EVENTS_MAX;
	}
	st->events[slot] = *e;
}

/* ---- to JSON --------------------------------------------------------- */

/* json_object_set_new that remembers a failure in *bad. */
static void
state_event_set(json_t *obj, const char *key, json_t *v, bool *bad)
{
	if (!v || json_object_set_new(obj, key, v) != 0)
		*bad = true;
}

static json_t *
state_event_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *
state_event_to_json(const struct state_event *e)
{
	bool bad = false;
	json_t *eo = json_object();
	if (!eo)
		return NULL;
	state_event_set(eo, "at_ms", json_integer((json_int_t)e->at_ms), &bad);
	state_event_set(eo, "event", json_string(failover_event_id(e->type)), &bad);
	state_event_set(eo, "group", state_event_str_or_null(e->group), &bad);
	state_event_set(eo, "server", state_event_str_or_null(e->server), &bad);
	state_event_set(eo, "from", state_event_str_or_null(e->from), &bad);
	state_event_set(eo, "to", state_event_str_or_null(e->to), &bad);
	state_event_set(eo, "zone", state_event_str_or_null(e->zone), &bad);
	state_event_set(eo, "record", state_event_str_or_null(e->record), &bad);
	if (e->nzones) {
		json_t *zs = json_array();
		for (size_t k = 0; zs && k < e->nzones; k++)
			if (json_array_append_new(zs, json_string(e->zones[k])) != 0)
				bad = true;
		state_event_set(eo, "zones", zs, &bad);
	}
	if (e->nrecords) {
		json_t *rs = json_array();
		for (size_t k = 0; rs && k < e->nrecords; k++)
			if (json_array_append_new(rs, json_string(e->records[k])) != 0)
				bad = true;
		state_event_set(eo, "records", rs, &bad);
	}
	state_event_set(eo, "detail", json_string(e->detail ? e->detail : ""), &bad);
	if (bad) {
		json_decref(eo);
		return NULL;
	}
	return eo;
}

/* ---- from JSON ------------------------------------------------------- */

/* The first failure of one event's parse. */
struct state_event_rd {
	char *err;
	size_t errlen;
	size_t i;
	int code;
};

static void state_event_fail(struct state_event_rd *rd, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
state_event_fail(struct state_event_rd *rd, int code, const char *fmt, ...)
{
	if (rd->code)
		return;
	rd->code = code;
	if (rd->err && rd->errlen) {
		int n = snprintf(rd->err, rd->errlen, "events[%zu]", rd->i);
		if (n >= 0 && (size_t)n < rd->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(rd->err + n, rd->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
}

/* An optional string member (null allowed): a copy, or NULL. */
static char *
state_event_str(struct state_event_rd *rd, const json_t *eo, const char *key)
{
	const json_t *v = json_object_get(eo, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		state_event_fail(rd, MXF_EINVAL, ".%s: wrong type", key);
		return NULL;
	}
	char *s = strdup(json_string_value(v));
	if (!s)
		state_event_fail(rd, MXF_ENOMEM, ": out of memory");
	return s;
}

/* "zones", "records": arrays of names, taken as they are (optional). */
static void
state_event_names(struct state_event_rd *rd, const json_t *eo, const char *key, char ***out,
		  size_t *n)
{
	const json_t *zs = json_object_get(eo, key);
	if (!zs)
		return;
	if (!json_is_array(zs)) {
		state_event_fail(rd, MXF_EINVAL, ".%s: wrong type", key);
		return;
	}
	if (!json_array_size(zs))
		return;
	*out = calloc(json_array_size(zs), sizeof(**out));
	if (!*out) {
		state_event_fail(rd, MXF_ENOMEM, ": out of memory");
		return;
	}
	size_t k;
	const json_t *z;
	json_array_foreach(zs, k, z)
	{
		if (!json_is_string(z)) {
			state_event_fail(rd, MXF_EINVAL, ".%s[%zu]: not a string", key, k);
			return;
		}
		(*out)[*n] = strdup(json_string_value(z));
		if (!(*out)[*n]) {
			state_event_fail(rd, MXF_ENOMEM, ": out of memory");
			return;
		}
		(*n)++;
	}
}

int
state_event_from_json(const json_t *eo, size_t i, struct state_event *out, char *err, size_t errlen)
{
	struct state_event_rd rd = {.err = err, .errlen = errlen, .i = i};
	struct state_event e = {0};
	if (!json_is_object(eo)) {
		state_event_fail(&rd, MXF_EINVAL, ": not an object");
		return rd.code;
	}
	const json_t *v = json_object_get(eo, "event");
	if (v && (!json_is_string(v) || failover_event_parse(json_string_value(v), &e.type) != 0))
		state_event_fail(&rd, MXF_EINVAL, ".event: unknown value '%s'",
				 json_is_string(v) ? json_string_value(v) : "?");
	v = json_object_get(eo, "at_ms");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
		state_event_fail(&rd, MXF_EINVAL, ".at_ms: wrong type or negative");
	else if (v)
		e.at_ms = (uint64_t)json_integer_value(v);
	e.group = state_event_str(&rd, eo, "group");
	e.server = state_event_str(&rd, eo, "server");
	e.from = state_event_str(&rd, eo, "from");
	e.to = state_event_str(&rd, eo, "to");
	e.zone = state_event_str(&rd, eo, "zone");
	e.record = state_event_str(&rd, eo, "record");
	e.detail = state_event_str(&rd, eo, "detail");
	state_event_names(&rd, eo, "zones", &e.zones, &e.nzones);
	state_event_names(&rd, eo, "records", &e.records, &e.nrecords);
	if (!e.detail && !rd.code) {
		e.detail = strdup("");
		if (!e.detail)
			state_event_fail(&rd, MXF_ENOMEM, ": out of memory");
	}
	if (rd.code) {
		state_event_clear(&e);
		return rd.code;
	}
	*out = e;
	return 0;
}

/*
 * The records a switch event moved: in its zones, those read back present
 * and not changed by hand (those are left alone).  The event is recorded
 * at the end of its round, so the memory and the values seen are that
 * round's.  @return 0 or MXF_ENOMEM.
 */
int state_event_moved(const struct state *st, const struct config_group *g,
			     const struct failover_event *ev, struct state_event *e)
{
	if (ev->type != FAILOVER_EV_SWITCHED && ev->type != FAILOVER_EV_SWITCHED_BACK &&
	    ev->type != FAILOVER_EV_SWITCH_COMPLETED)
		return 0;
	const struct failover_group_mem *m = &st->failover->groups[ev->group];
	const struct failover_dns *seen = st->seen[ev->group];
	e->records = calloc(ev->nzones * g->nrecords + 1, sizeof(*e->records));
	if (!e->records)
		return MXF_ENOMEM;
	for (size_t i = 0; i < ev->nzones; i++) {
		size_t z = ev->zones[i];
		for (size_t r = 0; z < g->nzones && r < g->nrecords; r++) {
			if (m->hand_changed[z * m->nrecords + r] ||
			    seen->zones[z].recs[r].status != FAILOVER_REC_PRESENT)
				continue;
			char *owner = failover_owner_name(g->zones[z], g->records[r]);
			if (!owner)
				return MXF_ENOMEM;
			e->records[e->nrecords++] = owner;
		}
	}
	return 0;
}

/* ---- the ring's entries from the round's events ----------------------- */

static char *state_event_dup(const char *s, bool *bad)
{
	if (!s)
		return NULL;
	char *r = strdup(s);
	if (!r)
		*bad = true;
	return r;
}

static const char *state_event_server(const struct config *cfg, long i)
{
	return i >= 0 && (size_t)i < cfg->nservers ? cfg->servers[i].id : NULL;
}

int state_add_event(struct state *st, const struct config *cfg, const struct failover_event *ev)
{
	const struct config_group *g =
		ev->group >= 0 && (size_t)ev->group < cfg->ngroups ? &cfg->groups[ev->group] : NULL;
	bool bad = false;
	struct state_event e = { .type = ev->type, .at_ms = ev->at_ms };
	e.group = state_event_dup(g ? g->id : NULL, &bad);
	e.server = state_event_dup(state_event_server(cfg, ev->server), &bad);
	e.from = state_event_dup(state_event_server(cfg, ev->from), &bad);
	e.to = state_event_dup(state_event_server(cfg, ev->to), &bad);
	e.zone = state_event_dup(g && ev->zone >= 0 && (size_t)ev->zone < g->nzones ? g->zones[ev->zone]
									     : NULL,
			   &bad);
	e.record = state_event_dup(g && ev->record >= 0 && (size_t)ev->record < g->nrecords
				     ? g->records[ev->record]
				     : NULL,
			     &bad);
	e.detail = state_event_dup(ev->detail, &bad);
	if (g && ev->nzones) {
		e.zones = calloc(ev->nzones, sizeof(*e.zones));
		bad = bad || !e.zones;
		for (size_t i = 0; e.zones && i < ev->nzones; i++) {
			if (ev->zones[i] < g->nzones)
				e.zones[e.nzones++] = state_event_dup(g->zones[ev->zones[i]], &bad);
		}
		if (!bad)
			bad = state_event_moved(st, g, ev, &e) != 0;
	}
	if (bad) {
		state_event_clear(&e);
		return MXF_ENOMEM;
	}
	state_event_push(st, &e);
	if ((ev->type == FAILOVER_EV_SWITCHED || ev->type == FAILOVER_EV_SWITCHED_BACK) && g &&
	    st->switches && (size_t)ev->group < cfg->ngroups)
		st->switches[ev->group]++;
	return 0;
}

