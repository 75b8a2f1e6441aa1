/*
 * round_witness.c -- a round's witness results noted and said once per
 * streak; see round_witness.h.  The state holds the streak; this file only
 * reads it before noting the new result, and logs.
 */
#include "round_witness.h"

#include "log.h"

/* -1 when witness @i has no fresh result in @st, else 1 down, 0 up. */
static int
round_witness_was_down(const struct state *st, const struct config *cfg, size_t i,
		       uint64_t now_ms)
{
	const struct state_witness *w;

	if (st->witness == NULL || i >= st->nwitness)
		return -1;
	w = &st->witness[i];
	if (!w->seen || w->at_ms > now_ms || now_ms - w->at_ms > state_stale_after_ms(cfg))
		return -1;
	return w->up ? 0 : 1;
}

bool
round_witness_note(struct state *st, const struct config *cfg, size_t i,
		   const struct check_result *res, uint64_t now_ms)
{
	const char *url = cfg->general.witness[i];
	bool down = res->state == CHECK_STATE_DOWN;
	int was = round_witness_was_down(st, cfg, i, now_ms);

	state_witness_note(st, i, !down, res->elapsed_ms, res->reason, now_ms);
	if (down && was != 1)
		log_info("witness %s: down: %s", url, res->reason);
	else if (down)
		log_debug("witness %s: still down: %s", url, res->reason);
	else if (was == 1)
		log_info("witness %s: up again", url);
	return down;
}
