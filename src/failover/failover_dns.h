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
 * points at: a PRESENT CNAME/A/AAAA RRset of one value naming a server, or
 * an MX RRset whose values of lowest preference all name the same server.
 * @primary  MX only: [r->nvalues], set true for the values of lowest
 *           preference (the ones to repoint); unused for other types.
 * @return the index into cfg->servers, or -1 (absent, malformed, pointing
 *         elsewhere: changed by hand).
 */
long failover_dns_points_to(const struct config *cfg, const struct config_group *g,
			    const struct failover_rec_view *r, bool *primary);

/*
 * failover_dns_new_values -- the RRset to write so that @r points at
 * @server: its one value for CNAME/A/AAAA; for MX every value of @r, the
 * @primary ones (from failover_dns_points_to) retargeted, preference kept.
 * The server must have a value for the type (failover_server_value).
 * @return a malloc'ed array of *n strings (free with
 *         failover_dns_strv_free), or NULL when out of memory.
 */
char **failover_dns_new_values(const struct config *cfg, const struct config_group *g,
			       const struct failover_rec_view *r, const bool *primary, size_t server,
			       size_t *n);

#endif
