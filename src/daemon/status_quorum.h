/*
 * status_quorum.h -- [quorum] (several monitors, one decision) on the status
 * endpoint: the "quorum" object of /api/status, the mxfailover_quorum_*
 * families of /metrics and the dashboard's "Monitors" panel.  Each reads
 * st->quorum, the object the daemon refreshes every round
 * (round_quorum_json(), round_quorum.h), and the config; without [quorum]
 * the JSON says null and the others add nothing.  Pure.
 *
 *   mxfailover_quorum_have                1 while `need` fresh monitors
 *                                         can decide, 0 when quorum is lost
 *   mxfailover_quorum_fresh_monitors      monitors whose view counts now
 *   mxfailover_quorum_need                [quorum] need
 *   mxfailover_quorum_monitors            [quorum] monitors, this one too
 *   mxfailover_quorum_monitor_fresh{monitor}  1 while its view counts
 *   mxfailover_quorum_view{monitor,server,state}  1 for the state the
 *                                         monitor's last view gives the
 *                                         server (up, down, unknown), 0 for
 *                                         the other two
 *   mxfailover_quorum_decision{server,state}  the same for the state agreed
 *
 * Before the first round the families that come from it have no samples.
 */
#ifndef MXF_STATUS_QUORUM_H
#define MXF_STATUS_QUORUM_H

#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "state.h"

/* Set "quorum" in @root: a copy of st->quorum, null without [quorum] or
 * before the first round. */
void status_quorum_json(json_t *root, const struct config *cfg, const struct state *st);

/* Append the mxfailover_quorum_* families (nothing without [quorum]). */
void status_quorum_metrics(struct buf *b, const struct config *cfg, const struct state *st);

/* Append the dashboard's "Monitors" panel (nothing without [quorum]). */
void status_quorum_html(struct buf *b, const struct config *cfg, const struct state *st,
			uint64_t now_ms);

/* Append "quorum lost: N of M monitors fresh, need K: nothing switches"
 * (HTML-escaped), the words of the banners. */
void status_quorum_lost_words(struct buf *b, const struct config *cfg, const struct state *st);

#endif
