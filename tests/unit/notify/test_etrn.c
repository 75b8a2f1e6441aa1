/*
 * test_etrn.c -- the pure parts of etrn.c: which reply codes mean the
 * queue run started, their meanings, and the ETRN argument for a zone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "etrn.h"

static void
test_etrn_pure(void **state)
{
	char b[64];

	(void)state;
	assert_true(etrn_code_accepted(250));
	assert_true(etrn_code_accepted(251));
	assert_true(etrn_code_accepted(252));
	assert_true(etrn_code_accepted(253));
	assert_false(etrn_code_accepted(458));
	assert_false(etrn_code_accepted(459));
	assert_false(etrn_code_accepted(500));
	assert_false(etrn_code_accepted(502));
	assert_false(etrn_code_accepted(0));
	assert_string_equal(etrn_code_meaning(250), "queuing started");
	assert_string_equal(etrn_code_meaning(458), "unable to queue messages");
	assert_string_equal(etrn_code_meaning(459), "node not allowed");
	assert_string_equal(etrn_code_meaning(502), "ETRN not supported");
	assert_string_equal(etrn_zone_arg("example.com.", b, sizeof(b)), "example.com");
	assert_string_equal(etrn_zone_arg("example.com", b, sizeof(b)), "example.com");
	assert_string_equal(etrn_zone_arg("@example.com", b, sizeof(b)), "@example.com");
	assert_null(etrn_zone_arg(".", b, sizeof(b)));
	assert_null(etrn_zone_arg("", b, sizeof(b)));
	assert_null(etrn_zone_arg("a b", b, sizeof(b)));
	assert_null(etrn_zone_arg("a\r\nQUIT", b, sizeof(b)));
	assert_null(etrn_zone_arg("example.com", b, 5));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etrn_pure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
