/*
 * round_rules.h -- the decisions a round takes on its own, as pure
 * functions: the exit code, the witness verdict, what a check result means
 * to health, which notice an event makes, how long a failing zone waits,
 * and whether an operator's pin has to be applied.
 *
 * Pure: no sockets, clocks, files or syslog; times are passed in.  The
 * round (round.c) and announcing (announce.c) call these; the unit test
 * links this file with nothing above the failover layer.
 */
#ifndef MXF_ROUND_RULES_H
#define MXF_ROUND_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "failover.h"
#include "health.h"
#include "notify.h"

/* Longest wait between two tries of a zone whose update keeps failing. */
#define ROUND_RULES_BACKOFF_MAX_MS (5u * 60 * 1000)

/* What a round found, filled in by the round as it goes. */
struct round_summary {
	bool all_down;         /* some group has every server down */
	bool dns_failed;       /* a DNS read or update failed (or is backing off) */
	bool any_down;         /* some server is DOWN (effective, pins included) */
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

/*
 * round_rules_backoff_ms -- how long a zone waits after its @failures-th
 * failed update in a row (1 for the first): @interval_ms doubled per
 * failure after the first, at most ROUND_RULES_BACKOFF_MAX_MS.
 */
uint64_t round_rules_backoff_ms(uint64_t interval_ms, unsigned failures);

/*
 * round_rules_pin -- reconcile one server's pin with the pins file.
 * @pin, @until_ms  the file's entry ("down"/"up", expiry or 0 for none);
 *                  @pin NULL when the server has no entry; an unknown word
 *                  or an expiry not after @now_ms means no pin.
 * @have, @have_until_ms  the pin in force in health now.
 * @want, @want_until_ms  receive the pin to set (always written).
 * @return true when health must be told (health_set_pin), false when it
 *         already holds that pin.
 */
bool round_rules_pin(const char *pin, uint64_t until_ms, uint64_t now_ms, enum health_pin have,
		     uint64_t have_until_ms, enum health_pin *want, uint64_t *want_until_ms);

#endif
