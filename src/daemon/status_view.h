/*
 * status_view.h -- inside the daemon only: what the status answers
 * (status_page.c, status_metrics.c, status_json.c) derive from the state,
 * derived once here so the dashboard, /metrics and /api/status can never
 * disagree: each group's verdict, and the escaping and time formats they
 * share.  Pure: no I/O, no clock (times come in as arguments).
 */
#ifndef MXF_STATUS_VIEW_H
#define MXF_STATUS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "state.h"

/* A group's headline, in rising order of gravity (the page title carries
 * the gravest of all groups). */
enum status_verdict {
	STATUS_VERDICT_OK,	    /* on the preferred (first) server */
	STATUS_VERDICT_WAITING,	    /* not known yet: no active server, or
				       the active one still UNKNOWN */
	STATUS_VERDICT_HAND,	    /* a record was changed by hand */
	STATUS_VERDICT_FAILED_OVER, /* on another server than the preferred */
	STATUS_VERDICT_ACTIVE_DOWN, /* the records point at a DOWN server
				       while another is up (the switch has
				       not happened: held, failing, ...) */
	STATUS_VERDICT_QUORUM_LOST, /* [quorum]: fewer than `need` fresh
				       monitors: nothing switches */
	STATUS_VERDICT_ISOLATED,    /* every witness fails: nothing changes */
	STATUS_VERDICT_ALL_DOWN,    /* every server of the group is down */
};

struct status_group_view {
	enum status_verdict verdict;
	long active;	  /* server index, -1 unknown */
	size_t preferred; /* the group's first server */
	bool failed_over; /* active and not the preferred one */
	bool all_down;
	bool active_down; /* the active server is DOWN */
	bool isolated;
	bool quorum_lost;   /* status_view_quorum_lost() */
	size_t nhand;	    /* records marked changed by hand */
	uint64_t switch_ms; /* the last switch, 0 never */
};

/* status_view_group -- the view of group @g at @now_ms. */
void status_view_group(const struct config *cfg, const struct state *st, size_t g, uint64_t now_ms,
		       struct status_group_view *out);

/* The gravest verdict of every group (OK when there is none). */
enum status_verdict status_view_worst(const struct config *cfg, const struct state *st,
				      uint64_t now_ms);

/* "ok" "waiting" "hand_changed" "failed_over" "active_down" "quorum_lost"
 * "isolated" "all_down", and the words for a title: "OK", "waiting for the
 * first checks", "record changed by hand", "FAILED OVER", "ACTIVE SERVER
 * DOWN", "QUORUM LOST", "ISOLATED", "EVERY SERVER DOWN". */
const char *status_verdict_id(enum status_verdict v);
const char *status_verdict_words(enum status_verdict v);

/* When the isolation in force began (its ISOLATED event), 0 when not
 * isolated or the event is not recorded yet. */
uint64_t status_view_isolated_since(const struct state *st);

/* [quorum] is on and its last round found fewer than `need` fresh
 * monitors (st->quorum's "have" false), as `mxfailover status` says
 * quorum_lost.  False without [quorum] or before the first round. */
bool status_view_quorum_lost(const struct config *cfg, const struct state *st);

/* When the quorum loss in force began (its QUORUM_LOST event), 0 when
 * quorum is not lost or the event is not recorded. */
uint64_t status_view_quorum_lost_since(const struct config *cfg, const struct state *st);

/* Does the witness @i of the config hold a down result? */
bool status_view_witness_down(const struct state *st, size_t i);

/* Append @s escaped for HTML text and attributes (& < > "). */
void status_html(struct buf *b, const char *s);
/* Append @s escaped as a Prometheus label value (\ " newline). */
void status_label(struct buf *b, const char *s);

/* "2026-12-02T02:10:26Z" for wall @ms (RFC 3339, UTC); "" for 0. */
char *status_rfc3339(uint64_t ms, char *out, size_t size);
/* "2026-12-02 02:10 UTC" for wall @ms. */
char *status_when(uint64_t ms, char *out, size_t size);
/* "2026-12-02 02:10:26 UTC", to the second (events). */
char *status_when_s(uint64_t ms, char *out, size_t size);
/* A duration as people write it: "45s", "12m", "3h 05m", "2d 4h". */
char *status_duration(uint64_t ms, char *out, size_t size);

#endif
