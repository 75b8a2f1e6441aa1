/*
 * daemon.h -- what `run`, `once` and `plan` share: the loop that runs
 * rounds (round.h has the steps of one), signals and the reload, and the
 * pins file.
 *
 * `plan` does one round that stops after planning and prints; `once` does
 * one round that acts; `run` repeats it every interval until SIGTERM
 * (SIGHUP reloads the configuration between rounds, keeping health; a bad
 * new configuration is refused).
 *
 * Pins set with `mxfailover pin` live in a small file next to the state file
 * (pins.h) that each round reads at its start, so a running daemon honours
 * them within one interval.
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

#endif
