/*
 * audit_policy.c -- stage 1's policy records: SPF (the record, its
 * include/redirect tree, the lookup count, the networks it authorises),
 * DMARC, the MTA-STS record (the policy file is audit_mtasts_fetch.c's),
 * TLSRPT; and the per-domain state shared with the SMTP probe
 * (audit_mail.h).
 *
 * The records are judged by the pure parsers (audit_spf.h, audit_tags.h);
 * this file only asks the resolver and turns answers into findings.
 * Lookups that fail (timeout, SERVFAIL) are reported as lookup-failed, so
 * a missing answer is never mistaken for a missing record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit_mail.h"
#include "audit_policy.h"
#include "audit_tags.h"
#include "mxf.h"

/* The longest TXT record considered (joined character-strings). */
#define POLICY_TXT_MAX 4096
/* At most this many TXT records of one name are looked at. */
#define POLICY_TXT_RECORDS 8

struct audit_mail_spf_wait {
	audit_policy_spf_cb cb;
	void *arg;
	struct audit_mail_spf_wait *next;
};

static struct audit_mail *mail_live;

/* ------------------------------------------------------------ state -- */

static void
mail_free(struct audit_mail *m)
{
	struct audit_mail **pp = &mail_live;

	while (*pp && *pp != m)
		pp = &(*pp)->next;
	if (*pp)
		*pp = m->next;
	audit_smtp_free(m);
	if (m->later)
		event_free(m->later);
	audit_mtasts_fetch_free(m->fetch);
	for (size_t i = 0; i < m->nhosts; i++)
		free(m->hosts[i].name);
	free(m->hosts);
	while (m->waiters) {
		struct audit_mail_spf_wait *w = m->waiters;
		m->waiters = w->next;
		free(w);
	}
	free(m);
}

/* The run was cancelled: free without touching the domain. */
static void
mail_cancel(void *arg)
{
	struct audit_mail *m = arg;

	m->hook = NULL; /* the engine frees its hooks itself */
	mail_free(m);
}

struct audit_mail *
audit_mail_get(struct audit_domain *d)
{
	struct audit_mail *m;

	for (m = mail_live; m; m = m->next)
		if (m->d == d)
			return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->d = d;
	m->hook = audit_hook_add(d, mail_cancel, m);
	if (!m->hook) {
		free(m);
		return NULL;
	}
	m->spf_complete = true;
	m->next = mail_live;
	mail_live = m;
	audit_hold(d);
	return m;
}

const char *
audit_mail_plain(const char *in, char *out, size_t size)
{
	snprintf(out, size, "%s", in);
	size_t n = strlen(out);
	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = '\0';
	return out;
}

const char *
audit_mail_domain(struct audit_mail *m, char *buf, size_t size)
{
	return audit_mail_plain(audit_domain_name(m->d), buf, size);
}

size_t
audit_mail_txt(const ldns_rr *rr, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		const uint8_t *p = ldns_rdf_data(f);
		size_t n = ldns_rdf_size(f);
		if (n == 0)
			continue;
		size_t len = p[0];
		if (len + 1 > n)
			len = n - 1;
		if (o + len + 1 > size)
			return (size_t)-1;
		memcpy(buf + o, p + 1, len);
		o += len;
	}
	buf[o] = '\0';
	return o;
}

static void spf_notify(struct audit_mail *m);
static void mtasts_mx_judge(struct audit_mail *m);

/* Everything is in: judge what needed both stages, release the domain. */
static void
mail_finish(struct audit_mail *m)
{
	struct audit_domain *d = m->d;

	m->finished = true;
	spf_notify(m);
	mtasts_mx_judge(m);
	audit_smtp_judge(m);
	audit_hook_remove(d, m->hook);
	m->hook = NULL;
	mail_free(m);
	audit_release(d);
}

void
audit_mail_begin(struct audit_mail *m)
{
	m->pending++;
}

void
audit_mail_end(struct audit_mail *m)
{
	if (m->pending > 0)
		m->pending--;
	if (m->pending == 0 && m->stage2 && !m->finished)
		mail_finish(m);
}

/* The TXT records of @reply that @is accepts, joined, into @out. */
static size_t
txt_select(const ldns_pkt *reply, bool (*is)(const char *, size_t),
	   char out[][POLICY_TXT_MAX], size_t max, size_t *toolong)
{
	ldns_rr_list *an = reply ? ldns_pkt_answer(reply) : NULL;
	size_t n = 0;

	*toolong = 0;
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
			continue;
		char buf[POLICY_TXT_MAX];
		size_t len = audit_mail_txt(rr, buf, sizeof(buf));
		if (len == (size_t)-1) {
			(*toolong)++;
			continue;
		}
		if (!is(buf, len) || n == max)
			continue;
		memcpy(out[n++], buf, len + 1);
	}
	return n;
}

/* A lookup that did not answer: say so rather than "missing". */
static void
lookup_failed(struct audit_mail *m, const char *name, const char *what, int status)
{
	audit_add_default(audit_domain_report(m->d), "lookup-failed", name,
			  "the %s lookup of %s failed: %s", what, name, mxf_strerror(status));
}

/* -------------------------------------------------------------- SPF -- */

static void spf_fetch(struct audit_mail *m, const char *domain, unsigned depth, bool redirect);

static void
spf_add_net(struct audit_mail *m, const struct audit_spf_net *n)
{
	if (m->nnets < AUDIT_MAIL_NETS_MAX)
		m->nets[m->nnets++] = *n;
	else
		m->spf_complete = false;
}

static void
spf_addr_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_mail_spf_res *res = arg;
	struct audit_mail *m = res->m;
	ldns_rr_list *an = status == 0 && reply ? ldns_pkt_answer(reply) : NULL;

	(void)d, (void)rcode;
	if (status != 0 && status != MXF_ENOTFOUND)
		m->spf_complete = false;
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		if (t == LDNS_RR_TYPE_MX && res->mx) {
			/* Each MX target's addresses, with the term's cidr. */
			char *name = ldns_rdf2str(ldns_rr_rdf(rr, 1));
			for (int k = 0; name && k < 2; k++) {
				if (m->nspf_res == AUDIT_MAIL_SPF_RES_MAX) {
					m->spf_complete = false;
					break;
				}
				struct audit_mail_spf_res *r2 = &m->spf_res[m->nspf_res++];
				*r2 = *res;
				r2->mx = false;
				snprintf(r2->name, sizeof(r2->name), "%s", name);
				audit_mail_begin(m);
				if (audit_lookup(m->d, NULL, 0, r2->name,
						 k ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, 0,
						 spf_addr_cb, r2) != 0)
					audit_mail_end(m);
			}
			free(name);
			continue;
		}
		if ((t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA) || res->mx)
			continue;
		const ldns_rdf *f = ldns_rr_rdf(rr, 0);
		struct audit_spf_net n = {0};
		n.family = t == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
		n.prefix = t == LDNS_RR_TYPE_A ? res->cidr4 : res->cidr6;
		if (ldns_rdf_size(f) != (n.family == AF_INET ? 4u : 16u))
			continue;
		memcpy(n.addr, ldns_rdf_data(f), ldns_rdf_size(f));
		spf_add_net(m, &n);
	}
	audit_mail_end(m);
}

/* Resolve an a/mx term of the record of @node for coverage. */
static void
spf_resolve(struct audit_mail *m, const struct audit_mail_spf_node *node,
	    const struct audit_spf_term *t)
{
	if (t->macro) {
		m->spf_complete = false;
		return;
	}
	for (int k = 0; k < (t->kind == AUDIT_SPF_MX ? 1 : 2); k++) {
		if (m->nspf_res == AUDIT_MAIL_SPF_RES_MAX) {
			m->spf_complete = false;
			return;
		}
		struct audit_mail_spf_res *r = &m->spf_res[m->nspf_res++];
		r->m = m;
		r->cidr4 = t->cidr4;
		r->cidr6 = t->cidr6;
		r->mx = t->kind == AUDIT_SPF_MX;
		snprintf(r->name, sizeof(r->name), "%s", t->domain[0] ? t->domain : node->domain);
		ldns_rr_type type = r->mx ? LDNS_RR_TYPE_MX : k ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A;
		audit_mail_begin(m);
		if (audit_lookup(m->d, NULL, 0, r->name, type, 0, spf_addr_cb, r) != 0) {
			m->spf_complete = false;
			audit_mail_end(m);
		}
	}
}

static void
spf_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_mail_spf_node *node = arg;
	struct audit_mail *m = node->m;
	struct audit_report *r = audit_domain_report(d);
	static char recs[POLICY_TXT_RECORDS][POLICY_TXT_MAX];
	static struct audit_spf spf;
	size_t toolong, n;
	bool top = node == &m->spf_node[0];
	char subj[300];

	(void)rcode;
	audit_mail_plain(node->domain, subj, sizeof(subj));
	if (status != 0 && status != MXF_ENOTFOUND) {
		lookup_failed(m, subj, "SPF (TXT)", status);
		m->spf_complete = false;
		goto out;
	}
	n = txt_select(status == 0 ? reply : NULL, audit_spf_is_record, recs, POLICY_TXT_RECORDS,
		       &toolong);
	if (top)
		audit_checked(r, 3);
	if (n == 0) {
		if (top)
			audit_add_default(r, "spf-missing", subj, "%s publishes no v=spf1 record",
					  subj);
		else
			audit_add_default(r, "spf-syntax", subj,
					  "%s, reached through %s, publishes no SPF record: the "
					  "evaluation ends in permerror",
					  subj, node->redirect ? "redirect=" : "include:");
		m->spf_complete = false;
		goto out;
	}
	if (n > 1) {
		audit_add_default(r, "spf-multiple", subj,
				  "%s publishes %zu v=spf1 records; receivers treat that as "
				  "permerror (RFC 7208 4.5)",
				  subj, n);
		m->spf_complete = false;
		goto out;
	}
	if (audit_spf_parse(recs[0], strlen(recs[0]), &spf) != 0) {
		audit_add_default(r, "spf-syntax", subj, "SPF record of %s: %s", subj,
				  spf.error);
		m->spf_complete = false;
		goto out;
	}
	if (top)
		m->spf_found = true;
	m->spf_lookups += spf.lookups;
	for (size_t i = 0; i < spf.nterms; i++) {
		const struct audit_spf_term *t = &spf.terms[i];
		struct audit_spf_net net;
		switch (t->kind) {
		case AUDIT_SPF_IP4:
		case AUDIT_SPF_IP6:
			if (t->qualifier == '+' && audit_spf_term_net(t, 0, NULL, &net))
				spf_add_net(m, &net);
			break;
		case AUDIT_SPF_A:
		case AUDIT_SPF_MX:
			if (t->qualifier == '+')
				spf_resolve(m, node, t);
			break;
		case AUDIT_SPF_INCLUDE:
		case AUDIT_SPF_REDIRECT:
			if (t->kind == AUDIT_SPF_REDIRECT && spf.has_all)
				break; /* ignored when "all" is present (RFC 7208 6.1) */
			if (t->macro || m->spf_lookups > AUDIT_SPF_LOOKUPS_MAX) {
				m->spf_complete = false;
				break;
			}
			spf_fetch(m, t->domain, node->depth + 1, t->kind == AUDIT_SPF_REDIRECT);
			break;
		case AUDIT_SPF_EXISTS:
		case AUDIT_SPF_PTR:
			m->spf_complete = false;
			break;
		default:
			break;
		}
	}
out:
	audit_mail_end(m);
}

static void
spf_fetch(struct audit_mail *m, const char *domain, unsigned depth, bool redirect)
{
	if (m->spf_nodes == AUDIT_MAIL_SPF_NODES_MAX || depth > AUDIT_SPF_LOOKUPS_MAX) {
		m->spf_complete = false;
		return;
	}
	struct audit_mail_spf_node *node = &m->spf_node[m->spf_nodes++];
	node->m = m;
	node->depth = depth;
	node->redirect = redirect;
	size_t n = strlen(domain);
	snprintf(node->domain, sizeof(node->domain), "%s%s", domain,
		 n > 0 && domain[n - 1] == '.' ? "" : ".");
	audit_mail_begin(m);
	if (audit_lookup(m->d, NULL, 0, node->domain, LDNS_RR_TYPE_TXT, 0, spf_cb, node) != 0) {
		m->spf_complete = false;
		audit_mail_end(m);
	}
}

/* The lookup count over the whole tree, and the waiters. */
static void
spf_notify(struct audit_mail *m)
{
	char dom[260];

	audit_mail_domain(m, dom, sizeof(dom));
	if (m->spf_lookups > AUDIT_SPF_LOOKUPS_MAX)
		audit_add_default(audit_domain_report(m->d), "spf-too-many-lookups", dom,
				  "the SPF record of %s needs %s%u DNS lookups (include, a, mx, ptr, "
				  "exists, redirect, nested ones counted); receivers stop at %d "
				  "with permerror (RFC 7208 4.6.4)",
				  dom, m->spf_complete ? "" : "at least ",
				  m->spf_lookups, AUDIT_SPF_LOOKUPS_MAX);
	while (m->waiters) {
		struct audit_mail_spf_wait *w = m->waiters;
		m->waiters = w->next;
		w->cb(m->d, m->spf_found, m->spf_complete && m->spf_found, m->nets,
		      m->spf_found ? m->nnets : 0, w->arg);
		free(w);
		audit_release(m->d);
	}
}

int
audit_policy_spf_wait(struct audit_domain *d, audit_policy_spf_cb cb, void *arg)
{
	struct audit_mail *m;
	struct audit_mail_spf_wait *w;
	bool again = true;

	for (m = mail_live; m; m = m->next)
		if (m->d == d)
			again = false;
	m = audit_mail_get(d);
	if (!m)
		return MXF_ENOMEM;
	if (again) {
		/* The domain's mail checks are over and their state is gone (it
		 * lives only until then): walk the SPF tree once more, for this
		 * caller alone; its findings are the same and kept once. */
		m->stage2 = true;
		audit_mail_begin(m);
		spf_fetch(m, audit_domain_name(d), 0, false);
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		if (again)
			audit_mail_end(m);
		return MXF_ENOMEM;
	}
	w->cb = cb;
	w->arg = arg;
	w->next = m->waiters;
	m->waiters = w;
	audit_hold(d);
	if (again)
		audit_mail_end(m);
	return 0;
}

/* ------------------------------------------------------------ DMARC -- */

static void
dmarc_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_mail *m = arg;
	struct audit_report *r = audit_domain_report(d);
	static char recs[POLICY_TXT_RECORDS][POLICY_TXT_MAX];
	char name[300], dom[260];
	size_t toolong, n;
	struct audit_dmarc dm;

	(void)rcode;
	snprintf(name, sizeof(name), "_dmarc.%s", audit_mail_domain(m, dom, sizeof(dom)));
	audit_checked(r, 2);
	if (status != 0 && status != MXF_ENOTFOUND) {
		lookup_failed(m, name, "DMARC (TXT)", status);
		goto out;
	}
	n = txt_select(status == 0 ? reply : NULL, audit_dmarc_is_record, recs, POLICY_TXT_RECORDS,
		       &toolong);
	if (n == 0) {
		audit_add_default(r, "dmarc-missing", name,
				  "%s publishes no v=DMARC1 record: receivers have no policy for "
				  "mail that fails SPF and DKIM alignment",
				  audit_mail_domain(m, dom, sizeof(dom)));
		goto out;
	}
	if (n > 1) {
		audit_add_default(r, "dmarc-invalid", name,
				  "%zu v=DMARC1 records: receivers ignore them all (RFC 7489 6.6.3)",
				  n);
		goto out;
	}
	if (audit_dmarc_parse(recs[0], strlen(recs[0]), &dm) != 0) {
		audit_add_default(r, "dmarc-invalid", name, "%s", dm.error);
		goto out;
	}
	if (dm.p == AUDIT_DMARC_NONE)
		audit_add_default(r, "dmarc-weak", name,
				  "p=none%s: failing mail is only reported, not quarantined or "
				  "rejected",
				  dm.p_implied ? " (no p= tag, a rua= tag)" : "");
	else if (dm.pct < 100)
		audit_add_default(r, "dmarc-weak", name,
				  "pct=%d: the policy applies to %d%% of failing mail only", dm.pct,
				  dm.pct);
out:
	audit_mail_end(m);
}

/* ---------------------------------------------------- MTA-STS, TLSRPT -- */

static void
mtasts_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_mail *m = arg;
	struct audit_report *r = audit_domain_report(d);
	static char recs[POLICY_TXT_RECORDS][POLICY_TXT_MAX];
	char name[300], id[33], why[200], dom[260];
	size_t toolong, n;

	(void)rcode;
	snprintf(name, sizeof(name), "_mta-sts.%s", audit_mail_domain(m, dom, sizeof(dom)));
	if (status != 0 && status != MXF_ENOTFOUND) {
		lookup_failed(m, name, "MTA-STS (TXT)", status);
		goto out;
	}
	n = txt_select(status == 0 ? reply : NULL, audit_mtasts_is_record, recs,
		       POLICY_TXT_RECORDS, &toolong);
	if (n == 0)
		goto out; /* no MTA-STS: nothing to check */
	audit_checked(r, 1);
	if (n > 1) {
		audit_add_default(r, "mta-sts-invalid", name,
				  "%zu v=STSv1 records: senders ignore MTA-STS (RFC 8461 3.1)", n);
		goto out;
	}
	if (audit_mtasts_txt_parse(recs[0], strlen(recs[0]), id, why, sizeof(why)) != 0) {
		audit_add_default(r, "mta-sts-invalid", name, "%s", why);
		goto out;
	}
	m->mtasts_txt = true;
	audit_mtasts_fetch_start(m);
out:
	audit_mail_end(m);
}

/* Every MX host must match an mx: pattern of a testing/enforce policy. */
static void
mtasts_mx_judge(struct audit_mail *m)
{
	const struct audit_facts *f = audit_domain_facts(m->d);
	struct audit_report *r = audit_domain_report(m->d);

	if (!m->mtasts_policy || m->policy.mode == AUDIT_MTASTS_NONE || !f->mx_ready)
		return;
	for (size_t i = 0; i < f->nmx; i++) {
		char t[260];
		if (strcmp(f->mx[i].target, ".") == 0 || f->mx[i].is_ip)
			continue;
		audit_mail_plain(f->mx[i].target, t, sizeof(t));
		audit_checked(r, 1);
		if (audit_mtasts_policy_matches(&m->policy, t))
			continue;
		audit_add(r, "mta-sts-mx-mismatch",
			  m->policy.mode == AUDIT_MTASTS_ENFORCE ? AUDIT_ERROR : AUDIT_WARNING, t,
			  NULL,
			  "MX host %s matches no mx: line of the MTA-STS policy (mode %s): senders "
			  "%s",
			  t, audit_mtasts_mode_name(m->policy.mode),
			  m->policy.mode == AUDIT_MTASTS_ENFORCE ? "will not deliver to it"
								 : "report it as a failure");
	}
}

static void
tlsrpt_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_mail *m = arg;
	struct audit_report *r = audit_domain_report(d);
	static char recs[POLICY_TXT_RECORDS][POLICY_TXT_MAX];
	char name[300], why[200], dom[260];
	size_t toolong, n;

	(void)rcode;
	snprintf(name, sizeof(name), "_smtp._tls.%s", audit_mail_domain(m, dom, sizeof(dom)));
	if (status != 0 && status != MXF_ENOTFOUND) {
		lookup_failed(m, name, "TLSRPT (TXT)", status);
		goto out;
	}
	n = txt_select(status == 0 ? reply : NULL, audit_tlsrpt_is_record, recs,
		       POLICY_TXT_RECORDS, &toolong);
	if (n == 0)
		goto out;
	audit_checked(r, 1);
	if (n > 1)
		audit_add_default(r, "tlsrpt-invalid", name,
				  "%zu v=TLSRPTv1 records: senders send no reports (RFC 8460 3)", n);
	else if (audit_tlsrpt_parse(recs[0], strlen(recs[0]), why, sizeof(why)) != 0)
		audit_add_default(r, "tlsrpt-invalid", name, "%s", why);
out:
	audit_mail_end(m);
}

static void
policy_lookup(struct audit_mail *m, const char *prefix, audit_lookup_cb cb)
{
	char name[300];

	snprintf(name, sizeof(name), "%s%s", prefix, audit_domain_name(m->d));
	audit_mail_begin(m);
	if (audit_lookup(m->d, NULL, 0, name, LDNS_RR_TYPE_TXT, 0, cb, m) != 0)
		audit_mail_end(m);
}

void
audit_policy_start(struct audit_domain *d)
{
	struct audit_mail *m = audit_mail_get(d);

	if (!m)
		return;
	audit_mail_begin(m);
	spf_fetch(m, audit_domain_name(d), 0, false);
	policy_lookup(m, "_dmarc.", dmarc_cb);
	policy_lookup(m, "_mta-sts.", mtasts_cb);
	policy_lookup(m, "_smtp._tls.", tlsrpt_cb);
	audit_mail_end(m);
}
