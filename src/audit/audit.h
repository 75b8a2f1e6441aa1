/*
 * audit.h -- `mxfailover audit`: what would go wrong with a domain's mail
 * when a server fails, found by looking at its DNS and mail servers now.
 *
 * The pieces, each in its own file:
 *   audit_report.c   the report of one domain: findings (deduplicated),
 *                    checks counted, the fixed JSON object
 *   audit_ids.c      the table of every finding id: default severity, what it
 *                    means, what to do (the man page lists the same)
 *   audit_engine.c   one run over many domains on one event loop: the
 *                    domains, hold/release, audit_lookup() over dns_client
 *   audit_gather.c   stage 1 of the engine: MX, addresses, PTR, NS, SOA facts
 *   audit_nsprobe.c  the zone's own name servers queried directly (UDP, TCP)
 *   audit_mx.c, audit_ptr.c, audit_ns.c   the pure judgements on the facts
 *   audit_prefix.c   address prefixes (private ranges, --allow-private)
 *   audit_policy.c   SPF/DMARC/MTA-STS/TLSRPT/DANE (stage 1)
 *   audit_smtp.c     the SMTP probe of every MX address (stage 2)
 *   audit_failover.c the failover states of the configuration (stage 2),
 *                    with its secondary-lag probe in audit_failover_lag.c
 *
 * Nothing here changes anything: lookups are queries, SMTP never sends DATA.
 * Everything runs on the caller's event loop, one thread.
 */
#ifndef MXF_AUDIT_H
#define MXF_AUDIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <jansson.h>
#include <ldns/ldns.h>

#include "config.h"

enum audit_severity { AUDIT_INFO, AUDIT_WARNING, AUDIT_ERROR };

/* "info", "warning", "error" (as in the JSON). */
const char *audit_severity_name(enum audit_severity s);

/* ---- the id table (audit_ids.c) ---- */

struct audit_id {
	const char *id;                /* "mx-target-cname" */
	enum audit_severity severity;  /* the default */
	const char *meaning;           /* one line: what is wrong */
	const char *hint;              /* one line: what to do */
};

/* The table, in the order the man page lists it; @n gets its length. */
const struct audit_id *audit_ids(size_t *n);

/* The entry for @id, or NULL when no such id exists. */
const struct audit_id *audit_id_find(const char *id);

/* ---- one domain's report (audit_report.c) ---- */

/* One finding.  Strings owned by the report. */
struct audit_finding {
	const char *id;                /* static: the table's string */
	enum audit_severity severity;
	char *subject;                 /* the name or address it is about */
	char *message;
	char *hint;
};

/* One domain's result: what `--json` prints per domain. */
struct audit_report {
	char *domain;                  /* absolute, lower case, no trailing dot */
	struct audit_finding *findings;
	size_t nfindings;
	unsigned checks;               /* how many checks ran */
	double seconds;                /* wall time of this domain */
	bool unresolved;               /* the domain could not be resolved at all */
};

/*
 * audit_add -- add a finding: @id must be in the id table (an unknown id is
 * a programming error and is reported as MXF_EINVAL without adding);
 * @hint NULL takes the id's default hint; @fmt is the message.  The same
 * id and subject twice is kept once (the first message wins).
 * @return 0, MXF_EINVAL or MXF_ENOMEM.
 */
int audit_add(struct audit_report *r, const char *id, enum audit_severity sev,
	      const char *subject, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int audit_vadd(struct audit_report *r, const char *id, enum audit_severity sev,
	       const char *subject, const char *hint, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

/* As audit_add with the id's default severity. */
int audit_add_default(struct audit_report *r, const char *id, const char *subject,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Count @n checks that ran (whatever they found). */
void audit_checked(struct audit_report *r, unsigned n);

/* The finding with @id (and @subject unless NULL), or NULL. */
const struct audit_finding *audit_report_find(const struct audit_report *r, const char *id,
					      const char *subject);

/* The worst severity found, or -1 when there is no finding. */
int audit_report_worst(const struct audit_report *r);

/* Order the findings: errors first, then warnings, then info; within one
 * severity in the id table's order, then by subject. */
void audit_report_sort(struct audit_report *r);

/* The fixed JSON object {domain, findings[{id, severity, subject, message,
 * hint}], checks, seconds}.  @return 0 with *out (new reference), or MXF_ENOMEM. */
int audit_report_json(const struct audit_report *r, json_t **out);

/* Initialise @r for @domain (copied; normalised).  0 or MXF_ENOMEM. */
int audit_report_init(struct audit_report *r, const char *domain);

/* Free what @r holds (not @r itself). */
void audit_report_clear(struct audit_report *r);

/* ---- address prefixes (audit_prefix.c) ---- */

struct audit_prefix {
	int family;                    /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits;
};

/* Parse "ADDR/BITS" or "ADDR" (a host).  0 or MXF_EINVAL. */
int audit_prefix_parse(const char *s, struct audit_prefix *p);

/* Whether @addr (4 or 16 bytes of @family) is inside @p. */
bool audit_prefix_match(const struct audit_prefix *p, int family, const uint8_t *addr);

/* Whether the address is not reachable from the internet: RFC 1918, loopback,
 * link-local, CGNAT, ULA, documentation, unspecified, ... */
bool audit_addr_private(int family, const uint8_t *addr);

/* Whether two addresses share a /24 (IPv4) or /64 (IPv6). */
bool audit_addr_same_network(int fa, const uint8_t *a, int fb, const uint8_t *b);

/* ---- options of a run ---- */

struct audit_opts {
	struct sockaddr_storage resolver;   /* where lookups go */
	socklen_t resolver_len;
	uint16_t ns_port;                   /* port of the zone's name servers (53) */
	uint64_t timeout_ms;                /* deadline of each lookup and probe */
	bool smtp;                          /* false: --no-smtp */
	const struct audit_prefix *allow_private; /* addresses not reported as private */
	size_t nallow_private;
	const struct config *cfg;           /* NULL without a configuration */
};

/* ---- the facts stage 1 gathers (audit_gather.c, audit_nsprobe.c) ---- */

struct audit_addr;

/* One PTR name of an address and whether it resolves back to the address. */
struct audit_ptr {
	char *name;                    /* absolute, lower case, trailing dot */
	int back_status;               /* the forward lookup of @name: 0 or MXF_E* */
	bool back;                     /* @name has the address among its A/AAAA */
	struct audit_addr *addr;       /* the address this is a PTR of */
};

/* One address of a name, as the resolver gave it. */
struct audit_addr {
	int family;                    /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	char text[48];                 /* "192.0.2.1", "2001:db8::1" */
	uint32_t ttl;
	/* Reverse DNS (MX addresses only; banner-mismatch compares with these). */
	int ptr_status;                /* 0 answered; MXF_ENOTFOUND NXDOMAIN; MXF_EUNSUPPORTED
					* not looked up (a private address); else the failure */
	struct audit_ptr *ptr;
	size_t nptr;
};

/* One MX record and what is behind its target. */
struct audit_mx {
	uint16_t pref;
	char *target;                  /* absolute, lower case, trailing dot ("." = null MX) */
	uint32_t ttl;
	bool is_ip;                    /* the target is an address literal */
	bool is_cname;                 /* the target is an alias (the chain's first owner) */
	bool addr_aa;                  /* every address answer was authoritative (exact TTLs) */
	char *cname_target;            /* where the alias points, or NULL */
	int addr_status;               /* 0, MXF_ENOTFOUND (NXDOMAIN), or a lookup failure */
	struct audit_addr *addrs;
	size_t naddrs;
};

/* An address record's TTL as an authoritative server holds it. */
struct audit_ttl {
	char *name;                    /* absolute, lower case, trailing dot */
	int family;                    /* AF_INET (A) or AF_INET6 (AAAA) */
	uint32_t ttl;
};

/* What one name server address said when asked directly. */
struct audit_ns_addr {
	struct audit_addr a;
	int udp_status;                /* the SOA query over UDP: 0 or MXF_E* */
	int udp_rcode;
	bool aa;                       /* authoritative answer */
	bool ra;                       /* recursion available (the query had RD) */
	bool soa_ok;                   /* an SOA for the zone came back */
	uint32_t serial, refresh, retry, expire, minimum;
	int tcp_status;                /* the SOA query over TCP */
	int tcp_rcode;
	int ns_status;                 /* NS query over UDP: 0 when an answer came */
	char **ns;                     /* NS set as this server has it, sorted */
	size_t nns;
	int mx_status;                 /* MX query over UDP */
	char **mx;                     /* "PREF TARGET" sorted */
	size_t nmx;
	uint32_t mx_ttl;               /* the MX set's TTL as this server holds it */
	struct audit_ttl *ttls;        /* the MX targets' A/AAAA TTLs this server answered
					* authoritatively, sorted by name and family (a
					* caching resolver's TTLs count down, these do not) */
	size_t nttls;
	int axfr_status;               /* AXFR over TCP: 0 when answered */
	int axfr_rcode;
	bool axfr_open;                /* the transfer began (an SOA came back) */
};

/* One NS record of the zone. */
struct audit_ns {
	char *name;                    /* absolute, lower case, trailing dot */
	bool is_cname;
	int addr_status;
	struct audit_ns_addr *addrs;
	size_t naddrs;
	unsigned pending;              /* engine internal: its A/AAAA lookups */
};

/* One server of the parent zone and the delegation it hands out (audit_parent.c). */
struct audit_deleg {
	struct audit_addr a;           /* the parent server's address */
	char *server;                  /* its name, absolute, trailing dot */
	int status;                    /* the NS query for the domain: 0 or MXF_E* */
	bool referral;                 /* it answered with a referral (NS in authority, no AA) */
	char **ns;                     /* the delegation's NS set, sorted */
	size_t nns;
};

struct audit_facts {
	unsigned pending_addr;         /* engine internal: lookups of the MX phase */
	unsigned pending_ptr;
	int mx_status;                 /* MX query at the resolver: 0, MXF_ENOTFOUND, ... */
	int mx_rcode;
	bool mx_aa;                    /* the resolver answered the MX authoritatively */
	struct audit_mx *mx;
	size_t nmx;
	bool mx_ready;                 /* MX, their addresses and PTRs are known */
	int ns_status;
	int ns_rcode;
	struct audit_ns *ns;
	size_t nns;
	char **resolver_ns;            /* NS set from the resolver, sorted (nns names) */
	int soa_status;                /* SOA at the resolver */
	int soa_rcode;
	uint32_t serial, refresh, retry, expire, minimum;
	char *parent;                  /* the parent zone's apex ("com."), or NULL when unknown */
	struct audit_deleg *deleg;     /* its servers' delegations, sorted by address */
	size_t ndeleg;
	unsigned pending_parent;       /* engine internal */
};

/* ---- one domain being audited (audit_engine.c) ---- */

struct audit_domain;

/* The report being written; the stages add findings to it. */
struct audit_report *audit_domain_report(struct audit_domain *d);
const struct audit_facts *audit_domain_facts(const struct audit_domain *d);
/* Writable facts, for the engine's own stage 1. */
struct audit_facts *audit_domain_facts_mut(struct audit_domain *d);
const struct audit_opts *audit_domain_opts(const struct audit_domain *d);
struct event_base *audit_domain_base(struct audit_domain *d);
/* The domain, absolute with trailing dot ("example.com."). */
const char *audit_domain_name(const struct audit_domain *d);

/*
 * Keep the domain open while async work is pending: the domain finishes
 * (its report is complete and judged) when the count drops to zero.  Every
 * hold is matched by exactly one release.
 */
void audit_hold(struct audit_domain *d);
void audit_release(struct audit_domain *d);

/*
 * A stage's pending work that must be stopped when the run is cancelled:
 * @fn(@arg) is called once at cancel time (then the stage must not touch
 * the domain and must not release); audit_hook_remove() when the work ends
 * normally.  audit_hook_add returns NULL when out of memory.
 */
struct audit_hook;
struct audit_hook *audit_hook_add(struct audit_domain *d, void (*fn)(void *arg), void *arg);
void audit_hook_remove(struct audit_domain *d, struct audit_hook *h);

#define AUDIT_Q_TCP 0x1u   /* over TCP only */
#define AUDIT_Q_NORD 0x2u  /* recursion desired off (to authoritative servers) */

/*
 * One lookup with the audit's deadline: to @server (NULL = the resolver),
 * UDP (TCP when truncated) unless AUDIT_Q_TCP, RD set unless AUDIT_Q_NORD.
 * Holds @d until the callback has run.  The callback gets status 0 /
 * MXF_E*, the rcode, and the parsed reply (NULL unless status 0; valid during
 * the call only).  The callback runs from the loop, never from inside
 * audit_lookup(), and not at all after the run is cancelled.
 * @return 0, or MXF_EINVAL / MXF_ENOMEM (then the callback never runs).
 */
typedef void (*audit_lookup_cb)(struct audit_domain *d, int status, int rcode,
				const ldns_pkt *reply, void *arg);
int audit_lookup(struct audit_domain *d, const struct sockaddr *server, socklen_t len,
		 const char *name, ldns_rr_type type, unsigned flags, audit_lookup_cb cb,
		 void *arg);

/*
 * The stages the engine calls:
 *   stage 1, with the MX/NS lookups: audit_policy_start(d)  (A2)
 *   stage 2, when facts->mx_ready:    audit_smtp_start(d) always; it honours opts->smtp  (A2)
 *                                     audit_failover_start(d) when opts->cfg  (A3)
 * A stage starts async work with audit_lookup()/audit_hold() and records
 * findings with audit_add().  The engine's own judgements (MX, PTR, NS) run
 * when every hold is released.
 */
void audit_policy_start(struct audit_domain *d);
void audit_smtp_start(struct audit_domain *d);
void audit_failover_start(struct audit_domain *d);

/* Stage 1 of the engine itself (audit_gather.c): starts the MX/NS/SOA lookups. */
void audit_gather_start(struct audit_domain *d);
/* Also stage 1 (audit_parent.c): the delegation as the parent zone's servers give it. */
void audit_parent_start(struct audit_domain *d);
/* Called by audit_gather when the MX facts are complete: starts stage 2. */
void audit_engine_mx_ready(struct audit_domain *d);

/* The engine's judgements on complete facts (pure: audit_mx.c, audit_ptr.c,
 * audit_ns.c).  Each counts its checks in @r. */
void audit_mx_judge(const struct audit_facts *f, const struct audit_opts *o,
		    struct audit_report *r);
void audit_ptr_judge(const struct audit_facts *f, const struct audit_opts *o,
		     struct audit_report *r);
void audit_ns_judge(const struct audit_facts *f, const struct audit_opts *o,
		    struct audit_report *r);

/* Free what @f holds. */
void audit_facts_clear(struct audit_facts *f);

/* ---- the whole run ---- */

struct audit_run;
typedef void (*audit_done_cb)(struct audit_report *const *reports, size_t n, void *arg);

/*
 * audit_run_start -- audit @domains (n >= 1; copied) concurrently on @base
 * with @o (copied; o->cfg and o->allow_private must outlive the run).
 * @done runs once from the loop when every domain is finished, with the
 * reports in the order of @domains (owned by the run; valid during the call);
 * the run frees itself after @done returns.  Not at all after
 * audit_run_cancel().
 * @return the run, or NULL with *err = MXF_EINVAL (a bad domain name) or
 * MXF_ENOMEM.
 */
struct audit_run *audit_run_start(struct event_base *base, const struct audit_opts *o,
				  char *const *domains, size_t n, audit_done_cb done, void *arg,
				  int *err);

/* Stop a run and free it; its callback will not run.  Not from @done. */
void audit_run_cancel(struct audit_run *run);

#endif
