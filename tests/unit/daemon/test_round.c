/*
 * test_round.c -- the pure decisions of a round (round_rules.c): the exit
 * code of every summary, the witness verdict with none, one, some and all
 * witnesses failing, each check state's outcome and each failover event's
 * notice kind, and the status of each zone after a round's updates.  (The
 * backoff of a failing zone is failover's and tested in
 * test_failover.c; pin reconciliation is pins.c's, in test_pins.c.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mxf.h"
#include "round_rules.h"

static int
code(bool all_down, bool dns_failed, bool any_down, bool any_check_failed)
{
	struct round_summary s = {
		.all_down = all_down,
		.dns_failed = dns_failed,
		.any_down = any_down,
		.any_check_failed = any_check_failed,
	};

	return round_rules_exit_code(&s);
}

static void
test_exit_code(void **state)
{
	(void)state;
	assert_int_equal(code(false, false, false, false), MXF_EXIT_OK);
	assert_int_equal(code(false, false, true, false), MXF_EXIT_DEGRADED);
	assert_int_equal(code(false, false, false, true), MXF_EXIT_DEGRADED);
	assert_int_equal(code(false, false, true, true), MXF_EXIT_DEGRADED);
	assert_int_equal(code(false, true, false, false), MXF_EXIT_DNS);
	assert_int_equal(code(false, true, true, true), MXF_EXIT_DNS);
	assert_int_equal(code(true, false, false, false), MXF_EXIT_ALLDOWN);
	assert_int_equal(code(true, true, true, true), MXF_EXIT_ALLDOWN);
}

/* Every one of the 16 summaries: the most serious finding wins. */
static void
test_exit_code_all(void **state)
{
	(void)state;
	for (unsigned m = 0; m < 16; m++) {
		bool all_down = m & 8, dns = m & 4, down = m & 2, failed = m & 1;
		int want = all_down	    ? MXF_EXIT_ALLDOWN
			   : dns	    ? MXF_EXIT_DNS
			   : down || failed ? MXF_EXIT_DEGRADED
					    : MXF_EXIT_OK;

		assert_int_equal(code(all_down, dns, down, failed), want);
	}
}

static void
test_witness(void **state)
{
	(void)state;
	assert_int_equal(round_rules_witness(0, 0), FAILOVER_WITNESS_NONE);
	assert_int_equal(round_rules_witness(1, 0), FAILOVER_WITNESS_OK);
	assert_int_equal(round_rules_witness(1, 1), FAILOVER_WITNESS_ISOLATED);
	assert_int_equal(round_rules_witness(3, 0), FAILOVER_WITNESS_OK);
	assert_int_equal(round_rules_witness(3, 1), FAILOVER_WITNESS_OK);
	assert_int_equal(round_rules_witness(3, 2), FAILOVER_WITNESS_OK);
	assert_int_equal(round_rules_witness(3, 3), FAILOVER_WITNESS_ISOLATED);
}

/*
 * A plan of group 1 with four zones: 0 has no changes, 1, 2 and 3 have
 * some; the round sent zone 1 two updates (one failing), zone 2 one that
 * went through and nothing for zone 3 (backing off).  Updates of group 0
 * are not this plan's.
 */
static void
test_zone_status(void **state)
{
	(void)state;
	struct failover_zone_plan zones[4] = {
		{.nchanges = 0},
		{.nchanges = 2},
		{.nchanges = 1},
		{.nchanges = 1},
	};
	struct failover_plan p = {.group = 1, .nzones = 4, .zones = zones};
	struct round_ref refs[] = {
		{0, 1, 0, MXF_EIO, false},	  /* another group: skipped */
		{1, 1, 0, 0, false},		  /* zone 1: the first goes through ... */
		{1, 1, 1, MXF_ERCODE, false},	  /* ... the second fails */
		{1, 1, 2, MXF_ETIMEDOUT, false}, /* the first failure is kept */
		{1, 2, 0, 0, false},		  /* zone 2 applied */
		{1, 9, 0, MXF_EIO, false},	  /* no such zone: skipped */
	};
	int zs[4] = {7, 7, 7, 7};

	round_rules_zone_status(&p, refs, sizeof(refs) / sizeof(refs[0]), zs);
	assert_int_equal(zs[0], 0);
	assert_int_equal(zs[1], MXF_ERCODE);
	assert_int_equal(zs[2], 0);
	assert_int_equal(zs[3], FAILOVER_ZONE_NOT_TRIED);

	/* Found already made after a conflict: zone 1 wholly (ALREADY), zone 2
	 * only in part (one of ours went through: applied), zone 3 already
	 * but then failing (the failure). */
	struct round_ref again[] = {
		{1, 1, 0, 0, true}, {1, 1, 1, 0, true}, {1, 2, 0, 0, true},
		{1, 2, 1, 0, false}, {1, 3, 0, 0, true}, {1, 3, 1, MXF_ECONFLICT, false},
	};
	round_rules_zone_status(&p, again, sizeof(again) / sizeof(again[0]), zs);
	assert_int_equal(zs[0], 0);
	assert_int_equal(zs[1], FAILOVER_ZONE_ALREADY);
	assert_int_equal(zs[2], 0);
	assert_int_equal(zs[3], MXF_ECONFLICT);

	/* Nothing sent: zones with changes not tried, the others fine. */
	round_rules_zone_status(&p, NULL, 0, zs);
	assert_int_equal(zs[0], 0);
	assert_int_equal(zs[1], FAILOVER_ZONE_NOT_TRIED);
	assert_int_equal(zs[2], FAILOVER_ZONE_NOT_TRIED);
	assert_int_equal(zs[3], FAILOVER_ZONE_NOT_TRIED);

	/* A failure first: that zone failed. */
	refs[1].status = MXF_EIO;
	round_rules_zone_status(&p, refs, 3, zs);
	assert_int_equal(zs[1], MXF_EIO);
}

static void
test_outcome(void **state)
{
	(void)state;
	assert_int_equal(round_rules_outcome(CHECK_STATE_UP), HEALTH_OK);
	assert_int_equal(round_rules_outcome(CHECK_STATE_WARNING), HEALTH_WARN);
	assert_int_equal(round_rules_outcome(CHECK_STATE_DOWN), HEALTH_FAIL);
	assert_int_equal(round_rules_outcome((enum check_state)99), HEALTH_FAIL);
}

static void
test_notify_kind(void **state)
{
	static const struct {
		enum failover_event_type ev;
		enum notify_kind kind;
	} map[] = {
		{FAILOVER_EV_SERVER_DOWN, NOTIFY_SERVER_DOWN},
		{FAILOVER_EV_SERVER_UP, NOTIFY_SERVER_UP},
		{FAILOVER_EV_SWITCHED, NOTIFY_SWITCHED},
		{FAILOVER_EV_SWITCHED_BACK, NOTIFY_SWITCHED},
		{FAILOVER_EV_SWITCH_FAILED, NOTIFY_SWITCH_FAILED},
		{FAILOVER_EV_ALL_DOWN, NOTIFY_ALL_DOWN},
		{FAILOVER_EV_ISOLATED, NOTIFY_ISOLATED},
		{FAILOVER_EV_ISOLATION_OVER, NOTIFY_ISOLATION_OVER},
		{FAILOVER_EV_CHANGED_BY_HAND, NOTIFY_CHANGED_BY_HAND},
		{FAILOVER_EV_RECORD_MISSING, NOTIFY_RECORD_MISSING},
		{FAILOVER_EV_SWITCH_COMPLETED, NOTIFY_SWITCH_COMPLETED},
		{FAILOVER_EV_AUDIT_FINDING, NOTIFY_AUDIT_FINDING},
		{FAILOVER_EV_AUDIT_CLEAR, NOTIFY_AUDIT_CLEAR},
		{FAILOVER_EV_QUORUM_LOST, NOTIFY_QUORUM_LOST},
		{FAILOVER_EV_QUORUM_BACK, NOTIFY_QUORUM_BACK},
	};

	(void)state;
	for (size_t i = 0; i < MXF_ARRAY_SIZE(map); i++)
		assert_int_equal(round_rules_notify_kind(map[i].ev), map[i].kind);
	/* Not a known event: a server-down notice, never nothing. */
	assert_int_equal(round_rules_notify_kind((enum failover_event_type)99), NOTIFY_SERVER_DOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code),   cmocka_unit_test(test_exit_code_all),
		cmocka_unit_test(test_witness),	    cmocka_unit_test(test_outcome),
		cmocka_unit_test(test_notify_kind), cmocka_unit_test(test_zone_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
