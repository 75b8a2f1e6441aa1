/*
 * dns_ops.h -- DNS operations against the configured primary, on one
 * libevent loop: read an RRset, find the zone of a name, and apply record
 * changes with compare-and-swap across many zones at once.
 *
 * This layer joins the pure parts (dns_update, dns_tsig) with the network
 * (dns_client): it signs every message when a key is set and refuses any
 * reply without a valid signature then; it bounds the number of queries in
 * flight (DNS_OPS_MAX_INFLIGHT), queueing the rest.  All results are
 * delivered from the event loop, never from inside the starting call.
 * Error messages it produces name the server (host:port) and the zone.
 */
#ifndef MXF_DNS_OPS_H
#define MXF_DNS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "config.h"
#include "dns_tsig.h"

#define DNS_OPS_MAX_INFLIGHT 64
#define DNS_OPS_MSG 768

struct dns_ops;

/*
 * dns_ops_new -- an operations context for one server.
 * @host, @port  the primary (literal or name; resolved now).
 * @key          TSIG key, borrowed (must outlive the context), or NULL for
 *               unsigned messages (one warning per run is logged).
 * @timeout_ms   deadline of each exchange.
 * @return 0 with *out set (free with dns_ops_free), MXF_EINVAL when the host
 *         does not resolve, MXF_ENOMEM.
 */
int dns_ops_new(struct event_base *base, const char *host, uint16_t port,
		const struct dns_tsig_key *key, uint64_t timeout_ms, struct dns_ops **out);

/* Free the context; exchanges still running are cancelled without callbacks. */
void dns_ops_free(struct dns_ops *ops);

/* "host:port" ("[v6]:port") of the server, for messages. */
const char *dns_ops_server(const struct dns_ops *ops);

/*
 * Result of a read: @status 0 when a reply came (whatever its rcode; a
 * query the server answered with NXDOMAIN is status 0, rcode NXDOMAIN),
 * else an MXF_E* with @msg saying why.  @reply is valid during the call.
 */
typedef void (*dns_ops_read_cb)(int status, int rcode, const ldns_pkt *reply, const char *msg,
				void *arg);

/*
 * dns_ops_read -- query NAME/TYPE at the server (signed when a key is set).
 * @return 0 (the callback will run once), or MXF_ENOMEM/MXF_EINVAL (it will
 *         not).
 */
int dns_ops_read(struct dns_ops *ops, const ldns_rdf *name, ldns_rr_type type,
		 dns_ops_read_cb cb, void *arg);

/*
 * Result of a zone lookup: @zone valid during the call (copy it), or NULL
 * with @status and @msg.
 */
typedef void (*dns_ops_zone_cb)(int status, const ldns_rdf *zone, const char *msg, void *arg);

/*
 * dns_ops_find_zone -- the zone of @name: the longest zone of cfg->groups
 * that contains it (cfg may be NULL), else the one SOA queries find,
 * walking up from the name (a CNAME at a name is skipped over).
 * @return 0 (the callback will run once) or MXF_ENOMEM.
 */
int dns_ops_find_zone(struct dns_ops *ops, const struct config *cfg, const ldns_rdf *name,
		      dns_ops_zone_cb cb, void *arg);

enum dns_ops_expect {
	DNS_OPS_EXPECT_CURRENT, /* CAS on what is read just before the update */
	DNS_OPS_EXPECT_GIVEN,   /* CAS on item.expected (empty: must not exist) */
	DNS_OPS_EXPECT_NONE,    /* no prerequisite */
};

/* One RRset to replace, and what became of it. */
struct dns_ops_item {
	/* input; owned by the item, freed by dns_ops_item_clear() */
	ldns_rdf *owner;
	ldns_rr_type type;
	ldns_rr_list *new_rrs;   /* 1+ records of owner/type; TTLs are rewritten */
	int64_t ttl;             /* -1: the current TTL, else the default */
	enum dns_ops_expect expect;
	ldns_rr_list *expected;  /* DNS_OPS_EXPECT_GIVEN */
	/* input or output: the caller may set the zone (owned by the item) to
	 * skip the lookup; else it is found and set here */
	ldns_rdf *zone;
	ldns_rr_list *found;     /* the RRset before the update */
	int status;              /* 0, or MXF_E* (MXF_ECONFLICT, MXF_EMISMATCH, ...) */
	int rcode;               /* the UPDATE's rcode, -1 when none was sent */
	bool unchanged;          /* it already held the new values: nothing sent */
	bool verified;           /* read back after the update and equal */
	char msg[DNS_OPS_MSG];   /* on failure: why, naming the server and zone */
};

/* Free what an item owns. */
void dns_ops_item_clear(struct dns_ops_item *it);

typedef void (*dns_ops_apply_cb)(void *arg);

/*
 * dns_ops_apply -- apply @items: find each one's zone, read the current
 * values (not for items with DNS_OPS_EXPECT_GIVEN and a TTL: nothing in the
 * read would change their update), send one UPDATE per zone with all of its items (CAS
 * prerequisites, signed when a key is set), then read every record back
 * and compare.  Zones run concurrently; a zone that fails does not stop the
 * others.  Results are written into the items, then @cb runs once.
 * @items        borrowed until the callback; must not move.
 * @default_ttl  TTL for items with ttl -1 whose RRset does not exist yet.
 * @return 0 (the callback will run) or MXF_ENOMEM/MXF_EINVAL (it will not).
 */
int dns_ops_apply(struct dns_ops *ops, const struct config *cfg, struct dns_ops_item *items,
		  size_t n, uint32_t default_ttl, dns_ops_apply_cb cb, void *arg);

#endif
