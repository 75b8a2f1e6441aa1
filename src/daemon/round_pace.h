/*
 * round_pace.h -- when the next round of `run` starts: the pace of
 * HAProxy's health checks (`inter` / `fastinter`).
 *
 * Pure: it reads the health machine (health.h) and the configuration, takes
 * no clock and calls nothing.  The daemon (daemon.c) asks it after each
 * round and arms its timer with the answer; the round itself (round.c) and
 * the decisions in it (health.c, failover.c) are the same whatever the pace.
 *
 * Rules:
 *  - A server is in transition while its checked state and its streaks
 *    disagree: UP (or UNKNOWN) with at least one failed round but fewer than
 *    `fall`, DOWN (or UNKNOWN) with at least one good round but fewer than
 *    `rise`.  Pins do not matter here: the checks of a pinned server count
 *    as always.
 *  - While any server is in transition the next round starts `fastinter`
 *    after the last one started, else `interval` after it.  `fall` and
 *    `rise` still count consecutive rounds, so a blip (one failed round,
 *    then a good one) flips nothing and the pace is back to `interval`.
 *  - Every round checks every server and every witness, so a fast round
 *    judges isolation on fresh results.  A round fed as isolated clears the
 *    failed streaks (health.h), so isolation itself does not keep the fast
 *    pace.
 *  - A fast round reads DNS and plans only when the effective state of a
 *    server changed in it (round.h, round_env.pace_only); otherwise the
 *    zones wait for the next full round, as they do between rounds at
 *    `interval`.  The daemon makes a round full after a reload and when
 *    the last full one started `interval` ago or more, so a stream of
 *    transitions never starves retries or the finding of hand changes.
 *  - A check that times out takes its timeout: a black-holed server is
 *    re-checked every max(fastinter, timeout).
 *  - `once` and `plan` run one round: no pace.
 */
#ifndef MXF_ROUND_PACE_H
#define MXF_ROUND_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "health.h"

/* Whether server @server of @h is in transition (the rules above).  An
 * out-of-range index is not. */
bool round_pace_in_transition(const struct health *h, size_t server);

/*
 * round_pace_period -- how long after the start of the round just done the
 * next one starts: cfg->general.fastinter_ms while a server of @h is in
 * transition (0 is taken as interval, never more than interval), else
 * cfg->general.interval_ms.
 * @fast    set to whether the fast pace applies (may be NULL).
 * @server  set to the first server in transition, SIZE_MAX none (may be NULL).
 */
uint64_t round_pace_period(const struct config *cfg, const struct health *h, bool *fast,
			   size_t *server);

/*
 * round_pace_fast_round -- whether the round starting at @now_ms may be a
 * fast one (round_env.pace_only): the last round left the fast pace
 * (@fast), and the last full round started less than an interval before
 * (@full_ms, wall clock; a clock that went back makes it full).  The
 * caller makes it full after a reload too.
 */
bool round_pace_fast_round(const struct config *cfg, bool fast, uint64_t now_ms,
			   uint64_t full_ms);

#endif
