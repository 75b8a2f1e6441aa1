/*
 * test_round_verify.c -- which zones a round reads (round_verify.c), on
 * simulated time: a new zone is read at once, a zone read fine is not
 * asked again before verify_interval, then only its SOA serial is asked
 * and its records read only when the serial changed; a failed read or
 * update, our own update and a failed SOA query each lead to a full read;
 * a clock set back counts as due.  And the memory kept across rounds:
 * built per config, rebuilt for another one, dirty/wrote per zone, and
 * the compare-and-swap prerequisite built from a view.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "config.h"
#include "round_verify.h"

#define MIN 60000u

static void
test_decide_steady(void **state)
{
	struct round_verify_zone z = {0};
	uint64_t t = 1000000;

	(void)state;
	/* Never read: ask the serial and read every record. */
	assert_int_equal(round_verify_decide(&z, t, MIN), ROUND_VERIFY_READ);
	assert_true(round_verify_answer(&z, ROUND_VERIFY_READ, true, 7, t));
	/* Rounds inside verify_interval ask nothing. */
	for (uint64_t dt = 0; dt < MIN; dt += 10000)
		assert_int_equal(round_verify_decide(&z, t + dt, MIN), ROUND_VERIFY_CACHED);
	/* Due: the serial only, unchanged -> no record read. */
	assert_int_equal(round_verify_decide(&z, t + MIN, MIN), ROUND_VERIFY_SOA);
	assert_false(round_verify_answer(&z, ROUND_VERIFY_SOA, true, 7, t + MIN));
	assert_int_equal(round_verify_decide(&z, t + MIN + 1, MIN), ROUND_VERIFY_CACHED);
	/* A hand change bumps the serial: found at the next verification. */
	assert_int_equal(round_verify_decide(&z, t + 2 * MIN, MIN), ROUND_VERIFY_SOA);
	assert_true(round_verify_answer(&z, ROUND_VERIFY_SOA, true, 8, t + 2 * MIN));
	assert_int_equal(round_verify_decide(&z, t + 2 * MIN + 1, MIN), ROUND_VERIFY_CACHED);
	/* Serial arithmetic does not matter: any difference is a change. */
	assert_true(round_verify_answer(&z, ROUND_VERIFY_SOA, true, 1, t + 3 * MIN));
}

static void
test_decide_faults(void **state)
{
	struct round_verify_zone z = {0};
	uint64_t t = 5000000;

	(void)state;
	round_verify_answer(&z, ROUND_VERIFY_READ, true, 3, t);
	/* A failed read or update: read again in the very next round. */
	z.dirty = true;
	assert_int_equal(round_verify_decide(&z, t + 1, MIN), ROUND_VERIFY_READ);
	assert_true(round_verify_answer(&z, ROUND_VERIFY_READ, true, 3, t + 1));
	assert_false(z.dirty);
	/* Our own update changed the serial: read in full at once. */
	z.serial_known = false;
	assert_int_equal(round_verify_decide(&z, t + 2, MIN), ROUND_VERIFY_READ);
	round_verify_answer(&z, ROUND_VERIFY_READ, true, 4, t + 2);
	/* No serial came back: read the records, and again next round. */
	assert_true(round_verify_answer(&z, ROUND_VERIFY_SOA, false, 0, t + MIN + 2));
	assert_int_equal(round_verify_decide(&z, t + MIN + 3, MIN), ROUND_VERIFY_READ);
	round_verify_answer(&z, ROUND_VERIFY_READ, true, 4, t + MIN + 3);
	/* The clock set back: due at once rather than never. */
	assert_int_equal(round_verify_decide(&z, t, MIN), ROUND_VERIFY_SOA);
	/* Zero interval: every round asks the serial. */
	assert_int_equal(round_verify_decide(&z, t + MIN + 3, 0), ROUND_VERIFY_SOA);
}

static const char *conf = "[general]\nlog = stderr\n[dns]\nserver = 127.0.0.1\nverify_interval = 30s\n"
			  "[server a]\naddress = 192.0.2.1\nname = mx1.example.com\nchecks = smtp\n"
			  "[server b]\naddress = 192.0.2.2\nname = mx2.example.com\nchecks = smtp\n"
			  "[group g]\nservers = a b\nzones = example.com example.net\n"
			  "records = mail\ntype = CNAME\n";

static void
test_memory(void **state)
{
	struct config *c1 = NULL, *c2 = NULL;
	struct config_errors errs = {0};
	struct round_verify *vf = NULL, *kept;
	const char *v[] = {"mx1.example.com."};
	ldns_rdf *owner = NULL;
	ldns_rr_list *exp = NULL;

	(void)state;
	assert_int_equal(config_load_string("t.conf", conf, &c1, &errs), 0);
	config_errors_free(&errs);
	assert_int_equal(config_load_string("t.conf", conf, &c2, &errs), 0);
	config_errors_free(&errs);
	assert_int_equal(c1->dns.verify_interval_ms, 30000);
	assert_int_equal(round_verify_fit(&vf, c1), 0);
	assert_non_null(vf);
	kept = vf;
	vf->zones[0][1].serial_known = true;
	assert_int_equal(round_verify_fit(&vf, c1), 0);
	assert_ptr_equal(vf, kept); /* same config: kept */
	round_verify_dirty(vf, 0, 1);
	assert_true(vf->zones[0][1].dirty);
	round_verify_wrote(vf, 0, 1);
	assert_false(vf->zones[0][1].serial_known);
	assert_int_equal(round_verify_fit(&vf, c2), 0);
	assert_false(vf->zones[0][1].dirty); /* another config: anew */

	/* The prerequisite from the view: the owner and the RRset. */
	round_verify_prereq(&vf->dns[0]->zones[0].recs[0], "example.com.", "mail",
			    LDNS_RR_TYPE_CNAME, &owner, &exp);
	assert_non_null(owner);
	assert_null(exp); /* nothing seen yet: no prerequisite */
	ldns_rdf_deep_free(owner);
	assert_int_equal(failover_dns_set(vf->dns[0], 0, 0, FAILOVER_REC_PRESENT, v, 1, 300, NULL),
			 0);
	round_verify_prereq(&vf->dns[0]->zones[0].recs[0], "example.com.", "mail",
			    LDNS_RR_TYPE_CNAME, &owner, &exp);
	assert_non_null(exp);
	assert_int_equal(ldns_rr_list_rr_count(exp), 1);
	ldns_rr_list_deep_free(exp);
	ldns_rdf_deep_free(owner);
	round_verify_free(vf);
	config_free(c1);
	config_free(c2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_steady),
		cmocka_unit_test(test_decide_faults),
		cmocka_unit_test(test_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
