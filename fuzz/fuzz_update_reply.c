/*
 * fuzz_update_reply.c -- libFuzzer target: a DNS reply in wire form parsed
 * as the client does (ldns_wire2pkt), matched against a fixed UPDATE and a
 * fixed query (dns_update_check_reply), its rcode named and explained, and
 * the records of the queried owner read back (dns_update_rrset_from_pkt,
 * dns_update_rdata_str).  The fixed requests use the message ID and names of
 * the replies fuzz/make_dns_seeds.py captured from named.
 */
#include <stdint.h>
#include <stdlib.h>

#include <ldns/ldns.h>

#include "dns_tsig.h"
#include "dns_update.h"

#define FUZZ_ID 0x4d58

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ldns_pkt *update_req, *query_req;
static ldns_rdf *owner;

/* The UPDATE mxfailover sends to switch mx.example.com. from mx1 to mx2. */
static void
fuzz_requests(void)
{
	static const char *const mx1 = "mx1.example.com.", *const mx2 = "mx2.example.com.";
	struct dns_change c = {0};
	ldns_rdf *zone = NULL;
	char err[256];

	if (dns_update_name("example.com.", &zone) != 0 ||
	    dns_update_name("mx.example.com.", &owner) != 0 ||
	    dns_update_name("mx.example.com.", &c.owner) != 0)
		abort();
	c.type = LDNS_RR_TYPE_CNAME;
	c.ttl = 300;
	c.prereq = DNS_PREREQ_EXACT;
	if (dns_update_rrs_from_text(c.owner, c.type, 300, &mx2, 1, &c.new_rrs, err,
				     sizeof(err)) != 0 ||
	    dns_update_rrs_from_text(c.owner, c.type, 300, &mx1, 1, &c.old_rrs, err,
				     sizeof(err)) != 0 ||
	    dns_update_build(zone, &c, 1, FUZZ_ID, &update_req) != 0 ||
	    dns_update_query(owner, LDNS_RR_TYPE_CNAME, FUZZ_ID, &query_req) != 0)
		abort();
	dns_change_clear(&c);
	ldns_rdf_deep_free(zone);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ldns_pkt *reply = NULL;
	int rcode;

	if (update_req == NULL)
		fuzz_requests();
	/* As dns_client.c: drop what is shorter than a header or malformed for
	 * dns_tsig_find (ldns leaks a TSIG that is not the last record). */
	if (size < 12 || dns_tsig_find(data, size) < 0 ||
	    ldns_wire2pkt(&reply, data, size) != LDNS_STATUS_OK)
		return 0;
	for (int i = 0; i < 2; i++) {
		if (dns_update_check_reply(i ? query_req : update_req, reply, &rcode) == 0) {
			(void)dns_rcode_name(rcode);
			(void)dns_rcode_explain(rcode, i == 0);
		}
	}
	for (int sec = LDNS_SECTION_ANSWER; sec <= LDNS_SECTION_ADDITIONAL; sec++) {
		ldns_rr_list *rrs = dns_update_rrset_from_pkt(reply, (ldns_pkt_section)sec, owner,
							      LDNS_RR_TYPE_ANY);
		if (rrs != NULL) {
			free(dns_update_rdata_str(rrs));
			for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++)
				free(dns_update_rr_str(ldns_rr_list_rr(rrs, i)));
			ldns_rr_list_deep_free(rrs);
		}
	}
	ldns_pkt_free(reply);
	return 0;
}
