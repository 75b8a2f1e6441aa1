/*
 * round.h -- one round of `run`, `once` and `plan`, on the daemon's
 * libevent loop, as a chain of callbacks:
 *
 *   1. every check of every server, and every witness, at once (check.h);
 *   2. the operator's pins brought in line with the pins file, the witness
 *      verdict (round_rules.h), the results into the rise/fall machine
 *      (health.h; in an isolated round, health_feed_isolated: failures do
 *      not count), each state change logged once and turned into an event;
 *      a fast round (round_pace.h, env.pace_only) in which no server's
 *      effective state changed goes from here to 6, without plans;
 *   3. every managed record read from the primary (dns_ops.h);
 *   4. per group a plan (failover.h): which records of which zone change;
 *      `plan` prints it here and changes nothing;
 *   5. one compare-and-swap UPDATE per zone with changes, all zones at once,
 *      each read back; a zone whose update failed is retried in later rounds
 *      with backoff (kept by failover_commit(), the failover memory) while the
 *      others go ahead;
 *   6. the outcome committed to the failover memory, the events announced
 *      (announce.h) and kept, the state file written atomically, and the
 *      round's exit code worked out from its summary (round_rules.h).
 */
#ifndef MXF_ROUND_H
#define MXF_ROUND_H

#include <stdbool.h>
#include <stdint.h>

#include "announce.h"
#include "check.h"
#include "config.h"
#include "daemon.h"
#include "dns_ops.h"
#include "state.h"
#include "state_file.h"
#include "status_http.h"

struct round_verify;         /* round_verify.h */
struct round_quorum;         /* round_quorum.h */

/*
 * What a round works with; all borrowed from the daemon and left alone
 * between rounds (a reload swaps them only while no round runs).
 */
struct round_env {
	const struct config *cfg;
	enum daemon_mode mode;
	struct check_engine *eng;
	struct dns_ops *ops;
	struct state *st;
	struct announce *an;
	struct status_counters *ctr; /* rounds, durations, updates counted here */
	bool *pins_warned;	     /* the pins file was unreadable, said once */
	/* Failed saves of the state file, logged once per streak (NULL: every
	 * time), and the lock file's fd (-1: none) where a failing save is
	 * noted for `status` to show (state_file_lock_note). */
	struct state_file_streak *save_streak;
	int lock_fd;
	/* A fast round (round_pace.h): every check and witness, but DNS is
	 * read and planned only when a server's effective state changed. */
	bool pace_only;
	/* What DNS held as last seen and written, kept across rounds
	 * (round_verify.h; the round builds it at need); NULL: every round
	 * reads every record (one-shot modes). */
	struct round_verify **verify;
	/* [quorum]: this monitor's view published and the others' read before
	 * DNS, the plans decided on their agreement (round_quorum.h); NULL
	 * without [quorum]. */
	struct round_quorum *quorum;
	/* Called once when the round is over, after it was freed, with the
	 * round's exit code (enum mxf_exit) and when it started. */
	void (*done)(void *arg, int exit_code, uint64_t started_ms);
	void *arg;
};

struct round;

/*
 * round_new -- a round over @env (copied) that has not started yet.
 * @return the round, or NULL when out of memory.
 */
struct round *round_new(const struct round_env *env);

/*
 * round_run -- start the round's checks.  The round frees itself and calls
 * env->done when it is over, which may be before round_run returns.
 */
void round_run(struct round *r);

/* Whether the round is still waiting for checks (nothing decided yet). */
bool round_checking(const struct round *r);

/*
 * round_free -- abandon a round that is still running (on SIGTERM); the
 * caller cancels its checks first (check_engine_free) so that no callback
 * reaches it.  env->done is not called.  NULL is allowed.
 */
void round_free(struct round *r);

#endif
