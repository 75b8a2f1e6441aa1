/*
 * round_zones.h -- what a round's updates did, zone by zone (round.c hands
 * it the items it sent and their results).
 */
#ifndef MXF_ROUND_ZONES_H
#define MXF_ROUND_ZONES_H

#include <stddef.h>

#include "config.h"
#include "dns_apply.h"
#include "failover.h"
#include "round_rules.h"

/*
 * round_zones_applied -- one log line per zone updated: which records moved
 * from where to where ("verified", or "found already there" when the update
 * was refused and the records already held our values), or why the zone was
 * not changed; and each record that did change written into @dns (the
 * round's views of its groups), so the next plan starts from it.
 * @refs/@items/@nitems  the round's updates (items of one zone adjacent).
 */
void round_zones_applied(const struct config *cfg, struct failover_dns **dns,
			 struct failover_plan *const *plans, const struct round_ref *refs,
			 const struct dns_apply_item *items, size_t nitems);

/*
 * round_zones_moved -- "owner TYPE value" of every record of group @g that
 * this round's updates moved, for the switch's notice.
 * @return a new array of *@n new strings (the caller frees each and the
 *         array), or NULL when out of memory.
 */
char **round_zones_moved(const struct config *cfg, struct failover_plan *const *plans,
			 const struct round_ref *refs, const struct dns_apply_item *items,
			 size_t nitems, size_t g, size_t *n);

#endif
