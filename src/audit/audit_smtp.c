/*
 * audit_smtp.c -- stage 2: the SMTP conversation with every address of
 * every MX host, and the TLSA records of every MX host (DANE).
 *
 * The conversation (never DATA, so nothing is ever delivered):
 *   banner, EHLO, STARTTLS when offered, EHLO again, MAIL FROM:<>,
 *   RCPT TO:<random local part@domain>   accepted: accepts-unknown-recipient
 *   RCPT TO:<postmaster@domain>          refused:  postmaster-rejected
 *   RCPT TO:<someone@example.net>        accepted: open-relay
 *   RSET, QUIT.
 * One deadline (the audit's timeout) covers each conversation.
 *
 * What the conversation saw and needs the domain's policy to weigh
 * (STARTTLS, the certificate, DANE) is judged at the end by
 * audit_smtp_judge(), once MTA-STS and TLSA are known: certificate
 * findings are warnings, errors when the domain publishes MTA-STS
 * enforce or the host has usable TLSA records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "audit_conn.h"
#include "audit_mail.h"
#include "mxf.h"
#include "proto_smtp.h"

/* A certificate that expires within this many days is cert-expiring. */
#define SMTP_CERT_DAYS 14
#define SMTP_HELO "audit.mxfailover.invalid"

enum smtp_step {
	S_BANNER,
	S_EHLO,
	S_STARTTLS,
	S_EHLO_TLS,
	S_MAIL,
	S_RCPT_RANDOM,
	S_RCPT_POSTMASTER,
	S_RCPT_RELAY,
	S_RSET,
	S_QUIT,
};

/* ---------------------------------------------------------- probing -- */

static void
probe_end(struct audit_mail_probe *p)
{

	if (p->done)
		return;
	p->done = true;
	audit_conn_free(p->k);
	p->k = NULL;
	audit_mail_end(p->m);
}

static struct audit_report *
probe_report(struct audit_mail_probe *p)
{
	return audit_domain_report(p->m->d);
}

/* Send one command (@cmd, "...\r\n") and wait for its reply as @step. */
static void
probe_send(struct audit_mail_probe *p, enum smtp_step step, const char *cmd)
{
	p->step = step;
	proto_smtp_reply_init(&p->r);
	if (audit_conn_printf(p->k, "%s", cmd) != 0)
		probe_end(p);
}

static void
probe_rcpt(struct audit_mail_probe *p, enum smtp_step step, const char *rcpt)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", rcpt);
	probe_send(p, step, cmd);
}

/* Strip the trailing dot for comparisons and RCPT addresses. */
static void
name_plain(const char *in, char *out, size_t size)
{
	snprintf(out, size, "%s", in);
	size_t n = strlen(out);
	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

/* banner-mismatch: the banner's host name is neither the MX name nor a PTR name. */
static void
banner_judge(struct audit_mail_probe *p)
{
	const char *t = p->r.text;
	char word[256], mx[256];
	size_t n = 0;

	while (t[n] && t[n] != ' ' && n + 1 < sizeof(word)) {
		word[n] = t[n];
		n++;
	}
	word[n] = '\0';
	if (n > 1 && word[n - 1] == '.')
		word[n - 1] = '\0';
	name_plain(p->host->name, mx, sizeof(mx));
	audit_checked(probe_report(p), 1);
	if (strcasecmp(word, mx) == 0)
		return;
	for (size_t i = 0; i < p->addr->nptr; i++) {
		char ptr[256];
		name_plain(p->addr->ptr[i].name, ptr, sizeof(ptr));
		if (strcasecmp(word, ptr) == 0)
			return;
	}
	char ptrs[256] = "";
	if (p->addr->nptr > 0)
		name_plain(p->addr->ptr[0].name, ptrs, sizeof(ptrs));
	audit_add_default(probe_report(p), "banner-mismatch", p->subject,
			  "the banner names \"%s\", the MX name is %s%s%s", word, mx,
			  ptrs[0] ? " and the PTR name " : " (no PTR name)", ptrs);
}

/* Keep the chain and the protocol version once TLS is up. */
static void
probe_tls_facts(struct audit_mail_probe *p)
{
	SSL *ssl = audit_conn_ssl(p->k);

	if (!ssl)
		return;
	p->tls = true;
	p->tls_version = SSL_version(ssl);
	STACK_OF(X509) *ch = SSL_get_peer_cert_chain(ssl);
	if (ch)
		p->chain = X509_chain_up_ref(ch);
	if (p->tls_version < TLS1_2_VERSION)
		audit_add_default(probe_report(p), "tls-weak", p->subject,
				  "STARTTLS negotiated %s; TLS 1.2 is the least senders should "
				  "get (RFC 8996)",
				  SSL_get_version(ssl));
	audit_checked(probe_report(p), 1);
}

static void
rcpt_judge(struct audit_mail_probe *p, int code, const char *line)
{
	struct audit_report *r = probe_report(p);
	int cls = proto_smtp_class(code);

	audit_checked(r, 1);
	switch (p->step) {
	case S_RCPT_RANDOM:
		if (cls == PROTO_SMTP_CLASS_POSITIVE)
			audit_add_default(r, "accepts-unknown-recipient", p->subject,
					  "RCPT TO:<%s> (a made-up local part) was accepted: \"%s\"; "
					  "mail to unknown users is bounced later, to forged senders "
					  "(backscatter)",
					  p->random_rcpt, line);
		break;
	case S_RCPT_POSTMASTER:
		if (cls == PROTO_SMTP_CLASS_PERMANENT)
			audit_add_default(r, "postmaster-rejected", p->subject,
					  "RCPT TO:<postmaster@%s> was refused: \"%s\" (RFC 5321 4.5.1 "
					  "requires postmaster)",
					  p->domain, line);
		break;
	case S_RCPT_RELAY:
		if (cls == PROTO_SMTP_CLASS_POSITIVE)
			audit_add_default(r, "open-relay", p->subject,
					  "RCPT TO:<%s> (another domain) was accepted from us, a "
					  "stranger: \"%s\"",
					  p->relay_rcpt, line);
		break;
	default:
		break;
	}
}

static void
probe_reply(struct audit_mail_probe *p)
{
	struct proto_smtp_reply *rp = &p->r;
	int code = rp->code;
	char line[200];

	proto_smtp_reply_describe(rp, line, sizeof(line));
	switch ((enum smtp_step)p->step) {
	case S_BANNER:
		if (code != 220) {
			audit_add_default(probe_report(p), "smtp-unreachable", p->subject,
					  "the server greets with \"%s\" instead of 220", line);
			probe_send(p, S_QUIT, "QUIT\r\n");
			return;
		}
		p->reached = true;
		banner_judge(p);
		probe_send(p, S_EHLO, "EHLO " SMTP_HELO "\r\n");
		return;
	case S_EHLO:
	case S_EHLO_TLS:
		if (code != 250) {
			if (p->step == S_EHLO) {
				audit_add_default(probe_report(p), "smtp-unreachable", p->subject,
						  "EHLO was refused: \"%s\"", line);
				probe_send(p, S_QUIT, "QUIT\r\n");
				return;
			}
			probe_send(p, S_QUIT, "QUIT\r\n");
			return;
		}
		if (p->step == S_EHLO && (rp->ext & PROTO_SMTP_EXT_STARTTLS)) {
			probe_send(p, S_STARTTLS, "STARTTLS\r\n");
			return;
		}
		probe_send(p, S_MAIL, "MAIL FROM:<>\r\n");
		return;
	case S_STARTTLS:
		if (code != 220) {
			p->tls_failed = true;
			probe_send(p, S_MAIL, "MAIL FROM:<>\r\n");
			return;
		}
		if (audit_conn_starttls(p->k, p->host->name) != 0) {
			p->tls_failed = true;
			probe_end(p);
		}
		return;
	case S_MAIL:
		if (proto_smtp_class(code) != PROTO_SMTP_CLASS_POSITIVE) {
			audit_add_default(probe_report(p), "null-sender-rejected", p->subject,
					  "MAIL FROM:<> was refused: \"%s\"; bounces cannot reach the "
					  "domain (RFC 5321 4.5.5)",
					  line);
			probe_send(p, S_QUIT, "QUIT\r\n");
			return;
		}
		probe_rcpt(p, S_RCPT_RANDOM, p->random_rcpt);
		return;
	case S_RCPT_RANDOM:
		rcpt_judge(p, code, line);
		{
			char rc[320];
			snprintf(rc, sizeof(rc), "postmaster@%s", p->domain);
			probe_rcpt(p, S_RCPT_POSTMASTER, rc);
		}
		return;
	case S_RCPT_POSTMASTER:
		rcpt_judge(p, code, line);
		probe_rcpt(p, S_RCPT_RELAY, p->relay_rcpt);
		return;
	case S_RCPT_RELAY:
		rcpt_judge(p, code, line);
		probe_send(p, S_RSET, "RSET\r\n");
		return;
	case S_RSET:
		probe_send(p, S_QUIT, "QUIT\r\n");
		return;
	case S_QUIT:
		probe_end(p);
		return;
	}
}

static void
probe_line(struct audit_conn *k, char *line, size_t len, void *arg)
{
	struct audit_mail_probe *p = arg;
	int rc = proto_smtp_feed_line(&p->r, line, len);

	(void)k;
	if (rc == PROTO_ERROR) {
		if (!p->reached)
			audit_add_default(probe_report(p), "smtp-unreachable", p->subject,
					  "the server does not speak SMTP: %s", p->r.reason);
		probe_end(p);
		return;
	}
	if (rc == PROTO_COMPLETE)
		probe_reply(p);
}

static void
probe_connected(struct audit_conn *k, void *arg)
{
	struct audit_mail_probe *p = arg;

	(void)k;
	p->step = S_BANNER;
	proto_smtp_reply_init(&p->r);
}

static void
probe_tls_done(struct audit_conn *k, void *arg)
{
	struct audit_mail_probe *p = arg;

	(void)k;
	probe_tls_facts(p);
	probe_send(p, S_EHLO_TLS, "EHLO " SMTP_HELO "\r\n");
}

static void
probe_failed(struct audit_conn *k, int err, const char *why, void *arg)
{
	struct audit_mail_probe *p = arg;

	(void)k;
	if (p->step == S_STARTTLS) {
		/* The handshake failed: judged with the policy (starttls-failed). */
		p->tls_failed = true;
	} else if (!p->reached) {
		audit_add_default(probe_report(p), "smtp-unreachable", p->subject,
				  "port 25: %s", err == MXF_ETIMEDOUT ? "no banner before the deadline" : why);
	}
	probe_end(p);
}

static const struct audit_conn_ops probe_ops = {
	.connected = probe_connected,
	.line = probe_line,
	.tls_done = probe_tls_done,
	.failed = probe_failed,
};

static void
probe_start(struct audit_mail *m, struct audit_mail_probe *p)
{
	const struct audit_opts *o = audit_domain_opts(m->d);
	struct sockaddr_storage ss;
	socklen_t sl;
	char why[200];
	uint64_t rnd = 0;

	memset(&ss, 0, sizeof(ss));
	p->m = m;
	audit_mail_domain(m, p->domain, sizeof(p->domain));
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (uint64_t)(uintptr_t)p ^ 0x9e3779b97f4a7c15ull;
	snprintf(p->random_rcpt, sizeof(p->random_rcpt), "mxf-audit-%016llx@%s",
		 (unsigned long long)rnd, p->domain);
	size_t dl = strlen(p->domain);
	bool under_net = dl >= 11 && strcasecmp(p->domain + dl - 11, "example.net") == 0;
	snprintf(p->relay_rcpt, sizeof(p->relay_rcpt), "mxf-audit-relay@%s",
		 under_net ? "example.org" : "example.net");
	if (p->addr->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(25);
		memcpy(&s4->sin_addr, p->addr->addr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(25);
		memcpy(&s6->sin6_addr, p->addr->addr, 16);
		sl = sizeof(*s6);
	}
	audit_mail_begin(m);
	audit_checked(audit_domain_report(m->d), 1);
	p->k = audit_conn_start(audit_domain_base(m->d), (struct sockaddr *)&ss, sl, o->timeout_ms,
				PROTO_SMTP_LINE_MAX, false, NULL, &probe_ops, p, why, sizeof(why));
	if (!p->k) {
		audit_add_default(audit_domain_report(m->d), "smtp-unreachable", p->subject,
				  "cannot connect: %s", why);
		p->done = true;
			audit_mail_end(m);
	}
}

/* ------------------------------------------------------------- DANE -- */

static void
tlsa_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_mail_host *h = arg;
	struct audit_mail *m = h->m;
	ldns_rr_list *an = status == 0 && reply ? ldns_pkt_answer(reply) : NULL;

	(void)d, (void)rcode;
	h->tlsa_done = true;
	h->tlsa_status = status == MXF_ENOTFOUND ? 0 : status;
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA || ldns_rr_rd_count(rr) != 4)
			continue;
		uint8_t rd[3 + AUDIT_DANE_DATA_MAX];
		size_t n = 0;
		for (size_t k = 0; k < 4; k++) {
			const ldns_rdf *f = ldns_rr_rdf(rr, k);
			if (n + ldns_rdf_size(f) > sizeof(rd)) {
				n = 0;
				break;
			}
			memcpy(rd + n, ldns_rdf_data(f), ldns_rdf_size(f));
			n += ldns_rdf_size(f);
		}
		if (h->ntlsa < AUDIT_MAIL_TLSA_MAX && n > 0 &&
		    audit_tlsa_from_rdata(rd, n, &h->tlsa[h->ntlsa]) == 0)
			h->ntlsa++;
		else
			h->nbad_tlsa++;
	}
	audit_mail_end(m);
}

/* ------------------------------------------------------------ judge -- */

static bool
host_dane(const struct audit_mail_host *h)
{
	for (size_t i = 0; i < h->ntlsa; i++)
		if (audit_tlsa_usable(&h->tlsa[i]))
			return true;
	return false;
}

/* The certificate of one probe: expiry, name, trust. */
static void
cert_judge(struct audit_mail *m, struct audit_mail_probe *p, enum audit_severity sev,
	   const char *why_err)
{
	struct audit_report *r = audit_domain_report(m->d);
	X509 *leaf = sk_X509_value(p->chain, 0);
	char mx[256];
	int days = 0, secs = 0;

	if (!leaf)
		return;
	name_plain(p->host->name, mx, sizeof(mx));
	audit_checked(r, 3);
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)) == 1) {
		if (days < 0 || (days == 0 && secs < 0))
			audit_add(r, "cert-expired", sev, p->subject, NULL,
				  "the certificate expired %d days ago%s", -days, why_err);
		else if (days < SMTP_CERT_DAYS)
			audit_add(r, "cert-expiring", sev, p->subject, NULL,
				  "the certificate expires in %d days%s", days, why_err);
	}
	if (X509_check_host(leaf, mx, 0, 0, NULL) != 1)
		audit_add(r, "cert-name-mismatch", sev, p->subject, NULL,
			  "the certificate does not name %s%s", mx, why_err);
	char why[200];
	SSL_CTX *ctx = audit_ssl_ctx(why, sizeof(why));
	X509_STORE_CTX *vx = ctx ? X509_STORE_CTX_new() : NULL;
	if (vx && X509_STORE_CTX_init(vx, SSL_CTX_get_cert_store(ctx), leaf, p->chain) == 1) {
		/* Trust alone: expiry and the name are their own findings. */
		X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(vx),
					    X509_V_FLAG_NO_CHECK_TIME);
		X509_STORE_CTX_set_purpose(vx, X509_PURPOSE_SSL_SERVER);
		if (X509_verify_cert(vx) != 1)
			audit_add(r, "cert-untrusted", sev, p->subject, NULL,
				  "the certificate does not chain to a trusted CA: %s%s",
				  X509_verify_cert_error_string(X509_STORE_CTX_get_error(vx)),
				  why_err);
	}
	X509_STORE_CTX_free(vx);
}

void
audit_smtp_judge(struct audit_mail *m)
{
	struct audit_report *r = audit_domain_report(m->d);
	bool enforce = m->mtasts_policy && m->policy.mode == AUDIT_MTASTS_ENFORCE;

	for (size_t i = 0; i < m->nhosts; i++) {
		struct audit_mail_host *h = &m->hosts[i];
		if (h->tlsa_done && (h->ntlsa > 0 || h->nbad_tlsa > 0) && !host_dane(h)) {
			char name[300], plain[260];
			snprintf(name, sizeof(name), "_25._tcp.%s",
				 audit_mail_plain(h->name, plain, sizeof(plain)));
			audit_add_default(r, "dane-tlsa-mismatch", name,
					  "no usable TLSA record (usage 2 or 3, selector 0 or 1, "
					  "matching 0 to 2; %zu record(s) unusable or malformed)",
					  h->ntlsa + h->nbad_tlsa);
		}
	}
	for (size_t i = 0; i < m->nprobes; i++) {
		struct audit_mail_probe *p = &m->probes[i];
		bool dane = host_dane(p->host);
		enum audit_severity sev = enforce || dane ? AUDIT_ERROR : AUDIT_WARNING;
		const char *why = enforce && dane ? " (the domain publishes MTA-STS enforce and DANE)"
				  : enforce       ? " (the domain publishes MTA-STS mode enforce)"
				  : dane          ? " (the host publishes DANE TLSA records)"
						  : "";
		if (!p->reached)
			continue;
		audit_checked(r, 1);
		if (p->tls_failed) {
			audit_add(r, "starttls-failed", sev, p->subject, NULL,
				  "STARTTLS is offered but the TLS handshake fails%s", why);
			continue;
		}
		if (!p->tls) {
			audit_add(r, "starttls-missing", sev, p->subject, NULL,
				  "the server does not offer STARTTLS: mail to it travels in "
				  "clear%s",
				  why);
			continue;
		}
		cert_judge(m, p, sev, why);
		if (dane) {
			X509 *chain[16];
			size_t n = 0;
			for (int k = 0; k < sk_X509_num(p->chain) && n < 16; k++)
				chain[n++] = sk_X509_value(p->chain, k);
			audit_checked(r, 1);
			if (audit_dane_match(p->host->tlsa, p->host->ntlsa, chain, n) == 0) {
				char name[300], plain[260];
				snprintf(name, sizeof(name), "_25._tcp.%s",
					 audit_mail_plain(p->host->name, plain, sizeof(plain)));
				audit_add_default(r, "dane-tlsa-mismatch", p->subject,
						  "no TLSA record at %s matches the certificate chain "
						  "the server presents: DANE senders will not deliver",
						  name);
			}
		}
	}
}

void
audit_smtp_free(struct audit_mail *m)
{
	for (size_t i = 0; i < m->nprobes; i++) {
		struct audit_mail_probe *p = &m->probes[i];
		if (p->k) {
			audit_conn_free(p->k);
			p->k = NULL;
		}
		if (p->chain)
			sk_X509_pop_free(p->chain, X509_free);
	}
	free(m->probes);
	m->probes = NULL;
	m->nprobes = 0;
}

/* ------------------------------------------------------------ start -- */

static struct audit_mail_host *
host_find(struct audit_mail *m, const char *name)
{
	for (size_t i = 0; i < m->nhosts; i++)
		if (strcasecmp(m->hosts[i].name, name) == 0)
			return &m->hosts[i];
	return NULL;
}

static void
smtp_later_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	audit_mail_end(arg);
}

void
audit_smtp_start(struct audit_domain *d)
{
	struct audit_mail *m = audit_mail_get(d);
	const struct audit_facts *f = audit_domain_facts(d);
	const struct audit_opts *o = audit_domain_opts(d);
	size_t naddr = 0;

	if (!m)
		return;
	audit_mail_begin(m);
	m->stage2 = true;
	for (size_t i = 0; i < f->nmx; i++)
		naddr += f->mx[i].naddrs;
	m->hosts = calloc(f->nmx + 1, sizeof(*m->hosts));
	m->probes = calloc(naddr + 1, sizeof(*m->probes));
	if (!m->hosts || !m->probes)
		goto out;
	for (size_t i = 0; i < f->nmx && o->smtp; i++) {
		const struct audit_mx *mx = &f->mx[i];
		if (strcmp(mx->target, ".") == 0 || mx->is_ip)
			continue;
		struct audit_mail_host *h = host_find(m, mx->target);
		if (!h) {
			h = &m->hosts[m->nhosts];
			h->m = m;
			h->name = strdup(mx->target);
			if (!h->name)
				continue;
			m->nhosts++;
			char name[320];
			snprintf(name, sizeof(name), "_25._tcp.%s", mx->target);
			audit_mail_begin(m);
			if (audit_lookup(d, NULL, 0, name, LDNS_RR_TYPE_TLSA, 0, tlsa_cb, h) != 0)
				audit_mail_end(m);
			for (size_t j = 0; j < mx->naddrs; j++) {
				struct audit_mail_probe *p = &m->probes[m->nprobes++];
				p->host = h;
				p->addr = &mx->addrs[j];
				char plain[260];
				snprintf(p->subject, sizeof(p->subject), "%s (%s)",
					 audit_mail_plain(mx->target, plain, sizeof(plain)),
					 mx->addrs[j].text);
			}
		}
	}
	for (size_t i = 0; i < m->nprobes; i++)
		probe_start(m, &m->probes[i]);
out:
	/* Stage 2's own piece ends from the loop, not here: the failover
	 * stage starts right after this call and may still ask for the SPF
	 * result (audit_policy_spf_wait), which needs this state alive. */
	m->later = evtimer_new(audit_domain_base(d), smtp_later_cb, m);
	if (!m->later || event_add(m->later, &(struct timeval){0, 0}) != 0)
		audit_mail_end(m);
}
