/*
 * dns_view.c -- one verdict on an answer to a query: present, absent, an
 * error rcode, or not authoritative; the RRset as records and as text.
 */
#include "dns_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_update.h"
#include "mxf.h"

void
dns_view_clear(struct dns_view *v)
{
	if (v == NULL)
		return;
	ldns_rr_list_deep_free(v->rrs);
	for (size_t i = 0; i < v->nvalues; i++)
		free(v->values[i]);
	free(v->values);
	memset(v, 0, sizeof(*v));
	v->ttl = -1;
}

ldns_rr_list *
dns_view_take_rrs(struct dns_view *v)
{
	ldns_rr_list *rrs = v->rrs;

	v->rrs = NULL;
	return rrs;
}

/* The text form of each record of v->rrs into v->values. */
static int
view_values(struct dns_view *v)
{
	size_t n = ldns_rr_list_rr_count(v->rrs);

	v->values = mxf_calloc(n, sizeof(*v->values));
	if (v->values == NULL)
		return MXF_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v->values[i] = dns_update_rr_rdata_str(ldns_rr_list_rr(v->rrs, i));
		if (v->values[i] == NULL)
			return MXF_ENOMEM;
		v->nvalues++;
	}
	return 0;
}

int
dns_view_answer(const ldns_pkt *reply, const ldns_rdf *owner, ldns_rr_type type,
		struct dns_view *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->ttl = -1;
	out->rcode = ldns_pkt_get_rcode(reply);
	if (out->rcode != LDNS_RCODE_NOERROR && out->rcode != LDNS_RCODE_NXDOMAIN) {
		out->verdict = DNS_VIEW_RCODE;
		snprintf(out->msg, sizeof(out->msg), "%s (%s)", dns_rcode_name(out->rcode),
			 dns_rcode_explain(out->rcode, false));
		return 0;
	}
	if (!ldns_pkt_aa(reply)) {
		/* Only the zone's own server can say a record is or is not there. */
		out->verdict = DNS_VIEW_NOTAUTH;
		snprintf(out->msg, sizeof(out->msg), "the server is not authoritative for it");
		return 0;
	}
	out->rrs = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, owner, type);
	if (out->rrs == NULL)
		return MXF_ENOMEM;
	if (ldns_rr_list_rr_count(out->rrs) == 0) {
		out->verdict = DNS_VIEW_ABSENT;
		return 0;
	}
	out->verdict = DNS_VIEW_PRESENT;
	out->ttl = ldns_rr_ttl(ldns_rr_list_rr(out->rrs, 0));
	rc = view_values(out);
	if (rc != 0) {
		dns_view_clear(out);
		return rc;
	}
	return 0;
}
