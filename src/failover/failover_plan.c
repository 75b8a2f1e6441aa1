/*
 * failover_plan.c -- the decision for one group (failover_plan) and the
 * `plan` command's explanation of it (failover_plan_format); see
 * failover.h for the rules.  No clocks, no I/O, no logging.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "failover.h"
#include "failover_dns.h"
#include "mxf.h"

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
			failover_dns_strv_free(zp->recs[r].old_values, zp->recs[r].nold);
			failover_dns_strv_free(zp->recs[r].new_values, zp->recs[r].nnew);
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

/* The server most PRESENT records of ours point at; ties go to the
 * preferred one. */
static long fo_current_from_dns(const struct config_group *g, const struct failover_plan *p)
{
	long best = -1;
	size_t best_n = 0;
	for (size_t i = 0; i < g->nservers; i++) {
		size_t n = 0;
		for (size_t z = 0; z < p->nzones; z++) {
			for (size_t r = 0; r < p->zones[z].nrecs; r++) {
				const struct failover_record_plan *rp = &p->zones[z].recs[r];
				n += rp->points_to == (long)g->servers[i] &&
				     rp->verdict != FAILOVER_R_HAND_CHANGED;
			}
		}
		if (n > best_n) {
			best_n = n;
			best = (long)g->servers[i];
		}
	}
	return best;
}

/* Whether @server is a value of ours for record @r of zone @z (failover.h):
 * what was last written or adopted there, the zone's intent, or anything
 * of the group when nothing is known. */
static bool fo_ours(const struct failover_group_mem *m, size_t z, size_t r, long server)
{
	long w = m->written[z * m->nrecords + r];
	return w < 0 || w == server || m->zones[z].intent == server;
}

/* Classify every record of every zone as read; no decision yet. */
static int fo_classify(const struct config *cfg, const struct config_group *g,
		       const struct failover_group_mem *m, const struct failover_dns *dns,
		       struct failover_plan *p)
{
	for (size_t z = 0; z < p->nzones; z++) {
		struct failover_zone_plan *zp = &p->zones[z];
		zp->zone = z;
		zp->name = g->zones[z];
		zp->nrecs = g->nrecords;
		zp->recs = mxf_calloc(g->nrecords, sizeof(*zp->recs));
		if (!zp->recs)
			return MXF_ENOMEM;
		for (size_t r = 0; r < g->nrecords; r++) {
			struct failover_record_plan *rp = &zp->recs[r];
			rp->record = r;
			rp->points_to = -1;
			rp->written = m->written[z * m->nrecords + r];
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
			rp->old_values = failover_dns_strv_dup((const char *const *)rv->values, rv->nvalues);
			if (!rp->old_values)
				return MXF_ENOMEM;
			rp->nold = rv->nvalues;
			rp->ttl = rv->ttl;
			rp->points_to = failover_dns_points_to(cfg, g, rv);
			rp->verdict = rp->points_to >= 0 && fo_ours(m, z, r, rp->points_to)
					      ? FAILOVER_R_KEEP
					      : FAILOVER_R_HAND_CHANGED;
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

/* Turn KEEP records pointing at another server into changes to @wanted.  A
 * record changed by hand to @wanted itself is where mxfailover would put
 * it: it is adopted (KEEP), so it is ours again. */
static int fo_changes(const struct config *cfg, const struct config_group *g,
		      const struct failover_dns *dns, size_t wanted, struct failover_plan *p)
{
	for (size_t z = 0; z < p->nzones; z++) {
		struct failover_zone_plan *zp = &p->zones[z];
		for (size_t r = 0; r < zp->nrecs; r++) {
			struct failover_record_plan *rp = &zp->recs[r];
			if (rp->verdict == FAILOVER_R_HAND_CHANGED && !zp->read_failed &&
			    rp->points_to == (long)wanted)
				rp->verdict = FAILOVER_R_KEEP;
			if (rp->verdict != FAILOVER_R_KEEP || rp->points_to == (long)wanted)
				continue;
			if (!failover_server_value(cfg, wanted, g->type)) {
				rp->verdict = FAILOVER_R_NO_VALUE;
				continue;
			}
			const struct failover_rec_view *rv = &dns->zones[z].recs[r];
			rp->new_values = failover_dns_new_values(cfg, g, rv, wanted, &rp->nnew);
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

/* A server's state for the decision: the agreed one when given, else its
 * effective state (pins included). */
static enum health_state fo_state(const struct health *h, const enum health_state *states,
				  size_t s, uint64_t now_ms)
{
	return states ? states[s] : health_effective(h, s, now_ms);
}

/* "ID is down by agreement of the monitors" (the [quorum] decision). */
static void fo_agreed_why(const struct config *cfg, const enum health_state *states, size_t s,
			  char *out, size_t len)
{
	snprintf(out, len, "%s is %s by agreement of %u monitors", cfg->servers[s].id,
		 states[s] == HEALTH_UP ? "up" : states[s] == HEALTH_DOWN ? "down" : "unknown",
		 cfg->quorum.need);
}

int failover_plan(const struct failover *fo, const struct config *cfg, size_t group,
		  const struct health *h, const struct failover_dns *dns, uint64_t now_ms,
		  struct failover_plan **out)
{
	return failover_plan_with(fo, cfg, group, h, NULL, dns, now_ms, out);
}

int failover_plan_with(const struct failover *fo, const struct config *cfg, size_t group,
		       const struct health *h, const enum health_state *states,
		       const struct failover_dns *dns, uint64_t now_ms, struct failover_plan **out)
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
	p->zones = mxf_calloc(g->nzones, sizeof(*p->zones));
	if (!p->zones)
		goto fail;
	e = fo_classify(cfg, g, m, dns, p);
	if (e)
		goto fail;

	p->current = m->active >= 0 && fo_rank(g, m->active) >= 0 ? m->active
								  : fo_current_from_dns(g, p);

	/* The decision, hold_down aside. */
	bool all_down = g->nservers > 0;
	for (size_t i = 0; i < g->nservers; i++)
		all_down = all_down && fo_state(h, states, g->servers[i], now_ms) == HEALTH_DOWN;
	enum health_state cur_state =
		p->current >= 0 ? fo_state(h, states, (size_t)p->current, now_ms) : HEALTH_UNKNOWN;
	bool keep_manual = g->failback == CONFIG_FAILBACK_MANUAL && !m->failback_requested &&
			   p->current >= 0;
	if (keep_manual && cur_state == HEALTH_UP) {
		p->preferred = p->current;
	} else if (keep_manual && cur_state == HEALTH_UNKNOWN) {
		p->waiting_for = p->current;
	} else {
		for (size_t i = 0; i < g->nservers; i++) {
			enum health_state st = fo_state(h, states, g->servers[i], now_ms);
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
	} else if (p->waiting_for >= 0 && states) {
		p->verdict = FAILOVER_WAITING;
		snprintf(p->why, sizeof(p->why),
			 "waiting: %u fresh monitors do not agree on %s (or quorum is lost) "
			 "before deciding",
			 cfg->quorum.need, cfg->servers[p->waiting_for].id);
	} else if (p->waiting_for >= 0) {
		p->verdict = FAILOVER_WAITING;
		snprintf(p->why, sizeof(p->why),
			 "waiting: the health of %s is unknown (it needs %u good or %u failed "
			 "rounds in a row) before deciding",
			 cfg->servers[p->waiting_for].id, cfg->general.rise ? cfg->general.rise : 1,
			 cfg->general.fall ? cfg->general.fall : 1);
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
				if (states)
					fo_agreed_why(cfg, states, (size_t)p->current, sw, sizeof(sw));
				else
					fo_server_why(cfg, h, (size_t)p->current, now_ms, sw,
						      sizeof(sw));
				snprintf(p->why, sizeof(p->why), "switch %s -> %s: %s", cid, pid, sw);
			}
		} else if (p->current < 0) {
			snprintf(p->why, sizeof(p->why),
				 "%s is the first server up (no current server known)", pid);
		} else if (g->failback == CONFIG_FAILBACK_MANUAL &&
			   fo_rank(g, p->current) > 0) {
			snprintf(p->why, sizeof(p->why),
				 "%s stays: it is up and failback is manual", pid);
		} else if (fo_rank(g, p->preferred) > 0) {
			/* Failed over and staying: the reason is the better
			 * server that is not up, not this one. */
			size_t b = g->servers[0];
			for (size_t i = 0; i < g->nservers && (long)g->servers[i] != p->preferred;
			     i++) {
				if (fo_state(h, states, g->servers[i], now_ms) != HEALTH_UP) {
					b = g->servers[i];
					break;
				}
			}
			if (states)
				fo_agreed_why(cfg, states, b, sw, sizeof(sw));
			else
				fo_server_why(cfg, h, b, now_ms, sw, sizeof(sw));
			/* sw reads "ID is down (...)": keep what follows "is ". */
			size_t skip = strlen(cfg->servers[b].id) + strlen(" is ");
			snprintf(p->why, sizeof(p->why), "%s stays: %s is preferred but %s", pid,
				 cfg->servers[b].id, skip < strlen(sw) ? sw + skip : "not up");
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

/* ---- the explanation ------------------------------------------------- */

/* The values, MX ones by preference (an RRset has no order; this is the
 * order mail tries them in). */
static void fo_put_values(FILE *f, enum config_rtype type, char *const *v, size_t n)
{
	bool *done = type == CONFIG_RTYPE_MX ? mxf_calloc(n, sizeof(*done)) : NULL;
	for (size_t i = 0; i < n; i++) {
		size_t pick = i;
		if (done) {
			unsigned long best = ULONG_MAX;
			for (size_t j = 0; j < n; j++) {
				unsigned long pref = strtoul(v[j], NULL, 10);
				if (!done[j] && (pref < best || best == ULONG_MAX)) {
					best = pref;
					pick = j;
				}
			}
			done[pick] = true;
		}
		fprintf(f, "%s%s", i ? ", " : "", v[pick]);
	}
	free(done);
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
				fo_put_values(f, g->type, rp->old_values, rp->nold);
				fprintf(f, " -> ");
				fo_put_values(f, g->type, rp->new_values, rp->nnew);
				if (rp->ttl >= 0)
					fprintf(f, " (ttl %lld)", (long long)rp->ttl);
				fprintf(f, "\n");
				break;
			case FAILOVER_R_KEEP:
				fprintf(f, "    keep   %s %s ", rp->owner, type);
				fo_put_values(f, g->type, rp->old_values, rp->nold);
				fprintf(f, "\n");
				break;
			case FAILOVER_R_ABSENT:
				fprintf(f, "    absent %s %s: does not exist, never created\n",
					rp->owner, type);
				break;
			case FAILOVER_R_HAND_CHANGED:
				fprintf(f, "    hand   %s %s ", rp->owner, type);
				fo_put_values(f, g->type, rp->old_values, rp->nold);
				if (rp->points_to >= 0 && rp->written >= 0)
					fprintf(f, ": mxfailover wrote %s here (changed by hand), "
						   "left alone\n",
						cfg->servers[rp->written].id);
				else if (g->type == CONFIG_RTYPE_MX)
					fprintf(f, ": not an MX set the group writes (one server "
						   "alone at the lowest preference, the others in "
						   "group order; changed by hand), left alone\n");
				else
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
