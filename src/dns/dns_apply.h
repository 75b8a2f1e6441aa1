/*
 * dns_apply.h -- replace RRsets through the primary with compare-and-swap,
 * one UPDATE per zone, many zones at once, each read back and compared.
 *
 * Runs on an operations context (dns_ops.h): messages are signed when it
 * has a key, and results come from the event loop.  Error messages name
 * the server (host:port) and the zone.
 */
#ifndef MXF_DNS_APPLY_H
#define MXF_DNS_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "config.h"
#include "dns_ops.h"

enum dns_apply_expect {
	DNS_APPLY_EXPECT_CURRENT, /* CAS on what is read just before the update */
	DNS_APPLY_EXPECT_GIVEN,   /* CAS on item.expected (empty: must not exist) */
	DNS_APPLY_EXPECT_NONE,    /* no prerequisite */
};

/* One RRset to replace, and what became of it. */
struct dns_apply_item {
	/* input; owned by the item, freed by dns_apply_item_clear() */
	ldns_rdf *owner;
	ldns_rr_type type;
	ldns_rr_list *new_rrs;   /* 1+ records of owner/type; TTLs are rewritten */
	int64_t ttl;             /* -1: the current TTL, else the default */
	enum dns_apply_expect expect;
	ldns_rr_list *expected;  /* DNS_APPLY_EXPECT_GIVEN */
	/* input or output: the caller may set the zone (owned by the item) to
	 * skip the lookup; else it is found and set here */
	ldns_rdf *zone;
	ldns_rr_list *found;     /* the RRset before the update */
	int status;              /* 0, or MXF_E* (MXF_ECONFLICT, MXF_EMISMATCH, ...) */
	int rcode;               /* the UPDATE's rcode, -1 when none was sent */
	bool unchanged;          /* it already held the new values: nothing sent */
	bool already;            /* the update, sent once, was refused as a
				    conflict and the records were found holding
				    the new values: someone else's same change
				    (after a retransmission the first copy may
				    have been ours: not set then) */
	bool verified;           /* confirmed after the update (values; by the check
				    UPDATE, or read back and equal with the TTL) */
	char msg[DNS_OPS_MSG];   /* on failure: why, naming the server and zone */
};

/* Free what an item owns and zero it.  NULL is allowed. */
void dns_apply_item_clear(struct dns_apply_item *it);

typedef void (*dns_apply_cb)(void *arg);

/*
 * dns_apply_start -- apply @items: find each one's zone, read the current
 * values (not for items with DNS_APPLY_EXPECT_GIVEN and a TTL: nothing in
 * the read would change their update), send one UPDATE per zone with all of
 * its items (CAS prerequisites, signed when a key is set), then verify the
 * zone with one prerequisite-only UPDATE (dns_update_build_check), and read
 * every record back and compare only when that does not confirm it (or the
 * update answered a conflict).  Zones run concurrently; a zone that fails does
 * not stop the others.  Results are written into the items, then @cb runs
 * once.  Freeing @ops cancels the apply without a callback.
 * @items        borrowed until the callback; must not move.
 * @default_ttl  TTL for items with ttl -1 whose RRset does not exist yet
 *               (DNS_UPDATE_DEFAULT_TTL, for `dns set` and the daemon).
 * @return 0 (the callback will run) or MXF_ENOMEM/MXF_EINVAL (it will not).
 */
int dns_apply_start(struct dns_ops *ops, const struct config *cfg, struct dns_apply_item *items,
		    size_t n, uint32_t default_ttl, dns_apply_cb cb, void *arg);

#endif
