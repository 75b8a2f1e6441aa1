/*
 * audit_failover.c -- the failover states of the configuration (stage 2).
 *
 * A stub until its owner (A3) fills it in: it records nothing.  The
 * engine calls audit_failover_start() once per domain; work started here holds
 * the domain (audit_hold/audit_lookup) and adds findings with audit_add().
 */
#include "audit.h"

void
audit_failover_start(struct audit_domain *d)
{
	(void)d;
}
