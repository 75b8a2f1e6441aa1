/*
 * dns_update.c -- building RFC 2136 UPDATE messages with compare-and-swap
 * prerequisites, and reading the server's answer.  Pure: ldns does the
 * message work, nothing here touches the network or the clock.
 */
#include "dns_update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxf.h"

int
dns_update_name(const char *text, ldns_rdf **out)
{
	char buf[300];
	size_t n = strlen(text);
	ldns_rdf *r;

	*out = NULL;
	if (n == 0 || n > 254)
		return MXF_EINVAL;
	if (strcmp(text, ".") == 0 || text[n - 1] == '.')
		snprintf(buf, sizeof(buf), "%s", text);
	else
		snprintf(buf, sizeof(buf), "%s.", text);
	if (strcmp(buf, ".") != 0 && (strstr(buf, "..") != NULL || buf[0] == '.'))
		return MXF_EINVAL;
	r = ldns_dname_new_frm_str(buf);
	if (r == NULL)
		return MXF_EINVAL;
	*out = r;
	return 0;
}

int
dns_update_rrs_from_text(const ldns_rdf *owner, ldns_rr_type type, uint32_t ttl,
			 const char *const *values, size_t nvalues, ldns_rr_list **out,
			 char *err, size_t errlen)
{
	ldns_rr_list *list = NULL;
	char *owner_s = NULL, *type_s = NULL, *line = NULL;
	int rc = MXF_ENOMEM;

	*out = NULL;
	list = ldns_rr_list_new();
	owner_s = ldns_rdf2str(owner);
	type_s = ldns_rr_type2str(type);
	if (list == NULL || owner_s == NULL || type_s == NULL)
		goto fail;
	for (size_t i = 0; i < nvalues; i++) {
		ldns_rr *rr = NULL;
		ldns_status st;
		size_t need = strlen(owner_s) + strlen(type_s) + strlen(values[i]) + 32;

		free(line);
		line = malloc(need);
		if (line == NULL)
			goto fail;
		snprintf(line, need, "%s %u IN %s %s", owner_s, (unsigned)ttl, type_s, values[i]);
		st = ldns_rr_new_frm_str(&rr, line, ttl, NULL, NULL);
		if (st != LDNS_STATUS_OK || rr == NULL) {
			snprintf(err, errlen, "invalid %s value \"%s\": %s", type_s, values[i],
				 ldns_get_errorstr_by_id(st));
			rc = MXF_EINVAL;
			goto fail;
		}
		if (ldns_rr_get_type(rr) != type || ldns_rr_rd_count(rr) == 0 ||
		    ldns_dname_compare(ldns_rr_owner(rr), owner) != 0) {
			snprintf(err, errlen, "invalid %s value \"%s\"", type_s, values[i]);
			ldns_rr_free(rr);
			rc = MXF_EINVAL;
			goto fail;
		}
		if (!ldns_rr_list_push_rr(list, rr)) {
			ldns_rr_free(rr);
			goto fail;
		}
	}
	*out = list;
	list = NULL;
	rc = 0;
fail:
	free(line);
	free(owner_s);
	free(type_s);
	ldns_rr_list_deep_free(list);
	return rc;
}

void
dns_change_clear(struct dns_change *c)
{
	if (c == NULL)
		return;
	ldns_rdf_deep_free(c->owner);
	ldns_rr_list_deep_free(c->new_rrs);
	ldns_rr_list_deep_free(c->old_rrs);
	memset(c, 0, sizeof(*c));
}

/* A record with no RDATA (RDLENGTH 0), as prerequisites and deletes use. */
static ldns_rr *
empty_rr(const ldns_rdf *owner, ldns_rr_type type, ldns_rr_class cls)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *o;

	if (rr == NULL)
		return NULL;
	o = ldns_rdf_clone(owner);
	if (o == NULL) {
		ldns_rr_free(rr);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_ttl(rr, 0);
	return rr;
}

static int
push_clone(ldns_rr_list *list, const ldns_rr *src, ldns_rr_class cls, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_clone(src);

	if (rr == NULL)
		return MXF_ENOMEM;
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_ttl(rr, ttl);
	if (!ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return MXF_ENOMEM;
	}
	return 0;
}

static int
push_rr(ldns_rr_list *list, ldns_rr *rr)
{
	if (rr == NULL)
		return MXF_ENOMEM;
	if (!ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return MXF_ENOMEM;
	}
	return 0;
}

static bool
in_zone(const ldns_rdf *name, const ldns_rdf *zone)
{
	return ldns_dname_compare(name, zone) == 0 || ldns_dname_is_subdomain(name, zone);
}

static bool
rrs_match(const ldns_rr_list *rrs, const ldns_rdf *owner, ldns_rr_type type)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(rr) != type || ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			return false;
	}
	return true;
}

/* The UPDATE message for @zone with prerequisites @pr (none when empty)
 * and updates @up, RD clear, ID @id; the lists stay the caller's (ldns
 * clones them).  @return 0 with *out, or MXF_ENOMEM. */
static int
update_pkt(const ldns_rdf *zone, ldns_rr_list *pr, ldns_rr_list *up, uint16_t id, ldns_pkt **out)
{
	ldns_rdf *z = ldns_rdf_clone(zone);
	ldns_pkt *pkt;

	if (z == NULL)
		return MXF_ENOMEM;
	/* ldns takes the zone name. */
	pkt = ldns_update_pkt_new(z, LDNS_RR_CLASS_IN, ldns_rr_list_rr_count(pr) > 0 ? pr : NULL,
				  up, NULL);
	if (pkt == NULL) {
		ldns_rdf_deep_free(z);
		return MXF_ENOMEM;
	}
	ldns_pkt_set_rd(pkt, false);
	ldns_pkt_set_id(pkt, id);
	*out = pkt;
	return 0;
}

int
dns_update_build(const ldns_rdf *zone, const struct dns_change *changes, size_t n, uint16_t id,
		 ldns_pkt **out)
{
	ldns_rr_list *pr = NULL, *up = NULL;
	int rc = MXF_ENOMEM;

	*out = NULL;
	if (zone == NULL || n == 0 || n > 65535)
		return MXF_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct dns_change *c = &changes[i];
		if (c->owner == NULL || !in_zone(c->owner, zone) || c->new_rrs == NULL ||
		    ldns_rr_list_rr_count(c->new_rrs) == 0 ||
		    !rrs_match(c->new_rrs, c->owner, c->type))
			return MXF_EINVAL;
		if (c->prereq == DNS_PREREQ_EXACT &&
		    (c->old_rrs == NULL || ldns_rr_list_rr_count(c->old_rrs) == 0 ||
		     !rrs_match(c->old_rrs, c->owner, c->type)))
			return MXF_EINVAL;
	}
	pr = ldns_rr_list_new();
	up = ldns_rr_list_new();
	if (pr == NULL || up == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct dns_change *c = &changes[i];

		switch (c->prereq) {
		case DNS_PREREQ_NONE:
			break;
		case DNS_PREREQ_NXRRSET:
			if (push_rr(pr, empty_rr(c->owner, c->type, LDNS_RR_CLASS_NONE)) != 0)
				goto fail;
			break;
		case DNS_PREREQ_EXACT:
			for (size_t j = 0; j < ldns_rr_list_rr_count(c->old_rrs); j++)
				if (push_clone(pr, ldns_rr_list_rr(c->old_rrs, j), LDNS_RR_CLASS_IN,
					       0) != 0)
					goto fail;
			break;
		}
		if (push_rr(up, empty_rr(c->owner, c->type, LDNS_RR_CLASS_ANY)) != 0)
			goto fail;
		for (size_t j = 0; j < ldns_rr_list_rr_count(c->new_rrs); j++)
			if (push_clone(up, ldns_rr_list_rr(c->new_rrs, j), LDNS_RR_CLASS_IN,
				       c->ttl) != 0)
				goto fail;
	}
	if (ldns_rr_list_rr_count(pr) > 65535 || ldns_rr_list_rr_count(up) > 65535) {
		rc = MXF_EINVAL;
		goto fail;
	}
	rc = update_pkt(zone, pr, up, id, out);
fail:
	ldns_rr_list_deep_free(pr);
	ldns_rr_list_deep_free(up);
	return rc;
}

int
dns_update_build_check(const ldns_rdf *zone, const ldns_rr_list *const *sets, size_t n,
		       uint16_t id, ldns_pkt **out)
{
	ldns_rr_list *pr = NULL, *up = NULL;
	int rc = MXF_ENOMEM;

	*out = NULL;
	if (zone == NULL || n == 0)
		return MXF_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (sets[i] == NULL || ldns_rr_list_rr_count(sets[i]) == 0)
			return MXF_EINVAL;
		for (size_t j = 0; j < ldns_rr_list_rr_count(sets[i]); j++)
			if (!in_zone(ldns_rr_owner(ldns_rr_list_rr(sets[i], j)), zone))
				return MXF_EINVAL;
	}
	pr = ldns_rr_list_new();
	up = ldns_rr_list_new();
	if (pr == NULL || up == NULL)
		goto fail;
	/* RFC 2136 2.4.2: RRset exists (value dependent), class IN, TTL 0. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ldns_rr_list_rr_count(sets[i]); j++)
			if (push_clone(pr, ldns_rr_list_rr(sets[i], j), LDNS_RR_CLASS_IN, 0) != 0)
				goto fail;
	if (ldns_rr_list_rr_count(pr) > 65535) {
		rc = MXF_EINVAL;
		goto fail;
	}
	rc = update_pkt(zone, pr, up, id, out);
fail:
	ldns_rr_list_deep_free(pr);
	ldns_rr_list_deep_free(up);
	return rc;
}

int
dns_update_query(const ldns_rdf *name, ldns_rr_type type, uint16_t id, ldns_pkt **out)
{
	ldns_rdf *q = ldns_rdf_clone(name);
	ldns_pkt *pkt;

	*out = NULL;
	if (q == NULL)
		return MXF_ENOMEM;
	pkt = ldns_pkt_query_new(q, type, LDNS_RR_CLASS_IN, 0);
	if (pkt == NULL) {
		ldns_rdf_deep_free(q);
		return MXF_ENOMEM;
	}
	ldns_pkt_set_rd(pkt, false);
	ldns_pkt_set_id(pkt, id);
	*out = pkt;
	return 0;
}

/* The first size of a message's wire buffer (it grows as needed). */
#define DNS_UPDATE_WIRE_START 512

int
dns_update_to_wire(const ldns_pkt *pkt, uint8_t **wire, size_t *len)
{
	/*
	 * Into a buffer that grows as needed, not ldns_pkt2wire's 64 KiB one:
	 * a message is a few hundred bytes, and a 64 KiB block allocated and
	 * freed per message kept the heap growing and trimming (brk and page
	 * faults were a fifth of a 10,000-zone switch's own CPU).
	 */
	ldns_buffer *b = ldns_buffer_new(DNS_UPDATE_WIRE_START);
	size_t l;

	*wire = NULL;
	if (b == NULL)
		return MXF_ENOMEM;
	if (ldns_pkt2buffer_wire(b, pkt) != LDNS_STATUS_OK) {
		ldns_buffer_free(b);
		return MXF_EINVAL;
	}
	l = ldns_buffer_position(b);
	if (l > 65535) {
		ldns_buffer_free(b);
		return MXF_ETOOBIG;
	}
	*wire = ldns_buffer_export(b);
	ldns_buffer_free(b);
	*len = l;
	return 0;
}

int
dns_update_check_reply(const ldns_pkt *request, const ldns_pkt *reply, int *rcode)
{
	const ldns_rr_list *qq = ldns_pkt_question(request);
	const ldns_rr_list *rq = ldns_pkt_question(reply);

	*rcode = ldns_pkt_get_rcode(reply);
	if (ldns_pkt_id(reply) != ldns_pkt_id(request) || !ldns_pkt_qr(reply) ||
	    ldns_pkt_get_opcode(reply) != ldns_pkt_get_opcode(request))
		return MXF_EPROTO;
	if (ldns_rr_list_rr_count(rq) == 0) {
		/* Some servers drop the question from error replies. */
		return *rcode != DNS_RCODE_NOERROR ? 0 : MXF_EPROTO;
	}
	if (ldns_rr_list_rr_count(rq) != ldns_rr_list_rr_count(qq) ||
	    ldns_rr_list_rr_count(qq) == 0)
		return MXF_EPROTO;
	{
		const ldns_rr *a = ldns_rr_list_rr(qq, 0), *b = ldns_rr_list_rr(rq, 0);
		if (ldns_rr_get_type(a) != ldns_rr_get_type(b) ||
		    ldns_rr_get_class(a) != ldns_rr_get_class(b) ||
		    ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) != 0)
			return MXF_EPROTO;
	}
	return 0;
}

static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

const char *
dns_rcode_name(int rcode)
{
	static char buf[16];

	if (rcode >= 0 && (size_t)rcode < MXF_ARRAY_SIZE(rcode_names))
		return rcode_names[rcode];
	snprintf(buf, sizeof(buf), "RCODE%d", rcode);
	return buf;
}

const char *
dns_rcode_explain(int rcode, bool update)
{
	switch (rcode) {
	case DNS_RCODE_NOERROR:
		return "success";
	case DNS_RCODE_FORMERR:
		return "the server could not parse the message";
	case DNS_RCODE_SERVFAIL:
		return "the server failed internally (see its log)";
	case DNS_RCODE_NXDOMAIN:
		return update ? "a name the update requires does not exist: nothing was changed"
			      : "the name does not exist";
	case DNS_RCODE_NOTIMP:
		return update ? "the server does not support dynamic updates"
			      : "the server does not support this query";
	case DNS_RCODE_REFUSED:
		return update ? "the server refused the update: it is not allowed for this key "
				"or address (check BIND's update-policy or allow-update, Knot's "
				"acl, PowerDNS's TSIG-ALLOW-DNSUPDATE and ALLOW-DNSUPDATE-FROM)"
			      : "the server refused the query";
	case DNS_RCODE_YXDOMAIN:
		return "a name that must not exist exists: nothing was changed";
	case DNS_RCODE_YXRRSET:
	case DNS_RCODE_NXRRSET:
		return update ? "the record changed since it was read: nothing was changed"
			      : "unexpected answer to a query";
	case DNS_RCODE_NOTAUTH:
		return update ? "the server is not authoritative for the zone, or does not allow "
				"the update for this key or address (Knot answers so when no acl "
				"allows it): nothing was changed"
			      : "the server is not authoritative for the zone";
	case DNS_RCODE_NOTZONE:
		return "a record of the update is outside the zone: nothing was changed";
	default:
		return "the server answered with an unknown error code";
	}
}

static bool
rdf_equal(const ldns_rdf *a, const ldns_rdf *b)
{
	if (ldns_rdf_get_type(a) == LDNS_RDF_TYPE_DNAME && ldns_rdf_get_type(b) == LDNS_RDF_TYPE_DNAME)
		return ldns_dname_compare(a, b) == 0;
	return ldns_rdf_compare(a, b) == 0;
}

static bool
rr_equal(const ldns_rr *a, const ldns_rr *b, bool check_ttl)
{
	if (ldns_rr_get_type(a) != ldns_rr_get_type(b) ||
	    ldns_rr_get_class(a) != ldns_rr_get_class(b) ||
	    ldns_rr_rd_count(a) != ldns_rr_rd_count(b) ||
	    ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) != 0)
		return false;
	if (check_ttl && ldns_rr_ttl(a) != ldns_rr_ttl(b))
		return false;
	for (size_t i = 0; i < ldns_rr_rd_count(a); i++)
		if (!rdf_equal(ldns_rr_rdf(a, i), ldns_rr_rdf(b, i)))
			return false;
	return true;
}

static bool
contains_all(const ldns_rr_list *a, const ldns_rr_list *b, bool check_ttl)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(a); i++) {
		bool found = false;
		for (size_t j = 0; j < ldns_rr_list_rr_count(b) && !found; j++)
			found = rr_equal(ldns_rr_list_rr(a, i), ldns_rr_list_rr(b, j), check_ttl);
		if (!found)
			return false;
	}
	return true;
}

bool
dns_update_rrset_equal(const ldns_rr_list *a, const ldns_rr_list *b, bool check_ttl)
{
	size_t na = a != NULL ? ldns_rr_list_rr_count(a) : 0;
	size_t nb = b != NULL ? ldns_rr_list_rr_count(b) : 0;

	if (na != nb)
		return false;
	if (na == 0)
		return true;
	return contains_all(a, b, check_ttl) && contains_all(b, a, check_ttl);
}

ldns_rr_list *
dns_update_rrset_from_pkt(const ldns_pkt *pkt, ldns_pkt_section sec, const ldns_rdf *owner,
			  ldns_rr_type type)
{
	const ldns_rr_list *src;
	ldns_rr_list *out = ldns_rr_list_new();

	if (out == NULL)
		return NULL;
	switch (sec) {
	case LDNS_SECTION_ANSWER: src = ldns_pkt_answer(pkt); break;
	case LDNS_SECTION_AUTHORITY: src = ldns_pkt_authority(pkt); break;
	case LDNS_SECTION_ADDITIONAL: src = ldns_pkt_additional(pkt); break;
	default: src = ldns_pkt_question(pkt); break;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(src); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(src, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TSIG || ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT)
			continue;
		if (type != LDNS_RR_TYPE_ANY && ldns_rr_get_type(rr) != type)
			continue;
		if (owner != NULL && ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		if (push_clone(out, rr, ldns_rr_get_class(rr), ldns_rr_ttl(rr)) != 0) {
			ldns_rr_list_deep_free(out);
			return NULL;
		}
	}
	return out;
}

/*
 * ldns 1.8.3 aborts on an assertion when it prints some SvcParams (SVCB,
 * HTTPS) it accepted from the wire (found by fuzz/fuzz_update_reply), so
 * those are printed here in RFC 3597's generic form, "\# LEN HEX".
 */
static void
rdf_to_buffer(ldns_buffer *b, const ldns_rdf *rdf)
{
	const uint8_t *d = ldns_rdf_data(rdf);

	if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_SVCPARAMS) {
		ldns_rdf2buffer_str(b, rdf);
		return;
	}
	ldns_buffer_printf(b, "\\# %zu ", ldns_rdf_size(rdf));
	for (size_t i = 0; i < ldns_rdf_size(rdf); i++)
		ldns_buffer_printf(b, "%02x", d[i]);
}

/* The RDATA fields of @rr in zone-file form, joined by one space. */
static void
rdata_to_buffer(ldns_buffer *b, const ldns_rr *rr)
{
	for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
		if (j > 0)
			ldns_buffer_printf(b, " ");
		rdf_to_buffer(b, ldns_rr_rdf(rr, j));
	}
}

/* @return whether @rr has a field ldns cannot be trusted to print. */
static bool
rr_has_svcparams(const ldns_rr *rr)
{
	for (size_t j = 0; j < ldns_rr_rd_count(rr); j++)
		if (ldns_rdf_get_type(ldns_rr_rdf(rr, j)) == LDNS_RDF_TYPE_SVCPARAMS)
			return true;
	return false;
}

/* The text of @b, which this frees.  @return a malloc'ed string, or NULL. */
static char *
buffer_finish(ldns_buffer *b)
{
	char *s = ldns_buffer_export2str(b);

	ldns_buffer_free(b);
	return s;
}

char *
dns_update_rr_rdata_str(const ldns_rr *rr)
{
	ldns_buffer *b = ldns_buffer_new(256);

	if (b == NULL)
		return NULL;
	rdata_to_buffer(b, rr);
	return buffer_finish(b);
}

char *
dns_update_rdata_str(const ldns_rr_list *rrs)
{
	ldns_buffer *b = ldns_buffer_new(256);

	if (b == NULL)
		return NULL;
	if (rrs == NULL || ldns_rr_list_rr_count(rrs) == 0)
		ldns_buffer_printf(b, "(none)");
	for (size_t i = 0; rrs != NULL && i < ldns_rr_list_rr_count(rrs); i++) {
		if (i > 0)
			ldns_buffer_printf(b, ", ");
		rdata_to_buffer(b, ldns_rr_list_rr(rrs, i));
	}
	return buffer_finish(b);
}

char *
dns_update_rr_str(const ldns_rr *rr)
{
	char *s;
	size_t n;

	if (rr_has_svcparams(rr)) {
		ldns_buffer *b = ldns_buffer_new(256);

		if (b == NULL)
			return NULL;
		ldns_rdf2buffer_str(b, ldns_rr_owner(rr));
		ldns_buffer_printf(b, " %u ", (unsigned)ldns_rr_ttl(rr));
		ldns_rr_class2buffer_str(b, ldns_rr_get_class(rr));
		ldns_buffer_printf(b, " ");
		ldns_rr_type2buffer_str(b, ldns_rr_get_type(rr));
		ldns_buffer_printf(b, " ");
		rdata_to_buffer(b, rr);
		return buffer_finish(b);
	}
	s = ldns_rr2str(rr);

	if (s == NULL)
		return NULL;
	for (char *p = s; *p != '\0'; p++)
		if (*p == '\t')
			*p = ' ';
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}
