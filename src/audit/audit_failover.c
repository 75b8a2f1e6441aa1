/*
 * audit_failover.c -- the failover states of the configuration (stage 2):
 * what would go wrong when mxfailover switches this domain's records,
 * found now rather than during the outage.  Only with a configuration
 * (opts->cfg), for the groups that manage the domain's zone.
 *
 *   failover-record-missing       a managed record does not exist at the
 *                                 primary (it is never created, so never
 *                                 switched)
 *   failover-ttl-too-long         the TTL a switch leaves ([dns] ttl, else
 *                                 the record's own) is far above interval x
 *                                 fall: caches keep the dead target that long
 *   failover-mx-target-cname      a CNAME group manages an MX target: the
 *                                 MX then points at an alias (RFC 2181 10.3)
 *   failover-update-refused       a no-op UPDATE signed with the configured
 *                                 key is refused: the switch would be too
 *   failover-standby-down         a standby server fails its checks now
 *   failover-standby-cert-mismatch  a standby's SMTP certificate does not
 *                                 cover the names it will be reached under
 *   failover-secondary-lag        a name server of the zone does not reach
 *                                 the primary's serial within a few seconds
 *                                 (its own probe: audit_failover_lag.c)
 *
 * The update probe changes nothing: its prerequisite is the record set
 * exactly as just read from the primary and its one update deletes a
 * record that does not exist (RFC 2136 3.4.2.4: silently ignored), of the
 * managed type at the managed name, so the key and the update-policy are
 * asked about the very name and type a switch writes.  The zone's serial
 * does not move.
 *
 *   failover-standby-not-in-spf   a standby's address is outside the
 *                                 domain's SPF (the policy stage's walk,
 *                                 audit_policy_spf_wait; nothing is claimed
 *                                 when the walk could not be completed)
 *
 * One struct afo per domain holds the stage's work; it is freed (and the
 * domain released) from a zero timer once everything has ended, so no
 * callback frees what is calling it.  A cancelled run stops it through the
 * hook.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "audit.h"
#include "audit_failover_lag.h"
#include "audit_policy.h"
#include "audit_spf.h"
#include "check.h"
#include "dns_client.h"
#include "dns_keyfile.h"
#include "dns_tsig.h"
#include "dns_update.h"
#include "mxf.h"

/* A TTL is "far above" the detection time at this many times it ... */
#define AFO_TTL_FACTOR 10
/* ... and above this floor (seconds): short TTLs are never worth a word. */
#define AFO_TTL_FLOOR 300

struct afo;

/* One managed record of one group in this zone. */
struct afo_rec {
	struct afo *a;
	const struct config_group *g;
	char *owner;             /* absolute, trailing dot */
	ldns_rr_type type;
	struct dns_client_query *q; /* the update probe, while it runs */
	uint8_t mac[64];
	size_t maclen;
};

/* One check of a standby server. */
struct afo_check {
	struct afo *a;
	size_t server;
	char *url;
	char *name;              /* cert checks: the name it must cover, else NULL */
};

struct afo {
	struct audit_domain *d;
	const struct config *cfg;
	const char *zone;        /* borrowed from the config */
	struct audit_hook *hook;
	struct event *fin;       /* frees the stage once pending is 0 */
	unsigned pending;        /* lookups, probes, checks, timers under way */
	bool have_primary;
	struct sockaddr_storage primary;
	socklen_t plen;
	struct dns_tsig_key *key;
	struct afo_rec *recs;
	size_t nrecs;
	struct check_engine *eng;
	struct afo_check *checks;
	size_t nchecks;
	bool *standby_down;      /* [cfg->nservers]: reported once per server */
	struct audit_failover_lag *lag; /* the secondary-lag probe, or NULL */
};

/* ---- lifetime ----------------------------------------------------------- */

static void
afo_free(struct afo *a)
{
	for (size_t i = 0; i < a->nrecs; i++) {
		if (a->recs[i].q != NULL)
			dns_client_cancel(a->recs[i].q);
		free(a->recs[i].owner);
	}
	free(a->recs);
	audit_failover_lag_free(a->lag);
	/* Cancels the checks still running (their callbacks do not run). */
	check_engine_free(a->eng);
	for (size_t i = 0; i < a->nchecks; i++) {
		free(a->checks[i].url);
		free(a->checks[i].name);
	}
	free(a->checks);
	free(a->standby_down);
	dns_tsig_key_free(a->key);
	if (a->fin != NULL)
		event_free(a->fin);
	free(a);
}

/* The run was cancelled: stop everything, touch the domain no more. */
static void
afo_cancel_hook(void *arg)
{
	afo_free(arg);
}

static void
afo_fin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct afo *a = arg;
	struct audit_domain *d = a->d;

	(void)fd;
	(void)what;
	audit_hook_remove(d, a->hook);
	afo_free(a);
	audit_release(d);
}

static void
afo_get(struct afo *a)
{
	a->pending++;
}

/* One piece of work ended; the last one schedules the end of the stage. */
static void
afo_put(struct afo *a)
{
	static const struct timeval zero = {0, 0};

	if (--a->pending == 0)
		evtimer_add(a->fin, &zero);
}

/* ---- helpers ------------------------------------------------------------ */

static ldns_rr_type
afo_rr_type(enum config_rtype t)
{
	switch (t) {
	case CONFIG_RTYPE_CNAME: return LDNS_RR_TYPE_CNAME;
	case CONFIG_RTYPE_A: return LDNS_RR_TYPE_A;
	case CONFIG_RTYPE_AAAA: return LDNS_RR_TYPE_AAAA;
	case CONFIG_RTYPE_MX: return LDNS_RR_TYPE_MX;
	}
	return LDNS_RR_TYPE_CNAME;
}

static bool
afo_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* The absolute owner of @record in @zone ("@" = the apex). */
static char *
afo_owner(const char *zone, const char *record)
{
	char *s = NULL;
	size_t rl = strlen(record);

	if (strcmp(record, "@") == 0)
		return strdup(zone);
	if (rl > 0 && record[rl - 1] == '.')
		return strdup(record);
	if (asprintf(&s, "%s.%s", record, zone) < 0)
		return NULL;
	return s;
}

/* Whether @name is the target of one of the domain's MX records. */
static bool
afo_is_mx_target(const struct audit_facts *f, const char *name)
{
	for (size_t i = 0; f != NULL && i < f->nmx; i++)
		if (f->mx[i].target != NULL && afo_name_eq(f->mx[i].target, name))
			return true;
	return false;
}

/* ---- the update probe ---------------------------------------------------- */

/* The record a switch never has: deleting it is a no-op of @type at @owner. */
static ldns_rr *
afo_absent_rr(const ldns_rdf *owner, ldns_rr_type type)
{
	const char *v = type == LDNS_RR_TYPE_MX	    ? "65535 mxfailover-audit-probe.invalid."
			: type == LDNS_RR_TYPE_A    ? "0.0.0.0"
			: type == LDNS_RR_TYPE_AAAA ? "::"
						    : "mxfailover-audit-probe.invalid.";
	ldns_rr_list *l = NULL;
	ldns_rr *rr = NULL;
	char err[64];

	if (dns_update_rrs_from_text(owner, type, 0, &v, 1, &l, err, sizeof(err)) != 0)
		return NULL;
	rr = ldns_rr_clone(ldns_rr_list_rr(l, 0));
	ldns_rr_list_deep_free(l);
	if (rr != NULL) {
		ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);
		ldns_rr_set_ttl(rr, 0);
	}
	return rr;
}

static void
afo_update_cb(struct dns_client_result *res, void *arg)
{
	struct afo_rec *rec = arg;
	struct afo *a = rec->a;
	struct audit_report *r = audit_domain_report(a->d);
	int rcode = res->status == 0 && res->pkt != NULL ? (int)ldns_pkt_get_rcode(res->pkt) : -1;

	rec->q = NULL;
	audit_checked(r, 1);
	if (rcode == DNS_RCODE_REFUSED || rcode == DNS_RCODE_NOTAUTH ||
	    rcode == DNS_RCODE_NOTZONE || rcode == DNS_RCODE_NOTIMP)
		audit_add_default(r, "failover-update-refused", rec->owner,
				  "a no-op UPDATE of %s %s%s%s to the primary %s was answered "
				  "%s: %s; the switch of group %s would be refused the same way",
				  rec->owner, config_rtype_name(rec->g->type),
				  a->key != NULL ? " signed with key " : " (unsigned)",
				  a->key != NULL ? a->key->name : "", a->cfg->dns.server,
				  dns_rcode_name(rcode), dns_rcode_explain(rcode, true), rec->g->id);
	afo_put(a);
}

/* Send the no-op UPDATE for @rec, its prerequisite the set @rrs as read. */
static void
afo_update_send(struct afo_rec *rec, const ldns_rr_list *rrs)
{
	struct afo *a = rec->a;
	ldns_rdf *owner = NULL, *zone = NULL;
	ldns_rr_list *pr = ldns_rr_list_new(), *up = ldns_rr_list_new();
	ldns_pkt *pkt = NULL;
	uint8_t *wire = NULL, *signed_wire = NULL;
	size_t len = 0, slen = 0;
	ldns_rr *del;
	int err = 0;

	if (pr == NULL || up == NULL || dns_update_name(rec->owner, &owner) != 0 ||
	    dns_update_name(a->zone, &zone) != 0)
		goto out;
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		ldns_rr *c = ldns_rr_clone(ldns_rr_list_rr(rrs, i));

		if (c == NULL)
			goto out;
		ldns_rr_set_ttl(c, 0);
		ldns_rr_set_class(c, LDNS_RR_CLASS_IN);
		ldns_rr_list_push_rr(pr, c);
	}
	del = afo_absent_rr(owner, rec->type);
	if (del == NULL)
		goto out;
	ldns_rr_list_push_rr(up, del);
	/* ldns takes the zone name and clones the lists. */
	pkt = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, pr, up, NULL);
	zone = NULL;
	if (pkt == NULL)
		goto out;
	ldns_pkt_set_id(pkt, (uint16_t)(arc4random() & 0xffff));
	if (dns_update_to_wire(pkt, &wire, &len) != 0)
		goto out;
	if (a->key != NULL) {
		if (dns_tsig_sign(a->key, wire, len, (uint64_t)time(NULL), &signed_wire, &slen,
				  rec->mac, &rec->maclen) != 0)
			goto out;
	} else {
		signed_wire = wire;
		slen = len;
		wire = NULL;
	}
	rec->q = dns_client_send(audit_domain_base(a->d), (const struct sockaddr *)&a->primary,
				 a->plen, signed_wire, slen, audit_domain_opts(a->d)->timeout_ms,
				 afo_update_cb, rec, &err);
	if (rec->q != NULL)
		afo_get(a);
out:
	free(wire);
	free(signed_wire);
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(owner);
	ldns_rdf_deep_free(zone);
	ldns_rr_list_deep_free(pr);
	ldns_rr_list_deep_free(up);
}

/* ---- the managed records -------------------------------------------------- */

static void
afo_rec_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct afo_rec *rec = arg;
	struct afo *a = rec->a;
	struct audit_report *r = audit_domain_report(d);
	const struct config *cfg = a->cfg;
	ldns_rdf *owner = NULL;
	ldns_rr_list *rrs = NULL;
	const char *type = config_rtype_name(rec->g->type);

	(void)rcode;
	audit_checked(r, 1);
	if (status != 0 && status != MXF_ENOTFOUND)
		goto out; /* the primary did not answer: nothing to judge here */
	if (status == 0 && dns_update_name(rec->owner, &owner) == 0)
		rrs = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, owner, rec->type);
	if (rrs == NULL || ldns_rr_list_rr_count(rrs) == 0) {
		audit_add_default(r, "failover-record-missing", rec->owner,
				  "%s %s does not exist at the primary %s: group %s never creates "
				  "records, so it is not switched",
				  rec->owner, type, cfg->dns.server, rec->g->id);
		goto out;
	}
	/* The TTL caches keep the old value after a switch. */
	uint32_t ttl = ldns_rr_ttl(ldns_rr_list_rr(rrs, 0));
	uint64_t detect = cfg->general.interval_ms * (cfg->general.fall ? cfg->general.fall : 1) / 1000;
	bool written = cfg->dns.ttl >= 0;
	uint64_t eff = written ? (uint64_t)cfg->dns.ttl : ttl;
	audit_checked(r, 1);
	if (eff > AFO_TTL_FLOOR && eff > AFO_TTL_FACTOR * (detect ? detect : 1))
		audit_add_default(r, "failover-ttl-too-long", rec->owner,
				  "%s %s keeps TTL %llu s after a switch (%s), but a dead server "
				  "is found in %llu s (interval x fall): caches send mail to it "
				  "for up to %llu s more",
				  rec->owner, type, (unsigned long long)eff,
				  written ? "[dns] ttl" : "its own TTL, as [dns] ttl is keep",
				  (unsigned long long)detect, (unsigned long long)eff);
	audit_checked(r, 1);
	if (rec->type == LDNS_RR_TYPE_CNAME && afo_is_mx_target(audit_domain_facts(d), rec->owner))
		audit_add(r, "failover-mx-target-cname", AUDIT_ERROR, rec->owner,
			  "set type = A (and AAAA) for this record in group's config: the "
			  "switch then writes the server's address, not an alias",
			  "%s is an MX target of %s, and group %s switches it as a CNAME: "
			  "MX targets must not be aliases (RFC 2181 10.3)",
			  rec->owner, audit_domain_name(d), rec->g->id);
	afo_update_send(rec, rrs);
out:
	ldns_rr_list_deep_free(rrs);
	ldns_rdf_deep_free(owner);
	afo_put(a);
}

/* ---- secondaries ----------------------------------------------------------- */

/* The secondary-lag probe (audit_failover_lag.c) has ended: its share. */
static void
afo_lag_done(void *arg)
{
	afo_put(arg);
}

/* ---- standbys ---------------------------------------------------------------- */

static void
afo_check_cb(const struct check_result *res, void *arg)
{
	struct afo_check *c = arg;
	struct afo *a = c->a;
	struct audit_report *r = audit_domain_report(a->d);
	const struct config_server *s = &a->cfg->servers[c->server];

	audit_checked(r, 1);
	if (c->name != NULL) {
		if (res->state == CHECK_STATE_DOWN &&
		    strstr(res->reason, "does not match the name") != NULL)
			audit_add_default(r, "failover-standby-cert-mismatch", c->name,
					  "standby %s (%s) presents an SMTP certificate that does "
					  "not cover %s, the name senders reach it under after a "
					  "switch: %s",
					  s->id, s->address, c->name, res->reason);
	} else if (res->state == CHECK_STATE_DOWN && !a->standby_down[c->server]) {
		a->standby_down[c->server] = true;
		audit_add_default(r, "failover-standby-down", s->id,
				  "standby %s (%s) fails %s now: %s; a failover would move mail "
				  "to a server that is down",
				  s->id, s->address, c->url, res->reason);
	}
	afo_put(a);
}

/* Where the standby's SMTP is checked: its first smtp:// check without the
 * query (host and port as the check has them), else ADDRESS:25. */
static char *
afo_smtp_base(const struct config_server *s)
{
	bool v6 = s->address != NULL && strchr(s->address, ':') != NULL;
	char *out = NULL;

	for (size_t i = 0; i < s->nchecks; i++)
		if (strncmp(s->checks[i], "smtp://", 7) == 0)
			return strndup(s->checks[i], strcspn(s->checks[i], "?#"));
	if (s->address == NULL ||
	    asprintf(&out, v6 ? "smtp://[%s]:25" : "smtp://%s:25", s->address) < 0)
		return NULL;
	return out;
}

static int
afo_add_check(struct afo *a, size_t server, char *url, char *name)
{
	struct afo_check *nv = realloc(a->checks, (a->nchecks + 1) * sizeof(*nv));

	if (nv == NULL || url == NULL) {
		free(url);
		free(name);
		return MXF_ENOMEM;
	}
	a->checks = nv;
	a->checks[a->nchecks++] = (struct afo_check){a, server, url, name};
	return 0;
}

/* Every check of every standby of @g, and its certificate for each name. */
static void
afo_standbys(struct afo *a, const struct config_group *g, char *const *owners, size_t nowners)
{
	const struct audit_facts *f = audit_domain_facts(a->d);

	for (size_t i = 1; i < g->nservers; i++) {
		const struct config_server *s = &a->cfg->servers[g->servers[i]];
		char *url = NULL, *base;

		for (size_t c = 0; c < s->nchecks; c++)
			afo_add_check(a, g->servers[i], strdup(s->checks[c]), NULL);
		if (!audit_domain_opts(a->d)->smtp || (base = afo_smtp_base(s)) == NULL)
			continue;
		/* The names a sender verifies: the MX target it is reached as. */
		for (size_t k = 0; k <= nowners; k++) {
			const char *name = k < nowners ? owners[k] : s->name;

			if (name == NULL || (k < nowners && (g->type == CONFIG_RTYPE_MX ||
							     !afo_is_mx_target(f, name))))
				continue;
			if (k == nowners && g->type != CONFIG_RTYPE_MX)
				continue;
			char host[256];
			size_t hl;

			snprintf(host, sizeof(host), "%s", name);
			hl = strlen(host);
			if (hl > 0 && host[hl - 1] == '.')
				host[hl - 1] = '\0';
			if (asprintf(&url, "%s?sni=%s&verify=yes", base, host) < 0)
				url = NULL;
			afo_add_check(a, g->servers[i], url, strdup(host));
			url = NULL;
		}
		free(base);
	}
}

static void
afo_start_checks(struct afo *a)
{
	char err[256];

	if (a->nchecks == 0)
		return;
	a->eng = check_engine_new(audit_domain_base(a->d));
	for (size_t i = 0; a->eng != NULL && i < a->nchecks; i++)
		if (check_engine_start(a->eng, a->checks[i].url, audit_domain_opts(a->d)->timeout_ms,
				       afo_check_cb, &a->checks[i], err, sizeof(err)) == 0)
			afo_get(a);
}

/* ---- SPF -------------------------------------------------------------------------- */

/* The domain's SPF is walked: is every standby's address allowed by it? */
static void
afo_spf_cb(struct audit_domain *d, bool found, bool complete, const struct audit_spf_net *nets,
	   size_t n, void *arg)
{
	struct afo *a = arg;
	struct audit_report *r = audit_domain_report(d);
	bool *said = mxf_calloc(a->cfg->nservers, sizeof(*said));

	/* No SPF is spf-missing's; a walk left unfinished may allow more. */
	for (size_t g = 0; said != NULL && found && complete && g < a->cfg->ngroups; g++) {
		const struct config_group *gr = &a->cfg->groups[g];
		bool here = false;

		for (size_t z = 0; z < gr->nzones; z++)
			here = here || afo_name_eq(gr->zones[z], audit_domain_name(d));
		for (size_t i = 1; here && i < gr->nservers; i++) {
			const struct config_server *s = &a->cfg->servers[gr->servers[i]];
			uint8_t addr[16];
			int fam = s->address != NULL && strchr(s->address, ':') ? AF_INET6 : AF_INET;

			if (said[gr->servers[i]] || s->address == NULL ||
			    inet_pton(fam, s->address, addr) != 1)
				continue;
			said[gr->servers[i]] = true;
			audit_checked(r, 1);
			if (!audit_spf_net_covers(nets, n, fam, addr))
				audit_add_default(r, "failover-standby-not-in-spf", s->id,
						  "standby %s (%s) is not allowed by the SPF of %s: "
						  "mail it sends after a switch (bounces, forwards, "
						  "notices) fails SPF",
						  s->id, s->address, audit_domain_name(d));
		}
	}
	free(said);
	afo_put(a);
}

/* ---- the stage ------------------------------------------------------------------ */

void
audit_failover_start(struct audit_domain *d)
{
	const struct audit_opts *o = audit_domain_opts(d);
	const struct config *cfg = o->cfg;
	const char *dom = audit_domain_name(d);
	struct afo *a;
	char err[512];

	if (cfg == NULL)
		return;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return;
	a->d = d;
	a->cfg = cfg;
	a->standby_down = mxf_calloc(cfg->nservers, sizeof(*a->standby_down));
	a->fin = evtimer_new(audit_domain_base(d), afo_fin_cb, a);
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t z = 0; z < cfg->groups[g].nzones; z++)
			if (afo_name_eq(cfg->groups[g].zones[z], dom)) {
				a->zone = cfg->groups[g].zones[z];
				a->nrecs += cfg->groups[g].nrecords;
			}
	if (a->zone == NULL || a->fin == NULL || a->standby_down == NULL ||
	    (a->recs = mxf_calloc(a->nrecs, sizeof(*a->recs))) == NULL) {
		afo_free(a); /* no group manages this domain (or out of memory) */
		return;
	}
	a->hook = audit_hook_add(d, afo_cancel_hook, a);
	if (a->hook == NULL) {
		afo_free(a);
		return;
	}
	audit_hold(d);
	afo_get(a); /* the start's own share, put at the end */
	if (cfg->dns.server != NULL &&
	    dns_client_addr(cfg->dns.server, cfg->dns.port, &a->primary, &a->plen) == 0)
		a->have_primary = true;
	if (cfg->dns.key_file != NULL &&
	    dns_keyfile_load(cfg->dns.key_file, NULL, &a->key, err, sizeof(err)) != 0) {
		audit_add(audit_domain_report(d), "failover-update-refused", AUDIT_ERROR,
			  cfg->dns.key_file, "fix the key file; `mxfailover config check` shows why",
			  "the key file cannot be used, so no switch can be signed: %s", err);
		a->key = NULL;
	}
	size_t k = 0;
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];
		bool here = false;

		for (size_t z = 0; z < gr->nzones; z++)
			here = here || afo_name_eq(gr->zones[z], dom);
		if (!here)
			continue;
		char **owners = mxf_calloc(gr->nrecords, sizeof(*owners));
		for (size_t r = 0; owners != NULL && r < gr->nrecords; r++) {
			struct afo_rec *rec = &a->recs[k++];

			rec->a = a;
			rec->g = gr;
			rec->type = afo_rr_type(gr->type);
			rec->owner = afo_owner(a->zone, gr->records[r]);
			owners[r] = rec->owner;
			if (rec->owner == NULL || !a->have_primary)
				continue;
			if (audit_lookup(d, (const struct sockaddr *)&a->primary, a->plen, rec->owner,
					 rec->type, AUDIT_Q_NORD, afo_rec_cb, rec) == 0)
				afo_get(a);
		}
		if (owners != NULL)
			afo_standbys(a, gr, owners, gr->nrecords);
		free(owners);
	}
	afo_start_checks(a);
	afo_get(a); /* the callback may run at once, from inside the call */
	if (audit_policy_spf_wait(d, afo_spf_cb, a) != 0)
		afo_put(a);
	if (a->have_primary &&
	    (a->lag = audit_failover_lag_start(d, a->zone, (const struct sockaddr *)&a->primary,
					       a->plen, cfg->dns.server, afo_lag_done, a)) != NULL)
		afo_get(a);
	afo_put(a);
}
