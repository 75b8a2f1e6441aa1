/*
 * status_view.c -- the verdicts and formats the status answers share; see
 * status_view.h.
 */
#include "status_view.h"

#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "failover.h"
#include "health.h"

void
status_view_group(const struct config *cfg, const struct state *st, size_t g, uint64_t now_ms,
		  struct status_group_view *out)
{
	const struct config_group *gr = &cfg->groups[g];
	const struct failover_group_mem *m = &st->failover->groups[g];
	bool all_down = gr->nservers > 0;
	enum health_state act = m->active >= 0
					? health_effective(st->health, (size_t)m->active, now_ms)
					: HEALTH_UNKNOWN;

	*out = (struct status_group_view){.active = m->active, .switch_ms = m->last_switch_ms};
	out->preferred = gr->nservers > 0 ? gr->servers[0] : 0;
	for (size_t i = 0; i < gr->nservers; i++) {
		enum health_state hs = health_effective(st->health, gr->servers[i], now_ms);

		if (hs != HEALTH_DOWN)
			all_down = false;
	}
	for (size_t k = 0; m->hand_changed != NULL && k < m->nzones * m->nrecords; k++)
		out->nhand += m->hand_changed[k];
	out->all_down = all_down;
	out->active_down = act == HEALTH_DOWN;
	out->isolated = st->failover->isolated;
	out->quorum_lost = status_view_quorum_lost(cfg, st);
	out->failed_over =
		m->active >= 0 && gr->nservers > 0 && (size_t)m->active != out->preferred;
	if (all_down)
		out->verdict = STATUS_VERDICT_ALL_DOWN;
	else if (out->isolated)
		out->verdict = STATUS_VERDICT_ISOLATED;
	else if (out->quorum_lost)
		out->verdict = STATUS_VERDICT_QUORUM_LOST;
	else if (out->active_down)
		out->verdict = STATUS_VERDICT_ACTIVE_DOWN;
	else if (out->failed_over)
		out->verdict = STATUS_VERDICT_FAILED_OVER;
	else if (out->nhand > 0)
		out->verdict = STATUS_VERDICT_HAND;
	else if (m->active < 0 || act == HEALTH_UNKNOWN)
		out->verdict = STATUS_VERDICT_WAITING;
	else
		out->verdict = STATUS_VERDICT_OK;
}

enum status_verdict
status_view_worst(const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	enum status_verdict worst = STATUS_VERDICT_OK;

	for (size_t g = 0; g < cfg->ngroups; g++) {
		struct status_group_view v;

		status_view_group(cfg, st, g, now_ms, &v);
		if (v.verdict > worst)
			worst = v.verdict;
	}
	if (st->failover->isolated && worst < STATUS_VERDICT_ISOLATED)
		worst = STATUS_VERDICT_ISOLATED;
	if (status_view_quorum_lost(cfg, st) && worst < STATUS_VERDICT_QUORUM_LOST)
		worst = STATUS_VERDICT_QUORUM_LOST;
	return worst;
}

const char *
status_verdict_id(enum status_verdict v)
{
	switch (v) {
	case STATUS_VERDICT_OK: return "ok";
	case STATUS_VERDICT_WAITING: return "waiting";
	case STATUS_VERDICT_HAND: return "hand_changed";
	case STATUS_VERDICT_FAILED_OVER: return "failed_over";
	case STATUS_VERDICT_ACTIVE_DOWN: return "active_down";
	case STATUS_VERDICT_QUORUM_LOST: return "quorum_lost";
	case STATUS_VERDICT_ISOLATED: return "isolated";
	case STATUS_VERDICT_ALL_DOWN: return "all_down";
	}
	return "ok";
}

const char *
status_verdict_words(enum status_verdict v)
{
	switch (v) {
	case STATUS_VERDICT_OK: return "OK";
	case STATUS_VERDICT_WAITING: return "waiting for the first checks";
	case STATUS_VERDICT_HAND: return "record changed by hand";
	case STATUS_VERDICT_FAILED_OVER: return "FAILED OVER";
	case STATUS_VERDICT_ACTIVE_DOWN: return "ACTIVE SERVER DOWN";
	case STATUS_VERDICT_QUORUM_LOST: return "QUORUM LOST";
	case STATUS_VERDICT_ISOLATED: return "ISOLATED";
	case STATUS_VERDICT_ALL_DOWN: return "EVERY SERVER DOWN";
	}
	return "OK";
}

uint64_t
status_view_isolated_since(const struct state *st)
{
	for (size_t i = state_event_count(st); st->failover->isolated && i-- > 0;) {
		const struct state_event *e = state_event_get(st, i);

		if (e->type == FAILOVER_EV_ISOLATED)
			return e->at_ms;
		if (e->type == FAILOVER_EV_ISOLATION_OVER)
			break;
	}
	return 0;
}

bool
status_view_quorum_lost(const struct config *cfg, const struct state *st)
{
	return cfg->quorum.enabled && json_is_object(st->quorum) &&
	       !json_is_true(json_object_get(st->quorum, "have"));
}

uint64_t
status_view_quorum_lost_since(const struct config *cfg, const struct state *st)
{
	for (size_t i = state_event_count(st); status_view_quorum_lost(cfg, st) && i-- > 0;) {
		const struct state_event *e = state_event_get(st, i);

		if (e->type == FAILOVER_EV_QUORUM_LOST)
			return e->at_ms;
		if (e->type == FAILOVER_EV_QUORUM_BACK)
			break;
	}
	return 0;
}

bool
status_view_witness_down(const struct state *st, size_t i)
{
	return st->witness != NULL && i < st->nwitness && st->witness[i].seen && !st->witness[i].up;
}

void
status_html(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_printf(b, "&amp;"); break;
		case '<': buf_printf(b, "&lt;"); break;
		case '>': buf_printf(b, "&gt;"); break;
		case '"': buf_printf(b, "&quot;"); break;
		default: buf_append(b, s, 1); break;
		}
	}
}

void
status_label(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_printf(b, "\\n");
		else
			buf_append(b, s, 1);
	}
}

char *
status_rfc3339(uint64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "%s", "");
	return out;
}

char *
status_when(uint64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, size, "%s", "never");
	return out;
}

char *
status_when_s(uint64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, size, "%s", "never");
	return out;
}

char *
status_duration(uint64_t ms, char *out, size_t size)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(out, size, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(out, size, "%llum", (unsigned long long)(s / 60));
	else if (s < 86400)
		snprintf(out, size, "%lluh %02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(out, size, "%llud %lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	return out;
}
