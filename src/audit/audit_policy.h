/*
 * audit_policy.h -- the policy stage (stage 1): SPF, DMARC, MTA-STS,
 * TLSRPT records of a domain, and what other stages may ask of it.
 */
#ifndef MXF_AUDIT_POLICY_H
#define MXF_AUDIT_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "audit.h"
#include "audit_spf.h"

/*
 * audit_policy_spf_cb -- the domain's SPF authorisation is known: @found
 * is false when it has no single valid record (then @n is 0); @nets are
 * the networks of its ip4/ip6 terms and of the addresses its a/mx terms
 * resolved to, over include: and redirect= (pass qualifiers only), valid
 * during the call.  @complete is false when part of the tree could not be
 * followed (macros, failed lookups, more than the lookup limit): an
 * address outside @nets may then still be authorised.
 */
typedef void (*audit_policy_spf_cb)(struct audit_domain *d, bool found, bool complete,
				    const struct audit_spf_net *nets, size_t n, void *arg);

/*
 * audit_policy_spf_wait -- call @cb once the SPF walk of @d is complete
 * (at once, from inside this call, when it already is).  Holds @d until
 * then.  For failover-standby-not-in-spf: test each standby address with
 * audit_spf_net_covers(nets, n, family, addr).
 * @return 0, or MXF_ENOMEM (then @cb never runs).
 */
int audit_policy_spf_wait(struct audit_domain *d, audit_policy_spf_cb cb, void *arg);

#endif
