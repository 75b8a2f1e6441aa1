/*
 * tls.h -- the TLS client side shared by the check engine and ETRN: trust
 * (CA loading), one client context built once per process and shared, and
 * putting a TLS layer on an existing libevent connection (implicit TLS or
 * STARTTLS).
 *
 * Trust: the system CA store, or the PEM file named by the environment
 * variable MXF_CA_FILE (tests point it at their own CA).  A context made by
 * this module never verifies during the handshake (SSL_VERIFY_NONE):
 * callers read SSL_get_verify_result() afterwards, so a bad certificate
 * gives a precise reason instead of a TLS alert.  Its verify callback lets
 * OpenSSL go on past the first error and records every one of the chain,
 * so tls_verify_reason() says all that is wrong at once ("certificate
 * expired 30 days ago; self-signed; certificate does not match the name
 * mx1.example.com").
 *
 * Low-level: nothing here logs.
 */
#ifndef MXF_TLS_H
#define MXF_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct bufferevent;
struct event_base;

/*
 * tls_ctx_new -- a client context trusting the PEM file @cafile, or the
 * system store when @cafile is NULL or "".
 * @why    receives what went wrong (e.g. "No such file or directory", "no
 *         PEM certificate in it"); may be NULL.
 * @return the context, which the caller frees with SSL_CTX_free(); or NULL.
 */
SSL_CTX *tls_ctx_new(const char *cafile, char *why, size_t whylen);

/*
 * tls_ctx_shared -- the process's client context: trusting $MXF_CA_FILE
 * when set and not empty, else the system store.  Built on the first call
 * and kept for the life of the process; the caller must not free it (take
 * a reference with SSL_CTX_up_ref() to keep it beyond).  A failure is not
 * remembered: the next call tries again.
 * @return the context, or NULL with @why (may be NULL) saying why.
 */
SSL_CTX *tls_ctx_shared(char *why, size_t whylen);

/*
 * tls_ssl_new -- a client connection object on @ctx (a context of this
 * module) with @name (may be NULL) as SNI and, when @check_name, as the
 * name the certificate must match, and room for the verification record
 * that tls_verify_reason() reads.
 * @return the SSL, which the caller frees with SSL_free() (tls_filter_new
 *         takes it over); or NULL when out of memory.
 */
SSL *tls_ssl_new(SSL_CTX *ctx, const char *name, bool check_name);

/*
 * tls_verify_reason -- every reason the certificate of the handshake on
 * @ssl failed verification, joined by "; ": "certificate expired N days
 * ago" (or "less than a day ago"), "certificate is not valid yet",
 * "self-signed", "self-signed certificate in the chain", "certificate
 * verify failed: untrusted issuer (OpenSSL's words)", "certificate does not
 * match the name NAME", and OpenSSL's words for anything else; each once.
 * @return the number of reasons written into @buf (always NUL-terminated,
 *         cut on a character boundary); 0 with @buf "" when the certificate
 *         verified.  An @ssl not made by tls_ssl_new() gets OpenSSL's one
 *         verify result.
 */
int tls_verify_reason(const SSL *ssl, char *buf, size_t size);

/*
 * tls_filter_new -- wrap the connected @under in a TLS client filter on
 * @base that starts the handshake at once.  @name (may be NULL) is sent as
 * SNI and, when @check_name, is the name the certificate must match (see
 * SSL_set1_host; the verdict then shows in SSL_get_verify_result()).  The
 * filter allows a dirty shutdown (servers that close without close_notify)
 * and closes @under when freed.
 * @return the filter, which now owns @under; or NULL with @why ("out of
 *         memory", "cannot set up the TLS layer"), @under still the
 *         caller's.
 */
struct bufferevent *tls_filter_new(struct event_base *base, struct bufferevent *under,
				   SSL_CTX *ctx, const char *name, bool check_name, char *why,
				   size_t whylen);

/*
 * tls_error_reason -- why the handshake on the filter @bev failed: the
 * reason text of the first OpenSSL error queued on it that has one (the
 * queue is emptied).  @return a static string, or NULL when OpenSSL gave
 * none (e.g. the peer closed the connection).
 */
const char *tls_error_reason(struct bufferevent *bev);

#endif
