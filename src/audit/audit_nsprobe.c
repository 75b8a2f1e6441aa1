/*
 * audit_nsprobe.c -- the zone's own name servers, asked directly.
 *
 * Every address of every NS gets, at once: the zone's SOA over UDP with RD
 * set (is it authoritative, which serial, does it offer recursion), the SOA
 * over TCP only, NS and MX without RD (what this server holds), and an AXFR
 * over TCP (does it hand the zone to anyone).  Only the first message of a
 * transfer is read; the connection is then closed.  The answers are stored
 * in the facts; audit_ns.c and audit_mx.c judge them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_impl.h"
#include "mxf.h"

static bool
has_soa(const ldns_pkt *reply, const char *zone, struct audit_ns_addr *na)
{
	ldns_rr_list *l = ldns_pkt_answer(reply);

	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *owner;
		bool same;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7)
			continue;
		owner = audit_rdf_name(ldns_rr_owner(rr));
		same = owner != NULL && audit_name_equal(owner, zone);
		free(owner);
		if (!same)
			continue;
		if (na != NULL) {
			na->serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
			na->refresh = ldns_rdf2native_int32(ldns_rr_rdf(rr, 3));
			na->retry = ldns_rdf2native_int32(ldns_rr_rdf(rr, 4));
			na->expire = ldns_rdf2native_int32(ldns_rr_rdf(rr, 5));
			na->minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
		}
		return true;
	}
	return false;
}

static void
soa_udp_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_ns_addr *na = arg;

	na->udp_status = status;
	na->udp_rcode = rcode;
	if (reply == NULL)
		return;
	na->aa = ldns_pkt_aa(reply);
	na->ra = ldns_pkt_ra(reply);
	na->soa_ok = status == 0 && has_soa(reply, audit_domain_name(d), na);
}

static void
soa_tcp_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_ns_addr *na = arg;

	(void)d;
	(void)reply;
	na->tcp_status = status;
	na->tcp_rcode = rcode;
}

/* The answer's records of @type owned by the zone, as sorted strings. */
static void
collect(const ldns_pkt *reply, const char *zone, ldns_rr_type type, char ***out, size_t *nout)
{
	ldns_rr_list *l = ldns_pkt_answer(reply);
	size_t n = ldns_rr_list_rr_count(l);
	char **v = calloc(n > 0 ? n : 1, sizeof(*v));
	size_t k = 0;

	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *owner, *name, *s;
		bool same;

		if (ldns_rr_get_type(rr) != type)
			continue;
		owner = audit_rdf_name(ldns_rr_owner(rr));
		same = owner != NULL && audit_name_equal(owner, zone);
		free(owner);
		if (!same)
			continue;
		if (type == LDNS_RR_TYPE_MX && ldns_rr_rd_count(rr) >= 2) {
			name = audit_rdf_name(ldns_rr_rdf(rr, 1));
			s = NULL;
			if (name != NULL) {
				size_t len = strlen(name) + 8;

				s = malloc(len);
				if (s != NULL)
					snprintf(s, len, "%u %s",
						 (unsigned)ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)),
						 name);
			}
			free(name);
		} else if (ldns_rr_rd_count(rr) >= 1) {
			s = audit_rdf_name(ldns_rr_rdf(rr, 0));
		} else {
			continue;
		}
		if (s != NULL)
			v[k++] = s;
	}
	audit_strings_sort(v, k);
	*out = v;
	*nout = k;
}

static void
ns_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_ns_addr *na = arg;

	(void)rcode;
	na->ns_status = status;
	if (status == 0)
		collect(reply, audit_domain_name(d), LDNS_RR_TYPE_NS, &na->ns, &na->nns);
}

static void
mx_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_ns_addr *na = arg;

	(void)rcode;
	na->mx_status = status;
	if (status == 0)
		collect(reply, audit_domain_name(d), LDNS_RR_TYPE_MX, &na->mx, &na->nmx);
}

static void
axfr_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_ns_addr *na = arg;

	na->axfr_status = status;
	na->axfr_rcode = rcode;
	/* A transfer begins with the zone's SOA; a refusal has none. */
	na->axfr_open = status == 0 && has_soa(reply, audit_domain_name(d), NULL);
}

void
audit_nsprobe_start(struct audit_domain *d, struct audit_ns *ns)
{
	const struct audit_opts *o = audit_domain_opts(d);
	const char *zone = audit_domain_name(d);

	for (size_t i = 0; i < ns->naddrs; i++) {
		struct audit_ns_addr *na = &ns->addrs[i];
		struct sockaddr_storage ss;
		socklen_t len;

		memset(&ss, 0, sizeof(ss));
		if (na->a.family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons(o->ns_port);
			memcpy(&sin->sin_addr, na->a.addr, 4);
			len = sizeof(*sin);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(o->ns_port);
			memcpy(&sin6->sin6_addr, na->a.addr, 16);
			len = sizeof(*sin6);
		}
		if (audit_lookup(d, (struct sockaddr *)&ss, len, zone, LDNS_RR_TYPE_SOA, 0,
				 soa_udp_cb, na) != 0)
			na->udp_status = MXF_ENOMEM;
		if (audit_lookup(d, (struct sockaddr *)&ss, len, zone, LDNS_RR_TYPE_SOA,
				 AUDIT_Q_TCP | AUDIT_Q_NORD, soa_tcp_cb, na) != 0)
			na->tcp_status = MXF_ENOMEM;
		if (audit_lookup(d, (struct sockaddr *)&ss, len, zone, LDNS_RR_TYPE_NS,
				 AUDIT_Q_NORD, ns_cb, na) != 0)
			na->ns_status = MXF_ENOMEM;
		if (audit_lookup(d, (struct sockaddr *)&ss, len, zone, LDNS_RR_TYPE_MX,
				 AUDIT_Q_NORD, mx_cb, na) != 0)
			na->mx_status = MXF_ENOMEM;
		if (audit_lookup(d, (struct sockaddr *)&ss, len, zone, LDNS_RR_TYPE_AXFR,
				 AUDIT_Q_TCP | AUDIT_Q_NORD, axfr_cb, na) != 0)
			na->axfr_status = MXF_ENOMEM;
	}
}
