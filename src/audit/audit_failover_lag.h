/*
 * audit_failover_lag.h -- the secondary-lag probe of the failover stage
 * (audit_failover.c): after a switch, every name server of the zone must
 * reach the primary's serial soon, or resolvers asking it see the records
 * as they were before the switch.
 *
 *   failover-secondary-lag   a name server of the zone (the NS set as the
 *                            primary has it) does not reach the primary's
 *                            serial within a few seconds
 *
 * A name server that cannot be reached or does not answer is the NS
 * stage's to report, not this probe's.
 */
#ifndef MXF_AUDIT_FAILOVER_LAG_H
#define MXF_AUDIT_FAILOVER_LAG_H

#include <sys/socket.h>

#include "audit.h"

struct audit_failover_lag;

/*
 * audit_failover_lag_start -- ask the primary (@primary, @plen; @server its
 * name as configured, for the finding's text) for @zone's SOA and NS set,
 * then every IPv4 address of every name server of that set but the
 * primary's own for its serial, again a few times while it is behind.
 * @zone and @server are borrowed and must outlive the probe (they are the
 * configuration's).
 * @done(@arg) is called once from the loop when every lookup and retry has
 * ended: never from inside this call, and not after the run is cancelled.
 * @return the probe, which the caller owns and frees with
 * audit_failover_lag_free() (after @done, or to stop it when the run is
 * cancelled), or NULL when its first lookup could not start (then @done
 * is never called).
 */
struct audit_failover_lag *audit_failover_lag_start(struct audit_domain *d, const char *zone,
						    const struct sockaddr *primary, socklen_t plen,
						    const char *server, void (*done)(void *arg),
						    void *arg);

/*
 * audit_failover_lag_free -- free the probe and stop its retry timers; the
 * lookups under way must not reach it any more (they do not after the run
 * is cancelled, and none is left once @done ran).  NULL is allowed.
 */
void audit_failover_lag_free(struct audit_failover_lag *l);

#endif
