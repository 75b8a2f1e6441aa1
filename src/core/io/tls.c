/*
 * tls.c -- the TLS client side shared by the check engine and ETRN (tls.h):
 * client contexts, the one shared context, the TLS filter on a
 * bufferevent, handshake error reasons, and the verify callback that
 * records every reason a certificate fails (tls_verify_reason).
 */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "value.h"

/* Distinct "anything else" verify errors kept per connection. */
#define TLS_OTHER_MAX 3

/* What the verify callback saw, one bit per kind of problem. */
enum {
	TLS_V_EXPIRED = 1u << 0,         /* the server's certificate */
	TLS_V_NOT_YET = 1u << 1,
	TLS_V_CA_EXPIRED = 1u << 2,      /* a CA certificate of the chain */
	TLS_V_CA_NOT_YET = 1u << 3,
	TLS_V_SELF_SIGNED = 1u << 4,     /* the server's own, alone */
	TLS_V_SELF_SIGNED_CHAIN = 1u << 5,
	TLS_V_UNTRUSTED = 1u << 6,       /* no trusted issuer */
	TLS_V_NAME = 1u << 7,
};

/* The verification record of one connection (SSL ex_data, freed with it). */
struct tls_verify_rec {
	unsigned seen;
	int expired_days;              /* whole days since notAfter (>= 0) */
	int untrusted;                 /* the first untrusted-issuer error */
	int other[TLS_OTHER_MAX];
	size_t nother;
	char name[256];                /* the name the certificate must match */
};

static int tls_rec_idx = -1;

/* Built once by tls_ctx_shared(); reachable until exit. */
static SSL_CTX *tls_shared;

static void
tls_why(char *why, size_t whylen, const char *text)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", text);
}

static void
tls_rec_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static int
tls_rec_index(void)
{
	if (tls_rec_idx < 0)
		tls_rec_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, tls_rec_free);
	return tls_rec_idx;
}

static struct tls_verify_rec *
tls_rec(const SSL *ssl)
{
	return ssl != NULL && tls_rec_idx >= 0 ? SSL_get_ex_data(ssl, tls_rec_idx) : NULL;
}

/*
 * OpenSSL calls this for every check of the chain.  Recording the error and
 * returning 1 lets verification go on, so later problems are seen too;
 * the verify result stays an error, and the handshake never depended on
 * it (SSL_VERIFY_NONE).
 */
static int
tls_verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_verify_rec *r = tls_rec(ssl);
	int err = X509_STORE_CTX_get_error(x), depth = X509_STORE_CTX_get_error_depth(x);

	if (ok || r == NULL)
		return 1;
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED: {
		X509 *cert = X509_STORE_CTX_get_current_cert(x);
		int days = 0, secs = 0;

		if (depth > 0) {
			r->seen |= TLS_V_CA_EXPIRED;
			break;
		}
		r->seen |= TLS_V_EXPIRED;
		/* Whole days, truncated: expired 1.2 days ago is 1, an hour ago 0. */
		if (cert != NULL && ASN1_TIME_diff(&days, &secs, X509_get0_notAfter(cert), NULL) == 1)
			r->expired_days = (int)(((int64_t)days * 86400 + secs) / 86400);
		break;
	}
	case X509_V_ERR_CERT_NOT_YET_VALID:
		r->seen |= depth > 0 ? TLS_V_CA_NOT_YET : TLS_V_NOT_YET;
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		r->seen |= TLS_V_SELF_SIGNED;
		break;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		r->seen |= TLS_V_SELF_SIGNED_CHAIN;
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		if (!(r->seen & TLS_V_UNTRUSTED))
			r->untrusted = err;
		r->seen |= TLS_V_UNTRUSTED;
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
		r->seen |= TLS_V_NAME;
		break;
	default:
		for (size_t i = 0; i < r->nother; i++)
			if (r->other[i] == err)
				return 1;
		if (r->nother < TLS_OTHER_MAX)
			r->other[r->nother++] = err;
		break;
	}
	return 1;
}

/* Append "; @text" (or @text first) to the @o bytes of @buf. */
static size_t
tls_join(char *buf, size_t size, size_t o, const char *text)
{
	int n;

	if (o >= size)
		return o;
	n = snprintf(buf + o, size - o, "%s%s", o > 0 ? "; " : "", text);
	return n < 0 ? o : o + (size_t)n;
}

int
tls_verify_reason(const SSL *ssl, char *buf, size_t size)
{
	const struct tls_verify_rec *r = tls_rec(ssl);
	long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	char all[1024], item[320];
	size_t o = 0;
	int n = 0;

	if (size > 0)
		buf[0] = '\0';
	if (vr == X509_V_OK)
		return 0;
	all[0] = '\0';
	if (r != NULL && (r->seen & TLS_V_EXPIRED)) {
		if (r->expired_days == 0)
			snprintf(item, sizeof(item), "certificate expired less than a day ago");
		else
			snprintf(item, sizeof(item), "certificate expired %d day%s ago",
				 r->expired_days, r->expired_days == 1 ? "" : "s");
		o = tls_join(all, sizeof(all), o, item), n++;
	}
	if (r != NULL && (r->seen & TLS_V_NOT_YET))
		o = tls_join(all, sizeof(all), o, "certificate is not valid yet"), n++;
	if (r != NULL && (r->seen & TLS_V_CA_EXPIRED))
		o = tls_join(all, sizeof(all), o, "a CA certificate of the chain expired"), n++;
	if (r != NULL && (r->seen & TLS_V_CA_NOT_YET))
		o = tls_join(all, sizeof(all), o, "a CA certificate of the chain is not valid yet"),
		n++;
	if (r != NULL && (r->seen & TLS_V_SELF_SIGNED))
		o = tls_join(all, sizeof(all), o, "self-signed"), n++;
	if (r != NULL && (r->seen & TLS_V_SELF_SIGNED_CHAIN))
		o = tls_join(all, sizeof(all), o, "self-signed certificate in the chain"), n++;
	if (r != NULL && (r->seen & TLS_V_UNTRUSTED)) {
		snprintf(item, sizeof(item), "certificate verify failed: untrusted issuer (%s)",
			 X509_verify_cert_error_string(r->untrusted));
		o = tls_join(all, sizeof(all), o, item), n++;
	}
	if (r != NULL && (r->seen & TLS_V_NAME)) {
		snprintf(item, sizeof(item), "certificate does not match the name %s",
			 r->name[0] != '\0' ? r->name : "?");
		o = tls_join(all, sizeof(all), o, item), n++;
	}
	for (size_t i = 0; r != NULL && i < r->nother; i++) {
		snprintf(item, sizeof(item), "certificate verify failed: %s",
			 X509_verify_cert_error_string(r->other[i]));
		o = tls_join(all, sizeof(all), o, item), n++;
	}
	if (n == 0) {
		/* No record (not our SSL): OpenSSL's one result. */
		snprintf(all, sizeof(all), "certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
		n = 1;
	}
	value_utf8_clean(buf, size, all, strlen(all));
	return n;
}

SSL *
tls_ssl_new(SSL_CTX *ctx, const char *name, bool check_name)
{
	struct tls_verify_rec *r;
	SSL *ssl;

	if (tls_rec_index() < 0)
		return NULL;
	ssl = SSL_new(ctx);
	r = calloc(1, sizeof(*r));
	if (ssl == NULL || r == NULL || SSL_set_ex_data(ssl, tls_rec_idx, r) != 1) {
		free(r);
		SSL_free(ssl);
		return NULL;
	}
	if (name != NULL) {
		SSL_set_tlsext_host_name(ssl, name);
		if (check_name) {
			SSL_set1_host(ssl, name);
			snprintf(r->name, sizeof(r->name), "%s", name);
		}
	}
	return ssl;
}

SSL_CTX *
tls_ctx_new(const char *cafile, char *why, size_t whylen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	tls_why(why, whylen, "out of memory");
	if (ctx == NULL)
		return NULL;
	if (cafile != NULL && *cafile != '\0') {
		FILE *f = fopen(cafile, "r");

		/* errno is clearer than OpenSSL's error stack for the usual
		 * mistakes: a wrong path, a file only root may read. */
		if (f == NULL) {
			tls_why(why, whylen, strerror(errno));
			SSL_CTX_free(ctx);
			return NULL;
		}
		fclose(f);
		if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
			tls_why(why, whylen, "no PEM certificate in it");
			ERR_clear_error();
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_why(why, whylen, "cannot use the system CA store");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Verification is done after the handshake, from the verify result,
	 * so a bad certificate gives a precise reason instead of an alert. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, tls_verify_cb);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	return ctx;
}

SSL_CTX *
tls_ctx_shared(char *why, size_t whylen)
{
	if (tls_shared == NULL)
		tls_shared = tls_ctx_new(getenv("MXF_CA_FILE"), why, whylen);
	return tls_shared;
}

struct bufferevent *
tls_filter_new(struct event_base *base, struct bufferevent *under, SSL_CTX *ctx,
	       const char *name, bool check_name, char *why, size_t whylen)
{
	struct bufferevent *fbev;
	SSL *ssl = tls_ssl_new(ctx, name, check_name);

	if (ssl == NULL) {
		tls_why(why, whylen, "out of memory");
		return NULL;
	}
	fbev = bufferevent_openssl_filter_new(base, under, ssl, BUFFEREVENT_SSL_CONNECTING,
					      BEV_OPT_CLOSE_ON_FREE);
	if (fbev == NULL) {
		SSL_free(ssl);
		tls_why(why, whylen, "cannot set up the TLS layer");
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(fbev, 1);
	return fbev;
}

const char *
tls_error_reason(struct bufferevent *bev)
{
	unsigned long e, first = 0;

	/* libevent queues SSL_get_error()'s small code next to OpenSSL's
	 * packed errors; keep the first OpenSSL error that has a reason. */
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (first == 0 && ERR_GET_LIB(e) != 0 && ERR_reason_error_string(e) != NULL)
			first = e;
	return first != 0 ? ERR_reason_error_string(first) : NULL;
}
