/*
 * failover.c -- the failover memory and what changes it: the events (names,
 * the list, those health changes make), witness verdicts, the zones'
 * backoff and read flags, the intent of an update.  The commit of a plan
 * is failover_commit.c, the plan itself failover_plan.c, the view of DNS
 * failover_dns.c; see failover.h for the rules.  No clocks, no I/O, no
 * logging.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failover.h"
#include "failover_impl.h"
#include "mxf.h"
#include "value.h"

/* ---- names ----------------------------------------------------------- */

/*
 * Each table lists the names in the order of its enum (failover.h); the
 * assertions below keep the counts in step when a value is added.
 */
static const char *const failover_event_names[] = {
	"server down", "server up", "switched", "switched back", "switch failed",
	"all down", "isolated", "isolation over", "changed by hand", "record missing",
	"switch completed", "audit finding", "audit clear", "quorum lost", "quorum back",
};

/* The same with '_' for ' ', for JSON and webhooks. */
static const char *const failover_event_ids[] = {
	"server_down", "server_up", "switched", "switched_back", "switch_failed",
	"all_down", "isolated", "isolation_over", "changed_by_hand", "record_missing",
	"switch_completed", "audit_finding", "audit_clear", "quorum_lost", "quorum_back",
};

static const char *const failover_verdict_names[] = {
	"no change", "change", "held down", "all down", "isolated", "waiting",
};

static const char *const failover_rec_verdict_names[] = {
	"keep", "change", "absent", "changed by hand", "not read", "no value",
};

static const char *const failover_rec_status_names[] = { "unread", "absent", "present", "failed" };

_Static_assert(MXF_ARRAY_SIZE(failover_event_names) == FAILOVER_EV_QUORUM_BACK + 1 &&
		       MXF_ARRAY_SIZE(failover_event_ids) == FAILOVER_EV_QUORUM_BACK + 1,
	       "one name and one id per event type");
_Static_assert(MXF_ARRAY_SIZE(failover_verdict_names) == FAILOVER_WAITING + 1 &&
		       MXF_ARRAY_SIZE(failover_rec_verdict_names) == FAILOVER_R_NO_VALUE + 1 &&
		       MXF_ARRAY_SIZE(failover_rec_status_names) == FAILOVER_REC_FAILED + 1,
	       "one name per verdict and per record status");

#define FO_NAME(table, v) ((unsigned)(v) < MXF_ARRAY_SIZE(table) && (table)[v] ? (table)[v] : "?")

const char *failover_event_name(enum failover_event_type t)
{
	return FO_NAME(failover_event_names, t);
}

bool failover_event_self_named(enum failover_event_type t)
{
	return t == FAILOVER_EV_SERVER_DOWN || t == FAILOVER_EV_SERVER_UP;
}

const char *failover_event_id(enum failover_event_type t)
{
	return FO_NAME(failover_event_ids, t);
}

/* Index of @s in @names[@n], or MXF_EINVAL. */
static int fo_lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++) {
		if (strcmp(names[i], s) == 0)
			return (int)i;
	}
	return MXF_EINVAL;
}

int failover_event_parse(const char *id, enum failover_event_type *out)
{
	int i = fo_lookup(failover_event_ids, MXF_ARRAY_SIZE(failover_event_ids), id);
	if (i < 0)
		return i;
	*out = (enum failover_event_type)i;
	return 0;
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
	int i = fo_lookup(failover_rec_status_names, MXF_ARRAY_SIZE(failover_rec_status_names), s);
	if (i < 0)
		return i;
	*out = (enum failover_rec_status)i;
	return 0;
}

/* ---- events ---------------------------------------------------------- */

void failover_events_clear(struct failover_events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->n; i++) {
		free(ev->v[i].zones);
		ev->v[i].zones = NULL;
	}
	ev->n = 0;
}

void failover_events_free(struct failover_events *ev)
{
	if (!ev)
		return;
	failover_events_clear(ev);
	free(ev->v);
	ev->v = NULL;
	ev->n = ev->cap = 0;
}

/* failover_impl.h */
int fo_event_add(struct failover_events *ev, enum failover_event_type type, uint64_t now_ms,
		 long group, const char *fmt, ...)
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
	/* A server's reason inside: cut on a character boundary. */
	value_utf8_vformat(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return 0;
}

struct failover_event *fo_last(struct failover_events *ev)
{
	return &ev->v[ev->n - 1];
}

int failover_events_push(struct failover_events *ev, const struct failover_event *e)
{
	size_t *zones = NULL;
	if (e->nzones) {
		zones = mxf_calloc(e->nzones, sizeof(*zones));
		if (!zones)
			return MXF_ENOMEM;
		memcpy(zones, e->zones, e->nzones * sizeof(*zones));
	}
	if (fo_event_add(ev, e->type, e->at_ms, e->group, "%s", "")) {
		free(zones);
		return MXF_ENOMEM;
	}
	*fo_last(ev) = *e;
	fo_last(ev)->zones = zones;
	return 0;
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
	fo->groups = mxf_calloc(cfg->ngroups, sizeof(*fo->groups));
	if (!fo->groups)
		goto fail;
	for (size_t i = 0; i < cfg->ngroups; i++) {
		struct failover_group_mem *m = &fo->groups[i];
		const struct config_group *g = &cfg->groups[i];
		m->active = -1;
		m->nzones = g->nzones;
		m->nrecords = g->nrecords;
		m->zones = mxf_calloc(g->nzones, sizeof(*m->zones));
		size_t nflags = g->nzones * g->nrecords;
		m->hand_changed = mxf_calloc(nflags, sizeof(bool));
		m->missing = mxf_calloc(nflags, sizeof(bool));
		m->written = mxf_calloc(nflags, sizeof(*m->written));
		if (!m->zones || !m->hand_changed || !m->missing || !m->written)
			goto fail;
		for (size_t z = 0; z < g->nzones; z++)
			m->zones[z].intent = -1;
		for (size_t k = 0; k < nflags; k++)
			m->written[k] = -1;
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
		free(fo->groups[i].missing);
		free(fo->groups[i].written);
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

/* failover_impl.h */
void fo_zone_backoff(struct failover_zone_mem *zm, const struct config *cfg, int status,
		     uint64_t tried_ms)
{
	if (status == 0 || status == FAILOVER_ZONE_ALREADY) {
		zm->failures = 0;
		zm->next_ms = 0;
	} else if (status < 0) {
		uint64_t wait = cfg->general.interval_ms;
		zm->failures++;
		for (unsigned i = 1; i < zm->failures && wait < FAILOVER_BACKOFF_MAX_MS; i++)
			wait *= 2;
		if (wait > FAILOVER_BACKOFF_MAX_MS)
			wait = FAILOVER_BACKOFF_MAX_MS;
		zm->next_ms = tried_ms + wait;
	}
}

int failover_zone_read(struct failover *fo, size_t group, size_t zone, bool failed)
{
	struct failover_zone_mem *zm = fo_zone(fo, group, zone);
	if (!zm || zm->read_bad == failed)
		return 0;
	zm->read_bad = failed;
	return failed ? 1 : -1;
}

/* ---- the active server ----------------------------------------------- */

long failover_active(const struct failover *fo, const struct config *cfg, size_t group,
		     const struct failover_plan *p)
{
	if (!cfg || group >= cfg->ngroups)
		return -1;
	const struct config_group *g = &cfg->groups[group];
	long cand[3] = { -1, -1, -1 };
	if (p && p->group == group) {
		cand[0] = p->wanted;
		cand[1] = p->current;
	}
	if (fo && group < fo->ngroups)
		cand[2] = fo->groups[group].active;
	for (size_t i = 0; i < MXF_ARRAY_SIZE(cand); i++) {
		if (cand[i] >= 0 && (size_t)cand[i] < cfg->nservers)
			return cand[i];
	}
	return g->nservers && g->servers[0] < cfg->nservers ? (long)g->servers[0] : -1;
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

/* ---- intent ---------------------------------------------------------- */

int failover_intent(struct failover *fo, const struct failover_plan *p, const bool *sends)
{
	if (!fo || !p || p->group >= fo->ngroups || p->wanted < 0)
		return MXF_EINVAL;
	struct failover_group_mem *m = &fo->groups[p->group];
	if (p->nzones != m->nzones || (p->nzones && p->zones[0].nrecs != m->nrecords))
		return MXF_EINVAL;
	int changed = 0;
	for (size_t z = 0; z < p->nzones; z++) {
		const struct failover_zone_plan *zp = &p->zones[z];
		if (!zp->nchanges || (sends && !sends[z]))
			continue;
		/* The values the update replaces were ours: keep them ours,
		 * whichever of the two the zone holds after a crash. */
		for (size_t r = 0; r < zp->nrecs; r++) {
			const struct failover_record_plan *rp = &zp->recs[r];
			long *w = &m->written[z * m->nrecords + r];
			if (rp->verdict != FAILOVER_R_CHANGE || *w == rp->points_to)
				continue;
			*w = rp->points_to;
			changed = 1;
		}
		if (m->zones[z].intent != p->wanted) {
			m->zones[z].intent = p->wanted;
			changed = 1;
		}
	}
	return changed;
}
