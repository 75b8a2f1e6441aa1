/*
 * round.c -- one round: checks -> health -> reads -> plans -> updates ->
 * commit, as a chain of callbacks on the daemon's loop; see round.h.
 *
 * The decisions are made by the pure modules (health.c, failover.c,
 * round_rules.c); this file only moves data between them and the network,
 * logs each change once, has round_save.c keep the state file and
 * round_witness.c note the witnesses' results and say them once per streak.
 */
#include "round.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "clock.h"
#include "dns_apply.h"
#include "dns_update.h"
#include "dns_view.h"
#include "failover.h"
#include "health.h"
#include "log.h"
#include "mxf.h"
#include "pins.h"
#include "round_quorum.h"
#include "round_rules.h"
#include "round_save.h"
#include "round_zones.h"
#include "round_verify.h"
#include "round_witness.h"

struct check_slot {
	struct round *r;
	size_t server; /* SIZE_MAX for a witness */
	size_t check;
	bool done;
	struct check_result res;
};

/* One record being read; what it read stays for the update's prerequisite. */
struct read_slot {
	struct round *r;
	size_t group, zone, rec;
	ldns_rdf *owner; /* the record's absolute owner while its query is out, or NULL */
};

struct round {
	struct round_env env;
	uint64_t started_ms, now_ms;
	struct check_slot *slots;
	size_t nslots, pending;
	struct read_slot *reads;
	size_t nreads, reads_pending;
	struct failover_dns **dns;    /* [ngroups]; the verify memory's when kept */
	struct round_verify *vf;      /* NULL: read every record, views our own */
	struct failover_plan **plans; /* [ngroups] */
	struct dns_apply_item *items;
	struct round_ref *refs;
	size_t nitems;
	struct failover_events ev;
	struct round_summary sum;
	bool changed; /* a server's effective state changed (round_pace.h) */
};

/* Log the health changes queued since the last drain; collect events. */
static void
round_drain_health(struct round *r)
{
	const struct config *cfg = r->env.cfg;
	struct health_change c;

	while (health_next_change(r->env.st->health, &c)) {
		const struct config_server *s = &cfg->servers[c.server];

		if (c.kind == HEALTH_CHANGE_CHECK) {
			log_info("server %s: check %s: %s -> %s (%s)", s->id, s->checks[c.check],
				 health_state_name(c.from), health_state_name(c.to), c.reason);
			continue;
		}
		r->changed = r->changed || c.from != c.to;
		if (c.from != c.to || c.kind == HEALTH_CHANGE_PIN)
			log_info("server %s: %s -> %s%s%s (%s)", s->id, health_state_name(c.from),
				 health_state_name(c.to),
				 c.pin != HEALTH_PIN_NONE ? ", pinned " : "",
				 c.pin != HEALTH_PIN_NONE ? health_pin_name(c.pin) : "", c.reason);
		if (failover_event_from_health(cfg, &c, &r->ev) < 0)
			log_err("out of memory recording an event");
	}
}

static void round_reads_start(struct round *r);
static void round_quorum_done(void *arg);
static void round_act(struct round *r);
static void round_finish(struct round *r);

void
round_free(struct round *r)
{
	if (r == NULL)
		return;
	for (size_t g = 0; r->vf == NULL && r->dns != NULL && g < r->env.cfg->ngroups; g++)
		failover_dns_free(r->dns[g]);
	if (r->vf == NULL)
		free(r->dns);
	free(r->slots);
	for (size_t i = 0; r->reads != NULL && i < r->nreads; i++) {
		ldns_rdf_deep_free(r->reads[i].owner);
	}
	free(r->reads);
	for (size_t g = 0; r->plans != NULL && g < r->env.cfg->ngroups; g++)
		failover_plan_free(r->plans[g]);
	free(r->plans);
	for (size_t i = 0; i < r->nitems; i++)
		dns_apply_item_clear(&r->items[i]);
	free(r->items);
	free(r->refs);
	failover_events_free(&r->ev);
	free(r);
}

/* Bring health's pins in line with the pins file; an unreadable file keeps
 * the pins in force and is said once, and once again when it reads fine. */
static void
round_apply_pins(struct round *r)
{
	struct pins *pins = NULL;
	char why[512] = "";

	if (pins_load(r->env.cfg, &pins, why, sizeof(why)) != 0) {
		if (!*r->env.pins_warned)
			log_err("%s; keeping the pins in force until it can be read", why);
		*r->env.pins_warned = true;
		return;
	}
	if (*r->env.pins_warned)
		log_info("%s is readable again", pins->path);
	*r->env.pins_warned = false;
	pins_apply(pins, r->env.st->health, r->now_ms);
	pins_free(pins);
}

/*
 * All checks are in: judge the witnesses, feed health, read DNS.  The
 * witnesses come first because health takes the round differently when
 * every witness failed (health_feed_isolated: failures do not count).
 */
static void
round_checks_done(struct round *r)
{
	const struct config *cfg = r->env.cfg;
	size_t k = 0, nwit = 0, wit_failed = 0;
	enum failover_witness wit;

	r->now_ms = clock_wall_ms();
	health_expire_pins(r->env.st->health, r->now_ms);
	round_apply_pins(r);
	for (size_t s = 0; s < cfg->nservers; s++)
		k += cfg->servers[s].nchecks;
	for (; k < r->nslots; k++, nwit++)
		wit_failed +=
			round_witness_note(r->env.st, cfg, nwit, &r->slots[k].res, r->now_ms);
	wit = round_rules_witness(nwit, wit_failed);
	k = 0;
	for (size_t s = 0; s < cfg->nservers; s++) {
		size_t n = cfg->servers[s].nchecks;
		struct health_result *res = calloc(n + 1, sizeof(*res));
		int fed;

		if (res == NULL) {
			log_err("out of memory");
			k += n;
			continue;
		}
		for (size_t c = 0; c < n; c++, k++) {
			res[c].outcome = round_rules_outcome(r->slots[k].res.state);
			res[c].reason = r->slots[k].res.reason;
			health_note_facts(r->env.st->health, s, c, r->slots[k].res.elapsed_ms,
					  r->slots[k].res.cert_not_after);
			if (res[c].outcome == HEALTH_FAIL)
				r->sum.any_check_failed = true;
			log_debug("server %s: %s: %s in %llu ms: %s", cfg->servers[s].id,
				  cfg->servers[s].checks[c],
				  check_state_name(r->slots[k].res.state),
				  (unsigned long long)r->slots[k].res.elapsed_ms,
				  r->slots[k].res.reason);
		}
		fed = wit == FAILOVER_WITNESS_ISOLATED
			      ? health_feed_isolated(r->env.st->health, s, res, n, r->now_ms)
			      : health_feed(r->env.st->health, s, res, n, r->now_ms);
		if (fed < 0)
			log_err("server %s: cannot record the round", cfg->servers[s].id);
		free(res);
	}
	round_drain_health(r);
	for (size_t s = 0; s < cfg->nservers; s++)
		state_history_note(r->env.st, s,
				   state_history_judge(r->env.st->health, s, r->now_ms), r->now_ms);
	failover_set_witness(r->env.st->failover, wit, r->now_ms, &r->ev);
	if (r->env.quorum != NULL) {
		round_quorum_start(r->env.quorum, r->env.ops, r->env.st->health,
				   wit == FAILOVER_WITNESS_ISOLATED, r->now_ms, round_quorum_done, r);
		return;
	}
	(r->env.pace_only && !r->changed ? round_finish : round_reads_start)(r);
}

/* The views are read and the agreement decided: a change of it is a change
 * of state for the pace, as a server's own. */
static void
round_quorum_done(void *arg)
{
	struct round *r = arg;

	if (round_quorum_events(r->env.quorum, r->now_ms, &r->ev) < 0)
		log_err("out of memory");
	if (round_quorum_changed(r->env.quorum))
		r->changed = true;
	(r->env.pace_only && !r->changed ? round_finish : round_reads_start)(r);
}

static void
round_check_cb(const struct check_result *res, void *arg)
{
	struct check_slot *slot = arg;
	struct round *r = slot->r;

	slot->res = *res;
	slot->done = true;
	if (--r->pending == 0)
		round_checks_done(r);
}

static ldns_rr_type
round_rr_type(enum config_rtype t)
{
	switch (t) {
	case CONFIG_RTYPE_A: return LDNS_RR_TYPE_A;
	case CONFIG_RTYPE_AAAA: return LDNS_RR_TYPE_AAAA;
	case CONFIG_RTYPE_MX: return LDNS_RR_TYPE_MX;
	case CONFIG_RTYPE_CNAME: break;
	}
	return LDNS_RR_TYPE_CNAME;
}

/* The read of record @rec of zone @z of group @g (reads are in that order). */
static struct read_slot *
round_read_slot(struct round *r, size_t g, size_t z, size_t rec)
{
	size_t k = 0;

	for (size_t i = 0; i < g; i++)
		k += r->env.cfg->groups[i].nzones * r->env.cfg->groups[i].nrecords;
	return &r->reads[k + z * r->env.cfg->groups[g].nrecords + rec];
}

/* One read is in: what the answer says (dns_view.h) into the group's view. */
static void
round_read_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct read_slot *rs = arg;
	struct round *r = rs->r;
	struct failover_dns *view = r->dns[rs->group];
	struct dns_view dv = {0};

	(void)rcode; /* the view reads it from the reply */
	if (status == 0 &&
	    dns_view_answer(reply, rs->owner, round_rr_type(r->env.cfg->groups[rs->group].type),
			    &dv) != 0) {
		status = MXF_ENOMEM;
		msg = "out of memory";
	}
	if (status != 0) {
		failover_dns_set(view, rs->zone, rs->rec, FAILOVER_REC_FAILED, NULL, 0, -1, msg);
		r->sum.dns_failed = true;
		round_verify_dirty(r->vf, rs->group, rs->zone);
	} else if (dv.verdict == DNS_VIEW_RCODE || dv.verdict == DNS_VIEW_NOTAUTH) {
		char why[DNS_VIEW_MSG + 64];

		snprintf(why, sizeof(why), "%s: %s", dns_ops_server(r->env.ops), dv.msg);
		failover_dns_set(view, rs->zone, rs->rec, FAILOVER_REC_FAILED, NULL, 0, -1, why);
		r->sum.dns_failed = true;
		round_verify_dirty(r->vf, rs->group, rs->zone);
	} else if (dv.verdict == DNS_VIEW_PRESENT) {
		failover_dns_set(view, rs->zone, rs->rec, FAILOVER_REC_PRESENT,
				 (const char *const *)dv.values, dv.nvalues, dv.ttl, NULL);
	} else {
		failover_dns_set(view, rs->zone, rs->rec, FAILOVER_REC_ABSENT, NULL, 0, -1, NULL);
	}
	dns_view_clear(&dv);
	/* The view holds what was read; an update's prerequisite is built
	 * from it (round_item), so no reply's RRset is kept for the rest of
	 * the round: 50,000 of them were most of a first round's memory. */
	ldns_rdf_deep_free(rs->owner);
	rs->owner = NULL;
	if (--r->reads_pending == 0)
		round_act(r);
}

/* Read every record of zone @z of group @g (round_verify_start's call). */
static void
round_read_zone(void *arg, size_t g, size_t z)
{
	struct round *r = arg;
	const struct config_group *gr = &r->env.cfg->groups[g];

	for (size_t rec = 0; rec < gr->nrecords; rec++) {
		struct read_slot *rs = round_read_slot(r, g, z, rec);
		char *name = failover_owner_name(gr->zones[z], gr->records[rec]);

		rs->owner = name != NULL ? ldns_dname_new_frm_str(name) : NULL;
		free(name);
		if (rs->owner != NULL && dns_ops_read(r->env.ops, rs->owner, round_rr_type(gr->type),
						      round_read_cb, rs) == 0) {
			r->reads_pending++;
			continue;
		}
		failover_dns_set(r->dns[g], z, rec, FAILOVER_REC_FAILED, NULL, 0, -1,
				 "cannot start the query");
		r->sum.dns_failed = true;
		round_verify_dirty(r->vf, g, z);
	}
}

static void
round_reads_done(void *arg)
{
	struct round *r = arg;

	if (--r->reads_pending == 0)
		round_act(r);
}

/* Read what round_verify says is due (every record without its memory:
 * one-shot modes, out of memory); the rest is planned from the views. */
static void
round_reads_start(struct round *r)
{
	const struct config *cfg = r->env.cfg;
	size_t total = 0, k = 0;

	if (r->env.verify != NULL && round_verify_fit(r->env.verify, cfg) == 0)
		r->vf = *r->env.verify;
	for (size_t g = 0; g < cfg->ngroups; g++)
		total += cfg->groups[g].nzones * cfg->groups[g].nrecords;
	r->dns = r->vf != NULL ? r->vf->dns : calloc(cfg->ngroups, sizeof(*r->dns));
	r->plans = calloc(cfg->ngroups, sizeof(*r->plans));
	r->reads = calloc(total + 1, sizeof(*r->reads));
	if (r->dns == NULL || r->plans == NULL || r->reads == NULL) {
		log_err("out of memory");
		round_finish(r);
		return;
	}
	for (size_t g = 0; r->vf == NULL && g < cfg->ngroups; g++)
		if (failover_dns_new(cfg, g, &r->dns[g]) != 0) {
			log_err("out of memory");
			round_finish(r);
			return;
		}
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t z = 0; z < cfg->groups[g].nzones; z++)
			for (size_t rec = 0; rec < cfg->groups[g].nrecords; rec++)
				r->reads[k++] = (struct read_slot){r, g, z, rec, NULL};
	r->nreads = k;
	r->reads_pending = 1; /* held while starting; round_reads_done drops it */
	round_verify_start(r->vf, cfg, r->env.ops, r->now_ms, round_read_zone, round_reads_done, r);
}

static void round_apply_done(void *arg);

/* Mark every item of the round failed (nothing of it reached DNS). */
static void
round_fail_items(struct round *r, int status, const char *msg)
{
	for (size_t i = 0; i < r->nitems; i++) {
		r->items[i].status = status;
		snprintf(r->items[i].msg, sizeof(r->items[i].msg), "%s", msg);
	}
}

/* Whether zone @z of group @g has changes to send this round (a zone whose
 * update failed waits out its backoff, failover_zone_due). */
static bool
round_zone_sends(const struct round *r, size_t g, size_t z)
{
	return r->plans[g]->zones[z].nchanges > 0 &&
	       failover_zone_due(r->env.st->failover, g, z, r->now_ms);
}

/*
 * The update of one record the plan changes: its new RRset from the plan's
 * values, and as the compare-and-swap prerequisite the RRset of the view:
 * as read this round, or, not read, as last seen and written.  What cannot
 * be built stays NULL.
 */
static void
round_item(struct round *r, const struct round_ref *ref, const struct failover_record_plan *rp,
	   struct dns_apply_item *it)
{
	const struct config_group *gr = &r->env.cfg->groups[ref->group];
	uint32_t ttl = rp->ttl >= 0 ? (uint32_t)rp->ttl : DNS_UPDATE_DEFAULT_TTL;
	char err[256];

	it->type = round_rr_type(gr->type);
	/* As read this round, or not read: as last seen and written. */
	round_verify_prereq(&r->dns[ref->group]->zones[ref->zone].recs[ref->rec],
			    gr->zones[ref->zone], gr->records[ref->rec], it->type, &it->owner,
			    &it->expected);
	it->zone = ldns_dname_new_frm_str(gr->zones[ref->zone]);
	it->ttl = rp->ttl;
	if (it->owner != NULL &&
	    dns_update_rrs_from_text(it->owner, it->type, ttl, (const char *const *)rp->new_values,
				     rp->nnew, &it->new_rrs, err, sizeof(err)) != 0)
		it->new_rrs = NULL;
	it->expect = DNS_APPLY_EXPECT_GIVEN;
	it->rcode = -1;
}

/*
 * Before any update goes out: mark each zone about to be sent with its
 * target (failover_intent) and, when that is new, save the state file once
 * now, so that a crash after named applied an update but before the
 * round's save can neither strand the zone nor hide the change.
 */
static void
round_save_intent(struct round *r)
{
	const struct config *cfg = r->env.cfg;
	bool save = false;
	char err[512] = "";

	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct failover_plan *p = r->plans[g];
		bool *sends;

		if (p == NULL || p->wanted < 0 || p->nchanges == 0)
			continue;
		sends = calloc(p->nzones + 1, sizeof(*sends));
		if (sends == NULL) {
			log_err("out of memory");
			continue;
		}
		for (size_t z = 0; z < p->nzones; z++)
			sends[z] = round_zone_sends(r, g, z);
		save = failover_intent(r->env.st->failover, p, sends) > 0 || save;
		free(sends);
	}
	if (!save)
		return;
	if (round_save_state(&r->env, err, sizeof(err)) != 0)
		log_err("%s (before sending the updates)", err);
}

/* Reads are in: plan every group, then send the updates. */
static void
round_act(struct round *r)
{
	const struct config *cfg = r->env.cfg;
	size_t nitems = 0, k = 0;
	int rc;

	for (size_t g = 0; g < cfg->ngroups; g++) {
		struct failover_plan *p = NULL;

		round_verify_log_reads(&r->env, r->dns[g], g);
		state_update_seen(r->env.st, r->dns[g]);
		if (failover_plan_with(r->env.st->failover, cfg, g, r->env.st->health,
				       r->env.quorum != NULL ? round_quorum_states(r->env.quorum)
							     : NULL,
				       r->dns[g], r->now_ms, &p) != 0) {
			log_err("group %s: cannot plan", cfg->groups[g].id);
			continue;
		}
		r->plans[g] = p;
		if (p->verdict == FAILOVER_ALL_DOWN)
			r->sum.all_down = true;
		if (r->env.mode == DAEMON_PLAN)
			continue;
		for (size_t z = 0; z < p->nzones; z++)
			if (round_zone_sends(r, g, z))
				nitems += p->zones[z].nchanges;
	}
	if (r->env.mode == DAEMON_PLAN || nitems == 0) {
		round_apply_done(r);
		return;
	}
	r->items = calloc(nitems, sizeof(*r->items));
	r->refs = calloc(nitems, sizeof(*r->refs));
	if (r->items == NULL || r->refs == NULL) {
		log_err("out of memory");
		round_apply_done(r);
		return;
	}
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct failover_plan *p = r->plans[g];

		if (p == NULL)
			continue;
		for (size_t z = 0; z < p->nzones; z++) {
			const struct failover_zone_plan *zp = &p->zones[z];

			if (!round_zone_sends(r, g, z))
				continue;
			for (size_t i = 0; i < zp->nrecs; i++) {
				if (zp->recs[i].verdict != FAILOVER_R_CHANGE)
					continue;
				r->refs[k] = (struct round_ref){g, z, zp->recs[i].record, 0, false};
				round_item(r, &r->refs[k], &zp->recs[i], &r->items[k]);
				k++;
			}
		}
	}
	r->nitems = k;
	for (size_t i = 0; i < r->nitems; i++) {
		const struct dns_apply_item *it = &r->items[i];

		if (it->owner == NULL || it->zone == NULL || it->new_rrs == NULL ||
		    it->expected == NULL) {
			round_fail_items(r, MXF_ENOMEM,
					 "cannot build the update: nothing was sent");
			round_apply_done(r);
			return;
		}
	}
	round_save_intent(r);
	rc = dns_apply_start(r->env.ops, cfg, r->items, r->nitems, DNS_UPDATE_DEFAULT_TTL,
			     round_apply_done, r);
	if (rc != 0) {
		round_fail_items(r, rc, "cannot start the updates: nothing was sent");
		round_apply_done(r);
	}
}

/*
 * What the round did to each zone of group @g (round_rules_zone_status),
 * logged and counted, then committed to the failover memory: events, the
 * switch and each zone's backoff.
 */
static void
round_commit(struct round *r, size_t g)
{
	const struct failover_plan *p = r->plans[g];
	const struct config_group *gr = &r->env.cfg->groups[g];
	int *zs = calloc(p->nzones + 1, sizeof(*zs));
	uint64_t next = 0, tried;

	if (zs == NULL)
		return;
	round_rules_zone_status(p, r->refs, r->nitems, zs);
	for (size_t z = 0; z < p->nzones; z++) {
		uint64_t at = failover_zone_next_ms(r->env.st->failover, g, z);

		if (zs[z] == FAILOVER_ZONE_NOT_TRIED) {
			if (at > r->now_ms)
				log_info("group %s: zone %s: next try in %llu s", gr->id,
					 gr->zones[z],
					 (unsigned long long)((at - r->now_ms) / 1000));
			else
				log_info("group %s: zone %s: next try at once", gr->id,
					 gr->zones[z]);
		} else if (zs[z] == FAILOVER_ZONE_ALREADY && r->env.cfg->quorum.enabled) {
			log_info("group %s: zone %s: already changed when our update came "
				 "(another monitor's update)",
				 gr->id, gr->zones[z]);
		} else if (zs[z] == 0 || zs[z] == FAILOVER_ZONE_ALREADY) {
			if (p->zones[z].nchanges > 0)
				r->env.ctr->updates_ok++;
		} else {
			r->env.ctr->updates_failed++;
			r->sum.dns_failed = true;
		}
	}
	/* The backoff counts from now, not from the round's start: a failed
	 * update may have spent its whole DNS timeout already. */
	tried = clock_wall_ms();
	size_t n0 = r->ev.n;
	failover_commit(r->env.st->failover, r->env.cfg, p, zs, r->now_ms, tried, &r->ev, &next);
	for (size_t i = n0; r->env.quorum != NULL && i < r->ev.n; i++)
		if (r->ev.v[i].type == FAILOVER_EV_SWITCHED ||
		    r->ev.v[i].type == FAILOVER_EV_SWITCHED_BACK)
			round_quorum_note_switch(r->env.quorum, g, r->ev.v[i].to, r->now_ms);
	if (next > tried)
		log_debug("group %s: a failed zone is tried again in %llu s", gr->id,
			  (unsigned long long)((next - tried) / 1000));
	free(zs);
}

static void
round_apply_done(void *arg)
{
	struct round *r = arg;
	const struct config *cfg = r->env.cfg;

	for (size_t i = 0; i < r->nitems; i++) {
		r->refs[i].status = r->items[i].status;
		r->refs[i].already = r->items[i].already;
		/* Failed (a prerequisite that no longer held, a timeout): read it
		 * again next round; sent: the serial is ours now. */
		if (r->items[i].status != 0)
			round_verify_dirty(r->vf, r->refs[i].group, r->refs[i].zone);
		else
			round_verify_wrote(r->vf, r->refs[i].group, r->refs[i].zone);
	}
	round_zones_applied(cfg, r->dns, r->plans, r->refs, r->items, r->nitems);
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct failover_plan *p = r->plans[g];

		if (p == NULL)
			continue;
		if (r->env.mode == DAEMON_PLAN) {
			char *text = NULL;

			if (failover_plan_format(p, cfg, r->env.st->health, r->now_ms, &text) ==
			    0) {
				fputs(text, stdout);
				if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
					fputc('\n', stdout);
			}
			free(text);
			continue;
		}
		round_commit(r, g);
		if (r->nitems > 0) /* only the updates changed the views since round_act */
			state_update_seen(r->env.st, r->dns[g]);
	}
	round_finish(r);
}

/* Announce @e, with the records it moved when it is a switch. */
static void
round_announce(struct round *r, const struct failover_event *e)
{
	char **recs = NULL;
	size_t nrecs = 0;

	if (e->group >= 0 && r->plans != NULL && r->plans[e->group] != NULL &&
	    (e->type == FAILOVER_EV_SWITCHED || e->type == FAILOVER_EV_SWITCHED_BACK ||
	     e->type == FAILOVER_EV_SWITCH_COMPLETED))
		recs = round_zones_moved(r->env.cfg, r->plans, r->refs, r->items, r->nitems,
					 (size_t)e->group, &nrecs);
	announce_event(r->env.an, r->env.cfg, e, (const char *const *)recs, nrecs);
	for (size_t i = 0; recs != NULL && i < nrecs; i++)
		free(recs[i]);
	free(recs);
}

/* Announce and keep the round's events, write the state, work out the
 * exit code; then free the round and tell the daemon. */
static void
round_finish(struct round *r)
{
	const struct config *cfg = r->env.cfg;
	struct round_env env = r->env;
	char err[512] = "";
	uint64_t started;
	int code;

	/* `plan` changes nothing and reports no event: its text says it all. */
	if (env.mode != DAEMON_PLAN) {
		announce_active(
			env.an, cfg,
			failover_active(env.st->failover, cfg, 0,
					cfg->ngroups > 0 && r->plans != NULL ? r->plans[0] : NULL));
		for (size_t i = 0; i < r->ev.n; i++) {
			state_add_event(env.st, cfg, &r->ev.v[i]);
			round_announce(r, &r->ev.v[i]);
		}
		announce_reminders(env.an, cfg, env.st->health, r->now_ms);
	}
	for (size_t s = 0; s < cfg->nservers; s++)
		if (health_effective(env.st->health, s, r->now_ms) == HEALTH_DOWN)
			r->sum.any_down = true;
	if (env.quorum != NULL && env.mode != DAEMON_PLAN) {
		json_t *q = round_quorum_json(env.quorum, r->now_ms);

		if (q != NULL) {
			json_decref(env.st->quorum);
			env.st->quorum = q;
		}
	}
	bool unsaved = false;
	if (env.mode != DAEMON_PLAN) {
		unsaved = round_save_state(&env, err, sizeof(err)) != 0;
		round_note_save(&env, unsaved, err);
	}

	code = round_rules_exit_code(&r->sum);
	/* A state that cannot be kept is a fault of ours: never "all well". */
	if (unsaved && code == MXF_EXIT_OK)
		code = MXF_EXIT_DEGRADED;
	env.ctr->rounds++;
	env.ctr->last_round_ms = clock_wall_ms();
	env.ctr->round_ms = env.ctr->last_round_ms - r->started_ms;
	log_debug("round done in %llu ms, exit code %d",
		  (unsigned long long)(clock_wall_ms() - r->started_ms), code);
	started = r->started_ms;
	round_free(r);
	malloc_trim(0); /* a round's reads and replies go back to the system, not kept as RSS */
	env.done(env.arg, code, started);
}

struct round *
round_new(const struct round_env *env)
{
	const struct config *cfg = env->cfg;
	struct round *r = calloc(1, sizeof(*r));
	size_t n = cfg->general.nwitness;

	for (size_t s = 0; s < cfg->nservers; s++)
		n += cfg->servers[s].nchecks;
	if (r == NULL || (r->slots = calloc(n + 1, sizeof(*r->slots))) == NULL) {
		free(r);
		return NULL;
	}
	r->env = *env;
	r->nslots = n;
	r->started_ms = r->now_ms = clock_wall_ms();
	return r;
}

bool
round_checking(const struct round *r)
{
	return r->pending > 0;
}

void
round_run(struct round *r)
{
	const struct config *cfg = r->env.cfg;
	size_t k = 0;

	r->pending = 1; /* held while starting */
	for (size_t s = 0; s <= cfg->nservers; s++) {
		size_t nc = s < cfg->nservers ? cfg->servers[s].nchecks : cfg->general.nwitness;

		for (size_t c = 0; c < nc; c++, k++) {
			struct check_slot *slot = &r->slots[k];
			const char *url = s < cfg->nservers ? cfg->servers[s].checks[c]
							    : cfg->general.witness[c];
			char errbuf[256] = "";

			slot->r = r;
			slot->server = s < cfg->nservers ? s : SIZE_MAX;
			slot->check = c;
			r->pending++;
			if (check_engine_start(r->env.eng, url, cfg->general.timeout_ms,
					       round_check_cb, slot, errbuf, sizeof(errbuf)) != 0) {
				r->pending--;
				slot->done = true;
				slot->res.state = CHECK_STATE_DOWN;
				snprintf(slot->res.reason, sizeof(slot->res.reason),
					 "cannot run: %.200s", errbuf);
			}
		}
	}
	if (--r->pending == 0)
		round_checks_done(r);
}
