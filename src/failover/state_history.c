/*
 * state_history.c -- what the state remembers for people rather than for
 * decisions: each server's 24 h strip of marks and each witness's last
 * result, with their JSON forms in the state file.  See state.h and
 * state_history.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxf.h"
#include "state_history.h"
#include "value.h"

static const char *const state_mark_names[] = { "none", "up", "warning", "down" };

const char *state_mark_name(enum state_mark m)
{
	return (unsigned)m < 4 ? state_mark_names[m] : "none";
}

int state_mark_parse(const char *s, enum state_mark *out)
{
	for (unsigned i = 0; s && i < 4; i++) {
		if (strcmp(s, state_mark_names[i]) == 0) {
			*out = (enum state_mark)i;
			return 0;
		}
	}
	return MXF_EINVAL;
}

int state_history_init(struct state *st, const struct config *cfg)
{
	st->history = mxf_calloc(cfg->nservers, sizeof(*st->history));
	st->switches = mxf_calloc(cfg->ngroups, sizeof(*st->switches));
	st->witness = mxf_calloc(cfg->general.nwitness, sizeof(*st->witness));
	if ((cfg->nservers && !st->history) || (cfg->ngroups && !st->switches) ||
	    (cfg->general.nwitness && !st->witness))
		return MXF_ENOMEM;
	st->nservers = cfg->nservers;
	st->nwitness = cfg->general.nwitness;
	return 0;
}

enum state_mark state_history_judge(const struct health *h, size_t s, uint64_t now_ms)
{
	if (s >= h->nservers)
		return STATE_MARK_NONE;
	switch (health_effective(h, s, now_ms)) {
	case HEALTH_DOWN:
		return STATE_MARK_DOWN;
	case HEALTH_UNKNOWN:
		return STATE_MARK_NONE;
	case HEALTH_UP:
		break;
	}
	for (size_t c = 0; c < h->servers[s].nchecks; c++) {
		if (h->servers[s].checks[c].seen && h->servers[s].checks[c].last == HEALTH_WARN)
			return STATE_MARK_WARNING;
	}
	return STATE_MARK_UP;
}

/* Slot @period into the ring (the worst mark of the period wins). */
static void state_history_put(struct state_history *sh, uint64_t period, enum state_mark m)
{
	size_t k = (size_t)(period % STATE_HISTORY_SLOTS);
	if (sh->slot[k] != period) {
		if (sh->slot[k] > period)
			return; /* older than what the ring holds there */
		sh->slot[k] = period;
		sh->mark[k] = STATE_MARK_NONE;
	}
	if ((unsigned)m > sh->mark[k])
		sh->mark[k] = (unsigned char)m;
}

void state_history_note(struct state *st, size_t s, enum state_mark m, uint64_t now_ms)
{
	if (!st->history || s >= st->nservers || m == STATE_MARK_NONE || m > STATE_MARK_DOWN)
		return;
	state_history_put(&st->history[s], now_ms / STATE_HISTORY_SLOT_MS, m);
}

enum state_mark state_history_get(const struct state *st, size_t s, uint64_t slot)
{
	if (!st->history || s >= st->nservers || slot == 0)
		return STATE_MARK_NONE;
	const struct state_history *sh = &st->history[s];
	size_t k = (size_t)(slot % STATE_HISTORY_SLOTS);
	return sh->slot[k] == slot ? (enum state_mark)sh->mark[k] : STATE_MARK_NONE;
}

json_t *state_history_to_json(const struct state *st, const struct config *cfg)
{
	json_t *o = json_object(), *servers = json_object();
	bool bad = !o || !servers;
	for (size_t s = 0; !bad && s < cfg->nservers && s < st->nservers; s++) {
		const struct state_history *sh = &st->history[s];
		json_t *a = json_array();
		bad = !a || json_object_set_new(servers, cfg->servers[s].id, a) != 0;
		/* Oldest period first, so a reader sees the strip in order. */
		uint64_t newest = 0;
		for (size_t k = 0; k < STATE_HISTORY_SLOTS; k++)
			newest = sh->slot[k] > newest ? sh->slot[k] : newest;
		for (uint64_t p = newest >= STATE_HISTORY_SLOTS ? newest - STATE_HISTORY_SLOTS + 1 : 1;
		     !bad && newest && p <= newest; p++) {
			enum state_mark m = state_history_get(st, s, p);
			if (m != STATE_MARK_NONE)
				bad = json_array_append_new(
					      a, json_pack("[I,s]", (json_int_t)p,
							   state_mark_name(m))) != 0;
		}
	}
	if (!bad)
		bad = json_object_set_new(o, "slot_ms", json_integer(STATE_HISTORY_SLOT_MS)) != 0 ||
		      json_object_set(o, "servers", servers) != 0;
	json_decref(servers);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void state_history_from_json(struct state *st, const struct config *cfg, const json_t *h)
{
	const json_t *slot_ms = json_object_get(h, "slot_ms");
	const json_t *servers = json_object_get(h, "servers");
	/* Another slot size would mean other periods: start the strips anew. */
	if (!json_is_integer(slot_ms) || json_integer_value(slot_ms) != STATE_HISTORY_SLOT_MS ||
	    !json_is_object(servers))
		return;
	for (size_t s = 0; s < cfg->nservers && s < st->nservers; s++) {
		const json_t *a = json_object_get(servers, cfg->servers[s].id);
		size_t i;
		const json_t *e;
		if (!json_is_array(a))
			continue;
		json_array_foreach(a, i, e)
		{
			const json_t *p = json_array_get(e, 0), *m = json_array_get(e, 1);
			enum state_mark mk;
			if (json_is_integer(p) && json_integer_value(p) > 0 && json_is_string(m) &&
			    state_mark_parse(json_string_value(m), &mk) == 0 && mk != STATE_MARK_NONE)
				state_history_put(&st->history[s],
						  (uint64_t)json_integer_value(p), mk);
		}
	}
}

void state_witness_note(struct state *st, size_t i, bool up, uint64_t elapsed_ms,
			const char *reason, uint64_t now_ms)
{
	if (!st->witness || i >= st->nwitness)
		return;
	struct state_witness *w = &st->witness[i];
	if (!w->seen || w->up != up)
		w->since_ms = now_ms;
	w->seen = true;
	w->up = up;
	w->at_ms = now_ms;
	w->elapsed_ms = elapsed_ms;
	reason = reason ? reason : "";
	value_utf8_clean(w->reason, sizeof(w->reason), reason, strlen(reason));
}

json_t *state_witness_to_json(const struct state *st, const struct config *cfg)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < cfg->general.nwitness && i < st->nwitness; i++) {
		const struct state_witness *w = &st->witness[i];
		if (!w->seen)
			continue;
		json_t *wo = json_pack("{s:b, s:I, s:I, s:I, s:s}", "up", w->up, "at_ms",
				       (json_int_t)w->at_ms, "since_ms", (json_int_t)w->since_ms,
				       "elapsed_ms", (json_int_t)w->elapsed_ms, "reason", w->reason);
		if (!wo || json_object_set_new(o, cfg->general.witness[i], wo) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static uint64_t state_witness_ms(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
}

void state_witness_from_json(struct state *st, const struct config *cfg, const json_t *w)
{
	for (size_t i = 0; json_is_object(w) && i < cfg->general.nwitness && i < st->nwitness; i++) {
		const json_t *wo = json_object_get(w, cfg->general.witness[i]);
		const json_t *up = json_object_get(wo, "up"), *r = json_object_get(wo, "reason");
		if (!json_is_boolean(up))
			continue;
		struct state_witness *sw = &st->witness[i];
		sw->seen = true;
		sw->up = json_is_true(up);
		sw->at_ms = state_witness_ms(wo, "at_ms");
		sw->since_ms = state_witness_ms(wo, "since_ms");
		sw->elapsed_ms = state_witness_ms(wo, "elapsed_ms");
		if (json_is_string(r))
			value_utf8_clean(sw->reason, sizeof(sw->reason), json_string_value(r),
					 json_string_length(r));
	}
}
