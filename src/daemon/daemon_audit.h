/*
 * daemon_audit.h -- `run`'s background audit ([general] audit_interval):
 * every interval the zones of the configuration are audited on the
 * daemon's own loop with audit_run_start(), the same code as `mxfailover
 * audit`, beside the rounds and never delaying one.  When an audit ends,
 * findings.h says what is new and what is gone; each new warning or error
 * is an audit_finding event, each end an audit_clear, logged, notified and
 * kept in the state's events like every other event.
 *
 * Lookups go to the first nameserver of /etc/resolv.conf
 * ($MXF_RESOLV_CONF for tests); each lookup and probe has [general]
 * timeout.  Only `run` audits; `once` and `plan` never do.
 */
#ifndef MXF_DAEMON_AUDIT_H
#define MXF_DAEMON_AUDIT_H

#include <stdint.h>

#include "announce.h"
#include "config.h"
#include "findings.h"
#include "state.h"

struct event_base;
struct daemon_audit;

/*
 * What the daemon holds now, asked for when an audit ends (the state and
 * the announcer are replaced by a reload).
 */
typedef void (*daemon_audit_view_fn)(void *arg, const struct config **cfg, struct state **st,
				     struct announce **an);

/*
 * daemon_audit_new -- the background audit for @cfg on @base; the first
 * audit starts audit_interval after the start (the rounds settle first, and
 * a short-lived daemon never audits), the next ones audit_interval after
 * the previous one ended.  Nothing runs when audit_interval is 0 (the
 * findings stay empty).
 * @return 0 with *out set (free with daemon_audit_free), or MXF_ENOMEM.
 */
int daemon_audit_new(struct event_base *base, const struct config *cfg, daemon_audit_view_fn view,
		     void *arg, struct daemon_audit **out);

/*
 * daemon_audit_reload -- @ncfg replaces the configuration: an audit running
 * with the old one is cancelled (it borrows the config) and the next one is
 * scheduled by @ncfg's audit_interval.  Call before the old config is freed.
 */
void daemon_audit_reload(struct daemon_audit *da, const struct config *ncfg);

/* The current findings (for the status endpoint); valid until _free. */
const struct findings *daemon_audit_findings(const struct daemon_audit *da);

/* Cancel a running audit and free; NULL is allowed. */
void daemon_audit_free(struct daemon_audit *da);

#endif
