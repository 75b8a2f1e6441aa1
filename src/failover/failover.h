/*
 * failover.h -- what each failover group should point at, and which records
 * of which zone must change for that: the decisions, with no I/O.
 * failover.c holds the memory and the events, failover_plan.c the plan,
 * failover_dns.c the views of what DNS holds and what a value points at.
 *
 * Pure: no sockets, clocks or syslog.  The daemon (`run`), `once` and `plan`
 * share it.  Times are wall-clock milliseconds passed in (see health.h).
 *
 * Each round the caller does, per group:
 *
 *   failover_set_witness(fo, verdict, now, &ev);     once per round, all groups
 *   failover_dns_new() + failover_dns_set() ...     what DNS holds now
 *   failover_plan(fo, cfg, g, health, dns, now, &plan);
 *   failover_intent(fo, plan, sends) == 1 -> save the state file first;
 *   ... send plan->zones[z] with nchanges > 0 as one UPDATE per zone, each
 *       change's old_values as the compare-and-swap prerequisite ...
 *   failover_commit(fo, cfg, plan, zone_status, now, tried, &ev, &next);
 *   ... log / notify / record each event in ev ...
 *
 * `plan` (the command) calls failover_plan() and failover_plan_format() and
 * never commits, so it changes nothing and consumes no event.
 *
 * Decision rules (SPEC.md):
 *  - The wanted server is the first server of the group, in preference
 *    order, whose effective state (pins included) is UP.  A server that is
 *    UNKNOWN stops the walk: no action is derived from UNKNOWN (so start-up
 *    never flips records); the plan says it is waiting.
 *  - failback = manual: the current server is kept while it is UP, even when
 *    a preferred one is back; the operator asks for the failback with
 *    failover_request_failback() (or pins the current server down).
 *  - hold_down: after a switch, the group does not switch again within
 *    hold_down while its current server is UP ("held down until T").  It
 *    never keeps the records on a server that is DOWN: hold_down is there to
 *    stop flapping back and forth, not to prolong an outage.  A last switch
 *    more than hold_down in the future (the clock went back) holds nothing.
 *  - Every server of the group DOWN: records stay where they are; one
 *    ALL_DOWN event until some server is UP again.
 *  - Isolated (every witness failing): no change in any group; one ISOLATED
 *    event, one ISOLATION_OVER when a witness answers again.
 *  - Per record: its current value points at a server of the group (CNAME:
 *    the server's name; A/AAAA: its address; MX: the group host alone at
 *    the lowest preference, see MX below), that value
 *    is ours (below) and that server is not the wanted one -> it changes.
 *    Absent -> never created; in a zone whose records are required (config
 *    zone_records_required, DNS_Failover's zone1) also reported, one
 *    RECORD_MISSING event per streak.  Anything else -> changed by hand: left alone
 *    and reported (one CHANGED_BY_HAND event until it points at a value of
 *    ours again), the others still switch; hold_down included: nothing is
 *    ever reverted.  A zone where any read failed is not acted on at all,
 *    and never taken for "elsewhere".
 *  - Ours: the record points at the server mxfailover last wrote or adopted
 *    for it (failover_group_mem.written, saved in the state file), or at the
 *    target of its zone's saved intent.  With nothing remembered (first
 *    start, no state file) a record pointing at any server of the group is
 *    adopted, and so is a record found pointing at the wanted server (it
 *    is where mxfailover would put it).  An operator hands a record back by
 *    pointing it at the value mxfailover last wrote (`plan` names it) or at
 *    the group's current server.
 *  - MX: a switch reorders.  The group's hosts in the set trade the
 *    preferences they hold: the lowest goes to the wanted server, the next
 *    ones to the group's other hosts in the order of the servers line;
 *    hosts outside the group keep theirs; no host enters or leaves (a
 *    wanted server not in the set takes the lowest host's place, so a set
 *    of one record is rewritten).  Failback to the first server thus
 *    restores the group's order, derived from the config alone (nothing to
 *    save, the same after a restart).  A set that is not one of these
 *    orders -- two hosts at the lowest preference, a host twice, a host
 *    outside the group lowest, the others out of group order -- is changed
 *    by hand; the compare-and-swap prerequisite is the whole set as read.
 *  - Intent: before the updates of a round are sent, failover_intent()
 *    marks each zone about to be updated with its target, and the caller
 *    saves the state file once (synchronously) when that changed anything;
 *    the mark is cleared when the zone converges.  So a crash between the
 *    UPDATE and the next state save neither strands a zone (its new value
 *    is still ours) nor hides the change (it is reported when found).
 *  - Every zone update that succeeded is covered by one event per group and
 *    round naming its zones (failover_event.zones): the group's SWITCHED /
 *    SWITCHED_BACK, else one SWITCH_COMPLETED for the zones that converge
 *    later (a retry after a failed update -- the recovery of a
 *    SWITCH_FAILED --, a zone unreadable in the switch round, records found
 *    away from the remembered server, zones found already switched under a
 *    saved intent after a crash).
 *  - SWITCH_FAILED once per streak: a zone's flag is cleared when its update
 *    succeeds or when a decided plan (a wanted server) needs no change in it,
 *    so the next failure is reported again.
 *
 * Memory for "once per transition" lives in struct failover (per group: the
 * active server, last switch time, alert flags; per zone: the backoff of
 * failed updates and whether a read failure was reported; globally:
 * isolation).  It is only changed by failover_set_witness(),
 * failover_commit(), failover_request_failback(), failover_intent() and
 * failover_zone_read(); the state file persists it (the backoff and the
 * read flag excepted), so `once` passes report each transition once too.
 *
 * Per zone, after failover_plan() and before sending:
 *   failover_zone_read(fo, g, z, some read failed)  1/-1: log it
 *   failover_zone_due(fo, g, z, now)                false: still backing off
 * and after the updates failover_commit() keeps each zone's backoff from
 * the time they ended and says when the next try is due.
 */
#ifndef MXF_FAILOVER_H
#define MXF_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "health.h"

#define FAILOVER_DETAIL_MAX 512

/* ---- events ---------------------------------------------------------- */

enum failover_event_type {
	FAILOVER_EV_SERVER_DOWN,     /* a server became DOWN (checks or pin) */
	FAILOVER_EV_SERVER_UP,       /* a DOWN server became UP again */
	FAILOVER_EV_SWITCHED,        /* a group moved to another server */
	FAILOVER_EV_SWITCHED_BACK,   /* ... to its first (preferred) server */
	FAILOVER_EV_SWITCH_FAILED,   /* a zone's update failed (once per streak) */
	FAILOVER_EV_ALL_DOWN,        /* every server of a group is DOWN */
	FAILOVER_EV_ISOLATED,        /* every witness fails: no DNS changes */
	FAILOVER_EV_ISOLATION_OVER,  /* a witness answers again */
	FAILOVER_EV_CHANGED_BY_HAND, /* a record points somewhere unexpected */
	FAILOVER_EV_RECORD_MISSING,  /* a record that must exist does not
					(zone_records_required), once per streak */
	FAILOVER_EV_SWITCH_COMPLETED, /* zones converged after the group's switch */
	FAILOVER_EV_AUDIT_FINDING,   /* the background audit found a new warning
					or error (daemon_audit.c), once */
	FAILOVER_EV_AUDIT_CLEAR,     /* ... and it is no longer found */
	FAILOVER_EV_QUORUM_LOST,     /* fewer than need monitors have fresh
					views: nothing switches */
	FAILOVER_EV_QUORUM_BACK,     /* need monitors fresh again */
};

struct failover_event {
	enum failover_event_type type;
	uint64_t at_ms;
	long group;  /* index into cfg->groups, -1 when not about a group */
	long server; /* the server concerned (SERVER_*), else -1 */
	long from;   /* SWITCHED*: previous server, -1 when unknown */
	long to;     /* SWITCHED*: new server */
	long zone;   /* SWITCH_FAILED, CHANGED_BY_HAND, RECORD_MISSING: index
			into group zones */
	long record; /* CHANGED_BY_HAND, RECORD_MISSING: index into group records */
	/* SWITCHED*, SWITCH_COMPLETED: the zones (indices into the group's
	 * zones) whose records this event reports moved; owned by the list,
	 * NULL when none. */
	size_t *zones;
	size_t nzones;
	char detail[FAILOVER_DETAIL_MAX]; /* one human-readable line */
};

/* A growing list of events; zero-initialise, then failover_events_free(). */
struct failover_events {
	struct failover_event *v;
	size_t n, cap;
};

/* "server down", "server up", "switched", "switched back", "switch failed",
 * "all down", "isolated", "isolation over", "changed by hand",
 * "record missing", "switch completed", "audit finding", "audit clear",
 * "quorum lost", "quorum back". */
const char *failover_event_name(enum failover_event_type t);
/*
 * failover_event_self_named -- whether the detail of an event of type @t
 * says what happened by itself ("server mx1 is down: ..."), so a line that
 * shows it leaves the event's name out rather than say "down" twice.
 */
bool failover_event_self_named(enum failover_event_type t);
/* The same names with '_' for ' ' ("server_down"), for JSON and webhooks. */
const char *failover_event_id(enum failover_event_type t);
/* Reverse of failover_event_id().  @return 0 or MXF_EINVAL. */
int failover_event_parse(const char *id, enum failover_event_type *out);

/* Append a copy of @e (its zones copied too).  @return 0 or MXF_ENOMEM. */
int failover_events_push(struct failover_events *ev, const struct failover_event *e);

/* Empty the list (keeps the array, frees each event's zones). */
void failover_events_clear(struct failover_events *ev);
/* Free the list's memory; the struct itself is the caller's. */
void failover_events_free(struct failover_events *ev);

/*
 * failover_event_from_health -- SERVER_DOWN / SERVER_UP for a server change
 * drained from health (kinds SERVER and PIN, effective state).  UNKNOWN ->
 * UP at start-up is not an event (nothing recovered), UNKNOWN -> DOWN is.
 * @return 1 with the event appended to @ev, 0 when the change is not an
 *         event, MXF_ENOMEM.
 */
int failover_event_from_health(const struct config *cfg, const struct health_change *c,
			       struct failover_events *ev);

/* ---- what DNS holds -------------------------------------------------- */

enum failover_rec_status {
	FAILOVER_REC_UNREAD = 0, /* not read (yet): its zone is not acted on */
	FAILOVER_REC_ABSENT,     /* no such RRset (NXDOMAIN or no data) */
	FAILOVER_REC_PRESENT,    /* values hold the RRset */
	FAILOVER_REC_FAILED,     /* the query failed: its zone is not acted on */
};

/*
 * One RRset as read, the type being the group's.  Values are rdata in
 * presentation form: CNAME "mx1.example.com.", A "192.0.2.10", AAAA
 * "2001:db8::10", MX "10 mx1.example.com.".
 */
struct failover_rec_view {
	enum failover_rec_status status;
	char **values;
	size_t nvalues;
	int64_t ttl;  /* of the RRset, -1 when unknown */
	char *error;  /* FAILED: why, else NULL */
};

struct failover_zone_view {
	struct failover_rec_view *recs; /* parallel to the group's records */
};

struct failover_dns {
	size_t group;
	size_t nzones, nrecords;        /* of the group */
	struct failover_zone_view *zones; /* parallel to the group's zones */
};

/*
 * failover_dns_new -- a view of the group's records, all UNREAD.
 * @return 0 with *out set (free with failover_dns_free), MXF_EINVAL (no such
 *         group), MXF_ENOMEM.
 */
int failover_dns_new(const struct config *cfg, size_t group, struct failover_dns **out);

/*
 * failover_dns_set -- record what one read returned; strings are copied,
 * replacing what was there.
 * @values/@n  PRESENT: the RRset's values (n >= 1); else ignored.
 * @error      FAILED: why (may be NULL); else ignored.
 * @return 0, MXF_EINVAL (index out of range, PRESENT without values),
 *         MXF_ENOMEM (the record is then left UNREAD).
 */
int failover_dns_set(struct failover_dns *d, size_t zone, size_t rec,
		     enum failover_rec_status status, const char *const *values, size_t n,
		     int64_t ttl, const char *error);

void failover_dns_free(struct failover_dns *d);

/* "unread" "absent" "present" "failed", and back (0 or MXF_EINVAL). */
const char *failover_rec_status_name(enum failover_rec_status s);
int failover_rec_status_parse(const char *s, enum failover_rec_status *out);

/*
 * failover_owner_name -- the absolute owner of @record in @zone ("@" is the
 * apex, a name ending in '.' is already absolute).
 * @return a malloc'ed string, or NULL when out of memory.
 */
char *failover_owner_name(const char *zone, const char *record);

/* ---- memory ---------------------------------------------------------- */

/* Longest wait between two tries of a zone whose update keeps failing. */
#define FAILOVER_BACKOFF_MAX_MS (5u * 60 * 1000)

/*
 * What is remembered of one zone of a group.  @failed and @intent are saved
 * in the state file, so `once` passes report a failing zone once and a
 * crash cannot hide a switch; the rest is not saved: a restart (or a
 * reload) tries every zone at once and says again what it finds.
 */
struct failover_zone_mem {
	bool failed;              /* SWITCH_FAILED reported, not converged since */
	long intent;              /* server an update was about to move the zone
				     to (failover_intent), -1: none pending */
	bool read_bad;            /* a read of the zone failed; reported once */
	unsigned failures;        /* updates failed in a row */
	uint64_t next_ms;         /* no new try of an update before this, 0 */
};

struct failover_group_mem {
	long active;              /* server index, -1 until known */
	uint64_t last_switch_ms;  /* 0: never switched */
	bool all_down;            /* ALL_DOWN reported, not yet over */
	bool failback_requested;  /* manual failback asked for */
	size_t nzones, nrecords;
	struct failover_zone_mem *zones; /* [nzones] */
	bool *hand_changed;       /* [nzones * nrecords]: CHANGED_BY_HAND reported */
	bool *missing;            /* [nzones * nrecords]: RECORD_MISSING reported */
	long *written;            /* [nzones * nrecords]: the server mxfailover
				     last wrote or adopted for the record, -1
				     when nothing is known (any group server
				     is then adopted) */
	bool zones_newer;         /* loaded from a zones file saved after the
				     state file (a run stopped between the
				     two): until the group is remembered on
				     the wanted server, records written for
				     it while the group is remembered
				     elsewhere are a switch whose save was
				     lost, named by the switch reported */
};

struct failover {
	bool isolated;            /* ISOLATED reported, not yet over */
	struct failover_group_mem *groups; /* parallel to cfg->groups */
	size_t ngroups;
};

/*
 * failover_new -- memory for every group of @cfg: nothing known yet.
 * @return 0 with *out set (free with failover_free), or MXF_ENOMEM.
 */
int failover_new(const struct config *cfg, struct failover **out);
void failover_free(struct failover *fo);

enum failover_witness {
	FAILOVER_WITNESS_NONE,     /* no witnesses configured */
	FAILOVER_WITNESS_OK,       /* at least one witness answered */
	FAILOVER_WITNESS_ISOLATED, /* every witness failed this round */
};

/*
 * failover_set_witness -- the witness verdict of this round.
 * @return the number of events appended (ISOLATED or ISOLATION_OVER on a
 *         transition, else 0), or MXF_ENOMEM.
 */
int failover_set_witness(struct failover *fo, enum failover_witness verdict, uint64_t now_ms,
			 struct failover_events *ev);

/*
 * failover_request_failback -- manual failback: let the next plan of @group
 * move to the preferred UP server (cleared by the commit that switches).
 * @return 0 or MXF_EINVAL.
 */
int failover_request_failback(struct failover *fo, size_t group);

/* ---- the plan -------------------------------------------------------- */

enum failover_verdict {
	FAILOVER_NO_CHANGE, /* DNS already points where it should */
	FAILOVER_CHANGE,    /* some zone has changes */
	FAILOVER_HELD,      /* a switch is wanted but hold_down forbids it */
	FAILOVER_ALL_DOWN,  /* every server is down: records stay */
	FAILOVER_ISOLATED,  /* every witness fails: no change */
	FAILOVER_WAITING,   /* a server is UNKNOWN: no decision yet */
};

enum failover_rec_verdict {
	FAILOVER_R_KEEP,         /* points at a group server and stays there */
	FAILOVER_R_CHANGE,       /* will be repointed (old_values -> new_values) */
	FAILOVER_R_ABSENT,       /* does not exist: never created */
	FAILOVER_R_HAND_CHANGED, /* points elsewhere: left alone, reported */
	FAILOVER_R_NOT_READ,     /* its zone could not be read: left alone */
	FAILOVER_R_NO_VALUE,     /* the wanted server has no value for the type */
};

struct failover_record_plan {
	size_t record;            /* index into the group's records */
	char *owner;              /* absolute owner name */
	enum failover_rec_verdict verdict;
	long points_to;           /* server index the record points at, or -1 */
	long written;             /* what mxfailover last wrote or adopted
				     there (memory), or -1 */
	char **old_values;        /* the RRset as read (CAS prerequisite) */
	size_t nold;
	char **new_values;        /* CHANGE: the RRset to write */
	size_t nnew;
	int64_t ttl;              /* CHANGE: TTL to write (config or as read) */
};

struct failover_zone_plan {
	size_t zone;              /* index into the group's zones */
	const char *name;         /* borrowed from the config */
	bool read_failed;         /* some read failed or was missing */
	char *error;              /* the first read error, or NULL */
	size_t nchanges;          /* records with verdict CHANGE */
	size_t nrecs;             /* the group's number of records */
	struct failover_record_plan *recs; /* [nrecs] */
};

struct failover_plan {
	size_t group;
	enum failover_verdict verdict;
	enum config_rtype type;
	long current;             /* the server records are meant to point at
				     now (memory, else most records), or -1 */
	long preferred;           /* what the rules want, hold_down aside, or -1 */
	long wanted;              /* what this plan points records at, or -1
				     (no change of any record then) */
	uint64_t held_until_ms;   /* HELD: when hold_down ends */
	long waiting_for;         /* WAITING: the UNKNOWN server */
	char why[FAILOVER_DETAIL_MAX]; /* one line: the decision and its reason */
	size_t nchanges;          /* over all zones */
	size_t nzones;
	struct failover_zone_plan *zones; /* [group nzones] */
};

/*
 * failover_plan -- decide for one group.
 * @fo      memory (read only here).
 * @h       health, pins included; read only (expire pins before).
 * @dns     what DNS holds now for the group (NULL: nothing read, every
 *          zone then not acted on, the decision is still made).
 * @out     a new plan, freed with failover_plan_free().
 * @return 0, MXF_EINVAL (bad group, @dns of another group or shape),
 *         MXF_ENOMEM.
 */
int failover_plan(const struct failover *fo, const struct config *cfg, size_t group,
		  const struct health *h, const struct failover_dns *dns, uint64_t now_ms,
		  struct failover_plan **out);

/*
 * failover_plan_with -- as failover_plan, deciding on @states (per server of
 * the config; NULL: each server's effective state in @h) instead of this
 * monitor's own health: the [quorum] decision (quorum.h), where a server
 * is UP or DOWN only when enough monitors agree and UNKNOWN otherwise, so
 * the rules above (UNKNOWN stops the walk) need no change.  @h is still
 * required (the plan's texts).
 */
int failover_plan_with(const struct failover *fo, const struct config *cfg, size_t group,
		       const struct health *h, const enum health_state *states,
		       const struct failover_dns *dns, uint64_t now_ms, struct failover_plan **out);

void failover_plan_free(struct failover_plan *p);

/* Status of one zone of a plan, for failover_commit(). */
#define FAILOVER_ZONE_NOT_TRIED 1 /* not sent (backoff, shutdown) */
/* Sent, refused as a conflict, and every record found already holding the
 * plan's values: another monitor made the same change first ([quorum]), or
 * a retransmitted update whose first copy went through.  Converged like 0;
 * with [quorum] the zone is not counted as switched by this monitor. */
#define FAILOVER_ZONE_ALREADY 2

/*
 * failover_commit -- tell the memory what was done with a plan and collect
 * the events it makes, each once per transition.
 * @zone_status  per plan zone: 0 applied (or nothing to apply), a negative
 *               MXF_E* when its update failed, FAILOVER_ZONE_NOT_TRIED,
 *               FAILOVER_ZONE_ALREADY.
 *               NULL means every zone was applied.
 * @now_ms       the round's time: events, the last switch (hold_down).
 * @tried_ms     when the updates ended, for the backoff: a failed update
 *               may have used up its whole DNS timeout.
 * @next_ms      may be NULL; receives the earliest time some zone of the
 *               group may be tried again, 0 when none is backing off.
 * The group's active server becomes the plan's wanted one when at least one
 * zone was updated, or no record needed a change, or every zone with changes
 * was found ALREADY there; if every attempted zone failed the switch has not
 * happened and the next plan asks again.  With [quorum] (several monitors)
 * the switch is reported by the monitor whose update moved the plan's
 * first zone with changes (one UPDATE per zone gets through, so that
 * monitor is unique); the others adopt it silently -- hold_down counts from
 * now --, also when they race in the same round and each moves some zones.
 * A monitor that finds zones already moved in an earlier round (the switch
 * was reported) reports the zones it completes as SWITCH_COMPLETED.
 * Without [quorum], ALREADY counts as updated.
 * Each record read is remembered as written where it stays (KEEP) or was
 * updated; zones updated, and zones found where a saved intent was moving
 * them, are listed in the round's SWITCHED* or SWITCH_COMPLETED event.
 * The backoff of each zone (whatever the verdict): 0 forgets it; after the
 * n-th failure in a row the next try waits cfg->general.interval_ms times
 * 2^(n-1), at most FAILOVER_BACKOFF_MAX_MS, from @tried_ms;
 * FAILOVER_ZONE_NOT_TRIED leaves it as it was.
 * @return the number of events appended, MXF_EINVAL (*next_ms then 0),
 *         MXF_ENOMEM.
 */
int failover_commit(struct failover *fo, const struct config *cfg, const struct failover_plan *p,
		    const int *zone_status, uint64_t now_ms, uint64_t tried_ms,
		    struct failover_events *ev, uint64_t *next_ms);

/*
 * failover_intent -- call before sending the updates of @p: each zone with
 * @sends[z] (an array of p->nzones; NULL: every zone with changes) is
 * marked as being moved to p->wanted, and its records' current values
 * (ours, as the plan found them) are remembered as written, so both the old
 * and the new value stay ours whatever happens to the update.
 * @return 1 when the memory changed and must be saved before sending (a
 *         zone got a new target), 0 when not (retries of the same switch),
 *         MXF_EINVAL (bad plan, or a plan without a wanted server).
 */
int failover_intent(struct failover *fo, const struct failover_plan *p, const bool *sends);

/*
 * failover_active -- the server of @group that is active for notices (the
 * via_active relay): @p's wanted server, else @p's current one, else the
 * one the memory @fo holds, else the group's preferred (first) server.
 * @p and @fo may be NULL (no plan yet: start-up, reload); a @p of another
 * group is ignored.  Pure.
 * @return an index into cfg->servers, -1 only for a bad @group or a group
 *         without servers.
 */
long failover_active(const struct failover *fo, const struct config *cfg, size_t group,
		     const struct failover_plan *p);

/*
 * failover_zone_due -- may zone @zone of @group be sent an update at @now_ms,
 * or is it waiting out the backoff of failed updates?
 * @return true when due (also for out-of-range indices: nothing to wait for).
 */
bool failover_zone_due(const struct failover *fo, size_t group, size_t zone, uint64_t now_ms);

/* When zone @zone of @group may be tried next (0: at once, or bad indices). */
uint64_t failover_zone_next_ms(const struct failover *fo, size_t group, size_t zone);

/*
 * failover_zone_read -- whether some record of a zone could not be read this
 * round, so that a failing read is reported once per streak.
 * @return 1 when the zone starts failing (report it), -1 when it reads fine
 *         again after failing (report that), 0 when nothing is new or the
 *         indices are out of range.
 */
int failover_zone_read(struct failover *fo, size_t group, size_t zone, bool failed);

/*
 * failover_plan_format -- the `plan` command's explanation: the decision and
 * why, each change (owner, type, old -> new), and every record left alone
 * with its reason.  Times are printed in UTC.
 * @return 0 with *out a malloc'ed NUL-terminated text, or MXF_ENOMEM.
 */
int failover_plan_format(const struct failover_plan *p, const struct config *cfg,
			 const struct health *h, uint64_t now_ms, char **out);

/* "no change" "change" "held down" "all down" "isolated" "waiting". */
const char *failover_verdict_name(enum failover_verdict v);
/* "keep" "change" "absent" "changed by hand" "not read" "no value". */
const char *failover_rec_verdict_name(enum failover_rec_verdict v);

/*
 * failover_server_value -- the record value that points @type at @server:
 * the name for CNAME and MX (MX preference not included), the address for
 * A (IPv4 only) and AAAA (IPv6 only).
 * @return a string borrowed from @cfg, or NULL when the server has none.
 */
const char *failover_server_value(const struct config *cfg, size_t server, enum config_rtype type);

#endif
