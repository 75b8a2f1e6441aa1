/*
 * test_audit_mx.c -- the MX and reverse-DNS judgements on hand-made facts.
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

/* ---- building facts ---- */

static struct audit_mx *
add_mx(struct audit_facts *f, uint16_t pref, const char *target, uint32_t ttl)
{
	struct audit_mx *m;

	f->mx = realloc(f->mx, (f->nmx + 1) * sizeof(*f->mx));
	assert_non_null(f->mx);
	m = &f->mx[f->nmx++];
	memset(m, 0, sizeof(*m));
	m->pref = pref;
	m->target = strdup(target);
	m->ttl = ttl;
	return m;
}

/* Adds an address with one PTR @ptr (NULL: none) that resolves back when @back. */
static struct audit_addr *
add_addr(struct audit_mx *m, const char *text, uint32_t ttl, const char *ptr, bool back)
{
	struct audit_addr *a;

	m->addrs = realloc(m->addrs, (m->naddrs + 1) * sizeof(*m->addrs));
	assert_non_null(m->addrs);
	a = &m->addrs[m->naddrs++];
	memset(a, 0, sizeof(*a));
	a->family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a->family, text, a->addr), 1);
	snprintf(a->text, sizeof(a->text), "%s", text);
	a->ttl = ttl;
	if (ptr == NULL) {
		a->ptr_status = MXF_ENOTFOUND;
		return a;
	}
	a->ptr = calloc(1, sizeof(*a->ptr));
	a->ptr[0].name = strdup(ptr);
	a->ptr[0].back = back;
	a->ptr[0].addr = a;
	a->nptr = 1;
	return a;
}

/* A clean domain: MX 10 mx1, 20 mx2, one TTL, PTRs that resolve back. */
static void
clean(struct audit_facts *f)
{
	memset(f, 0, sizeof(*f));
	add_addr(add_mx(f, 10, "mx1.example.com.", 300), "192.0.2.10", 300, "mx1.example.com.",
		 true);
	add_addr(add_mx(f, 20, "mx2.example.com.", 300), "198.51.100.20", 300,
		 "mx2.example.com.", true);
	f->mx_ready = true;
}

static struct audit_opts opts; /* no private prefix allowed */

static void
judge(struct audit_facts *f, struct audit_report *r, const struct audit_opts *o)
{
	assert_int_equal(audit_report_init(r, "example.com"), 0);
	audit_mx_judge(f, o, r);
	audit_ptr_judge(f, o, r);
}

static bool
has(const struct audit_report *r, const char *id, const char *subject)
{
	return audit_report_find(r, id, subject) != NULL;
}

static void
print(const struct audit_report *r)
{
	for (size_t i = 0; i < r->nfindings; i++)
		fprintf(stderr, "  %s %s: %s\n", r->findings[i].id, r->findings[i].subject,
			r->findings[i].message);
}

/* Documentation addresses are private, so the clean domain allows them. */
static const struct audit_opts *
doc_allowed(void)
{
	static struct audit_prefix p[2];
	static struct audit_opts o;

	assert_int_equal(audit_prefix_parse("192.0.2.0/24", &p[0]), 0);
	assert_int_equal(audit_prefix_parse("198.51.100.0/24", &p[1]), 0);
	o.allow_private = p;
	o.nallow_private = 2;
	return &o;
}

/* ---- tests ---- */

static void
test_clean(void **state)
{
	struct audit_facts f;
	struct audit_report r;

	(void)state;
	clean(&f);
	judge(&f, &r, doc_allowed());
	if (r.nfindings != 0)
		print(&r);
	assert_int_equal(r.nfindings, 0);
	assert_true(r.checks > 5);
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_private_unless_allowed(void **state)
{
	struct audit_facts f;
	struct audit_report r;

	(void)state;
	clean(&f);
	judge(&f, &r, &opts);
	assert_true(has(&r, "mx-target-private", "mx1.example.com"));
	assert_true(has(&r, "mx-target-private", "mx2.example.com"));
	assert_int_equal(audit_report_find(&r, "mx-target-private", NULL)->severity,
			 AUDIT_WARNING);
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_missing(void **state)
{
	struct audit_facts f = {0};
	struct audit_report r;

	(void)state;
	judge(&f, &r, &opts); /* NOERROR, no MX */
	assert_true(has(&r, "mx-missing", "example.com"));
	assert_int_equal(r.nfindings, 1);
	audit_report_clear(&r);
	f.mx_status = MXF_ENOTFOUND;
	judge(&f, &r, &opts);
	assert_true(has(&r, "mx-missing", NULL));
	audit_report_clear(&r);
	/* A failed lookup is not a missing MX. */
	f.mx_status = MXF_ETIMEDOUT;
	judge(&f, &r, &opts);
	assert_false(has(&r, "mx-missing", NULL));
	assert_true(has(&r, "lookup-failed", "example.com"));
	audit_report_clear(&r);
}

static void
test_null_mx(void **state)
{
	struct audit_facts f = {0};
	struct audit_report r;

	(void)state;
	add_mx(&f, 0, ".", 300);
	judge(&f, &r, &opts);
	assert_int_equal(r.nfindings, 0); /* a null MX alone is a clear statement */
	audit_report_clear(&r);
	add_addr(add_mx(&f, 10, "mx1.example.com.", 300), "192.0.2.10", 300, "mx1.example.com.",
		 true);
	judge(&f, &r, doc_allowed());
	assert_true(has(&r, "mx-null-mixed", "example.com"));
	assert_false(has(&r, "mx-target-no-address", "."));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_targets(void **state)
{
	struct audit_facts f;
	struct audit_report r;
	struct audit_mx *m;

	(void)state;
	clean(&f);
	m = add_mx(&f, 30, "192.0.2.30.", 300);
	m->is_ip = true;
	m = add_mx(&f, 40, "alias.example.com.", 300);
	m->is_cname = true;
	m->cname_target = strdup("mx1.example.com.");
	add_addr(m, "192.0.2.10", 300, "mx1.example.com.", true);
	m = add_mx(&f, 50, "none.example.com.", 300); /* NODATA */
	m = add_mx(&f, 60, "gone.example.com.", 300);
	m->addr_status = MXF_ENOTFOUND;
	m = add_mx(&f, 70, "slow.example.com.", 300);
	m->addr_status = MXF_ETIMEDOUT;
	judge(&f, &r, doc_allowed());
	assert_true(has(&r, "mx-target-ip", "192.0.2.30"));
	assert_true(has(&r, "mx-target-cname", "alias.example.com"));
	assert_int_equal(audit_report_find(&r, "mx-target-cname", NULL)->severity, AUDIT_ERROR);
	assert_true(has(&r, "mx-target-no-address", "none.example.com"));
	assert_true(has(&r, "mx-target-no-address", "gone.example.com"));
	assert_false(has(&r, "mx-target-no-address", "slow.example.com"));
	assert_true(has(&r, "lookup-failed", "slow.example.com"));
	/* The alias shares mx1's address, but that is the alias finding, not a duplicate. */
	assert_false(has(&r, "mx-duplicate", NULL));
	assert_false(has(&r, "mx-single", NULL));
	/* The alias's address was judged for PTR once, under mx1. */
	assert_false(has(&r, "ptr-missing", NULL));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_duplicate_and_single(void **state)
{
	struct audit_facts f = {0};
	struct audit_report r;

	(void)state;
	add_addr(add_mx(&f, 10, "mx2.example.com.", 300), "192.0.2.11", 300, "mx2.example.com.",
		 true);
	add_addr(add_mx(&f, 20, "MX2.example.com.", 300), "192.0.2.11", 300, "mx2.example.com.",
		 true);
	judge(&f, &r, doc_allowed());
	assert_true(has(&r, "mx-duplicate", "mx2.example.com"));
	assert_true(has(&r, "mx-single", "example.com"));
	assert_int_equal(audit_report_find(&r, "mx-single", NULL)->severity, AUDIT_INFO);
	audit_report_clear(&r);
	/* Two names, one address: one host. */
	free(f.mx[1].target);
	f.mx[1].target = strdup("other.example.com.");
	judge(&f, &r, doc_allowed());
	assert_true(has(&r, "mx-duplicate", "other.example.com"));
	assert_false(has(&r, "mx-single", NULL));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_ttl(void **state)
{
	struct audit_facts f;
	struct audit_report r;

	(void)state;
	clean(&f);
	f.mx[1].addrs[0].ttl = 3600;
	judge(&f, &r, doc_allowed());
	assert_true(has(&r, "mx-ttl-unequal", "example.com"));
	assert_non_null(strstr(audit_report_find(&r, "mx-ttl-unequal", NULL)->message,
			       "mx2.example.com. A 3600"));
	audit_report_clear(&r);
	f.mx[1].addrs[0].ttl = 300;
	f.mx[1].ttl = 60;
	judge(&f, &r, doc_allowed());
	assert_true(has(&r, "mx-ttl-unequal", NULL));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

static void
test_ptr(void **state)
{
	struct audit_facts f;
	struct audit_report r;

	(void)state;
	clean(&f);
	f.mx[0].addrs[0].ptr[0].back = false;
	add_addr(&f.mx[1], "198.51.100.21", 300, NULL, false);
	add_addr(&f.mx[1], "198.51.100.22", 300, "x.example.com.", true);
	f.mx[1].addrs[2].ptr_status = MXF_ETIMEDOUT;
	free(f.mx[1].addrs[2].ptr[0].name);
	f.mx[1].addrs[2].nptr = 0;
	judge(&f, &r, doc_allowed());
	assert_true(has(&r, "ptr-mismatch", "192.0.2.10"));
	assert_int_equal(audit_report_find(&r, "ptr-mismatch", NULL)->severity, AUDIT_WARNING);
	assert_true(has(&r, "ptr-missing", "198.51.100.21"));
	assert_false(has(&r, "ptr-missing", "198.51.100.20"));
	assert_true(has(&r, "lookup-failed", "198.51.100.22"));
	audit_report_clear(&r);
	/* Not looked up (a private address): nothing to say. */
	f.mx[1].addrs[1].ptr_status = MXF_EUNSUPPORTED;
	judge(&f, &r, doc_allowed());
	assert_false(has(&r, "ptr-missing", NULL));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

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
	na->a.family = AF_INET;
	inet_pton(AF_INET, addr, na->a.addr);
	snprintf(na->a.text, sizeof(na->a.text), "%s", addr);
	na->soa_ok = na->aa = true;
	return na;
}

static char **
strings(const char *a, const char *b)
{
	char **v = calloc(2, sizeof(*v));

	v[0] = strdup(a);
	v[1] = b != NULL ? strdup(b) : NULL;
	return v;
}

static void
test_inconsistent(void **state)
{
	struct audit_facts f;
	struct audit_report r;
	struct audit_ns_addr *a, *b, *c;

	(void)state;
	clean(&f);
	a = add_server(&f, "ns1.example.com.", "192.0.2.53");
	a->mx = strings("10 mx1.example.com.", "20 mx2.example.com.");
	a->nmx = 2;
	b = add_server(&f, "ns2.example.com.", "198.51.100.53");
	b->mx = strings("10 mx1.example.com.", NULL);
	b->nmx = 1;
	c = add_server(&f, "ns3.example.com.", "203.0.113.53");
	c->mx_status = MXF_ETIMEDOUT; /* no answer: ns-unreachable's business */
	judge(&f, &r, doc_allowed());
	assert_false(has(&r, "mx-inconsistent", "ns1.example.com/192.0.2.53"));
	assert_true(has(&r, "mx-inconsistent", "ns2.example.com/198.51.100.53"));
	assert_non_null(strstr(audit_report_find(&r, "mx-inconsistent", NULL)->message,
			       "lacks MX 20 mx2.example.com."));
	assert_false(has(&r, "mx-inconsistent", "ns3.example.com/203.0.113.53"));
	audit_report_clear(&r);
	audit_facts_clear(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_private_unless_allowed),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_null_mx),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_duplicate_and_single),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_inconsistent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
