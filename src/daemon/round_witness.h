/*
 * round_witness.h -- a round's witness results (round.c): each noted in
 * the state (its 24 h strip, state_witness_note) and logged once per
 * streak, when the witness goes down and when it is back, not in every
 * round it stays down.
 *
 * The daemon owns the memory of the streaks (one per daemon, kept across
 * rounds and reloads) and lends it to each round through
 * round_env.witnesses.  The verdict on the witnesses (isolated or not) is
 * round_rules_witness()'s, not this file's.
 */
#ifndef MXF_ROUND_WITNESS_H
#define MXF_ROUND_WITNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "config.h"
#include "state.h"

/* Most witnesses whose streaks are remembered (CONFIG_MAX_LIST). */
#define ROUND_WITNESS_MEMORY 4096

/*
 * Which witnesses were down in the last round, so a witness that stays
 * down is logged when it goes down and when it comes back, not every
 * round.  Zero-initialise; a round for a configuration with another
 * number of witnesses (a reload) starts it afresh.
 */
struct round_witness_memory {
	size_t n;				      /* witnesses it is about */
	unsigned char down[ROUND_WITNESS_MEMORY / 8]; /* bit i: witness i was down */
};

/*
 * round_witness_fit -- make @m about @nwitness witnesses: when it was about
 * another number (the configuration was reloaded), forget every streak.
 * @m NULL is allowed and does nothing.
 */
void round_witness_fit(struct round_witness_memory *m, size_t nwitness);

/*
 * round_witness_note -- witness @i of @cfg answered @res this round (at
 * @now_ms): note it in @st and log it once per streak, remembered in @m.
 * @m NULL (or @i beyond ROUND_WITNESS_MEMORY): every down result is
 * logged.  @res is borrowed for the call (its reason is copied by @st).
 * @return whether the witness is down (CHECK_STATE_DOWN).
 */
bool round_witness_note(struct round_witness_memory *m, struct state *st, const struct config *cfg,
			size_t i, const struct check_result *res, uint64_t now_ms);

#endif
