/*
 * audit_mail.h -- what the policy stage (audit_policy.c: SPF, DMARC,
 * MTA-STS, TLSRPT), the MTA-STS fetch (audit_mtasts_fetch.c), the DANE
 * lookups and the SMTP probe (audit_smtp.c) share for one domain.
 *
 * Some findings need both halves: a certificate finding is an error when
 * the domain publishes MTA-STS enforce or DANE; mta-sts-mx-mismatch needs
 * the MX set; dane-tlsa-mismatch needs the TLSA records and the chain the
 * probe saw.  So each domain has one struct audit_mail, created by
 * whichever stage comes first, holding the domain (audit_hold) until
 * stage 2 has started and every piece of its own work is done; then
 * audit_mail_finish() judges what needed both and frees it.
 *
 * Not a public interface: only audit_policy.c, audit_smtp.c and
 * audit_mtasts_fetch.c include it.
 */
#ifndef MXF_AUDIT_MAIL_H
#define MXF_AUDIT_MAIL_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "audit.h"
#include "audit_dane.h"
#include "audit_mtasts.h"
#include "audit_spf.h"
#include "proto_smtp.h"

#define AUDIT_MAIL_NETS_MAX 64      /* SPF networks kept for coverage */
#define AUDIT_MAIL_SPF_NODES_MAX 12 /* SPF records followed (include/redirect) */
#define AUDIT_MAIL_TLSA_MAX 8
#define AUDIT_MAIL_SPF_RES_MAX 48  /* a/mx names resolved for coverage */

struct audit_conn;
struct audit_mail;

/* One SMTP conversation with one MX address (audit_smtp.c). */
struct audit_mail_probe {
	struct audit_mail *m;
	struct audit_mail_host *host;
	const struct audit_addr *addr;   /* facts, valid for the domain's life */
	char subject[320];               /* "mx1.example.com. (192.0.2.1)" */
	struct audit_conn *k;
	int step;
	/* What the conversation found. */
	bool reached;                    /* a 220 banner */
	bool tls;                        /* STARTTLS completed */
	bool tls_failed;                 /* STARTTLS offered, the handshake failed */
	int tls_version;                 /* SSL_version() */
	STACK_OF(X509) *chain;           /* the presented chain, leaf first (owned) */
	bool done;
	/* The conversation's own state. */
	struct proto_smtp_reply r;
	char random_rcpt[320];
	char relay_rcpt[64];
	char domain[260];
};

/* One MX host name (not an address literal, not the null MX). */
struct audit_mail_host {
	struct audit_mail *m;
	char *name;                      /* absolute, trailing dot */
	bool tlsa_done;
	int tlsa_status;                 /* 0 answered (maybe NODATA), else MXF_E* */
	struct audit_tlsa tlsa[AUDIT_MAIL_TLSA_MAX];
	size_t ntlsa;
	size_t nbad_tlsa;                /* records that did not parse */
};

/* An SPF-coverage waiter (audit_policy_spf_wait). */
struct audit_mail_spf_wait;

struct audit_mail {
	struct audit_domain *d;
	struct audit_hook *hook;         /* frees everything on cancel */
	unsigned pending;                /* own pieces of work still running */
	bool stage2;                     /* audit_smtp_start() ran */
	bool finished;
	/* SPF */
	unsigned spf_lookups;            /* DNS-querying terms over the whole tree */
	unsigned spf_nodes;              /* records asked for */
	bool spf_found;                  /* the domain has exactly one valid record */
	bool spf_complete;               /* nothing of the tree was left unfollowed */
	struct audit_mail_spf_node {     /* records asked for: [0] the domain's own */
		struct audit_mail *m;
		char domain[256];        /* absolute, trailing dot */
		unsigned depth;
		bool redirect;           /* reached through redirect= */
	} spf_node[AUDIT_MAIL_SPF_NODES_MAX];
	struct audit_mail_spf_res {      /* a/mx terms being resolved */
		struct audit_mail *m;
		char name[256];
		int cidr4, cidr6;
		bool mx;                 /* an MX lookup (then A/AAAA of each target) */
	} spf_res[AUDIT_MAIL_SPF_RES_MAX];
	size_t nspf_res;
	struct audit_spf_net nets[AUDIT_MAIL_NETS_MAX];
	size_t nnets;
	struct audit_mail_spf_wait *waiters;
	/* MTA-STS */
	bool mtasts_txt;                 /* a valid _mta-sts record */
	bool mtasts_policy;              /* ... and a valid policy file */
	struct audit_mtasts_policy policy;
	struct audit_mtasts_fetch *fetch;
	/* MX hosts and probes (stage 2). */
	struct audit_mail_host *hosts;
	size_t nhosts;
	struct audit_mail_probe *probes;
	size_t nprobes;
	struct event *later;             /* stage 2's own end, from the loop */
	struct audit_mail *next;         /* the list of live domains */
};

/* audit_mail_get -- @d's shared state, created (and @d held) on the first
 * call.  @return it, or NULL when out of memory. */
struct audit_mail *audit_mail_get(struct audit_domain *d);

/* audit_mail_begin / audit_mail_end -- one piece of own work starts / is
 * done; the last end after stage 2 began finishes the domain's mail
 * checks (audit_mail_finish) and releases the hold. */
void audit_mail_begin(struct audit_mail *m);
void audit_mail_end(struct audit_mail *m);

/* The MTA-STS policy fetch (audit_mtasts_fetch.c): GET
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt; sets m->policy and
 * m->mtasts_policy or adds mta-sts-invalid.  Counts as own work. */
struct audit_mtasts_fetch;
void audit_mtasts_fetch_start(struct audit_mail *m);
void audit_mtasts_fetch_free(struct audit_mtasts_fetch *f);

/* The SMTP probe's judgement at the end (audit_smtp.c): certificate,
 * STARTTLS and DANE findings, with the domain's policy known. */
void audit_smtp_judge(struct audit_mail *m);
/* Close the probes' connections (cancel, finish). */
void audit_smtp_free(struct audit_mail *m);

/* @in without its trailing dot, in @out (names in subjects and messages
 * are written without it). @return @out. */
const char *audit_mail_plain(const char *in, char *out, size_t size);

/* "example.com" (no trailing dot) of @d, in @buf. */
const char *audit_mail_domain(struct audit_mail *m, char *buf, size_t size);

/* The TXT record @rr's character-strings joined, into @buf (NUL-ended);
 * @return the length, or (size_t)-1 when it does not fit. */
size_t audit_mail_txt(const ldns_rr *rr, char *buf, size_t size);

#endif
