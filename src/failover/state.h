/*
 * state.h -- what mxfailover remembers between rounds, passes and restarts,
 * and the JSON state file that keeps it.
 *
 * A struct state bundles the health machine (health.h: counters, states,
 * check results, and the pins last applied from the pins file), the
 * failover memory (failover.h: active server and last switch per group,
 * alert flags), the record values last seen in DNS per group and zone (the
 * compare-and-swap prerequisite, and what `status` shows) and a ring of the
 * most recent events.  The daemon keeps one in memory and saves it after
 * every round; `once` loads it, runs one round and saves it; `status` and
 * `plan` load it.
 *
 * Pins are set, cleared and read in one place, the pins file (pins.h); the
 * daemon brings health in line with it every round.  The pins saved here
 * are only health's memory of what it has applied, so that a restart or
 * the next `once` pass does not report an unchanged pin again; nothing
 * reads them as the operator's wish.
 *
 * The file is JSON (jansson) with a "version" field (STATE_VERSION); the
 * zones' memory, most of it at hosting scale, is kept in a companion file
 * PATH.zones written only when it changes (state_zones.h).  Each is
 * written atomically (state_file.h): a temporary file in the same
 * directory, fsync, rename over the old file, fsync of the directory; mode
 * 0640.  A crash at any point leaves either the old or the new file, never
 * a mix.  Servers,
 * checks, groups, zones and records are stored by name (id, URL, owner), so
 * a file written under another configuration loads what still matches and
 * ignores the rest.
 *
 * Loading an unreadable, truncated or corrupt file fails with a code and a
 * message; the caller warns and starts from state_new(), rebuilding the
 * rest from what DNS holds.  Nothing here logs.
 */
#ifndef MXF_STATE_H
#define MXF_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "failover.h"
#include "health.h"
#include "state_findings.h"

#define STATE_VERSION 1
#define STATE_EVENTS_MAX 100            /* the ring of recent events */
#define STATE_FILE_MAX (32u * 1024 * 1024) /* a larger file is refused */

/* One remembered event; names rather than indices, so reloads keep them. */
struct state_event {
	enum failover_event_type type;
	uint64_t at_ms;
	char *group;   /* each NULL when not applicable */
	char *server;
	char *from;
	char *to;
	char *zone;
	char *record;  /* owner label relative to the zone, as configured */
	char **zones;  /* the zones a switch moved (failover_event.zones) */
	size_t nzones;
	char **records; /* SWITCHED*, SWITCH_COMPLETED: the absolute owners of
			   the records it moved (in those zones, read back
			   present, not changed by hand); NULL when none or
			   from an older file */
	size_t nrecords;
	char *detail;  /* never NULL */
};

/*
 * The 24 h history strip of a server (the dashboard's): fixed slots of
 * STATE_HISTORY_SLOT_MS, each holding the worst mark seen in it, so its
 * size is bounded whatever the flapping.  Slot k of the ring holds the
 * period number @slot[k] (wall ms / STATE_HISTORY_SLOT_MS), 0 when empty.
 */
#define STATE_HISTORY_SLOT_MS (10u * 60 * 1000)
#define STATE_HISTORY_SLOTS 144 /* 24 h */

enum state_mark { STATE_MARK_NONE, STATE_MARK_UP, STATE_MARK_WARNING, STATE_MARK_DOWN };

struct state_history {
	uint64_t slot[STATE_HISTORY_SLOTS];
	unsigned char mark[STATE_HISTORY_SLOTS]; /* enum state_mark */
};

/* What the last round found of one witness ([general] witness). */
struct state_witness {
	bool seen;            /* a result came in */
	bool up;              /* it answered (up or warning) */
	uint64_t at_ms;       /* when */
	uint64_t since_ms;    /* since when it is up / down, 0 unknown */
	uint64_t elapsed_ms;  /* how long the check took */
	char reason[HEALTH_REASON_MAX];
};

struct state {
	struct health *health;
	struct failover *failover;
	struct failover_dns **seen;     /* [ngroups]: record values last seen */
	size_t ngroups;
	struct state_event events[STATE_EVENTS_MAX]; /* ring */
	size_t ev_first, ev_count;
	uint64_t saved_ms;              /* when the loaded file was written, 0 */
	struct state_history *history;  /* [nservers], parallel to cfg->servers */
	size_t nservers;
	uint64_t *switches;             /* [ngroups]: SWITCHED and SWITCHED_BACK
					   events recorded (state_add_event) */
	struct state_witness *witness;  /* [nwitness], parallel to the config's */
	size_t nwitness;
	struct state_findings findings; /* audit findings announced, not cleared */
	uint64_t zones_hash;            /* state_zones_hash() last written or loaded */
	bool zones_saved;               /* zones_hash is known (state_zones.h) */
	json_t *quorum;                 /* [quorum]: the monitors' views as the
					   daemon last decided on them (owned;
					   NULL without), for `status` */
};

/*
 * state_new -- a fresh state for @cfg: every server UNKNOWN, no pins, no
 * active server, nothing seen, no events.
 * @return 0 with *out set (free with state_free), or MXF_ENOMEM.
 */
int state_new(const struct config *cfg, struct state **out);

/* Free @st and all it owns; NULL is allowed. */
void state_free(struct state *st);

/*
 * state_load -- read the state file at @path for @cfg.
 * @out     on success a new state (free with state_free); else untouched.
 * @err     receives a one-line message naming the file on failure; on
 *          success it is empty, or a warning when the zones' companion
 *          (state_zones.h) exists but could not be used and was ignored.
 * @return 0; MXF_ENOTFOUND when the file does not exist (a first start:
 *         nothing to warn about); MXF_EIO when it cannot be read;
 *         MXF_ETOOBIG beyond STATE_FILE_MAX; MXF_EINVAL when it is not valid
 *         JSON (truncated, corrupt) or not shaped like a state file;
 *         MXF_EUNSUPPORTED for a newer version; MXF_ENOMEM.
 */
int state_load(const char *path, const struct config *cfg, struct state **out, char *err,
	       size_t errlen);

/*
 * state_save -- write @st atomically to @path (see above), mode 0640, after
 * its zones to @path.zones when they changed since last written or loaded
 * (state_zones.h; @st remembers what it wrote).
 * @now_ms  recorded as "saved_ms".
 * @err     a one-line message naming the file and the failing step; on
 *          success empty, or a warning when the directory could not be
 *          synced after the rename (state_file_write()).
 * @return 0, MXF_EIO (the old file, if any, is untouched and no temporary
 *         file is left behind), MXF_ENOMEM.
 */
int state_save(const char *path, const struct config *cfg, struct state *st, uint64_t now_ms,
	       char *err, size_t errlen);

/*
 * state_to_json -- the state as a JSON object (the file's content; `status
 * --json` may reuse it).  @return 0 with *out a new reference, MXF_ENOMEM.
 */
int state_to_json(const struct state *st, const struct config *cfg, uint64_t now_ms,
		  json_t **out);

/*
 * state_from_json -- build a state for @cfg from a parsed state file.
 * @return as state_load (without MXF_ENOTFOUND/MXF_EIO); @err says which
 *         field was wrong.
 */
int state_from_json(const json_t *root, const struct config *cfg, struct state **out, char *err,
		    size_t errlen);

/*
 * state_rebind -- carry @st over to a reloaded configuration (SIGHUP):
 * whatever still exists by name keeps its counters, applied pins, memory
 * (the zones' backoff excepted: it starts afresh), seen values; new
 * servers start UNKNOWN.  @st is not modified.
 * @return 0 with *out a new state, MXF_ENOMEM.
 */
int state_rebind(const struct state *st, const struct config *oldcfg,
		 const struct config *newcfg, struct state **out);

/*
 * state_add_event -- remember @ev (indices resolved against @cfg) in the
 * ring, dropping the oldest beyond STATE_EVENTS_MAX.
 * @return 0 or MXF_ENOMEM (the ring is then unchanged).
 */
int state_add_event(struct state *st, const struct config *cfg, const struct failover_event *ev);

/* Number of remembered events, and the @i-th, 0 being the oldest. */
size_t state_event_count(const struct state *st);
const struct state_event *state_event_get(const struct state *st, size_t i);

/*
 * state_update_seen -- remember the values of @dns (one group's reads):
 * records read as PRESENT or ABSENT replace what was remembered; records
 * UNREAD or FAILED keep their last seen values.
 * @return 0, MXF_EINVAL (shape differs from the config), MXF_ENOMEM.
 */
int state_update_seen(struct state *st, const struct failover_dns *dns);

/*
 * state_stale_after_ms -- how old a state file may be before the health in
 * it is no longer believed (and `status` says the daemon is not running):
 * 3 x max(fall, rise) x interval of @cfg's [general].  Never 0.
 */
uint64_t state_stale_after_ms(const struct config *cfg);

/*
 * state_forget_stale -- forget the health loaded in @st (health_forget():
 * every server UNKNOWN, needing the full `rise` or `fall`) when the file
 * was saved more than state_stale_after_ms(@cfg) before @now_ms, or more
 * than that after it (the clock went back: its age is unknown).  Pins and
 * the rest of the state are kept.  Call it once, right after state_load();
 * `run`, `once` and `plan` do, so for `once` the passes are the rounds.
 * @why  on 1, a one-line reason for the log (also the servers' reason).
 * @return 1 when the health was forgotten, 0 when it is believed.
 */
int state_forget_stale(struct state *st, const struct config *cfg, uint64_t now_ms, char *why,
		       size_t whylen);

/*
 * state_history_judge -- the mark of server @s for its strip: DOWN, UP with
 * a check warning (WARNING), UP, or NONE while UNKNOWN.  Pins count as the
 * effective state does.
 */
enum state_mark state_history_judge(const struct health *h, size_t s, uint64_t now_ms);

/*
 * state_history_note -- remember @m for server @s at @now_ms: the slot of
 * that time keeps the worst mark noted in it; a slot of a new period
 * replaces the oldest.  Out-of-range @s and STATE_MARK_NONE are ignored.
 */
void state_history_note(struct state *st, size_t s, enum state_mark m, uint64_t now_ms);

/* The mark of server @s in period @slot (wall ms / STATE_HISTORY_SLOT_MS),
 * STATE_MARK_NONE when nothing was noted then. */
enum state_mark state_history_get(const struct state *st, size_t s, uint64_t slot);

/* "none" "up" "warning" "down", and back (0 or MXF_EINVAL). */
const char *state_mark_name(enum state_mark m);
int state_mark_parse(const char *s, enum state_mark *out);

/*
 * state_witness_note -- the result of witness @i this round: @up when it
 * answered; @reason is copied (may be NULL).  Out of range is ignored.
 */
void state_witness_note(struct state *st, size_t i, bool up, uint64_t elapsed_ms,
			const char *reason, uint64_t now_ms);

#endif
