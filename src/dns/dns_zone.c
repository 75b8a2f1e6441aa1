/*
 * dns_zone.c -- the zone of a name: the longest configured zone that holds
 * it, else a walk up from the name with SOA queries (a CNAME at a name is
 * stepped over), each query an exchange of the operations context.
 */
#include "dns_zone.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "dns_ops_internal.h"
#include "dns_update.h"
#include "mxf.h"

#define MAX_WALK 128

struct ops_fz {
	struct dns_ops_owned own;  /* first */
	struct dns_ops *ops;
	ldns_rdf *name;   /* asked */
	ldns_rdf *cur;    /* being queried */
	ldns_rdf *zone;   /* found */
	int steps;
	ldns_rr_list **cname_out; /* the caller's, or NULL */
	dns_zone_cb cb;
	void *arg;
};

/* Free a lookup (also its destroy: the owned member comes first). */
static void
fz_free(struct dns_ops_owned *o)
{
	struct ops_fz *fz = (struct ops_fz *)o;

	dns_ops_disown(fz->ops, &fz->own);
	ldns_rdf_deep_free(fz->name);
	ldns_rdf_deep_free(fz->cur);
	ldns_rdf_deep_free(fz->zone);
	free(fz);
}

static void
fz_config_done(evutil_socket_t fd, short what, void *arg)
{
	struct ops_fz *fz = arg;

	fz->cb(0, fz->zone, NULL, fz->arg);
	fz_free(&fz->own);
}

static void fz_soa_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg);

/* Report the lookup's end (@fmt NULL: success, no message) and free it. */
static void __attribute__((format(printf, 3, 4)))
fz_finish(struct ops_fz *fz, int status, const char *fmt, ...)
{
	char msg[DNS_OPS_MSG] = "";
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	fz->cb(status, status == 0 ? fz->zone : NULL, msg, fz->arg);
	fz_free(&fz->own);
}

static void
fz_step(struct ops_fz *fz)
{
	char *s;
	int rc = dns_ops_read(fz->ops, fz->cur, LDNS_RR_TYPE_SOA, fz_soa_cb, fz);

	if (rc != 0) {
		s = ldns_rdf2str(fz->name);
		fz_finish(fz, rc, "cannot look up the zone of %s: %s", s ? s : "?",
			  mxf_strerror(rc));
		free(s);
	}
}

static void
fz_soa_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct ops_fz *fz = arg;
	char *name = ldns_rdf2str(fz->name);
	const char *n = name != NULL ? name : "?";
	ldns_rr_list *soa = NULL, *cname = NULL, *auth = NULL;
	ldns_rdf *parent;

	if (status != 0) {
		fz_finish(fz, status, "SOA query for the zone of %s at %s: %s", n,
			  fz->ops->server, msg);
		goto out;
	}
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		fz_finish(fz, MXF_ENOTFOUND,
			  "%s at %s: no zone found for %s: the server answered %s (%s)", n,
			  fz->ops->server, n, dns_rcode_name(rcode), dns_rcode_explain(rcode, false));
		goto out;
	}
	soa = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, fz->cur, LDNS_RR_TYPE_SOA);
	cname = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, fz->cur, LDNS_RR_TYPE_CNAME);
	auth = dns_update_rrset_from_pkt(reply, LDNS_SECTION_AUTHORITY, NULL, LDNS_RR_TYPE_SOA);
	if (soa == NULL || cname == NULL || auth == NULL) {
		fz_finish(fz, MXF_ENOMEM, "out of memory");
		goto out;
	}
	if (fz->steps == 0 && fz->cname_out != NULL && ldns_pkt_aa(reply) &&
	    *fz->cname_out == NULL) {
		/* What the name holds as CNAME, for a caller that would read it next. */
		*fz->cname_out = ldns_rr_list_clone(cname);
	}
	if (ldns_rr_list_rr_count(soa) > 0 && ldns_pkt_aa(reply)) {
		fz->zone = ldns_rdf_clone(fz->cur);
		fz_finish(fz, fz->zone != NULL ? 0 : MXF_ENOMEM, NULL);
		goto out;
	}
	if (ldns_rr_list_rr_count(cname) == 0 && ldns_rr_list_rr_count(auth) > 0 &&
	    ldns_pkt_aa(reply)) {
		const ldns_rdf *z = ldns_rr_owner(ldns_rr_list_rr(auth, 0));
		if (ldns_dname_compare(fz->name, z) == 0 || ldns_dname_is_subdomain(fz->name, z)) {
			fz->zone = ldns_rdf_clone(z);
			fz_finish(fz, fz->zone != NULL ? 0 : MXF_ENOMEM, NULL);
			goto out;
		}
	}
	if (!ldns_pkt_aa(reply) && ldns_rr_list_rr_count(cname) == 0) {
		fz_finish(fz, MXF_ENOTFOUND,
			  "%s at %s: the server is not authoritative for %s (no zone of it is "
			  "there)", n, fz->ops->server, n);
		goto out;
	}
	/* A CNAME here (or an answer without SOA): the zone is further up. */
	if (++fz->steps > MAX_WALK || ldns_dname_label_count(fz->cur) == 0) {
		fz_finish(fz, MXF_ENOTFOUND, "%s at %s: no zone found for %s", n, fz->ops->server,
			  n);
		goto out;
	}
	parent = ldns_dname_left_chop(fz->cur);
	if (parent == NULL) {
		fz_finish(fz, MXF_ENOMEM, "out of memory");
		goto out;
	}
	ldns_rdf_deep_free(fz->cur);
	fz->cur = parent;
	fz_step(fz);
out:
	ldns_rr_list_deep_free(soa);
	ldns_rr_list_deep_free(cname);
	ldns_rr_list_deep_free(auth);
	free(name);
}

int
dns_zone_find(struct dns_ops *ops, const struct config *cfg, const ldns_rdf *name,
		  dns_zone_cb cb, void *arg)
{
	return dns_zone_find_cname(ops, cfg, name, cb, arg, NULL);
}

/* ---- the configured zones, searchable --------------------------------- */

struct dns_zone_set {
	ldns_rdf **v; /* sorted by ldns_dname_compare, no duplicates */
	size_t n;
};

static int
zs_cmp(const void *a, const void *b)
{
	return ldns_dname_compare(*(ldns_rdf *const *)a, *(ldns_rdf *const *)b);
}

int
dns_zone_set_new(const struct config *cfg, struct dns_zone_set **out)
{
	struct dns_zone_set *s = calloc(1, sizeof(*s));
	size_t total = 0;

	*out = NULL;
	for (size_t g = 0; cfg != NULL && g < cfg->ngroups; g++)
		total += cfg->groups[g].nzones;
	if (s == NULL || (s->v = calloc(total + 1, sizeof(*s->v))) == NULL) {
		free(s);
		return MXF_ENOMEM;
	}
	for (size_t g = 0; cfg != NULL && g < cfg->ngroups; g++)
		for (size_t z = 0; z < cfg->groups[g].nzones; z++) {
			ldns_rdf *zr = NULL;
			if (dns_update_name(cfg->groups[g].zones[z], &zr) == 0)
				s->v[s->n++] = zr;
		}
	qsort(s->v, s->n, sizeof(*s->v), zs_cmp);
	size_t k = 0; /* one of each (a zone may be in several groups) */
	for (size_t i = 0; i < s->n; i++) {
		if (k > 0 && ldns_dname_compare(s->v[k - 1], s->v[i]) == 0)
			ldns_rdf_deep_free(s->v[i]);
		else
			s->v[k++] = s->v[i];
	}
	s->n = k;
	*out = s;
	return 0;
}

void
dns_zone_set_free(struct dns_zone_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		ldns_rdf_deep_free(s->v[i]);
	free(s->v);
	free(s);
}

/* The longest zone of @s holding @name (a new rdf), NULL when none or out
 * of memory: each of the name's ancestors looked up, the name first. */
ldns_rdf *
dns_zone_set_match(const struct dns_zone_set *s, const ldns_rdf *name)
{
	ldns_rdf *cur = s != NULL && s->n > 0 ? ldns_rdf_clone(name) : NULL;

	for (int i = 0; cur != NULL && i < MAX_WALK; i++) {
		if (bsearch(&cur, s->v, s->n, sizeof(*s->v), zs_cmp) != NULL)
			return cur;
		if (ldns_dname_label_count(cur) == 0)
			break;
		ldns_rdf *up = ldns_dname_left_chop(cur);
		ldns_rdf_deep_free(cur);
		cur = up;
	}
	ldns_rdf_deep_free(cur);
	return NULL;
}

int
dns_zone_find_cname(struct dns_ops *ops, const struct config *cfg, const ldns_rdf *name,
		    dns_zone_cb cb, void *arg, ldns_rr_list **cname)
{
	struct dns_zone_set *set = NULL;
	int rc = cfg != NULL ? dns_zone_set_new(cfg, &set) : 0;

	if (rc == 0)
		rc = dns_zone_find_in(ops, set, name, cb, arg, cname);
	dns_zone_set_free(set);
	return rc;
}

int
dns_zone_find_in(struct dns_ops *ops, const struct dns_zone_set *set, const ldns_rdf *name,
		 dns_zone_cb cb, void *arg, ldns_rr_list **cname)
{
	struct ops_fz *fz = calloc(1, sizeof(*fz));

	if (fz == NULL)
		return MXF_ENOMEM;
	fz->ops = ops;
	dns_ops_own(ops, &fz->own, fz_free);
	fz->cb = cb;
	fz->arg = arg;
	fz->cname_out = cname;
	fz->name = ldns_rdf_clone(name);
	fz->cur = ldns_rdf_clone(name);
	if (fz->name == NULL || fz->cur == NULL)
		goto nomem;
	fz->zone = dns_zone_set_match(set, name);
	if (fz->zone != NULL) {
		if (dns_ops_defer(ops, &fz->own, fz_config_done, fz) != 0)
			goto nomem;
		return 0;
	}
	fz_step(fz);
	return 0;
nomem:
	fz_free(&fz->own);
	return MXF_ENOMEM;
}
