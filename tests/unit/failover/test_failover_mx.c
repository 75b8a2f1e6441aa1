/*
 * test_failover_mx.c -- MX groups switch by reordering preferences: the
 * wanted server takes the lowest preference the group's hosts hold, the
 * others keep theirs in group order, hosts outside the group keep their
 * values, no host leaves the set; failback restores the group's order.
 * A set that is not one of those orders (two hosts at the lowest
 * preference, a host twice, an outside host lowest, hosts out of order) is
 * changed by hand and left alone.  Driven through failover_plan() and
 * failover_commit() as the daemon drives them.
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
#define NV 8

static const char conf[] = "[general]\nfall = 1\nrise = 1\nlog = stderr\n"
			   "[dns]\nserver = 127.0.0.1\n"
			   "[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com.\nchecks = smtp\n"
			   "[server mx2]\naddress = 192.0.2.11\nname = mx2.example.com.\nchecks = smtp\n"
			   "[server mx3]\naddress = 192.0.2.12\nname = mx3.example.com.\nchecks = smtp\n"
			   "[group mail]\nservers = mx1 mx2 mx3\nzones = example.com\nrecords = @\n"
			   "type = MX\nhold_down = 0\n";

struct mx {
	struct config *cfg;
	struct health *h;
	struct failover *fo;
	struct failover_events ev;
	struct failover_plan *plan;
	uint64_t now;
	char *val[NV];
	size_t nval;
};

/* DNS holds the NULL-terminated values. */
static void mx_set(struct mx *m, const char *const *v)
{
	for (size_t i = 0; i < m->nval; i++)
		free(m->val[i]);
	m->nval = 0;
	for (; *v; v++)
		m->val[m->nval++] = strdup(*v);
}

static int setup(void **state)
{
	struct mx *m = calloc(1, sizeof(*m));
	struct config_errors errs = {0};
	assert_non_null(m);
	assert_int_equal(config_load_string("t.conf", conf, &m->cfg, &errs), 0);
	config_errors_free(&errs);
	assert_int_equal(health_new(m->cfg, &m->h), 0);
	assert_int_equal(failover_new(m->cfg, &m->fo), 0);
	m->now = T0;
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct mx *m = *state;
	for (size_t i = 0; i < m->nval; i++)
		free(m->val[i]);
	failover_plan_free(m->plan);
	failover_events_free(&m->ev);
	failover_free(m->fo);
	health_free(m->h);
	config_free(m->cfg);
	free(m);
	return 0;
}

/* One round: checks (1 up, 0 down), plan, apply the change, commit. */
static const struct failover_record_plan *mx_round(struct mx *m, int up1, int up2, int up3)
{
	int up[3] = {up1, up2, up3};
	for (size_t i = 0; i < 3; i++) {
		struct health_result r = {up[i] ? HEALTH_OK : HEALTH_FAIL,
					  up[i] ? "250 ok" : "connection refused"};
		assert_true(health_feed(m->h, i, &r, 1, m->now) >= 0);
	}
	struct health_change c;
	failover_events_clear(&m->ev);
	while (health_next_change(m->h, &c))
		assert_true(failover_event_from_health(m->cfg, &c, &m->ev) >= 0);
	struct failover_dns *d;
	assert_int_equal(failover_dns_new(m->cfg, 0, &d), 0);
	assert_int_equal(failover_dns_set(d, 0, 0, FAILOVER_REC_PRESENT,
					  (const char *const *)m->val, m->nval, 300, NULL),
			 0);
	failover_plan_free(m->plan);
	m->plan = NULL;
	assert_int_equal(failover_plan(m->fo, m->cfg, 0, m->h, d, m->now, &m->plan), 0);
	const struct failover_record_plan *rp = &m->plan->zones[0].recs[0];
	if (rp->verdict == FAILOVER_R_CHANGE) {
		const char *v[NV + 1] = {0};
		for (size_t i = 0; i < rp->nnew; i++)
			v[i] = rp->new_values[i];
		mx_set(m, v);
	}
	assert_true(failover_commit(m->fo, m->cfg, m->plan, NULL, m->now, m->now, &m->ev, NULL) >=
		    0);
	failover_dns_free(d);
	m->now += IVL;
	return rp;
}

/* DNS holds exactly the NULL-terminated values, in this order. */
static void assert_set(const struct mx *m, const char *const *v)
{
	size_t n = 0;
	for (; v[n]; n++) {
		assert_true(n < m->nval);
		assert_string_equal(m->val[n], v[n]);
	}
	assert_int_equal(m->nval, n);
}

static size_t ev_count(const struct mx *m, enum failover_event_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < m->ev.n; i++)
		n += m->ev.v[i].type == t;
	return n;
}

static void test_reorder_and_failback(void **state)
{
	struct mx *m = *state;
	mx_set(m, (const char *[]){"10 mx1.example.com.", "20 mx2.example.com.",
				   "30 mx3.example.com.", "40 backup.example.org.", NULL});
	const struct failover_record_plan *rp = mx_round(m, 1, 1, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_KEEP);
	assert_int_equal(rp->points_to, 0);

	/* mx1 dies: mx2 takes 10, mx1 keeps a place after it. */
	rp = mx_round(m, 0, 1, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_CHANGE);
	/* The compare-and-swap prerequisite is the whole set as read. */
	assert_int_equal(rp->nold, 4);
	assert_string_equal(rp->old_values[0], "10 mx1.example.com.");
	assert_string_equal(rp->old_values[3], "40 backup.example.org.");
	assert_set(m, (const char *[]){"10 mx2.example.com.", "20 mx1.example.com.",
				       "30 mx3.example.com.", "40 backup.example.org.", NULL});
	assert_int_equal(ev_count(m, FAILOVER_EV_SWITCHED), 1);

	/* Read back as written: it points at mx2 and is ours, no change. */
	rp = mx_round(m, 0, 1, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_KEEP);
	assert_int_equal(rp->points_to, 1);

	/* mx2 dies too: mx3 first, then mx1 and mx2 in group order. */
	rp = mx_round(m, 0, 0, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_CHANGE);
	assert_set(m, (const char *[]){"10 mx3.example.com.", "20 mx1.example.com.",
				       "30 mx2.example.com.", "40 backup.example.org.", NULL});

	/* Everything back: the group's order again, the backup untouched. */
	rp = mx_round(m, 1, 1, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_CHANGE);
	assert_set(m, (const char *[]){"10 mx1.example.com.", "20 mx2.example.com.",
				       "30 mx3.example.com.", "40 backup.example.org.", NULL});
	assert_int_equal(ev_count(m, FAILOVER_EV_SWITCHED_BACK), 1);
	assert_int_equal(ev_count(m, FAILOVER_EV_CHANGED_BY_HAND), 0);
}

/* A host outside the group between the group's hosts keeps its value; the
 * group's hosts trade theirs around it. */
static void test_outside_host_between(void **state)
{
	struct mx *m = *state;
	mx_set(m, (const char *[]){"10 mx1.example.com.", "15 relay.example.org.",
				   "20 mx2.example.com.", NULL});
	mx_round(m, 1, 1, 1);
	const struct failover_record_plan *rp = mx_round(m, 0, 1, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_CHANGE);
	assert_set(m, (const char *[]){"10 mx2.example.com.", "15 relay.example.org.",
				       "20 mx1.example.com.", NULL});
	/* mx3 is not in the set: it takes the lowest host's (mx2's) place. */
	rp = mx_round(m, 0, 0, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_CHANGE);
	assert_set(m, (const char *[]){"10 mx3.example.com.", "15 relay.example.org.",
				       "20 mx1.example.com.", NULL});
	rp = mx_round(m, 1, 1, 1);
	assert_set(m, (const char *[]){"10 mx1.example.com.", "15 relay.example.org.",
				       "20 mx3.example.com.", NULL});
}

/* Equal preferences behind the lowest one are kept; the reorder still
 * moves the wanted server alone to the lowest. */
static void test_equal_backups(void **state)
{
	struct mx *m = *state;
	mx_set(m, (const char *[]){"10 mx1.example.com.", "20 mx3.example.com.",
				   "20 MX2.Example.COM", NULL});
	const struct failover_record_plan *rp = mx_round(m, 1, 1, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_KEEP); /* order of an RRset is no order */
	rp = mx_round(m, 0, 0, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_CHANGE);
	assert_set(m, (const char *[]){"10 mx3.example.com.", "20 mx1.example.com.",
				       "20 mx2.example.com.", NULL});
	rp = mx_round(m, 0, 0, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_KEEP);
	assert_int_equal(rp->points_to, 2);
}

/* A single record is rewritten: there is nobody to trade with. */
static void test_single_record(void **state)
{
	struct mx *m = *state;
	mx_set(m, (const char *[]){"10 mx1.example.com.", NULL});
	mx_round(m, 1, 1, 1);
	mx_round(m, 0, 1, 1);
	assert_set(m, (const char *[]){"10 mx2.example.com.", NULL});
	mx_round(m, 1, 1, 1);
	assert_set(m, (const char *[]){"10 mx1.example.com.", NULL});
}

/* Sets no switch writes are changed by hand: left alone, reported once,
 * the whole set named. */
static void test_hand_changed_sets(void **state)
{
	struct mx *m = *state;
	static const char *const bad[][4] = {
		{"10 mx2.example.com.", "20 mx2.example.com.", NULL},  /* a host twice */
		{"10 mx1.example.com.", "10 mx2.example.com.", NULL},  /* two lowest */
		{"5 filter.example.org.", "10 mx1.example.com.", "20 mx2.example.com.", NULL},
		{"10 mx1.example.com.", "20 mx3.example.com.", "30 mx2.example.com.", NULL},
		{"10 mx1.example.com.", "twenty mx2.example.com.", NULL}, /* malformed */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mx_set(m, bad[i]);
		const struct failover_record_plan *rp = mx_round(m, 0, 1, 1);
		assert_int_equal(rp->verdict, FAILOVER_R_HAND_CHANGED);
		assert_int_equal(rp->points_to, -1);
		assert_set(m, bad[i]);
		if (i == 0) {
			assert_int_equal(ev_count(m, FAILOVER_EV_CHANGED_BY_HAND), 1);
			const char *d = NULL;
			for (size_t e = 0; e < m->ev.n; e++)
				if (m->ev.v[e].type == FAILOVER_EV_CHANGED_BY_HAND)
					d = m->ev.v[e].detail;
			assert_non_null(strstr(d, "10 mx2.example.com., 20 mx2.example.com."));
			assert_non_null(strstr(d, "not an MX set group mail writes"));
		}
		char *text = NULL;
		assert_int_equal(failover_plan_format(m->plan, m->cfg, m->h, m->now, &text), 0);
		assert_non_null(strstr(text, "not an MX set the group writes"));
		free(text);
	}
	/* Handed back in one of our orders: switched again. */
	mx_set(m, (const char *[]){"10 mx2.example.com.", "20 mx1.example.com.", NULL});
	const struct failover_record_plan *rp = mx_round(m, 1, 1, 1);
	assert_int_equal(rp->verdict, FAILOVER_R_CHANGE);
	assert_set(m, (const char *[]){"10 mx1.example.com.", "20 mx2.example.com.", NULL});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reorder_and_failback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_host_between, setup, teardown),
		cmocka_unit_test_setup_teardown(test_equal_backups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hand_changed_sets, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
