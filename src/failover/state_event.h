/*
 * state_event.h -- inside the failover library only: the state's ring of
 * recent events and each event's JSON form in the state file, shared by
 * state.c.  The ring's public face (struct state_event, state_add_event,
 * state_event_count/get) is in state.h.  No I/O, no logging.
 */
#ifndef MXF_STATE_EVENT_H
#define MXF_STATE_EVENT_H

#include <stddef.h>

#include <jansson.h>

#include "state.h"

/* Free what @e owns and zero it. */
void state_event_clear(struct state_event *e);

/*
 * state_event_moved -- fill @e->records for a switch event @ev of group @g
 * (SWITCHED, SWITCHED_BACK, SWITCH_COMPLETED; other types get none): in its
 * zones, the records read back present and not changed by hand, as
 * absolute owner names.  @return 0 or MXF_ENOMEM (what was filled stays for
 * state_event_clear()).
 */
int state_event_moved(const struct state *st, const struct config_group *g,
		      const struct failover_event *ev, struct state_event *e);

/* Append @e to @st's ring, which takes ownership of its strings; beyond
 * STATE_EVENTS_MAX the oldest is dropped. */
void state_event_push(struct state *st, struct state_event *e);

/*
 * state_event_to_json -- @e as the state file stores it (see state.c).
 * @return a new reference, or NULL when out of memory.
 */
json_t *state_event_to_json(const struct state_event *e);

/*
 * state_event_from_json -- event number @i of the file's "events" array.
 * @out     on success filled (the caller owns it: state_event_push or
 *          state_event_clear); untouched otherwise.
 * @err     receives "events[I].FIELD: ..." on failure.
 * @return 0, MXF_EINVAL (not an object, a field of the wrong type or an
 *         unknown event name), MXF_ENOMEM.
 */
int state_event_from_json(const json_t *eo, size_t i, struct state_event *out, char *err,
			  size_t errlen);

#endif
