/*
 * failover_impl.h -- what failover.c shares with failover_commit.c: the
 * event list's append and the zones' backoff.  Not for other layers.
 */
#ifndef MXF_FAILOVER_IMPL_H
#define MXF_FAILOVER_IMPL_H

#include <stdint.h>

#include "config.h"
#include "failover.h"

/* Append an event with every index -1 but @group; returns 0 or MXF_ENOMEM.
 * The caller fills the indices of fo_last(ev) afterwards. */
int fo_event_add(struct failover_events *ev, enum failover_event_type type, uint64_t now_ms,
		 long group, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The event fo_event_add appended last. */
struct failover_event *fo_last(struct failover_events *ev);

/*
 * The outcome of one try to update zone @zm, for its backoff: 0 forgets it,
 * a failure waits cfg->general.interval_ms times 2^(n-1) after the n-th in
 * a row (at most FAILOVER_BACKOFF_MAX_MS) from @tried_ms, NOT_TRIED keeps it.
 */
void fo_zone_backoff(struct failover_zone_mem *zm, const struct config *cfg, int status,
		     uint64_t tried_ms);

#endif
