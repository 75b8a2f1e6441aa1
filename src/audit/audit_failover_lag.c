/*
 * audit_failover_lag.c -- the secondary-lag probe of the failover stage;
 * see audit_failover_lag.h.
 *
 * The primary's SOA gives the serial, its NS set the copies; each IPv4
 * address of each name server (but the primary's own) is asked for the
 * zone's SOA without recursion, and again every LAG_STEP_MS while it is
 * behind, LAG_TRIES times in all.
 *
 * The probe counts its own work under way (lookups and retry timers) and
 * tells its owner once when that is none; the owner (audit_failover.c's
 * struct afo) frees it, also when the run is cancelled.
 */
#include "audit_failover_lag.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dns_update.h"

/* How long a secondary may stay behind the primary's serial, in tries of
 * LAG_STEP_MS. */
#define LAG_TRIES   4
#define LAG_STEP_MS 1000

/* One secondary being compared with the primary's serial. */
struct lag_ns {
	struct audit_failover_lag *l;
	char *name;
	struct sockaddr_storage sa;
	socklen_t salen;
	char text[64];
	unsigned tries;
	uint32_t serial;
	struct event *retry;
	struct lag_ns *next;
};

struct audit_failover_lag {
	struct audit_domain *d;
	const char *zone;   /* borrowed from the config */
	const char *server; /* the primary as configured, borrowed */
	struct sockaddr_storage primary;
	socklen_t plen;
	unsigned pending; /* lookups and timers under way */
	void (*done)(void *arg);
	void *arg;
	uint32_t primary_serial;
	bool have_serial;
	struct lag_ns *ns;
};

/* ---- lifetime ----------------------------------------------------------- */

void
audit_failover_lag_free(struct audit_failover_lag *l)
{
	if (l == NULL)
		return;
	for (struct lag_ns *n = l->ns, *next; n != NULL; n = next) {
		next = n->next;
		if (n->retry != NULL)
			event_free(n->retry);
		free(n->name);
		free(n);
	}
	free(l);
}

static void
lag_get(struct audit_failover_lag *l)
{
	l->pending++;
}

/* One piece of work ended; the last one tells the owner. */
static void
lag_put(struct audit_failover_lag *l)
{
	if (--l->pending == 0)
		l->done(l->arg);
}

/* RFC 1982: is serial @a behind @b? */
static bool
lag_serial_behind(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) < 0;
}

/* ---- secondaries ----------------------------------------------------------- */

static void lag_ns_query(struct lag_ns *n);

static void
lag_ns_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lag_ns *n = arg;

	(void)fd;
	(void)what;
	lag_ns_query(n);
	lag_put(n->l); /* the timer's share */
}

static void
lag_ns_soa_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct lag_ns *n = arg;
	struct audit_failover_lag *l = n->l;
	ldns_rdf *zone = NULL;
	ldns_rr_list *soa = NULL;

	(void)rcode;
	if (status == 0 && dns_update_name(l->zone, &zone) == 0)
		soa = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, zone, LDNS_RR_TYPE_SOA);
	if (soa != NULL && ldns_rr_list_rr_count(soa) > 0) {
		const ldns_rr *rr = ldns_rr_list_rr(soa, 0);

		n->serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
		if (!lag_serial_behind(n->serial, l->primary_serial)) {
			audit_checked(audit_domain_report(d), 1);
		} else if (++n->tries < LAG_TRIES) {
			struct timeval tv = {LAG_STEP_MS / 1000, (LAG_STEP_MS % 1000) * 1000};

			n->retry = evtimer_new(audit_domain_base(d), lag_ns_retry_cb, n);
			if (n->retry != NULL && evtimer_add(n->retry, &tv) == 0)
				lag_get(l);
		} else {
			audit_checked(audit_domain_report(d), 1);
			audit_add_default(audit_domain_report(d), "failover-secondary-lag", n->name,
					  "name server %s (%s) serves %s with serial %u, the "
					  "primary %s with %u, still after %u s: resolvers asking "
					  "it see the records as they were before a switch",
					  n->name, n->text, l->zone, n->serial, l->server,
					  l->primary_serial, LAG_TRIES * LAG_STEP_MS / 1000);
		}
	}
	/* Unreachable or not answering: the NS stage reports that. */
	ldns_rr_list_deep_free(soa);
	ldns_rdf_deep_free(zone);
	lag_put(l);
}

static void
lag_ns_query(struct lag_ns *n)
{
	if (n->retry != NULL) {
		event_free(n->retry);
		n->retry = NULL;
	}
	if (audit_lookup(n->l->d, (const struct sockaddr *)&n->sa, n->salen, n->l->zone,
			 LDNS_RR_TYPE_SOA, AUDIT_Q_NORD, lag_ns_soa_cb, n) == 0)
		lag_get(n->l);
}

/* An address of name server @name: compare it unless it is the primary. */
static void
lag_ns_addr_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct lag_ns *tmpl = arg; /* carries the name and the stage */
	struct audit_failover_lag *l = tmpl->l;
	ldns_rdf *owner = NULL;
	ldns_rr_list *rrs = NULL;
	uint16_t port = audit_domain_opts(d)->ns_port ? audit_domain_opts(d)->ns_port : 53;

	(void)rcode;
	if (status == 0 && dns_update_name(tmpl->name, &owner) == 0)
		rrs = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, owner, LDNS_RR_TYPE_A);
	for (size_t i = 0; rrs != NULL && i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);
		struct sockaddr_in *sin;
		struct lag_ns *n;

		if (rd == NULL || ldns_rdf_size(rd) != 4 || (n = calloc(1, sizeof(*n))) == NULL)
			continue;
		n->l = l;
		n->name = strdup(tmpl->name);
		sin = (struct sockaddr_in *)&n->sa;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ldns_rdf_data(rd), 4);
		n->salen = sizeof(*sin);
		inet_ntop(AF_INET, &sin->sin_addr, n->text, sizeof(n->text));
		n->next = l->ns;
		l->ns = n;
		if (n->name == NULL)
			continue;
		/* The primary itself is what the others are compared with. */
		if (l->primary.ss_family == AF_INET && n->salen == l->plen &&
		    memcmp(&((struct sockaddr_in *)&l->primary)->sin_addr, &sin->sin_addr, 4) ==
			    0 &&
		    ((struct sockaddr_in *)&l->primary)->sin_port == sin->sin_port)
			continue;
		lag_ns_query(n);
	}
	ldns_rr_list_deep_free(rrs);
	ldns_rdf_deep_free(owner);
	free(tmpl->name);
	free(tmpl);
	lag_put(l);
}

static void
lag_nsset_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_failover_lag *l = arg;
	ldns_rdf *zone = NULL;
	ldns_rr_list *ns = NULL;

	(void)rcode;
	if (status == 0 && dns_update_name(l->zone, &zone) == 0)
		ns = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, zone, LDNS_RR_TYPE_NS);
	for (size_t i = 0; ns != NULL && i < ldns_rr_list_rr_count(ns); i++) {
		char *name = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ns, i), 0));
		struct lag_ns *tmpl = name != NULL ? calloc(1, sizeof(*tmpl)) : NULL;

		if (tmpl == NULL) {
			free(name);
			continue;
		}
		tmpl->l = l;
		tmpl->name = name;
		if (audit_lookup(d, NULL, 0, name, LDNS_RR_TYPE_A, 0, lag_ns_addr_cb, tmpl) == 0) {
			lag_get(l);
		} else {
			free(name);
			free(tmpl);
		}
	}
	ldns_rr_list_deep_free(ns);
	ldns_rdf_deep_free(zone);
	lag_put(l);
}

static void
lag_primary_soa_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_failover_lag *l = arg;
	ldns_rdf *zone = NULL;
	ldns_rr_list *soa = NULL;

	(void)rcode;
	if (status == 0 && dns_update_name(l->zone, &zone) == 0)
		soa = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, zone, LDNS_RR_TYPE_SOA);
	if (soa != NULL && ldns_rr_list_rr_count(soa) > 0) {
		l->primary_serial = ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(soa, 0), 2));
		l->have_serial = true;
		/* The NS set as the primary has it: those are the copies. */
		if (audit_lookup(d, (const struct sockaddr *)&l->primary, l->plen, l->zone,
				 LDNS_RR_TYPE_NS, AUDIT_Q_NORD, lag_nsset_cb, l) == 0)
			lag_get(l);
	}
	ldns_rr_list_deep_free(soa);
	ldns_rdf_deep_free(zone);
	lag_put(l);
}

/* ---- the probe ------------------------------------------------------------ */

struct audit_failover_lag *
audit_failover_lag_start(struct audit_domain *d, const char *zone, const struct sockaddr *primary,
			 socklen_t plen, const char *server, void (*done)(void *arg), void *arg)
{
	struct audit_failover_lag *l;

	if (plen > sizeof(l->primary) || (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->d = d;
	l->zone = zone;
	l->server = server;
	memcpy(&l->primary, primary, plen);
	l->plen = plen;
	l->done = done;
	l->arg = arg;
	if (audit_lookup(d, (const struct sockaddr *)&l->primary, l->plen, l->zone,
			 LDNS_RR_TYPE_SOA, AUDIT_Q_NORD, lag_primary_soa_cb, l) != 0) {
		free(l);
		return NULL;
	}
	lag_get(l); /* the primary's SOA */
	return l;
}
