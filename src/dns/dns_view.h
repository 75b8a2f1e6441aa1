/*
 * dns_view.h -- what an answer to a query says about one RRset: the one
 * place that judges a reply (rcode, authority, records of the owner and
 * type), so the daemon, `dns set/apply` and the read-back of an update do
 * not each decide on their own what counts as "absent" or "failed".
 *
 * Pure: no sockets, no clocks, no logging.  The verdict is data, and each
 * failure kind has one message, which callers prefix with their context
 * (zone, server, record).  Our own failures (out of memory) come back as
 * the return value, apart from what the server said.
 */
#ifndef MXF_DNS_VIEW_H
#define MXF_DNS_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#define DNS_VIEW_MSG 160

enum dns_view_verdict {
	DNS_VIEW_PRESENT, /* NOERROR, authoritative, 1+ records of owner/type */
	DNS_VIEW_ABSENT,  /* authoritative NXDOMAIN, or NOERROR without such records
			   * (nothing, or only other types such as a CNAME) */
	DNS_VIEW_RCODE,   /* an error rcode other than NXDOMAIN: nothing is known */
	DNS_VIEW_NOTAUTH, /* no AA bit: the server does not hold the zone */
};

struct dns_view {
	enum dns_view_verdict verdict;
	int rcode;              /* the reply's rcode */
	ldns_rr_list *rrs;      /* PRESENT/ABSENT: the RRset (empty when absent); owned;
				 * NULL for RCODE/NOTAUTH */
	int64_t ttl;            /* PRESENT: the RRset's TTL (of its first record), else -1 */
	char **values;          /* PRESENT: each record's RDATA in zone-file form, fields
				 * joined by one space ("10 mx1.example.com."); owned */
	size_t nvalues;
	char msg[DNS_VIEW_MSG]; /* RCODE/NOTAUTH: why, naming neither server nor record */
};

/*
 * dns_view_answer -- judge @reply to a query for @owner/@type.
 * @reply  the answer (borrowed).
 * @owner  the queried name (absolute); records of other owners are ignored.
 * @type   the queried type; records of other types are ignored.
 * @out    receives the verdict; free what it holds with dns_view_clear(),
 *         also after a failure.
 * @return 0 (the verdict is in @out), or MXF_ENOMEM (out holds no records).
 */
int dns_view_answer(const ldns_pkt *reply, const ldns_rdf *owner, ldns_rr_type type,
		    struct dns_view *out);

/*
 * dns_view_take_rrs -- hand the RRset over to the caller.
 * @return the list (the caller frees it with ldns_rr_list_deep_free), or
 *         NULL when the view holds none; the view holds none afterwards.
 */
ldns_rr_list *dns_view_take_rrs(struct dns_view *v);

/* Free what a view holds and zero it.  NULL is allowed. */
void dns_view_clear(struct dns_view *v);

#endif
