/*
 * test_health.c -- the rise/fall state machine with simulated time:
 * counting, start-up from UNKNOWN (the full rise or fall), flapping,
 * warnings, pins and their expiry, isolated rounds (failures do not
 * count), forgetting stale health, and that every change is reported
 * exactly once.
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
#include "health.h"
#include "mxf.h"

/* fall 3, rise 2; mx1 has two checks, mx2 one. */
static const char conf[] = "[general]\n"
			   "fall = 3\n"
			   "rise = 2\n"
			   "log = stderr\n"
			   "[dns]\n"
			   "server = 127.0.0.1\n"
			   "[server mx1]\n"
			   "address = 192.0.2.10\n"
			   "name = mx1.example.com.\n"
			   "checks = smtp imaps\n"
			   "[server mx2]\n"
			   "address = 192.0.2.11\n"
			   "name = mx2.example.com.\n"
			   "checks = smtp\n"
			   "[group mail]\n"
			   "servers = mx1 mx2\n"
			   "zones = example.com\n"
			   "records = smtp\n"
			   "type = CNAME\n";

#define T0 1700000000000ULL
#define IVL 10000ULL

struct fixture {
	struct config *cfg;
	struct health *h;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_errors errs = { 0 };
	assert_non_null(f);
	int e = config_load_string("t.conf", conf, &f->cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
	config_errors_free(&errs);
	assert_int_equal(e, 0);
	assert_int_equal(health_new(f->cfg, &f->h), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	health_free(f->h);
	config_free(f->cfg);
	free(f);
	return 0;
}

/* Feed mx1 (two checks) one round. */
static int round1(struct health *h, enum health_outcome a, enum health_outcome b, uint64_t now)
{
	struct health_result r[2] = { { a, a == HEALTH_FAIL ? "connection refused" : "220 ok" },
				      { b, b == HEALTH_FAIL ? "timed out" : "OK" } };
	return health_feed(h, 0, r, 2, now);
}

/* mx1 from UNKNOWN to UP: rise (2) good rounds, at *t and *t + IVL. */
static void start_up(struct health *h, uint64_t *t)
{
	round1(h, HEALTH_OK, HEALTH_OK, *t);
	round1(h, HEALTH_OK, HEALTH_OK, *t += IVL);
	assert_int_equal(health_effective(h, 0, *t), HEALTH_UP);
}

/* Drain the queue; count server-level changes and remember the last. */
static size_t drain(struct health *h, struct health_change *last_server)
{
	struct health_change c;
	size_t n = 0;
	while (health_next_change(h, &c)) {
		if (c.kind != HEALTH_CHANGE_CHECK) {
			n++;
			if (last_server)
				*last_server = c;
		}
	}
	return n;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(health_state_name(HEALTH_DOWN), "down");
	assert_string_equal(health_outcome_name(HEALTH_WARN), "warning");
	assert_string_equal(health_pin_name(HEALTH_PIN_UP), "up");
	enum health_state s;
	assert_int_equal(health_state_parse("unknown", &s), 0);
	assert_int_equal(s, HEALTH_UNKNOWN);
	assert_int_equal(health_state_parse("sideways", &s), MXF_EINVAL);
	enum health_pin p;
	assert_int_equal(health_pin_parse("down", &p), 0);
	assert_int_equal(p, HEALTH_PIN_DOWN);
}

static void test_start_unknown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(health_effective(f->h, 0, T0), HEALTH_UNKNOWN);
	assert_int_equal(health_effective(f->h, 1, T0), HEALTH_UNKNOWN);
	assert_int_equal(health_effective(f->h, 99, T0), HEALTH_UNKNOWN);
	struct health_change c;
	assert_false(health_next_change(f->h, &c));
}

static void test_unknown_to_up_needs_rise(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	/* Nothing is known of a server at start: one good round is not
	 * enough, it needs the full rise (2), as from DOWN. */
	assert_int_equal(round1(f->h, HEALTH_OK, HEALTH_OK, T0), 0);
	assert_int_equal(health_effective(f->h, 0, T0), HEALTH_UNKNOWN);
	assert_int_equal(f->h->servers[0].checks[0].state, HEALTH_UNKNOWN);
	assert_int_equal(drain(f->h, NULL), 0);
	/* A failed round breaks the streak. */
	round1(f->h, HEALTH_OK, HEALTH_FAIL, T0 + IVL);
	round1(f->h, HEALTH_OK, HEALTH_OK, T0 + 2 * IVL);
	assert_int_equal(health_effective(f->h, 0, T0), HEALTH_UNKNOWN);
	assert_int_equal(drain(f->h, NULL), 0);
	assert_true(round1(f->h, HEALTH_OK, HEALTH_OK, T0 + 3 * IVL) > 0);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_UNKNOWN);
	assert_int_equal(c.to, HEALTH_UP);
	assert_int_equal(c.at_ms, T0 + 3 * IVL);
	assert_non_null(strstr(c.reason, "2 rounds in a row"));
	assert_int_equal(health_effective(f->h, 0, T0), HEALTH_UP);
	/* Healthy rounds are silent. */
	for (int i = 4; i < 10; i++)
		assert_int_equal(round1(f->h, HEALTH_OK, HEALTH_OK, T0 + i * IVL), 0);
}

static void test_unknown_to_down_needs_fall(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	/* Failed rounds at start-up: UNKNOWN until fall (3) of them. */
	round1(f->h, HEALTH_FAIL, HEALTH_OK, T0);
	assert_int_equal(health_effective(f->h, 0, T0), HEALTH_UNKNOWN);
	round1(f->h, HEALTH_OK, HEALTH_FAIL, T0 + IVL);
	assert_int_equal(health_effective(f->h, 0, T0), HEALTH_UNKNOWN);
	assert_int_equal(drain(f->h, NULL), 0);
	round1(f->h, HEALTH_FAIL, HEALTH_FAIL, T0 + 2 * IVL);
	assert_int_equal(health_effective(f->h, 0, T0), HEALTH_DOWN);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_UNKNOWN);
	assert_int_equal(c.to, HEALTH_DOWN);
	/* The reason names the failing check and what it said. */
	assert_non_null(strstr(c.reason, "smtp://192.0.2.10"));
	assert_non_null(strstr(c.reason, "connection refused"));
}

static void test_fall_and_rise(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	uint64_t t = T0;
	start_up(f->h, &t);
	drain(f->h, NULL);
	/* Two failed rounds: still UP (fall is 3). */
	round1(f->h, HEALTH_OK, HEALTH_FAIL, t += IVL);
	round1(f->h, HEALTH_OK, HEALTH_FAIL, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_UP);
	assert_int_equal(drain(f->h, NULL), 0);
	/* Third: DOWN, reported once. */
	round1(f->h, HEALTH_OK, HEALTH_FAIL, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.raw_from, HEALTH_UP);
	assert_int_equal(c.raw_to, HEALTH_DOWN);
	assert_int_equal(c.at_ms, t);
	assert_int_equal(f->h->servers[0].since_ms, t);
	/* More failed rounds: no more changes. */
	round1(f->h, HEALTH_FAIL, HEALTH_FAIL, t += IVL);
	assert_int_equal(drain(f->h, NULL), 0);
	/* One good round is not enough (rise is 2). */
	round1(f->h, HEALTH_OK, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	round1(f->h, HEALTH_OK, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_UP);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_DOWN);
	assert_int_equal(c.to, HEALTH_UP);
}

static void test_any_check_counts(void **state)
{
	struct fixture *f = *state;
	uint64_t t = T0;
	start_up(f->h, &t);
	/* Different checks fail in consecutive rounds: each round failed. */
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	round1(f->h, HEALTH_OK, HEALTH_FAIL, t += IVL);
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	/* Per check, neither reached fall. */
	assert_int_equal(f->h->servers[0].checks[0].state, HEALTH_UP);
	assert_int_equal(f->h->servers[0].checks[1].state, HEALTH_UP);
}

static void test_warning_counts_as_ok(void **state)
{
	struct fixture *f = *state;
	uint64_t t = T0;
	for (int i = 0; i < 6; i++)
		round1(f->h, HEALTH_WARN, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_UP);
	assert_int_equal(f->h->servers[0].checks[0].last, HEALTH_WARN);
	assert_string_equal(f->h->servers[0].checks[0].reason, "220 ok");
}

static void test_flapping_never_rises(void **state)
{
	struct fixture *f = *state;
	uint64_t t = T0;
	round1(f->h, HEALTH_OK, HEALTH_OK, t);
	for (int i = 0; i < 3; i++)
		round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	drain(f->h, NULL);
	/* Alternating good and bad rounds never reach rise = 2. */
	for (int i = 0; i < 50; i++) {
		round1(f->h, i % 2 ? HEALTH_FAIL : HEALTH_OK, HEALTH_OK, t += IVL);
		assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	}
	assert_int_equal(drain(f->h, NULL), 0);
}

static void test_check_level_changes(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	uint64_t t = T0;
	start_up(f->h, &t);
	size_t nchecks = 0;
	while (health_next_change(f->h, &c))
		nchecks += c.kind == HEALTH_CHANGE_CHECK;
	assert_int_equal(nchecks, 2); /* both checks UNKNOWN -> UP */
	for (int i = 0; i < 3; i++)
		round1(f->h, HEALTH_OK, HEALTH_FAIL, t += IVL);
	bool saw_check = false;
	while (health_next_change(f->h, &c)) {
		if (c.kind == HEALTH_CHANGE_CHECK) {
			saw_check = true;
			assert_int_equal(c.check, 1);
			assert_int_equal(c.to, HEALTH_DOWN);
			assert_string_equal(c.reason, "timed out");
		}
	}
	assert_true(saw_check);
	assert_int_equal(f->h->servers[0].checks[1].bad_run, 3);
	assert_int_equal(f->h->servers[0].checks[0].good_run, 5);
}

static void test_feed_bad_args(void **state)
{
	struct fixture *f = *state;
	struct health_result r[2] = { { HEALTH_OK, NULL }, { HEALTH_OK, NULL } };
	assert_int_equal(health_feed(f->h, 0, r, 1, T0), MXF_EINVAL);
	assert_int_equal(health_feed(f->h, 7, r, 2, T0), MXF_EINVAL);
	r[1].outcome = (enum health_outcome)42;
	assert_int_equal(health_feed(f->h, 0, r, 2, T0), MXF_EINVAL);
	/* Nothing changed by a refused round. */
	assert_int_equal(f->h->servers[0].good_run, 0);
	assert_false(f->h->servers[0].checks[0].seen);
}

static void test_pin_down_and_expiry(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	uint64_t t = T0;
	start_up(f->h, &t);
	drain(f->h, NULL);
	/* Pin down for 60 s: effective DOWN at once, one change. */
	assert_int_equal(health_set_pin(f->h, 0, HEALTH_PIN_DOWN, t + 60000, t, NULL), 1);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.kind, HEALTH_CHANGE_PIN);
	assert_int_equal(c.from, HEALTH_UP);
	assert_int_equal(c.to, HEALTH_DOWN);
	assert_int_equal(health_pinned(f->h, 0, t), HEALTH_PIN_DOWN);
	assert_int_equal(health_effective(f->h, 0, t + 59999), HEALTH_DOWN);
	/* Checks go on; a healthy server stays pinned down. */
	round1(f->h, HEALTH_OK, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	assert_int_equal(health_expire_pins(f->h, t), 0);
	/* At expiry: back to the checked state, one change. */
	t = T0 + IVL + 60000;
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_UP);
	assert_int_equal(health_expire_pins(f->h, t), 1);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_DOWN);
	assert_int_equal(c.to, HEALTH_UP);
	assert_int_equal(c.pin, HEALTH_PIN_NONE);
	assert_int_equal(f->h->servers[0].pin, HEALTH_PIN_NONE);
	assert_int_equal(health_expire_pins(f->h, t + IVL), 0);
}

static void test_pin_up_hides_failure(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	uint64_t t = T0;
	round1(f->h, HEALTH_OK, HEALTH_OK, t);
	assert_int_equal(health_set_pin(f->h, 0, HEALTH_PIN_UP, 0, t, "maintenance"), 1);
	drain(f->h, NULL); /* UP -> UP: a pin change without effect */
	for (int i = 0; i < 3; i++)
		round1(f->h, HEALTH_FAIL, HEALTH_FAIL, t += IVL);
	assert_int_equal(f->h->servers[0].state, HEALTH_DOWN);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_UP);
	/* The checked change is recorded, marked as having no effect. */
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.raw_to, HEALTH_DOWN);
	assert_int_equal(c.from, HEALTH_UP);
	assert_int_equal(c.to, HEALTH_UP);
	/* Unpin: effective DOWN now. */
	assert_int_equal(health_set_pin(f->h, 0, HEALTH_PIN_NONE, 0, t, NULL), 1);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.to, HEALTH_DOWN);
	assert_string_equal(c.reason, "unpinned by operator");
	/* Unpinning again changes nothing. */
	assert_int_equal(health_set_pin(f->h, 0, HEALTH_PIN_NONE, 0, t, NULL), 0);
	/* A pin expiring in the past is refused. */
	assert_int_equal(health_set_pin(f->h, 0, HEALTH_PIN_DOWN, t, t, NULL), MXF_EINVAL);
}

static void test_queue_grows(void **state)
{
	struct fixture *f = *state;
	uint64_t t = T0;
	/* Many pin changes without draining: none is lost, order kept. */
	for (int i = 0; i < 100; i++)
		health_set_pin(f->h, 1, i % 2 ? HEALTH_PIN_NONE : HEALTH_PIN_DOWN, 0, t + i, NULL);
	struct health_change c;
	int n = 0;
	while (health_next_change(f->h, &c)) {
		assert_int_equal(c.at_ms, t + (uint64_t)n);
		n++;
	}
	assert_int_equal(n, 100);
}

/* Feed mx1 one isolated round (every witness failed). */
static int iso1(struct health *h, enum health_outcome a, enum health_outcome b, uint64_t now)
{
	struct health_result r[2] = { { a, a == HEALTH_FAIL ? "network unreachable" : "220 ok" },
				      { b, b == HEALTH_FAIL ? "network unreachable" : "OK" } };
	return health_feed_isolated(h, 0, r, 2, now);
}

static void test_isolated_failures_do_not_count(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	uint64_t t = T0;
	start_up(f->h, &t);
	drain(f->h, NULL);
	/* Two real failed rounds (fall is 3), then the monitor's link is cut. */
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	for (int i = 0; i < 10; i++)
		assert_int_equal(iso1(f->h, HEALTH_FAIL, HEALTH_FAIL, t += IVL), 0);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_UP);
	assert_int_equal(f->h->servers[0].bad_run, 0);
	assert_int_equal(f->h->servers[0].checks[0].state, HEALTH_UP);
	assert_int_equal(f->h->servers[0].checks[1].state, HEALTH_UP);
	assert_int_equal(f->h->servers[0].checks[0].bad_run, 0);
	/* The last result is still shown as it was. */
	assert_int_equal(f->h->servers[0].checks[1].last, HEALTH_FAIL);
	assert_string_equal(f->h->servers[0].checks[1].reason, "network unreachable");
	assert_int_equal(drain(f->h, NULL), 0);
	/* Isolation over: the streak before it is forgotten, `fall` fresh
	 * failed rounds are needed. */
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_UP);
	assert_int_equal(drain(f->h, NULL), 0);
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_UP);
	assert_int_equal(c.to, HEALTH_DOWN);
	assert_non_null(strstr(c.reason, "(3 failed rounds)"));
}

static void test_isolated_down_stays_down(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	uint64_t t = T0;
	for (int i = 0; i < 3; i++)
		round1(f->h, HEALTH_FAIL, HEALTH_FAIL, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	drain(f->h, NULL);
	/* Isolated failures change nothing; a DOWN server stays DOWN. */
	for (int i = 0; i < 5; i++)
		iso1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	/* A pass in an isolated round is a pass (the server answered), but a
	 * failed isolated round between two passes breaks the streak. */
	iso1(f->h, HEALTH_OK, HEALTH_OK, t += IVL);
	iso1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	round1(f->h, HEALTH_OK, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_DOWN);
	assert_int_equal(drain(f->h, NULL), 0);
	assert_true(iso1(f->h, HEALTH_OK, HEALTH_OK, t += IVL) > 0);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_DOWN);
	assert_int_equal(c.to, HEALTH_UP);
}

static void test_isolated_unknown_stays_unknown(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	uint64_t t = T0;
	/* Started while cut off: nothing is learnt from the failures. */
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	for (int i = 0; i < 10; i++)
		iso1(f->h, HEALTH_FAIL, HEALTH_FAIL, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_UNKNOWN);
	assert_int_equal(drain(f->h, NULL), 0);
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	assert_int_equal(health_effective(f->h, 0, t), HEALTH_UNKNOWN);
	round1(f->h, HEALTH_FAIL, HEALTH_OK, t += IVL);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_UNKNOWN);
	assert_int_equal(c.to, HEALTH_DOWN);
	struct health_result r[1] = { { HEALTH_OK, NULL } };
	assert_int_equal(health_feed_isolated(f->h, 0, r, 1, t), MXF_EINVAL);
}

static void test_forget(void **state)
{
	struct fixture *f = *state;
	struct health_change c;
	uint64_t t = T0;
	/* mx1 UP and pinned up; mx2 DOWN. */
	start_up(f->h, &t);
	struct health_result bad[1] = { { HEALTH_FAIL, "connection refused" } };
	struct health_result good[1] = { { HEALTH_OK, "220 ok" } };
	for (int i = 0; i < 3; i++)
		health_feed(f->h, 1, bad, 1, t + (uint64_t)i);
	assert_int_equal(health_set_pin(f->h, 0, HEALTH_PIN_UP, 0, t, NULL), 1);
	drain(f->h, NULL);
	health_forget(f->h, "too old");
	for (size_t i = 0; i < 2; i++) {
		const struct health_server *s = &f->h->servers[i];
		assert_int_equal(s->state, HEALTH_UNKNOWN);
		assert_int_equal(s->good_run, 0);
		assert_int_equal(s->bad_run, 0);
		assert_string_equal(s->reason, "too old");
		assert_int_equal(s->checks[0].state, HEALTH_UNKNOWN);
		assert_int_equal(s->checks[0].good_run + s->checks[0].bad_run, 0);
	}
	assert_string_equal(f->h->servers[1].checks[0].reason, "connection refused");
	assert_int_equal(health_pinned(f->h, 0, t), HEALTH_PIN_UP); /* pins are kept */
	assert_int_equal(drain(f->h, NULL), 0);                     /* a reset, not a change */
	/* mx2 fails again: DOWN after the full fall (3), and finding it DOWN
	 * again is no news (from == to: no event). */
	health_feed(f->h, 1, bad, 1, t += IVL);
	health_feed(f->h, 1, bad, 1, t += IVL);
	assert_int_equal(health_effective(f->h, 1, t), HEALTH_UNKNOWN);
	health_feed(f->h, 1, bad, 1, t += IVL);
	assert_int_equal(health_effective(f->h, 1, t), HEALTH_DOWN);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_DOWN);
	assert_int_equal(c.to, HEALTH_DOWN);
	assert_int_equal(c.raw_from, HEALTH_UNKNOWN);
	/* Once out of UNKNOWN the memory is gone: a recovery is news. */
	health_feed(f->h, 1, good, 1, t += IVL);
	health_feed(f->h, 1, good, 1, t += IVL);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_DOWN);
	assert_int_equal(c.to, HEALTH_UP);
	/* Forgotten DOWN, then good: the full rise, reported as a recovery. */
	for (int i = 0; i < 3; i++)
		health_feed(f->h, 1, bad, 1, t += IVL);
	drain(f->h, NULL);
	health_forget(f->h, NULL); /* NULL: the reason is kept */
	assert_non_null(strstr(f->h->servers[1].reason, "(3 failed rounds)"));
	health_feed(f->h, 1, good, 1, t += IVL);
	assert_int_equal(health_effective(f->h, 1, t), HEALTH_UNKNOWN);
	health_feed(f->h, 1, good, 1, t += IVL);
	assert_int_equal(drain(f->h, &c), 1);
	assert_int_equal(c.from, HEALTH_DOWN);
	assert_int_equal(c.to, HEALTH_UP);
	health_forget(NULL, NULL);
}

/* Counts of one read in the singular: "1 failed round", "the check passed
 * 1 round"; and a check's latency is kept beside its result. */
static void test_singular_reasons(void **state)
{
	struct config *cfg = NULL;
	struct health *h = NULL;
	struct config_errors errs = { 0 };
	struct health_change c;
	char text[sizeof(conf) + 32];
	(void)state;
	snprintf(text, sizeof(text), "%s", conf);
	memcpy(strstr(text, "fall = 3"), "fall = 1", 8);
	memcpy(strstr(text, "rise = 2"), "rise = 1", 8);
	assert_int_equal(config_load_string("t.conf", text, &cfg, &errs), 0);
	assert_int_equal(health_new(cfg, &h), 0);
	struct health_result ok = { HEALTH_OK, "220 ok" }, bad = { HEALTH_FAIL, "refused" };
	assert_true(health_feed(h, 1, &ok, 1, T0) > 0);
	health_note_facts(h, 1, 0, 42, 0);
	health_note_facts(h, 1, 7, 1, 0); /* out of range: ignored */
	health_note_facts(h, 9, 0, 1, 0);
	assert_int_equal(h->servers[1].checks[0].elapsed_ms, 42);
	memset(&c, 0, sizeof(c));
	while (health_next_change(h, &c) && c.kind == HEALTH_CHANGE_CHECK)
		;
	assert_string_equal(c.reason, "the check passed 1 round in a row");
	assert_true(health_feed(h, 1, &bad, 1, T0 + IVL) > 0);
	while (health_next_change(h, &c) && c.kind == HEALTH_CHANGE_CHECK)
		;
	assert_non_null(strstr(c.reason, "refused (1 failed round)"));
	health_free(h);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_start_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_to_up_needs_rise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_to_down_needs_fall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fall_and_rise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_check_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warning_counts_as_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flapping_never_rises, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_level_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_down_and_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_up_hides_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_isolated_failures_do_not_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_isolated_down_stays_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_isolated_unknown_stays_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
		cmocka_unit_test(test_singular_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
