/*
 * daemon.h -- the round that `run`, `once` and `plan` share, and the loop
 * of `run`.
 *
 * A round, on one libevent loop:
 *   1. every check of every server, and every witness, at once (check.h);
 *   2. the results into the rise/fall machine (health.h), each state change
 *      logged once and turned into an event;
 *   3. every managed record read from the primary (dns_ops.h);
 *   4. per group a plan (failover.h): which records of which zone change;
 *   5. one compare-and-swap UPDATE per zone with changes, all zones at once,
 *      each read back; a zone whose update failed is retried in later rounds
 *      with backoff while the others go ahead;
 *   6. the outcome committed to the failover memory, events logged and kept,
 *      the state file written atomically.
 * `plan` stops after 4 and prints; `once` does one round; `run` repeats it
 * every interval until SIGTERM (SIGHUP reloads the configuration between
 * rounds, keeping health; a bad new configuration is refused).
 *
 * Pins set with `mxfailover pin` live in a small file next to the state file
 * (pins.h) that the daemon reads at the start of every round, so a running
 * daemon honours them within one interval.
 */
#ifndef MXF_DAEMON_H
#define MXF_DAEMON_H

#include <stdint.h>

#include "config.h"

enum daemon_mode {
	DAEMON_RUN,  /* rounds until SIGTERM */
	DAEMON_ONCE, /* one round that acts */
	DAEMON_PLAN, /* one round that prints the plan and changes nothing */
};

/*
 * daemon_main -- run @mode with @cfg (owned by the caller; `run` may replace
 * its own copy on SIGHUP, re-reading @cfg_path).
 * @return a process exit code (enum mxf_exit): for ONCE, 0 all active
 *         servers healthy, 1 something down but service kept, 3 a DNS read
 *         or update failed, 4 every server of a group down, 5 another
 *         instance holds the lock; for RUN, 0 after SIGTERM.
 */
int daemon_main(const char *cfg_path, struct config *cfg, enum daemon_mode mode);

/* Wall-clock milliseconds since the epoch. */
uint64_t daemon_now_ms(void);

#endif
