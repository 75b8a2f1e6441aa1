/*
 * round_verify.h -- which zones a round reads record by record ([dns]
 * verify_interval).  The daemon keeps one struct round_verify across
 * rounds: each group's view of DNS as last seen and written (the plan of a
 * round starts from it) and per zone the SOA serial of the last full read.
 * Once per verify_interval a zone's SOA serial is asked; only a zone whose
 * serial changed (or is unknown), whose last read failed or whose last
 * update failed (a compare-and-swap prerequisite that no longer held: a
 * hand change) is read record by record.  Between verifications a round
 * sends no query for a zone at all.
 */
#ifndef MXF_ROUND_VERIFY_H
#define MXF_ROUND_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "config.h"
#include "dns_ops.h"
#include "failover.h"

struct round_env; /* round.h */

/* ---- the pure decision (no clock, no I/O) ---------------------------- */

struct round_verify_zone {
	uint64_t checked_ms; /* when its SOA was last asked (0: never) */
	uint32_t serial;     /* the SOA serial asked before the last full read */
	bool serial_known;   /* false: never read, or changed by our own update */
	bool dirty;          /* read record by record in the next round */
};

enum round_verify_action {
	ROUND_VERIFY_CACHED, /* nothing to ask: plan from the view */
	ROUND_VERIFY_SOA,    /* ask the serial; read the records if it changed */
	ROUND_VERIFY_READ,   /* ask the serial, then read every record */
};

/* What zone @z needs at @now_ms with verifications every @interval_ms. */
enum round_verify_action round_verify_decide(const struct round_verify_zone *z, uint64_t now_ms,
					     uint64_t interval_ms);

/*
 * round_verify_answer -- the SOA answer for a zone asked for @action:
 * @ok false when no serial came back.  Notes the serial and the time.
 * @return whether the zone is to be read record by record now.
 */
bool round_verify_answer(struct round_verify_zone *z, enum round_verify_action action, bool ok,
			 uint32_t serial, uint64_t now_ms);

/* ---- the memory kept across rounds ------------------------------------ */

struct round_verify {
	const struct config *cfg;  /* what it was built for (borrowed) */
	struct failover_dns **dns; /* [ngroups]: DNS as last seen and written */
	struct round_verify_zone **zones; /* [ngroups][nzones] */
};

/*
 * round_verify_fit -- make *@vf fit @cfg: kept when built for @cfg, else
 * freed and built anew (first round, reload: every zone is read).
 * @return 0, or MXF_ENOMEM (*@vf is then NULL: every round reads all).
 */
int round_verify_fit(struct round_verify **vf, const struct config *cfg);

void round_verify_free(struct round_verify *vf);

/* Zone @z of group @g is read record by record in the next round (a read
 * or an update of it failed). */
void round_verify_dirty(struct round_verify *vf, size_t g, size_t z);

/* Our own update changed zone @z of group @g: its view is what we wrote,
 * its serial is no longer the one of the last full read. */
void round_verify_wrote(struct round_verify *vf, size_t g, size_t z);

/*
 * round_verify_prereq -- for a record not read this round: its absolute
 * owner (record @label of @zone) and, as the compare-and-swap
 * prerequisite, the RRset @v holds (PRESENT).  What cannot be built stays
 * NULL (the caller frees what is set).
 */
void round_verify_prereq(const struct failover_rec_view *v, const char *zone, const char *label,
			 ldns_rr_type type, ldns_rdf **owner, ldns_rr_list **expected);

/* A zone of group @g whose records could not all be read (in @dns): said
 * once, and once again when it reads fine; noted in the failover memory. */
void round_verify_log_reads(const struct round_env *env, const struct failover_dns *dns, size_t g);

/*
 * round_verify_start -- ask the serials due at @now_ms; call @read(@arg,
 * g, z) for each zone to read record by record (at once, or when its SOA
 * answer is in) and then @done(@arg) once, after the last @read.  @vf NULL:
 * every zone is read, no SOA asked.  The @read calls may come before this
 * returns.
 */
void round_verify_start(struct round_verify *vf, const struct config *cfg, struct dns_ops *ops,
			uint64_t now_ms, void (*read)(void *arg, size_t g, size_t z),
			void (*done)(void *arg), void *arg);

#endif
