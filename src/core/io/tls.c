/*
 * tls.c -- the TLS client side shared by the check engine and ETRN (tls.h):
 * client contexts, the one shared context, the TLS filter on a
 * bufferevent, handshake error reasons.
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

/* Built once by tls_ctx_shared(); reachable until exit. */
static SSL_CTX *tls_shared;

static void
tls_why(char *why, size_t whylen, const char *text)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", text);
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
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
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
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL) {
		tls_why(why, whylen, "out of memory");
		return NULL;
	}
	if (name != NULL) {
		SSL_set_tlsext_host_name(ssl, name);
		if (check_name)
			SSL_set1_host(ssl, name);
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
