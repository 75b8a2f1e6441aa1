/*
 * audit_mtasts_fetch.c -- the MTA-STS policy file, as a sender fetches it
 * (RFC 8461 3.3): the address of mta-sts.DOMAIN from the resolver, HTTPS on
 * port 443 with a certificate valid for that name (trust: $MXF_CA_FILE or
 * the system store, as the checks), GET /.well-known/mta-sts.txt, status
 * 200 (redirects are not followed: senders must not), Content-Type
 * text/plain, a body of at most 64 KiB parsed by audit_mtasts.h.
 *
 * Every failure is one mta-sts-invalid finding saying what a sender would
 * have hit.  One deadline (the audit's timeout) covers the conversation.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "audit_conn.h"
#include "audit_mail.h"
#include "mxf.h"
#include "proto.h"
#include "proto_http.h"
#include "tls.h"

#define FETCH_PORT 443
#define FETCH_PATH "/.well-known/mta-sts.txt"

struct audit_mtasts_fetch {
	struct audit_mail *m;
	char host[264];              /* "mta-sts.example.com" */
	unsigned lookups;            /* A and AAAA still out */
	bool started;                /* a connection was tried */
	struct sockaddr_storage sa;
	socklen_t salen;
	bool have_addr;
	struct audit_conn *k;
	struct proto_http_response resp;
	bool head_done;
	bool text_plain;
	char *body;                  /* AUDIT_MTASTS_BODY_MAX + 1 */
	size_t blen;
	bool done;
};

void
audit_mtasts_fetch_free(struct audit_mtasts_fetch *f)
{
	if (!f)
		return;
	audit_conn_free(f->k);
	free(f->body);
	free(f);
}

/* The fetch is over: with @why a failure (a finding), else parse the body. */
static void
fetch_end(struct audit_mtasts_fetch *f, const char *why)
{
	struct audit_mail *m = f->m;
	struct audit_report *r = audit_domain_report(m->d);
	char subj[320];

	if (f->done)
		return;
	f->done = true;
	audit_conn_free(f->k);
	f->k = NULL;
	snprintf(subj, sizeof(subj), "https://%s%s", f->host, FETCH_PATH);
	audit_checked(r, 1);
	if (why) {
		audit_add_default(r, "mta-sts-invalid", subj,
				  "the _mta-sts record announces a policy, but %s", why);
	} else if (audit_mtasts_policy_parse(f->body, f->blen, &m->policy) != 0) {
		audit_add_default(r, "mta-sts-invalid", subj, "the policy file: %s",
				  m->policy.error);
	} else {
		m->mtasts_policy = true;
	}
	audit_mail_end(m);
}

static void
fetch_connected(struct audit_conn *k, void *arg)
{
	struct audit_mtasts_fetch *f = arg;
	SSL *ssl = audit_conn_ssl(k);
	char req[600], why[256], msg[1024];

	if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK) {
		tls_verify_reason(ssl, why, sizeof(why));
		snprintf(msg, sizeof(msg), "the certificate of %s does not verify: %s", f->host,
			 why[0] ? why : "no certificate");
		fetch_end(f, msg);
		return;
	}
	int n = proto_http_build_request(req, sizeof(req), f->host, FETCH_PORT, true, FETCH_PATH);
	if (n < 0 || audit_conn_printf(k, "%s", req) != 0)
		fetch_end(f, "the request could not be built (out of memory)");
}

static void
fetch_line(struct audit_conn *k, char *line, size_t len, void *arg)
{
	struct audit_mtasts_fetch *f = arg;
	char msg[1024], d[200];

	if (f->head_done) {
		if (f->blen + len > AUDIT_MTASTS_BODY_MAX) {
			fetch_end(f, "the policy file is larger than 64 KiB");
			return;
		}
		memcpy(f->body + f->blen, line, len);
		f->blen += len;
		if (f->resp.content_length >= 0 && f->blen >= (size_t)f->resp.content_length)
			fetch_end(f, NULL);
		return;
	}
	if (len >= 13 && strncasecmp(line, "content-type:", 13) == 0) {
		const char *v = line + 13;
		while (*v == ' ' || *v == '\t')
			v++;
		f->text_plain = strncasecmp(v, "text/plain", 10) == 0 &&
				(v[10] == '\0' || v[10] == ';' || v[10] == ' ');
	}
	int rc = proto_http_feed_line(&f->resp, line, len);
	if (rc == PROTO_ERROR) {
		snprintf(msg, sizeof(msg), "https://%s%s answered garbage: %s", f->host, FETCH_PATH,
			 f->resp.reason);
		fetch_end(f, msg);
		return;
	}
	if (rc != PROTO_COMPLETE)
		return;
	f->head_done = true;
	if (f->resp.status != 200) {
		proto_http_response_describe(&f->resp, d, sizeof(d));
		snprintf(msg, sizeof(msg), "https://%s%s answered \"%s\"%s", f->host, FETCH_PATH, d,
			 f->resp.status >= 300 && f->resp.status < 400
				 ? " (senders do not follow redirects)"
				 : "");
		fetch_end(f, msg);
		return;
	}
	if (!f->text_plain) {
		fetch_end(f, "the policy file is not served as Content-Type: text/plain");
		return;
	}
	if (f->resp.chunked) {
		fetch_end(f, "the policy file is sent chunked, which this audit does not read");
		return;
	}
	if (f->resp.content_length > AUDIT_MTASTS_BODY_MAX) {
		fetch_end(f, "the policy file is larger than 64 KiB");
		return;
	}
	f->body = malloc(AUDIT_MTASTS_BODY_MAX + 1);
	if (!f->body) {
		fetch_end(f, "out of memory");
		return;
	}
	if (f->resp.content_length == 0) {
		fetch_end(f, NULL);
		return;
	}
	audit_conn_raw_mode(k);
}

static void
fetch_failed(struct audit_conn *k, int err, const char *why, void *arg)
{
	struct audit_mtasts_fetch *f = arg;
	char msg[1024];

	(void)k;
	/* Connection: close ends a body without a length. */
	if (err == MXF_ENET && f->head_done && f->body && f->resp.content_length < 0) {
		fetch_end(f, NULL);
		return;
	}
	snprintf(msg, sizeof(msg), "https://%s%s cannot be fetched: %s", f->host, FETCH_PATH, why);
	fetch_end(f, msg);
}

static const struct audit_conn_ops fetch_ops = {
	.connected = fetch_connected,
	.line = fetch_line,
	.tls_done = fetch_connected,
	.failed = fetch_failed,
};

static void
fetch_connect(struct audit_mtasts_fetch *f)
{
	struct audit_mail *m = f->m;
	const struct audit_opts *o = audit_domain_opts(m->d);
	char why[200], msg[1024];

	f->started = true;
	if (!f->have_addr) {
		snprintf(msg, sizeof(msg), "%s has no address (A or AAAA)", f->host);
		fetch_end(f, msg);
		return;
	}
	f->k = audit_conn_start(audit_domain_base(m->d), (struct sockaddr *)&f->sa, f->salen,
				o->timeout_ms, PROTO_HTTP_LINE_MAX, true, f->host, &fetch_ops, f, why,
				sizeof(why));
	if (!f->k) {
		snprintf(msg, sizeof(msg), "cannot connect to %s: %s", f->host, why);
		fetch_end(f, msg);
	}
}

static void
fetch_addr_cb(struct audit_domain *d, int status, int rcode, const ldns_pkt *reply, void *arg)
{
	struct audit_mtasts_fetch *f = arg;
	ldns_rr_list *an = status == 0 && reply ? ldns_pkt_answer(reply) : NULL;

	(void)d, (void)rcode;
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an) && !f->have_addr; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A && ldns_rdf_size(rd) == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&f->sa;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(FETCH_PORT);
			memcpy(&s4->sin_addr, ldns_rdf_data(rd), 4);
			f->salen = sizeof(*s4);
			f->have_addr = true;
		} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA && ldns_rdf_size(rd) == 16) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&f->sa;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(FETCH_PORT);
			memcpy(&s6->sin6_addr, ldns_rdf_data(rd), 16);
			f->salen = sizeof(*s6);
			f->have_addr = true;
		}
	}
	if (--f->lookups == 0 && !f->started)
		fetch_connect(f);
}

void
audit_mtasts_fetch_start(struct audit_mail *m)
{
	struct audit_mtasts_fetch *f = calloc(1, sizeof(*f));
	char dom[260], name[320];

	if (!f)
		return;
	m->fetch = f;
	f->m = m;
	proto_http_response_init(&f->resp);
	snprintf(f->host, sizeof(f->host), "mta-sts.%.250s", audit_mail_domain(m, dom, sizeof(dom)));
	snprintf(name, sizeof(name), "%s.", f->host);
	audit_mail_begin(m);
	/* A first, then AAAA: whichever answers with an address first is used
	 * once both are back (loopback labs publish A). */
	if (audit_lookup(m->d, NULL, 0, name, LDNS_RR_TYPE_A, 0, fetch_addr_cb, f) == 0)
		f->lookups++;
	if (audit_lookup(m->d, NULL, 0, name, LDNS_RR_TYPE_AAAA, 0, fetch_addr_cb, f) == 0)
		f->lookups++;
	if (f->lookups == 0)
		fetch_connect(f);
}
