/*
 * test_round_pace.c -- the pace of `run` (round_pace.c) with simulated
 * time: rounds are started at the period round_pace_period() gives and fed
 * into the real health machine (health.c).  Steady state keeps `interval`;
 * a failing server is re-checked every `fastinter` until DOWN, a DOWN one
 * that passes until UP; a blip flips nothing and the pace comes back; an
 * isolated round does not keep the fast pace; detection with interval 10 s,
 * fall 3, fastinter 1 s stays within interval + (fall - 1) x fastinter at
 * every phase of the death, where interval alone needs up to fall x interval.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "health.h"
#include "round_pace.h"

static const char conf[] = "[general]\n"
			   "interval = 10s\n"
			   "fastinter = 1s\n"
			   "fall = 3\n"
			   "rise = 3\n"
			   "log = stderr\n"
			   "[dns]\n"
			   "server = 127.0.0.1\n"
			   "[server mx1]\n"
			   "address = 192.0.2.10\n"
			   "name = mx1.example.com.\n"
			   "checks = smtp\n"
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

struct sim {
	struct config *cfg;
	struct health *h;
};

static int
setup(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct config_errors errs = {0};
	int e;

	assert_non_null(s);
	e = config_load_string("t.conf", conf, &s->cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
	config_errors_free(&errs);
	assert_int_equal(e, 0);
	assert_int_equal(s->cfg->general.fastinter_ms, 1000);
	assert_int_equal(health_new(s->cfg, &s->h), 0);
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct sim *s = *state;

	health_free(s->h);
	config_free(s->cfg);
	free(s);
	return 0;
}

static void
drain(struct health *h)
{
	struct health_change c;

	while (health_next_change(h, &c))
		;
}

/* One round at @t: mx1 @ok1, mx2 passes; @isolated as health_feed_isolated. */
static void
round_at(struct sim *s, uint64_t t, bool ok1, bool isolated)
{
	struct health_result r1 = {ok1 ? HEALTH_OK : HEALTH_FAIL, ok1 ? "ok" : "refused"};
	struct health_result r2 = {HEALTH_OK, "ok"};

	if (isolated)
		assert_true(health_feed_isolated(s->h, 0, &r1, 1, t) >= 0);
	else
		assert_true(health_feed(s->h, 0, &r1, 1, t) >= 0);
	assert_true(health_feed(s->h, 1, &r2, 1, t) >= 0);
	drain(s->h);
}

/* Bring mx1 UP with rounds every interval; @return the time after them. */
static uint64_t
bring_up(struct sim *s)
{
	uint64_t t = T0;

	for (unsigned i = 0; i < 3; i++, t += s->cfg->general.interval_ms)
		round_at(s, t, true, false);
	assert_int_equal(health_effective(s->h, 0, t), HEALTH_UP);
	return t;
}

/*
 * Run rounds from @t at round_pace_period's pace, each taking @check_ms
 * (the next starts no earlier than the last's results), with mx1 passing
 * until @death_ms and failing from then on (or the other way round,
 * @revive).  @return when mx1's state became @want, 0 when not in @limit.
 */
static uint64_t
run_until(struct sim *s, uint64_t t, uint64_t change_ms, bool revive, uint64_t check_ms,
	  enum health_state want, uint64_t limit, unsigned *fast_rounds)
{
	for (uint64_t end = t + limit; t < end;) {
		uint64_t done = t + check_ms, period;
		bool ok1 = revive ? done >= change_ms : done < change_ms, fast;

		round_at(s, done, ok1, false);
		if (health_effective(s->h, 0, done) == want)
			return done;
		period = round_pace_period(s->cfg, s->h, &fast, NULL);
		if (fast && fast_rounds != NULL)
			(*fast_rounds)++;
		t += period > check_ms ? period : check_ms;
	}
	return 0;
}

static void
test_steady_state_keeps_interval(void **state)
{
	struct sim *s = *state;
	bool fast = true;
	size_t who = 0;

	bring_up(s);
	assert_int_equal(round_pace_period(s->cfg, s->h, &fast, &who), 10000);
	assert_false(fast);
	assert_int_equal(who, SIZE_MAX);
	assert_false(round_pace_in_transition(s->h, 0));
	assert_false(round_pace_in_transition(s->h, 7)); /* out of range */
	assert_false(round_pace_in_transition(NULL, 0));
}

/* One failed round: fastinter until DOWN (fall 3), then interval again. */
static void
test_failing_server_fast_until_down(void **state)
{
	struct sim *s = *state;
	uint64_t t = bring_up(s);
	bool fast = false;
	size_t who = SIZE_MAX;

	round_at(s, t, false, false);
	assert_true(round_pace_in_transition(s->h, 0));
	assert_false(round_pace_in_transition(s->h, 1));
	assert_int_equal(round_pace_period(s->cfg, s->h, &fast, &who), 1000);
	assert_true(fast);
	assert_int_equal(who, 0);
	round_at(s, t + 1000, false, false);
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 1000);
	assert_int_equal(health_effective(s->h, 0, t + 1000), HEALTH_UP); /* fall still counts */
	round_at(s, t + 2000, false, false);
	assert_int_equal(health_effective(s->h, 0, t + 2000), HEALTH_DOWN);
	assert_int_equal(round_pace_period(s->cfg, s->h, &fast, NULL), 10000);
	assert_false(fast);
}

/* A blip (one failed round, then good ones) flips nothing; the pace is
 * fast for exactly one round and interval again after the pass. */
static void
test_blip_flips_nothing(void **state)
{
	struct sim *s = *state;
	uint64_t t = bring_up(s);

	round_at(s, t, false, false);
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 1000);
	round_at(s, t + 1000, true, false);
	assert_int_equal(health_effective(s->h, 0, t + 1000), HEALTH_UP);
	assert_false(round_pace_in_transition(s->h, 0));
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 10000);
	/* Alternating fail/pass at the fast pace never reaches fall. */
	for (unsigned i = 0; i < 20; i++) {
		round_at(s, t + 2000 + i * 1000, i % 2 == 0, false);
		assert_int_equal(health_effective(s->h, 0, t + 2000 + i * 1000), HEALTH_UP);
	}
}

/* A DOWN server that passes once is re-checked fast until UP (rise 3). */
static void
test_recovering_server_fast_until_up(void **state)
{
	struct sim *s = *state;
	uint64_t t = bring_up(s), up;
	unsigned fast = 0;

	for (unsigned i = 0; i < 3; i++, t += 1000)
		round_at(s, t, false, false);
	assert_int_equal(health_effective(s->h, 0, t), HEALTH_DOWN);
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 10000);
	/* Revives 3.5 s into an interval: the next full round sees it, then
	 * two fast rounds make rise 3. */
	up = run_until(s, t, t + 3500, true, 0, HEALTH_UP, 60000, &fast);
	assert_true(up > 0);
	assert_true(up - (t + 3500) <= 10000 + 2 * 1000);
	assert_int_equal(fast, 2);
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 10000);
}

/* Isolated rounds clear the failed streak: no fast pace from them, and a
 * server needs fall fresh failures after isolation (health.h). */
static void
test_isolation_does_not_keep_fast_pace(void **state)
{
	struct sim *s = *state;
	uint64_t t = bring_up(s);

	round_at(s, t, false, false);
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 1000);
	round_at(s, t + 1000, false, true);
	assert_false(round_pace_in_transition(s->h, 0));
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 10000);
	assert_int_equal(health_effective(s->h, 0, t + 1000), HEALTH_UP);
}

/* Start-up: UNKNOWN with a first good round is on its way to UP. */
static void
test_unknown_start(void **state)
{
	struct sim *s = *state;

	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 10000); /* no result yet */
	round_at(s, T0, true, false);
	assert_int_equal(health_effective(s->h, 0, T0), HEALTH_UNKNOWN);
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 1000);
}

/* fastinter 0 (a hand-made config) or beyond interval: interval. */
static void
test_fastinter_bounds(void **state)
{
	struct sim *s = *state;
	uint64_t t = bring_up(s);

	round_at(s, t, false, false);
	s->cfg->general.fastinter_ms = 0;
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 10000);
	s->cfg->general.fastinter_ms = 20000;
	assert_int_equal(round_pace_period(s->cfg, s->h, NULL, NULL), 10000);
}

/*
 * Detection at every phase of the death (every 250 ms of an interval), with
 * checks that answer at once (refused) and that time out after 1.5 s: with
 * fastinter the worst case is within interval + (fall - 1) x max(fastinter,
 * check time) + the check time; with fastinter = interval it is beyond
 * 2 x interval, so the bound fails without the fast pace.
 */
static void
detect_worst(struct sim *s, uint64_t check_ms, uint64_t *worst)
{
	*worst = 0;
	for (uint64_t phase = 0; phase < 10000; phase += 250) {
		uint64_t t, down;

		health_free(s->h);
		assert_int_equal(health_new(s->cfg, &s->h), 0);
		t = bring_up(s);
		down = run_until(s, t, t + phase + 1, false, check_ms, HEALTH_DOWN, 120000, NULL);
		assert_true(down > 0);
		if (down - (t + phase + 1) > *worst)
			*worst = down - (t + phase + 1);
	}
}

static void
test_detection_bound(void **state)
{
	struct sim *s = *state;
	uint64_t worst;

	detect_worst(s, 0, &worst);
	assert_true(worst <= 10000 + 2 * 1000);
	detect_worst(s, 1500, &worst);
	assert_true(worst <= 10000 + 2 * 1500 + 1500);
	s->cfg->general.fastinter_ms = s->cfg->general.interval_ms; /* no fast pace */
	detect_worst(s, 0, &worst);
	assert_true(worst > 2 * 10000);
	assert_true(worst <= 3 * 10000);
}

/* A fast round only while fast and within an interval of the last full
 * round; a clock that went back gives a full one. */
static void
test_fast_round_needs_recent_full(void **state)
{
	struct sim *s = *state;

	assert_false(round_pace_fast_round(s->cfg, false, T0 + 1000, T0));
	assert_true(round_pace_fast_round(s->cfg, true, T0 + 1000, T0));
	assert_true(round_pace_fast_round(s->cfg, true, T0 + 9999, T0));
	assert_false(round_pace_fast_round(s->cfg, true, T0 + 10000, T0));
	assert_false(round_pace_fast_round(s->cfg, true, T0 - 1, T0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_steady_state_keeps_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_server_fast_until_down, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_blip_flips_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovering_server_fast_until_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_isolation_does_not_keep_fast_pace, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fastinter_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detection_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_round_needs_recent_full, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
