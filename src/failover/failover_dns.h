/*
 * failover_dns.h -- inside the failover library only: the value handling
 * that failover_dns.c shares with failover_plan.c.  The views themselves
 * (struct failover_dns, failover_dns_new/set/free) are public, in
 * failover.h.  Pure: no clocks, no I/O, no logging.
 */
#ifndef MXF_FAILOVER_DNS_H
#define MXF_FAILOVER_DNS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "failover.h"

/*
 * failover_dns_strv_dup -- a copy of @n strings (NULL ones become "").
 * @return a malloc'ed array of malloc'ed strings (free with
 *         failover_dns_strv_free), or NULL when out of memory.
 */
char **failover_dns_strv_dup(const char *const *v, size_t n);

/* Free @n strings and the array; NULL is allowed. */
void failover_dns_strv_free(char **v, size_t n);

/*
 * failover_dns_points_to -- the server of group @g that the RRset @r
 * points at: a PRESENT CNAME/A/AAAA RRset of one value naming a server; an
 * MX RRset whose lowest preference is held by one group server alone and
 * that is one of the sets failover_dns_new_values() writes for it (the
 * group's other hosts of the set after it in group order, each host once;
 * hosts outside the group anywhere but at the lowest preference).
 * @return the index into cfg->servers, or -1 (absent, malformed, pointing
 *         elsewhere or in an order mxfailover does not write: changed by
 *         hand).
 */
long failover_dns_points_to(const struct config *cfg, const struct config_group *g,
			    const struct failover_rec_view *r);

/*
 * failover_dns_new_values -- the RRset to write so that @r points at
 * @server: its one value for CNAME/A/AAAA.  For MX, a reorder: the group's
 * hosts of the set trade the preferences they hold -- the lowest to
 * @server, the next ones to the others in the group's order -- so no host
 * leaves the set and failback to the first server restores the group's
 * order; hosts outside the group keep their values.  A @server not in the
 * set takes the place of the host at the lowest preference (a set of one
 * MX record is rewritten).  MX values come out sorted by preference.
 * @r must point at a server (failover_dns_points_to() >= 0) and @server
 * have a value for the type (failover_server_value).
 * @return a malloc'ed array of *n strings (free with
 *         failover_dns_strv_free), or NULL when out of memory.
 */
char **failover_dns_new_values(const struct config *cfg, const struct config_group *g,
			       const struct failover_rec_view *r, size_t server, size_t *n);

#endif
