/*
 * test_config_overlap.c -- no record managed by two groups (config_overlap.c):
 * the same owner and type, or a CNAME beside any type, across groups is an
 * error at the later group's records line naming the earlier one's.
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
#include "mxf.h"

static struct config_errors errs;

static int
teardown(void **state)
{
	(void)state;
	config_errors_free(&errs);
	return 0;
}

static void
dump_errors(void)
{
	for (size_t i = 0; i < errs.n; i++)
		print_message("  %s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
}

/* Is there an error at @line whose message contains @needle? */
static int
has_error(int line, const char *needle)
{
	for (size_t i = 0; i < errs.n; i++)
		if (errs.v[i].line == line && strstr(errs.v[i].msg, needle) != NULL)
			return 1;
	dump_errors();
	return 0;
}

/* Lines 1-10: the DNS server and three servers. */
#define SERVERS                                                                                    \
	"[dns]\nserver = 192.0.2.53\n"                                                             \
	"[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com\nchecks = smtp\n"              \
	"[server mx2]\naddress = 192.0.2.11\nname = mx2.example.com\nchecks = smtp\n"

/* Load @text: @return the result; errors are in errs. */
static int
load(const char *text)
{
	struct config *cfg = NULL;
	int e = config_load_string("t.conf", text, &cfg, &errs);

	config_free(cfg);
	return e;
}

static void
test_same_record_same_type(void **state)
{
	(void)state;
	assert_int_equal(load(SERVERS			/* 1-10 */
			      "[group mail]\n"		/* 11 */
			      "servers = mx1 mx2\n"	/* 12 */
			      "zones = example.com\n"	/* 13 */
			      "records = mx smtp\n"	/* 14 */
			      "[group backup]\n"	/* 15 */
			      "servers = mx2 mx1\n"	/* 16 */
			      "zones = Example.COM.\n"	/* 17 */
			      "records = imap SMTP\n"), /* 18 */
			 MXF_ECONFIG);
	assert_true(has_error(18, "group backup: record smtp.example.com CNAME is also managed by "
				  "group mail (t.conf:14)"));
	assert_int_equal(errs.n, 1);
}

static void
test_apex_and_subzone(void **state)
{
	(void)state;
	/* "@" of sub.example.com is "sub" of example.com; type A both. */
	assert_int_equal(load(SERVERS "[group a]\n" /* 11 */
				      "servers = mx1 mx2\n"
				      "zones = example.com\n"
				      "records = sub\n" /* 14 */
				      "type = A\n"
				      "[group b]\n" /* 16 */
				      "servers = mx1 mx2\n"
				      "zones = sub.example.com\n"
				      "records = @\n" /* 19 */
				      "type = A\n"),
			 MXF_ECONFIG);
	assert_true(has_error(19, "group b: record sub.example.com A is also managed by group a "
				  "(t.conf:14)"));
}

static void
test_cname_beside_other_type(void **state)
{
	(void)state;
	assert_int_equal(load(SERVERS "[group mx]\n" /* 11 */
				      "servers = mx1 mx2\n"
				      "zones = example.com\n"
				      "records = mail\n" /* 14 */
				      "type = MX\n"
				      "[group web]\n" /* 16 */
				      "servers = mx1 mx2\n"
				      "zones = example.com\n"
				      "records = mail\n"), /* 19: CNAME */
			 MXF_ECONFIG);
	assert_true(has_error(19, "group web: record mail.example.com CNAME cannot coexist with "
				  "the MX record group mx manages there (t.conf:14)"));
}

static void
test_different_types_or_owners_ok(void **state)
{
	(void)state;
	/* A and AAAA (and MX) at one owner are different record sets; other
	 * owners or zones do not overlap. */
	int e = load(
		"[dns]\nserver = 192.0.2.53\n"
		"[server v4a]\naddress = 192.0.2.10\nname = a.example.com\nchecks = smtp\n"
		"[server v4b]\naddress = 192.0.2.11\nname = b.example.com\nchecks = smtp\n"
		"[server v6a]\naddress = 2001:db8::10\nname = a.example.com\nchecks = smtp\n"
		"[server v6b]\naddress = 2001:db8::11\nname = b.example.com\nchecks = smtp\n"
		"[group four]\nservers = v4a v4b\nzones = example.com\nrecords = mail\ntype = A\n"
		"[group six]\nservers = v6a v6b\nzones = example.com\nrecords = mail\ntype = AAAA\n"
		"[group mx]\nservers = v4a v4b\nzones = example.com\nrecords = @\ntype = MX\n"
		"[group c1]\nservers = v4a v4b\nzones = example.com\nrecords = smtp\n"
		"[group c2]\nservers = v4a v4b\nzones = example.net\nrecords = smtp\n"
		"[group c3]\nservers = v4a v4b\nzones = example.com\nrecords = smtp2\n");

	if (e != 0)
		dump_errors();
	assert_int_equal(e, 0);
	assert_int_equal(errs.n, 0);
}

static void
test_each_overlap_reported(void **state)
{
	(void)state;
	/* Three groups on one record: the second and the third are each
	 * reported against the first; both zones of the pair are reported. */
	assert_int_equal(load(SERVERS
			      "[group g1]\nservers = mx1 mx2\nzones = example.com example.net\n"
			      "records = mx\n" /* 14 */
			      "[group g2]\nservers = mx1 mx2\nzones = example.com example.net\n"
			      "records = mx\n" /* 18 */
			      "[group g3]\nservers = mx2\nzones = example.net\n"
			      "records = mx\n"), /* 22 */
			 MXF_ECONFIG);
	assert_true(has_error(
		18,
		"group g2: record mx.example.com CNAME is also managed by group g1 (t.conf:14)"));
	assert_true(has_error(
		18,
		"group g2: record mx.example.net CNAME is also managed by group g1 (t.conf:14)"));
	assert_true(has_error(
		22,
		"group g3: record mx.example.net CNAME is also managed by group g1 (t.conf:14)"));
	assert_int_equal(errs.n, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_same_record_same_type, teardown),
		cmocka_unit_test_teardown(test_apex_and_subzone, teardown),
		cmocka_unit_test_teardown(test_cname_beside_other_type, teardown),
		cmocka_unit_test_teardown(test_different_types_or_owners_ok, teardown),
		cmocka_unit_test_teardown(test_each_overlap_reported, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
