/*
 * audit_smtp.c -- the SMTP probe of every MX address (stage 2).
 *
 * A stub until its owner (A2) fills it in: it records nothing.  The
 * engine calls audit_smtp_start() once per domain; work started here holds
 * the domain (audit_hold/audit_lookup) and adds findings with audit_add().
 */
#include "audit.h"

void
audit_smtp_start(struct audit_domain *d)
{
	(void)d;
}
