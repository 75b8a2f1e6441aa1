/*
 * test_proto_imap.c -- IMAP greeting, untagged and tagged responses,
 * capability lists and limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mxf.h"
#include "proto_imap.h"

static int
feed(struct proto_imap *p, const char *line)
{
	return proto_imap_feed_line(p, line, strlen(line));
}

static void
test_dovecot_greeting(void **state)
{
	struct proto_imap p;

	(void)state;
	proto_imap_init(&p);
	assert_int_equal(feed(&p, "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE "
				  "IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n"),
			 PROTO_COMPLETE);
	assert_int_equal(p.status, PROTO_IMAP_OK);
	assert_true(p.caps_seen);
	assert_int_equal(p.caps, PROTO_IMAP_CAP_IMAP4REV1 | PROTO_IMAP_CAP_SASL_IR |
					 PROTO_IMAP_CAP_ID | PROTO_IMAP_CAP_ENABLE |
					 PROTO_IMAP_CAP_IDLE | PROTO_IMAP_CAP_LITERALPLUS |
					 PROTO_IMAP_CAP_STARTTLS | PROTO_IMAP_CAP_AUTH);
	assert_false(p.caps & PROTO_IMAP_CAP_LOGINDISABLED);
	assert_true(strstr(p.text, "Dovecot (Debian) ready.") != NULL);
}

static void
test_plain_greeting_then_capability(void **state)
{
	struct proto_imap p;

	(void)state;
	proto_imap_init(&p);
	assert_int_equal(feed(&p, "* ok IMAP server ready"), PROTO_COMPLETE);
	assert_false(p.caps_seen);
	assert_int_equal(p.caps, 0);

	/* The engine sends "A1 CAPABILITY"; the server had already sent an
	 * untagged line after its greeting. */
	assert_int_equal(proto_imap_expect_tagged(&p, "A1"), 0);
	assert_int_equal(feed(&p, "* OK [ALERT] System going down at 18:00"), PROTO_NEED_MORE);
	assert_int_equal(feed(&p, "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
				  "LITERAL+ STARTTLS LOGINDISABLED AUTH=PLAIN\r\n"),
			 PROTO_NEED_MORE);
	assert_int_equal(feed(&p, "A1 OK Pre-login capabilities listed, post-login capabilities "
				  "have more.\r\n"),
			 PROTO_COMPLETE);
	assert_int_equal(p.status, PROTO_IMAP_OK);
	assert_true(p.caps & PROTO_IMAP_CAP_STARTTLS);
	assert_true(p.caps & PROTO_IMAP_CAP_LOGINDISABLED);
	assert_int_equal(p.nlines, 2);
}

static void
test_untagged_before_greeting(void **state)
{
	struct proto_imap p;

	(void)state;
	proto_imap_init(&p);
	assert_int_equal(feed(&p, "* CAPABILITY IMAP4rev2 STARTTLS"), PROTO_NEED_MORE);
	assert_int_equal(feed(&p, "* ID NIL"), PROTO_NEED_MORE);
	assert_int_equal(feed(&p, "* OK ready"), PROTO_COMPLETE);
	assert_int_equal(p.caps, PROTO_IMAP_CAP_IMAP4REV2 | PROTO_IMAP_CAP_STARTTLS);
	assert_int_equal(p.nlines, 3);
}

static void
test_bad_greetings(void **state)
{
	struct proto_imap p;

	(void)state;
	proto_imap_init(&p);
	assert_int_equal(feed(&p, "* BYE too many connections\r\n"), PROTO_ERROR);
	assert_string_equal(p.reason, "greeting is not * OK: * BYE too many connections");
	/* Sticky. */
	assert_int_equal(feed(&p, "* OK now fine"), PROTO_ERROR);

	proto_imap_init(&p);
	assert_int_equal(feed(&p, "* NO maintenance"), PROTO_ERROR);
	assert_string_equal(p.reason, "greeting is not * OK: * NO maintenance");

	proto_imap_init(&p);
	assert_int_equal(feed(&p, "220 mx.example.com ESMTP Postfix"), PROTO_ERROR);
	assert_string_equal(p.reason, "malformed greeting: 220 mx.example.com ESMTP Postfix");

	proto_imap_init(&p);
	assert_int_equal(feed(&p, "*OK glued"), PROTO_ERROR);
	assert_string_equal(p.reason, "malformed greeting: *OK glued");

	proto_imap_init(&p);
	assert_int_equal(feed(&p, ""), PROTO_ERROR);

	proto_imap_init(&p);
	assert_int_equal(feed(&p, "+ hello"), PROTO_ERROR);
	assert_string_equal(p.reason, "unexpected continuation request: + hello");
}

static void
test_preauth(void **state)
{
	struct proto_imap p;

	(void)state;
	proto_imap_init(&p);
	assert_int_equal(feed(&p, "* PREAUTH [CAPABILITY IMAP4rev1] logged in as cyrus"),
			 PROTO_COMPLETE);
	assert_int_equal(p.status, PROTO_IMAP_PREAUTH);
	assert_int_equal(p.caps, PROTO_IMAP_CAP_IMAP4REV1);
}

static void
test_tagged_results(void **state)
{
	struct proto_imap p;

	(void)state;
	proto_imap_init(&p);
	assert_int_equal(feed(&p, "* OK ready"), PROTO_COMPLETE);

	assert_int_equal(proto_imap_expect_tagged(&p, "A2"), 0);
	assert_int_equal(feed(&p, "A2 NO [UNAVAILABLE] STARTTLS failed"), PROTO_COMPLETE);
	assert_int_equal(p.status, PROTO_IMAP_NO);
	assert_string_equal(p.text, "A2 NO [UNAVAILABLE] STARTTLS failed");

	assert_int_equal(proto_imap_expect_tagged(&p, "A3"), 0);
	assert_int_equal(p.status, PROTO_IMAP_NONE);
	assert_int_equal(feed(&p, "A3 BAD unknown command"), PROTO_COMPLETE);
	assert_int_equal(p.status, PROTO_IMAP_BAD);

	/* LOGOUT: an untagged BYE, then the tagged OK. */
	assert_int_equal(proto_imap_expect_tagged(&p, "A4"), 0);
	assert_int_equal(feed(&p, "* BYE Logging out"), PROTO_NEED_MORE);
	assert_true(p.bye);
	assert_int_equal(feed(&p, "A4 OK Logout completed."), PROTO_COMPLETE);
	assert_int_equal(p.status, PROTO_IMAP_OK);
	/* Nothing may follow the tagged line in this exchange. */
	assert_int_equal(feed(&p, "* late"), PROTO_ERROR);
}

static void
test_tagged_capability_code(void **state)
{
	struct proto_imap p;

	(void)state;
	proto_imap_init(&p);
	assert_int_equal(feed(&p, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready"), PROTO_COMPLETE);
	/* After STARTTLS the list is asked again and replaces the old one. */
	proto_imap_init(&p);
	assert_int_equal(proto_imap_expect_tagged(&p, "A5"), 0);
	assert_int_equal(feed(&p, "A5 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] done"), PROTO_COMPLETE);
	assert_int_equal(p.caps, PROTO_IMAP_CAP_IMAP4REV1 | PROTO_IMAP_CAP_AUTH);
}

static void
test_tagged_errors(void **state)
{
	struct proto_imap p;

	(void)state;
	proto_imap_init(&p);
	assert_int_equal(proto_imap_expect_tagged(&p, "A1"), 0);
	assert_int_equal(feed(&p, "A9 OK wrong tag"), PROTO_ERROR);
	assert_string_equal(p.reason, "unexpected tag: A9 OK wrong tag");

	assert_int_equal(proto_imap_expect_tagged(&p, "A1"), 0);
	assert_int_equal(feed(&p, "A1 MAYBE"), PROTO_ERROR);
	assert_string_equal(p.reason, "malformed tagged response: A1 MAYBE");

	assert_int_equal(proto_imap_expect_tagged(&p, "A1"), 0);
	assert_int_equal(feed(&p, "+ send more"), PROTO_ERROR);

	assert_int_equal(proto_imap_expect_tagged(&p, "A1"), 0);
	assert_int_equal(feed(&p, "* 1 FETCH (BODY[] {42}"), PROTO_ERROR);
	assert_string_equal(p.reason, "unexpected literal in response: * 1 FETCH (BODY[] {42}");

	assert_int_equal(proto_imap_expect_tagged(&p, "A1"), 0);
	assert_int_equal(feed(&p, "* ID ({5+}"), PROTO_ERROR);

	assert_int_equal(proto_imap_expect_tagged(&p, "A1"), 0);
	assert_int_equal(feed(&p, "A1"), PROTO_ERROR);
	assert_int_equal(proto_imap_expect_tagged(&p, "A1"), 0);
	assert_int_equal(proto_imap_feed_line(&p, "A1 OK\0x", 7), PROTO_ERROR);
	assert_string_equal(p.reason, "NUL byte in response: A1 OK?x");

	/* Tags the engine may not use. */
	assert_int_equal(proto_imap_expect_tagged(&p, ""), MXF_EINVAL);
	assert_int_equal(proto_imap_expect_tagged(&p, "A+1"), MXF_EINVAL);
	assert_int_equal(proto_imap_expect_tagged(&p, "A 1"), MXF_EINVAL);
	assert_int_equal(proto_imap_expect_tagged(&p, "A*"), MXF_EINVAL);
	assert_int_equal(proto_imap_expect_tagged(&p, "ABCDEFGHIJKLMNOP"), MXF_EINVAL);
	assert_int_equal(proto_imap_expect_tagged(&p, "ABCDEFGHIJKLMNO"), 0);
}

static void
test_limits(void **state)
{
	static char line[PROTO_IMAP_LINE_MAX + 1];
	struct proto_imap p;

	(void)state;
	/* 8190 octets plus CRLF fit; one more does not. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "* OK ", 5);
	proto_imap_init(&p);
	assert_int_equal(proto_imap_feed_line(&p, line, PROTO_IMAP_LINE_MAX - 2), PROTO_COMPLETE);
	proto_imap_init(&p);
	assert_int_equal(proto_imap_feed_line(&p, line, PROTO_IMAP_LINE_MAX - 1), PROTO_ERROR);
	assert_string_equal(p.reason, "line too long");
	/* The kept text is cut, not overflowed. */
	proto_imap_init(&p);
	assert_int_equal(proto_imap_feed_line(&p, line, 4000), PROTO_COMPLETE);
	assert_int_equal(strlen(p.text), sizeof(p.text) - 1);

	/* A flood of untagged lines ends. */
	proto_imap_init(&p);
	assert_int_equal(proto_imap_expect_tagged(&p, "A1"), 0);
	for (int i = 0; i < PROTO_IMAP_LINES_MAX; i++)
		assert_int_equal(feed(&p, "* 1 EXISTS"), PROTO_NEED_MORE);
	assert_int_equal(feed(&p, "* 1 EXISTS"), PROTO_ERROR);
	assert_string_equal(p.reason, "too many untagged lines");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_greeting),
		cmocka_unit_test(test_plain_greeting_then_capability),
		cmocka_unit_test(test_untagged_before_greeting),
		cmocka_unit_test(test_bad_greetings),
		cmocka_unit_test(test_preauth),
		cmocka_unit_test(test_tagged_results),
		cmocka_unit_test(test_tagged_capability_code),
		cmocka_unit_test(test_tagged_errors),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
