/*
 * health.h -- the rise/fall state machine of every check and every server.
 *
 * Pure: it never touches sockets, clocks or syslog.  The caller runs the
 * checks (the daemon on its event loop, `once` in one pass), turns each
 * outcome into an enum health_outcome with a reason, and feeds one full round
 * of a server's results with the time it was taken.  Times are milliseconds
 * of the wall clock (Unix epoch), the same clock everywhere, so that the
 * state file stays meaningful across restarts.
 *
 * Rules (SPEC.md, "Behaviour users rely on"):
 *  - A round of a server is good when every one of its checks is OK or WARN
 *    (a warning, such as a certificate that expires soon, is reported but
 *    counts as OK for failover) and failed when any check FAILs.
 *  - A server is DOWN after `fall` consecutive failed rounds (whichever of its
 *    checks failed in each), UP again after `rise` consecutive good rounds.
 *  - At start a server is UNKNOWN (unless the state file says otherwise;
 *    health in a stale state file is forgotten, health_forget()).  It
 *    becomes UP after `rise` good rounds and DOWN after `fall` failed
 *    rounds, the full count either way: nothing is known of it, so losing
 *    or ageing the state file cannot shorten the anti-flap counts.  Failover
 *    derives no DNS action from UNKNOWN, so a start-up never flips records.
 *  - Isolated rounds (every witness failing: the monitor's own link may be
 *    cut) are fed with health_feed_isolated().  A failure in such a round is
 *    no evidence against the server: it does not count, and it breaks both
 *    streaks (the failed one so that, once isolation is over, a server
 *    needs `fall` fresh failed rounds; the good one because the round was
 *    not good).  The state never changes on one.  A pass in an isolated
 *    round counts as in any round: the server did answer.  So a server
 *    DOWN before isolation stays DOWN until it passes `rise` rounds, and
 *    one UP stays UP.  The same holds for each check's own counters.
 *  - Each check has the same machine on its own counters, for status output.
 *  - A pin (operator override, optionally expiring) replaces the checked
 *    state: the effective state is the pin when one is set, else the checked
 *    state.  Failover uses the effective state.
 *
 * Every state change, of a check, of a server or of a pin, goes through one
 * function (health_enter_state in health.c), which queues a struct
 * health_change recording old -> new, the time and the reason.  The caller
 * drains the queue with health_next_change() after each call and logs each
 * change once; healthy rounds produce nothing.
 */
#ifndef MXF_HEALTH_H
#define MXF_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define HEALTH_REASON_MAX 256

/* One check's verdict in one round.  HEALTH_WARN counts as OK for failover. */
enum health_outcome { HEALTH_OK, HEALTH_WARN, HEALTH_FAIL };

enum health_state { HEALTH_UNKNOWN, HEALTH_UP, HEALTH_DOWN };

enum health_pin { HEALTH_PIN_NONE, HEALTH_PIN_DOWN, HEALTH_PIN_UP };

enum health_change_kind {
	HEALTH_CHANGE_CHECK,  /* a check's own state changed */
	HEALTH_CHANGE_SERVER, /* the checked state of a server changed */
	HEALTH_CHANGE_PIN,    /* a pin was set, cleared or expired */
};

/* The input of one check for one round; @reason is copied (may be NULL). */
struct health_result {
	enum health_outcome outcome;
	const char *reason;
};

struct health_check {
	char *label;                   /* the check URL, for reasons */
	enum health_state state;
	bool seen;                     /* at least one result was fed */
	enum health_outcome last;      /* last outcome fed */
	unsigned good_run;             /* consecutive OK/WARN rounds */
	unsigned bad_run;              /* consecutive FAIL rounds */
	uint64_t last_ms;              /* time of the last result */
	uint64_t elapsed_ms;           /* how long the last result took (health_set_elapsed) */
	uint64_t since_ms;             /* time of the last state change, 0 never */
	char reason[HEALTH_REASON_MAX]; /* reason of the last result */
};

struct health_server {
	enum health_state state;       /* from the checks alone, pins excluded */
	enum health_state forgotten;   /* UNKNOWN: what health_forget() found; a
					* first verdict equal to it is no news */
	unsigned good_run;             /* consecutive rounds with every check good */
	unsigned bad_run;              /* consecutive rounds with a check failed */
	uint64_t since_ms;             /* time of the last change of @state, 0 never */
	char reason[HEALTH_REASON_MAX]; /* why @state is what it is */
	enum health_pin pin;
	uint64_t pin_until_ms;         /* 0: until unpinned */
	struct health_check *checks;
	size_t nchecks;
};

/*
 * One recorded change.  For HEALTH_CHANGE_CHECK @from/@to are the check's
 * states; for SERVER and PIN they are the server's effective states (pin
 * included), so a checked change hidden by a pin has @from == @to; @raw_from
 * and @raw_to are the checked states in every case.
 */
struct health_change {
	enum health_change_kind kind;
	size_t server;                 /* index into cfg->servers */
	long check;                    /* index into the server's checks, -1 */
	enum health_state from, to;
	enum health_state raw_from, raw_to;
	enum health_pin pin;           /* the pin after the change */
	uint64_t at_ms;
	char reason[HEALTH_REASON_MAX];
};

struct health {
	unsigned fall, rise;
	struct health_server *servers; /* parallel to cfg->servers */
	size_t nservers;
	struct health_change *queue;   /* changes not yet drained */
	size_t qhead, qlen, qcap;
};

/*
 * health_new -- every server and check of @cfg UNKNOWN, no pins; fall and
 * rise from cfg->general (0 is taken as 1).
 * @return 0 with *out set (free with health_free), or MXF_ENOMEM.
 */
int health_new(const struct config *cfg, struct health **out);

/* Free @h and everything it owns; NULL is allowed. */
void health_free(struct health *h);

/*
 * health_feed -- one full round of one server's checks.
 * @server  index into cfg->servers.
 * @res     one result per check of the server, in config order; reasons are
 *          copied (truncated to HEALTH_REASON_MAX - 1).
 * @nres    must equal the server's number of checks.
 * @now_ms  when the round completed.
 * @return the number of changes queued (0 for an uneventful round), or
 *         MXF_EINVAL (bad index or count; nothing changed) or MXF_ENOMEM.
 */
int health_feed(struct health *h, size_t server, const struct health_result *res, size_t nres,
		uint64_t now_ms);

/*
 * health_feed_isolated -- as health_feed(), for a round in which every
 * witness failed: the server's and its checks' failures do not count (see
 * the rules above), their passes do.  Same parameters and return.
 */
int health_feed_isolated(struct health *h, size_t server, const struct health_result *res,
			 size_t nres, uint64_t now_ms);

/*
 * health_set_elapsed -- record how long check @check of @server took in the
 * round just fed, for `status --plugin`'s latency (it does not count
 * towards health).  Out-of-range indices are ignored.
 */
void health_set_elapsed(struct health *h, size_t server, size_t check, uint64_t ms);

/*
 * health_forget -- the checked health of every server and check becomes
 * UNKNOWN with no streak, as at a start without a state file; pins, the
 * last results and their reasons are kept.  For health loaded from a state
 * file too old to be believed (state_forget_stale()).  It is a reset like
 * health_new(), not a change: nothing is queued.  The state each server was
 * in is remembered, so that the first verdict after it, when it is the
 * same state again, is not reported as a change (no repeated "down").
 * @reason  the servers' new reason (may be NULL).
 */
void health_forget(struct health *h, const char *reason);

/*
 * health_set_pin -- set (HEALTH_PIN_DOWN/UP) or clear (HEALTH_PIN_NONE) the
 * operator's pin of a server.
 * @until_ms  when the pin expires, 0 for never; ignored when clearing;
 *            a time not after @now_ms is refused (MXF_EINVAL).
 * @reason    why, for the change record (may be NULL: "pinned by operator").
 * @return the number of changes queued (1, or 0 if nothing changed), or
 *         MXF_EINVAL / MXF_ENOMEM.
 */
int health_set_pin(struct health *h, size_t server, enum health_pin pin, uint64_t until_ms,
		   uint64_t now_ms, const char *reason);

/*
 * health_expire_pins -- clear every pin whose expiry time is <= @now_ms,
 * queueing one change per pin.  Call it before each decision.
 * @return the number of pins expired, or MXF_ENOMEM.
 */
int health_expire_pins(struct health *h, uint64_t now_ms);

/*
 * health_effective -- the state failover acts on: the pin if one is set and
 * not expired at @now_ms, else the checked state.  Out-of-range indices
 * give HEALTH_UNKNOWN.
 */
enum health_state health_effective(const struct health *h, size_t server, uint64_t now_ms);

/* True when @server is pinned (down or up) and the pin has not expired. */
enum health_pin health_pinned(const struct health *h, size_t server, uint64_t now_ms);

/*
 * health_next_change -- take the oldest queued change.
 * @return true with *out filled, false when the queue is empty.
 */
bool health_next_change(struct health *h, struct health_change *out);

/* Names for output and the state file: "unknown" "up" "down"; "ok"
 * "warning" "failed"; "none" "down" "up"; "check" "server" "pin". */
const char *health_state_name(enum health_state s);
const char *health_outcome_name(enum health_outcome o);
const char *health_pin_name(enum health_pin p);
const char *health_change_kind_name(enum health_change_kind k);

/* Reverse lookups of the names above.  @return 0 or MXF_EINVAL. */
int health_state_parse(const char *s, enum health_state *out);
int health_outcome_parse(const char *s, enum health_outcome *out);
int health_pin_parse(const char *s, enum health_pin *out);

#endif
