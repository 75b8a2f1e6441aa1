/*
 * audit_ns.c -- the judgements on the zone's name servers (pure): what the
 * resolver gave (the NS set, the SOA timers) and what each server said when
 * asked directly (audit_nsprobe.c).
 *
 * ns-single, ns-same-network (every address in one /24 or /64),
 * ns-target-cname, ns-unreachable (no address, or no answer over UDP),
 * ns-no-tcp (UDP answers, TCP does not), ns-not-authoritative (no AA SOA),
 * ns-serial-mismatch (a server behind the highest serial), ns-set-mismatch
 * (a server's own NS set differs from the resolver's), soa-timers,
 * ns-open-recursion (RA in a reply to a query with RD), ns-open-axfr.
 */
#include <stdio.h>
#include <string.h>

#include "audit_impl.h"
#include "dns_update.h"
#include "mxf.h"

/* The SOA timers that are outside the usual range (RFC 1912 2.2), or "". */
static void
timers_text(const struct audit_facts *f, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
#define ADD(...)                                                                                 \
	do {                                                                                     \
		if (len < size)                                                                  \
			len += (size_t)snprintf(buf + len, size - len, __VA_ARGS__);             \
	} while (0)
	if (f->refresh < 1200 || f->refresh > 172800)
		ADD("%srefresh %u (20m..2d)", len ? ", " : "", (unsigned)f->refresh);
	if (f->retry >= f->refresh || f->retry < 120)
		ADD("%sretry %u (2m..refresh)", len ? ", " : "", (unsigned)f->retry);
	if (f->expire < 604800 || f->expire < 7ull * f->refresh)
		ADD("%sexpire %u (at least 1w and 7 x refresh)", len ? ", " : "",
		    (unsigned)f->expire);
	if (f->minimum < 60 || f->minimum > 86400)
		ADD("%sminimum %u (1m..1d)", len ? ", " : "", (unsigned)f->minimum);
#undef ADD
}

static void
subject_of(const struct audit_ns *ns, const struct audit_ns_addr *na, char *buf, size_t size)
{
	size_t n = strlen(ns->name);

	if (n > 1 && ns->name[n - 1] == '.')
		n--;
	snprintf(buf, size, "%.*s/%s", (int)n, ns->name, na->a.text);
}

static bool
transport_failure(int status)
{
	return status == MXF_ETIMEDOUT || status == MXF_ECONNREFUSED || status == MXF_ENET ||
	       status == MXF_EPROTO;
}

static void
judge_network(const struct audit_facts *f, struct audit_report *r)
{
	const struct audit_addr *first = NULL;
	size_t naddr = 0;
	bool one = true;

	for (size_t i = 0; i < f->nns; i++)
		for (size_t j = 0; j < f->ns[i].naddrs; j++) {
			const struct audit_addr *a = &f->ns[i].addrs[j].a;

			naddr++;
			if (first == NULL)
				first = a;
			else if (!audit_addr_same_network(first->family, first->addr, a->family,
							  a->addr))
				one = false;
		}
	audit_checked(r, 1);
	if (f->nns >= 2 && naddr >= 2 && one)
		audit_add_default(r, "ns-same-network", r->domain,
				  "all %zu name servers are in the network of %s (%s)", f->nns,
				  first->text, first->family == AF_INET ? "/24" : "/64");
}

/* The highest serial any authoritative server gave; false when none did. */
static bool
highest_serial(const struct audit_facts *f, uint32_t *out)
{
	bool have = false;

	for (size_t i = 0; i < f->nns; i++)
		for (size_t j = 0; j < f->ns[i].naddrs; j++) {
			const struct audit_ns_addr *na = &f->ns[i].addrs[j];

			if (!na->soa_ok || !na->aa)
				continue;
			/* RFC 1982 serial arithmetic: later when 0 < s - h < 2^31. */
			if (!have || (na->serial != *out && (uint32_t)(na->serial - *out) < 0x80000000u))
				*out = na->serial;
			have = true;
		}
	return have;
}

static bool
same_set(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!audit_name_equal(a[i], b[i]))
			return false;
	return true;
}

static void
judge_server(const struct audit_facts *f, const struct audit_ns *ns,
	     const struct audit_ns_addr *na, bool have_serial, uint32_t serial,
	     struct audit_report *r)
{
	char subject[320];

	subject_of(ns, na, subject, sizeof(subject));
	audit_checked(r, 6);
	if (transport_failure(na->udp_status) || na->udp_status == MXF_ECANCELED) {
		audit_add_default(r, "ns-unreachable", subject,
				  "%s (%s) did not answer over UDP: %s", ns->name, na->a.text,
				  mxf_strerror(na->udp_status));
		return;
	}
	if (na->udp_status == MXF_ENOMEM)
		return;
	if (transport_failure(na->tcp_status))
		audit_add_default(r, "ns-no-tcp", subject,
				  "%s (%s) answers over UDP but not over TCP: %s", ns->name,
				  na->a.text, mxf_strerror(na->tcp_status));
	if (na->ra)
		audit_add_default(r, "ns-open-recursion", subject,
				  "%s (%s) offers recursion (RA set in its answer)", ns->name,
				  na->a.text);
	if (na->axfr_open)
		audit_add_default(r, "ns-open-axfr", subject,
				  "%s (%s) sent the zone %s to an unauthenticated AXFR", ns->name,
				  na->a.text, r->domain);
	if (!na->soa_ok || !na->aa) {
		audit_add_default(r, "ns-not-authoritative", subject,
				  "%s (%s) does not answer authoritatively for %s (%s%s)",
				  ns->name, na->a.text, r->domain,
				  na->udp_status == MXF_ERCODE ? dns_rcode_name(na->udp_rcode)
							       : "NOERROR",
				  na->aa ? "" : ", no AA flag");
		return;
	}
	if (have_serial && na->serial != serial)
		audit_add_default(r, "ns-serial-mismatch", subject,
				  "%s (%s) serves serial %u, another server %u", ns->name,
				  na->a.text, (unsigned)na->serial, (unsigned)serial);
	if (na->ns_status == 0 && f->resolver_ns != NULL &&
	    !same_set(na->ns, na->nns, f->resolver_ns, f->nns))
		audit_add_default(r, "ns-set-mismatch", subject,
				  "%s (%s) has %zu NS record%s, the resolver %zu", ns->name,
				  na->a.text, na->nns, na->nns == 1 ? "" : "s", f->nns);
}

void
audit_ns_judge(const struct audit_facts *f, const struct audit_opts *o, struct audit_report *r)
{
	uint32_t serial = 0;
	bool have_serial;
	char timers[256];

	(void)o;
	audit_checked(r, 1);
	if (f->ns_status != 0 && f->ns_status != MXF_ENOTFOUND) {
		audit_add_default(r, "lookup-failed", r->domain, "the NS lookup failed: %s",
				  mxf_strerror(f->ns_status));
		return;
	}
	if (f->nns == 0)
		return; /* not a zone apex: the zone's own audit covers its servers */
	if (f->nns == 1)
		audit_add_default(r, "ns-single", r->domain,
				  "%s is the zone's only name server", f->ns[0].name);
	judge_network(f, r);
	if (f->soa_status == 0) {
		audit_checked(r, 1);
		timers_text(f, timers, sizeof(timers));
		if (timers[0] != '\0')
			audit_add_default(r, "soa-timers", r->domain, "SOA %s", timers);
	}
	have_serial = highest_serial(f, &serial);
	for (size_t i = 0; i < f->nns; i++) {
		const struct audit_ns *ns = &f->ns[i];

		audit_checked(r, 2);
		if (ns->is_cname)
			audit_add_default(r, "ns-target-cname", ns->name,
					  "NS %s is an alias (CNAME)", ns->name);
		if (ns->naddrs == 0) {
			audit_add_default(r, "ns-unreachable", ns->name,
					  "NS %s has no address%s%s", ns->name,
					  ns->addr_status != 0 ? ": " : "",
					  ns->addr_status == MXF_ENOTFOUND ? "NXDOMAIN"
					  : ns->addr_status != 0 ? mxf_strerror(ns->addr_status)
								 : "");
			continue;
		}
		for (size_t j = 0; j < ns->naddrs; j++)
			judge_server(f, ns, &ns->addrs[j], have_serial, serial, r);
	}
}
