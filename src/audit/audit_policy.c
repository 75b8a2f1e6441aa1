/*
 * audit_policy.c -- SPF, DMARC, MTA-STS, TLSRPT and DANE lookups (stage 1).
 *
 * A stub until its owner (A2) fills it in: it records nothing.  The
 * engine calls audit_policy_start() once per domain; work started here holds
 * the domain (audit_hold/audit_lookup) and adds findings with audit_add().
 */
#include "audit.h"

void
audit_policy_start(struct audit_domain *d)
{
	(void)d;
}
