/*
 * test_proto_smtp.c -- the SMTP reply parser, and the shared proto.c
 * helpers (bounded line finding, printable copies) it relies on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "proto_smtp.h"

static int
feed(struct proto_smtp_reply *r, const char *line)
{
	return proto_smtp_feed_line(r, line, strlen(line));
}

static void
test_postfix_banner(void **state)
{
	struct proto_smtp_reply r;
	char d[256];

	(void)state;
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n"),
			 PROTO_COMPLETE);
	assert_int_equal(r.code, 220);
	assert_string_equal(r.enhanced, "");
	assert_string_equal(r.text, "mx.example.com ESMTP Postfix (Debian/GNU)");
	assert_int_equal(r.nlines, 1);
	assert_true(r.complete);
	assert_int_equal(proto_smtp_class(r.code), PROTO_SMTP_CLASS_POSITIVE);
	proto_smtp_reply_describe(&r, d, sizeof(d));
	assert_string_equal(d, "220 mx.example.com ESMTP Postfix (Debian/GNU)");
}

static void
test_postfix_ehlo(void **state)
{
	static const char *const lines[] = {
		"250-mx.example.com\r\n", "250-PIPELINING\r\n", "250-SIZE 10240000\r\n",
		"250-VRFY\r\n", "250-ETRN\r\n", "250-STARTTLS\r\n",
		"250-ENHANCEDSTATUSCODES\r\n", "250-8BITMIME\r\n", "250-DSN\r\n",
		"250-SMTPUTF8\r\n", "250 CHUNKING\r\n",
	};
	struct proto_smtp_reply r;

	(void)state;
	proto_smtp_reply_init(&r);
	for (size_t i = 0; i + 1 < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(feed(&r, lines[i]), PROTO_NEED_MORE);
		assert_false(r.complete);
	}
	assert_int_equal(feed(&r, lines[10]), PROTO_COMPLETE);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 11);
	assert_string_equal(r.text, "mx.example.com");
	assert_int_equal(r.ext, PROTO_SMTP_EXT_PIPELINING | PROTO_SMTP_EXT_SIZE |
					PROTO_SMTP_EXT_VRFY | PROTO_SMTP_EXT_ETRN |
					PROTO_SMTP_EXT_STARTTLS |
					PROTO_SMTP_EXT_ENHANCEDSTATUSCODES |
					PROTO_SMTP_EXT_8BITMIME | PROTO_SMTP_EXT_DSN |
					PROTO_SMTP_EXT_SMTPUTF8 | PROTO_SMTP_EXT_CHUNKING);
	assert_false(r.ext & PROTO_SMTP_EXT_AUTH);
	assert_int_equal(r.size_max, 10240000);
}

static void
test_ehlo_after_starttls_auth(void **state)
{
	struct proto_smtp_reply r;

	(void)state;
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-mx.example.com"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "250-auth PLAIN LOGIN"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "250-AUTH=PLAIN LOGIN"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "250-SIZE"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "250 STARTTLSX"), PROTO_COMPLETE);
	assert_true(r.ext & PROTO_SMTP_EXT_AUTH);
	assert_true(r.ext & PROTO_SMTP_EXT_SIZE);
	assert_int_equal(r.size_max, 0);
	/* A keyword is matched whole: STARTTLSX is not STARTTLS. */
	assert_false(r.ext & PROTO_SMTP_EXT_STARTTLS);
}

static void
test_enhanced_codes(void **state)
{
	struct proto_smtp_reply r;
	char d[256];

	(void)state;
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "421 4.3.2 Service shutting down\r\n"), PROTO_COMPLETE);
	assert_int_equal(r.code, 421);
	assert_string_equal(r.enhanced, "4.3.2");
	assert_string_equal(r.text, "Service shutting down");
	assert_int_equal(proto_smtp_class(r.code), PROTO_SMTP_CLASS_TRANSIENT);
	proto_smtp_reply_describe(&r, d, sizeof(d));
	assert_string_equal(d, "421 4.3.2 Service shutting down");

	/* Class digit that disagrees with the reply code: not an enhanced code. */
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250 5.0.0 odd"), PROTO_COMPLETE);
	assert_string_equal(r.enhanced, "");
	assert_string_equal(r.text, "5.0.0 odd");

	/* Three-digit subject and detail; enhanced code alone on the line. */
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "554 5.123.456"), PROTO_COMPLETE);
	assert_string_equal(r.enhanced, "5.123.456");
	assert_string_equal(r.text, "");
	assert_int_equal(proto_smtp_class(r.code), PROTO_SMTP_CLASS_PERMANENT);

	/* Four digits is not an enhanced code. */
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "550 5.1.1234 no"), PROTO_COMPLETE);
	assert_string_equal(r.enhanced, "");

	/* Multi-line rejection keeps the first line. */
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "554-5.7.1 mx.example.com: client blocked\r\n"),
			 PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "554 5.7.1 see https://example.com/why\r\n"), PROTO_COMPLETE);
	assert_string_equal(r.enhanced, "5.7.1");
	assert_string_equal(r.text, "mx.example.com: client blocked");
	assert_int_equal(r.nlines, 2);
}

static void
test_bare_code_and_lf(void **state)
{
	struct proto_smtp_reply r;
	char d[64];

	(void)state;
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250\n"), PROTO_COMPLETE);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.text, "");
	proto_smtp_reply_describe(&r, d, sizeof(d));
	assert_string_equal(d, "250");
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "354 End data with <CR><LF>.<CR><LF>"), PROTO_COMPLETE);
	assert_int_equal(proto_smtp_class(r.code), PROTO_SMTP_CLASS_INTERMEDIATE);
}

static void
test_code_changes(void **state)
{
	struct proto_smtp_reply r;

	(void)state;
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-first"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "550 second"), PROTO_ERROR);
	assert_string_equal(r.reason, "reply code changed within a multi-line reply: 250 then 550");
	/* Errors are sticky. */
	assert_int_equal(feed(&r, "250 ok"), PROTO_ERROR);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 400 Bad Request", "22 short", "22", "", "220x nope", "620 six",
		"2a0 x", "160 low", "260 bad second digit", "SSH-2.0-OpenSSH_9.2p1",
	};
	struct proto_smtp_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		proto_smtp_reply_init(&r);
		assert_int_equal(feed(&r, bad[i]), PROTO_ERROR);
		assert_true(strncmp(r.reason, "malformed reply code", 20) == 0);
	}
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "SSH-2.0-OpenSSH_9.2p1\r\n"), PROTO_ERROR);
	assert_string_equal(r.reason, "malformed reply code: SSH-2.0-OpenSSH_9.2p1");

	proto_smtp_reply_init(&r);
	assert_int_equal(proto_smtp_feed_line(&r, "220 a\0b", 7), PROTO_ERROR);
	assert_string_equal(r.reason, "NUL byte in reply: 220 a?b");
}

static void
test_line_limits(void **state)
{
	struct proto_smtp_reply r;
	char line[PROTO_SMTP_LINE_MAX + 8];

	(void)state;
	/* 510 octets plus CRLF is the most RFC 5321 allows. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "250 ", 4);
	memcpy(line + 510, "\r\n", 2);
	proto_smtp_reply_init(&r);
	assert_int_equal(proto_smtp_feed_line(&r, line, 512), PROTO_COMPLETE);
	assert_int_equal(strlen(r.text), 506);

	memcpy(line + 511, "\r\n", 2);
	proto_smtp_reply_init(&r);
	assert_int_equal(proto_smtp_feed_line(&r, line, 513), PROTO_ERROR);
	assert_string_equal(r.reason, "line too long");
}

static void
test_too_many_lines(void **state)
{
	struct proto_smtp_reply r;

	(void)state;
	proto_smtp_reply_init(&r);
	for (int i = 0; i < PROTO_SMTP_LINES_MAX; i++)
		assert_int_equal(feed(&r, "250-x"), PROTO_NEED_MORE);
	assert_int_equal(feed(&r, "250 x"), PROTO_ERROR);
	assert_string_equal(r.reason, "too many lines in one reply");
}

static void
test_after_complete(void **state)
{
	struct proto_smtp_reply r;

	(void)state;
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "221 2.0.0 Bye"), PROTO_COMPLETE);
	assert_int_equal(feed(&r, "250 more"), PROTO_ERROR);
	assert_string_equal(r.reason, "line after the end of the reply: 250 more");
}

static void
test_sanitised_text(void **state)
{
	struct proto_smtp_reply r;

	(void)state;
	proto_smtp_reply_init(&r);
	assert_int_equal(feed(&r, "220 evil\x1b[31m red\x7f \xff \xc3\xa9t\xc3\xa9\r\n"),
			 PROTO_COMPLETE);
	assert_string_equal(r.text, "evil?[31m red? ? \xc3\xa9t\xc3\xa9");
}

static void
test_class(void **state)
{
	(void)state;
	assert_int_equal(proto_smtp_class(199), PROTO_SMTP_CLASS_INVALID);
	assert_int_equal(proto_smtp_class(200), PROTO_SMTP_CLASS_POSITIVE);
	assert_int_equal(proto_smtp_class(399), PROTO_SMTP_CLASS_INTERMEDIATE);
	assert_int_equal(proto_smtp_class(450), PROTO_SMTP_CLASS_TRANSIENT);
	assert_int_equal(proto_smtp_class(599), PROTO_SMTP_CLASS_PERMANENT);
	assert_int_equal(proto_smtp_class(600), PROTO_SMTP_CLASS_INVALID);
	assert_int_equal(proto_smtp_class(0), PROTO_SMTP_CLASS_INVALID);
}

/* proto.c */

static void
test_line_find(void **state)
{
	size_t ll = 99, used = 99;
	char flood[600];

	(void)state;
	/* A partial line: wait. */
	assert_int_equal(proto_line_find("220 mx.exa", 10, 512, &ll, &used), PROTO_NEED_MORE);
	assert_int_equal(proto_line_find("", 0, 512, &ll, &used), PROTO_NEED_MORE);
	/* One whole line and the start of the next. */
	assert_int_equal(proto_line_find("220 ok\r\n250", 11, 512, &ll, &used), PROTO_COMPLETE);
	assert_int_equal(ll, 6);
	assert_int_equal(used, 8);
	assert_int_equal(proto_line_find("\n", 1, 512, &ll, &used), PROTO_COMPLETE);
	assert_int_equal(ll, 0);
	assert_int_equal(used, 1);
	/* A flood without a newline stops at the maximum. */
	memset(flood, 'A', sizeof(flood));
	assert_int_equal(proto_line_find(flood, 511, 512, &ll, &used), PROTO_NEED_MORE);
	assert_int_equal(proto_line_find(flood, 512, 512, &ll, &used), PROTO_ERROR);
	assert_int_equal(proto_line_find(flood, sizeof(flood), 512, &ll, &used), PROTO_ERROR);
	/* A LF beyond the maximum does not count. */
	flood[550] = '\n';
	assert_int_equal(proto_line_find(flood, sizeof(flood), 512, &ll, &used), PROTO_ERROR);
	flood[511] = '\n';
	assert_int_equal(proto_line_find(flood, sizeof(flood), 512, &ll, &used), PROTO_COMPLETE);
	assert_int_equal(used, 512);
}

static void
test_printable(void **state)
{
	char out[16];

	(void)state;
	proto_printable(out, sizeof(out), "short", 5);
	assert_string_equal(out, "short");
	proto_printable(out, sizeof(out), "exactly fifteen", 15);
	assert_string_equal(out, "exactly fifteen");
	proto_printable(out, sizeof(out), "sixteen letters!", 16);
	assert_string_equal(out, "sixteen lett...");
	/* A cut never splits a UTF-8 character. */
	proto_printable(out, sizeof(out), "abcdefghijk\xc3\xa9\xc3\xa9\xc3\xa9", 17);
	assert_string_equal(out, "abcdefghijk...");
	/* Overlong encodings, surrogates and stray continuation bytes are '?'. */
	proto_printable(out, sizeof(out), "\xc0\xaf\xed\xa0\x80\x80", 6);
	assert_string_equal(out, "??????");
	/* Truncated sequence at the end. */
	proto_printable(out, sizeof(out), "a\xe2\x82", 3);
	assert_string_equal(out, "a??");
	proto_printable(out, sizeof(out), "\xf0\x9f\x98\x80", 4);
	assert_string_equal(out, "\xf0\x9f\x98\x80");
}

/* C1 controls are valid UTF-8 but steer terminals (U+009B is CSI, U+0085 a
 * line break): each becomes one '?', the characters around them stay. */
static void
test_printable_c1(void **state)
{
	char out[32];

	(void)state;
	proto_printable(out, sizeof(out), "a\xc2\x80" "b\xc2\x9b" "2Jc\xc2\x85", 11);
	assert_string_equal(out, "a?b?2Jc?");
	/* U+009F is the last C1 control; U+00A0 and U+00E9 are kept. */
	proto_printable(out, sizeof(out), "\xc2\x9f\xc2\xa0\xc3\xa9", 6);
	assert_string_equal(out, "?\xc2\xa0\xc3\xa9");
	/* C0 controls and DEL, as before. */
	proto_printable(out, sizeof(out), "x\x1b[1m\x7f\ty", 8);
	assert_string_equal(out, "x?[1m??y");
	/* A cut in a run of C1 controls still ends cleanly. */
	proto_printable(out, 8, "\xc2\x9b\xc2\x9b\xc2\x9b\xc2\x9b\xc2\x9b\xc2\x9b\xc2\x9b\xc2\x9b", 16);
	assert_string_equal(out, "????...");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postfix_banner),
		cmocka_unit_test(test_postfix_ehlo),
		cmocka_unit_test(test_ehlo_after_starttls_auth),
		cmocka_unit_test(test_enhanced_codes),
		cmocka_unit_test(test_bare_code_and_lf),
		cmocka_unit_test(test_code_changes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_too_many_lines),
		cmocka_unit_test(test_after_complete),
		cmocka_unit_test(test_sanitised_text),
		cmocka_unit_test(test_class),
		cmocka_unit_test(test_line_find),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_printable_c1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
