/*
 * round_quorum.h -- a round's part of [quorum] (several monitors, one
 * decision; failover/quorum.h decides, this file talks to the primary).
 *
 * The daemon keeps one struct round_quorum for its whole run (rebuilt on a
 * reload); each round, once the checks are fed to health and before DNS is
 * read, round_quorum_start():
 *
 *   - publishes this monitor's view (each server's effective state; all
 *     unknown while the monitor is isolated: it has no fresh evidence) as
 *     the TXT record ID._mxfailover.ZONE, one signed UPDATE with no
 *     prerequisite, when the view changed or a heartbeat is due;
 *   - reads every other monitor's record from the primary, at the same time;
 *   - then feeds what it read to the tracker and decides each server's
 *     state by agreement (quorum_decide), which the round's plans use in
 *     place of this monitor's own health (failover_plan_with).
 *
 * A monitor that cannot publish stops counting its own vote, and one that
 * cannot read sees the others go stale: cut from the primary, it can
 * neither vote nor switch.  Times: the tracker runs on the monotonic clock,
 * so the monitors' wall clocks need not agree.
 */
#ifndef MXF_ROUND_QUORUM_H
#define MXF_ROUND_QUORUM_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "dns_ops.h"
#include "failover.h"
#include "health.h"

struct round_quorum;

/*
 * round_quorum_new -- the daemon's quorum memory for @cfg (cfg->quorum
 * enabled), with a new random boot nonce.
 * @return 0, MXF_ENOMEM, MXF_EINVAL (no [quorum]; names that do not form).
 */
int round_quorum_new(const struct config *cfg, struct round_quorum **out);

/*
 * round_quorum_reload -- the memory for a reloaded @ncfg: NULL in *out
 * when @rq can go on under it (round_quorum_rebind at the swap: the same
 * [quorum] and servers), else a new one that carries over whether quorum
 * was lost (its alert is not repeated, its return still said).
 * @return 0, MXF_ENOMEM, MXF_EINVAL.
 */
int round_quorum_reload(const struct round_quorum *rq, const struct config *ncfg,
			struct round_quorum **out);

/* Go on under @ncfg (round_quorum_reload said it can). */
void round_quorum_rebind(struct round_quorum *rq, const struct config *ncfg);

/* Free it; an exchange still out is cancelled by freeing the dns_ops
 * first (the daemon does), or ignored here.  NULL is a no-op. */
void round_quorum_free(struct round_quorum *rq);

/*
 * round_quorum_start -- publish (when due) and read, then call @done once
 * (also when nothing could be sent).  @h is read now, not kept.
 * @isolated  every witness failed this round: the view published is all
 *            unknown.
 */
void round_quorum_start(struct round_quorum *rq, struct dns_ops *ops, const struct health *h,
			bool isolated, uint64_t now_wall_ms, void (*done)(void *arg), void *arg);

/*
 * The decision of the last round_quorum_start: per server of the config,
 * the state agreed by `need` fresh monitors, else HEALTH_UNKNOWN (all
 * unknown without quorum).  Borrowed until the next start or the free.
 */
const enum health_state *round_quorum_states(const struct round_quorum *rq);

/* Whether that decision differs from the one before (a fast round then
 * reads DNS and plans, as when a server's own state changed). */
bool round_quorum_changed(const struct round_quorum *rq);

/*
 * round_quorum_events -- append QUORUM_LOST / QUORUM_BACK to @ev when the
 * last decision lost or regained quorum (each once per transition).
 * @return the number appended, or MXF_ENOMEM.
 */
int round_quorum_events(struct round_quorum *rq, uint64_t now_wall_ms, struct failover_events *ev);

/*
 * round_quorum_note_switch -- remember which monitors agreed when group
 * @group switched to @server (their fresh views saw it UP), for status.
 */
void round_quorum_note_switch(struct round_quorum *rq, size_t group, long server,
			      uint64_t now_wall_ms);

/*
 * round_quorum_json -- every monitor's view and freshness, the decision and
 * who agreed on each group's last switch, for the state file and status:
 *   {"id","need","zone","have":bool,"fresh":N,
 *    "monitors":[{"id","self","fresh","seen","age_ms","seq","boot","at",
 *                 "read_error","views":{SERVER:"up"|"down"|"unknown"}}],
 *    "decision":{SERVER:STATE},
 *    "last_switch":{GROUP:{"to","at","agreed":[ID...]}}}
 * @return a new reference, or NULL when out of memory.
 */
json_t *round_quorum_json(const struct round_quorum *rq, uint64_t now_wall_ms);

#endif
