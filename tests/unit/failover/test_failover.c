/*
 * test_failover.c -- failover decisions with simulated time and a simulated
 * DNS: each step feeds one round of check results, plans every group,
 * applies the changes to the table the way an UPDATE would, and commits.
 * Covers failover and failback, start-up without state, flapping,
 * hold_down, every server down, isolation, pins, manual failback, records
 * changed by hand or absent, a zone that cannot be read, failed updates
 * (the backoff of a zone, SWITCH_FAILED and read failures once per
 * streak), and the CNAME/A/AAAA/MX value mapping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"

#define T0 1700000000000ULL
#define IVL 10000ULL
#define MIN 60000ULL
#define NZ 2
#define NR 3
#define NV 3

struct sim {
	struct config *cfg;
	struct health *h;
	struct failover *fo;
	struct failover_events ev;
	struct failover_plan *plan;   /* of group 0, from the last step */
	enum failover_witness witness;
	uint64_t now;
	/* DNS: [zone][record] -> status and values. */
	enum failover_rec_status st[NZ][NR];
	char *val[NZ][NR][NV];
	size_t nval[NZ][NR];
	int update_result[NZ];        /* what the next UPDATE of a zone returns */
	int updates[NZ];              /* UPDATE messages applied per zone */
};

#define CONF_FMT "[general]\n" \
			      "fall = %u\n" \
			      "rise = %u\n" \
			      "log = stderr\n" \
			      "[dns]\n" \
			      "server = 127.0.0.1\n" \
			      "[server mx1]\n" \
			      "address = %s\n" \
			      "name = mx1.example.com.\n" \
			      "checks = smtp\n" \
			      "[server mx2]\n" \
			      "address = %s\n" \
			      "name = mx2.example.com.\n" \
			      "checks = smtp\n" \
			      "[server mx3]\n" \
			      "address = %s\n" \
			      "name = mx3.example.com.\n" \
			      "checks = smtp\n" \
			      "[group mail]\n" \
			      "servers = mx1 mx2%s\n" \
			      "zones = example.com example.net\n" \
			      "records = mx smtp %s\n" \
			      "type = %s\n" \
			      "failback = %s\n" \
			      "hold_down = %s\n"

struct opts {
	unsigned fall, rise;
	const char *type, *failback, *hold;
	bool three;  /* mx3 in the group too */
	bool v6;
};

static void sim_set(struct sim *s, size_t z, size_t r, const char *a, const char *b)
{
	for (size_t i = 0; i < s->nval[z][r]; i++)
		free(s->val[z][r][i]);
	s->nval[z][r] = 0;
	s->st[z][r] = a ? FAILOVER_REC_PRESENT : FAILOVER_REC_ABSENT;
	if (a)
		s->val[z][r][s->nval[z][r]++] = strdup(a);
	if (b)
		s->val[z][r][s->nval[z][r]++] = strdup(b);
}

static struct sim *sim_new(const struct opts *o)
{
	char text[2048];
	snprintf(text, sizeof(text), CONF_FMT, o->fall, o->rise, o->v6 ? "2001:db8::10" : "192.0.2.10",
		 o->v6 ? "2001:db8::11" : "192.0.2.11", o->v6 ? "2001:db8::12" : "192.0.2.12",
		 o->three ? " mx3" : "", strcmp(o->type, "CNAME") ? "@" : "imap", o->type, o->failback, o->hold);
	struct sim *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	struct config_errors errs = { 0 };
	int e = config_load_string("t.conf", text, &s->cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
	config_errors_free(&errs);
	assert_int_equal(e, 0);
	assert_int_equal(health_new(s->cfg, &s->h), 0);
	assert_int_equal(failover_new(s->cfg, &s->fo), 0);
	s->now = T0;
	s->witness = FAILOVER_WITNESS_NONE;
	/* Every record points at mx1, as a healthy start would have it. */
	for (size_t z = 0; z < NZ; z++) {
		for (size_t r = 0; r < NR; r++) {
			if (strcmp(o->type, "CNAME") == 0)
				sim_set(s, z, r, "mx1.example.com.", NULL);
			else if (strcmp(o->type, "MX") == 0)
				sim_set(s, z, r, "10 mx1.example.com.", "20 backup.example.org.");
			else
				sim_set(s, z, r, o->v6 ? "2001:db8::10" : "192.0.2.10", NULL);
		}
	}
	return s;
}

static struct sim *sim_default(void)
{
	struct opts o = { 1, 1, "CNAME", "auto", "5m", false, false };
	return sim_new(&o);
}

static void sim_free(struct sim *s)
{
	for (size_t z = 0; z < NZ; z++)
		for (size_t r = 0; r < NR; r++)
			for (size_t i = 0; i < s->nval[z][r]; i++)
				free(s->val[z][r][i]);
	failover_plan_free(s->plan);
	failover_events_free(&s->ev);
	failover_free(s->fo);
	health_free(s->h);
	config_free(s->cfg);
	free(s);
}

/* One round of checks: up[i] for server i (1 good, 0 failed, -1 none). */
static void sim_checks(struct sim *s, int up1, int up2, int up3)
{
	int up[3] = { up1, up2, up3 };
	for (size_t i = 0; i < 3; i++) {
		if (up[i] < 0)
			continue;
		struct health_result r = { up[i] ? HEALTH_OK : HEALTH_FAIL,
					   up[i] ? "250 ok" : "connection refused" };
		assert_true(health_feed(s->h, i, &r, 1, s->now) >= 0);
	}
}

static struct failover_dns *sim_view(struct sim *s)
{
	struct failover_dns *d;
	assert_int_equal(failover_dns_new(s->cfg, 0, &d), 0);
	for (size_t z = 0; z < NZ; z++) {
		for (size_t r = 0; r < NR; r++) {
			assert_int_equal(failover_dns_set(d, z, r, s->st[z][r],
							  (const char *const *)s->val[z][r],
							  s->nval[z][r], 300, "timed out"),
					 0);
		}
	}
	return d;
}

/* One round after the checks: decide, "send" the updates, commit. */
static enum failover_verdict sim_step(struct sim *s)
{
	failover_events_clear(&s->ev);
	assert_true(health_expire_pins(s->h, s->now) >= 0);
	struct health_change c;
	while (health_next_change(s->h, &c))
		assert_true(failover_event_from_health(s->cfg, &c, &s->ev) >= 0);
	assert_true(failover_set_witness(s->fo, s->witness, s->now, &s->ev) >= 0);

	struct failover_dns *d = sim_view(s);
	failover_plan_free(s->plan);
	s->plan = NULL;
	assert_int_equal(failover_plan(s->fo, s->cfg, 0, s->h, d, s->now, &s->plan), 0);
	int status[NZ];
	for (size_t z = 0; z < NZ; z++) {
		const struct failover_zone_plan *zp = &s->plan->zones[z];
		status[z] = 0;
		if (!zp->nchanges)
			continue;
		status[z] = s->update_result[z];
		if (status[z] != 0)
			continue;
		s->updates[z]++;
		for (size_t r = 0; r < zp->nrecs; r++) {
			const struct failover_record_plan *rp = &zp->recs[r];
			if (rp->verdict != FAILOVER_R_CHANGE)
				continue;
			sim_set(s, z, r, rp->new_values[0], rp->nnew > 1 ? rp->new_values[1] : NULL);
		}
	}
	assert_true(failover_commit(s->fo, s->cfg, s->plan, status, s->now, s->now, &s->ev,
				     NULL) >= 0);
	failover_dns_free(d);
	return s->plan->verdict;
}

static size_t sim_count(const struct sim *s, enum failover_event_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < s->ev.n; i++)
		n += s->ev.v[i].type == t;
	return n;
}

/* Every present record of both zones holds @value as its first value. */
static void assert_all(const struct sim *s, const char *value)
{
	for (size_t z = 0; z < NZ; z++)
		for (size_t r = 0; r < NR; r++)
			if (s->st[z][r] == FAILOVER_REC_PRESENT)
				assert_string_equal(s->val[z][r][0], value);
}

/* A round: checks, then the step, then time moves on. */
static enum failover_verdict sim_round(struct sim *s, int up1, int up2, int up3)
{
	sim_checks(s, up1, up2, up3);
	enum failover_verdict v = sim_step(s);
	s->now += IVL;
	return v;
}

/* ---- tests ----------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(failover_event_name(FAILOVER_EV_ALL_DOWN), "all down");
	assert_string_equal(failover_event_id(FAILOVER_EV_ISOLATION_OVER), "isolation_over");
	enum failover_event_type t;
	assert_int_equal(failover_event_parse("changed_by_hand", &t), 0);
	assert_int_equal(t, FAILOVER_EV_CHANGED_BY_HAND);
	assert_int_equal(failover_event_parse("nonsense", &t), MXF_EINVAL);
	/* Every type's id reads back as that type (the state file stores ids). */
	for (unsigned i = 0; i <= FAILOVER_EV_QUORUM_BACK; i++) {
		assert_string_not_equal(failover_event_name((enum failover_event_type)i), "?");
		assert_int_equal(
			failover_event_parse(failover_event_id((enum failover_event_type)i), &t),
			0);
		assert_int_equal(t, i);
	}
	assert_string_equal(failover_event_name(FAILOVER_EV_QUORUM_LOST), "quorum lost");
	assert_string_equal(failover_event_id(FAILOVER_EV_QUORUM_LOST), "quorum_lost");
	assert_string_equal(failover_event_name(FAILOVER_EV_QUORUM_BACK), "quorum back");
	assert_string_equal(failover_event_id(FAILOVER_EV_QUORUM_BACK), "quorum_back");
	assert_int_equal(failover_event_parse("quorum_back", &t), 0);
	assert_int_equal(t, FAILOVER_EV_QUORUM_BACK);
	assert_string_equal(
		failover_event_id((enum failover_event_type)(FAILOVER_EV_QUORUM_BACK + 1)), "?");
	assert_string_equal(failover_verdict_name(FAILOVER_HELD), "held down");
	char *o = failover_owner_name("example.com.", "@");
	assert_string_equal(o, "example.com.");
	free(o);
	o = failover_owner_name("example.com.", "smtp");
	assert_string_equal(o, "smtp.example.com.");
	free(o);
}

static void test_startup_without_state(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	/* No round yet: nothing is known, nothing may change. */
	assert_int_equal(sim_step(s), FAILOVER_WAITING);
	assert_int_equal(s->plan->nchanges, 0);
	assert_int_equal(s->ev.n, 0);
	/* First round: mx1 failed once (fall 1 -> DOWN), mx2 never answered. */
	sim_checks(s, 0, -1, -1);
	assert_int_equal(sim_step(s), FAILOVER_WAITING);
	assert_int_equal(s->plan->waiting_for, 1);
	assert_int_equal(s->plan->nchanges, 0);
	assert_all(s, "mx1.example.com.");
	assert_int_equal(s->updates[0] + s->updates[1], 0);
	/* The current server was learnt from DNS without any event. */
	assert_int_equal(s->fo->groups[0].active, 0);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 0);
	/* Now mx2 is known UP: the switch happens. */
	sim_checks(s, 0, 1, -1);
	assert_int_equal(sim_step(s), FAILOVER_CHANGE);
	assert_all(s, "mx2.example.com.");
	sim_free(s);
}

static void test_startup_healthy_no_flip(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	/* Records at mx1, everything healthy at the first round: no update. */
	assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_NO_CHANGE);
	assert_int_equal(s->updates[0] + s->updates[1], 0);
	assert_int_equal(s->ev.n, 0); /* UNKNOWN -> UP is not an event */
	sim_free(s);
}

static void test_failover_and_failback(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_round(s, 1, 1, -1);
	uint64_t t_switch = s->now;
	assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_SERVER_DOWN), 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
	/* The switch is named once: not "mx1 -> mx2 (switch mx1 -> mx2: ...)". */
	for (size_t i = 0; i < s->ev.n; i++) {
		if (s->ev.v[i].type != FAILOVER_EV_SWITCHED)
			continue;
		assert_non_null(strstr(s->ev.v[i].detail, "group mail: mx1 -> mx2 (mx1 is down"));
		assert_null(strstr(s->ev.v[i].detail, "switch mx1 -> mx2"));
	}
	assert_int_equal(s->plan->nchanges, 6);
	assert_int_equal(s->plan->zones[0].nchanges, 3);
	assert_int_equal(s->updates[0], 1); /* one UPDATE per zone */
	assert_int_equal(s->updates[1], 1);
	assert_all(s, "mx2.example.com.");
	assert_int_equal(s->fo->groups[0].active, 1);
	assert_int_equal(s->fo->groups[0].last_switch_ms, t_switch);
	/* Following rounds: nothing, no repeated events. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_NO_CHANGE);
		assert_int_equal(s->ev.n, 0);
	}
	/* mx1 back before hold_down ends: held, reported as such. */
	assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_HELD);
	assert_int_equal(sim_count(s, FAILOVER_EV_SERVER_UP), 1);
	assert_int_equal(s->plan->held_until_ms, t_switch + 5 * MIN);
	assert_int_equal(s->plan->preferred, 0);
	assert_int_equal(s->plan->wanted, 1);
	assert_non_null(strstr(s->plan->why, "held down until"));
	assert_all(s, "mx2.example.com.");
	/* After hold_down: back to mx1, "switched back" once. */
	s->now = t_switch + 5 * MIN;
	assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED_BACK), 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 0);
	assert_all(s, "mx1.example.com.");
	assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_NO_CHANGE);
	assert_int_equal(s->ev.n, 0);
	sim_free(s);
}

static void test_flapping_rise(void **state)
{
	(void)state;
	struct opts o = { 1, 3, "CNAME", "auto", "0", false, false };
	struct sim *s = sim_new(&o);
	/* From UNKNOWN a server needs the full rise (3) to be UP. */
	for (int i = 0; i < 3; i++)
		sim_round(s, 1, 1, -1);
	sim_round(s, 0, 1, -1);
	assert_all(s, "mx2.example.com.");
	int switches = 0;
	/* mx1 alternates: it never reaches rise 3, DNS never flips back. */
	for (int i = 0; i < 40; i++) {
		sim_round(s, i % 2, 1, -1);
		switches += (int)(sim_count(s, FAILOVER_EV_SWITCHED) +
				  sim_count(s, FAILOVER_EV_SWITCHED_BACK));
		assert_int_equal(sim_count(s, FAILOVER_EV_SERVER_UP), 0);
	}
	assert_int_equal(switches, 0);
	assert_all(s, "mx2.example.com.");
	assert_int_equal(s->updates[0], 1);
	sim_free(s);
}

static void test_hold_down_stops_second_switch(void **state)
{
	(void)state;
	/* fall 1, rise 1: the server itself does not damp the flapping, only
	 * hold_down does. */
	struct sim *s = sim_default();
	sim_round(s, 1, 1, -1);
	uint64_t t_switch = s->now;
	sim_round(s, 0, 1, -1);
	int updates = s->updates[0];
	for (int i = 0; s->now < t_switch + 5 * MIN - IVL; i++) {
		enum failover_verdict v = sim_round(s, i % 2, 1, -1);
		assert_true(v == FAILOVER_HELD || v == FAILOVER_NO_CHANGE);
		assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED_BACK), 0);
	}
	assert_int_equal(s->updates[0], updates);
	assert_all(s, "mx2.example.com.");
	sim_free(s);
}

static void test_hold_down_clock_went_back(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_round(s, 1, 1, -1);
	sim_round(s, 0, 1, -1);
	assert_all(s, "mx2.example.com.");
	/* The wall clock jumped back an hour: hold_down must not last an
	 * hour and five minutes. */
	s->now -= 60 * MIN;
	assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_CHANGE);
	assert_all(s, "mx1.example.com.");
	sim_free(s);
}

static void test_hold_down_never_keeps_dead_server(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_round(s, 1, 1, -1);
	sim_round(s, 0, 1, -1);
	sim_round(s, 1, 1, -1); /* held: mx1 back within hold_down */
	assert_all(s, "mx2.example.com.");
	/* mx2 dies within hold_down while mx1 is up: leave mx2 at once. */
	assert_int_equal(sim_round(s, 1, 0, -1), FAILOVER_CHANGE);
	assert_all(s, "mx1.example.com.");
	sim_free(s);
}

static void test_all_down(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_round(s, 1, 1, -1);
	assert_int_equal(sim_round(s, 0, 0, -1), FAILOVER_ALL_DOWN);
	assert_int_equal(sim_count(s, FAILOVER_EV_ALL_DOWN), 1);
	assert_int_equal(s->plan->nchanges, 0);
	assert_all(s, "mx1.example.com.");
	/* Records stay, the alert is not repeated. */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(sim_round(s, 0, 0, -1), FAILOVER_ALL_DOWN);
		assert_int_equal(s->ev.n, 0);
	}
	assert_int_equal(s->updates[0] + s->updates[1], 0);
	/* mx2 comes back: switch there. */
	assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
	assert_false(s->fo->groups[0].all_down);
	assert_all(s, "mx2.example.com.");
	/* Down again: a new alert. */
	sim_round(s, 0, 0, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_ALL_DOWN), 1);
	assert_all(s, "mx2.example.com.");
	sim_free(s);
}

static void test_isolated(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	s->witness = FAILOVER_WITNESS_OK;
	sim_round(s, 1, 1, -1);
	assert_int_equal(s->ev.n, 0);
	/* Our network is cut: every check fails, the witnesses too. */
	s->witness = FAILOVER_WITNESS_ISOLATED;
	assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_ISOLATED);
	assert_int_equal(sim_count(s, FAILOVER_EV_ISOLATED), 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 0);
	assert_int_equal(s->plan->nchanges, 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(sim_round(s, 0, 0, -1), FAILOVER_ISOLATED);
		assert_int_equal(sim_count(s, FAILOVER_EV_ISOLATED), 0);
		assert_int_equal(sim_count(s, FAILOVER_EV_ALL_DOWN), 0);
	}
	assert_all(s, "mx1.example.com.");
	assert_int_equal(s->updates[0] + s->updates[1], 0);
	/* A witness answers again: one "isolation over", decisions resume. */
	s->witness = FAILOVER_WITNESS_OK;
	assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_ISOLATION_OVER), 1);
	assert_all(s, "mx2.example.com.");
	sim_round(s, 0, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_ISOLATION_OVER), 0);
	sim_free(s);
}

static void test_pins(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_round(s, 1, 1, -1);
	/* Pin the healthy mx1 down for 10 minutes: switch away. */
	assert_int_equal(health_set_pin(s->h, 0, HEALTH_PIN_DOWN, s->now + 10 * MIN, s->now, NULL), 1);
	uint64_t until = s->now + 10 * MIN;
	assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_SERVER_DOWN), 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
	assert_non_null(strstr(s->plan->why, "pinned down"));
	assert_all(s, "mx2.example.com.");
	/* While pinned: stays, although mx1's checks pass. */
	s->now = until - IVL;
	assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_NO_CHANGE);
	/* The pin expires (hold_down is over too): back to mx1. */
	s->now = until;
	assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_SERVER_UP), 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED_BACK), 1);
	assert_all(s, "mx1.example.com.");
	/* Pinned up: a failing mx1 keeps the records. */
	assert_int_equal(health_set_pin(s->h, 0, HEALTH_PIN_UP, 0, s->now, NULL), 1);
	assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_NO_CHANGE);
	assert_all(s, "mx1.example.com.");
	sim_free(s);
}

static void test_manual_failback(void **state)
{
	(void)state;
	struct opts o = { 1, 1, "CNAME", "manual", "0", false, false };
	struct sim *s = sim_new(&o);
	sim_round(s, 1, 1, -1);
	sim_round(s, 0, 1, -1);
	assert_all(s, "mx2.example.com.");
	/* mx1 is back, but failback is manual: stay on mx2. */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_NO_CHANGE);
		assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED_BACK), 0);
	}
	assert_non_null(strstr(s->plan->why, "manual"));
	assert_all(s, "mx2.example.com.");
	/* Told to fail back: it does, once. */
	assert_int_equal(failover_request_failback(s->fo, 0), 0);
	assert_int_equal(sim_round(s, 1, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED_BACK), 1);
	assert_false(s->fo->groups[0].failback_requested);
	assert_all(s, "mx1.example.com.");
	/* Manual failback still fails over when the current one dies. */
	sim_round(s, 0, 1, -1);
	assert_all(s, "mx2.example.com.");
	/* And to the backup of the backup, in preference order, when mx2 dies. */
	sim_round(s, 1, 0, -1);
	assert_all(s, "mx1.example.com.");
	sim_free(s);
}

static void test_hand_changed(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_set(s, 0, 1, "elsewhere.example.org.", NULL); /* smtp.example.com. */
	sim_round(s, 1, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 1);
	assert_int_equal(s->ev.v[0].zone, 0);
	assert_int_equal(s->ev.v[0].record, 1);
	assert_non_null(strstr(s->ev.v[0].detail, "smtp.example.com."));
	sim_round(s, 1, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 0); /* once */
	/* Failover: the others switch, the hand-changed one is left alone. */
	sim_round(s, 0, 1, -1);
	assert_int_equal(s->plan->zones[0].recs[1].verdict, FAILOVER_R_HAND_CHANGED);
	assert_int_equal(s->plan->nchanges, 5);
	assert_string_equal(s->val[0][1][0], "elsewhere.example.org.");
	assert_string_equal(s->val[0][0][0], "mx2.example.com.");
	assert_string_equal(s->val[1][1][0], "mx2.example.com.");
	/* Put back by hand to a group server: it is ours again. */
	sim_set(s, 0, 1, "mx1.example.com.", NULL);
	sim_round(s, 0, 1, -1);
	assert_string_equal(s->val[0][1][0], "mx2.example.com.");
	assert_false(s->fo->groups[0].hand_changed[1]);
	sim_free(s);
}

static void test_absent_never_created(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_set(s, 1, 0, NULL, NULL); /* mx.example.net. does not exist */
	sim_set(s, 1, 2, NULL, NULL); /* nor imap.example.net. */
	sim_round(s, 1, 1, -1);
	sim_round(s, 0, 1, -1);
	assert_int_equal(s->plan->zones[1].recs[0].verdict, FAILOVER_R_ABSENT);
	assert_int_equal(s->plan->zones[1].nchanges, 1);
	assert_int_equal(s->st[1][0], FAILOVER_REC_ABSENT);
	assert_int_equal(s->st[1][2], FAILOVER_REC_ABSENT);
	assert_string_equal(s->val[1][1][0], "mx2.example.com.");
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 0);
	char *text;
	assert_int_equal(failover_plan_format(s->plan, s->cfg, s->h, s->now, &text), 0);
	assert_non_null(strstr(text, "mx.example.net. CNAME: does not exist, never created"));
	free(text);
	sim_free(s);
}

static void test_read_failure_one_zone(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_round(s, 1, 1, -1);
	/* One query of example.net fails: that zone is left alone entirely. */
	s->st[1][2] = FAILOVER_REC_FAILED;
	assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_CHANGE);
	assert_true(s->plan->zones[1].read_failed);
	assert_string_equal(s->plan->zones[1].error, "timed out");
	assert_int_equal(s->plan->zones[1].nchanges, 0);
	assert_int_equal(s->plan->zones[1].recs[0].verdict, FAILOVER_R_NOT_READ);
	assert_int_equal(s->updates[1], 0);
	assert_int_equal(s->updates[0], 1);
	assert_string_equal(s->val[0][0][0], "mx2.example.com.");
	assert_string_equal(s->val[1][0][0], "mx1.example.com.");
	/* Never taken for "changed by hand". */
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 0);
	char *text;
	assert_int_equal(failover_plan_format(s->plan, s->cfg, s->h, s->now, &text), 0);
	assert_non_null(strstr(text, "example.net.: not acted on: DNS read failed: timed out"));
	free(text);
	/* It reads again: it converges. */
	s->st[1][2] = FAILOVER_REC_PRESENT;
	assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(s->plan->nchanges, 3);
	assert_all(s, "mx2.example.com.");
	sim_free(s);
}

static void test_nothing_read(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_checks(s, 0, 1, -1);
	struct failover_plan *p;
	assert_int_equal(failover_plan(s->fo, s->cfg, 0, s->h, NULL, s->now, &p), 0);
	assert_int_equal(p->wanted, 1);
	assert_int_equal(p->nchanges, 0);
	assert_true(p->zones[0].read_failed);
	/* Nothing confirmed: committing does not make mx2 active. */
	struct failover_events ev = { 0 };
	assert_int_equal(failover_commit(s->fo, s->cfg, p, NULL, s->now, s->now, &ev, NULL), 0);
	assert_int_equal(s->fo->groups[0].active, -1);
	failover_events_free(&ev);
	failover_plan_free(p);
	sim_free(s);
}

static void test_update_failure(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_round(s, 1, 1, -1);
	/* Both updates fail: no switch yet, one alert per zone. */
	s->update_result[0] = MXF_ETIMEDOUT;
	s->update_result[1] = MXF_ERCODE;
	sim_round(s, 0, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 2);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 0);
	assert_int_equal(s->fo->groups[0].active, 0);
	/* Still failing: retried, not re-reported. */
	assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 0);
	/* example.com goes through: the switch has happened. */
	s->update_result[0] = 0;
	sim_round(s, 0, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
	assert_int_equal(s->fo->groups[0].active, 1);
	assert_string_equal(s->val[0][0][0], "mx2.example.com.");
	assert_string_equal(s->val[1][0][0], "mx1.example.com.");
	/* example.net keeps being retried until it converges. */
	s->update_result[1] = 0;
	assert_int_equal(sim_round(s, 0, 1, -1), FAILOVER_CHANGE);
	assert_int_equal(s->plan->nchanges, 3);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 0);
	assert_all(s, "mx2.example.com.");
	assert_false(s->fo->groups[0].zones[1].failed);
	sim_free(s);
}

/* failover_commit() of a plan of group 0 (nothing read: no change, no
 * event) where zone 0 went as @st0 and zone 1 as @st1, the updates having
 * ended at @tried; @return the earliest next try it reports. */
static uint64_t backoff_commit(struct sim *s, int st0, int st1, uint64_t tried)
{
	struct failover_plan *p;
	struct failover_events ev = { 0 };
	int status[NZ] = { st0, st1 };
	uint64_t next = 1;
	assert_int_equal(failover_plan(s->fo, s->cfg, 0, s->h, NULL, s->now, &p), 0);
	assert_true(failover_commit(s->fo, s->cfg, p, status, s->now, tried, &ev, &next) >= 0);
	failover_events_free(&ev);
	failover_plan_free(p);
	return next;
}

/* The backoff of a zone whose updates keep failing: the interval, doubled
 * on each failure in a row up to FAILOVER_BACKOFF_MAX_MS, counted from the
 * end of the try; forgotten on the first success. */
static void test_zone_backoff(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	struct failover *fo = s->fo;
	const int NT = FAILOVER_ZONE_NOT_TRIED;
	uint64_t ivl = s->cfg->general.interval_ms, t = T0;
	assert_true(ivl > 0 && ivl < FAILOVER_BACKOFF_MAX_MS);
	assert_true(failover_zone_due(fo, 0, 1, t));
	assert_int_equal(failover_zone_next_ms(fo, 0, 1), 0);

	assert_int_equal(backoff_commit(s, 0, MXF_ETIMEDOUT, t), t + ivl);
	assert_int_equal(failover_zone_next_ms(fo, 0, 1), t + ivl);
	assert_false(failover_zone_due(fo, 0, 1, t + ivl - 1));
	assert_true(failover_zone_due(fo, 0, 1, t + ivl));
	assert_true(failover_zone_due(fo, 0, 0, t)); /* the other zone goes ahead */
	t += ivl;
	assert_int_equal(backoff_commit(s, 0, MXF_ERCODE, t), t + 2 * ivl);
	t += 2 * ivl;
	assert_int_equal(backoff_commit(s, NT, MXF_ERCODE, t), t + 4 * ivl);
	/* Not tried (still backing off, shutdown): nothing changes. */
	assert_int_equal(backoff_commit(s, NT, NT, t + 1), t + 4 * ivl);
	assert_int_equal(failover_zone_next_ms(fo, 0, 1), t + 4 * ivl);
	/* The tried time counts, not the round's: s->now stays T0. */
	assert_int_equal(s->now, T0);
	/* The wait grows to the cap and stays there. */
	uint64_t wait = 0, prev = 4 * ivl;
	for (int i = 0; i < 40; i++) {
		t += prev;
		wait = backoff_commit(s, 0, MXF_ETIMEDOUT, t) - t;
		assert_true(wait >= prev || wait == FAILOVER_BACKOFF_MAX_MS);
		assert_true(wait <= FAILOVER_BACKOFF_MAX_MS);
		prev = wait;
	}
	assert_int_equal(wait, FAILOVER_BACKOFF_MAX_MS);
	/* The earliest of the zones is reported. */
	assert_int_equal(backoff_commit(s, MXF_EIO, NT, t), t + ivl);
	assert_int_equal(failover_zone_next_ms(fo, 0, 1), t + FAILOVER_BACKOFF_MAX_MS);
	/* A success forgets it all: the next failure waits one interval. */
	assert_int_equal(backoff_commit(s, 0, 0, t), 0);
	assert_true(failover_zone_due(fo, 0, 1, t));
	assert_true(failover_zone_due(fo, 0, 0, t));
	assert_int_equal(backoff_commit(s, 0, MXF_EIO, t), t + ivl);
	/* NULL statuses: every zone applied, the backoff forgotten. */
	{
		struct failover_plan *p;
		struct failover_events ev = { 0 };
		uint64_t next = 1;
		assert_int_equal(failover_plan(fo, s->cfg, 0, s->h, NULL, s->now, &p), 0);
		assert_true(failover_commit(fo, s->cfg, p, NULL, s->now, t, &ev, &next) >= 0);
		assert_int_equal(next, 0);
		assert_true(failover_zone_due(fo, 0, 1, t));
		/* A plan of a group that does not exist: refused, nothing due. */
		p->group = 1;
		next = 1;
		assert_int_equal(failover_commit(fo, s->cfg, p, NULL, s->now, t, &ev, &next),
				 MXF_EINVAL);
		assert_int_equal(next, 0);
		failover_events_free(&ev);
		failover_plan_free(p);
	}
	/* Out of range: nothing to wait for, nothing remembered. */
	assert_true(failover_zone_due(fo, 0, NZ, t));
	assert_true(failover_zone_due(fo, 1, 0, t));
	assert_int_equal(failover_zone_next_ms(fo, 1, 0), 0);
	assert_int_equal(failover_zone_next_ms(fo, 0, NZ), 0);
	sim_free(s);
}

/* The server active for notices: the plan's wanted, else its current, else
 * the memory's, else the group's first; whatever is out of range skipped. */
static void test_active(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	const struct config *cfg = s->cfg;
	long first = (long)cfg->groups[0].servers[0];
	struct failover_plan p = { .group = 0, .wanted = -1, .current = -1 };
	/* Nothing known: the preferred server, with or without memory. */
	assert_int_equal(failover_active(NULL, cfg, 0, NULL), first);
	assert_int_equal(failover_active(s->fo, cfg, 0, NULL), first);
	assert_int_equal(failover_active(s->fo, cfg, 0, &p), first);
	/* The memory's active server. */
	s->fo->groups[0].active = 2;
	assert_int_equal(failover_active(s->fo, cfg, 0, NULL), 2);
	assert_int_equal(failover_active(s->fo, cfg, 0, &p), 2);
	/* The plan's current server before the memory's. */
	p.current = 1;
	assert_int_equal(failover_active(s->fo, cfg, 0, &p), 1);
	/* The plan's wanted server before anything. */
	p.wanted = 0;
	assert_int_equal(failover_active(s->fo, cfg, 0, &p), 0);
	p.wanted = 2;
	assert_int_equal(failover_active(NULL, cfg, 0, &p), 2);
	/* Out of range values are skipped. */
	p.wanted = (long)cfg->nservers;
	assert_int_equal(failover_active(s->fo, cfg, 0, &p), 1);
	p.current = (long)cfg->nservers + 3;
	assert_int_equal(failover_active(s->fo, cfg, 0, &p), 2);
	s->fo->groups[0].active = (long)cfg->nservers;
	assert_int_equal(failover_active(s->fo, cfg, 0, &p), first);
	/* A plan of another group is not this group's. */
	s->fo->groups[0].active = 2;
	p.wanted = 1;
	p.group = 1;
	assert_int_equal(failover_active(s->fo, cfg, 0, &p), 2);
	/* No such group. */
	assert_int_equal(failover_active(s->fo, cfg, cfg->ngroups, NULL), -1);
	assert_int_equal(failover_active(s->fo, NULL, 0, NULL), -1);
	sim_free(s);
}

/* A zone that cannot be read is reported once per streak, and once when it
 * reads fine again. */
static void test_zone_read_once(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	assert_int_equal(failover_zone_read(s->fo, 0, 0, false), 0);
	assert_int_equal(failover_zone_read(s->fo, 0, 0, true), 1);
	assert_int_equal(failover_zone_read(s->fo, 0, 0, true), 0);
	assert_int_equal(failover_zone_read(s->fo, 0, 1, false), 0);
	assert_int_equal(failover_zone_read(s->fo, 0, 0, false), -1);
	assert_int_equal(failover_zone_read(s->fo, 0, 0, false), 0);
	assert_int_equal(failover_zone_read(s->fo, 0, 0, true), 1);
	assert_int_equal(failover_zone_read(s->fo, 0, NZ, true), 0);
	sim_free(s);
}

/* SWITCH_FAILED: once per streak of failed updates of a zone; a success
 * clears the flag, so the next streak is reported again. */
static void test_switch_failed_once_per_streak(void **state)
{
	(void)state;
	struct opts o = { 1, 1, "CNAME", "auto", "0", false, false };
	struct sim *s = sim_new(&o);
	sim_round(s, 1, 1, -1);
	s->update_result[0] = MXF_ETIMEDOUT;
	sim_round(s, 0, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 1);
	assert_true(s->fo->groups[0].zones[0].failed);
	sim_round(s, 0, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 0);
	s->update_result[0] = 0;
	sim_round(s, 0, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 0);
	assert_false(s->fo->groups[0].zones[0].failed);
	assert_all(s, "mx2.example.com.");
	/* mx1 is back: the failback of example.com fails, reported anew. */
	s->update_result[0] = MXF_ERCODE;
	sim_round(s, 1, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 1);
	assert_true(s->fo->groups[0].zones[0].failed);
	sim_free(s);
}

static void test_three_servers_order(void **state)
{
	(void)state;
	struct opts o = { 1, 1, "CNAME", "auto", "0", true, false };
	struct sim *s = sim_new(&o);
	sim_round(s, 1, 1, 1);
	sim_round(s, 0, 0, 1);
	assert_all(s, "mx3.example.com.");
	/* mx2 is back first: preferred over mx3. */
	sim_round(s, 0, 1, 1);
	assert_all(s, "mx2.example.com.");
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
	sim_round(s, 1, 1, 1);
	assert_all(s, "mx1.example.com.");
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED_BACK), 1);
	sim_free(s);
}

static void test_type_a(void **state)
{
	(void)state;
	struct opts o = { 1, 1, "A", "auto", "0", false, false };
	struct sim *s = sim_new(&o);
	sim_set(s, 1, 1, "198.51.100.7", NULL); /* not ours */
	sim_set(s, 1, 2, "192.0.2.10", "192.0.2.99"); /* two addresses: not ours */
	sim_round(s, 1, 1, -1);
	sim_round(s, 0, 1, -1);
	assert_string_equal(s->val[0][0][0], "192.0.2.11");
	assert_string_equal(s->val[1][0][0], "192.0.2.11");
	assert_string_equal(s->val[1][1][0], "198.51.100.7");
	assert_string_equal(s->val[1][2][1], "192.0.2.99");
	assert_int_equal(s->plan->zones[1].recs[2].verdict, FAILOVER_R_HAND_CHANGED);
	assert_int_equal(s->plan->zones[0].recs[0].ttl, 300); /* [dns] ttl unset: kept */
	sim_free(s);
}

static void test_type_aaaa(void **state)
{
	(void)state;
	struct opts o = { 1, 1, "AAAA", "auto", "0", false, true };
	struct sim *s = sim_new(&o);
	/* Another spelling of mx1's address is still mx1. */
	sim_set(s, 0, 0, "2001:DB8:0:0::10", NULL);
	sim_round(s, 1, 1, -1);
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 0);
	sim_round(s, 0, 1, -1);
	assert_all(s, "2001:db8::11");
	assert_int_equal(s->plan->zones[0].recs[0].points_to, 0);
	assert_string_equal(s->plan->zones[0].recs[0].old_values[0], "2001:DB8:0:0::10");
	/* A server has no IPv4 value for A; and no IPv6 one here. */
	assert_null(failover_server_value(s->cfg, 0, CONFIG_RTYPE_A));
	assert_string_equal(failover_server_value(s->cfg, 1, CONFIG_RTYPE_AAAA), "2001:db8::11");
	sim_free(s);
}

static void test_type_mx(void **state)
{
	(void)state;
	struct opts o = { 1, 1, "MX", "auto", "0", false, false };
	struct sim *s = sim_new(&o);
	sim_set(s, 1, 0, "10 MX1.Example.COM.", NULL); /* case does not matter */
	sim_set(s, 1, 1, "10 mail.example.org.", "20 mx1.example.com."); /* not ours */
	sim_round(s, 1, 1, -1);
	sim_round(s, 0, 1, -1);
	/* Preference kept, the backup MX left as it is. */
	assert_string_equal(s->val[0][0][0], "10 mx2.example.com.");
	assert_string_equal(s->val[0][0][1], "20 backup.example.org.");
	assert_int_equal(s->nval[0][0], 2);
	assert_string_equal(s->val[1][0][0], "10 mx2.example.com.");
	assert_string_equal(s->val[1][1][0], "10 mail.example.org.");
	assert_int_equal(s->plan->zones[1].recs[1].verdict, FAILOVER_R_HAND_CHANGED);
	/* The CAS prerequisite is the whole RRset as read. */
	assert_int_equal(s->plan->zones[0].recs[0].nold, 2);
	assert_string_equal(s->plan->zones[0].recs[0].old_values[0], "10 mx1.example.com.");
	sim_round(s, 1, 1, -1);
	assert_string_equal(s->val[0][0][0], "10 mx1.example.com.");
	assert_string_equal(s->val[1][0][0], "10 mx1.example.com.");
	sim_free(s);
}

static void test_plan_format(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	sim_set(s, 0, 2, "elsewhere.example.org.", NULL);
	sim_round(s, 1, 1, -1);
	sim_checks(s, 0, 1, -1);
	struct failover_dns *d = sim_view(s);
	struct failover_plan *p;
	assert_int_equal(failover_plan(s->fo, s->cfg, 0, s->h, d, s->now, &p), 0);
	char *text;
	assert_int_equal(failover_plan_format(p, s->cfg, s->h, s->now, &text), 0);
	assert_non_null(strstr(text, "group mail (CNAME, failback auto): change"));
	assert_non_null(strstr(text, "switch mx1 -> mx2: mx1 is down"));
	assert_non_null(strstr(text, "connection refused"));
	assert_non_null(strstr(text, "zone example.com.: 2 changes in one update"));
	assert_non_null(strstr(text,
			       "change smtp.example.com. CNAME mx1.example.com. -> mx2.example.com."));
	assert_non_null(strstr(text, "imap.example.com. CNAME elsewhere.example.org.: not a server"));
	free(text);
	/* `plan` changes nothing: the memory is as before. */
	assert_int_equal(s->fo->groups[0].active, 0);
	assert_int_equal(s->fo->groups[0].hand_changed[2], true);
	failover_plan_free(p);
	failover_dns_free(d);
	sim_free(s);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct sim *s = sim_default();
	struct failover_plan *p = NULL;
	assert_int_equal(failover_plan(s->fo, s->cfg, 5, s->h, NULL, s->now, &p), MXF_EINVAL);
	struct failover_dns *d;
	assert_int_equal(failover_dns_new(s->cfg, 3, &d), MXF_EINVAL);
	assert_int_equal(failover_dns_new(s->cfg, 0, &d), 0);
	assert_int_equal(failover_dns_set(d, 0, 0, FAILOVER_REC_PRESENT, NULL, 0, 60, NULL),
			 MXF_EINVAL);
	assert_int_equal(failover_dns_set(d, 2, 0, FAILOVER_REC_ABSENT, NULL, 0, 60, NULL),
			 MXF_EINVAL);
	d->group = 1; /* a view of another group */
	assert_int_equal(failover_plan(s->fo, s->cfg, 0, s->h, d, s->now, &p), MXF_EINVAL);
	d->group = 0;
	failover_dns_free(d);
	assert_null(p);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_startup_without_state),
		cmocka_unit_test(test_startup_healthy_no_flip),
		cmocka_unit_test(test_failover_and_failback),
		cmocka_unit_test(test_flapping_rise),
		cmocka_unit_test(test_hold_down_stops_second_switch),
		cmocka_unit_test(test_hold_down_never_keeps_dead_server),
		cmocka_unit_test(test_hold_down_clock_went_back),
		cmocka_unit_test(test_all_down),
		cmocka_unit_test(test_isolated),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_manual_failback),
		cmocka_unit_test(test_hand_changed),
		cmocka_unit_test(test_absent_never_created),
		cmocka_unit_test(test_read_failure_one_zone),
		cmocka_unit_test(test_nothing_read),
		cmocka_unit_test(test_update_failure),
		cmocka_unit_test(test_zone_backoff),
		cmocka_unit_test(test_active),
		cmocka_unit_test(test_zone_read_once),
		cmocka_unit_test(test_switch_failed_once_per_streak),
		cmocka_unit_test(test_three_servers_order),
		cmocka_unit_test(test_type_a),
		cmocka_unit_test(test_type_aaaa),
		cmocka_unit_test(test_type_mx),
		cmocka_unit_test(test_plan_format),
		cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
