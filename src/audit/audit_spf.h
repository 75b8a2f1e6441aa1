/*
 * audit_spf.h -- SPF records (RFC 7208): the syntax of one TXT record, the
 * terms that cost a DNS lookup, and whether an address is authorised by a
 * record's ip4/ip6 terms or by the addresses its a/mx terms resolved to.
 *
 * Pure: no I/O, no clock, no logging.  A parsed record holds copies of its
 * domain-specs (bounded), never pointers into the input.  The walk through
 * include/redirect (other records, other lookups) is audit_policy.c's;
 * it feeds each record through audit_spf_parse() and sums the lookups.
 */
#ifndef MXF_AUDIT_SPF_H
#define MXF_AUDIT_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most terms kept of one record (a longer one is a syntax error: no
 * sane record has 64 terms, and a TXT record holds at most a few KiB). */
#define AUDIT_SPF_TERMS_MAX 64
/* The DNS-querying terms a check_host() evaluation may use (RFC 7208 4.6.4). */
#define AUDIT_SPF_LOOKUPS_MAX 10
/* Longest domain-spec kept (a domain name is at most 253 characters; a
 * macro-string may be longer and is then a syntax error). */
#define AUDIT_SPF_DOMAIN_MAX 254

enum audit_spf_kind {
	AUDIT_SPF_ALL,
	AUDIT_SPF_INCLUDE,
	AUDIT_SPF_A,
	AUDIT_SPF_MX,
	AUDIT_SPF_PTR,
	AUDIT_SPF_IP4,
	AUDIT_SPF_IP6,
	AUDIT_SPF_EXISTS,
	AUDIT_SPF_REDIRECT,  /* modifier redirect= */
	AUDIT_SPF_EXP,       /* modifier exp= */
	AUDIT_SPF_UNKNOWN,   /* an unknown modifier (allowed, ignored) */
};

struct audit_spf_term {
	enum audit_spf_kind kind;
	char qualifier;          /* '+', '-', '~', '?' (mechanisms; '+' by default) */
	bool macro;              /* the domain-spec holds a macro (cannot be followed) */
	char domain[AUDIT_SPF_DOMAIN_MAX]; /* domain-spec; "" = the record's own domain */
	uint8_t addr[16];        /* ip4 (4 bytes) / ip6 network */
	int cidr4, cidr6;        /* prefix lengths: 32/128 when not given */
};

struct audit_spf {
	size_t nterms;
	struct audit_spf_term terms[AUDIT_SPF_TERMS_MAX];
	unsigned lookups;        /* include, a, mx, ptr, exists, redirect of this record */
	int redirect;            /* index of the redirect= term, or -1 */
	bool has_all;            /* an "all" mechanism (redirect is then ignored) */
	char error[200];         /* why audit_spf_parse() refused the record */
};

/*
 * audit_spf_is_record -- whether the TXT string @txt (@len bytes, the
 * character-strings of one record joined) is an SPF record: "v=spf1" alone
 * or followed by a space, case-insensitively (RFC 7208 4.5).
 */
bool audit_spf_is_record(const char *txt, size_t len);

/*
 * audit_spf_parse -- check the syntax of the SPF record @txt (@len bytes)
 * and fill @out.
 * @return 0; or MXF_EINVAL with @out->error saying which term is wrong and
 *         why ("term 3 \"ip4:192.0.2.300\": bad IPv4 network"), the terms
 *         before it kept; MXF_ETOOBIG for more than AUDIT_SPF_TERMS_MAX terms.
 */
int audit_spf_parse(const char *txt, size_t len, struct audit_spf *out);

/* An address family-tagged network: what a/mx terms resolved to, or an ip4/ip6 term. */
struct audit_spf_net {
	int family;              /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix;
};

/*
 * audit_spf_net_covers -- whether @addr (@family, 4 or 16 bytes) is inside
 * one of the @n networks @nets.
 */
bool audit_spf_net_covers(const struct audit_spf_net *nets, size_t n, int family,
			  const uint8_t *addr);

/*
 * audit_spf_term_net -- the network of an ip4/ip6 term, or for an a/mx
 * term the network of one address @addr (@family) it resolved to, with the
 * term's cidr length.  @return false when @t is another kind.
 */
bool audit_spf_term_net(const struct audit_spf_term *t, int family, const uint8_t *addr,
			struct audit_spf_net *out);

/* audit_spf_kind_name -- "include", "ip4", "redirect", ... */
const char *audit_spf_kind_name(enum audit_spf_kind k);

#endif
