/*
 * state_history.h -- inside the failover library only: the JSON forms of
 * the state's history strips and witness memory (state_history.c), shared
 * with state.c.  Their public face is in state.h.  No I/O, no logging.
 *
 * Both are optional in the state file: a file written before they existed
 * loads with empty strips and witnesses never seen, and a malformed entry
 * is skipped rather than refused, since nothing decides on them.
 */
#ifndef MXF_STATE_HISTORY_H
#define MXF_STATE_HISTORY_H

#include <jansson.h>

#include "state.h"

/* Allocate @st's strips and witnesses for @cfg.  @return 0 or MXF_ENOMEM. */
int state_history_init(struct state *st, const struct config *cfg);

/* "history": {"slot_ms": N, "servers": {"ID": [[PERIOD, "up"], ...]}}.
 * @return a new reference, or NULL when out of memory. */
json_t *state_history_to_json(const struct state *st, const struct config *cfg);
void state_history_from_json(struct state *st, const struct config *cfg, const json_t *h);

/* "witnesses": {"URL": {"up": B, "at_ms": N, "since_ms": N, "elapsed_ms": N,
 * "reason": S}}, only those seen.  @return a new reference or NULL. */
json_t *state_witness_to_json(const struct state *st, const struct config *cfg);
void state_witness_from_json(struct state *st, const struct config *cfg, const json_t *w);

#endif
