/*
 * test_failover_already.c -- a zone whose update was refused as a conflict
 * and whose records were found already on the wanted server
 * (FAILOVER_ZONE_ALREADY): without [quorum] it is the switch as before, one
 * SWITCHED event; with [quorum] another monitor made it, so the group
 * adopts the new server silently (no SWITCHED, no SWITCH_FAILED, hold_down
 * from now), and records found already there on a later round say nothing
 * either.  A monitor whose own update moved a zone still reports.  A switch
 * whose state save was lost is named by the switch reported after the
 * restart, alone; with [quorum] it may have been another's: silent.
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
#include "state.h"

#define T0 1700000000000ULL

static const char conf[] = "[general]\ninterval = 10s\n"
			   "[dns]\nserver = 127.0.0.1\n"
			   "[server mx1]\naddress = 192.0.2.1\nname = mx1.example.com\n"
			   "checks = tcp://192.0.2.1:25\n"
			   "[server mx2]\naddress = 192.0.2.2\nname = mx2.example.com\n"
			   "checks = tcp://192.0.2.2:25\n"
			   "[group mail]\nservers = mx1 mx2\nzones = a.test b.test\n"
			   "records = mx\ntype = CNAME\n";

struct fx {
	struct config *cfg;
	struct state *st;
	struct failover_events ev;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct config_errors errs = {0};

	assert_non_null(f);
	if (config_load_string("test.conf", conf, &f->cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
		fail();
	}
	config_errors_free(&errs);
	assert_int_equal(state_new(f->cfg, &f->st), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	failover_events_free(&f->ev);
	state_free(f->st);
	config_free(f->cfg);
	free(f);
	return 0;
}

/* Both zones' records point at @a (zone a.test) and @b (b.test). */
static struct failover_dns *
seen(struct fx *f, const char *a, const char *b)
{
	struct failover_dns *d = NULL;
	const char *va[] = {a}, *vb[] = {b};

	assert_int_equal(failover_dns_new(f->cfg, 0, &d), 0);
	assert_int_equal(failover_dns_set(d, 0, 0, FAILOVER_REC_PRESENT, va, 1, 60, NULL), 0);
	assert_int_equal(failover_dns_set(d, 1, 0, FAILOVER_REC_PRESENT, vb, 1, 60, NULL), 0);
	return d;
}

/* One decision and commit with zone statuses @zs (NULL: all applied);
 * @return the plan's number of changes. */
static size_t
round_at(struct fx *f, uint64_t now, const char *a, const char *b, const int *zs)
{
	struct failover_dns *d = seen(f, a, b);
	struct failover_plan *p = NULL;
	size_t n;

	failover_events_clear(&f->ev);
	assert_int_equal(failover_plan(f->st->failover, f->cfg, 0, f->st->health, d, now, &p), 0);
	n = p->nchanges;
	assert_true(failover_commit(f->st->failover, f->cfg, p, zs, now, now, &f->ev, NULL) >= 0);
	failover_plan_free(p);
	failover_dns_free(d);
	return n;
}

static size_t
count(const struct fx *f, enum failover_event_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < f->ev.n; i++)
		n += f->ev.v[i].type == t;
	return n;
}

/* mx1 up and active, then pinned down: the plan switches to mx2. */
static void
start_on_mx1(struct fx *f)
{
	assert_int_equal(health_set_pin(f->st->health, 0, HEALTH_PIN_UP, 0, T0, NULL), 1);
	assert_int_equal(health_set_pin(f->st->health, 1, HEALTH_PIN_UP, 0, T0, NULL), 1);
	assert_int_equal(round_at(f, T0, "mx1.example.com.", "mx1.example.com.", NULL), 0);
	assert_int_equal(failover_active(f->st->failover, f->cfg, 0, NULL), 0);
	assert_int_equal(health_set_pin(f->st->health, 0, HEALTH_PIN_DOWN, 0, T0 + 1000, NULL),
			 1);
}

static void
test_already_without_quorum_is_the_switch(void **state)
{
	struct fx *f = *state;
	const int zs[] = {FAILOVER_ZONE_ALREADY, FAILOVER_ZONE_ALREADY};

	start_on_mx1(f);
	assert_int_equal(round_at(f, T0 + 2000, "mx1.example.com.", "mx1.example.com.", zs), 2);
	assert_int_equal(count(f, FAILOVER_EV_SWITCHED), 1);
	assert_int_equal(count(f, FAILOVER_EV_SWITCH_FAILED), 0);
	assert_int_equal(failover_active(f->st->failover, f->cfg, 0, NULL), 1);
}

static void
test_already_with_quorum_is_silent(void **state)
{
	struct fx *f = *state;
	const int zs[] = {FAILOVER_ZONE_ALREADY, FAILOVER_ZONE_ALREADY};
	struct failover_plan *p = NULL;
	struct failover_dns *d;

	f->cfg->quorum.enabled = true;
	start_on_mx1(f);
	assert_int_equal(round_at(f, T0 + 2000, "mx1.example.com.", "mx1.example.com.", zs), 2);
	assert_int_equal(f->ev.n, 0);
	assert_int_equal(failover_active(f->st->failover, f->cfg, 0, NULL), 1);
	/* Converged: the next round needs nothing and says nothing. */
	assert_int_equal(round_at(f, T0 + 3000, "mx2.example.com.", "mx2.example.com.", NULL), 0);
	assert_int_equal(f->ev.n, 0);
	/* hold_down counts from the adoption: mx1 back up is held. */
	assert_int_equal(health_set_pin(f->st->health, 0, HEALTH_PIN_UP, 0, T0 + 4000, NULL), 1);
	d = seen(f, "mx2.example.com.", "mx2.example.com.");
	assert_int_equal(failover_plan(f->st->failover, f->cfg, 0, f->st->health, d, T0 + 5000, &p),
			 0);
	assert_int_equal(p->verdict, FAILOVER_HELD);
	assert_int_equal(p->nchanges, 0);
	failover_plan_free(p);
	failover_dns_free(d);
	f->cfg->quorum.enabled = false;
}

static void
test_found_switched_with_quorum_is_silent(void **state)
{
	struct fx *f = *state;

	f->cfg->quorum.enabled = true;
	start_on_mx1(f);
	/* Another monitor switched before this one read: nothing to change. */
	assert_int_equal(round_at(f, T0 + 2000, "mx2.example.com.", "mx2.example.com.", NULL), 0);
	assert_int_equal(count(f, FAILOVER_EV_SWITCHED), 0);
	assert_int_equal(count(f, FAILOVER_EV_SWITCH_COMPLETED), 0);
	assert_int_equal(failover_active(f->st->failover, f->cfg, 0, NULL), 1);
	f->cfg->quorum.enabled = false;
}

static void
test_own_update_with_quorum_reports(void **state)
{
	struct fx *f = *state;

	f->cfg->quorum.enabled = true;
	start_on_mx1(f);
	/* This monitor moved every zone: the switch is its event. */
	assert_int_equal(round_at(f, T0 + 2000, "mx1.example.com.", "mx1.example.com.", NULL), 2);
	assert_int_equal(count(f, FAILOVER_EV_SWITCHED), 1);
	assert_int_equal(f->ev.n, 1);
	f->cfg->quorum.enabled = false;
}

/* Two monitors race in one round and split the zones: the one that moved
 * the first zone (a.test, here this one) reports the switch, naming its
 * zone; the other (test_race_lost_lead_is_silent) says nothing: one
 * "switched" for the deployment. */
static void
test_race_won_lead_reports(void **state)
{
	struct fx *f = *state;
	const int zs[] = {0, FAILOVER_ZONE_ALREADY};

	f->cfg->quorum.enabled = true;
	start_on_mx1(f);
	assert_int_equal(round_at(f, T0 + 2000, "mx1.example.com.", "mx1.example.com.", zs), 2);
	assert_int_equal(count(f, FAILOVER_EV_SWITCHED), 1);
	assert_int_equal(f->ev.n, 1);
	assert_int_equal(f->ev.v[0].nzones, 1);
	assert_int_equal(f->ev.v[0].zones[0], 0);
	assert_int_equal(failover_active(f->st->failover, f->cfg, 0, NULL), 1);
	f->cfg->quorum.enabled = false;
}

static void
test_race_lost_lead_is_silent(void **state)
{
	struct fx *f = *state;
	const int zs[] = {FAILOVER_ZONE_ALREADY, 0};

	f->cfg->quorum.enabled = true;
	start_on_mx1(f);
	assert_int_equal(round_at(f, T0 + 2000, "mx1.example.com.", "mx1.example.com.", zs), 2);
	assert_int_equal(f->ev.n, 0);
	assert_int_equal(failover_active(f->st->failover, f->cfg, 0, NULL), 1);
	/* Converged: nothing more to say next round either. */
	assert_int_equal(round_at(f, T0 + 3000, "mx2.example.com.", "mx2.example.com.", NULL), 0);
	assert_int_equal(f->ev.n, 0);
	f->cfg->quorum.enabled = false;
}

/* The other monitor switched a.test, failed b.test; this one, a round
 * later, finds a.test moved and moves b.test: no second "switched". */
static void
test_found_one_zone_moved_with_quorum_completes(void **state)
{
	struct fx *f = *state;

	f->cfg->quorum.enabled = true;
	start_on_mx1(f);
	assert_int_equal(round_at(f, T0 + 2000, "mx2.example.com.", "mx1.example.com.", NULL), 1);
	assert_int_equal(count(f, FAILOVER_EV_SWITCHED), 0);
	assert_int_equal(count(f, FAILOVER_EV_SWITCH_COMPLETED), 1);
	assert_int_equal(failover_active(f->st->failover, f->cfg, 0, NULL), 1);
	f->cfg->quorum.enabled = false;
}

/*
 * A restart after a kill between the zones file and the state file: the
 * zones say both records were written for mx2, the group is remembered on
 * mx1 (zones_newer).  Alone, that switch was this monitor's and is
 * reported naming both zones; with [quorum] the records written there may
 * be another monitor's switch adopted silently: still nothing to say.
 */
static void
lost_save(struct fx *f, bool quorum)
{
	struct failover_group_mem *m = &f->st->failover->groups[0];

	f->cfg->quorum.enabled = quorum;
	start_on_mx1(f);
	m->written[0] = m->written[1] = 1;
	m->zones_newer = true;
	assert_int_equal(round_at(f, T0 + 2000, "mx2.example.com.", "mx2.example.com.", NULL), 0);
	if (quorum) {
		assert_int_equal(f->ev.n, 0);
	} else {
		assert_int_equal(f->ev.n, 1);
		assert_int_equal(f->ev.v[0].type, FAILOVER_EV_SWITCHED);
		assert_int_equal(f->ev.v[0].nzones, 2);
	}
	assert_int_equal(failover_active(f->st->failover, f->cfg, 0, NULL), 1);
	assert_false(m->zones_newer);
	assert_int_equal(round_at(f, T0 + 3000, "mx2.example.com.", "mx2.example.com.", NULL), 0);
	assert_int_equal(f->ev.n, 0);
	f->cfg->quorum.enabled = false;
}

static void
test_lost_save_alone_names_the_zones(void **state)
{
	lost_save(*state, false);
}

static void
test_lost_save_with_quorum_is_silent(void **state)
{
	lost_save(*state, true);
}

/* The same without [quorum]: the switch, as before. */
static void
test_found_one_zone_moved_alone_switches(void **state)
{
	struct fx *f = *state;

	start_on_mx1(f);
	assert_int_equal(round_at(f, T0 + 2000, "mx2.example.com.", "mx1.example.com.", NULL), 1);
	assert_int_equal(count(f, FAILOVER_EV_SWITCHED), 1);
}

static void
test_conflict_elsewhere_still_fails(void **state)
{
	struct fx *f = *state;
	const int zs[] = {MXF_ECONFLICT, FAILOVER_ZONE_ALREADY};

	f->cfg->quorum.enabled = true;
	start_on_mx1(f);
	assert_int_equal(round_at(f, T0 + 2000, "mx1.example.com.", "mx1.example.com.", zs), 2);
	assert_int_equal(count(f, FAILOVER_EV_SWITCH_FAILED), 1);
	assert_int_equal(count(f, FAILOVER_EV_SWITCHED), 0);
	/* Not switched: one zone is neither ours nor converged. */
	assert_int_equal(failover_active(f->st->failover, f->cfg, 0, NULL), 0);
	f->cfg->quorum.enabled = false;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_already_without_quorum_is_the_switch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_already_with_quorum_is_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_found_switched_with_quorum_is_silent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_update_with_quorum_reports, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_conflict_elsewhere_still_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_race_won_lead_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race_lost_lead_is_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_found_one_zone_moved_with_quorum_completes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_save_alone_names_the_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_save_with_quorum_is_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_found_one_zone_moved_alone_switches, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
