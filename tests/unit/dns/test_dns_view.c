/*
 * test_dns_view.c -- the one verdict on an answer: present (with records,
 * TTL and text), absent (NODATA, NXDOMAIN, another type at the name), an
 * error rcode, and a server that is not authoritative.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <ldns/ldns.h>

#include "dns_view.h"
#include "mxf.h"

/* A reply with rcode @rcode, AA @aa and the records of @answer ("" ends). */
static ldns_pkt *
reply(int rcode, bool aa, const char *const *answer)
{
	ldns_pkt *p = ldns_pkt_new();

	assert_non_null(p);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, aa);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (size_t i = 0; answer != NULL && answer[i] != NULL; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, answer[i], 0, NULL, NULL), LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr));
	}
	return p;
}

static void
judge(ldns_pkt *p, const char *owner, ldns_rr_type type, struct dns_view *v)
{
	ldns_rdf *o = ldns_dname_new_frm_str(owner);

	assert_non_null(o);
	assert_int_equal(dns_view_answer(p, o, type, v), 0);
	ldns_rdf_deep_free(o);
	ldns_pkt_free(p);
}

static void
test_present(void **state)
{
	static const char *const ans[] = {
		"example.test. 600 IN MX 10 mx1.example.test.",
		"example.test. 600 IN MX 20 mx2.example.test.",
		"other.test. 300 IN MX 5 mx9.example.test.", /* another owner */
		"example.test. 600 IN TXT \"v=spf1 -all\"",  /* another type */
		NULL};
	struct dns_view v;

	(void)state;
	judge(reply(LDNS_RCODE_NOERROR, true, ans), "Example.Test.", LDNS_RR_TYPE_MX, &v);
	assert_int_equal(v.verdict, DNS_VIEW_PRESENT);
	assert_int_equal(v.rcode, LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_rr_list_rr_count(v.rrs), 2);
	assert_int_equal(v.ttl, 600);
	assert_int_equal(v.nvalues, 2);
	assert_string_equal(v.values[0], "10 mx1.example.test.");
	assert_string_equal(v.values[1], "20 mx2.example.test.");
	assert_string_equal(v.msg, "");
	dns_view_clear(&v);
	assert_null(v.rrs);
	assert_int_equal(v.ttl, -1);
}

static void
test_absent(void **state)
{
	static const char *const cname[] = {"mx.example.test. 300 IN CNAME mx1.example.test.",
					    "mx1.example.test. 300 IN A 192.0.2.1", NULL};
	struct dns_view v;
	ldns_rr_list *taken;

	(void)state;
	/* NODATA */
	judge(reply(LDNS_RCODE_NOERROR, true, NULL), "mx.example.test.", LDNS_RR_TYPE_A, &v);
	assert_int_equal(v.verdict, DNS_VIEW_ABSENT);
	assert_non_null(v.rrs);
	assert_int_equal(ldns_rr_list_rr_count(v.rrs), 0);
	assert_int_equal(v.nvalues, 0);
	assert_int_equal(v.ttl, -1);
	dns_view_clear(&v);
	/* NXDOMAIN */
	judge(reply(LDNS_RCODE_NXDOMAIN, true, NULL), "mx.example.test.", LDNS_RR_TYPE_A, &v);
	assert_int_equal(v.verdict, DNS_VIEW_ABSENT);
	assert_int_equal(v.rcode, LDNS_RCODE_NXDOMAIN);
	dns_view_clear(&v);
	/* Another type at the name: the A records of the CNAME's target are not its own. */
	judge(reply(LDNS_RCODE_NOERROR, true, cname), "mx.example.test.", LDNS_RR_TYPE_A, &v);
	assert_int_equal(v.verdict, DNS_VIEW_ABSENT);
	taken = dns_view_take_rrs(&v);
	assert_non_null(taken);
	assert_null(v.rrs);
	ldns_rr_list_deep_free(taken);
	dns_view_clear(&v);
}

static void
test_failures(void **state)
{
	static const char *const ans[] = {"mx.example.test. 300 IN A 192.0.2.1", NULL};
	struct dns_view v;

	(void)state;
	judge(reply(LDNS_RCODE_REFUSED, true, NULL), "mx.example.test.", LDNS_RR_TYPE_A, &v);
	assert_int_equal(v.verdict, DNS_VIEW_RCODE);
	assert_int_equal(v.rcode, LDNS_RCODE_REFUSED);
	assert_null(v.rrs);
	assert_string_equal(v.msg, "REFUSED (the server refused the query)");
	dns_view_clear(&v);
	judge(reply(LDNS_RCODE_SERVFAIL, false, NULL), "mx.example.test.", LDNS_RR_TYPE_A, &v);
	assert_int_equal(v.verdict, DNS_VIEW_RCODE);
	assert_non_null(strstr(v.msg, "SERVFAIL"));
	dns_view_clear(&v);
	/* Records without AA, and a non-authoritative NXDOMAIN, prove nothing. */
	judge(reply(LDNS_RCODE_NOERROR, false, ans), "mx.example.test.", LDNS_RR_TYPE_A, &v);
	assert_int_equal(v.verdict, DNS_VIEW_NOTAUTH);
	assert_null(v.rrs);
	assert_int_equal(v.nvalues, 0);
	assert_string_equal(v.msg, "the server is not authoritative for it");
	dns_view_clear(&v);
	judge(reply(LDNS_RCODE_NXDOMAIN, false, NULL), "mx.example.test.", LDNS_RR_TYPE_A, &v);
	assert_int_equal(v.verdict, DNS_VIEW_NOTAUTH);
	dns_view_clear(&v);
	dns_view_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_present),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
