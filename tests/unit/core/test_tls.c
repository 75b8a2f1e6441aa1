/*
 * test_tls.c -- tls.c without a network: CA files that cannot be used say
 * why, the shared context is built once, a TLS filter goes on a
 * bufferevent and off again, and a certificate with several problems gets
 * every one of them in the reason (handshakes over an in-memory BIO pair
 * with certificates made here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls.h"

static void
test_ctx_bad_files(void **state)
{
	char path[] = "/tmp/mxf-test-tls-XXXXXX";
	char why[128] = "";
	int fd;

	assert_null(tls_ctx_new("/nonexistent/ca.pem", why, sizeof(why)));
	assert_string_equal(why, "No such file or directory");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a certificate\n", 18), 18);
	close(fd);
	assert_null(tls_ctx_new(path, why, sizeof(why)));
	assert_string_equal(why, "no PEM certificate in it");
	/* @why may be NULL. */
	assert_null(tls_ctx_new(path, NULL, 0));
	unlink(path);
}

static void
test_ctx_system_and_shared(void **state)
{
	SSL_CTX *a, *b, *ctx;

	ctx = tls_ctx_new(NULL, NULL, 0);
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	SSL_CTX_free(ctx);
	ctx = tls_ctx_new("", NULL, 0);
	assert_non_null(ctx);
	SSL_CTX_free(ctx);

	/* A bad $MXF_CA_FILE is not remembered: fixed, the next call works. */
	setenv("MXF_CA_FILE", "/nonexistent/ca.pem", 1);
	assert_null(tls_ctx_shared(NULL, 0));
	unsetenv("MXF_CA_FILE");
	a = tls_ctx_shared(NULL, 0);
	b = tls_ctx_shared(NULL, 0);
	assert_non_null(a);
	assert_ptr_equal(a, b);
}

static void
test_filter(void **state)
{
	struct event_base *base = event_base_new();
	struct bufferevent *under, *f;
	char why[64] = "";
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	under = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(under);
	f = tls_filter_new(base, under, tls_ctx_shared(NULL, 0), "mx.example.org", true, why,
			   sizeof(why));
	assert_non_null(f);
	/* No handshake happened: no OpenSSL reason is queued. */
	assert_null(tls_error_reason(f));
	/* The filter owns @under and its socket. */
	bufferevent_free(f);
	close(sv[1]);
	event_base_free(base);
}

/* A certificate for @cn (also its DNS SAN; a CA when @cn has " CA"),
 * valid from @nb to @na seconds from now, signed by @ikey as @issuer
 * (NULL: self-signed). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, long nb, long na, EVP_PKEY *ikey, X509 *issuer)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[128];

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
					       : X509_get_subject_name(x));
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s", cn);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (strstr(cn, " CA") != NULL) {
		/* A CA: may sign certificates. */
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
		assert_non_null(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
	return x;
}

/* A client of @cctx checking @name against a server presenting @cert:
 * the handshake over a BIO pair, then tls_verify_reason() into @buf. */
static int
handshake_reason(SSL_CTX *cctx, const char *name, X509 *cert, EVP_PKEY *key, char *buf,
		 size_t size)
{
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	SSL *cl = tls_ssl_new(cctx, name, true), *sv;
	BIO *b1, *b2;
	int n, cdone = 0, sdone = 0;

	assert_non_null(sctx);
	assert_non_null(cl);
	assert_int_equal(SSL_CTX_use_certificate(sctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, key), 1);
	sv = SSL_new(sctx);
	assert_int_equal(BIO_new_bio_pair(&b1, 0, &b2, 0), 1);
	SSL_set_bio(cl, b1, b1);
	SSL_set_bio(sv, b2, b2);
	SSL_set_connect_state(cl);
	SSL_set_accept_state(sv);
	for (int i = 0; i < 100 && !(cdone && sdone); i++) {
		if (!cdone)
			cdone = SSL_do_handshake(cl) == 1;
		if (!sdone)
			sdone = SSL_do_handshake(sv) == 1;
	}
	assert_true(cdone && sdone);
	n = tls_verify_reason(cl, buf, size);
	SSL_free(cl);
	SSL_free(sv);
	SSL_CTX_free(sctx);
	return n;
}

static void
test_verify_every_reason(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *cakey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	SSL_CTX *sys = tls_ctx_new(NULL, NULL, 0), *trusting;
	X509 *x, *ca;
	char buf[256], small[40], path[] = "/tmp/mxf-test-tls-ca-XXXXXX";
	FILE *f;
	int fd, n;

	assert_non_null(key);
	assert_non_null(sys);
	/* Expired 30 days ago, self-signed, for another name: all three. */
	x = make_cert(key, "wrong.example", -60L * 86400, -30L * 86400 - 60, NULL, NULL);
	assert_int_equal(handshake_reason(sys, "mx.example.org", x, key, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "certificate expired 30 days ago; self-signed; "
				 "certificate does not match the name mx.example.org");
	/* Cut to a small room: a whole-character prefix and "...". */
	assert_int_equal(handshake_reason(sys, "mx.example.org", x, key, small, sizeof(small)), 3);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small + sizeof(small) - 4, "...", 3);
	X509_free(x);

	/* Not valid yet, the right name: two. */
	x = make_cert(key, "mx.example.org", 2L * 86400, 30L * 86400, NULL, NULL);
	assert_int_equal(handshake_reason(sys, "mx.example.org", x, key, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "certificate is not valid yet; self-signed");
	X509_free(x);

	/* Expired an hour ago: less than a day. */
	x = make_cert(key, "mx.example.org", -86400L, -3600L, NULL, NULL);
	assert_int_equal(handshake_reason(sys, "mx.example.org", x, key, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "certificate expired less than a day ago; self-signed");
	X509_free(x);

	/* Signed by a CA nobody trusts, for another name. */
	ca = make_cert(cakey, "untrusted test CA", -86400L, 30L * 86400, NULL, NULL);
	x = make_cert(key, "wrong.example", -86400L, 30L * 86400, cakey, ca);
	assert_int_equal(handshake_reason(sys, "mx.example.org", x, key, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "certificate verify failed: untrusted issuer (unable to get "
				 "local issuer certificate); certificate does not match the name "
				 "mx.example.org");
	/* Trusting that CA: only the name is wrong, then nothing. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	PEM_write_X509(f, ca);
	fclose(f);
	trusting = tls_ctx_new(path, NULL, 0);
	assert_non_null(trusting);
	n = handshake_reason(trusting, "mx.example.org", x, key, buf, sizeof(buf));
	assert_int_equal(n, 1);
	assert_string_equal(buf, "certificate does not match the name mx.example.org");
	assert_int_equal(handshake_reason(trusting, "wrong.example", x, key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	unlink(path);
	X509_free(x);
	X509_free(ca);
	SSL_CTX_free(trusting);
	SSL_CTX_free(sys);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctx_bad_files),
		cmocka_unit_test(test_ctx_system_and_shared),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_verify_every_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
