/*
 * health.c -- the rise/fall state machine of checks and servers; see
 * health.h for the rules.  No clocks, no I/O, no logging: time comes in as
 * an argument and changes go out through the change queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "mxf.h"
#include "value.h"

/* Names in the order of each enum (health.h); the assertion keeps the
 * counts in step when a value is added. */
static const char *const health_state_names[] = { "unknown", "up", "down" };
static const char *const health_outcome_names[] = { "ok", "warning", "failed" };
static const char *const health_pin_names[] = { "none", "down", "up" };
static const char *const health_change_kind_names[] = { "check", "server", "pin" };

_Static_assert(MXF_ARRAY_SIZE(health_state_names) == HEALTH_DOWN + 1 &&
		       MXF_ARRAY_SIZE(health_outcome_names) == HEALTH_FAIL + 1 &&
		       MXF_ARRAY_SIZE(health_pin_names) == HEALTH_PIN_UP + 1 &&
		       MXF_ARRAY_SIZE(health_change_kind_names) == HEALTH_CHANGE_PIN + 1,
	       "one name per value");

const char *health_state_name(enum health_state s)
{
	return (unsigned)s < MXF_ARRAY_SIZE(health_state_names) ? health_state_names[s] : "?";
}

const char *health_outcome_name(enum health_outcome o)
{
	return (unsigned)o < MXF_ARRAY_SIZE(health_outcome_names) ? health_outcome_names[o] : "?";
}

const char *health_pin_name(enum health_pin p)
{
	return (unsigned)p < MXF_ARRAY_SIZE(health_pin_names) ? health_pin_names[p] : "?";
}

const char *health_change_kind_name(enum health_change_kind k)
{
	return (unsigned)k < MXF_ARRAY_SIZE(health_change_kind_names) ? health_change_kind_names[k]
									: "?";
}

static int health_lookup(const char *const *names, size_t n, const char *s, int *out)
{
	if (!s)
		return MXF_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (names[i] && strcmp(names[i], s) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return MXF_EINVAL;
}

int health_state_parse(const char *s, enum health_state *out)
{
	int v;
	int e = health_lookup(health_state_names, MXF_ARRAY_SIZE(health_state_names), s, &v);
	if (e == 0)
		*out = (enum health_state)v;
	return e;
}

int health_outcome_parse(const char *s, enum health_outcome *out)
{
	int v;
	int e = health_lookup(health_outcome_names, MXF_ARRAY_SIZE(health_outcome_names), s, &v);
	if (e == 0)
		*out = (enum health_outcome)v;
	return e;
}

int health_pin_parse(const char *s, enum health_pin *out)
{
	int v;
	int e = health_lookup(health_pin_names, MXF_ARRAY_SIZE(health_pin_names), s, &v);
	if (e == 0)
		*out = (enum health_pin)v;
	return e;
}

int health_new(const struct config *cfg, struct health **out)
{
	struct health *h = calloc(1, sizeof(*h));
	if (!h)
		return MXF_ENOMEM;
	h->fall = cfg->general.fall ? cfg->general.fall : 1;
	h->rise = cfg->general.rise ? cfg->general.rise : 1;
	h->nservers = cfg->nservers;
	if (cfg->nservers) {
		h->servers = calloc(cfg->nservers, sizeof(*h->servers));
		if (!h->servers)
			goto fail;
	}
	for (size_t i = 0; i < cfg->nservers; i++) {
		struct health_server *s = &h->servers[i];
		const struct config_server *cs = &cfg->servers[i];
		s->state = HEALTH_UNKNOWN;
		if (cs->nchecks == 0)
			continue;
		s->checks = calloc(cs->nchecks, sizeof(*s->checks));
		if (!s->checks)
			goto fail;
		s->nchecks = cs->nchecks;
		for (size_t c = 0; c < cs->nchecks; c++) {
			s->checks[c].label = strdup(cs->checks[c] ? cs->checks[c] : "");
			if (!s->checks[c].label)
				goto fail;
		}
	}
	*out = h;
	return 0;
fail:
	health_free(h);
	return MXF_ENOMEM;
}

void health_free(struct health *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nservers; i++) {
		for (size_t c = 0; c < h->servers[i].nchecks; c++)
			free(h->servers[i].checks[c].label);
		free(h->servers[i].checks);
	}
	free(h->servers);
	free(h->queue);
	free(h);
}

static bool health_pin_active(const struct health_server *s, uint64_t now_ms)
{
	return s->pin != HEALTH_PIN_NONE && (s->pin_until_ms == 0 || now_ms < s->pin_until_ms);
}

/* The effective state under @pin, expiry not considered. */
static enum health_state health_pin_state(enum health_pin pin, enum health_state checked)
{
	if (pin == HEALTH_PIN_DOWN)
		return HEALTH_DOWN;
	if (pin == HEALTH_PIN_UP)
		return HEALTH_UP;
	return checked;
}

static enum health_state health_eff(const struct health_server *s, uint64_t now_ms)
{
	if (health_pin_active(s, now_ms))
		return s->pin == HEALTH_PIN_DOWN ? HEALTH_DOWN : HEALTH_UP;
	return s->state;
}

enum health_state health_effective(const struct health *h, size_t server, uint64_t now_ms)
{
	if (!h || server >= h->nservers)
		return HEALTH_UNKNOWN;
	return health_eff(&h->servers[server], now_ms);
}

enum health_pin health_pinned(const struct health *h, size_t server, uint64_t now_ms)
{
	if (!h || server >= h->nservers || !health_pin_active(&h->servers[server], now_ms))
		return HEALTH_PIN_NONE;
	return h->servers[server].pin;
}

static int health_queue_push(struct health *h, const struct health_change *c)
{
	if (h->qlen == 0)
		h->qhead = 0;
	if (h->qhead + h->qlen == h->qcap) {
		if (h->qhead > 0) {
			memmove(h->queue, h->queue + h->qhead, h->qlen * sizeof(*h->queue));
			h->qhead = 0;
		} else {
			size_t ncap = h->qcap ? h->qcap * 2 : 16;
			struct health_change *nq = realloc(h->queue, ncap * sizeof(*nq));
			if (!nq)
				return MXF_ENOMEM;
			h->queue = nq;
			h->qcap = ncap;
		}
	}
	h->queue[h->qhead + h->qlen++] = *c;
	return 0;
}

bool health_next_change(struct health *h, struct health_change *out)
{
	if (!h || h->qlen == 0)
		return false;
	*out = h->queue[h->qhead++];
	h->qlen--;
	return true;
}

/*
 * The one place a state changes.  @check >= 0: the check's state becomes
 * @state.  @check == -1 with kind SERVER: the server's checked state becomes
 * @state.  Kind PIN: the pin becomes @pin/@until (state unused).  The change
 * is queued before anything is modified, so a failed allocation leaves the
 * machine as it was.
 */
static int health_enter_state(struct health *h, enum health_change_kind kind, size_t server,
			      long check, enum health_state state, enum health_pin pin,
			      uint64_t until_ms, uint64_t now_ms, const char *reason)
{
	struct health_server *s = &h->servers[server];
	struct health_change c = {
		.kind = kind,
		.server = server,
		.check = check,
		.raw_from = s->state,
		.raw_to = s->state,
		.pin = s->pin,
		.at_ms = now_ms,
	};
	/* Cut on a character boundary: a torn character is invalid UTF-8,
	 * which the state file and /api/status (JSON) cannot carry. */
	if (reason == NULL)
		reason = "";
	value_utf8_clean(c.reason, sizeof(c.reason), reason, strlen(reason));

	switch (kind) {
	case HEALTH_CHANGE_CHECK:
		c.from = s->checks[check].state;
		c.to = state;
		break;
	case HEALTH_CHANGE_SERVER: {
		struct health_server before = *s, after = *s;
		/* Leaving the UNKNOWN of a forgotten state file: the change is
		 * from what the file said, so that finding it again is no news. */
		if (s->state == HEALTH_UNKNOWN && s->forgotten != HEALTH_UNKNOWN)
			before.state = s->forgotten;
		after.state = state;
		c.from = health_eff(&before, now_ms);
		c.to = health_eff(&after, now_ms);
		c.raw_to = state;
		break;
	}
	case HEALTH_CHANGE_PIN:
		/* The pin being replaced counts as in force up to this moment,
		 * so an expiry reads "pinned state -> checked state". */
		c.from = health_pin_state(s->pin, s->state);
		c.to = health_pin_state(pin, s->state);
		c.pin = pin;
		break;
	}
	int e = health_queue_push(h, &c);
	if (e)
		return e;

	switch (kind) {
	case HEALTH_CHANGE_CHECK:
		s->checks[check].state = state;
		s->checks[check].since_ms = now_ms;
		break;
	case HEALTH_CHANGE_SERVER:
		s->state = state;
		s->forgotten = HEALTH_UNKNOWN;
		s->since_ms = now_ms;
		snprintf(s->reason, sizeof(s->reason), "%s", c.reason);
		break;
	case HEALTH_CHANGE_PIN:
		s->pin = pin;
		s->pin_until_ms = pin == HEALTH_PIN_NONE ? 0 : until_ms;
		break;
	}
	return 1;
}

static void health_count(unsigned *good_run, unsigned *bad_run, bool good)
{
	if (good) {
		*bad_run = 0;
		if (*good_run < UINT32_MAX)
			(*good_run)++;
	} else {
		*good_run = 0;
		if (*bad_run < UINT32_MAX)
			(*bad_run)++;
	}
}

/* The state the counters call for, or @cur when they call for no change. */
static enum health_state health_next_state(const struct health *h, enum health_state cur,
					   unsigned good_run, unsigned bad_run)
{
	switch (cur) {
	case HEALTH_UNKNOWN:
		/* Nothing is known: the full count either way (health.h). */
		if (good_run >= h->rise)
			return HEALTH_UP;
		return bad_run >= h->fall ? HEALTH_DOWN : HEALTH_UNKNOWN;
	case HEALTH_UP:
		return bad_run >= h->fall ? HEALTH_DOWN : HEALTH_UP;
	case HEALTH_DOWN:
		return good_run >= h->rise ? HEALTH_UP : HEALTH_DOWN;
	}
	return cur;
}

/*
 * One round of one server.  @isolated: every witness failed this round, so
 * a failure is no evidence (health.h): it clears both streaks and changes
 * no state; a pass counts as always.
 */
static int health_feed_round(struct health *h, size_t server, const struct health_result *res,
			     size_t nres, uint64_t now_ms, bool isolated)
{
	if (!h || server >= h->nservers)
		return MXF_EINVAL;
	struct health_server *s = &h->servers[server];
	if (nres != s->nchecks || (nres && !res))
		return MXF_EINVAL;
	for (size_t c = 0; c < nres; c++) {
		if ((unsigned)res[c].outcome > HEALTH_FAIL)
			return MXF_EINVAL;
	}

	int changes = 0;
	long first_bad = -1;
	for (size_t c = 0; c < nres; c++) {
		struct health_check *ck = &s->checks[c];
		bool good = res[c].outcome != HEALTH_FAIL;
		if (!good && first_bad < 0)
			first_bad = (long)c;
		ck->seen = true;
		ck->last = res[c].outcome;
		ck->last_ms = now_ms;
		const char *r = res[c].reason ? res[c].reason : "";
		value_utf8_clean(ck->reason, sizeof(ck->reason), r, strlen(r));
		if (!good && isolated) {
			ck->good_run = ck->bad_run = 0;
			continue;
		}
		health_count(&ck->good_run, &ck->bad_run, good);
		enum health_state next = health_next_state(h, ck->state, ck->good_run, ck->bad_run);
		if (next != ck->state) {
			int e = health_enter_state(h, HEALTH_CHANGE_CHECK, server, (long)c, next,
						   HEALTH_PIN_NONE, 0, now_ms, ck->reason);
			if (e < 0)
				return e;
			changes += e;
		}
	}

	if (first_bad >= 0 && isolated) {
		s->good_run = s->bad_run = 0;
		return changes;
	}
	health_count(&s->good_run, &s->bad_run, first_bad < 0);
	enum health_state next = health_next_state(h, s->state, s->good_run, s->bad_run);
	if (next != s->state) {
		/* Room for a label and a reason; enter_state truncates. */
		char why[3 * HEALTH_REASON_MAX];
		if (next == HEALTH_DOWN) {
			const struct health_check *ck = &s->checks[first_bad];
			snprintf(why, sizeof(why), "%s: %s (%u failed round%s)", ck->label,
				 ck->reason[0] ? ck->reason : "failed", s->bad_run,
				 s->bad_run == 1 ? "" : "s");
		} else if (s->nchecks == 1) {
			snprintf(why, sizeof(why), "the check passed %u round%s in a row", s->good_run,
				 s->good_run == 1 ? "" : "s");
		} else {
			snprintf(why, sizeof(why), "all %zu checks passed %u round%s in a row",
				 s->nchecks, s->good_run, s->good_run == 1 ? "" : "s");
		}
		int e = health_enter_state(h, HEALTH_CHANGE_SERVER, server, -1, next,
					   HEALTH_PIN_NONE, 0, now_ms, why);
		if (e < 0)
			return e;
		changes += e;
	}
	return changes;
}

int health_feed(struct health *h, size_t server, const struct health_result *res, size_t nres,
		uint64_t now_ms)
{
	return health_feed_round(h, server, res, nres, now_ms, false);
}

int health_feed_isolated(struct health *h, size_t server, const struct health_result *res,
			 size_t nres, uint64_t now_ms)
{
	return health_feed_round(h, server, res, nres, now_ms, true);
}

void health_note_facts(struct health *h, size_t server, size_t check, uint64_t elapsed_ms,
		       int64_t cert_expiry_s)
{
	if (server >= h->nservers || check >= h->servers[server].nchecks)
		return;
	h->servers[server].checks[check].elapsed_ms = elapsed_ms;
	h->servers[server].checks[check].cert_expiry_s = cert_expiry_s;
}

void health_forget(struct health *h, const char *reason)
{
	for (size_t i = 0; h && i < h->nservers; i++) {
		struct health_server *s = &h->servers[i];
		if (s->state != HEALTH_UNKNOWN)
			s->forgotten = s->state;
		s->state = HEALTH_UNKNOWN;
		s->good_run = s->bad_run = 0;
		if (reason)
			snprintf(s->reason, sizeof(s->reason), "%s", reason);
		for (size_t c = 0; c < s->nchecks; c++) {
			s->checks[c].state = HEALTH_UNKNOWN;
			s->checks[c].good_run = s->checks[c].bad_run = 0;
		}
	}
}

int health_set_pin(struct health *h, size_t server, enum health_pin pin, uint64_t until_ms,
		   uint64_t now_ms, const char *reason)
{
	if (!h || server >= h->nservers || (unsigned)pin > HEALTH_PIN_UP)
		return MXF_EINVAL;
	struct health_server *s = &h->servers[server];
	if (pin == HEALTH_PIN_NONE)
		until_ms = 0;
	else if (until_ms != 0 && until_ms <= now_ms)
		return MXF_EINVAL;
	if (s->pin == pin && s->pin_until_ms == until_ms)
		return 0;
	char why[HEALTH_REASON_MAX];
	if (reason)
		value_utf8_clean(why, sizeof(why), reason, strlen(reason));
	else if (pin == HEALTH_PIN_NONE)
		snprintf(why, sizeof(why), "unpinned by operator");
	else
		snprintf(why, sizeof(why), "pinned %s by operator", health_pin_name(pin));
	return health_enter_state(h, HEALTH_CHANGE_PIN, server, -1, s->state, pin, until_ms, now_ms,
				  why);
}

int health_expire_pins(struct health *h, uint64_t now_ms)
{
	int n = 0;
	for (size_t i = 0; h && i < h->nservers; i++) {
		struct health_server *s = &h->servers[i];
		if (s->pin == HEALTH_PIN_NONE || s->pin_until_ms == 0 || now_ms < s->pin_until_ms)
			continue;
		char why[HEALTH_REASON_MAX];
		snprintf(why, sizeof(why), "pin %s expired", health_pin_name(s->pin));
		int e = health_enter_state(h, HEALTH_CHANGE_PIN, i, -1, s->state, HEALTH_PIN_NONE, 0,
					   now_ms, why);
		if (e < 0)
			return e;
		n++;
	}
	return n;
}
