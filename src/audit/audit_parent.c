/*
 * audit_parent.c -- the delegation as the parent zone hands it out.
 *
 * Senders find a zone's name servers through its parent's referral, not
 * through the zone's own NS records; when the two disagree, some resolvers
 * use servers the zone no longer lists (or never reach new ones).  So: the
 * SOA of the name above the domain gives the parent zone's apex, its NS set
 * and their addresses give the parent's servers (at most AUDIT_DELEG_MAX
 * addresses, a TLD has many), and each is asked for the domain's NS without
 * recursion: a referral carries the delegation.  audit_ns.c compares it
 * with the zone's NS set.  A parent that cannot be found (a private name
 * space, a resolver that refuses) is not a finding: nothing is recorded.
 * The array of delegations is allocated whole at once, so no pending
 * lookup's pointer into it ever moves; it is sorted when the last is back.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "audit_impl.h"
#include "mxf.h"

#define AUDIT_DELEG_MAX 6

static int
deleg_cmp(const void *pa, const void *pb)
{
	const struct audit_deleg *a = pa, *b = pb;

	if (a->a.family != b->a.family)
		return a->a.family == AF_INET ? -1 : 1;
	return memcmp(a->a.addr, b->a.addr, sizeof(a->a.addr));
}

static void
parent_step_done(struct audit_domain *d)
{
	struct audit_facts *f = audit_domain_facts_mut(d);

	if (--f->pending_parent == 0 && f->ndeleg > 1)
		qsort(f->deleg, f->ndeleg, sizeof(*f->deleg), deleg_cmp);
}

static void
referral_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_deleg *g = arg;
	const char *zone = audit_domain_name(d);

	(void)rcode;
	g->status = status;
	if (status == 0 && !ldns_pkt_aa(reply)) {
		ldns_rr_list *l = ldns_pkt_authority(reply);
		size_t n = ldns_rr_list_rr_count(l), k = 0;
		char **v = calloc(n > 0 ? n : 1, sizeof(*v));

		for (size_t i = 0; v != NULL && i < n; i++) {
			ldns_rr *rr = ldns_rr_list_rr(l, i);
			char *owner;
			bool same;

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_rd_count(rr) < 1)
				continue;
			owner = audit_rdf_name(ldns_rr_owner(rr));
			same = owner != NULL && audit_name_equal(owner, zone);
			free(owner);
			if (same && (v[k] = audit_rdf_name(ldns_rr_rdf(rr, 0))) != NULL)
				k++;
		}
		audit_strings_sort(v, k);
		g->ns = v;
		g->nns = k;
		g->referral = k > 0;
	}
	parent_step_done(d);
}

/* The addresses of one parent server: one delegation entry each, while room lasts. */
static void
server_addr_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_facts *f = audit_domain_facts_mut(d);
	const struct audit_opts *o = audit_domain_opts(d);
	char *server = arg;
	ldns_rr_list *l;

	(void)rcode;
	if (status != 0)
		goto done;
	l = ldns_pkt_answer(reply);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l) && f->ndeleg < AUDIT_DELEG_MAX; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		struct audit_deleg *g;
		struct sockaddr_storage ss;
		socklen_t len;
		ldns_rdf *rd;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A || ldns_rr_rd_count(rr) < 1)
			continue;
		rd = ldns_rr_rdf(rr, 0);
		if (ldns_rdf_size(rd) != 4)
			continue;
		g = &f->deleg[f->ndeleg];
		g->server = strdup(server);
		if (g->server == NULL)
			break;
		g->a.family = AF_INET;
		memcpy(g->a.addr, ldns_rdf_data(rd), 4);
		inet_ntop(AF_INET, g->a.addr, g->a.text, sizeof(g->a.text));
		g->status = MXF_ECANCELED;
		f->ndeleg++;
		{
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			memset(&ss, 0, sizeof(ss));
			sin->sin_family = AF_INET;
			sin->sin_port = htons(o->ns_port);
			memcpy(&sin->sin_addr, g->a.addr, 4);
			len = sizeof(*sin);
		}
		if (audit_lookup(d, (struct sockaddr *)&ss, len, audit_domain_name(d),
				 LDNS_RR_TYPE_NS, AUDIT_Q_NORD, referral_cb, g) == 0)
			f->pending_parent++;
	}
done:
	free(server);
	parent_step_done(d);
}

static void
parent_ns_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_facts *f = audit_domain_facts_mut(d);
	ldns_rr_list *l;

	(void)rcode;
	(void)arg;
	if (status != 0)
		goto done;
	f->deleg = calloc(AUDIT_DELEG_MAX, sizeof(*f->deleg));
	if (f->deleg == NULL)
		goto done;
	/* IPv4 servers only: an IPv6 parent server this host cannot route to
	 * would say nothing, and the parent's servers all hold one zone. */
	l = ldns_pkt_answer(reply);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l) && i < AUDIT_DELEG_MAX; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *name;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_rd_count(rr) < 1)
			continue;
		name = audit_rdf_name(ldns_rr_rdf(rr, 0));
		if (name == NULL)
			continue;
		if (audit_lookup(d, NULL, 0, name, LDNS_RR_TYPE_A, 0, server_addr_cb, name) == 0)
			f->pending_parent++;
		else
			free(name);
	}
done:
	parent_step_done(d);
}

static void
parent_soa_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_facts *f = audit_domain_facts_mut(d);
	ldns_rr_list *lists[2];

	(void)rcode;
	(void)arg;
	/* The apex is the SOA's owner: in the answer when the name is the apex,
	 * in the authority section of a NODATA answer when it is below it. */
	if (reply != NULL && (status == 0 || status == MXF_ENOTFOUND)) {
		lists[0] = ldns_pkt_answer(reply);
		lists[1] = ldns_pkt_authority(reply);
		for (size_t s = 0; s < 2 && f->parent == NULL; s++)
			for (size_t i = 0; i < ldns_rr_list_rr_count(lists[s]); i++) {
				ldns_rr *rr = ldns_rr_list_rr(lists[s], i);

				if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
					f->parent = audit_rdf_name(ldns_rr_owner(rr));
					break;
				}
			}
	}
	/* The domain's own SOA (the resolver answering for the child) is no parent. */
	if (f->parent != NULL &&
	    (audit_name_equal(f->parent, audit_domain_name(d)) || strcmp(f->parent, ".") == 0)) {
		free(f->parent);
		f->parent = NULL;
	}
	if (f->parent != NULL &&
	    audit_lookup(d, NULL, 0, f->parent, LDNS_RR_TYPE_NS, 0, parent_ns_cb, NULL) == 0)
		f->pending_parent++;
	parent_step_done(d);
}

void
audit_parent_start(struct audit_domain *d)
{
	struct audit_facts *f = audit_domain_facts_mut(d);
	const char *zone = audit_domain_name(d);
	const char *dot = strchr(zone, '.');

	/* "example.com." -> "com."; a top-level name has no parent to ask. */
	if (dot == NULL || dot[1] == '\0')
		return;
	f->pending_parent = 1; /* this start, released by parent_step_done() of the SOA */
	if (audit_lookup(d, NULL, 0, dot + 1, LDNS_RR_TYPE_SOA, 0, parent_soa_cb, NULL) != 0)
		f->pending_parent = 0;
}
