/*
 * test_proto_mysql.c -- the MySQL/MariaDB greeting and ERR packets, fed
 * whole, byte by byte, cut short, oversized, and from other protocols.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proto_mysql.h"

/*
 * The greeting of MariaDB 10.11 (Debian 12, utf8mb4, no TLS configured)
 * as it comes off the wire: header, protocol 10, version, connection id
 * 31, scramble, capabilities 0xf7fe / 0x81ff, MariaDB extended
 * capabilities in the reserved bytes, and the auth plugin name.
 */
static const uint8_t mariadb_1011[] = {
	0x63, 0x00, 0x00, 0x00,                                     /* length 99, seq 0 */
	0x0a,                                                       /* protocol 10 */
	'5', '.', '5', '.', '5', '-', '1', '0', '.', '1', '1', '.', '6', '-',
	'M', 'a', 'r', 'i', 'a', 'D', 'B', '-', '0', '+', 'd', 'e', 'b', '1', '2',
	'u', '1', 0x00,                                             /* server version */
	0x1f, 0x00, 0x00, 0x00,                                     /* connection id 31 */
	0x4c, 0x6d, 0x2f, 0x2b, 0x3b, 0x39, 0x42, 0x26,             /* scramble part 1 */
	0x00,                                                       /* filler */
	0xfe, 0xf7,                                                 /* capabilities low */
	0x2d,                                                       /* utf8mb4_general_ci */
	0x02, 0x00,                                                 /* status: autocommit */
	0xff, 0x81,                                                 /* capabilities high */
	0x15,                                                       /* auth data length 21 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                         /* reserved */
	0x1d, 0x00, 0x00, 0x00,                                     /* MariaDB ext caps */
	0x53, 0x70, 0x7a, 0x3e, 0x71, 0x5d, 0x36, 0x51, 0x7c, 0x40, 0x2a, 0x70,
	0x00,                                                       /* scramble part 2 */
	'm', 'y', 's', 'q', 'l', '_', 'n', 'a', 't', 'i', 'v', 'e', '_',
	'p', 'a', 's', 's', 'w', 'o', 'r', 'd', 0x00,               /* auth plugin */
};

static void
test_mariadb_greeting(void **state)
{
	struct proto_mysql_greeting g;
	size_t need = 0;

	(void)state;
	assert_int_equal(sizeof(mariadb_1011), 4 + 0x63);
	assert_int_equal(proto_mysql_parse_greeting(&g, mariadb_1011, sizeof(mariadb_1011), &need),
			 PROTO_COMPLETE);
	assert_int_equal(g.kind, PROTO_MYSQL_HANDSHAKE);
	assert_int_equal(g.protocol, 10);
	assert_string_equal(g.server_version, "5.5.5-10.11.6-MariaDB-0+deb12u1");
	assert_true(g.mariadb);
	assert_int_equal(g.connection_id, 31);
	assert_int_equal(g.capabilities, 0x81fff7fe);
	assert_true(g.capabilities & PROTO_MYSQL_CLIENT_PROTOCOL_41);
	assert_true(g.capabilities & PROTO_MYSQL_CLIENT_PLUGIN_AUTH);
	assert_false(g.capabilities & PROTO_MYSQL_CLIENT_SSL);
	assert_int_equal(g.charset, 45);
	assert_int_equal(g.status_flags, 2);
	assert_string_equal(g.auth_plugin, "mysql_native_password");
}

static void
test_incremental(void **state)
{
	struct proto_mysql_greeting g;
	size_t need = 0;

	(void)state;
	/* Every prefix asks for more, and says how much. */
	for (size_t n = 0; n < sizeof(mariadb_1011); n++) {
		assert_int_equal(proto_mysql_parse_greeting(&g, mariadb_1011, n, &need),
				 PROTO_NEED_MORE);
		assert_int_equal(need, n < 4 ? 4 : sizeof(mariadb_1011));
	}
	/* Bytes after the first packet (none are expected) are left alone. */
	uint8_t more[sizeof(mariadb_1011) + 8];
	memcpy(more, mariadb_1011, sizeof(mariadb_1011));
	memset(more + sizeof(mariadb_1011), 0xee, 8);
	assert_int_equal(proto_mysql_parse_greeting(&g, more, sizeof(more), &need), PROTO_COMPLETE);
}

static void
test_cut_short(void **state)
{
	struct proto_mysql_greeting g;
	uint8_t pkt[sizeof(mariadb_1011)];
	size_t need;

	(void)state;
	/* The length field says the packet ends early, inside the fields. */
	static const struct {
		size_t payload;
		const char *reason;
	} t[] = {
		{ 10, "malformed greeting: server version not terminated" },
		{ 40, "greeting cut short" },
		{ 55, "greeting cut short" },
		{ 70, "greeting cut short" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memcpy(pkt, mariadb_1011, sizeof(pkt));
		pkt[0] = (uint8_t)t[i].payload;
		assert_int_equal(proto_mysql_parse_greeting(&g, pkt, 4 + t[i].payload, &need),
				 PROTO_ERROR);
		assert_string_equal(g.reason, t[i].reason);
	}
	/* A pre-4.1 greeting ends right after the low capabilities. */
	memcpy(pkt, mariadb_1011, sizeof(pkt));
	pkt[0] = 1 + 32 + 15;
	assert_int_equal(proto_mysql_parse_greeting(&g, pkt, 4 + 48, &need), PROTO_COMPLETE);
	assert_int_equal(g.capabilities, 0xf7fe);
	assert_string_equal(g.auth_plugin, "");
	/* A plugin name that runs to the end of the packet without NUL. */
	memcpy(pkt, mariadb_1011, sizeof(pkt));
	pkt[0] = 0x63 - 1;
	assert_int_equal(proto_mysql_parse_greeting(&g, pkt, 4 + 0x62, &need), PROTO_COMPLETE);
	assert_string_equal(g.auth_plugin, "mysql_native_password");
	/* A bad filler byte. */
	memcpy(pkt, mariadb_1011, sizeof(pkt));
	pkt[4 + 1 + 32 + 4 + 8] = 0x01;
	assert_int_equal(proto_mysql_parse_greeting(&g, pkt, sizeof(pkt), &need), PROTO_ERROR);
	assert_string_equal(g.reason, "malformed greeting: bad filler byte");
}

static void
test_err_host_blocked(void **state)
{
	static const char msg[] = "Host '192.0.2.9' is blocked because of many connection "
				  "errors; unblock with 'mariadb-admin flush-hosts'";
	uint8_t pkt[4 + 3 + sizeof(msg)];
	struct proto_mysql_greeting g;
	size_t need, plen = 3 + sizeof(msg) - 1;

	(void)state;
	pkt[0] = (uint8_t)plen, pkt[1] = 0, pkt[2] = 0, pkt[3] = 0;
	pkt[4] = 0xff, pkt[5] = 0x69, pkt[6] = 0x04; /* 1129 */
	memcpy(pkt + 7, msg, sizeof(msg) - 1);
	assert_int_equal(proto_mysql_parse_greeting(&g, pkt, 4 + plen, &need), PROTO_COMPLETE);
	assert_int_equal(g.kind, PROTO_MYSQL_ERR);
	assert_int_equal(g.err_code, 1129);
	assert_string_equal(g.sql_state, "");
	assert_string_equal(g.err_message, msg);
	assert_string_equal(g.reason, "ERR 1129: Host '192.0.2.9' is blocked because of many "
				      "connection errors; unblock with 'mariadb-admin flush-hosts'");
}

static void
test_err_with_state(void **state)
{
	static const uint8_t pkt[] = {
		0x1d, 0x00, 0x00, 0x00, 0xff, 0x10, 0x04, '#', '0', '8', '0', '0', '4',
		'T', 'o', 'o', ' ', 'm', 'a', 'n', 'y', ' ',
		'c', 'o', 'n', 'n', 'e', 'c', 't', 'i', 'o', 'n', 's',
	};
	struct proto_mysql_greeting g;
	size_t need;

	(void)state;
	assert_int_equal(sizeof(pkt), 4 + 0x1d);
	assert_int_equal(proto_mysql_parse_greeting(&g, pkt, sizeof(pkt), &need), PROTO_COMPLETE);
	assert_int_equal(g.kind, PROTO_MYSQL_ERR);
	assert_int_equal(g.err_code, 1040);
	assert_string_equal(g.sql_state, "08004");
	assert_string_equal(g.reason, "ERR 1040 (08004): Too many connections");

	/* The generic SQLSTATE HY000 is kept in sql_state, left out of the reason. */
	static const uint8_t hy[] = {
		0x10, 0x00, 0x00, 0x00, 0xff, 0x69, 0x04, '#', 'H', 'Y', '0', '0', '0',
		'b', 'l', 'o', 'c', 'k', 'e', 'd',
	};
	assert_int_equal(proto_mysql_parse_greeting(&g, hy, sizeof(hy), &need), PROTO_COMPLETE);
	assert_string_equal(g.sql_state, "HY000");
	assert_string_equal(g.reason, "ERR 1129: blocked");

	/* An ERR packet too short to hold its code. */
	static const uint8_t tiny[] = { 0x02, 0x00, 0x00, 0x00, 0xff, 0x10 };
	assert_int_equal(proto_mysql_parse_greeting(&g, tiny, sizeof(tiny), &need), PROTO_ERROR);
	assert_string_equal(g.reason, "ERR packet cut short");
}

static void
test_long_err_message(void **state)
{
	uint8_t pkt[4 + 3 + 1000];
	struct proto_mysql_greeting g;
	size_t need;

	(void)state;
	pkt[0] = (3 + 1000) & 0xff, pkt[1] = (3 + 1000) >> 8, pkt[2] = 0, pkt[3] = 0;
	pkt[4] = 0xff, pkt[5] = 0x15, pkt[6] = 0x04;
	memset(pkt + 7, 'z', 1000);
	assert_int_equal(proto_mysql_parse_greeting(&g, pkt, sizeof(pkt), &need), PROTO_COMPLETE);
	assert_int_equal(strlen(g.err_message), sizeof(g.err_message) - 1);
	assert_int_equal(strlen(g.reason), sizeof(g.reason) - 1);
	assert_string_equal(g.reason + sizeof(g.reason) - 4, "...");
}

static void
test_not_mysql(void **state)
{
	static const char smtp[] = "220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n";
	static const uint8_t big[] = { 0x00, 0x00, 0x01, 0x00, 0x0a };
	static const uint8_t empty[] = { 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t seq1[] = { 0x01, 0x00, 0x00, 0x01, 0x0a };
	static const uint8_t v9[] = { 0x01, 0x00, 0x00, 0x00, 0x09 };
	struct proto_mysql_greeting g;
	size_t need;

	(void)state;
	assert_int_equal(proto_mysql_parse_greeting(&g, (const uint8_t *)smtp, sizeof(smtp) - 1,
						    &need), PROTO_ERROR);
	assert_string_equal(g.reason, "not a MySQL server: 220 mx.example.com ESMTP Postfix (Debian/GNU)");
	assert_int_equal(proto_mysql_parse_greeting(&g, big, sizeof(big), &need), PROTO_ERROR);
	assert_string_equal(g.reason, "packet too large (65536 bytes)");
	assert_int_equal(proto_mysql_parse_greeting(&g, empty, sizeof(empty), &need), PROTO_ERROR);
	assert_string_equal(g.reason, "empty packet");
	assert_int_equal(proto_mysql_parse_greeting(&g, seq1, sizeof(seq1), &need), PROTO_ERROR);
	assert_string_equal(g.reason, "unexpected packet sequence id 1");
	assert_int_equal(proto_mysql_parse_greeting(&g, v9, sizeof(v9), &need), PROTO_ERROR);
	assert_string_equal(g.reason, "unsupported protocol version 9");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mariadb_greeting),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_err_host_blocked),
		cmocka_unit_test(test_err_with_state),
		cmocka_unit_test(test_long_err_message),
		cmocka_unit_test(test_not_mysql),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
