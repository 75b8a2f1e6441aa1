/*
 * test_audit_mtasts.c -- the MTA-STS policy file and mx: pattern matching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "audit_mtasts.h"
#include "mxf.h"

static struct audit_mtasts_policy p;

static int
parse(const char *s)
{
	return audit_mtasts_policy_parse(s, strlen(s), &p);
}

static void
test_policy(void **state)
{
	(void)state;
	assert_int_equal(parse("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\n"
			       "mx: *.backup.example.com\r\nmax_age: 604800\r\n"),
			 0);
	assert_int_equal(p.mode, AUDIT_MTASTS_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.nmx, 2);
	assert_string_equal(p.mx[1], "*.backup.example.com");
	assert_true(audit_mtasts_policy_matches(&p, "MX1.example.com."));
	assert_true(audit_mtasts_policy_matches(&p, "a.backup.example.com"));
	assert_false(audit_mtasts_policy_matches(&p, "a.b.backup.example.com"));
	assert_false(audit_mtasts_policy_matches(&p, "backup.example.com"));
	assert_false(audit_mtasts_policy_matches(&p, "mx2.example.com"));

	assert_int_equal(parse("version: STSv1\nmode: none\nmax_age: 0\n"), 0);
	assert_int_equal(p.mode, AUDIT_MTASTS_NONE);
	assert_int_equal(parse("version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n"
			       "future_key: whatever\n"),
			 0);
	assert_int_equal(p.mode, AUDIT_MTASTS_TESTING);
}

static void
test_bad(void **state)
{
	static const struct {
		const char *body, *why;
	} bad[] = {
		{"", "empty policy"},
		{"mode: enforce\nversion: STSv1\n", "first line"},
		{"version: STSv2\nmode: enforce\n", "version must be STSv1"},
		{"version: STSv1\nmode: strict\nmax_age: 1\nmx: a.example\n", "is not enforce"},
		{"version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx: line"},
		{"version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age: line"},
		{"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", "max_age"},
		{"version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", "not a host name"},
		{"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1x\n", "max_age"},
		{"version: STSv1\nmode enforce\n", "line 2: not \"key: value\""},
		{"version: STSv1\nmode: enforce\nmode: none\n", "mode given twice"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i].body);
		if (r == 0 || !strstr(p.error, bad[i].why))
			fail_msg("%s: got %d \"%s\", want \"%s\"", bad[i].body, r, p.error,
				 bad[i].why);
	}
}

static void
test_match(void **state)
{
	(void)state;
	assert_true(audit_mtasts_mx_match("mx.example.com", "mx.example.com."));
	assert_true(audit_mtasts_mx_match("*.example.com", "mx.EXAMPLE.com"));
	assert_false(audit_mtasts_mx_match("*.example.com", "example.com"));
	assert_false(audit_mtasts_mx_match("*.example.com", ".example.com"));
	assert_false(audit_mtasts_mx_match("mx.example.com", "mx.example.co"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
