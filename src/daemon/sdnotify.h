/*
 * sdnotify.h -- what `run` tells systemd through its notify protocol
 * (sd_notify(3), libsystemd): READY=1 after the first full round, STATUS=
 * with one line of state (statusline.h) and WATCHDOG=1 after every round,
 * RELOADING=1 ... READY=1 around a SIGHUP reload, STOPPING=1 on SIGTERM.
 *
 * Without systemd (no $NOTIFY_SOCKET), or in a build without libsystemd,
 * every call does nothing and the daemon runs as it always did.
 *
 * The watchdog (WatchdogSec= in the unit, $WATCHDOG_USEC) is also pinged
 * from a timer on the daemon's own loop every third of its period, so a
 * round longer than the watchdog (slow checks, a slow primary) does not get
 * the daemon killed: the loop is alive and says so.  What the timer does
 * not do is cover for rounds that stop finishing: when no round has ended
 * for SDNOTIFY_STALL_MS beyond two intervals, it stops pinging and says
 * why, and systemd restarts the daemon (Restart=on-failure).
 */
#ifndef MXF_SDNOTIFY_H
#define MXF_SDNOTIFY_H

#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "state.h"

/* How long past two intervals a round may take before the watchdog starves. */
#define SDNOTIFY_STALL_MS (5u * 60 * 1000)

struct sdnotify;

/*
 * sdnotify_new -- the notifier for the `run` loop on @base, with its
 * watchdog timer when systemd asked for one ($WATCHDOG_USEC for this pid;
 * both watchdog variables are then removed from the environment so checks
 * and plugins do not inherit them).  $NOTIFY_SOCKET stays: the unit's
 * NotifyAccess=main makes systemd ignore messages from children.
 * @return the notifier (free with sdnotify_free), or NULL when out of
 *         memory (the daemon then runs without telling systemd anything).
 */
struct sdnotify *sdnotify_new(struct event_base *base, const struct config *cfg);

/*
 * sdnotify_round -- a round of @cfg is over and @st holds its outcome:
 * READY=1 the first time (and after a reload), STATUS= and WATCHDOG=1.
 * NULL @sn is allowed.
 */
void sdnotify_round(struct sdnotify *sn, const struct config *cfg, const struct state *st);

/* SIGHUP came: RELOADING=1 with MONOTONIC_USEC= (NULL @sn allowed). */
void sdnotify_reloading(struct sdnotify *sn);

/* The reload is over, done or refused, now running @cfg: READY=1. */
void sdnotify_reloaded(struct sdnotify *sn, const struct config *cfg);

/* SIGTERM/SIGINT came: STOPPING=1 (NULL @sn allowed). */
void sdnotify_stopping(struct sdnotify *sn);

/* Stop the watchdog timer and free @sn (NULL allowed). */
void sdnotify_free(struct sdnotify *sn);

#endif
