/*
 * round_witness.c -- a round's witness results noted and said once per
 * streak; see round_witness.h.  The memory is the daemon's and the state
 * the round's; this file only flips the memory's bits, notes and logs.
 */
#include "round_witness.h"

#include <string.h>

#include "log.h"

void
round_witness_fit(struct round_witness_memory *m, size_t nwitness)
{
	if (m != NULL && m->n != nwitness) {
		memset(m, 0, sizeof(*m));
		m->n = nwitness;
	}
}

/*
 * Log witness @i's result @down (with @reason) once per streak: when it
 * goes down and when it is back, not in every round it stays down.
 */
static void
round_witness_say(struct round_witness_memory *m, const struct config *cfg, size_t i, bool down,
		  const char *reason)
{
	const char *url = cfg->general.witness[i];
	bool was;

	if (m == NULL || i >= ROUND_WITNESS_MEMORY) {
		if (down)
			log_info("witness %s: down: %s", url, reason);
		return;
	}
	was = (m->down[i / 8] >> (i % 8)) & 1;
	if (down && !was)
		log_info("witness %s: down: %s", url, reason);
	else if (down)
		log_debug("witness %s: still down: %s", url, reason);
	else if (was)
		log_info("witness %s: up again", url);
	if (down)
		m->down[i / 8] |= (unsigned char)(1u << (i % 8));
	else
		m->down[i / 8] &= (unsigned char)~(1u << (i % 8));
}

bool
round_witness_note(struct round_witness_memory *m, struct state *st, const struct config *cfg,
		   size_t i, const struct check_result *res, uint64_t now_ms)
{
	bool down = res->state == CHECK_STATE_DOWN;

	state_witness_note(st, i, !down, res->elapsed_ms, res->reason, now_ms);
	round_witness_say(m, cfg, i, down, res->reason);
	return down;
}
