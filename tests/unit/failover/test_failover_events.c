/*
 * test_failover_events.c -- "every DNS change is an event; what mxfailover
 * did not write is left alone" (issue 9, points 2 and 5), with simulated
 * time and a simulated DNS like test_failover.c: a hand change to another
 * group server during hold_down is left alone and reported; a stale
 * remembered active server with DNS elsewhere moves nothing silently; a
 * switch interrupted between its UPDATE and its state save (the state file
 * as saved with the intent, through state_to_json/state_from_json) is
 * resumed and reported, and so is one killed between its zones file and
 * its state file (through state_save/state_load); a random run of failures, retries, unreadable
 * zones and restarts has every successful zone update covered by exactly
 * one event of its group and round; SWITCH_FAILED is re-armed when a zone
 * no longer needs a change (fail, recover, fail -> two alerts).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"
#include "state.h"
#include "state_zones.h"

#define T0  1700000000000ULL
#define IVL 10000ULL
#define MIN 60000ULL
#define NZ  2
#define NR  3

static const char *const MXV[3] = {"mx1.example.com.", "mx2.example.com.", "mx3.example.com."};

struct sim {
	struct config *cfg;
	struct health *h;
	struct failover *fo;
	struct failover_events ev;
	struct failover_plan *plan;
	uint64_t now;
	char *val[NZ][NR];     /* CNAME target per record, NULL: absent */
	bool read_fails[NZ];   /* this round, the zone cannot be read */
	int update_result[NZ]; /* what the next UPDATE of a zone returns */
	int updates[NZ];       /* UPDATEs applied per zone */
	bool updated_now[NZ];  /* an UPDATE of the zone applied this round */
};

static struct sim *
sim_new(const char *hold)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "[general]\nfall = 1\nrise = 1\nlog = stderr\n[dns]\nserver = 127.0.0.1\n"
		 "[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com.\nchecks = smtp\n"
		 "[server mx2]\naddress = 192.0.2.11\nname = mx2.example.com.\nchecks = smtp\n"
		 "[server mx3]\naddress = 192.0.2.12\nname = mx3.example.com.\nchecks = smtp\n"
		 "[group mail]\nservers = mx1 mx2 mx3\nzones = example.com example.net\n"
		 "records = mx smtp imap\ntype = CNAME\nfailback = auto\nhold_down = %s\n",
		 hold);
	struct sim *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	struct config_errors errs = {0};
	int e = config_load_string("t.conf", text, &s->cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
	config_errors_free(&errs);
	assert_int_equal(e, 0);
	assert_int_equal(health_new(s->cfg, &s->h), 0);
	assert_int_equal(failover_new(s->cfg, &s->fo), 0);
	s->now = T0;
	for (size_t z = 0; z < NZ; z++)
		for (size_t r = 0; r < NR; r++)
			s->val[z][r] = strdup(MXV[0]);
	return s;
}

static void
sim_set(struct sim *s, size_t z, size_t r, const char *v)
{
	free(s->val[z][r]);
	s->val[z][r] = v ? strdup(v) : NULL;
}

static void
sim_free(struct sim *s)
{
	for (size_t z = 0; z < NZ; z++)
		for (size_t r = 0; r < NR; r++)
			free(s->val[z][r]);
	failover_plan_free(s->plan);
	failover_events_free(&s->ev);
	failover_free(s->fo);
	health_free(s->h);
	config_free(s->cfg);
	free(s);
}

/* One round of checks: 1 good, 0 failed, -1 none, per server. */
static void
sim_checks(struct sim *s, int up1, int up2, int up3)
{
	int up[3] = {up1, up2, up3};
	for (size_t i = 0; i < 3; i++) {
		if (up[i] < 0)
			continue;
		struct health_result r = {up[i] ? HEALTH_OK : HEALTH_FAIL,
					  up[i] ? "250 ok" : "connection refused"};
		assert_true(health_feed(s->h, i, &r, 1, s->now) >= 0);
	}
}

/* Events and the plan of this round, before any update is sent. */
static void
sim_plan(struct sim *s)
{
	failover_events_clear(&s->ev);
	struct health_change c;
	while (health_next_change(s->h, &c))
		assert_true(failover_event_from_health(s->cfg, &c, &s->ev) >= 0);
	struct failover_dns *d;
	assert_int_equal(failover_dns_new(s->cfg, 0, &d), 0);
	for (size_t z = 0; z < NZ; z++) {
		for (size_t r = 0; r < NR; r++) {
			const char *v = s->val[z][r];
			enum failover_rec_status st = s->read_fails[z] ? FAILOVER_REC_FAILED
						      : v	       ? FAILOVER_REC_PRESENT
								       : FAILOVER_REC_ABSENT;
			assert_int_equal(failover_dns_set(d, z, r, st, &v, 1, 300, "timed out"), 0);
		}
	}
	failover_plan_free(s->plan);
	s->plan = NULL;
	assert_int_equal(failover_plan(s->fo, s->cfg, 0, s->h, d, s->now, &s->plan), 0);
	failover_dns_free(d);
}

/* "Send" the updates that are due; statuses into @status. */
static void
sim_send(struct sim *s, int *status)
{
	for (size_t z = 0; z < NZ; z++) {
		const struct failover_zone_plan *zp = &s->plan->zones[z];
		s->updated_now[z] = false;
		status[z] = 0;
		if (!zp->nchanges)
			continue;
		if (!failover_zone_due(s->fo, 0, z, s->now)) {
			status[z] = FAILOVER_ZONE_NOT_TRIED;
			continue;
		}
		status[z] = s->update_result[z];
		if (status[z] != 0)
			continue;
		s->updates[z]++;
		s->updated_now[z] = true;
		for (size_t r = 0; r < zp->nrecs; r++)
			if (zp->recs[r].verdict == FAILOVER_R_CHANGE)
				sim_set(s, z, r, zp->recs[r].new_values[0]);
	}
}

/* One whole round: checks, plan, intent, updates, commit; time moves on. */
static enum failover_verdict
sim_round(struct sim *s, int up1, int up2, int up3)
{
	int status[NZ];
	sim_checks(s, up1, up2, up3);
	sim_plan(s);
	if (s->plan->wanted >= 0)
		assert_true(failover_intent(s->fo, s->plan, NULL) >= 0);
	sim_send(s, status);
	assert_true(failover_commit(s->fo, s->cfg, s->plan, status, s->now, s->now, &s->ev, NULL) >=
		    0);
	s->now += IVL;
	return s->plan->verdict;
}

static size_t
sim_count(const struct sim *s, enum failover_event_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < s->ev.n; i++)
		n += s->ev.v[i].type == t;
	return n;
}

static bool
is_move(enum failover_event_type t)
{
	return t == FAILOVER_EV_SWITCHED || t == FAILOVER_EV_SWITCHED_BACK ||
	       t == FAILOVER_EV_SWITCH_COMPLETED;
}

static size_t
sim_moves(const struct sim *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->ev.n; i++)
		n += is_move(s->ev.v[i].type);
	return n;
}

/* The round's events: every zone updated is named by exactly one move
 * event, and there is at most one move event (one per group and round). */
static void
assert_covered(const struct sim *s)
{
	size_t moves = 0, named[NZ] = {0};
	for (size_t i = 0; i < s->ev.n; i++) {
		const struct failover_event *e = &s->ev.v[i];
		if (!is_move(e->type)) {
			assert_int_equal(e->nzones, 0);
			continue;
		}
		moves++;
		for (size_t k = 0; k < e->nzones; k++) {
			assert_true(e->zones[k] < NZ);
			named[e->zones[k]]++;
		}
	}
	assert_true(moves <= 1);
	for (size_t z = 0; z < NZ; z++) {
		if (s->updated_now[z])
			assert_int_equal(named[z], 1);
	}
}

static void
assert_all(const struct sim *s, const char *value)
{
	for (size_t z = 0; z < NZ; z++)
		for (size_t r = 0; r < NR; r++)
			if (s->val[z][r])
				assert_string_equal(s->val[z][r], value);
}

/* A state holding @s's health and failover memory (borrowed: give them
 * back with sim_unwrap). */
static struct state *
sim_wrap(struct sim *s)
{
	struct state *st;
	assert_int_equal(state_new(s->cfg, &st), 0);
	health_free(st->health);
	failover_free(st->failover);
	st->health = s->h;
	st->failover = s->fo;
	return st;
}

static void
sim_unwrap(struct state *st)
{
	st->health = NULL;
	st->failover = NULL;
	state_free(st);
}

/* Take @st's health and failover memory as @s's (a restart, a reload). */
static void
sim_adopt(struct sim *s, struct state *st)
{
	health_free(s->h);
	failover_free(s->fo);
	s->h = st->health;
	s->fo = st->failover;
	sim_unwrap(st);
}

/* The state file as it would be saved now (health and failover memory). */
static json_t *
sim_save(struct sim *s)
{
	struct state *st = sim_wrap(s);
	json_t *j;
	assert_int_equal(state_to_json(st, s->cfg, s->now, &j), 0);
	sim_unwrap(st);
	return j;
}

/* A restart: memory and health are what @j (a saved state file) holds. */
static void
sim_restart(struct sim *s, json_t *j)
{
	struct state *st;
	char err[256];
	assert_int_equal(state_from_json(j, s->cfg, &st, err, sizeof(err)), 0);
	json_decref(j);
	sim_adopt(s, st);
}

/* ---- tests ----------------------------------------------------------- */

/* The operator puts one record back on mx1 by hand while the group is held
 * on mx2: left alone and reported once, hold_down reverts nothing; after
 * hold_down the failback to mx1 adopts it again. */
static void
test_hand_change_during_hold_down(void **state)
{
	(void)state;
	struct sim *s = sim_new("5m");
	sim_round(s, 1, 1, 1);
	uint64_t t_switch = s->now;
	sim_round(s, 0, 1, 1);
	assert_all(s, MXV[1]);
	assert_int_equal(sim_round(s, 1, 1, 1), FAILOVER_HELD);
	sim_set(s, 0, 1, MXV[0]); /* smtp.example.com. back to mx1 by hand */
	int before = s->updates[0];
	assert_int_equal(sim_round(s, 1, 1, 1), FAILOVER_HELD);
	assert_int_equal(s->plan->zones[0].recs[1].verdict, FAILOVER_R_HAND_CHANGED);
	assert_int_equal(s->plan->zones[0].nchanges, 0);
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 1);
	assert_non_null(strstr(s->ev.v[0].detail, "but mxfailover wrote mx2 there"));
	assert_string_equal(s->val[0][1], MXV[0]);
	assert_int_equal(s->updates[0], before);
	char *text;
	assert_int_equal(failover_plan_format(s->plan, s->cfg, s->h, s->now, &text), 0);
	assert_non_null(strstr(text, "mxfailover wrote mx2 here (changed by hand), left alone"));
	free(text);
	for (int i = 0; s->now < t_switch + 5 * MIN - IVL; i++) {
		assert_int_equal(sim_round(s, 1, 1, 1), FAILOVER_HELD);
		assert_int_equal(s->ev.n, 0);
		assert_string_equal(s->val[0][1], MXV[0]);
		assert_int_equal(s->updates[0], before);
	}
	/* A third server pointed at by hand is left alone too. */
	sim_set(s, 1, 2, MXV[2]);
	sim_round(s, 1, 1, 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 1);
	assert_string_equal(s->val[1][2], MXV[2]);
	/* hold_down over: failback; the hand record at mx1 is where it should
	 * be now, so it is ours again; the one at mx3 stays. */
	s->now = t_switch + 5 * MIN;
	assert_int_equal(sim_round(s, 1, 1, 1), FAILOVER_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED_BACK), 1);
	assert_false(s->fo->groups[0].hand_changed[0 * NR + 1]);
	assert_true(s->fo->groups[0].hand_changed[1 * NR + 2]);
	assert_string_equal(s->val[1][2], MXV[2]);
	assert_string_equal(s->val[0][1], MXV[0]);
	assert_string_equal(s->val[1][0], MXV[0]);
	/* The next failover moves the adopted record again. */
	sim_round(s, 0, 1, 1);
	assert_string_equal(s->val[0][1], MXV[1]);
	assert_string_equal(s->val[1][2], MXV[2]);
	sim_free(s);
}

/* The state says mx1 is active and was written; DNS points at mx2 (someone
 * else moved it while the daemon was away): nothing moves, each record is
 * reported.  Without what was written (an older state file), the records
 * move to mx1, and that move is an event naming the zones. */
static void
test_stale_active_dns_elsewhere(void **state)
{
	(void)state;
	struct sim *s = sim_new("0");
	sim_round(s, 1, 1, 1);
	assert_int_equal(s->fo->groups[0].active, 0);
	json_t *saved = sim_save(s);
	json_t *copy = json_deep_copy(saved);
	for (size_t z = 0; z < NZ; z++)
		for (size_t r = 0; r < NR; r++)
			sim_set(s, z, r, MXV[1]);
	sim_restart(s, saved);
	assert_int_equal(sim_round(s, 1, 1, 1), FAILOVER_NO_CHANGE);
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), NZ * NR);
	assert_int_equal(s->updates[0] + s->updates[1], 0);
	assert_all(s, MXV[1]);
	sim_round(s, 1, 1, 1);
	assert_int_equal(s->ev.n, 0);

	/* The same file without "written" (and "intent"). */
	const char *zk;
	json_t *zo;
	json_object_foreach(
		json_object_get(json_object_get(json_object_get(copy, "groups"), "mail"), "zones"),
		zk, zo)
	{
		const char *rk;
		json_t *ro;
		json_object_del(zo, "intent");
		json_object_foreach(json_object_get(zo, "records"), rk, ro)
			json_object_del(ro, "written");
	}
	sim_restart(s, copy);
	assert_int_equal(s->fo->groups[0].written[0], -1);
	sim_round(s, 1, 1, 1);
	assert_all(s, MXV[0]);
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 0);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_COMPLETED), 1);
	assert_int_equal(s->updates[0] + s->updates[1], 2);
	assert_covered(s);
	const struct failover_event *e = &s->ev.v[0];
	assert_int_equal(e->nzones, 2);
	assert_int_equal(e->to, 0);
	assert_non_null(strstr(e->detail, "2 zones now point at mx1"));
	sim_free(s);
}

/*
 * A switch to mx2 killed between its UPDATEs and the state save: the state
 * file is the one saved with the intent.  @applied[z]: named applied zone
 * z's update.  @up1: mx1's checks after the restart.
 */
static struct sim *
crash_mid_switch(const bool applied[NZ])
{
	struct sim *s = sim_new("0");
	sim_round(s, 1, 1, 1);
	sim_checks(s, 0, 1, 1);
	sim_plan(s);
	assert_int_equal(s->plan->wanted, 1);
	assert_int_equal(failover_intent(s->fo, s->plan, NULL), 1);
	/* Asked again (a retry of the same switch): nothing new to save. */
	assert_int_equal(failover_intent(s->fo, s->plan, NULL), 0);
	json_t *saved = sim_save(s);
	for (size_t z = 0; z < NZ; z++)
		for (size_t r = 0; applied[z] && r < NR; r++)
			sim_set(s, z, r, MXV[1]);
	sim_restart(s, saved); /* kill -9: no commit, no save */
	assert_int_equal(s->fo->groups[0].active, 0);
	assert_int_equal(s->fo->groups[0].zones[0].intent, 1);
	return s;
}

static void
test_intent_resumed_after_crash(void **state)
{
	(void)state;
	/* Both zones applied, mx1 still down: found switched, reported. */
	bool both[NZ] = {true, true};
	struct sim *s = crash_mid_switch(both);
	sim_round(s, 0, 1, 1);
	assert_int_equal(s->updates[0] + s->updates[1], 0);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 0);
	const struct failover_event *e = &s->ev.v[s->ev.n - 1];
	assert_int_equal(e->type, FAILOVER_EV_SWITCHED);
	assert_int_equal(e->nzones, 2);
	assert_int_equal(s->fo->groups[0].active, 1);
	assert_int_equal(s->fo->groups[0].zones[0].intent, -1);
	assert_int_equal(s->fo->groups[0].written[0], 1);
	sim_round(s, 0, 1, 1);
	assert_int_equal(s->ev.n, 0);
	sim_free(s);

	/* Only the first zone applied: one SWITCHED names both, one found,
	 * one updated now. */
	bool first[NZ] = {true, false};
	s = crash_mid_switch(first);
	sim_round(s, 0, 1, 1);
	assert_int_equal(s->updates[0], 0);
	assert_int_equal(s->updates[1], 1);
	assert_all(s, MXV[1]);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
	assert_int_equal(s->ev.v[s->ev.n - 1].nzones, 2);
	assert_covered(s);
	sim_free(s);

	/* Applied, and mx1 is healthy again at the restart: the records at mx2
	 * are ours (the intent), so they come back, and that is an event. */
	s = crash_mid_switch(both);
	sim_round(s, 1, 1, 1);
	assert_all(s, MXV[0]);
	assert_int_equal(sim_count(s, FAILOVER_EV_CHANGED_BY_HAND), 0);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_COMPLETED), 1);
	assert_int_equal(s->ev.v[s->ev.n - 1].nzones, 2);
	assert_covered(s);
	sim_free(s);

	/* Not applied at all, mx1 back: nothing moves, the intent is dropped. */
	bool none[NZ] = {false, false};
	s = crash_mid_switch(none);
	sim_round(s, 1, 1, 1);
	assert_int_equal(s->updates[0] + s->updates[1], 0);
	assert_int_equal(s->ev.n, 1); /* mx1 up again */
	assert_int_equal(s->fo->groups[0].zones[1].intent, -1);
	sim_free(s);
}

/* Save the state to files at @path the way the daemon does (zones file
 * first); @zones_only: the zones file alone, as a kill -9 between the two
 * leaves it. */
static void
sim_save_files(struct sim *s, const char *path, bool zones_only)
{
	struct state *st = sim_wrap(s);
	char err[512];
	if (zones_only)
		assert_int_equal(state_zones_save(path, s->cfg, st, s->now, err, sizeof(err)), 0);
	else
		assert_int_equal(state_save(path, s->cfg, st, s->now, err, sizeof(err)), 0);
	sim_unwrap(st);
}

static void
sim_load_files(struct sim *s, const char *path)
{
	struct state *st;
	char err[512];
	assert_int_equal(state_load(path, s->cfg, &st, err, sizeof(err)), 0);
	sim_adopt(s, st);
}

/* The ways a restart after a switch to mx2 goes on (see below). */
enum lost_case {
	LOST_NONE,        /* both files saved: nothing lost */
	LOST_STATE,       /* the state file's save lost */
	LOST_UNREADABLE,  /* and a zone unreadable in the first round */
	LOST_RELOAD,      /* and a reload (SIGHUP) before the first round */
};

/*
 * A switch killed after its zones file was saved and before its state file
 * was: the zones say every record was written for mx2, the state still has
 * the group on mx1 and no event.  The restarted run's SWITCHED names every
 * zone, as the lost one did -- once, also when a zone cannot be read in the
 * first round (nothing until the round that reports the switch) or a
 * reload comes first.  With both files saved, a restart reports nothing.
 */
static void
test_switch_lost_between_the_two_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/mxf-events-XXXXXX", path[64], zpath[80];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(zpath, sizeof(zpath), "%s.zones", path);
	for (int c = LOST_NONE; c <= LOST_RELOAD; c++) {
		struct sim *s = sim_new("0");
		sim_round(s, 1, 1, 1);
		sim_save_files(s, path, false);
		sim_round(s, 0, 1, 1);
		assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
		assert_all(s, MXV[1]);
		sim_save_files(s, path, c != LOST_NONE);
		sim_load_files(s, path);
		assert_int_equal(s->fo->groups[0].active, c == LOST_NONE ? 1 : 0);
		assert_int_equal(s->fo->groups[0].zones_newer, c != LOST_NONE);
		if (c == LOST_RELOAD) {
			struct state *st = sim_wrap(s), *re = NULL;
			assert_int_equal(state_rebind(st, s->cfg, s->cfg, &re), 0);
			sim_unwrap(st);
			sim_adopt(s, re);
			assert_true(s->fo->groups[0].zones_newer);
		}
		if (c == LOST_UNREADABLE) {
			s->read_fails[0] = true;
			sim_round(s, 0, 1, 1);
			assert_int_equal(sim_moves(s), 0);
			assert_true(s->fo->groups[0].zones_newer);
			s->read_fails[0] = false;
		}
		sim_round(s, 0, 1, 1);
		assert_int_equal(s->updates[0] + s->updates[1], 2); /* none now */
		if (c == LOST_NONE) {
			assert_int_equal(sim_moves(s), 0);
		} else {
			assert_int_equal(sim_moves(s), 1);
			assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
			const struct failover_event *e = &s->ev.v[s->ev.n - 1];
			assert_int_equal(e->type, FAILOVER_EV_SWITCHED);
			assert_int_equal(e->nzones, NZ);
			assert_int_equal(e->to, 1);
		}
		assert_false(s->fo->groups[0].zones_newer);
		assert_int_equal(s->fo->groups[0].active, 1);
		/* Reported once: the next round is quiet. */
		sim_round(s, 0, 1, 1);
		assert_int_equal(s->ev.n, 0);
		sim_free(s);
		unlink(zpath);
		unlink(path);
	}
	rmdir(dir);
}

/* A zone that converges later -- after failed updates, or unreadable in
 * the switch round -- is named by one SWITCH_COMPLETED (the recovery
 * notice of its SWITCH_FAILED), not by a second SWITCHED. */
static void
test_late_zone_completed(void **state)
{
	(void)state;
	struct sim *s = sim_new("0");
	sim_round(s, 1, 1, 1);
	s->update_result[1] = MXF_ETIMEDOUT;
	sim_round(s, 0, 1, 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 1);
	assert_covered(s);
	s->update_result[1] = 0;
	for (int i = 0; i < 5 && !s->updated_now[1]; i++) {
		sim_round(s, 0, 1, 1);
		assert_covered(s);
	}
	assert_true(s->updated_now[1]);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_COMPLETED), 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED), 0);
	assert_non_null(strstr(s->ev.v[0].detail, "update retried after failing"));
	assert_all(s, MXV[1]);
	/* Unreadable in the switch round. */
	s->read_fails[0] = true;
	sim_round(s, 1, 1, 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCHED_BACK), 1);
	assert_int_equal(s->ev.v[s->ev.n - 1].nzones, 1);
	s->read_fails[0] = false;
	sim_round(s, 1, 1, 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_COMPLETED), 1);
	assert_true(s->updated_now[0]);
	assert_covered(s);
	assert_all(s, MXV[0]);
	sim_free(s);
}

/* Point 5: fail, recover without an update, fail again -> two alerts. */
static void
test_switch_failed_rearmed(void **state)
{
	(void)state;
	struct sim *s = sim_new("0");
	sim_round(s, 1, 1, 1);
	s->update_result[0] = MXF_ETIMEDOUT;
	sim_round(s, 0, 1, 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 1);
	assert_true(s->fo->groups[0].zones[0].failed);
	/* mx1 is back: example.com. already points at it, no update needed. */
	sim_round(s, 1, 1, 1);
	assert_int_equal(s->plan->zones[0].nchanges, 0);
	assert_false(s->fo->groups[0].zones[0].failed);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 0);
	/* mx1 fails again, the update of example.com. still fails: alerted. */
	s->now += 10 * MIN; /* past any backoff */
	sim_round(s, 0, 1, 1);
	assert_int_equal(sim_count(s, FAILOVER_EV_SWITCH_FAILED), 1);
	sim_free(s);
}

/* A random run: checks, failed updates, unreadable zones, hand changes to
 * another group server and restarts from the state as saved with the
 * intent; every applied update is covered, once, in its round. */
static void
test_every_update_covered(void **state)
{
	(void)state;
	struct sim *s = sim_new("30s");
	unsigned seed = 9;
	size_t total_updates = 0, events = 0;
	for (int round = 0; round < 600; round++) {
		int up[3];
		for (size_t i = 0; i < 3; i++)
			up[i] = rand_r(&seed) % 4 != 0;
		for (size_t z = 0; z < NZ; z++) {
			s->update_result[z] = rand_r(&seed) % 5 == 0 ? MXF_ETIMEDOUT : 0;
			s->read_fails[z] = rand_r(&seed) % 8 == 0;
		}
		if (rand_r(&seed) % 40 == 0)
			sim_set(s, rand_r(&seed) % NZ, rand_r(&seed) % NR, MXV[rand_r(&seed) % 3]);
		if (rand_r(&seed) % 25 == 0) {
			/* A crash after the intent save: the updates are applied,
			 * the commit and its save never happen. */
			int st[NZ];
			sim_checks(s, up[0], up[1], up[2]);
			sim_plan(s);
			json_t *saved = NULL;
			if (s->plan->wanted >= 0 && failover_intent(s->fo, s->plan, NULL) > 0)
				saved = sim_save(s);
			if (!saved) {
				s->now += IVL;
				continue;
			}
			sim_send(s, st);
			for (size_t z = 0; z < NZ; z++)
				total_updates += s->updated_now[z];
			sim_restart(s, saved);
			s->now += IVL;
			/* The next round must report what the lost one did. */
			bool lost[NZ];
			for (size_t z = 0; z < NZ; z++)
				lost[z] = s->updated_now[z];
			memset(s->read_fails, 0, sizeof(s->read_fails));
			sim_round(s, up[0], up[1], up[2]);
			assert_covered(s);
			size_t named[NZ] = {0};
			for (size_t i = 0; i < s->ev.n; i++)
				for (size_t k = 0;
				     is_move(s->ev.v[i].type) && k < s->ev.v[i].nzones; k++)
					named[s->ev.v[i].zones[k]]++;
			for (size_t z = 0; z < NZ; z++)
				if (lost[z])
					assert_int_equal(named[z], 1);
			continue;
		}
		sim_round(s, up[0], up[1], up[2]);
		assert_covered(s);
		for (size_t z = 0; z < NZ; z++)
			total_updates += s->updated_now[z];
		for (size_t i = 0; i < s->ev.n; i++)
			events += is_move(s->ev.v[i].type);
	}
	print_message("every_update_covered: %zu zone updates, %zu move events\n", total_updates,
		      events);
	assert_true(total_updates > 50);
	sim_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_change_during_hold_down),
		cmocka_unit_test(test_stale_active_dns_elsewhere),
		cmocka_unit_test(test_intent_resumed_after_crash),
		cmocka_unit_test(test_switch_lost_between_the_two_files),
		cmocka_unit_test(test_late_zone_completed),
		cmocka_unit_test(test_switch_failed_rearmed),
		cmocka_unit_test(test_every_update_covered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
