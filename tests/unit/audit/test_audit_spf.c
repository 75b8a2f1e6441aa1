/*
 * test_audit_spf.c -- SPF record syntax (RFC 7208 12), the lookup count of
 * one record, and address coverage by ip4/ip6/a/mx terms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "audit_spf.h"
#include "mxf.h"

static struct audit_spf spf;

static int
parse(const char *s)
{
	return audit_spf_parse(s, strlen(s), &spf);
}

static void
test_is_record(void **state)
{
	(void)state;
	assert_true(audit_spf_is_record("v=spf1", 6));
	assert_true(audit_spf_is_record("V=SPF1 -all", 11));
	assert_false(audit_spf_is_record("v=spf10 -all", 12));
	assert_false(audit_spf_is_record("v=spf", 5));
	assert_false(audit_spf_is_record("spf2.0/pra", 10));
}

static void
test_valid(void **state)
{
	(void)state;
	assert_int_equal(parse("v=spf1 mx a:mail.example.com/24//64 ip4:192.0.2.0/24 "
			       "ip6:2001:db8::/32 include:_spf.example.net ~all"),
			 0);
	assert_int_equal(spf.nterms, 6);
	assert_int_equal(spf.lookups, 3);
	assert_int_equal(spf.terms[1].kind, AUDIT_SPF_A);
	assert_string_equal(spf.terms[1].domain, "mail.example.com");
	assert_int_equal(spf.terms[1].cidr4, 24);
	assert_int_equal(spf.terms[1].cidr6, 64);
	assert_int_equal(spf.terms[2].cidr4, 24);
	assert_int_equal(spf.terms[3].cidr6, 32);
	assert_int_equal(spf.terms[5].qualifier, '~');
	assert_true(spf.has_all);
	assert_int_equal(spf.redirect, -1);

	assert_int_equal(parse("v=spf1 redirect=_spf.example.com"), 0);
	assert_int_equal(spf.redirect, 0);
	assert_int_equal(spf.lookups, 1);
	assert_string_equal(spf.terms[0].domain, "_spf.example.com");

	assert_int_equal(parse("v=spf1 exists:%{i}._spf.%{d} ptr -all exp=explain.%{d}"), 0);
	assert_true(spf.terms[0].macro);
	assert_int_equal(spf.lookups, 2);
	assert_int_equal(parse("v=spf1 a/28 mx//96 -all foo=bar"), 0);
	assert_int_equal(spf.terms[0].cidr4, 28);
	assert_int_equal(spf.terms[1].cidr6, 96);
	assert_int_equal(spf.terms[3].kind, AUDIT_SPF_UNKNOWN);
	assert_int_equal(parse("v=spf1"), 0);
	assert_int_equal(spf.nterms, 0);
	assert_int_equal(parse("v=spf1   -all  "), 0);
	assert_int_equal(parse("v=spf1 include:example.com."), 0);
}

static void
test_invalid(void **state)
{
	static const struct {
		const char *rec, *why;
	} bad[] = {
		{"v=spf1 ip4:192.0.2.300 -all", "term 1 \"ip4:192.0.2.300\": bad IPv4 network"},
		{"v=spf1 ip4:192.0.2.0/33", "bad cidr length"},
		{"v=spf1 ip6:2001:db8::/129", "bad cidr length"},
		{"v=spf1 ip6:192.0.2.1", "bad IPv6 network"},
		{"v=spf1 mx -al", "term 2 \"-al\": unknown mechanism"},
		{"v=spf1 include", "needs \":domain\""},
		{"v=spf1 include:localhost", "no top label"},
		{"v=spf1 include:example.123", "bad top label"},
		{"v=spf1 include:a..example.com", "empty label"},
		{"v=spf1 a:example.com/024", "bad IPv4 cidr length"},
		{"v=spf1 redirect=a.example redirect=b.example", "redirect= given twice"},
		{"v=spf1 exists:%{x}.example.com", "unknown macro letter"},
		{"v=spf1 exists:%{d.example.com", "unterminated macro"},
		{"v=spf1 all:foo", "takes no argument"},
		{"v=spf1 1x=foo", "bad modifier name"},
		{"spf1 -all", "does not start with \"v=spf1\""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i].rec);
		if (r == 0 || !strstr(spf.error, bad[i].why))
			fail_msg("%s: got %d \"%s\", want \"%s\"", bad[i].rec, r, spf.error,
				 bad[i].why);
	}
}

static void
test_too_many_terms(void **state)
{
	char rec[2048] = "v=spf1";
	(void)state;
	for (int i = 0; i < AUDIT_SPF_TERMS_MAX + 1; i++)
		strcat(rec, " a");
	assert_int_equal(parse(rec), MXF_ETOOBIG);
}

static void
test_binary_safe(void **state)
{
	static const char rec[] = "v=spf1 ip4:1.2.3.4\0 -all";
	(void)state;
	assert_int_equal(audit_spf_parse(rec, sizeof(rec) - 1, &spf), MXF_EINVAL);
	assert_non_null(strstr(spf.error, "\\x00"));
}

static void
test_covers(void **state)
{
	struct audit_spf_net nets[4];
	size_t n = 0;
	uint8_t a4[4], a6[16], mxaddr[4];

	(void)state;
	assert_int_equal(parse("v=spf1 ip4:192.0.2.0/25 ip6:2001:db8:1::/48 mx/30 -all"), 0);
	assert_true(audit_spf_term_net(&spf.terms[0], 0, NULL, &nets[n++]));
	assert_true(audit_spf_term_net(&spf.terms[1], 0, NULL, &nets[n++]));
	assert_false(audit_spf_term_net(&spf.terms[2], 0, NULL, &nets[n]));
	inet_pton(AF_INET, "198.51.100.9", mxaddr);
	assert_true(audit_spf_term_net(&spf.terms[2], AF_INET, mxaddr, &nets[n++]));
	assert_false(audit_spf_term_net(&spf.terms[3], AF_INET, mxaddr, &nets[n]));

	inet_pton(AF_INET, "192.0.2.127", a4);
	assert_true(audit_spf_net_covers(nets, n, AF_INET, a4));
	inet_pton(AF_INET, "192.0.2.128", a4);
	assert_false(audit_spf_net_covers(nets, n, AF_INET, a4));
	inet_pton(AF_INET, "198.51.100.11", a4);
	assert_true(audit_spf_net_covers(nets, n, AF_INET, a4));
	inet_pton(AF_INET, "198.51.100.12", a4);
	assert_false(audit_spf_net_covers(nets, n, AF_INET, a4));
	inet_pton(AF_INET6, "2001:db8:1:ffff::1", a6);
	assert_true(audit_spf_net_covers(nets, n, AF_INET6, a6));
	inet_pton(AF_INET6, "2001:db8:2::1", a6);
	assert_false(audit_spf_net_covers(nets, n, AF_INET6, a6));
	assert_false(audit_spf_net_covers(nets, 0, AF_INET6, a6));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_record), cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),   cmocka_unit_test(test_too_many_terms),
		cmocka_unit_test(test_binary_safe), cmocka_unit_test(test_covers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
