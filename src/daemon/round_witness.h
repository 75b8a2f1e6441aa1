/*
 * round_witness.h -- a round's witness results (round.c): each noted in
 * the state (state_witness_note) and logged once per streak, when the
 * witness goes down and when it is back, not in every round it stays down.
 *
 * Whether a witness was already down is read from the state before the new
 * result is noted (struct state_witness: its last result, matched by URL
 * across reloads and restarts), so the fact is kept in one place.  The
 * verdict on the witnesses (isolated or not) is round_rules_witness()'s,
 * not this file's.
 */
#ifndef MXF_ROUND_WITNESS_H
#define MXF_ROUND_WITNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "config.h"
#include "state.h"

/*
 * round_witness_note -- witness @i of @cfg answered @res this round (at
 * @now_ms): note it in @st and log it once per streak.  The streak is the
 * state's: a last result older than state_stale_after_ms() (a state file
 * from long ago) does not count, so its witness is said afresh.  @res is
 * borrowed for the call (its reason is copied by @st).
 * @return whether the witness is down (CHECK_STATE_DOWN).
 */
bool round_witness_note(struct state *st, const struct config *cfg, size_t i,
			const struct check_result *res, uint64_t now_ms);

#endif
