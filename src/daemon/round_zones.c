/*
 * round_zones.c -- what a round's updates did, zone by zone: logged once per
 * zone, written into the views, and listed for the notices; see round_zones.h.
 */
#include "round_zones.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"

void
round_zones_applied(const struct config *cfg, struct failover_dns **dns,
		    struct failover_plan *const *plans, const struct round_ref *refs,
		    const struct dns_apply_item *items, size_t nitems)
{
	for (size_t i = 0; i < nitems; i++) {
		const struct round_ref *ref = &refs[i];
		const struct config_group *g = &cfg->groups[ref->group];
		const struct failover_zone_plan *zp = &plans[ref->group]->zones[ref->zone];
		char names[512] = "";
		const char *from = "?", *to = "?", *fail = NULL;
		size_t len = 0, n = 0, nalready = 0;

		if (i > 0 && refs[i - 1].group == ref->group && refs[i - 1].zone == ref->zone)
			continue; /* items of one zone are adjacent; the first logs */
		for (size_t j = i;
		     j < nitems && refs[j].group == ref->group && refs[j].zone == ref->zone; j++) {
			const struct dns_apply_item *it = &items[j];

			for (size_t k = 0; k < zp->nrecs; k++) {
				const struct failover_record_plan *rp = &zp->recs[k];

				if (rp->record != refs[j].rec)
					continue;
				if (it->status != 0) {
					if (fail == NULL)
						fail = it->msg;
					continue;
				}
				nalready += it->already;
				if (n++ == 0) {
					from = rp->nold > 0 ? rp->old_values[0] : "?";
					to = rp->nnew > 0 ? rp->new_values[0] : "?";
				}
				if (len < sizeof(names) - 1)
					len += (size_t)snprintf(names + len, sizeof(names) - len,
								"%s%s", len > 0 ? " " : "",
								g->records[rp->record]);
				log_debug("group %s: %s %s %s -> %s (%s)", g->id, rp->owner,
					  config_rtype_name(g->type), from, to,
					  it->unchanged ? "already set" : "verified");
				failover_dns_set(dns[ref->group], ref->zone, rp->record,
						 FAILOVER_REC_PRESENT,
						 (const char *const *)rp->new_values, rp->nnew,
						 rp->ttl, NULL);
			}
		}
		if (fail != NULL)
			log_err("group %s: zone %s not changed: %s", g->id, g->zones[ref->zone],
				fail);
		else
			log_info("group %s: zone %s: %s %s %s -> %s (%s)", g->id,
				 g->zones[ref->zone], names, config_rtype_name(g->type), from, to,
				 n > 0 && nalready == n ? "found already there" : "verified");
	}
}

char **
round_zones_moved(const struct config *cfg, struct failover_plan *const *plans,
		  const struct round_ref *refs, const struct dns_apply_item *items, size_t nitems,
		  size_t g, size_t *n)
{
	const struct config_group *gr = &cfg->groups[g];
	char **v = calloc(nitems + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v != NULL && i < nitems; i++) {
		const struct round_ref *ref = &refs[i];
		const struct failover_zone_plan *zp;

		if (ref->group != g || items[i].status != 0)
			continue;
		zp = &plans[g]->zones[ref->zone];
		for (size_t k = 0; k < zp->nrecs; k++) {
			const struct failover_record_plan *rp = &zp->recs[k];

			if (rp->record == ref->rec && rp->nnew > 0 &&
			    asprintf(&v[*n], "%s %s %s", rp->owner, config_rtype_name(gr->type),
				     rp->new_values[0]) >= 0)
				(*n)++;
		}
	}
	return v;
}
