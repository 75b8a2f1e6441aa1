/*
 * audit_gather.c -- stage 1 of the engine: the facts about a domain as its
 * resolver gives them.
 *
 * Three lookups start at once: MX, NS and SOA of the domain.  The MX phase
 * then asks A and AAAA of every MX target, then the PTR of every address,
 * then the A or AAAA of every PTR name (forward-confirmed reverse DNS); when
 * the last of these is back, the MX facts are complete and stage 2 starts
 * (audit_engine_mx_ready).  The NS phase asks A and AAAA of every name
 * server and hands each one to audit_nsprobe.  Arrays of facts are built
 * whole before any lookup points into them, so no pointer a pending
 * callback holds ever moves.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "audit_impl.h"
#include "mxf.h"

char *
audit_rdf_name(const ldns_rdf *rdf)
{
	char *s = ldns_rdf2str(rdf);

	if (s == NULL)
		return NULL;
	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

bool
audit_name_equal(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na > 0 && a[na - 1] == '.')
		na--;
	if (nb > 0 && b[nb - 1] == '.')
		nb--;
	return na == nb && strncasecmp(a, b, na) == 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
audit_strings_sort(char **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
}

void
audit_strings_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void
audit_facts_clear(struct audit_facts *f)
{
	for (size_t i = 0; i < f->nmx; i++) {
		struct audit_mx *m = &f->mx[i];

		for (size_t j = 0; j < m->naddrs; j++) {
			for (size_t k = 0; k < m->addrs[j].nptr; k++)
				free(m->addrs[j].ptr[k].name);
			free(m->addrs[j].ptr);
		}
		free(m->addrs);
		free(m->target);
		free(m->cname_target);
	}
	free(f->mx);
	for (size_t i = 0; i < f->nns; i++) {
		struct audit_ns *ns = &f->ns[i];

		for (size_t j = 0; j < ns->naddrs; j++) {
			audit_strings_free(ns->addrs[j].ns, ns->addrs[j].nns);
			audit_strings_free(ns->addrs[j].mx, ns->addrs[j].nmx);
		}
		free(ns->addrs);
		free(ns->name);
	}
	free(f->ns);
	audit_strings_free(f->resolver_ns, f->nns);
	memset(f, 0, sizeof(*f));
}

/* The first CNAME in @reply's answer whose owner is @name: its target, or NULL. */
static char *
cname_of(const ldns_pkt *reply, const char *name)
{
	ldns_rr_list *l = ldns_pkt_answer(reply);

	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *owner;
		bool same;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) < 1)
			continue;
		owner = audit_rdf_name(ldns_rr_owner(rr));
		same = owner != NULL && audit_name_equal(owner, name);
		free(owner);
		if (same)
			return audit_rdf_name(ldns_rr_rdf(rr, 0));
	}
	return NULL;
}

/*
 * Append the A or AAAA records of @reply's answer to *@v (*@n entries).
 * 0 or MXF_ENOMEM.
 */
static int
addrs_append(const ldns_pkt *reply, struct audit_addr **v, size_t *n)
{
	ldns_rr_list *l = ldns_pkt_answer(reply);

	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		ldns_rdf *rd;
		struct audit_addr *nv, *a;

		if ((t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA) || ldns_rr_rd_count(rr) < 1)
			continue;
		rd = ldns_rr_rdf(rr, 0);
		if (ldns_rdf_size(rd) != (t == LDNS_RR_TYPE_A ? 4u : 16u))
			continue;
		nv = realloc(*v, (*n + 1) * sizeof(*nv));
		if (nv == NULL)
			return MXF_ENOMEM;
		*v = nv;
		a = &nv[*n];
		memset(a, 0, sizeof(*a));
		a->family = t == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
		memcpy(a->addr, ldns_rdf_data(rd), ldns_rdf_size(rd));
		inet_ntop(a->family, a->addr, a->text, sizeof(a->text));
		a->ttl = ldns_rr_ttl(rr);
		(*n)++;
	}
	return 0;
}

/* ---- stable order: answers come in any order, facts do not ---- */

static int
mx_cmp(const void *pa, const void *pb)
{
	const struct audit_mx *a = pa, *b = pb;

	if (a->pref != b->pref)
		return a->pref < b->pref ? -1 : 1;
	return strcmp(a->target, b->target);
}

static int
addr_cmp(const void *pa, const void *pb)
{
	const struct audit_addr *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int
ns_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct audit_ns *)pa)->name, ((const struct audit_ns *)pb)->name);
}

static int
ns_addr_cmp(const void *pa, const void *pb)
{
	return addr_cmp(&((const struct audit_ns_addr *)pa)->a, &((const struct audit_ns_addr *)pb)->a);
}

/* ---- the MX phase ---- */

static void mx_phase_step(struct audit_domain *d);

static void
back_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_ptr *p = arg;
	struct audit_facts *f = audit_domain_facts_mut(d);
	struct audit_addr *got = NULL;
	size_t ngot = 0;

	(void)rcode;
	p->back_status = status;
	if (status == 0 && addrs_append(reply, &got, &ngot) == 0)
		for (size_t i = 0; i < ngot; i++)
			if (got[i].family == p->addr->family &&
			    memcmp(got[i].addr, p->addr->addr,
				   p->addr->family == AF_INET ? 4 : 16) == 0)
				p->back = true;
	free(got);
	f->pending_ptr--;
	mx_phase_step(d);
}

static void
ptr_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_addr *a = arg;
	struct audit_facts *f = audit_domain_facts_mut(d);

	(void)rcode;
	a->ptr_status = status;
	if (status == 0) {
		ldns_rr_list *l = ldns_pkt_answer(reply);
		size_t n = ldns_rr_list_rr_count(l);

		a->ptr = calloc(n > 0 ? n : 1, sizeof(*a->ptr));
		for (size_t i = 0; a->ptr != NULL && i < n; i++) {
			ldns_rr *rr = ldns_rr_list_rr(l, i);
			char *name;

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR || ldns_rr_rd_count(rr) < 1)
				continue;
			name = audit_rdf_name(ldns_rr_rdf(rr, 0));
			if (name == NULL)
				continue;
			a->ptr[a->nptr].name = name;
			a->ptr[a->nptr].addr = a;
			a->ptr[a->nptr].back_status = MXF_ECANCELED;
			a->nptr++;
		}
		/* Every PTR name is looked up forward once the array is whole. */
		for (size_t i = 0; i < a->nptr; i++)
			if (audit_lookup(d, NULL, 0, a->ptr[i].name,
					 a->family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA,
					 0, back_cb, &a->ptr[i]) == 0)
				f->pending_ptr++;
	}
	f->pending_ptr--;
	mx_phase_step(d);
}

/* An address the lab or hub allowed, or a public one: worth a PTR lookup. */
static bool
ptr_wanted(const struct audit_opts *o, const struct audit_addr *a)
{
	if (!audit_addr_private(a->family, a->addr))
		return true;
	for (size_t i = 0; i < o->nallow_private; i++)
		if (audit_prefix_match(&o->allow_private[i], a->family, a->addr))
			return true;
	return false;
}

static void
start_ptr(struct audit_domain *d)
{
	struct audit_facts *f = audit_domain_facts_mut(d);
	const struct audit_opts *o = audit_domain_opts(d);

	for (size_t i = 0; i < f->nmx; i++)
		for (size_t j = 0; j < f->mx[i].naddrs; j++) {
			struct audit_addr *a = &f->mx[i].addrs[j];
			ldns_rdf *fw = ldns_rdf_new_frm_data(
				a->family == AF_INET ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
				a->family == AF_INET ? 4 : 16, a->addr);
			ldns_rdf *rev = fw != NULL ? ldns_rdf_address_reverse(fw) : NULL;
			char *name = rev != NULL ? ldns_rdf2str(rev) : NULL;

			a->ptr_status = MXF_ECANCELED;
			if (!ptr_wanted(o, a)) {
				/* Private: its reverse DNS means nothing to senders
				 * (mx-target-private says so). */
				a->ptr_status = MXF_EUNSUPPORTED;
			} else if (name != NULL &&
			    audit_lookup(d, NULL, 0, name, LDNS_RR_TYPE_PTR, 0, ptr_cb, a) == 0)
				f->pending_ptr++;
			free(name);
			ldns_rdf_deep_free(rev);
			ldns_rdf_deep_free(fw);
		}
}

/* After every PTR-phase callback: when the last is back, stage 2 starts. */
static void
mx_phase_step(struct audit_domain *d)
{
	struct audit_facts *f = audit_domain_facts_mut(d);

	if (f->pending_addr == 0 && f->pending_ptr == 0)
		audit_engine_mx_ready(d);
}

static void
addr_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_mx *m = arg;
	struct audit_facts *f = audit_domain_facts_mut(d);

	(void)rcode;
	if (status == 0) {
		char *c = cname_of(reply, m->target);

		if (c != NULL) {
			m->is_cname = true;
			if (m->cname_target == NULL)
				m->cname_target = c;
			else
				free(c);
		}
		if (addrs_append(reply, &m->addrs, &m->naddrs) != 0)
			m->addr_status = MXF_ENOMEM;
	} else if (status != MXF_ERCODE || m->addr_status == 0) {
		/* NXDOMAIN, a timeout or an error rcode; NOERROR/NODATA of the
		 * other type does not hide it. */
		if (m->addr_status == 0 || m->addr_status == MXF_ERCODE)
			m->addr_status = status;
	}
	if (--f->pending_addr == 0) {
		/* No lookup points into the address arrays yet: order them. */
		for (size_t i = 0; i < f->nmx; i++)
			if (f->mx[i].naddrs > 1)
				qsort(f->mx[i].addrs, f->mx[i].naddrs, sizeof(*f->mx[i].addrs),
				      addr_cmp);
		start_ptr(d);
		if (f->pending_ptr == 0)
			audit_engine_mx_ready(d);
	}
}

static bool
is_ip_text(const char *s)
{
	char buf[64];
	uint8_t a[16];
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1;
}

static void
mx_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_facts *f = audit_domain_facts_mut(d);
	const char *zone = audit_domain_name(d);
	ldns_rr_list *l;
	size_t n;

	(void)arg;
	f->mx_status = status;
	f->mx_rcode = rcode;
	if (status != 0)
		goto done;
	l = ldns_pkt_answer(reply);
	n = ldns_rr_list_rr_count(l);
	f->mx = calloc(n > 0 ? n : 1, sizeof(*f->mx));
	if (f->mx == NULL)
		goto done;
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *owner, *target;
		struct audit_mx *m;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_MX || ldns_rr_rd_count(rr) < 2)
			continue;
		owner = audit_rdf_name(ldns_rr_owner(rr));
		if (owner == NULL || !audit_name_equal(owner, zone)) {
			free(owner);
			continue;
		}
		free(owner);
		target = audit_rdf_name(ldns_rr_rdf(rr, 1));
		if (target == NULL)
			continue;
		m = &f->mx[f->nmx++];
		m->pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		m->target = target;
		m->ttl = ldns_rr_ttl(rr);
		m->is_ip = is_ip_text(target);
	}
	/* The array is whole: order it, then the lookups may point into it. */
	if (f->nmx > 1)
		qsort(f->mx, f->nmx, sizeof(*f->mx), mx_cmp);
	for (size_t i = 0; i < f->nmx; i++) {
		struct audit_mx *m = &f->mx[i];

		if (m->is_ip || strcmp(m->target, ".") == 0)
			continue;
		if (audit_lookup(d, NULL, 0, m->target, LDNS_RR_TYPE_A, 0, addr_cb, m) == 0)
			f->pending_addr++;
		if (audit_lookup(d, NULL, 0, m->target, LDNS_RR_TYPE_AAAA, 0, addr_cb, m) == 0)
			f->pending_addr++;
	}
done:
	if (f->pending_addr == 0)
		audit_engine_mx_ready(d);
}

/* ---- the NS phase ---- */

static void
ns_addr_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_ns *ns = arg;
	struct audit_addr *got = NULL;
	size_t ngot = 0;

	(void)rcode;
	if (status == 0) {
		char *c = cname_of(reply, ns->name);

		if (c != NULL)
			ns->is_cname = true;
		free(c);
		if (addrs_append(reply, &got, &ngot) == 0 && ngot > 0) {
			struct audit_ns_addr *v =
				realloc(ns->addrs, (ns->naddrs + ngot) * sizeof(*v));

			if (v != NULL) {
				ns->addrs = v;
				for (size_t i = 0; i < ngot; i++) {
					memset(&v[ns->naddrs], 0, sizeof(v[0]));
					v[ns->naddrs].a = got[i];
					v[ns->naddrs].udp_status = MXF_ECANCELED;
					v[ns->naddrs].tcp_status = MXF_ECANCELED;
					v[ns->naddrs].ns_status = MXF_ECANCELED;
					v[ns->naddrs].mx_status = MXF_ECANCELED;
					v[ns->naddrs].axfr_status = MXF_ECANCELED;
					ns->naddrs++;
				}
			}
		}
		free(got);
	} else if (ns->addr_status == 0) {
		ns->addr_status = status;
	}
	if (--ns->pending == 0) {
		if (ns->naddrs > 1)
			qsort(ns->addrs, ns->naddrs, sizeof(*ns->addrs), ns_addr_cmp);
		audit_nsprobe_start(d, ns);
	}
}

static void
ns_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_facts *f = audit_domain_facts_mut(d);
	const char *zone = audit_domain_name(d);
	ldns_rr_list *l;
	size_t n;

	(void)arg;
	f->ns_status = status;
	f->ns_rcode = rcode;
	if (status != 0)
		return;
	l = ldns_pkt_answer(reply);
	n = ldns_rr_list_rr_count(l);
	f->ns = calloc(n > 0 ? n : 1, sizeof(*f->ns));
	f->resolver_ns = calloc(n > 0 ? n : 1, sizeof(*f->resolver_ns));
	if (f->ns == NULL || f->resolver_ns == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *owner, *name;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_rd_count(rr) < 1)
			continue;
		owner = audit_rdf_name(ldns_rr_owner(rr));
		if (owner == NULL || !audit_name_equal(owner, zone)) {
			free(owner);
			continue;
		}
		free(owner);
		name = audit_rdf_name(ldns_rr_rdf(rr, 0));
		if (name == NULL)
			continue;
		f->resolver_ns[f->nns] = strdup(name);
		if (f->resolver_ns[f->nns] == NULL) {
			free(name);
			continue;
		}
		f->ns[f->nns++].name = name;
	}
	audit_strings_sort(f->resolver_ns, f->nns);
	if (f->nns > 1)
		qsort(f->ns, f->nns, sizeof(*f->ns), ns_cmp);
	for (size_t i = 0; i < f->nns; i++) {
		struct audit_ns *ns = &f->ns[i];

		if (audit_lookup(d, NULL, 0, ns->name, LDNS_RR_TYPE_A, 0, ns_addr_cb, ns) == 0)
			ns->pending++;
		if (audit_lookup(d, NULL, 0, ns->name, LDNS_RR_TYPE_AAAA, 0, ns_addr_cb, ns) == 0)
			ns->pending++;
		if (ns->pending == 0)
			ns->addr_status = MXF_ENOMEM;
	}
}

static void
soa_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_facts *f = audit_domain_facts_mut(d);
	ldns_rr_list *l;

	(void)arg;
	f->soa_status = status;
	f->soa_rcode = rcode;
	if (status != 0)
		return;
	l = ldns_pkt_answer(reply);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7)
			continue;
		f->serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
		f->refresh = ldns_rdf2native_int32(ldns_rr_rdf(rr, 3));
		f->retry = ldns_rdf2native_int32(ldns_rr_rdf(rr, 4));
		f->expire = ldns_rdf2native_int32(ldns_rr_rdf(rr, 5));
		f->minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
		return;
	}
	/* NOERROR without an SOA: the name exists but is not a zone apex. */
	f->soa_status = MXF_ENOTFOUND;
}

void
audit_gather_start(struct audit_domain *d)
{
	struct audit_facts *f = audit_domain_facts_mut(d);
	const char *zone = audit_domain_name(d);

	f->mx_status = f->ns_status = f->soa_status = MXF_ECANCELED;
	if (audit_lookup(d, NULL, 0, zone, LDNS_RR_TYPE_SOA, 0, soa_cb, NULL) != 0)
		f->soa_status = MXF_ENOMEM;
	if (audit_lookup(d, NULL, 0, zone, LDNS_RR_TYPE_NS, 0, ns_cb, NULL) != 0)
		f->ns_status = MXF_ENOMEM;
	if (audit_lookup(d, NULL, 0, zone, LDNS_RR_TYPE_MX, 0, mx_cb, NULL) != 0) {
		f->mx_status = MXF_ENOMEM;
		audit_engine_mx_ready(d);
	}
}
