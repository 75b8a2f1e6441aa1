/*
 * round_rules.h -- the decisions a round takes on its own, as pure
 * functions: the exit code, the witness verdict, what a check result means
 * to health, which notice an event makes and what a round's updates did to
 * each zone.  (When a failing zone is tried again is the failover memory's,
 * failover_commit(); which server is active is failover_active()'s; how
 * pins are reconciled is pins_apply()'s.)
 *
 * Pure: no sockets, clocks, files or syslog; times are passed in.  The
 * round (round.c) and announcing (announce.c) call these; the unit test
 * links this file with nothing above the failover layer.
 */
#ifndef MXF_ROUND_RULES_H
#define MXF_ROUND_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "failover.h"
#include "health.h"
#include "notify.h"

/* What a round found, filled in by the round as it goes. */
struct round_summary {
	bool all_down;	       /* some group has every server down */
	bool dns_failed;       /* a DNS read or update failed this round */
	bool any_down;	       /* some server is DOWN (effective, pins included) */
	bool any_check_failed; /* some check of some server failed this round */
};

/*
 * round_rules_exit_code -- the exit code of a round (enum mxf_exit):
 * MXF_EXIT_ALLDOWN before MXF_EXIT_DNS before MXF_EXIT_DEGRADED (a server
 * down or a check failing), else MXF_EXIT_OK.
 */
int round_rules_exit_code(const struct round_summary *s);

/*
 * round_rules_witness -- the verdict on the witnesses: NONE when there are
 * none (@nwitness 0), ISOLATED when all @nfailed of them failed, else OK.
 */
enum failover_witness round_rules_witness(size_t nwitness, size_t nfailed);

/* round_rules_outcome -- what a check's state is to health: UP ok,
 * WARNING warn, anything else a failure. */
enum health_outcome round_rules_outcome(enum check_state state);

/* round_rules_notify_kind -- the notice an event of failover makes. */
enum notify_kind round_rules_notify_kind(enum failover_event_type type);

/* One record update a round sent, and how it went. */
struct round_ref {
	size_t group, zone, rec; /* indices into the config's group, zones, records */
	int status;		 /* 0 applied, else the MXF_E* of its failure */
	bool already;		 /* applied, but found so after a conflict
				    (dns_apply_item.already) */
};

/*
 * round_rules_zone_status -- what a round's updates did to each zone of
 * plan @p, as failover_commit() takes it: 0 when the zone had no changes or
 * all of its updates went through, the status of its first failed update,
 * FAILOVER_ZONE_NOT_TRIED when it had changes but no update was sent
 * (backoff, nothing could be built), FAILOVER_ZONE_ALREADY when every one of
 * its updates was found already made (round_ref.already).  Updates of other
 * groups are skipped.
 * @refs/@nrefs  the round's updates, of every group (may be NULL/0).
 * @zs           [p->nzones], filled.
 */
void round_rules_zone_status(const struct failover_plan *p, const struct round_ref *refs,
			     size_t nrefs, int *zs);

#endif
