/*
 * test_audit_report.c -- the report (audit_add, dedupe, ordering, JSON),
 * the id table and address prefixes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "mxf.h"

static void
test_add_dedupe(void **state)
{
	struct audit_report r;

	(void)state;
	assert_int_equal(audit_report_init(&r, "Example.COM."), 0);
	assert_string_equal(r.domain, "example.com");
	assert_int_equal(audit_add(&r, "mx-single", AUDIT_INFO, NULL, NULL, "one %s", "host"), 0);
	assert_int_equal(audit_add(&r, "mx-single", AUDIT_INFO, NULL, NULL, "again"), 0);
	assert_int_equal(r.nfindings, 1);
	assert_string_equal(r.findings[0].subject, "example.com");
	assert_string_equal(r.findings[0].message, "one host");
	/* The default hint is the table's. */
	assert_string_equal(r.findings[0].hint, audit_id_find("mx-single")->hint);
	/* Another subject is another finding; an own hint is kept. */
	assert_int_equal(audit_add(&r, "mx-target-cname", AUDIT_ERROR, "mx.example.com.",
				   "do this", "alias"), 0);
	assert_int_equal(r.nfindings, 2);
	assert_string_equal(r.findings[1].hint, "do this");
	assert_int_equal(audit_add_default(&r, "ptr-missing", "192.0.2.1", "x"), 0);
	assert_int_equal(r.findings[2].severity, AUDIT_WARNING);
	/* An id not in the table is refused. */
	assert_int_equal(audit_add(&r, "no-such-id", AUDIT_ERROR, NULL, NULL, "x"), MXF_EINVAL);
	assert_int_equal(r.nfindings, 3);
	assert_non_null(audit_report_find(&r, "ptr-missing", "192.0.2.1"));
	assert_null(audit_report_find(&r, "ptr-missing", "192.0.2.2"));
	assert_int_equal(audit_report_worst(&r), AUDIT_ERROR);
	audit_report_sort(&r);
	assert_string_equal(r.findings[0].id, "mx-target-cname");
	assert_string_equal(r.findings[1].id, "ptr-missing");
	assert_string_equal(r.findings[2].id, "mx-single");
	audit_checked(&r, 3);
	audit_checked(&r, 2);
	assert_int_equal(r.checks, 5);
	audit_report_clear(&r);
}

static void
test_json_shape(void **state)
{
	struct audit_report r;
	json_t *o = NULL, *f;

	(void)state;
	assert_int_equal(audit_report_init(&r, "example.net"), 0);
	assert_int_equal(audit_report_worst(&r), -1);
	audit_add_default(&r, "ns-single", NULL, "only %d", 1);
	audit_checked(&r, 7);
	r.seconds = 0.1234;
	assert_int_equal(audit_report_json(&r, &o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "domain")), "example.net");
	assert_int_equal(json_integer_value(json_object_get(o, "checks")), 7);
	assert_true(json_real_value(json_object_get(o, "seconds")) > 0.12);
	assert_int_equal(json_array_size(json_object_get(o, "findings")), 1);
	f = json_array_get(json_object_get(o, "findings"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "id")), "ns-single");
	assert_string_equal(json_string_value(json_object_get(f, "severity")), "warning");
	assert_string_equal(json_string_value(json_object_get(f, "subject")), "example.net");
	assert_string_equal(json_string_value(json_object_get(f, "message")), "only 1");
	assert_non_null(json_string_value(json_object_get(f, "hint")));
	assert_int_equal(json_object_size(o), 4);
	assert_int_equal(json_object_size(f), 5);
	json_decref(o);
	audit_report_clear(&r);
}

/* Every fixed id of the issue is in the table, each once, with meaning and hint. */
static void
test_id_table(void **state)
{
	static const char *fixed[] = {
		"mx-missing", "mx-null-mixed", "mx-target-cname", "mx-target-ip",
		"mx-target-no-address", "mx-target-private", "mx-duplicate", "mx-single",
		"mx-ttl-unequal", "mx-inconsistent", "ptr-missing", "ptr-mismatch",
		"banner-mismatch", "smtp-unreachable", "starttls-missing", "tls-weak",
		"cert-expired", "cert-expiring", "cert-name-mismatch", "cert-untrusted",
		"accepts-unknown-recipient", "postmaster-rejected", "open-relay", "ns-single",
		"ns-same-network", "ns-unreachable", "ns-no-tcp", "ns-not-authoritative",
		"ns-serial-mismatch", "ns-set-mismatch", "ns-target-cname", "soa-timers",
		"ns-open-recursion", "ns-open-axfr", "spf-missing", "spf-multiple", "spf-syntax",
		"spf-too-many-lookups", "dmarc-missing", "dmarc-weak", "mta-sts-invalid",
		"mta-sts-mx-mismatch", "tlsrpt-invalid", "dane-tlsa-mismatch",
		"failover-mx-target-cname", "failover-ttl-too-long", "failover-record-missing",
		"failover-update-refused", "failover-standby-down",
		"failover-standby-cert-mismatch", "failover-standby-not-in-spf",
		"failover-secondary-lag",
	};
	size_t n;
	const struct audit_id *t = audit_ids(&n);

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		const struct audit_id *e = audit_id_find(fixed[i]);

		if (e == NULL)
			fail_msg("id %s is not in the table", fixed[i]);
	}
	for (size_t i = 0; i < n; i++) {
		assert_true(strlen(t[i].meaning) > 10);
		assert_true(strlen(t[i].hint) > 10);
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(t[i].id, t[j].id) == 0)
				fail_msg("id %s twice", t[i].id);
	}
	assert_string_equal(audit_id_find("mx-single")->id, "mx-single");
	assert_int_equal(audit_id_find("mx-single")->severity, AUDIT_INFO);
	assert_int_equal(audit_id_find("mx-target-private")->severity, AUDIT_WARNING);
	assert_int_equal(audit_id_find("soa-timers")->severity, AUDIT_INFO);
	assert_int_equal(audit_id_find("banner-mismatch")->severity, AUDIT_INFO);
	assert_int_equal(audit_id_find("dmarc-weak")->severity, AUDIT_INFO);
	assert_null(audit_id_find("mx"));
	assert_string_equal(audit_severity_name(AUDIT_ERROR), "error");
	assert_string_equal(audit_severity_name(AUDIT_WARNING), "warning");
	assert_string_equal(audit_severity_name(AUDIT_INFO), "info");
}

static void
bytes(int family, const char *s, uint8_t *out)
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(family, s, out), 1);
}

static void
test_prefixes(void **state)
{
	struct audit_prefix p;
	uint8_t a[16], b[16];

	(void)state;
	assert_int_equal(audit_prefix_parse("127.0.0.0/8", &p), 0);
	assert_int_equal(p.bits, 8);
	bytes(AF_INET, "127.12.34.56", a);
	assert_true(audit_prefix_match(&p, AF_INET, a));
	bytes(AF_INET, "128.0.0.1", a);
	assert_false(audit_prefix_match(&p, AF_INET, a));
	assert_int_equal(audit_prefix_parse("10.1.2.3", &p), 0);
	assert_int_equal(p.bits, 32);
	assert_int_equal(audit_prefix_parse("2001:db8::/33", &p), 0);
	bytes(AF_INET6, "2001:db8:7fff::1", a);
	assert_true(audit_prefix_match(&p, AF_INET6, a));
	bytes(AF_INET6, "2001:db8:8000::1", a);
	assert_false(audit_prefix_match(&p, AF_INET6, a));
	assert_false(audit_prefix_match(&p, AF_INET, a));
	assert_int_equal(audit_prefix_parse("10.0.0.0/33", &p), MXF_EINVAL);
	assert_int_equal(audit_prefix_parse("10.0.0.0/", &p), MXF_EINVAL);
	assert_int_equal(audit_prefix_parse("10.0.0.0/8x", &p), MXF_EINVAL);
	assert_int_equal(audit_prefix_parse("mx.example", &p), MXF_EINVAL);
	assert_int_equal(audit_prefix_parse("", &p), MXF_EINVAL);

	bytes(AF_INET, "10.1.1.1", a);
	assert_true(audit_addr_private(AF_INET, a));
	bytes(AF_INET, "172.31.0.1", a);
	assert_true(audit_addr_private(AF_INET, a));
	bytes(AF_INET, "172.32.0.1", a);
	assert_false(audit_addr_private(AF_INET, a));
	bytes(AF_INET, "127.0.0.1", a);
	assert_true(audit_addr_private(AF_INET, a));
	bytes(AF_INET, "8.8.8.8", a);
	assert_false(audit_addr_private(AF_INET, a));
	bytes(AF_INET6, "fd00::1", a);
	assert_true(audit_addr_private(AF_INET6, a));
	bytes(AF_INET6, "::1", a);
	assert_true(audit_addr_private(AF_INET6, a));
	bytes(AF_INET6, "2a00:1450::1", a);
	assert_false(audit_addr_private(AF_INET6, a));

	bytes(AF_INET, "192.0.2.1", a);
	bytes(AF_INET, "192.0.2.200", b);
	assert_true(audit_addr_same_network(AF_INET, a, AF_INET, b));
	bytes(AF_INET, "192.0.3.1", b);
	assert_false(audit_addr_same_network(AF_INET, a, AF_INET, b));
	bytes(AF_INET6, "2001:db8:1:2::1", a);
	bytes(AF_INET6, "2001:db8:1:2:ffff::1", b);
	assert_true(audit_addr_same_network(AF_INET6, a, AF_INET6, b));
	bytes(AF_INET6, "2001:db8:1:3::1", b);
	assert_false(audit_addr_same_network(AF_INET6, a, AF_INET6, b));
	assert_false(audit_addr_same_network(AF_INET, a, AF_INET6, b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_dedupe),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_id_table),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
