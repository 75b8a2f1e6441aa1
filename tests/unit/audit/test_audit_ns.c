/*
 * test_audit_ns.c -- the name server judgements on hand-made facts.
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

static char **
names(const char *a, const char *b, size_t *n)
{
	char **v = calloc(2, sizeof(*v));

	v[0] = strdup(a);
	*n = 1;
	if (b != NULL) {
		v[1] = strdup(b);
		*n = 2;
	}
	return v;
}

/* An authoritative server answering everything, serial 7, NS ns1+ns2. */
static struct audit_ns_addr *
add_server(struct audit_facts *f, const char *name, const char *addr)
{
	struct audit_ns *ns;
	struct audit_ns_addr *na;

	f->ns = realloc(f->ns, (f->nns + 1) * sizeof(*f->ns));
	ns = &f->ns[f->nns++];
	memset(ns, 0, sizeof(*ns));
	ns->name = strdup(name);
	ns->addrs = calloc(1, sizeof(*ns->addrs));
	ns->naddrs = 1;
	na = &ns->addrs[0];
	na->a.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(na->a.family, addr, na->a.addr), 1);
	snprintf(na->a.text, sizeof(na->a.text), "%s", addr);
	na->soa_ok = na->aa = true;
	na->serial = 7;
	na->ns = names("ns1.example.com.", "ns2.example.net.", &na->nns);
	return na;
}

static void
clean(struct audit_facts *f)
{
	memset(f, 0, sizeof(*f));
	add_server(f, "ns1.example.com.", "192.0.2.53");
	add_server(f, "ns2.example.net.", "198.51.100.53");
	f->resolver_ns = calloc(2, sizeof(char *));
	f->resolver_ns[0] = strdup("ns1.example.com.");
	f->resolver_ns[1] = strdup("ns2.example.net.");
	f->serial = 7;
	f->refresh = 3600;
	f->retry = 900;
	f->expire = 1209600;
	f->minimum = 300;
}

static struct audit_opts opts;

static void
judge(struct audit_facts *f, struct audit_report *r)
{
	assert_int_equal(audit_report_init(r, "example.com"), 0);
	audit_ns_judge(f, &opts, r);
}

static bool
has(const struct audit_report *r, const char *id, const char *subject)
{
	return audit_report_find(r, id, subject) != NULL;
}

static void
test_clean(void **state)
{
	struct audit_facts f;
	struct audit_report r;

	(void)state;
	clean(&f);
	judge(&f, &r);
	for (size_t i = 0; i < r.nfindings; i++)
		fprintf(stderr, "%s %s\n", r.findings[i].id, r.findings[i].message);
	assert_int_equal(r.nfindings, 0);
	assert_true(r.checks >= 10);
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_single_and_network(void **state)
{
	struct audit_facts f = {0};
	struct audit_report r;

	(void)state;
	add_server(&f, "ns1.example.com.", "192.0.2.53");
	f.resolver_ns = calloc(1, sizeof(char *));
	f.resolver_ns[0] = strdup("ns1.example.com.");
	f.soa_status = MXF_ENOTFOUND; /* no timers to judge */
	judge(&f, &r);
	assert_true(has(&r, "ns-single", "example.com"));
	assert_false(has(&r, "ns-same-network", NULL)); /* one server says nothing about networks */
	audit_report_clear(&r);
	audit_facts_clear(&f);

	clean(&f);
	inet_pton(AF_INET, "192.0.2.54", f.ns[1].addrs[0].a.addr);
	judge(&f, &r);
	assert_true(has(&r, "ns-same-network", "example.com"));
	assert_false(has(&r, "ns-single", NULL));
	audit_report_clear(&r);
	audit_facts_clear(&f);

	/* IPv6: one /64. */
	clean(&f);
	f.ns[0].addrs[0].a.family = f.ns[1].addrs[0].a.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2::53", f.ns[0].addrs[0].a.addr);
	inet_pton(AF_INET6, "2001:db8:1:2::54", f.ns[1].addrs[0].a.addr);
	judge(&f, &r);
	assert_true(has(&r, "ns-same-network", NULL));
	audit_report_clear(&r);
	inet_pton(AF_INET6, "2001:db8:1:3::54", f.ns[1].addrs[0].a.addr);
	judge(&f, &r);
	assert_false(has(&r, "ns-same-network", NULL));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_reachability(void **state)
{
	struct audit_facts f;
	struct audit_report r;

	(void)state;
	clean(&f);
	f.ns[0].addrs[0].udp_status = MXF_ETIMEDOUT;
	f.ns[1].addrs[0].tcp_status = MXF_ECONNREFUSED;
	judge(&f, &r);
	assert_true(has(&r, "ns-unreachable", "ns1.example.com/192.0.2.53"));
	assert_int_equal(audit_report_find(&r, "ns-unreachable", NULL)->severity, AUDIT_ERROR);
	assert_true(has(&r, "ns-no-tcp", "ns2.example.net/198.51.100.53"));
	/* The unreachable one is not also called not authoritative. */
	assert_false(has(&r, "ns-not-authoritative", NULL));
	audit_report_clear(&r);
	audit_facts_clear(&f);

	/* An NS name without any address. */
	clean(&f);
	f.ns[1].naddrs = 0;
	for (size_t i = 0; i < f.ns[1].addrs[0].nns; i++)
		free(f.ns[1].addrs[0].ns[i]);
	free(f.ns[1].addrs[0].ns);
	f.ns[1].addr_status = MXF_ENOTFOUND;
	judge(&f, &r);
	assert_true(has(&r, "ns-unreachable", "ns2.example.net"));
	assert_non_null(strstr(audit_report_find(&r, "ns-unreachable", NULL)->message, "NXDOMAIN"));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_authority_serial_set(void **state)
{
	struct audit_facts f;
	struct audit_report r;
	struct audit_ns_addr *c;

	(void)state;
	clean(&f);
	f.ns[0].addrs[0].serial = 8;              /* ahead: the other lags */
	f.ns[1].addrs[0].nns = 1;                 /* lacks ns2 */
	free(f.ns[1].addrs[0].ns[1]);
	judge(&f, &r);
	assert_true(has(&r, "ns-serial-mismatch", "ns2.example.net/198.51.100.53"));
	assert_false(has(&r, "ns-serial-mismatch", "ns1.example.com/192.0.2.53"));
	assert_true(has(&r, "ns-set-mismatch", "ns2.example.net/198.51.100.53"));
	assert_false(has(&r, "ns-set-mismatch", "ns1.example.com/192.0.2.53"));
	audit_report_clear(&r);
	audit_facts_clear(&f);

	clean(&f);
	c = &f.ns[1].addrs[0];
	c->aa = false;
	c->soa_ok = false;
	c->udp_status = MXF_ERCODE;
	c->udp_rcode = 5;
	c->serial = 1; /* not authoritative: its serial counts for nothing */
	judge(&f, &r);
	assert_true(has(&r, "ns-not-authoritative", "ns2.example.net/198.51.100.53"));
	assert_non_null(strstr(audit_report_find(&r, "ns-not-authoritative", NULL)->message,
			       "REFUSED"));
	assert_false(has(&r, "ns-serial-mismatch", NULL));
	audit_report_clear(&r);
	audit_facts_clear(&f);

	/* Serial arithmetic: 4294967295 -> 1 is a step forward (RFC 1982). */
	clean(&f);
	f.ns[0].addrs[0].serial = 4294967295u;
	f.ns[1].addrs[0].serial = 1;
	judge(&f, &r);
	assert_true(has(&r, "ns-serial-mismatch", "ns1.example.com/192.0.2.53"));
	assert_false(has(&r, "ns-serial-mismatch", "ns2.example.net/198.51.100.53"));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_open_and_cname(void **state)
{
	struct audit_facts f;
	struct audit_report r;

	(void)state;
	clean(&f);
	f.ns[0].addrs[0].ra = true;
	f.ns[1].addrs[0].axfr_open = true;
	f.ns[1].is_cname = true;
	judge(&f, &r);
	assert_true(has(&r, "ns-open-recursion", "ns1.example.com/192.0.2.53"));
	assert_true(has(&r, "ns-open-axfr", "ns2.example.net/198.51.100.53"));
	assert_true(has(&r, "ns-target-cname", "ns2.example.net"));
	assert_int_equal(audit_report_find(&r, "ns-open-axfr", NULL)->severity, AUDIT_WARNING);
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_soa_timers(void **state)
{
	struct audit_facts f;
	struct audit_report r;

	(void)state;
	clean(&f);
	f.refresh = 60;
	f.retry = 600;
	f.expire = 86400;
	f.minimum = 10;
	judge(&f, &r);
	assert_true(has(&r, "soa-timers", "example.com"));
	assert_int_equal(audit_report_find(&r, "soa-timers", NULL)->severity, AUDIT_INFO);
	assert_non_null(strstr(audit_report_find(&r, "soa-timers", NULL)->message, "refresh 60"));
	assert_non_null(strstr(audit_report_find(&r, "soa-timers", NULL)->message, "minimum 10"));
	audit_report_clear(&r);
	f.refresh = 86400;
	f.retry = 7200;
	f.expire = 3600000;
	f.minimum = 3600;
	judge(&f, &r);
	assert_false(has(&r, "soa-timers", NULL));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_lookup_failed(void **state)
{
	struct audit_facts f = {0};
	struct audit_report r;

	(void)state;
	f.ns_status = MXF_ETIMEDOUT;
	judge(&f, &r);
	assert_true(has(&r, "lookup-failed", "example.com"));
	assert_int_equal(r.nfindings, 1);
	audit_report_clear(&r);
	/* No NS at the name (not a zone apex): nothing to judge. */
	f.ns_status = 0;
	judge(&f, &r);
	assert_int_equal(r.nfindings, 0);
	audit_report_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_single_and_network),
		cmocka_unit_test(test_reachability),
		cmocka_unit_test(test_authority_serial_set),
		cmocka_unit_test(test_open_and_cname),
		cmocka_unit_test(test_soa_timers),
		cmocka_unit_test(test_lookup_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
