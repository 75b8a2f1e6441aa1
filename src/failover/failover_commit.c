/*
 * failover_commit.c -- the commit of a plan (failover_commit): the zones'
 * backoff, the events of a round (ALL_DOWN, CHANGED_BY_HAND,
 * RECORD_MISSING, SWITCHED and SWITCHED_BACK naming the zones moved,
 * SWITCH_COMPLETED, SWITCH_FAILED) and what the memory keeps of it
 * (active server, what was written, intents).  See failover.h for the
 * rules.  No clocks, no I/O, no logging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failover.h"
#include "failover_impl.h"
#include "mxf.h"

/* ---- commit ---------------------------------------------------------- */

/*
 * Records that must exist (their zone's zone_records_required) and do not:
 * one RECORD_MISSING event when a record goes missing, forgotten once it
 * exists again.  A zone that could not be read says nothing either way.
 */
static int fo_commit_missing(struct failover_group_mem *m, const struct config_group *g,
			     const struct failover_plan *p, uint64_t now_ms,
			     struct failover_events *ev)
{
	for (size_t z = 0; g->zone_records_required && z < p->nzones; z++) {
		const struct failover_zone_plan *zp = &p->zones[z];
		if (zp->read_failed || zp->zone >= g->nzones || !g->zone_records_required[zp->zone])
			continue;
		for (size_t r = 0; r < zp->nrecs; r++) {
			const struct failover_record_plan *rp = &zp->recs[r];
			bool *flag = &m->missing[z * m->nrecords + r];
			bool absent = rp->verdict == FAILOVER_R_ABSENT;
			if (absent && !*flag) {
				int e = fo_event_add(ev, FAILOVER_EV_RECORD_MISSING, now_ms, (long)p->group,
						     "%s %s does not exist in zone %s, where group %s "
						     "needs every record: it is not switched",
						     rp->owner, config_rtype_name(g->type), zp->name, g->id);
				if (e)
					return e;
				fo_last(ev)->zone = (long)z;
				fo_last(ev)->record = (long)r;
			}
			*flag = absent;
		}
	}
	return 0;
}

/* The zones one event reports moved, while a commit collects them. */
struct fo_cover {
	size_t *zones;            /* [plan nzones] */
	size_t n;
	long to;                  /* where they point now */
	bool retried;             /* some had failed before */
	bool resumed;             /* some were found moved under a saved intent */
	bool *unsaved;            /* [plan nzones] or NULL: zones found written
				     for the wanted server after a state save
				     was lost (zones_newer), named only by a
				     switch reported now */
	size_t nunsaved;
};

/* A switch is reported now: it names the unsaved zones too, in zone order. */
static void fo_cover_add_unsaved(struct fo_cover *cov, size_t nzones)
{
	if (!cov->nunsaved)
		return;
	for (size_t i = 0; i < cov->n; i++)
		cov->unsaved[cov->zones[i]] = true;
	cov->n = 0;
	for (size_t z = 0; z < nzones; z++)
		if (cov->unsaved[z])
			cov->zones[cov->n++] = z;
	cov->nunsaved = 0;
}

/* Hand the collected zones over to event @e (which then owns them). */
static void fo_cover_give(struct fo_cover *cov, struct failover_event *e)
{
	if (!cov->n)
		return;
	e->zones = cov->zones;
	e->nzones = cov->n;
	cov->zones = NULL;
	cov->n = 0;
}

/* CHANGED_BY_HAND for record @rp: where it points, and what was ours. */
static int fo_hand_event(struct failover_events *ev, const struct config *cfg,
			 const struct config_group *g, const struct failover_record_plan *rp,
			 uint64_t now_ms, long gi)
{
	const char *val = rp->nold ? rp->old_values[0] : "?";
	const char *more = rp->nold > 1 ? " ..." : "";
	if (g->type == CONFIG_RTYPE_MX && rp->points_to < 0) {
		/* The whole set: which order it is in is the point. */
		char set[256] = "";
		size_t len = 0;
		for (size_t i = 0; i < rp->nold && len < sizeof(set) - 1; i++)
			len += (size_t)snprintf(set + len, sizeof(set) - len, "%s%s",
						i ? ", " : "", rp->old_values[i]);
		return fo_event_add(ev, FAILOVER_EV_CHANGED_BY_HAND, now_ms, gi,
				    "%s MX is %s: not an MX set group %s writes (one server of "
				    "the group alone at the lowest preference, its other servers "
				    "after it in group order): changed by hand, left alone",
				    rp->owner, set[0] ? set : "?", g->id);
	}
	if (rp->points_to >= 0 && rp->written >= 0)
		return fo_event_add(ev, FAILOVER_EV_CHANGED_BY_HAND, now_ms, gi,
				    "%s %s is %s%s (%s), but mxfailover wrote %s there: "
				    "changed by hand, left alone",
				    rp->owner, config_rtype_name(g->type), val, more,
				    cfg->servers[rp->points_to].id, cfg->servers[rp->written].id);
	return fo_event_add(ev, FAILOVER_EV_CHANGED_BY_HAND, now_ms, gi,
			    "%s %s is %s%s, not a server of group %s: changed by hand, left alone",
			    rp->owner, config_rtype_name(g->type), val, more, g->id);
}

/*
 * One zone of a commit: what its records now hold of ours, its SWITCH_FAILED
 * flag and intent, and whether this round's event must name it (updated, or
 * found moved under a saved intent).  @return 0 or MXF_ENOMEM.
 */
static int fo_commit_zone(struct failover_group_mem *m, const struct config_group *g,
			  const struct failover_plan *p, size_t z, int st, bool cfg_quorum,
			  uint64_t now_ms, struct failover_events *ev, struct fo_cover *cov)
{
	const struct failover_zone_plan *zp = &p->zones[z];
	struct failover_zone_mem *zm = &m->zones[z];
	if (zp->read_failed)
		return 0;
	/* ALREADY: the records hold the wanted values, ours now, but without
	 * [quorum] it is the switch as if our update had made it. */
	bool already = zp->nchanges && st == FAILOVER_ZONE_ALREADY;
	if (already && !cfg_quorum)
		st = 0, already = false;
	bool found = false, unsaved = false, updated = zp->nchanges && st == 0;
	for (size_t r = 0; r < zp->nrecs; r++) {
		const struct failover_record_plan *rp = &zp->recs[r];
		long *w = &m->written[z * m->nrecords + r];
		if (rp->verdict != FAILOVER_R_KEEP && rp->verdict != FAILOVER_R_CHANGE)
			continue;
		/* Where a saved intent was moving it, but not where the memory
		 * says it was written: a run stopped between its update and
		 * its state save.  Reported now, even if it moves on again. */
		bool lost = zm->intent >= 0 && rp->points_to == zm->intent && *w != zm->intent;
		/* Written there by us, yet the group is remembered on another
		 * server, right after loading a zones file newer than the state
		 * file: the update is in the zones, the switch and its event
		 * were never saved.  Named by the switch this run reports. */
		unsaved = unsaved || (cov->unsaved && p->wanted >= 0 && m->active >= 0 &&
				      m->active != p->wanted && rp->verdict == FAILOVER_R_KEEP &&
				      rp->points_to == p->wanted && *w == p->wanted);
		found = found || lost;
		if (rp->verdict == FAILOVER_R_KEEP || lost)
			*w = rp->points_to;
		if (rp->verdict == FAILOVER_R_CHANGE && (updated || already))
			*w = p->wanted;
	}
	if (unsaved && !updated && !found) {
		cov->unsaved[z] = true;
		cov->nunsaved++;
	}
	if (updated || found) {
		cov->zones[cov->n++] = z;
		cov->retried = cov->retried || (updated && zm->failed);
		cov->resumed = cov->resumed || found;
		if (cov->to < 0)
			cov->to = zm->intent;
	}
	/* Converged: nothing left to change for a decided server, or done. */
	if (updated || already || (!zp->nchanges && p->wanted >= 0)) {
		zm->failed = false;
		zm->intent = -1;
		return 0;
	}
	if (found)
		zm->intent = -1;
	if (st < 0 && zp->nchanges && !zm->failed) {
		int e = fo_event_add(ev, FAILOVER_EV_SWITCH_FAILED, now_ms, (long)p->group,
				     "group %s: update of zone %s failed: %s", g->id, zp->name,
				     mxf_strerror(st));
		if (e)
			return e;
		fo_last(ev)->zone = (long)z;
		fo_last(ev)->to = p->wanted;
		zm->failed = true;
	}
	return 0;
}

/* SWITCH_COMPLETED: zones that moved this round without the group
 * switching now; their names (as many as fit) and why. */
static int fo_completed_event(struct failover_events *ev, const struct config *cfg,
			      const struct config_group *g, const struct failover_plan *p,
			      struct fo_cover *cov, uint64_t now_ms, long gi)
{
	char names[FAILOVER_DETAIL_MAX / 2] = "";
	size_t len = 0;
	for (size_t i = 0; i < cov->n && len < sizeof(names); i++) {
		int w = snprintf(names + len, sizeof(names) - len, "%s%s", i ? " " : "",
				 g->zones[cov->zones[i]]);
		len = w < 0 ? sizeof(names) : len + (size_t)w;
	}
	if (len >= sizeof(names) && sizeof(names) > 4)
		memcpy(names + sizeof(names) - 4, "...", 4);
	const char *why = cov->resumed ? "found switched: a run stopped before saving its state"
			  : cov->retried ? "update retried after failing"
					 : "completing the switch";
	const char *to = cov->to >= 0 && (size_t)cov->to < cfg->nservers ? cfg->servers[cov->to].id
									  : "?";
	int e = fo_event_add(ev, FAILOVER_EV_SWITCH_COMPLETED, now_ms, gi,
			     "group %s: %zu zone%s now point%s at %s: %s (%s; %s)", g->id, cov->n,
			     cov->n == 1 ? "" : "s", cov->n == 1 ? "s" : "", to, names, why, p->why);
	if (e)
		return e;
	fo_last(ev)->to = cov->to;
	fo_cover_give(cov, fo_last(ev));
	return 0;
}

int failover_commit(struct failover *fo, const struct config *cfg, const struct failover_plan *p,
		    const int *zone_status, uint64_t now_ms, uint64_t tried_ms,
		    struct failover_events *ev, uint64_t *next_ms)
{
	if (next_ms)
		*next_ms = 0;
	if (!fo || !cfg || !p || !ev || p->group >= fo->ngroups || p->group >= cfg->ngroups)
		return MXF_EINVAL;
	struct failover_group_mem *m = &fo->groups[p->group];
	const struct config_group *g = &cfg->groups[p->group];
	if (p->nzones != m->nzones || (p->nzones && p->zones[0].nrecs != m->nrecords))
		return MXF_EINVAL;
	size_t n0 = ev->n;
	long gi = (long)p->group;
	int e;

	/* The backoff of every zone, whatever the verdict. */
	for (size_t z = 0; z < p->nzones; z++) {
		fo_zone_backoff(&m->zones[z], cfg, zone_status ? zone_status[z] : 0, tried_ms);
		uint64_t nz = m->zones[z].next_ms;
		if (next_ms && nz && (!*next_ms || nz < *next_ms))
			*next_ms = nz;
	}

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
				e = fo_hand_event(ev, cfg, g, rp, now_ms, gi);
				if (e)
					return e;
				fo_last(ev)->zone = (long)z;
				fo_last(ev)->record = (long)r;
			}
			*flag = hand;
		}
	}

	e = fo_commit_missing(m, g, p, now_ms, ev);
	if (e)
		return e;

	/* Zone updates, and what is ours now. */
	struct fo_cover cov = { .to = p->wanted };
	cov.zones = mxf_calloc(p->nzones, sizeof(*cov.zones));
	if (m->zones_newer)
		cov.unsaved = mxf_calloc(p->nzones, sizeof(*cov.unsaved));
	if (!cov.zones || (m->zones_newer && !cov.unsaved)) {
		free(cov.zones);
		free(cov.unsaved);
		return MXF_ENOMEM;
	}
	/*
	 * [quorum]: which monitor reports the switch.  One UPDATE per zone gets
	 * through, so the one that moved the plan's first zone with changes
	 * (the lead) is unique: it says "switched"; the others, racing in the
	 * same round, adopt silently.  A monitor that finds zones moved in an
	 * earlier round (someone already reported the switch) reports the
	 * zones it completes as SWITCH_COMPLETED.
	 */
	bool any_ok = false, quorum = cfg->quorum.enabled, elsewhere = p->nchanges > 0;
	bool found_earlier = false, lead_ok = false, lead_seen = false;
	for (size_t z = 0; z < p->nzones; z++) {
		const struct failover_zone_plan *zp = &p->zones[z];
		int st = zone_status ? zone_status[z] : 0;
		e = fo_commit_zone(m, g, p, z, st, quorum, now_ms, ev, &cov);
		if (e)
			goto out;
		if (st == FAILOVER_ZONE_ALREADY && !quorum)
			st = 0;
		any_ok = any_ok || (zp->nchanges && st == 0);
		if (zp->nchanges && st != FAILOVER_ZONE_ALREADY)
			elsewhere = false;
		if (zp->nchanges && !lead_seen) {
			lead_seen = true;
			lead_ok = st == 0;
		}
		for (size_t r = 0; quorum && !zp->nchanges && !zp->read_failed && r < zp->nrecs; r++)
			found_earlier = found_earlier || (zp->recs[r].verdict == FAILOVER_R_KEEP &&
							  zp->recs[r].points_to == p->wanted &&
							  p->wanted != m->active);
	}

	/* The switch itself. */
	bool any_read_failed = false, covered = false;
	for (size_t z = 0; z < p->nzones; z++)
		any_read_failed = any_read_failed || p->zones[z].read_failed;
	if (p->wanted >= 0 && p->wanted != m->active) {
		bool there = (p->nchanges == 0 && !any_read_failed) || elsewhere;
		if (any_ok || there) {
			long from = m->active >= 0 ? m->active : p->current;
			if (from >= 0 && from != p->wanted && quorum &&
			    (!any_ok || !lead_ok || found_earlier)) {
				/* Another monitor's switch: its event.  Zones this
				 * one moved after an earlier round's switch are a
				 * SWITCH_COMPLETED below; in a race of the same
				 * round, nothing. */
				m->last_switch_ms = now_ms;
				if (!found_earlier)
					cov.n = 0;
			} else if (from >= 0 && from != p->wanted) {
				bool back = g->nservers && (long)g->servers[0] == p->wanted;
				char sw[160];
				const char *why = p->why;

				/* The plan's "switch A -> B: why" is said once: the
				 * event names A -> B itself. */
				snprintf(sw, sizeof(sw), "switch %s -> %s: ", cfg->servers[from].id,
					 cfg->servers[p->wanted].id);
				if (strncmp(why, sw, strlen(sw)) == 0)
					why += strlen(sw);
				e = fo_event_add(ev, back ? FAILOVER_EV_SWITCHED_BACK : FAILOVER_EV_SWITCHED,
						 now_ms, gi, "group %s: %s -> %s (%s)", g->id,
						 cfg->servers[from].id, cfg->servers[p->wanted].id,
						 why);
				if (e)
					goto out;
				fo_last(ev)->from = from;
				fo_last(ev)->to = p->wanted;
				fo_cover_add_unsaved(&cov, p->nzones);
				fo_cover_give(&cov, fo_last(ev));
				covered = true;
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
	/* Zones moved without the group switching now: one event for all. */
	if (!covered && cov.n) {
		e = fo_completed_event(ev, cfg, g, p, &cov, now_ms, gi);
		if (e)
			goto out;
	}
	/*
	 * What a lost state save held is told once: by the switch reported
	 * now, or left to another monitor's (the group is remembered on the
	 * wanted server either way); or there was nothing of it to tell.
	 * Else (an unreadable zone, updates that failed: no switch yet) it
	 * waits for the round that reports the switch.
	 */
	if (p->wanted >= 0 && (m->active == p->wanted || (!cov.nunsaved && !any_read_failed)))
		m->zones_newer = false;
	e = (int)(ev->n - n0);
out:
	free(cov.zones);
	free(cov.unsaved);
	return e;
}
