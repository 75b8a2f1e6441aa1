/*
 * test_failover_missing.c -- a record that must exist (a zone with
 * zone_records_required: DNS_Failover's zone1) and does not is reported by
 * failover_commit() as one RECORD_MISSING event per streak, also across a
 * state file (`once` passes); a zone whose records need not exist (zone2)
 * and a zone that could not be read say nothing.
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

static const char dnsf_conf[] =
	"[ZONES]\nzone1 = domain1.tld\nzone2 = domain2.tld\n"
	"[MX]\nmxip1 = 1.2.3.4\nmxip2 = 1.2.3.5\nmx1 = mx1.example.com\nmx2 = mx2.example.com\n"
	"[RECORDS]\nrecord_mx = mx\nrecord_smtp = smtp\nrecord_imap = imap\n"
	"record_mail = mail\nrecord_pop3 = pop3\n"
	"[PORTS]\nsmtp = 25\nimaps = 993\nhttps = 443\nmysql = 3306\nport1 = 22\nport2 = 22\n"
	"[SETTINGS]\nttl = 60\nns = 192.168.0.2\nlogfile = /var/log/bind/bind.log\n"
	"space_limit = 97\npartition = /var/\nuser = root\n"
	"[MAIL]\nsender_email = noreply@example.com\nrecipient_email = r@domain1.tld\n";

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
	assert_int_equal(config_load_string("config.cfg", dnsf_conf, &f->cfg, &errs), 0);
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

/*
 * One round: every record points at mx1, but those of @absent1 (a bit per
 * record of zone1) and @absent2 (zone2) do not exist; @z1_failed: zone1
 * could not be read.  @return the number of RECORD_MISSING events.
 */
static int
round_once(struct fx *f, unsigned absent1, unsigned absent2, bool z1_failed)
{
	const struct config_group *g = &f->cfg->groups[0];
	const char *mx1[] = {"mx1.example.com."};
	struct failover_dns *d = NULL;
	struct failover_plan *p = NULL;
	int n = 0;

	assert_int_equal(failover_dns_new(f->cfg, 0, &d), 0);
	for (size_t z = 0; z < g->nzones; z++) {
		for (size_t r = 0; r < g->nrecords; r++) {
			unsigned absent = z == 0 ? absent1 : absent2;

			if (z == 0 && z1_failed)
				assert_int_equal(failover_dns_set(d, z, r, FAILOVER_REC_FAILED,
								  NULL, 0, -1, "timed out"),
						 0);
			else if (absent & (1u << r))
				assert_int_equal(failover_dns_set(d, z, r, FAILOVER_REC_ABSENT,
								  NULL, 0, -1, NULL),
						 0);
			else
				assert_int_equal(failover_dns_set(d, z, r, FAILOVER_REC_PRESENT,
								  mx1, 1, 60, NULL),
						 0);
		}
	}
	failover_events_clear(&f->ev);
	assert_int_equal(failover_plan(f->st->failover, f->cfg, 0, f->st->health, d, T0, &p), 0);
	assert_true(failover_commit(f->st->failover, f->cfg, p, NULL, T0, T0, &f->ev, NULL) >= 0);
	for (size_t i = 0; i < f->ev.n; i++) {
		const struct failover_event *e = &f->ev.v[i];

		if (e->type != FAILOVER_EV_RECORD_MISSING)
			continue;
		n++;
		assert_int_equal(e->group, 0);
		assert_int_equal(e->zone, 0);
		assert_true(absent1 & (1u << e->record));
		assert_non_null(strstr(e->detail, "does not exist in zone domain1.tld."));
	}
	failover_plan_free(p);
	failover_dns_free(d);
	return n;
}

static void
test_names(void **state)
{
	enum failover_event_type t;

	(void)state;
	assert_string_equal(failover_event_name(FAILOVER_EV_RECORD_MISSING), "record missing");
	assert_string_equal(failover_event_id(FAILOVER_EV_RECORD_MISSING), "record_missing");
	assert_int_equal(failover_event_parse("record_missing", &t), 0);
	assert_int_equal(t, FAILOVER_EV_RECORD_MISSING);
}

static void
test_seedconf_requires_zone1(void **state)
{
	struct fx *f = *state;
	const struct config_group *g = &f->cfg->groups[0];

	assert_non_null(g->zone_records_required);
	assert_true(g->zone_records_required[0]);
	assert_false(g->zone_records_required[1]);
}

static void
test_missing_once_per_streak(void **state)
{
	struct fx *f = *state;

	assert_int_equal(round_once(f, 0, 0, false), 0);
	/* mail (record 3) goes missing from zone1: reported once. */
	assert_int_equal(round_once(f, 1u << 3, 0, false), 1);
	assert_non_null(strstr(f->ev.v[0].detail, "mail.domain1.tld."));
	assert_int_equal(round_once(f, 1u << 3, 0, false), 0);
	/* A failed read of zone1 neither reports nor ends the streak. */
	assert_int_equal(round_once(f, 0, 0, true), 0);
	assert_int_equal(round_once(f, 1u << 3, 0, false), 0);
	/* Back, then missing again: a new streak. */
	assert_int_equal(round_once(f, 0, 0, false), 0);
	assert_int_equal(round_once(f, 1u << 3, 0, false), 1);
	/* Two more missing at once: one event each, the old one not again. */
	assert_int_equal(round_once(f, (1u << 3) | 1u | (1u << 4), 0, false), 2);
}

static void
test_zone2_may_lack_records(void **state)
{
	struct fx *f = *state;

	/* mail and pop3 do not exist in zone2: as DNS_Failover, not reported. */
	assert_int_equal(round_once(f, 0, (1u << 3) | (1u << 4), false), 0);
	assert_int_equal(round_once(f, 0, (1u << 3) | (1u << 4), false), 0);
}

static void
test_streak_survives_state_file(void **state)
{
	struct fx *f = *state;
	struct state *st2 = NULL;
	json_t *root = NULL;
	char err[256];

	assert_int_equal(round_once(f, 1u << 1, 0, false), 1);
	/* The next `once` pass reads the state file: no second report. */
	assert_int_equal(state_to_json(f->st, f->cfg, T0, &root), 0);
	assert_int_equal(state_from_json(root, f->cfg, &st2, err, sizeof(err)), 0);
	json_decref(root);
	state_free(f->st);
	f->st = st2;
	assert_int_equal(round_once(f, 1u << 1, 0, false), 0);
	assert_int_equal(round_once(f, 0, 0, false), 0);
	assert_int_equal(round_once(f, 1u << 1, 0, false), 1);
}

static void
test_native_records_need_not_exist(void **state)
{
	struct config *cfg = NULL;
	struct config_errors errs = {0};

	(void)state;
	assert_int_equal(config_load_string(
				 "t.conf",
				 "[dns]\nserver = 192.0.2.53\n"
				 "[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com\n"
				 "checks = smtp\n"
				 "[group mail]\nservers = mx1\nzones = example.com\nrecords = mx\n",
				 &cfg, &errs),
			 0);
	assert_null(cfg->groups[0].zone_records_required);
	config_free(cfg);
	config_errors_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_seedconf_requires_zone1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_once_per_streak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone2_may_lack_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streak_survives_state_file, setup, teardown),
		cmocka_unit_test(test_native_records_need_not_exist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
