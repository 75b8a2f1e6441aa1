/*
 * dns_update.h -- RFC 2136 UPDATE messages with compare-and-swap
 * prerequisites, and the analysis of the server's answer.
 *
 * Pure: no sockets, no clocks, no logging.  One message carries every change
 * of one zone, so a zone is switched entirely or not at all.  Each change
 * replaces one RRset (owner, type) by new records, guarded by a
 * prerequisite on its current content:
 *   DNS_PREREQ_EXACT   the RRset holds exactly these values (RFC 2136
 *                      §2.4.2, value dependent);
 *   DNS_PREREQ_NXRRSET the RRset does not exist (§2.4.3);
 *   DNS_PREREQ_NONE    no prerequisite.
 * The update section deletes the RRset (§2.5.2) and adds the new records.
 */
#ifndef MXF_DNS_UPDATE_H
#define MXF_DNS_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

/*
 * The TTL of a record set that is created where nobody said which: `dns set`
 * and `dns apply` without a TTL, and the daemon when [dns] ttl is keep; in
 * both cases only when no current record has a TTL that could be kept
 * (mxfailover(8) documents it).  The one owner of that decision.  Five
 * minutes: a failover tool must not create records that resolvers keep for
 * an hour after the next switch.
 */
#define DNS_UPDATE_DEFAULT_TTL 300

enum dns_prereq { DNS_PREREQ_NONE, DNS_PREREQ_EXACT, DNS_PREREQ_NXRRSET };

struct dns_change {
	ldns_rdf *owner;        /* absolute name; owned */
	ldns_rr_type type;
	uint32_t ttl;           /* for the new records */
	ldns_rr_list *new_rrs;  /* the new records (1+); owned */
	enum dns_prereq prereq;
	ldns_rr_list *old_rrs;  /* DNS_PREREQ_EXACT: the values that must be there; owned */
};

/* RFC 1035 / 2136 rcodes by number. */
enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_YXDOMAIN = 6,
	DNS_RCODE_YXRRSET = 7,
	DNS_RCODE_NXRRSET = 8,
	DNS_RCODE_NOTAUTH = 9,
	DNS_RCODE_NOTZONE = 10,
};

/*
 * dns_update_name -- parse a name given by a user ("mail.example.com" or with
 * the trailing dot) into an absolute dname.
 * @return 0 with *out a new rdf the caller frees (ldns_rdf_deep_free), or
 *         MXF_EINVAL.
 */
int dns_update_name(const char *text, ldns_rdf **out);

/*
 * dns_update_rrs_from_text -- records OWNER TTL IN TYPE VALUE for each of
 * @values (RDATA in zone-file form; relative names in it are taken as
 * absolute).
 * @return 0 with *out a new list the caller frees (ldns_rr_list_deep_free);
 *         MXF_EINVAL with a message in @err when a value does not parse.
 */
int dns_update_rrs_from_text(const ldns_rdf *owner, ldns_rr_type type, uint32_t ttl,
			     const char *const *values, size_t nvalues, ldns_rr_list **out,
			     char *err, size_t errlen);

/* Free what a change owns and zero it.  NULL members are allowed. */
void dns_change_clear(struct dns_change *c);

/*
 * dns_update_build -- the UPDATE message for @zone carrying @changes.
 * @zone     the zone (absolute); copied.
 * @id       the message ID.
 * @out      a new packet the caller frees with ldns_pkt_free().
 * @return 0; MXF_EINVAL when a change is outside the zone, has no new
 *         records, or records of another owner/type than it says, or when
 *         there are no changes; MXF_ENOMEM.
 */
int dns_update_build(const ldns_rdf *zone, const struct dns_change *changes, size_t n,
		     uint16_t id, ldns_pkt **out);

/*
 * dns_update_build_check -- an UPDATE for @zone with prerequisites only:
 * each of the @n RRsets of @sets must exist with exactly those values (RFC
 * 2136 2.4.2; TTLs are not compared), and nothing is changed.  One
 * exchange tells whether a zone holds what an update wrote, where reading
 * each record back would take one exchange per record; the server makes
 * no change (BIND, Knot and PowerDNS leave the serial alone).
 * @return 0 with *out a new packet; MXF_EINVAL for no sets, an empty one
 *         or a record outside @zone; MXF_ENOMEM.
 */
int dns_update_build_check(const ldns_rdf *zone, const ldns_rr_list *const *sets, size_t n,
			   uint16_t id, ldns_pkt **out);

/*
 * dns_update_query -- a plain query (RD clear) for NAME/TYPE with ID @id.
 * @return 0 with a new packet the caller frees, or MXF_ENOMEM/MXF_EINVAL.
 */
int dns_update_query(const ldns_rdf *name, ldns_rr_type type, uint16_t id, ldns_pkt **out);

/*
 * dns_update_to_wire -- wire form of a packet.
 * @return 0 with *wire a malloc'ed buffer the caller frees; MXF_EINVAL when
 *         ldns cannot convert it; MXF_ETOOBIG over 65535 bytes.
 */
int dns_update_to_wire(const ldns_pkt *pkt, uint8_t **wire, size_t *len);

/*
 * dns_update_check_reply -- whether @reply answers @request (same ID,
 * opcode and zone/question, QR set) and what it said.
 * @rcode  receives the reply's rcode (extended rcodes are not used by
 *         UPDATE).
 * @return 0 when the reply belongs to the request (whatever its rcode);
 *         MXF_EPROTO when it does not.
 */
int dns_update_check_reply(const ldns_pkt *request, const ldns_pkt *reply, int *rcode);

/*
 * dns_rcode_name -- "NOERROR", "NOTAUTH", ...; "RCODE42" for others (into a
 * static buffer for unknown codes: not thread-safe for those).
 */
const char *dns_rcode_name(int rcode);

/*
 * dns_rcode_explain -- what an rcode means for an UPDATE (@update true) or
 * a query, in a sentence for an administrator.  @return a static string.
 */
const char *dns_rcode_explain(int rcode, bool update);

/*
 * dns_update_rrset_equal -- whether two record lists hold the same RRset:
 * same records regardless of order and of the case of names; TTLs compared
 * only when @check_ttl.
 */
bool dns_update_rrset_equal(const ldns_rr_list *a, const ldns_rr_list *b, bool check_ttl);

/*
 * dns_update_rrset_from_pkt -- the records of section @sec of @pkt owned by
 * @owner with type @type (LDNS_RR_TYPE_ANY: every type).
 * @return a new list the caller frees (possibly empty), or NULL on ENOMEM.
 */
ldns_rr_list *dns_update_rrset_from_pkt(const ldns_pkt *pkt, ldns_pkt_section sec,
					const ldns_rdf *owner, ldns_rr_type type);

/*
 * dns_update_rdata_str -- the RDATA of each record of @rrs in zone-file form,
 * joined by ", " ("(none)" for an empty list).  @return a malloc'ed string the
 * caller frees, or NULL on ENOMEM.
 */
char *dns_update_rdata_str(const ldns_rr_list *rrs);

/*
 * dns_update_rr_rdata_str -- the RDATA of one record in zone-file form, its
 * fields joined by one space ("10 mx1.example.com.").  @return a malloc'ed
 * string the caller frees, or NULL on ENOMEM.
 */
char *dns_update_rr_rdata_str(const ldns_rr *rr);

/*
 * dns_update_rr_str -- one record as "name. TTL IN TYPE rdata" (spaces, no
 * trailing newline).  @return a malloc'ed string, or NULL on ENOMEM.
 */
char *dns_update_rr_str(const ldns_rr *rr);

#endif
