/*
 * test_dns_update.c -- UPDATE building (prerequisite and update sections,
 * one message per zone with all its changes) and the analysis of replies
 * for every rcode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns_update.h"
#include "mxf.h"

static ldns_rdf *
name(const char *s)
{
	ldns_rdf *r = NULL;

	assert_int_equal(dns_update_name(s, &r), 0);
	return r;
}

static ldns_rr_list *
rrs(const char *owner, ldns_rr_type type, const char *const *values, size_t n)
{
	ldns_rdf *o = name(owner);
	ldns_rr_list *l = NULL;
	char err[256];

	assert_int_equal(dns_update_rrs_from_text(o, type, 300, values, n, &l, err, sizeof(err)), 0);
	ldns_rdf_deep_free(o);
	return l;
}

static void
change(struct dns_change *c, const char *owner, ldns_rr_type type, const char *newv,
       enum dns_prereq pr, const char *const *old, size_t nold)
{
	memset(c, 0, sizeof(*c));
	c->owner = name(owner);
	c->type = type;
	c->ttl = 60;
	c->new_rrs = rrs(owner, type, &newv, 1);
	c->prereq = pr;
	if (nold > 0)
		c->old_rrs = rrs(owner, type, old, nold);
}

static void
test_names(void **state)
{
	ldns_rdf *a = name("Mail.Example.com"), *b = name("mail.example.com.");

	(void)state;
	assert_int_equal(ldns_dname_compare(a, b), 0);
	ldns_rdf_deep_free(a);
	ldns_rdf_deep_free(b);
	assert_int_equal(dns_update_name("", &a), MXF_EINVAL);
	assert_int_equal(dns_update_name("a..b", &a), MXF_EINVAL);
}

static void
test_values(void **state)
{
	static const char *const mx[] = {"10 mx1.example.com.", "20 mx2.example.com"};
	static const char *const bad[] = {"not-an-address"};
	ldns_rdf *o = name("example.com");
	ldns_rr_list *l = NULL;
	char err[256];

	(void)state;
	l = rrs("example.com", LDNS_RR_TYPE_MX, mx, 2);
	assert_int_equal(ldns_rr_list_rr_count(l), 2);
	ldns_rr_list_deep_free(l);
	l = NULL;
	assert_int_equal(dns_update_rrs_from_text(o, LDNS_RR_TYPE_A, 60, bad, 1, &l, err,
						  sizeof(err)), MXF_EINVAL);
	assert_null(l);
	assert_non_null(strstr(err, "not-an-address"));
	ldns_rdf_deep_free(o);
}

/* One zone, three changes: value-dependent CAS, must-not-exist, none. */
static void
test_build_sections(void **state)
{
	static const char *const old_mail[] = {"mx1.example.com."};
	static const char *const old_mx[] = {"10 mx1.example.com.", "20 mx2.example.com."};
	struct dns_change ch[4];
	ldns_rdf *zone = name("example.com");
	ldns_pkt *p = NULL, *back = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;
	const ldns_rr_list *pr, *up;

	(void)state;
	change(&ch[0], "mail.example.com", LDNS_RR_TYPE_CNAME, "mx2.example.com.",
	       DNS_PREREQ_EXACT, old_mail, 1);
	change(&ch[1], "example.com", LDNS_RR_TYPE_MX, "10 mx2.example.com.", DNS_PREREQ_EXACT,
	       old_mx, 2);
	change(&ch[2], "new.example.com", LDNS_RR_TYPE_A, "192.0.2.7", DNS_PREREQ_NXRRSET, NULL, 0);
	change(&ch[3], "any.example.com", LDNS_RR_TYPE_AAAA, "2001:db8::1", DNS_PREREQ_NONE, NULL,
	       0);
	assert_int_equal(dns_update_build(zone, ch, 4, 0xbeef, &p), 0);

	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_UPDATE);
	assert_int_equal(ldns_pkt_id(p), 0xbeef);
	assert_false(ldns_pkt_rd(p));
	assert_int_equal(ldns_update_zocount(p), 1);
	assert_int_equal(ldns_update_prcount(p), 1 + 2 + 1);
	assert_int_equal(ldns_update_upcount(p), 4 * 2); /* delete + add for each */
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(p), 0)),
			 LDNS_RR_TYPE_SOA);

	/* Survives the trip through wire form with the same sections. */
	assert_int_equal(dns_update_to_wire(p, &wire, &len), 0);
	assert_int_equal(ldns_wire2pkt(&back, wire, len), LDNS_STATUS_OK);
	pr = ldns_pkt_answer(back);
	up = ldns_pkt_authority(back);
	assert_int_equal(ldns_rr_list_rr_count(pr), 4);
	assert_int_equal(ldns_rr_list_rr_count(up), 8);

	/* Value-dependent prerequisites: class IN, TTL 0, the old data. */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ldns_rr_get_class(ldns_rr_list_rr(pr, i)), LDNS_RR_CLASS_IN);
		assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(pr, i)), 0);
		assert_true(ldns_rr_rd_count(ldns_rr_list_rr(pr, i)) > 0);
	}
	/* RRset does not exist: class NONE, no data. */
	assert_int_equal(ldns_rr_get_class(ldns_rr_list_rr(pr, 3)), LDNS_RR_CLASS_NONE);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(pr, 3)), LDNS_RR_TYPE_A);
	assert_int_equal(ldns_rr_rd_count(ldns_rr_list_rr(pr, 3)), 0);
	/* Delete RRset (class ANY, no data), then add with the TTL. */
	for (size_t i = 0; i < 8; i += 2) {
		const ldns_rr *del = ldns_rr_list_rr(up, i), *add = ldns_rr_list_rr(up, i + 1);
		assert_int_equal(ldns_rr_get_class(del), LDNS_RR_CLASS_ANY);
		assert_int_equal(ldns_rr_rd_count(del), 0);
		assert_int_equal(ldns_rr_ttl(del), 0);
		assert_int_equal(ldns_rr_get_class(add), LDNS_RR_CLASS_IN);
		assert_int_equal(ldns_rr_ttl(add), 60);
		assert_int_equal(ldns_rr_get_type(del), ldns_rr_get_type(add));
	}
	ldns_pkt_free(back);
	free(wire);
	ldns_pkt_free(p);

	/* Without prerequisites the section is empty. */
	assert_int_equal(dns_update_build(zone, &ch[3], 1, 1, &p), 0);
	assert_int_equal(ldns_update_prcount(p), 0);
	ldns_pkt_free(p);

	for (size_t i = 0; i < 4; i++)
		dns_change_clear(&ch[i]);
	ldns_rdf_deep_free(zone);
}

static void
test_build_rejects(void **state)
{
	struct dns_change c;
	ldns_rdf *zone = name("example.com"), *other = name("example.net");
	ldns_pkt *p = NULL;

	(void)state;
	change(&c, "mail.example.com", LDNS_RR_TYPE_CNAME, "mx2.example.com.", DNS_PREREQ_NONE,
	       NULL, 0);
	assert_int_equal(dns_update_build(zone, &c, 0, 1, &p), MXF_EINVAL);
	assert_int_equal(dns_update_build(other, &c, 1, 1, &p), MXF_EINVAL); /* outside the zone */
	c.prereq = DNS_PREREQ_EXACT; /* without old values */
	assert_int_equal(dns_update_build(zone, &c, 1, 1, &p), MXF_EINVAL);
	c.prereq = DNS_PREREQ_NONE;
	c.type = LDNS_RR_TYPE_A; /* records of another type than the change says */
	assert_int_equal(dns_update_build(zone, &c, 1, 1, &p), MXF_EINVAL);
	assert_null(p);
	dns_change_clear(&c);
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(other);
}

/* The check after an update: prerequisites only (value dependent, class
 * IN, TTL 0, every value of every set), nothing to change; refused for no
 * set, an empty one, or a record outside the zone. */
static void
test_build_check(void **state)
{
	static const char *const mx[] = { "10 mx1.example.com.", "20 mx2.example.com." };
	static const char *const cn[] = { "mx2.example.com." };
	ldns_rdf *zone = name("example.com"), *other = name("example.net");
	ldns_rr_list *a = rrs("example.com", LDNS_RR_TYPE_MX, mx, 2);
	ldns_rr_list *b = rrs("smtp.example.com", LDNS_RR_TYPE_CNAME, cn, 1);
	ldns_rr_list *empty = ldns_rr_list_new();
	const ldns_rr_list *sets[] = { a, b };
	ldns_pkt *p = NULL;

	(void)state;
	assert_int_equal(dns_update_build_check(zone, sets, 2, 9, &p), 0);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_UPDATE);
	assert_int_equal(ldns_pkt_id(p), 9);
	assert_int_equal(ldns_update_zocount(p), 1);
	assert_int_equal(ldns_update_prcount(p), 3);
	assert_int_equal(ldns_update_upcount(p), 0);
	for (size_t i = 0; i < 3; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
		assert_int_equal(ldns_rr_ttl(rr), 0);
		assert_true(ldns_rr_rd_count(rr) > 0); /* value dependent */
	}
	ldns_pkt_free(p);
	p = NULL;
	assert_int_equal(dns_update_build_check(zone, sets, 0, 1, &p), MXF_EINVAL);
	assert_int_equal(dns_update_build_check(other, sets, 2, 1, &p), MXF_EINVAL);
	sets[1] = empty;
	assert_int_equal(dns_update_build_check(zone, sets, 2, 1, &p), MXF_EINVAL);
	assert_null(p);
	ldns_rr_list_deep_free(a);
	ldns_rr_list_deep_free(b);
	ldns_rr_list_free(empty);
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(other);
}

/* 500 changes of one zone make one message, too large for UDP. */
static void
test_build_many(void **state)
{
	struct dns_change *ch = calloc(500, sizeof(*ch));
	ldns_rdf *zone = name("example.com");
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;

	(void)state;
	for (int i = 0; i < 500; i++) {
		char owner[64];
		snprintf(owner, sizeof(owner), "r%d.example.com", i);
		change(&ch[i], owner, LDNS_RR_TYPE_A, "192.0.2.2", DNS_PREREQ_NXRRSET, NULL, 0);
	}
	assert_int_equal(dns_update_build(zone, ch, 500, 7, &p), 0);
	assert_int_equal(ldns_update_prcount(p), 500);
	assert_int_equal(ldns_update_upcount(p), 1000);
	assert_int_equal(dns_update_to_wire(p, &wire, &len), 0);
	assert_true(len > 512 && len <= 65535);
	free(wire);
	ldns_pkt_free(p);
	for (int i = 0; i < 500; i++)
		dns_change_clear(&ch[i]);
	free(ch);
	ldns_rdf_deep_free(zone);
}

static void
test_reply_rcodes(void **state)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};
	struct dns_change c;
	ldns_rdf *zone = name("example.com");
	ldns_pkt *req = NULL;

	(void)state;
	change(&c, "mail.example.com", LDNS_RR_TYPE_CNAME, "mx2.example.com.", DNS_PREREQ_NONE,
	       NULL, 0);
	assert_int_equal(dns_update_build(zone, &c, 1, 0x4242, &req), 0);
	for (int rc = 0; rc <= 10; rc++) {
		ldns_pkt *reply = ldns_pkt_clone(req);
		uint8_t *wire = NULL;
		size_t len;
		ldns_pkt *parsed = NULL;
		int got = -1;

		ldns_pkt_set_qr(reply, true);
		ldns_pkt_set_rcode(reply, (uint8_t)rc);
		/* Through wire form, as the client sees it. */
		assert_int_equal(dns_update_to_wire(reply, &wire, &len), 0);
		assert_int_equal(ldns_wire2pkt(&parsed, wire, len), LDNS_STATUS_OK);
		assert_int_equal(dns_update_check_reply(req, parsed, &got), 0);
		assert_int_equal(got, rc);
		assert_string_equal(dns_rcode_name(got), names[rc]);
		assert_true(strlen(dns_rcode_explain(got, true)) > 5);
		if (rc == DNS_RCODE_YXRRSET || rc == DNS_RCODE_NXRRSET)
			assert_string_equal(dns_rcode_explain(got, true),
					    "the record changed since it was read: nothing was changed");
		if (rc == DNS_RCODE_REFUSED)
			assert_non_null(strstr(dns_rcode_explain(got, true), "refused the update"));
		if (rc == DNS_RCODE_NOTAUTH)
			assert_non_null(strstr(dns_rcode_explain(got, true), "nothing was changed"));
		ldns_pkt_free(parsed);
		ldns_pkt_free(reply);
		free(wire);
	}
	assert_string_equal(dns_rcode_name(23), "RCODE23");

	/* Replies that do not belong to the request are refused. */
	{
		ldns_pkt *reply = ldns_pkt_clone(req);
		int got;

		ldns_pkt_set_qr(reply, false);
		assert_int_equal(dns_update_check_reply(req, reply, &got), MXF_EPROTO);
		ldns_pkt_set_qr(reply, true);
		ldns_pkt_set_id(reply, 0x4243);
		assert_int_equal(dns_update_check_reply(req, reply, &got), MXF_EPROTO);
		ldns_pkt_free(reply);

		assert_int_equal(dns_update_query(c.owner, LDNS_RR_TYPE_SOA, 0x4242, &reply), 0);
		ldns_pkt_set_qr(reply, true);
		assert_int_equal(dns_update_check_reply(req, reply, &got), MXF_EPROTO);
		ldns_pkt_free(reply);
	}
	ldns_pkt_free(req);
	dns_change_clear(&c);
	ldns_rdf_deep_free(zone);
}

static void
test_rrset_equal(void **state)
{
	static const char *const a[] = {"10 MX1.example.com.", "20 mx2.example.com."};
	static const char *const b[] = {"20 mx2.example.com.", "10 mx1.EXAMPLE.com."};
	static const char *const c[] = {"20 mx2.example.com."};
	ldns_rr_list *la = rrs("example.com", LDNS_RR_TYPE_MX, a, 2);
	ldns_rr_list *lb = rrs("EXAMPLE.com", LDNS_RR_TYPE_MX, b, 2);
	ldns_rr_list *lc = rrs("example.com", LDNS_RR_TYPE_MX, c, 1);
	char *s;

	(void)state;
	assert_true(dns_update_rrset_equal(la, lb, true));
	assert_false(dns_update_rrset_equal(la, lc, false));
	assert_true(dns_update_rrset_equal(NULL, NULL, false));
	ldns_rr_set_ttl(ldns_rr_list_rr(lb, 0), 61);
	assert_false(dns_update_rrset_equal(la, lb, true));
	assert_true(dns_update_rrset_equal(la, lb, false));
	s = dns_update_rdata_str(lc);
	assert_string_equal(s, "20 mx2.example.com.");
	free(s);
	s = dns_update_rdata_str(NULL);
	assert_string_equal(s, "(none)");
	free(s);
	s = dns_update_rr_str(ldns_rr_list_rr(lc, 0));
	assert_string_equal(s, "example.com. 300 IN MX 20 mx2.example.com.");
	free(s);
	ldns_rr_list_deep_free(la);
	ldns_rr_list_deep_free(lb);
	ldns_rr_list_deep_free(lc);
}

/*
 * SvcParams (SVCB, HTTPS) whose text is longer than ldns's buffer made
 * ldns 1.8.3 abort on an assertion when printed (found by
 * fuzz/fuzz_update_reply; `dns get` prints every record of an answer):
 * they come out in RFC 3597's generic form instead.
 */
static void
test_svcparams_printed_generic(void **state)
{
	uint8_t params[4 + 30 * 4] = {0x40, 0x00, 0, 0}; /* key16384, then 30 x mandatory="" */
	uint8_t prio[2] = {0, 1};
	ldns_rr *rr = ldns_rr_new();
	ldns_rr_list *l = ldns_rr_list_new();
	char *a, *b;

	(void)state;
	assert_non_null(rr);
	ldns_rr_set_owner(rr, name("mx.example.com."));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_SVCB);
	ldns_rr_set_ttl(rr, 300);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16, sizeof(prio), prio));
	ldns_rr_push_rdf(rr, name("."));
	ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_SVCPARAMS, sizeof(params),
						    params));
	ldns_rr_list_push_rr(l, rr);
	a = dns_update_rdata_str(l);
	b = dns_update_rr_str(rr);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a + strlen(a) - 8, "00000000");
	assert_non_null(strstr(a, "1 . \\# 124 40000000"));
	assert_non_null(strstr(b, "mx.example.com. 300 IN SVCB 1 . \\# 124 4000"));
	free(a);
	free(b);
	ldns_rr_list_deep_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_build_sections),
		cmocka_unit_test(test_build_rejects),
		cmocka_unit_test(test_build_many),
		cmocka_unit_test(test_build_check),
		cmocka_unit_test(test_reply_rcodes),
		cmocka_unit_test(test_rrset_equal),
		cmocka_unit_test(test_svcparams_printed_generic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
