/*
 * round_rules.c -- the pure decisions of a round; see round_rules.h.
 */
#include "round_rules.h"

#include "mxf.h"

int
round_rules_exit_code(const struct round_summary *s)
{
	if (s->all_down)
		return MXF_EXIT_ALLDOWN;
	if (s->dns_failed)
		return MXF_EXIT_DNS;
	if (s->any_down || s->any_check_failed)
		return MXF_EXIT_DEGRADED;
	return MXF_EXIT_OK;
}

enum failover_witness
round_rules_witness(size_t nwitness, size_t nfailed)
{
	if (nwitness == 0)
		return FAILOVER_WITNESS_NONE;
	return nfailed < nwitness ? FAILOVER_WITNESS_OK : FAILOVER_WITNESS_ISOLATED;
}

enum health_outcome
round_rules_outcome(enum check_state state)
{
	if (state == CHECK_STATE_UP)
		return HEALTH_OK;
	if (state == CHECK_STATE_WARNING)
		return HEALTH_WARN;
	return HEALTH_FAIL;
}

enum notify_kind
round_rules_notify_kind(enum failover_event_type type)
{
	switch (type) {
	case FAILOVER_EV_SERVER_DOWN: return NOTIFY_SERVER_DOWN;
	case FAILOVER_EV_SERVER_UP: return NOTIFY_SERVER_UP;
	case FAILOVER_EV_SWITCHED:
	case FAILOVER_EV_SWITCHED_BACK: return NOTIFY_SWITCHED;
	case FAILOVER_EV_SWITCH_FAILED: return NOTIFY_SWITCH_FAILED;
	case FAILOVER_EV_ALL_DOWN: return NOTIFY_ALL_DOWN;
	case FAILOVER_EV_ISOLATED: return NOTIFY_ISOLATED;
	case FAILOVER_EV_ISOLATION_OVER: return NOTIFY_ISOLATION_OVER;
	case FAILOVER_EV_CHANGED_BY_HAND: return NOTIFY_CHANGED_BY_HAND;
	case FAILOVER_EV_RECORD_MISSING: return NOTIFY_RECORD_MISSING;
	case FAILOVER_EV_SWITCH_COMPLETED: return NOTIFY_SWITCH_COMPLETED;
	case FAILOVER_EV_AUDIT_FINDING: return NOTIFY_AUDIT_FINDING;
	case FAILOVER_EV_AUDIT_CLEAR: return NOTIFY_AUDIT_CLEAR;
	case FAILOVER_EV_QUORUM_LOST: return NOTIFY_QUORUM_LOST;
	case FAILOVER_EV_QUORUM_BACK: return NOTIFY_QUORUM_BACK;
	}
	return NOTIFY_SERVER_DOWN;
}

void
round_rules_zone_status(const struct failover_plan *p, const struct round_ref *refs, size_t nrefs,
			int *zs)
{
	for (size_t z = 0; z < p->nzones; z++)
		zs[z] = p->zones[z].nchanges > 0 ? FAILOVER_ZONE_NOT_TRIED : 0;
	for (size_t i = 0; i < nrefs; i++) {
		const struct round_ref *ref = &refs[i];

		if (ref->group != p->group || ref->zone >= p->nzones)
			continue;
		if (zs[ref->zone] == FAILOVER_ZONE_NOT_TRIED)
			zs[ref->zone] = ref->status == 0 && ref->already ? FAILOVER_ZONE_ALREADY : 0;
		else if (zs[ref->zone] == FAILOVER_ZONE_ALREADY && !ref->already)
			zs[ref->zone] = 0;
		if (ref->status != 0 && zs[ref->zone] >= 0)
			zs[ref->zone] = ref->status;
	}
}
