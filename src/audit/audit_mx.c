/*
 * audit_mx.c -- the judgements on a domain's MX set (pure: facts in,
 * findings out).
 *
 * mx-missing, mx-null-mixed (RFC 7505), mx-target-ip, mx-target-cname
 * (RFC 2181 10.3), mx-target-no-address, mx-target-private (unless an
 * --allow-private prefix covers the address), mx-duplicate (one host twice,
 * by name or by address), mx-single, mx-ttl-unequal (the MX set and the
 * address records behind it should expire together) and mx-inconsistent
 * (a name server of the zone holds another MX set than the resolver gave).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_impl.h"
#include "dns_update.h"
#include "mxf.h"

/* Why a lookup failed, for messages. */
static const char *
why(int status, int rcode)
{
	if (status == MXF_ENOTFOUND)
		return "NXDOMAIN";
	if (status == MXF_ERCODE)
		return dns_rcode_name(rcode);
	return mxf_strerror(status);
}

static bool
allowed_private(const struct audit_opts *o, const struct audit_addr *a)
{
	for (size_t i = 0; o != NULL && i < o->nallow_private; i++)
		if (audit_prefix_match(&o->allow_private[i], a->family, a->addr))
			return true;
	return false;
}

static bool
is_null(const struct audit_mx *m)
{
	return strcmp(m->target, ".") == 0;
}

static void
judge_targets(const struct audit_facts *f, const struct audit_opts *o, struct audit_report *r)
{
	for (size_t i = 0; i < f->nmx; i++) {
		const struct audit_mx *m = &f->mx[i];
		char priv[256] = "";
		size_t plen = 0;

		if (is_null(m))
			continue;
		audit_checked(r, 4);
		if (m->is_ip) {
			audit_add_default(r, "mx-target-ip", m->target,
					  "MX %u %s names an address, not a host", m->pref,
					  m->target);
			continue;
		}
		if (m->is_cname)
			audit_add_default(r, "mx-target-cname", m->target,
					  "MX %u %s is an alias for %s", m->pref, m->target,
					  m->cname_target != NULL ? m->cname_target : "another name");
		if (m->naddrs == 0) {
			if (m->addr_status == 0 || m->addr_status == MXF_ENOTFOUND)
				audit_add_default(r, "mx-target-no-address", m->target,
						  "MX %u %s has no A or AAAA record%s", m->pref,
						  m->target,
						  m->addr_status == MXF_ENOTFOUND
							  ? " (the name does not exist)"
							  : "");
			else
				audit_add_default(r, "lookup-failed", m->target,
						  "the addresses of MX %s could not be looked up: %s",
						  m->target, why(m->addr_status, 0));
			continue;
		}
		for (size_t j = 0; j < m->naddrs; j++) {
			const struct audit_addr *a = &m->addrs[j];

			if (!audit_addr_private(a->family, a->addr) || allowed_private(o, a))
				continue;
			if (plen + strlen(a->text) + 3 < sizeof(priv))
				plen += (size_t)snprintf(priv + plen, sizeof(priv) - plen, "%s%s",
							 plen > 0 ? ", " : "", a->text);
		}
		if (plen > 0)
			audit_add_default(r, "mx-target-private", m->target,
					  "MX %s resolves to %s, which the internet cannot reach",
					  m->target, priv);
	}
}

static void
judge_duplicates(const struct audit_facts *f, struct audit_report *r)
{
	audit_checked(r, 1);
	for (size_t i = 0; i < f->nmx; i++) {
		const struct audit_mx *m = &f->mx[i];

		if (is_null(m))
			continue;
		for (size_t j = i + 1; j < f->nmx; j++) {
			const struct audit_mx *n = &f->mx[j];
			bool same_addr = false;

			if (is_null(n))
				continue;
			/* An alias is mx-target-cname's business, not a second host. */
			if (m->is_cname || n->is_cname)
				continue;
			if (audit_name_equal(m->target, n->target)) {
				audit_add_default(r, "mx-duplicate", m->target,
						  "%s appears as MX %u and MX %u", m->target, m->pref,
						  n->pref);
				continue;
			}
			for (size_t a = 0; a < m->naddrs && !same_addr; a++)
				for (size_t b = 0; b < n->naddrs && !same_addr; b++)
					same_addr = m->addrs[a].family == n->addrs[b].family &&
						    memcmp(m->addrs[a].addr, n->addrs[b].addr, 16) == 0;
			if (same_addr)
				audit_add_default(r, "mx-duplicate", n->target,
						  "%s and %s are one host (the same address)",
						  m->target, n->target);
		}
	}
}

/* How many different hosts (names) the MX set has, null MX apart. */
static size_t
distinct_hosts(const struct audit_facts *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nmx; i++) {
		bool seen = false;

		if (is_null(&f->mx[i]))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = audit_name_equal(f->mx[i].target, f->mx[j].target);
		if (!seen)
			n++;
	}
	return n;
}

static void
judge_ttl(const struct audit_facts *f, struct audit_report *r)
{
	uint32_t mx_ttl = 0;
	bool have = false;
	char detail[512] = "";
	size_t len = 0;
	bool unequal = false;

	audit_checked(r, 1);
	for (size_t i = 0; i < f->nmx; i++) {
		const struct audit_mx *m = &f->mx[i];

		if (is_null(m))
			continue;
		if (!have) {
			mx_ttl = m->ttl;
			have = true;
		}
		if (m->ttl != mx_ttl)
			unequal = true;
		for (size_t j = 0; j < m->naddrs; j++) {
			if (m->addrs[j].ttl == mx_ttl)
				continue;
			unequal = true;
			if (len + strlen(m->target) + 32 < sizeof(detail))
				len += (size_t)snprintf(detail + len, sizeof(detail) - len,
							"%s%s %s %u", len > 0 ? ", " : "",
							m->target,
							m->addrs[j].family == AF_INET ? "A" : "AAAA",
							(unsigned)m->addrs[j].ttl);
		}
	}
	if (unequal)
		audit_add_default(r, "mx-ttl-unequal", r->domain,
				  "the MX set has TTL %u but %s", (unsigned)mx_ttl,
				  len > 0 ? detail : "the MX records' TTLs differ");
}

/* The resolver's MX set in the form audit_nsprobe collects ("PREF TARGET", sorted). */
static char **
resolver_mx(const struct audit_facts *f)
{
	char **v = calloc(f->nmx > 0 ? f->nmx : 1, sizeof(*v));

	for (size_t i = 0; v != NULL && i < f->nmx; i++) {
		size_t len = strlen(f->mx[i].target) + 8;

		v[i] = malloc(len);
		if (v[i] == NULL) {
			audit_strings_free(v, i);
			return NULL;
		}
		snprintf(v[i], len, "%u %s", (unsigned)f->mx[i].pref, f->mx[i].target);
	}
	if (v != NULL)
		audit_strings_sort(v, f->nmx);
	return v;
}

static void
judge_consistency(const struct audit_facts *f, struct audit_report *r)
{
	char **want;

	if (f->mx_status != 0)
		return;
	want = resolver_mx(f);
	if (want == NULL)
		return;
	for (size_t i = 0; i < f->nns; i++)
		for (size_t j = 0; j < f->ns[i].naddrs; j++) {
			const struct audit_ns_addr *na = &f->ns[i].addrs[j];
			bool same = na->nmx == f->nmx;
			char subject[320];

			/* Only a server that answers for the zone has an MX set to compare. */
			if (na->mx_status != 0 || !na->soa_ok)
				continue;
			audit_checked(r, 1);
			for (size_t k = 0; same && k < na->nmx; k++)
				same = strcmp(na->mx[k], want[k]) == 0;
			if (same)
				continue;
			{
				size_t tl = strlen(f->ns[i].name);
				const char *lacks = NULL, *extra = NULL;

				if (tl > 1 && f->ns[i].name[tl - 1] == '.')
					tl--;
				snprintf(subject, sizeof(subject), "%.*s/%s", (int)tl, f->ns[i].name,
					 na->a.text);
				for (size_t k = 0; k < f->nmx && lacks == NULL; k++) {
					bool found = false;

					for (size_t m = 0; m < na->nmx && !found; m++)
						found = strcmp(na->mx[m], want[k]) == 0;
					if (!found)
						lacks = want[k];
				}
				for (size_t m = 0; m < na->nmx && extra == NULL; m++) {
					bool found = false;

					for (size_t k = 0; k < f->nmx && !found; k++)
						found = strcmp(na->mx[m], want[k]) == 0;
					if (!found)
						extra = na->mx[m];
				}
				audit_add_default(r, "mx-inconsistent", subject,
						  "this name server has %zu MX record%s, the resolver "
						  "%zu%s%s%s%s",
						  na->nmx, na->nmx == 1 ? "" : "s", f->nmx,
						  lacks != NULL ? "; it lacks MX " : "",
						  lacks != NULL ? lacks : "",
						  extra != NULL ? "; it has MX " : "",
						  extra != NULL ? extra : "");
			}
		}
	audit_strings_free(want, f->nmx);
}

void
audit_mx_judge(const struct audit_facts *f, const struct audit_opts *o, struct audit_report *r)
{
	size_t nnull = 0;

	audit_checked(r, 1);
	if (f->mx_status != 0 && f->mx_status != MXF_ENOTFOUND) {
		audit_add_default(r, "lookup-failed", r->domain, "the MX lookup failed: %s",
				  why(f->mx_status, f->mx_rcode));
		return;
	}
	if (f->nmx == 0) {
		audit_add_default(r, "mx-missing", r->domain,
				  "%s has no MX record; senders fall back to its A/AAAA record",
				  r->domain);
		return;
	}
	for (size_t i = 0; i < f->nmx; i++)
		if (is_null(&f->mx[i]))
			nnull++;
	audit_checked(r, 1);
	if (nnull > 0 && f->nmx > nnull)
		audit_add_default(r, "mx-null-mixed", r->domain,
				  "a null MX (0 .) and %zu other MX record%s are published",
				  f->nmx - nnull, f->nmx - nnull == 1 ? "" : "s");
	if (nnull == f->nmx) {
		/* The domain says it takes no mail: nothing more to judge. */
		judge_consistency(f, r);
		return;
	}
	judge_targets(f, o, r);
	judge_duplicates(f, r);
	audit_checked(r, 1);
	if (distinct_hosts(f) == 1)
		for (size_t i = 0; i < f->nmx; i++)
			if (!is_null(&f->mx[i])) {
				audit_add_default(r, "mx-single", r->domain,
						  "%s is the only MX host; when it fails, mail "
						  "waits at the senders",
						  f->mx[i].target);
				break;
			}
	judge_ttl(f, r);
	judge_consistency(f, r);
}
