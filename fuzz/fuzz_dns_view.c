/*
 * fuzz_dns_view.c -- libFuzzer target: the judgement of an answer
 * (dns_view_answer) on any reply in wire form, for the owner and type of
 * the reply's own question (as the query mxfailover sent) and for a fixed
 * owner and type; the view's values and records are walked and handed over.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns_tsig.h"
#include "dns_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_view(const ldns_pkt *reply, const ldns_rdf *owner, ldns_rr_type type)
{
	struct dns_view v;

	if (dns_view_answer(reply, owner, type, &v) == 0) {
		for (size_t i = 0; i < v.nvalues; i++)
			if (v.values[i] == NULL)
				abort();
		if (memchr(v.msg, '\0', sizeof(v.msg)) == NULL)
			abort();
		ldns_rr_list_deep_free(dns_view_take_rrs(&v));
	}
	dns_view_clear(&v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ldns_rdf *fixed;
	ldns_pkt *reply = NULL;
	const ldns_rr_list *q;

	if (fixed == NULL && (fixed = ldns_dname_new_frm_str("mx.example.com.")) == NULL)
		abort();
	/* As dns_client.c does before a reply gets here. */
	if (size < 12 || dns_tsig_find(data, size) < 0 ||
	    ldns_wire2pkt(&reply, data, size) != LDNS_STATUS_OK)
		return 0;
	q = ldns_pkt_question(reply);
	if (ldns_rr_list_rr_count(q) > 0) {
		const ldns_rr *rr = ldns_rr_list_rr(q, 0);
		fuzz_view(reply, ldns_rr_owner(rr), ldns_rr_get_type(rr));
	}
	fuzz_view(reply, fixed, LDNS_RR_TYPE_CNAME);
	ldns_pkt_free(reply);
	return 0;
}
