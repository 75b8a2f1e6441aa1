/*
 * dns_ops.h -- DNS operations against the configured primary, on one
 * libevent loop: the context, and reading an RRset.  Finding the zone of a
 * name (dns_zone.h) and applying record changes with compare-and-swap
 * (dns_apply.h) run on the same context.
 *
 * This layer joins the pure parts (dns_update, dns_tsig) with the network
 * (dns_client): it signs every message when a key is set and refuses any
 * reply without a valid signature then; it bounds the number of queries in
 * flight (DNS_OPS_MAX_INFLIGHT) and, within those, of UPDATEs
 * (DNS_OPS_MAX_UPDATES), queueing the rest: reads and updates wait in
 * separate FIFO queues, so a burst of reads does not hold updates back.  All results are
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

#include "dns_tsig.h"

/*
 * In flight at once, all kinds.  UPDATEs have a lower cap of their own: BIND
 * drops updates beyond its update-quota (100 by default), which then only
 * time out; reads have no such quota and fill the rest of the window.
 */
#define DNS_OPS_MAX_INFLIGHT 192
#define DNS_OPS_MAX_UPDATES 48
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

/*
 * Free the context; exchanges, zone lookups and applies still running are
 * cancelled without callbacks.  NULL is allowed.
 */
void dns_ops_free(struct dns_ops *ops);

/* "host:port" ("[v6]:port") of the server, for messages. */
const char *dns_ops_server(const struct dns_ops *ops);

/*
 * Result of a read: @status 0 when a reply came (whatever its rcode; a
 * query the server answered with NXDOMAIN is status 0, rcode NXDOMAIN),
 * else an MXF_E* with @msg saying why.  @reply is valid during the call
 * (judge it with dns_view_answer()); it is also set, unverified, when the
 * status is MXF_ETSIG.
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

#endif
