/*
 * dns_zone.h -- the zone of a name, as the configured primary serves it.
 */
#ifndef MXF_DNS_ZONE_H
#define MXF_DNS_ZONE_H

#include <ldns/ldns.h>

#include "config.h"
#include "dns_ops.h"

/*
 * Result of a zone lookup: @zone valid during the call (copy it), or NULL
 * with @status (MXF_ENOTFOUND, a read's MXF_E*) and @msg naming the server.
 */
typedef void (*dns_zone_cb)(int status, const ldns_rdf *zone, const char *msg, void *arg);

/*
 * dns_zone_find -- the zone of @name: the longest zone of cfg->groups
 * that contains it (cfg may be NULL), else the one SOA queries find,
 * walking up from the name (a CNAME at a name is skipped over).
 * @ops   the context; the lookup is cancelled when it is freed.
 * @name  copied.
 * @return 0 (the callback will run once, from the loop) or MXF_ENOMEM (it
 *         will not).
 */
int dns_zone_find(struct dns_ops *ops, const struct config *cfg, const ldns_rdf *name,
		  dns_zone_cb cb, void *arg);

/*
 * dns_zone_find_cname -- as dns_zone_find(), and when the walk's first SOA
 * query (at @name itself) was answered authoritatively with NOERROR or
 * NXDOMAIN, *@cname is set, before @cb runs, to the CNAME RRset that answer
 * showed at @name: a name holding a CNAME answers every type with it, so an
 * empty list means @name has none.  Otherwise (zone known from @cfg, or
 * the first query failed) *@cname stays NULL.  *@cname must be NULL on
 * entry and stay valid until @cb; the caller frees what is set there, also
 * when the lookup fails.  dns_apply uses it to save the read of a CNAME.
 */
int dns_zone_find_cname(struct dns_ops *ops, const struct config *cfg, const ldns_rdf *name,
			dns_zone_cb cb, void *arg, ldns_rr_list **cname);

/*
 * The configured zones in a form a name is matched against in
 * O(labels x log zones), not by parsing and comparing every zone of the
 * configuration: dns_apply matches thousands of names against thousands of
 * zones.  dns_zone_set_new -- the zones of every group of @cfg (NULL: none).
 * @return 0 with *out (free with dns_zone_set_free), or MXF_ENOMEM.
 */
struct dns_zone_set;
int dns_zone_set_new(const struct config *cfg, struct dns_zone_set **out);
void dns_zone_set_free(struct dns_zone_set *s);

/* The longest zone of @s that holds @name, as a new rdf (the caller frees
 * it); NULL when none does (or out of memory). */
ldns_rdf *dns_zone_set_match(const struct dns_zone_set *s, const ldns_rdf *name);

/* dns_zone_find_cname() with the configured zones of @set (NULL: none);
 * @set may be freed as soon as it returns. */
int dns_zone_find_in(struct dns_ops *ops, const struct dns_zone_set *set, const ldns_rdf *name,
		     dns_zone_cb cb, void *arg, ldns_rr_list **cname);

#endif
