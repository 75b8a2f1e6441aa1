/*
 * test_quorum_plan.c -- the quorum's decision handed to failover_plan() in
 * place of this monitor's health, as the daemon is to do: a switch away
 * from the current server needs `need` monitors seeing it down and the
 * target up, a failback `need` monitors seeing the preferred server up,
 * and a lost quorum changes nothing.  Three monitors, need 2; the group's
 * servers are mx1 mx2 mx3 in that order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"
#include "quorum.h"
#include "quorum_fixture.h"

#define HB    30000ULL
#define STALE 90000ULL
#define T0    1700000000000ULL

#define U HEALTH_UP
#define D HEALTH_DOWN
#define X HEALTH_UNKNOWN

struct fixture {
	struct config *cfg;
	struct quorum *q;
	struct failover *fo;
	uint64_t now;
	uint64_t seq[3];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->cfg = quorum_fixture_config(3, 0, 2, HB, STALE);
	f->now = T0;
	assert_int_equal(quorum_new(f->cfg, "0123456789abcdef", f->now, &f->q), 0);
	assert_int_equal(failover_new(f->cfg, &f->fo), 0);
	f->fo->groups[0].active = 0; /* the records point at mx1 */
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	failover_free(f->fo);
	quorum_free(f->q);
	quorum_fixture_free(f->cfg);
	free(f);
	return 0;
}

/* One round: every monitor publishes these views and we read b's and c's. */
static void
views(struct fixture *f, const enum health_state *a, const enum health_state *b,
      const enum health_state *c)
{
	const enum health_state *peer[3] = {NULL, b, c};
	struct quorum_view v;

	f->now += 10000;
	assert_int_equal(quorum_view_init(&v, f->cfg), 0);
	if (quorum_own(f->q, a, f->now, 0, &v) == 1)
		quorum_published(f->q, true, f->now);
	for (size_t i = 1; i < 3; i++) {
		if (peer[i] == NULL)
			continue; /* stopped: it publishes nothing new */
		memcpy(v.boot, "00000000000000b0", sizeof(v.boot));
		v.boot[15] = (char)('0' + i);
		v.seq = ++f->seq[i];
		memcpy(v.states, peer[i], 3 * sizeof(*v.states));
		assert_int_equal(quorum_observe(f->q, i, &v, true, f->now), 0);
	}
	quorum_view_clear(&v);
}

/* The plan of the group with the quorum's states as the health. */
static struct failover_plan *
plan(struct fixture *f)
{
	enum health_state st[3];
	struct failover_plan *p = NULL;
	struct health *h = NULL;

	quorum_decide(f->q, f->now, st);
	assert_int_equal(health_new(f->cfg, &h), 0);
	for (size_t i = 0; i < 3; i++)
		h->servers[i].state = st[i];
	assert_int_equal(failover_plan(f->fo, f->cfg, 0, h, NULL, f->now, &p), 0);
	health_free(h);
	return p;
}

static void
expect(struct fixture *f, enum failover_verdict verdict, long wanted)
{
	struct failover_plan *p = plan(f);
	if (p->verdict != verdict || p->wanted != wanted)
		fail_msg("verdict %d wanted %ld, expected %d %ld: %s", p->verdict, p->wanted,
			 verdict, wanted, p->why);
	failover_plan_free(p);
}

static void
test_switch_needs_two_down_and_target_up(void **state)
{
	struct fixture *f = *state;
	const enum health_state uuu[3] = {U, U, U}, duu[3] = {D, U, U}, dxu[3] = {D, X, U},
				dux[3] = {D, U, X}, uxu[3] = {U, X, U};

	for (int r = 0; r < 3; r++)
		views(f, uuu, uuu, uuu);
	expect(f, FAILOVER_NO_CHANGE, 0);
	/* One monitor sees mx1 down: nothing moves. */
	views(f, uuu, duu, uuu);
	expect(f, FAILOVER_NO_CHANGE, 0);
	/* Two see it down, but only one sees mx2 up: wait, do not guess. */
	views(f, dxu, duu, uxu);
	expect(f, FAILOVER_WAITING, -1);
	/* Two see mx1 down and mx2 up: switch to mx2. */
	views(f, dux, duu, uuu);
	struct failover_plan *p = plan(f);
	assert_int_equal(p->preferred, 1);
	assert_int_equal(p->current, 0);
	assert_non_null(strstr(p->why, "switch mx1 -> mx2"));
	failover_plan_free(p);
}

static void
test_failback_needs_two_up(void **state)
{
	struct fixture *f = *state;
	const enum health_state duu[3] = {D, U, U}, uuu[3] = {U, U, U}, xuu[3] = {X, U, U};
	struct failover_plan *p;

	f->fo->groups[0].active = 1; /* failed over to mx2 */
	for (int r = 0; r < 3; r++)
		views(f, duu, duu, duu);
	expect(f, FAILOVER_NO_CHANGE, 1);
	/* One monitor sees mx1 back: two still see it down, mx2 stays. */
	views(f, uuu, duu, duu);
	expect(f, FAILOVER_NO_CHANGE, 1);
	/* One up, one down, one unknown: unknown together, no decision. */
	views(f, uuu, duu, xuu);
	expect(f, FAILOVER_WAITING, -1);
	/* Two: fail back. */
	views(f, uuu, uuu, duu);
	p = plan(f);
	assert_int_equal(p->preferred, 0);
	assert_non_null(strstr(p->why, "switch mx2 -> mx1"));
	failover_plan_free(p);
}

/* Two monitors stop: however sure we are that mx1 is down, nothing moves. */
static void
test_lost_quorum_moves_nothing(void **state)
{
	struct fixture *f = *state;
	const enum health_state uuu[3] = {U, U, U}, duu[3] = {D, U, U};

	for (int r = 0; r < 3; r++)
		views(f, uuu, uuu, uuu);
	for (uint64_t t = 0; t <= STALE; t += 10000)
		views(f, duu, NULL, NULL);
	assert_false(quorum_have(f->q, f->now));
	expect(f, FAILOVER_WAITING, -1);
	/* One comes back and agrees: its new seq is an advance (it was seen
	 * before), so two of three see mx1 down and mx2 up: switch. */
	views(f, duu, duu, NULL);
	assert_true(quorum_have(f->q, f->now));
	struct failover_plan *p = plan(f);
	assert_int_equal(p->preferred, 1);
	assert_non_null(strstr(p->why, "switch mx1 -> mx2"));
	failover_plan_free(p);
}

/* A reload: an equal [quorum] goes on (quorum_config_same); a new tracker
 * told what the old one had said does not alert a lost quorum again, one
 * not told does. */
static void
test_reload_carry(void **state)
{
	(void)state;
	struct config *a = quorum_fixture_config(3, 0, 2, HB, STALE);
	struct config *b = quorum_fixture_config(3, 0, 2, HB, STALE);
	struct config *c = quorum_fixture_config(3, 0, 3, HB, STALE);
	struct config *d = quorum_fixture_config(3, 1, 2, HB, STALE);
	struct quorum *old = NULL, *told = NULL, *untold = NULL;

	assert_true(quorum_config_same(a, b));
	assert_false(quorum_config_same(a, c)); /* another need */
	assert_false(quorum_config_same(a, d)); /* another monitor's config */
	assert_int_equal(quorum_new(a, "00000000000000aa", 0, &old), 0);
	/* Nobody fresh for stale_ms after the start: lost, said once. */
	assert_int_equal(quorum_check(old, STALE), QUORUM_LOST);
	assert_int_equal(quorum_check(old, STALE + 1), 0);
	assert_int_equal(quorum_new(b, "00000000000000ab", STALE, &told), 0);
	assert_int_equal(quorum_new(b, "00000000000000ac", STALE, &untold), 0);
	quorum_carry(told, old);
	assert_int_equal(quorum_check(told, 2 * STALE), 0);
	assert_int_equal(quorum_check(untold, 2 * STALE), QUORUM_LOST);
	quorum_free(old);
	quorum_free(told);
	quorum_free(untold);
	quorum_fixture_free(a);
	quorum_fixture_free(b);
	quorum_fixture_free(c);
	quorum_fixture_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_switch_needs_two_down_and_target_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failback_needs_two_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_quorum_moves_nothing, setup, teardown),
		cmocka_unit_test(test_reload_carry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
