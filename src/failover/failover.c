/*
 * failover.c -- per-group failover decisions and their events; see
 * failover.h for the rules.  No clocks, no I/O, no logging.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "failover.h"
#include "mxf.h"

/* ---- names ----------------------------------------------------------- */

static const char *const failover_event_names[] = {
	[FAILOVER_EV_SERVER_DOWN] = "server down",
	[FAILOVER_EV_SERVER_UP] = "server up",
	[FAILOVER_EV_SWITCHED] = "switched",
	[FAILOVER_EV_SWITCHED_BACK] = "switched back",
	[FAILOVER_EV_SWITCH_FAILED] = "switch failed",
	[FAILOVER_EV_ALL_DOWN] = "all down",
	[FAILOVER_EV_ISOLATED] = "isolated",
	[FAILOVER_EV_ISOLATION_OVER] = "isolation over",
	[FAILOVER_EV_CHANGED_BY_HAND] = "changed by hand",
};

static const char *const failover_event_ids[] = {
	[FAILOVER_EV_SERVER_DOWN] = "server_down",
	[FAILOVER_EV_SERVER_UP] = "server_up",
	[FAILOVER_EV_SWITCHED] = "switched",
	[FAILOVER_EV_SWITCHED_BACK] = "switched_back",
	[FAILOVER_EV_SWITCH_FAILED] = "switch_failed",
	[FAILOVER_EV_ALL_DOWN] = "all_down",
	[FAILOVER_EV_ISOLATED] = "isolated",
	[FAILOVER_EV_ISOLATION_OVER] = "isolation_over",
	[FAILOVER_EV_CHANGED_BY_HAND] = "changed_by_hand",
};

static const char *const failover_verdict_names[] = {
	[FAILOVER_NO_CHANGE] = "no change",
	[FAILOVER_CHANGE] = "change",
	[FAILOVER_HELD] = "held down",
	[FAILOVER_ALL_DOWN] = "all down",
	[FAILOVER_ISOLATED] = "isolated",
	[FAILOVER_WAITING] = "waiting",
};

static const char *const failover_rec_verdict_names[] = {
	[FAILOVER_R_KEEP] = "keep",
	[FAILOVER_R_CHANGE] = "change",
	[FAILOVER_R_ABSENT] = "absent",
	[FAILOVER_R_HAND_CHANGED] = "changed by hand",
	[FAILOVER_R_NOT_READ] = "not read",
	[FAILOVER_R_NO_VALUE] = "no value",
};

static const char *const failover_rec_status_names[] = {
	[FAILOVER_REC_UNREAD] = "unread",
	[FAILOVER_REC_ABSENT] = "absent",
	[FAILOVER_REC_PRESENT] = "present",
	[FAILOVER_REC_FAILED] = "failed",
};

#define FO_NAME(table, v) ((unsigned)(v) < MXF_ARRAY_SIZE(table) && (table)[v] ? (table)[v] : "?")

const char *failover_event_name(enum failover_event_type t)
{
	return FO_NAME(failover_event_names, t);
}

const char *failover_event_id(enum failover_event_type t)
{
	return FO_NAME(failover_event_ids, t);
}

int failover_event_parse(const char *id, enum failover_event_type *out)
{
	for (size_t i = 0; id && i < MXF_ARRAY_SIZE(failover_event_ids); i++) {
		if (strcmp(failover_event_ids[i], id) == 0) {
			*out = (enum failover_event_type)i;
			return 0;
		}
	}
	return MXF_EINVAL;
}

const char *failover_verdict_name(enum failover_verdict v)
{
	return FO_NAME(failover_verdict_names, v);
}

const char *failover_rec_verdict_name(enum failover_rec_verdict v)
{
	return FO_NAME(failover_rec_verdict_names, v);
}

const char *failover_rec_status_name(enum failover_rec_status s)
{
	return FO_NAME(failover_rec_status_names, s);
}

int failover_rec_status_parse(const char *s, enum failover_rec_status *out)
{
	for (size_t i = 0; s && i < MXF_ARRAY_SIZE(failover_rec_status_names); i++) {
		if (strcmp(failover_rec_status_names[i], s) == 0) {
			*out = (enum failover_rec_status)i;
			return 0;
		}
	}
	return MXF_EINVAL;
}

/* ---- events ---------------------------------------------------------- */

void failover_events_clear(struct failover_events *ev)
{
	if (ev)
		ev->n = 0;
}

void failover_events_free(struct failover_events *ev)
{
	if (!ev)
		return;
	free(ev->v);
	ev->v = NULL;
	ev->n = ev->cap = 0;
}

static int fo_event_add(struct failover_events *ev, enum failover_event_type type,
			uint64_t now_ms, long group, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Append an event with every index -1 but @group; returns 0 or MXF_ENOMEM.
 * The caller fills the indices of ev->v[ev->n - 1] afterwards. */
static int fo_event_add(struct failover_events *ev, enum failover_event_type type,
			uint64_t now_ms, long group, const char *fmt, ...)
{
	if (ev->n == ev->cap) {
		size_t ncap = ev->cap ? ev->cap * 2 : 8;
		struct failover_event *nv = realloc(ev->v, ncap * sizeof(*nv));
		if (!nv)
			return MXF_ENOMEM;
		ev->v = nv;
		ev->cap = ncap;
	}
	struct failover_event *e = &ev->v[ev->n++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->at_ms = now_ms;
	e->group = group;
	e->server = e->from = e->to = e->zone = e->record = -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return 0;
}

static struct failover_event *fo_last(struct failover_events *ev)
{
	return &ev->v[ev->n - 1];
}

int failover_event_from_health(const struct config *cfg, const struct health_change *c,
			       struct failover_events *ev)
{
	if (c->kind == HEALTH_CHANGE_CHECK || c->from == c->to || c->server >= cfg->nservers)
		return 0;
	enum failover_event_type t;
	if (c->to == HEALTH_DOWN)
		t = FAILOVER_EV_SERVER_DOWN;
	else if (c->to == HEALTH_UP && c->from == HEALTH_DOWN)
		t = FAILOVER_EV_SERVER_UP;
	else
		return 0;
	int e = fo_event_add(ev, t, c->at_ms, -1, "server %s is %s: %s", cfg->servers[c->server].id,
			     health_state_name(c->to), c->reason);
	if (e)
		return e;
	fo_last(ev)->server = (long)c->server;
	return 1;
}

/* ---- DNS views ------------------------------------------------------- */

static void fo_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static char **fo_strv_dup(const char *const *v, size_t n)
{
	char **r = calloc(n ? n : 1, sizeof(*r));
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		r[i] = strdup(v[i] ? v[i] : "");
		if (!r[i]) {
			fo_strv_free(r, i);
			return NULL;
		}
	}
	return r;
}

static void fo_rec_view_clear(struct failover_rec_view *r)
{
	fo_strv_free(r->values, r->nvalues);
	free(r->error);
	memset(r, 0, sizeof(*r));
	r->ttl = -1;
}

int failover_dns_new(const struct config *cfg, size_t group, struct failover_dns **out)
{
	if (group >= cfg->ngroups)
		return MXF_EINVAL;
	const struct config_group *g = &cfg->groups[group];
	struct failover_dns *d = calloc(1, sizeof(*d));
	if (!d)
		return MXF_ENOMEM;
	d->group = group;
	d->nzones = g->nzones;
	d->nrecords = g->nrecords;
	d->zones = calloc(g->nzones ? g->nzones : 1, sizeof(*d->zones));
	if (!d->zones)
		goto fail;
	for (size_t z = 0; z < g->nzones; z++) {
		d->zones[z].recs = calloc(g->nrecords ? g->nrecords : 1, sizeof(*d->zones[z].recs));
		if (!d->zones[z].recs)
			goto fail;
		for (size_t r = 0; r < g->nrecords; r++)
			d->zones[z].recs[r].ttl = -1;
	}
	*out = d;
	return 0;
fail:
	failover_dns_free(d);
	return MXF_ENOMEM;
}

void failover_dns_free(struct failover_dns *d)
{
	if (!d)
		return;
	for (size_t z = 0; d->zones && z < d->nzones; z++) {
		for (size_t r = 0; d->zones[z].recs && r < d->nrecords; r++)
			fo_rec_view_clear(&d->zones[z].recs[r]);
		free(d->zones[z].recs);
	}
	free(d->zones);
	free(d);
}

int failover_dns_set(struct failover_dns *d, size_t zone, size_t rec,
		     enum failover_rec_status status, const char *const *values, size_t n,
		     int64_t ttl, const char *error)
{
	if (!d || zone >= d->nzones || rec >= d->nrecords || (unsigned)status > FAILOVER_REC_FAILED)
		return MXF_EINVAL;
	if (status == FAILOVER_REC_PRESENT && (n == 0 || !values))
		return MXF_EINVAL;
	struct failover_rec_view *r = &d->zones[zone].recs[rec];
	fo_rec_view_clear(r);
	if (status == FAILOVER_REC_PRESENT) {
		r->values = fo_strv_dup(values, n);
		if (!r->values)
			return MXF_ENOMEM;
		r->nvalues = n;
		r->ttl = ttl;
	} else if (status == FAILOVER_REC_FAILED) {
		r->error = strdup(error ? error : "query failed");
		if (!r->error)
			return MXF_ENOMEM;
	}
	r->status = status;
	return 0;
}

char *failover_owner_name(const char *zone, const char *record)
{
	char *s = NULL;
	size_t rl = strlen(record);
	if (strcmp(record, "@") == 0 || rl == 0)
		s = strdup(zone);
	else if (record[rl - 1] == '.')
		s = strdup(record);
	else if (asprintf(&s, "%s.%s", record, zone) < 0)
		s = NULL;
	return s;
}

/* ---- memory ---------------------------------------------------------- */

int failover_new(const struct config *cfg, struct failover **out)
{
	struct failover *fo = calloc(1, sizeof(*fo));
	if (!fo)
		return MXF_ENOMEM;
	fo->ngroups = cfg->ngroups;
	fo->groups = calloc(cfg->ngroups ? cfg->ngroups : 1, sizeof(*fo->groups));
	if (!fo->groups)
		goto fail;
	for (size_t i = 0; i < cfg->ngroups; i++) {
		struct failover_group_mem *m = &fo->groups[i];
		const struct config_group *g = &cfg->groups[i];
		m->active = -1;
		m->nzones = g->nzones;
		m->nrecords = g->nrecords;
		m->zones = calloc(g->nzones ? g->nzones : 1, sizeof(*m->zones));
		size_t nflags = g->nzones * g->nrecords;
		m->hand_changed = calloc(nflags ? nflags : 1, sizeof(bool));
		if (!m->zones || !m->hand_changed)
			goto fail;
	}
	*out = fo;
	return 0;
fail:
	failover_free(fo);
	return MXF_ENOMEM;
}

void failover_free(struct failover *fo)
{
	if (!fo)
		return;
	for (size_t i = 0; fo->groups && i < fo->ngroups; i++) {
		free(fo->groups[i].zones);
		free(fo->groups[i].hand_changed);
	}
	free(fo->groups);
	free(fo);
}

int failover_set_witness(struct failover *fo, enum failover_witness verdict, uint64_t now_ms,
			 struct failover_events *ev)
{
	bool isolated = verdict == FAILOVER_WITNESS_ISOLATED;
	if (isolated == fo->isolated)
		return 0;
	int e = isolated ? fo_event_add(ev, FAILOVER_EV_ISOLATED, now_ms, -1,
					"every witness fails: this host may be cut off, "
					"no DNS change until one answers")
			 : fo_event_add(ev, FAILOVER_EV_ISOLATION_OVER, now_ms, -1,
					"a witness answers again: DNS changes resume");
	if (e)
		return e;
	fo->isolated = isolated;
	return 1;
}

int failover_request_failback(struct failover *fo, size_t group)
{
	if (!fo || group >= fo->ngroups)
		return MXF_EINVAL;
	fo->groups[group].failback_requested = true;
	return 0;
}

/* ---- zones: backoff, reads ------------------------------------------- */

static struct failover_zone_mem *fo_zone(const struct failover *fo, size_t group, size_t zone)
{
	if (!fo || group >= fo->ngroups || zone >= fo->groups[group].nzones)
		return NULL;
	return &fo->groups[group].zones[zone];
}

bool failover_zone_due(const struct failover *fo, size_t group, size_t zone, uint64_t now_ms)
{
	const struct failover_zone_mem *zm = fo_zone(fo, group, zone);
	return !zm || zm->next_ms <= now_ms;
}

uint64_t failover_zone_next_ms(const struct failover *fo, size_t group, size_t zone)
{
	const struct failover_zone_mem *zm = fo_zone(fo, group, zone);
	return zm ? zm->next_ms : 0;
}

uint64_t failover_zone_tried(struct failover *fo, const struct config *cfg, size_t group,
			     size_t zone, int status, uint64_t now_ms)
{
	struct failover_zone_mem *zm = fo_zone(fo, group, zone);
	if (!zm)
		return 0;
	if (status == 0) {
		zm->failures = 0;
		zm->next_ms = 0;
	} else if (status < 0) {
		uint64_t wait = cfg->general.interval_ms;
		zm->failures++;
		for (unsigned i = 1; i < zm->failures && wait < FAILOVER_BACKOFF_MAX_MS; i++)
			wait *= 2;
		if (wait > FAILOVER_BACKOFF_MAX_MS)
			wait = FAILOVER_BACKOFF_MAX_MS;
		zm->next_ms = now_ms + wait;
	}
	return zm->next_ms;
}

int failover_zone_read(struct failover *fo, size_t group, size_t zone, bool failed)
{
	struct failover_zone_mem *zm = fo_zone(fo, group, zone);
	if (!zm || zm->read_bad == failed)
		return 0;
	zm->read_bad = failed;
	return failed ? 1 : -1;
}

/* ---- values ---------------------------------------------------------- */

const char *failover_server_value(const struct config *cfg, size_t server, enum config_rtype type)
{
	if (server >= cfg->nservers)
		return NULL;
	const struct config_server *s = &cfg->servers[server];
	switch (type) {
	case CONFIG_RTYPE_CNAME:
	case CONFIG_RTYPE_MX:
		return s->name;
	case CONFIG_RTYPE_A:
		return s->address && value_is_ip(s->address) == 4 ? s->address : NULL;
	case CONFIG_RTYPE_AAAA:
		return s->address && value_is_ip(s->address) == 6 ? s->address : NULL;
	}
	return NULL;
}

/* Domain names equal, ignoring case and one trailing dot. */
static bool fo_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static bool fo_addr_eq(const char *a, const char *b, int family)
{
	unsigned char x[16], y[16];
	if (inet_pton(family, a, x) != 1 || inet_pton(family, b, y) != 1)
		return false;
	return memcmp(x, y, family == AF_INET ? 4 : 16) == 0;
}

/* Split an MX value "PREF TARGET"; @return false when malformed. */
static bool fo_mx_split(const char *v, unsigned long *pref, const char **target)
{
	char *end;
	while (isspace((unsigned char)*v))
		v++;
	if (!isdigit((unsigned char)*v))
		return false;
	errno = 0;
	*pref = strtoul(v, &end, 10);
	if (errno || *pref > 65535 || !isspace((unsigned char)*end))
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (!*end)
		return false;
	*target = end;
	return true;
}

/* Length of an MX target without trailing blanks. */
static size_t fo_trimlen(const char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n;
}

/* Is @value (one value of @type) pointing at @server? */
static bool fo_value_is(const struct config *cfg, size_t server, enum config_rtype type,
			const char *value)
{
	const char *sv = failover_server_value(cfg, server, type);
	if (!sv)
		return false;
	switch (type) {
	case CONFIG_RTYPE_CNAME:
		return fo_name_eq(value, sv);
	case CONFIG_RTYPE_A:
		return fo_addr_eq(value, sv, AF_INET);
	case CONFIG_RTYPE_AAAA:
		return fo_addr_eq(value, sv, AF_INET6);
	case CONFIG_RTYPE_MX: {
		unsigned long pref;
		const char *t;
		if (!fo_mx_split(value, &pref, &t))
			return false;
		char buf[256];
		snprintf(buf, sizeof(buf), "%.*s", (int)fo_trimlen(t), t);
		return fo_name_eq(buf, sv);
	}
	}
	return false;
}

/*
 * The group server an RRset points at, or -1 (points elsewhere).  For MX,
 * @primary[i] is set for the values of lowest preference (the ones mail
 * goes to first), which must all name the same server.
 */
static long fo_points_to(const struct config *cfg, const struct config_group *g,
			 const struct failover_rec_view *r, bool *primary)
{
	if (r->status != FAILOVER_REC_PRESENT || r->nvalues == 0)
		return -1;
	if (g->type != CONFIG_RTYPE_MX) {
		if (r->nvalues != 1)
			return -1;
		for (size_t i = 0; i < g->nservers; i++) {
			if (fo_value_is(cfg, g->servers[i], g->type, r->values[0]))
				return (long)g->servers[i];
		}
		return -1;
	}
	unsigned long best = 65536, pref;
	const char *t;
	for (size_t v = 0; v < r->nvalues; v++) {
		if (!fo_mx_split(r->values[v], &pref, &t))
			return -1;
		if (pref < best)
			best = pref;
	}
	long who = -1;
	for (size_t v = 0; v < r->nvalues; v++) {
		fo_mx_split(r->values[v], &pref, &t);
		primary[v] = pref == best;
		if (!primary[v])
			continue;
		long s = -1;
		for (size_t i = 0; i < g->nservers && s < 0; i++) {
			if (fo_value_is(cfg, g->servers[i], CONFIG_RTYPE_MX, r->values[v]))
				s = (long)g->servers[i];
		}
		if (s < 0 || (who >= 0 && who != s))
			return -1;
		who = s;
	}
	return who;
}

/* The RRset to write so that @r points at @server. */
static char **fo_new_values(const struct config *cfg, const struct config_group *g,
			    const struct failover_rec_view *r, const bool *primary, size_t server,
			    size_t *n)
{
	const char *sv = failover_server_value(cfg, server, g->type);
	if (g->type != CONFIG_RTYPE_MX) {
		*n = 1;
		return fo_strv_dup(&sv, 1);
	}
	char **v = calloc(r->nvalues, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->nvalues; i++) {
		unsigned long pref;
		const char *t;
		if (primary[i] && fo_mx_split(r->values[i], &pref, &t)) {
			if (asprintf(&v[i], "%lu %s", pref, sv) < 0)
				v[i] = NULL;
		} else {
			v[i] = strdup(r->values[i]);
		}
		if (!v[i]) {
			fo_strv_free(v, i);
			return NULL;
		}
	}
	*n = r->nvalues;
	return v;
}

/* ---- the plan -------------------------------------------------------- */

void failover_plan_free(struct failover_plan *p)
{
	if (!p)
		return;
	for (size_t z = 0; p->zones && z < p->nzones; z++) {
		struct failover_zone_plan *zp = &p->zones[z];
		free(zp->error);
		for (size_t r = 0; zp->recs && r < zp->nrecs; r++) {
			free(zp->recs[r].owner);
			fo_strv_free(zp->recs[r].old_values, zp->recs[r].nold);
			fo_strv_free(zp->recs[r].new_values, zp->recs[r].nnew);
		}
		free(zp->recs);
	}
	free(p->zones);
	free(p);
}

/* Position of @server in the group's preference list, or -1. */
static long fo_rank(const struct config_group *g, long server)
{
	for (size_t i = 0; i < g->nservers; i++) {
		if ((long)g->servers[i] == server)
			return (long)i;
	}
	return -1;
}

/* Why @server is in its effective state, in a few words. */
static void fo_server_why(const struct config *cfg, const struct health *h, size_t server,
			  uint64_t now_ms, char *buf, size_t size)
{
	enum health_pin pin = health_pinned(h, server, now_ms);
	const char *id = cfg->servers[server].id;
	if (pin != HEALTH_PIN_NONE) {
		snprintf(buf, size, "%s is pinned %s by the operator", id, health_pin_name(pin));
		return;
	}
	const struct health_server *s = &h->servers[server];
	if (s->state == HEALTH_DOWN && s->reason[0])
		snprintf(buf, size, "%s is down (%s)", id, s->reason);
	else
		snprintf(buf, size, "%s is %s", id, health_state_name(s->state));
}

/* The server most PRESENT records point at; ties go to the preferred one. */
static long fo_current_from_dns(const struct config_group *g, const struct failover_plan *p)
{
	long best = -1;
	size_t best_n = 0;
	for (size_t i = 0; i < g->nservers; i++) {
		size_t n = 0;
		for (size_t z = 0; z < p->nzones; z++) {
			for (size_t r = 0; r < p->zones[z].nrecs; r++)
				n += p->zones[z].recs[r].points_to == (long)g->servers[i];
		}
		if (n > best_n) {
			best_n = n;
			best = (long)g->servers[i];
		}
	}
	return best;
}

/* Classify every record of every zone as read; no decision yet. */
static int fo_classify(const struct config *cfg, const struct config_group *g,
		       const struct failover_dns *dns, struct failover_plan *p)
{
	for (size_t z = 0; z < p->nzones; z++) {
		struct failover_zone_plan *zp = &p->zones[z];
		zp->zone = z;
		zp->name = g->zones[z];
		zp->nrecs = g->nrecords;
		zp->recs = calloc(g->nrecords ? g->nrecords : 1, sizeof(*zp->recs));
		if (!zp->recs)
			return MXF_ENOMEM;
		for (size_t r = 0; r < g->nrecords; r++) {
			struct failover_record_plan *rp = &zp->recs[r];
			rp->record = r;
			rp->points_to = -1;
			rp->ttl = -1;
			rp->owner = failover_owner_name(g->zones[z], g->records[r]);
			if (!rp->owner)
				return MXF_ENOMEM;
			const struct failover_rec_view *rv = dns ? &dns->zones[z].recs[r] : NULL;
			if (!rv || rv->status == FAILOVER_REC_UNREAD || rv->status == FAILOVER_REC_FAILED) {
				rp->verdict = FAILOVER_R_NOT_READ;
				if (!zp->read_failed) {
					zp->read_failed = true;
					zp->error = strdup(rv && rv->error ? rv->error
									   : "not read");
					if (!zp->error)
						return MXF_ENOMEM;
				}
				continue;
			}
			if (rv->status == FAILOVER_REC_ABSENT) {
				rp->verdict = FAILOVER_R_ABSENT;
				continue;
			}
			rp->old_values = fo_strv_dup((const char *const *)rv->values, rv->nvalues);
			if (!rp->old_values)
				return MXF_ENOMEM;
			rp->nold = rv->nvalues;
			rp->ttl = rv->ttl;
			bool *primary = calloc(rv->nvalues, sizeof(*primary));
			if (!primary)
				return MXF_ENOMEM;
			rp->points_to = fo_points_to(cfg, g, rv, primary);
			free(primary);
			rp->verdict = rp->points_to < 0 ? FAILOVER_R_HAND_CHANGED : FAILOVER_R_KEEP;
		}
		/* One UPDATE per zone: a zone with any unread record is left
		 * alone entirely, its readable records included. */
		if (zp->read_failed) {
			for (size_t r = 0; r < g->nrecords; r++) {
				if (zp->recs[r].verdict == FAILOVER_R_KEEP)
					zp->recs[r].verdict = FAILOVER_R_NOT_READ;
			}
		}
	}
	return 0;
}

/* Turn KEEP records pointing at another server into changes to @wanted. */
static int fo_changes(const struct config *cfg, const struct config_group *g,
		      const struct failover_dns *dns, size_t wanted, struct failover_plan *p)
{
	for (size_t z = 0; z < p->nzones; z++) {
		struct failover_zone_plan *zp = &p->zones[z];
		for (size_t r = 0; r < zp->nrecs; r++) {
			struct failover_record_plan *rp = &zp->recs[r];
			if (rp->verdict != FAILOVER_R_KEEP || rp->points_to == (long)wanted)
				continue;
			if (!failover_server_value(cfg, wanted, g->type)) {
				rp->verdict = FAILOVER_R_NO_VALUE;
				continue;
			}
			const struct failover_rec_view *rv = &dns->zones[z].recs[r];
			bool *primary = calloc(rv->nvalues, sizeof(*primary));
			if (!primary)
				return MXF_ENOMEM;
			fo_points_to(cfg, g, rv, primary);
			rp->new_values = fo_new_values(cfg, g, rv, primary, wanted, &rp->nnew);
			free(primary);
			if (!rp->new_values)
				return MXF_ENOMEM;
			if (cfg->dns.ttl >= 0)
				rp->ttl = cfg->dns.ttl;
			rp->verdict = FAILOVER_R_CHANGE;
			zp->nchanges++;
			p->nchanges++;
		}
	}
	return 0;
}

int failover_plan(const struct failover *fo, const struct config *cfg, size_t group,
		  const struct health *h, const struct failover_dns *dns, uint64_t now_ms,
		  struct failover_plan **out)
{
	if (!fo || !cfg || !h || group >= cfg->ngroups || group >= fo->ngroups ||
	    h->nservers != cfg->nservers)
		return MXF_EINVAL;
	const struct config_group *g = &cfg->groups[group];
	const struct failover_group_mem *m = &fo->groups[group];
	if (dns && (dns->group != group || dns->nzones != g->nzones || dns->nrecords != g->nrecords))
		return MXF_EINVAL;
	for (size_t i = 0; i < g->nservers; i++) {
		if (g->servers[i] >= cfg->nservers)
			return MXF_EINVAL;
	}

	struct failover_plan *p = calloc(1, sizeof(*p));
	if (!p)
		return MXF_ENOMEM;
	int e = MXF_ENOMEM;
	p->group = group;
	p->type = g->type;
	p->current = p->preferred = p->wanted = p->waiting_for = -1;
	p->nzones = g->nzones;
	p->zones = calloc(g->nzones ? g->nzones : 1, sizeof(*p->zones));
	if (!p->zones)
		goto fail;
	e = fo_classify(cfg, g, dns, p);
	if (e)
		goto fail;

	p->current = m->active >= 0 && fo_rank(g, m->active) >= 0 ? m->active
								  : fo_current_from_dns(g, p);

	/* The decision, hold_down aside. */
	bool all_down = g->nservers > 0;
	for (size_t i = 0; i < g->nservers; i++)
		all_down = all_down && health_effective(h, g->servers[i], now_ms) == HEALTH_DOWN;
	enum health_state cur_state =
		p->current >= 0 ? health_effective(h, (size_t)p->current, now_ms) : HEALTH_UNKNOWN;
	bool keep_manual = g->failback == CONFIG_FAILBACK_MANUAL && !m->failback_requested &&
			   p->current >= 0;
	if (keep_manual && cur_state == HEALTH_UP) {
		p->preferred = p->current;
	} else if (keep_manual && cur_state == HEALTH_UNKNOWN) {
		p->waiting_for = p->current;
	} else {
		for (size_t i = 0; i < g->nservers; i++) {
			enum health_state st = health_effective(h, g->servers[i], now_ms);
			if (st == HEALTH_UNKNOWN) {
				p->waiting_for = (long)g->servers[i];
				break;
			}
			if (st == HEALTH_UP) {
				p->preferred = (long)g->servers[i];
				break;
			}
		}
	}

	char sw[FAILOVER_DETAIL_MAX / 2], tbuf[64];
	if (fo->isolated) {
		p->verdict = FAILOVER_ISOLATED;
		snprintf(p->why, sizeof(p->why),
			 "every witness fails: this host may be cut off, no DNS change");
	} else if (all_down) {
		p->verdict = FAILOVER_ALL_DOWN;
		snprintf(p->why, sizeof(p->why),
			 "every server of group %s is down: records stay where they are", g->id);
	} else if (p->waiting_for >= 0) {
		p->verdict = FAILOVER_WAITING;
		snprintf(p->why, sizeof(p->why),
			 "waiting for a full round of checks of %s before deciding",
			 cfg->servers[p->waiting_for].id);
	} else if (p->preferred < 0) {
		/* Not all down, none unknown, none up: cannot happen, but a
		 * decision without a server changes nothing. */
		p->verdict = FAILOVER_ALL_DOWN;
		snprintf(p->why, sizeof(p->why), "no server of group %s is up", g->id);
	} else {
		p->wanted = p->preferred;
		const char *pid = cfg->servers[p->preferred].id;
		if (p->current >= 0 && p->current != p->preferred) {
			const char *cid = cfg->servers[p->current].id;
			uint64_t until = m->last_switch_ms + g->hold_down_ms;
			/* A last switch further in the future than hold_down
			 * means the clock went back: do not hold forever. */
			bool clock_back = m->last_switch_ms > now_ms + g->hold_down_ms;
			if (cur_state == HEALTH_UP && m->last_switch_ms && now_ms < until &&
			    g->hold_down_ms && !clock_back) {
				p->wanted = p->current;
				p->held_until_ms = until;
				struct tm tm;
				time_t t = (time_t)(until / 1000);
				gmtime_r(&t, &tm);
				strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S UTC", &tm);
				snprintf(p->why, sizeof(p->why),
					 "%s is wanted, but %s stays: held down until %s (%llu s left)",
					 pid, cid, tbuf,
					 (unsigned long long)((until - now_ms + 999) / 1000));
			} else if (cur_state == HEALTH_UP) {
				snprintf(p->why, sizeof(p->why),
					 "switch %s -> %s: %s is preferred and up%s", cid, pid, pid,
					 m->failback_requested ? " (failback requested)" : "");
			} else {
				fo_server_why(cfg, h, (size_t)p->current, now_ms, sw, sizeof(sw));
				snprintf(p->why, sizeof(p->why), "switch %s -> %s: %s", cid, pid, sw);
			}
		} else if (p->current < 0) {
			snprintf(p->why, sizeof(p->why),
				 "%s is the first server up (no current server known)", pid);
		} else if (g->failback == CONFIG_FAILBACK_MANUAL &&
			   fo_rank(g, p->current) > 0) {
			snprintf(p->why, sizeof(p->why),
				 "%s stays: it is up and failback is manual", pid);
		} else {
			snprintf(p->why, sizeof(p->why), "%s is up and preferred", pid);
		}
	}

	if (p->wanted >= 0) {
		e = fo_changes(cfg, g, dns, (size_t)p->wanted, p);
		if (e)
			goto fail;
		p->verdict = p->held_until_ms ? FAILOVER_HELD
				   : p->nchanges  ? FAILOVER_CHANGE
						  : FAILOVER_NO_CHANGE;
	}
	*out = p;
	return 0;
fail:
	failover_plan_free(p);
	return e;
}

/* ---- commit ---------------------------------------------------------- */

int failover_commit(struct failover *fo, const struct config *cfg, const struct failover_plan *p,
		    const int *zone_status, uint64_t now_ms, struct failover_events *ev)
{
	if (!fo || !cfg || !p || !ev || p->group >= fo->ngroups || p->group >= cfg->ngroups)
		return MXF_EINVAL;
	struct failover_group_mem *m = &fo->groups[p->group];
	const struct config_group *g = &cfg->groups[p->group];
	if (p->nzones != m->nzones || (p->nzones && p->zones[0].nrecs != m->nrecords))
		return MXF_EINVAL;
	size_t n0 = ev->n;
	long gi = (long)p->group;
	int e;

	if (p->verdict == FAILOVER_ISOLATED)
		return 0;

	if (p->verdict == FAILOVER_ALL_DOWN) {
		if (!m->all_down) {
			e = fo_event_add(ev, FAILOVER_EV_ALL_DOWN, now_ms, gi, "group %s: %s", g->id,
					 p->why);
			if (e)
				return e;
			m->all_down = true;
		}
	} else if (p->verdict != FAILOVER_WAITING) {
		m->all_down = false;
	}

	/* Records changed by hand: report once, forget once they are ours. */
	for (size_t z = 0; z < p->nzones; z++) {
		const struct failover_zone_plan *zp = &p->zones[z];
		if (zp->read_failed)
			continue;
		for (size_t r = 0; r < zp->nrecs; r++) {
			const struct failover_record_plan *rp = &zp->recs[r];
			bool *flag = &m->hand_changed[z * m->nrecords + r];
			bool hand = rp->verdict == FAILOVER_R_HAND_CHANGED;
			if (hand && !*flag) {
				e = fo_event_add(ev, FAILOVER_EV_CHANGED_BY_HAND, now_ms, gi,
						 "%s %s is %s%s, not a server of group %s: "
						 "changed by hand, left alone",
						 rp->owner, config_rtype_name(g->type),
						 rp->nold ? rp->old_values[0] : "?",
						 rp->nold > 1 ? " ..." : "", g->id);
				if (e)
					return e;
				fo_last(ev)->zone = (long)z;
				fo_last(ev)->record = (long)r;
			}
			*flag = hand;
		}
	}

	/* Zone updates. */
	bool any_ok = false;
	for (size_t z = 0; z < p->nzones; z++) {
		const struct failover_zone_plan *zp = &p->zones[z];
		if (!zp->nchanges)
			continue;
		int st = zone_status ? zone_status[z] : 0;
		if (st == 0) {
			any_ok = true;
			m->zones[z].failed = false;
		} else if (st < 0 && !m->zones[z].failed) {
			e = fo_event_add(ev, FAILOVER_EV_SWITCH_FAILED, now_ms, gi,
					 "group %s: update of zone %s failed: %s", g->id, zp->name,
					 mxf_strerror(st));
			if (e)
				return e;
			fo_last(ev)->zone = (long)z;
			fo_last(ev)->to = p->wanted;
			m->zones[z].failed = true;
		}
	}

	/* The switch itself. */
	bool any_read_failed = false;
	for (size_t z = 0; z < p->nzones; z++)
		any_read_failed = any_read_failed || p->zones[z].read_failed;
	if (p->wanted >= 0 && p->wanted != m->active) {
		if (any_ok || (p->nchanges == 0 && !any_read_failed)) {
			long from = m->active >= 0 ? m->active : p->current;
			if (from >= 0 && from != p->wanted) {
				bool back = g->nservers && (long)g->servers[0] == p->wanted;
				e = fo_event_add(ev, back ? FAILOVER_EV_SWITCHED_BACK : FAILOVER_EV_SWITCHED,
						 now_ms, gi, "group %s: %s -> %s (%s)", g->id,
						 cfg->servers[from].id, cfg->servers[p->wanted].id,
						 p->why);
				if (e)
					return e;
				fo_last(ev)->from = from;
				fo_last(ev)->to = p->wanted;
				m->last_switch_ms = now_ms;
			}
			m->active = p->wanted;
			m->failback_requested = false;
		} else if (m->active < 0 && p->current >= 0) {
			m->active = p->current;
		}
	} else if (p->wanted < 0 && m->active < 0 && p->current >= 0) {
		/* Nothing decided yet: remember where the records point. */
		m->active = p->current;
	}
	return (int)(ev->n - n0);
}

/* ---- the explanation ------------------------------------------------- */

static void fo_put_values(FILE *f, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", v[i]);
}

int failover_plan_format(const struct failover_plan *p, const struct config *cfg,
			 const struct health *h, uint64_t now_ms, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return MXF_ENOMEM;
	const struct config_group *g = &cfg->groups[p->group];
	const char *type = config_rtype_name(g->type);

	fprintf(f, "group %s (%s, failback %s): %s\n", g->id, type,
		g->failback == CONFIG_FAILBACK_MANUAL ? "manual" : "auto",
		failover_verdict_name(p->verdict));
	fprintf(f, "  %s\n", p->why);
	for (size_t i = 0; i < g->nservers; i++) {
		char sw[FAILOVER_DETAIL_MAX];
		size_t s = g->servers[i];
		fo_server_why(cfg, h, s, now_ms, sw, sizeof(sw));
		fprintf(f, "  server %s%s\n", sw,
			(long)s == p->current ? " [current]"
			: (long)s == p->wanted ? " [wanted]" : "");
	}
	for (size_t z = 0; z < p->nzones; z++) {
		const struct failover_zone_plan *zp = &p->zones[z];
		if (zp->read_failed)
			fprintf(f, "  zone %s: not acted on: DNS read failed: %s\n", zp->name,
				zp->error ? zp->error : "?");
		else if (zp->nchanges)
			fprintf(f, "  zone %s: %zu change%s in one update\n", zp->name, zp->nchanges,
				zp->nchanges == 1 ? "" : "s");
		else
			fprintf(f, "  zone %s: no change needed\n", zp->name);
		for (size_t r = 0; r < zp->nrecs; r++) {
			const struct failover_record_plan *rp = &zp->recs[r];
			switch (rp->verdict) {
			case FAILOVER_R_CHANGE:
				fprintf(f, "    change %s %s ", rp->owner, type);
				fo_put_values(f, rp->old_values, rp->nold);
				fprintf(f, " -> ");
				fo_put_values(f, rp->new_values, rp->nnew);
				if (rp->ttl >= 0)
					fprintf(f, " (ttl %lld)", (long long)rp->ttl);
				fprintf(f, "\n");
				break;
			case FAILOVER_R_KEEP:
				fprintf(f, "    keep   %s %s ", rp->owner, type);
				fo_put_values(f, rp->old_values, rp->nold);
				fprintf(f, "\n");
				break;
			case FAILOVER_R_ABSENT:
				fprintf(f, "    absent %s %s: does not exist, never created\n",
					rp->owner, type);
				break;
			case FAILOVER_R_HAND_CHANGED:
				fprintf(f, "    hand   %s %s ", rp->owner, type);
				fo_put_values(f, rp->old_values, rp->nold);
				fprintf(f, ": not a server of the group (changed by hand), "
					   "left alone\n");
				break;
			case FAILOVER_R_NO_VALUE:
				fprintf(f, "    novalue %s %s: server %s has no %s value, left alone\n",
					rp->owner, type, cfg->servers[p->wanted].id, type);
				break;
			case FAILOVER_R_NOT_READ:
				break;
			}
		}
	}
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return MXF_ENOMEM;
	}
	*out = buf;
	return 0;
}
