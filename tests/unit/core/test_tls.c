/*
 * test_tls.c -- tls.c without a network: CA files that cannot be used say
 * why, the shared context is built once, a TLS filter goes on a
 * bufferevent and off again.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctx_bad_files),
		cmocka_unit_test(test_ctx_system_and_shared),
		cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
