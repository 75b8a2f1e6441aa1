/*
 * test_proto_pop3.c -- POP3 greeting, status lines, CAPA lists with
 * dot-unstuffing, and limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proto_pop3.h"

static int
feed(struct proto_pop3 *p, const char *line)
{
	return proto_pop3_feed_line(p, line, strlen(line));
}

static void
test_dovecot_greeting(void **state)
{
	struct proto_pop3 p;

	(void)state;
	proto_pop3_init(&p, PROTO_POP3_GREETING);
	assert_int_equal(feed(&p, "+OK Dovecot (Debian) ready.\r\n"), PROTO_COMPLETE);
	assert_true(p.ok);
	assert_string_equal(p.text, "+OK Dovecot (Debian) ready.");
	assert_int_equal(feed(&p, "+OK again"), PROTO_ERROR);
}

static void
test_bad_greetings(void **state)
{
	struct proto_pop3 p;

	(void)state;
	proto_pop3_init(&p, PROTO_POP3_GREETING);
	assert_int_equal(feed(&p, "-ERR [SYS/TEMP] too busy\r\n"), PROTO_ERROR);
	assert_false(p.ok);
	assert_string_equal(p.reason, "greeting is not +OK: -ERR [SYS/TEMP] too busy");

	proto_pop3_init(&p, PROTO_POP3_GREETING);
	assert_int_equal(feed(&p, "+OKAY fine"), PROTO_ERROR);
	assert_string_equal(p.reason, "malformed greeting: +OKAY fine");

	proto_pop3_init(&p, PROTO_POP3_GREETING);
	assert_int_equal(feed(&p, "SSH-2.0-OpenSSH_9.2p1"), PROTO_ERROR);
	assert_string_equal(p.reason, "malformed greeting: SSH-2.0-OpenSSH_9.2p1");

	proto_pop3_init(&p, PROTO_POP3_GREETING);
	assert_int_equal(feed(&p, ""), PROTO_ERROR);

	proto_pop3_init(&p, PROTO_POP3_GREETING);
	assert_int_equal(feed(&p, "+OK"), PROTO_COMPLETE);
}

static void
test_dovecot_capa(void **state)
{
	static const char *const lines[] = {
		"CAPA\r\n", "TOP\r\n", "UIDL\r\n", "RESP-CODES\r\n", "PIPELINING\r\n",
		"AUTH-RESP-CODE\r\n", "STLS\r\n", "USER\r\n", "SASL PLAIN LOGIN\r\n",
	};
	struct proto_pop3 p;

	(void)state;
	proto_pop3_init(&p, PROTO_POP3_CAPA);
	assert_int_equal(feed(&p, "+OK\r\n"), PROTO_NEED_MORE);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(feed(&p, lines[i]), PROTO_NEED_MORE);
	assert_int_equal(feed(&p, ".\r\n"), PROTO_COMPLETE);
	assert_true(p.ok);
	assert_int_equal(p.ncapa, 9);
	assert_int_equal(p.caps, PROTO_POP3_CAP_TOP | PROTO_POP3_CAP_UIDL |
					 PROTO_POP3_CAP_RESP_CODES | PROTO_POP3_CAP_PIPELINING |
					 PROTO_POP3_CAP_AUTH_RESP_CODE | PROTO_POP3_CAP_STLS |
					 PROTO_POP3_CAP_USER | PROTO_POP3_CAP_SASL);

	/* Capabilities survive a single-line exchange (STLS) ... */
	proto_pop3_init(&p, PROTO_POP3_STATUS);
	assert_int_equal(feed(&p, "+OK Begin TLS negotiation now."), PROTO_COMPLETE);
	assert_true(p.ok);
	assert_true(p.caps & PROTO_POP3_CAP_STLS);
	/* ... and are asked again after it. */
	proto_pop3_init(&p, PROTO_POP3_CAPA);
	assert_int_equal(p.caps, 0);
}

static void
test_capa_unsupported(void **state)
{
	struct proto_pop3 p;

	(void)state;
	proto_pop3_init(&p, PROTO_POP3_CAPA);
	assert_int_equal(feed(&p, "-ERR Unknown command: CAPA"), PROTO_COMPLETE);
	assert_false(p.ok);
	assert_int_equal(p.caps, 0);
	assert_string_equal(p.text, "-ERR Unknown command: CAPA");
}

static void
test_dot_unstuffing(void **state)
{
	struct proto_pop3 p;

	(void)state;
	proto_pop3_init(&p, PROTO_POP3_CAPA);
	assert_int_equal(feed(&p, "+OK list follows"), PROTO_NEED_MORE);
	/* ".." is a stuffed ".", not the end. */
	assert_int_equal(feed(&p, ".."), PROTO_NEED_MORE);
	/* "..STLS" is the data ".STLS", which is not STLS ... */
	assert_int_equal(feed(&p, "..STLS"), PROTO_NEED_MORE);
	assert_false(p.caps & PROTO_POP3_CAP_STLS);
	/* ... while ".STLS" loses its leading dot. */
	assert_int_equal(feed(&p, ".STLS"), PROTO_NEED_MORE);
	assert_true(p.caps & PROTO_POP3_CAP_STLS);
	assert_int_equal(feed(&p, ". "), PROTO_NEED_MORE);
	assert_int_equal(p.ncapa, 4);
	assert_int_equal(feed(&p, "."), PROTO_COMPLETE);
}

static void
test_truncated_capa(void **state)
{
	struct proto_pop3 p;

	(void)state;
	/* A list cut off before its "." never completes. */
	proto_pop3_init(&p, PROTO_POP3_CAPA);
	assert_int_equal(feed(&p, "+OK"), PROTO_NEED_MORE);
	assert_int_equal(feed(&p, "USER"), PROTO_NEED_MORE);
	assert_int_equal(p.ncapa, 1);
	assert_true(p.caps & PROTO_POP3_CAP_USER);
	/* The rest arrives later and completes it. */
	assert_int_equal(feed(&p, "."), PROTO_COMPLETE);
}

static void
test_status(void **state)
{
	struct proto_pop3 p;

	(void)state;
	proto_pop3_init(&p, PROTO_POP3_STATUS);
	assert_int_equal(feed(&p, "-ERR Command not permitted when TLS active"), PROTO_COMPLETE);
	assert_false(p.ok);
	proto_pop3_init(&p, PROTO_POP3_STATUS);
	assert_int_equal(feed(&p, "+ok Logging out."), PROTO_COMPLETE);
	assert_true(p.ok);
	proto_pop3_init(&p, PROTO_POP3_STATUS);
	assert_int_equal(feed(&p, "OK"), PROTO_ERROR);
	assert_string_equal(p.reason, "malformed status line: OK");
}

static void
test_limits(void **state)
{
	char line[PROTO_POP3_LINE_MAX + 1];
	struct proto_pop3 p;

	(void)state;
	memset(line, 'x', sizeof(line));
	memcpy(line, "+OK ", 4);
	proto_pop3_init(&p, PROTO_POP3_GREETING);
	assert_int_equal(proto_pop3_feed_line(&p, line, PROTO_POP3_LINE_MAX - 2), PROTO_COMPLETE);
	assert_int_equal(strlen(p.text), sizeof(p.text) - 1);
	proto_pop3_init(&p, PROTO_POP3_GREETING);
	assert_int_equal(proto_pop3_feed_line(&p, line, PROTO_POP3_LINE_MAX - 1), PROTO_ERROR);
	assert_string_equal(p.reason, "line too long");

	proto_pop3_init(&p, PROTO_POP3_CAPA);
	assert_int_equal(feed(&p, "+OK"), PROTO_NEED_MORE);
	for (int i = 0; i < PROTO_POP3_CAPA_LINES_MAX; i++)
		assert_int_equal(feed(&p, "X-FILLER"), PROTO_NEED_MORE);
	assert_int_equal(feed(&p, "X-FILLER"), PROTO_ERROR);
	assert_string_equal(p.reason, "too many CAPA lines");
	assert_int_equal(feed(&p, "."), PROTO_ERROR);

	proto_pop3_init(&p, PROTO_POP3_STATUS);
	assert_int_equal(proto_pop3_feed_line(&p, "+OK\0", 4), PROTO_ERROR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_greeting),
		cmocka_unit_test(test_bad_greetings),
		cmocka_unit_test(test_dovecot_capa),
		cmocka_unit_test(test_capa_unsupported),
		cmocka_unit_test(test_dot_unstuffing),
		cmocka_unit_test(test_truncated_capa),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
