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
 * (PINS below) that the daemon reads at the start of every round, so a
 * running daemon honours them within one interval.
 */
#ifndef MXF_DAEMON_H
#define MXF_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "health.h"

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

/* The pins file: "<state_file>.pins". @return malloc'ed, or NULL. */
char *daemon_pins_path(const struct config *cfg);

/*
 * daemon_pin -- set or clear an operator pin in the pins file (atomically,
 * under the file's own lock).  @server the server id; @pin "down", "up" or
 * NULL to clear; @until_ms 0 for no expiry.
 * @return 0, MXF_ENOTFOUND (no such server), MXF_EIO (message printed).
 */
int daemon_pin(const struct config *cfg, const char *server, const char *pin, uint64_t until_ms);

/*
 * daemon_pins_apply -- bring @h's pins in line with the pins file of @cfg
 * (round_rules_pin() decides per server).  A file that cannot be read or
 * parsed keeps the pins in force; it is logged once, while *@warned is
 * false, and said again when it reads fine.
 */
void daemon_pins_apply(const struct config *cfg, struct health *h, uint64_t now_ms, bool *warned);

#endif
