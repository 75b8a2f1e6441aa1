/*
 * test_proto_http.c -- accepted status code sets, request building, and
 * response head parsing with its limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mxf.h"
#include "proto_http.h"

static int
feed(struct proto_http_response *r, const char *line)
{
	return proto_http_feed_line(r, line, strlen(line));
}

static void
test_codes_default(void **state)
{
	struct proto_http_codes set;
	char buf[64];

	(void)state;
	proto_http_codes_default(&set);
	assert_true(proto_http_codes_match(&set, 200));
	assert_true(proto_http_codes_match(&set, 301));
	assert_true(proto_http_codes_match(&set, 399));
	assert_false(proto_http_codes_match(&set, 199));
	assert_false(proto_http_codes_match(&set, 400));
	assert_false(proto_http_codes_match(&set, 500));
	assert_true(proto_http_codes_match(NULL, 204));
	assert_false(proto_http_codes_match(NULL, 503));
	assert_int_equal(proto_http_codes_format(&set, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2xx,3xx");
}

static void
test_codes_parse(void **state)
{
	struct proto_http_codes set;
	char err[96], buf[128];

	(void)state;
	assert_int_equal(proto_http_codes_parse("200,301", &set, err, sizeof(err)), 0);
	assert_true(proto_http_codes_match(&set, 200));
	assert_true(proto_http_codes_match(&set, 301));
	assert_false(proto_http_codes_match(&set, 302));
	assert_false(proto_http_codes_match(&set, 204));

	assert_int_equal(proto_http_codes_parse("2XX,401,500-503", &set, err, sizeof(err)), 0);
	assert_true(proto_http_codes_match(&set, 250));
	assert_true(proto_http_codes_match(&set, 401));
	assert_true(proto_http_codes_match(&set, 502));
	assert_false(proto_http_codes_match(&set, 504));
	assert_false(proto_http_codes_match(&set, 301));
	assert_int_equal(proto_http_codes_format(&set, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2xx,401,500-503");
	assert_int_equal(proto_http_codes_format(&set, buf, 5), MXF_ETOOBIG);

	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "", "empty list of status codes" },
		{ "2x0", "bad status code '2x0'" },
		{ "600", "bad status code '600'" },
		{ "099", "bad status code '099'" },
		{ "6xx", "bad status code '6xx'" },
		{ "204-200", "bad status code '204-200'" },
		{ "200,", "bad status code ''" },
		{ ",200", "bad status code ''" },
		{ "2000", "bad status code '2000'" },
		{ "1,2,3", "bad status code '1'" },
		{ "200,201,202,203,204,205,206,207,208,226,300,301,302,303,304,305,307",
		  "more than 16 status codes" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(proto_http_codes_parse(bad[i].in, &set, err, sizeof(err)),
				 MXF_EINVAL);
		assert_string_equal(err, bad[i].msg);
	}
}

static void
test_build_request(void **state)
{
	char buf[512];
	int n;

	(void)state;
	n = proto_http_build_request(buf, sizeof(buf), "www.example.org", 443, true, "/health");
	assert_string_equal(buf, "GET /health HTTP/1.1\r\n"
				 "Host: www.example.org\r\n"
				 "User-Agent: mxfailover/" MXF_VERSION_STRING "\r\n"
				 "Accept: */*\r\n"
				 "Connection: close\r\n"
				 "\r\n");
	assert_int_equal(n, (int)strlen(buf));

	n = proto_http_build_request(buf, sizeof(buf), "2001:db8::1", 8080, false, NULL);
	assert_true(n > 0);
	assert_true(strncmp(buf, "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n", 42) == 0);

	/* The port of the other scheme is not a default. */
	n = proto_http_build_request(buf, sizeof(buf), "h", 443, false, "/");
	assert_true(n > 0);
	assert_non_null(strstr(buf, "Host: h:443\r\n"));

	/* Nothing may smuggle a header in. */
	assert_int_equal(proto_http_build_request(buf, sizeof(buf), "h", 80, false,
						  "/x\r\nX-Evil: 1"), MXF_EINVAL);
	assert_int_equal(proto_http_build_request(buf, sizeof(buf), "h\r\nX: 1", 80, false, "/"),
			 MXF_EINVAL);
	assert_int_equal(proto_http_build_request(buf, sizeof(buf), "h", 80, false, "/a b"),
			 MXF_EINVAL);
	assert_int_equal(proto_http_build_request(buf, sizeof(buf), "h", 80, false, "nop"),
			 MXF_EINVAL);
	assert_int_equal(proto_http_build_request(buf, sizeof(buf), "", 80, false, "/"),
			 MXF_EINVAL);
	assert_int_equal(proto_http_build_request(buf, 40, "h", 80, false, "/"), MXF_ETOOBIG);
}

static void
test_response_ok(void **state)
{
	struct proto_http_response r;

	(void)state;
	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\n"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "Server: nginx/1.22.1\r\n"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "Content-Type: text/html\r\n"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "Content-Length: 615\r\n"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "Connection: keep-alive\r\n"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "\r\n"), PROTO_COMPLETE);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.major, 1);
	assert_int_equal(r.minor, 1);
	assert_string_equal(r.reason_phrase, "OK");
	assert_int_equal(r.nheaders, 4);
	assert_int_equal(r.content_length, 615);
	assert_false(r.conn_close);
	assert_false(r.chunked);
	assert_true(proto_http_codes_match(NULL, r.status));
	/* The body is not ours to parse. */
	assert_int_equal(feed(&r, "<html>"), PROTO_ERROR);
}

static void
test_response_redirect_and_errors(void **state)
{
	struct proto_http_response r;

	(void)state;
	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.0 301 Moved Permanently"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "location:   https://www.example.org/  "), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "Transfer-Encoding: gzip, chunked"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, ""), PROTO_COMPLETE);
	assert_int_equal(r.status, 301);
	assert_int_equal(r.minor, 0);
	assert_true(r.conn_close);
	assert_true(r.chunked);
	assert_int_equal(r.content_length, -1);
	assert_string_equal(r.location, "https://www.example.org/");

	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 500 Internal Server Error"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "Connection: close"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, ""), PROTO_COMPLETE);
	assert_int_equal(r.status, 500);
	assert_true(r.conn_close);
	assert_false(proto_http_codes_match(NULL, r.status));

	/* No reason phrase at all is allowed. */
	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 204"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, ""), PROTO_COMPLETE);
	assert_string_equal(r.reason_phrase, "");
}

static void
test_interim(void **state)
{
	struct proto_http_response r;

	(void)state;
	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 103 Early Hints"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "Link: </style.css>; rel=preload"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, ""), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "HTTP/1.1 404 Not Found"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, ""), PROTO_COMPLETE);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.nheaders, 0);

	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 101 Switching Protocols"), PROTO_ERROR);
	assert_string_equal(r.reason, "unexpected protocol switch: HTTP/1.1 101 Switching Protocols");
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 2000 OK", "HTTP/1.1 20 OK", "HTTP/1.1 200OK", "http/1.1 200 OK",
		"HTTP/11 200 OK", "SSH-2.0-OpenSSH_9.2p1", "220 mx ESMTP", "", "HTTP/1.1 099 x",
	};
	struct proto_http_response r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		proto_http_response_init(&r);
		assert_int_equal(feed(&r, bad[i]), PROTO_ERROR);
		assert_true(strncmp(r.reason, "malformed status line", 21) == 0);
	}
	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/2.0 200 OK"), PROTO_ERROR);
	assert_string_equal(r.reason, "unsupported HTTP version: HTTP/2.0 200 OK");

	static const char *const badh[] = { "Bad Header: x", "NoColon", ": empty", " folded" };
	for (size_t i = 0; i < sizeof(badh) / sizeof(badh[0]); i++) {
		proto_http_response_init(&r);
		assert_int_equal(feed(&r, "HTTP/1.1 200 OK"), PROTO_NEED_MORE);
		assert_int_equal(feed(&r, badh[i]), PROTO_ERROR);
		assert_true(strncmp(r.reason, "malformed header", 16) == 0);
		assert_int_equal(feed(&r, ""), PROTO_ERROR);
	}
	/* Obsolete folding after a header is tolerated. */
	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "X-Long: a"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "\tb"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, ""), PROTO_COMPLETE);
	/* NUL bytes are refused. */
	proto_http_response_init(&r);
	assert_int_equal(proto_http_feed_line(&r, "HTTP/1.1 200 O\0K", 16), PROTO_ERROR);
}

static void
test_truncated(void **state)
{
	struct proto_http_response r;

	(void)state;
	/* Headers without the closing empty line are not a response yet. */
	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "Server: x"), PROTO_NEED_MORE);
	assert_int_equal(r.status, 200);
}

static void
test_limits(void **state)
{
	static char line[PROTO_HTTP_LINE_MAX + 2];
	struct proto_http_response r;

	(void)state;
	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK"), PROTO_NEED_MORE);
	for (int i = 0; i < PROTO_HTTP_HEADERS_MAX; i++)
		assert_int_equal(feed(&r, "X-A: b"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "X-A: b"), PROTO_ERROR);
	assert_string_equal(r.reason, "too many headers");

	memset(line, 'v', sizeof(line));
	memcpy(line, "X-Big: ", 7);
	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK"), PROTO_NEED_MORE);
	assert_int_equal(proto_http_feed_line(&r, line, PROTO_HTTP_LINE_MAX + 1), PROTO_ERROR);
	assert_string_equal(r.reason, "line too long");

	proto_http_response_init(&r);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK"), PROTO_NEED_MORE);
	int rc = PROTO_NEED_MORE, n = 0;
	while (rc == PROTO_NEED_MORE && n < 100) {
		rc = proto_http_feed_line(&r, line, PROTO_HTTP_LINE_MAX);
		n++;
	}
	assert_int_equal(rc, PROTO_ERROR);
	assert_int_equal(n, PROTO_HTTP_HEAD_MAX / PROTO_HTTP_LINE_MAX);
	assert_string_equal(r.reason, "response head too large");

	/* Interim responses count towards the head size too. */
	proto_http_response_init(&r);
	for (n = 0; n < 10000; n++) {
		if (feed(&r, "HTTP/1.1 103 Early Hints") != PROTO_NEED_MORE ||
		    feed(&r, "") != PROTO_NEED_MORE)
			break;
	}
	assert_true(n < 10000);
	assert_string_equal(r.reason, "response head too large");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_default),
		cmocka_unit_test(test_codes_parse),
		cmocka_unit_test(test_build_request),
		cmocka_unit_test(test_response_ok),
		cmocka_unit_test(test_response_redirect_and_errors),
		cmocka_unit_test(test_interim),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
