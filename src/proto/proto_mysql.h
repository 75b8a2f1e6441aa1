/*
 * proto_mysql.h -- the first packet a MySQL or MariaDB server sends: the
 * protocol-10 initial handshake ("greeting"), or an ERR packet when it
 * refuses the client at once (1040 "Too many connections", 1129 "Host
 * '...' is blocked because of many connection errors", 1130 "Host '...'
 * is not allowed to connect").
 *
 * A packet is a 3-byte little-endian payload length, a sequence id (0 for
 * this first packet) and the payload.  The engine hands over the bytes
 * received so far; the parser says how many it needs, so the engine can
 * set a read watermark, and never needs more than 4 +
 * PROTO_MYSQL_PAYLOAD_MAX bytes.
 *
 * Ending the conversation politely.  COM_QUIT is only valid after
 * authentication; sent in place of the handshake response it is read as a
 * malformed login.  The check therefore closes the connection right after
 * the greeting, sending nothing, like HAProxy's mysql-check without a
 * user.  The server counts that as an aborted connect ("Aborted_connects",
 * a note in its log at log_warnings >= 2), and also as a handshake error
 * towards max_connect_errors: MariaDB 10.11 blocks the monitor's address
 * (error 1129) after that many interrupted connections in a row (default
 * 100) with no successful login in between.  A real login from the monitor
 * host clears the count, so on a server that sees none, raise
 * max_connect_errors (or run "mariadb-admin flush-hosts" from cron), or
 * check it less often.  The check reports 1129 with its text when it happens.
 *
 * Pure: no I/O, clock, logging or allocation.
 */
#ifndef MXF_PROTO_MYSQL_H
#define MXF_PROTO_MYSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define PROTO_MYSQL_PAYLOAD_MAX 4096   /* a greeting is ~100 bytes */

/* Capability flags of the greeting that a check may care about. */
#define PROTO_MYSQL_CLIENT_PROTOCOL_41 0x00000200u
#define PROTO_MYSQL_CLIENT_SSL 0x00000800u
#define PROTO_MYSQL_CLIENT_SECURE_CONNECTION 0x00008000u
#define PROTO_MYSQL_CLIENT_PLUGIN_AUTH 0x00080000u

enum proto_mysql_kind {
	PROTO_MYSQL_HANDSHAKE,  /* a protocol-10 greeting: the server is up */
	PROTO_MYSQL_ERR,        /* an ERR packet: the server refused us */
};

struct proto_mysql_greeting {
	enum proto_mysql_kind kind;
	/* PROTO_MYSQL_HANDSHAKE */
	unsigned protocol;              /* 10 */
	char server_version[64];        /* "5.5.5-10.11.6-MariaDB-0+deb12u1", printable */
	bool mariadb;                   /* the version names MariaDB */
	uint32_t connection_id;
	uint32_t capabilities;          /* both halves, when sent */
	uint8_t charset;
	uint16_t status_flags;
	char auth_plugin[64];           /* "mysql_native_password", or "" */
	/* PROTO_MYSQL_ERR */
	uint16_t err_code;              /* e.g. 1129 */
	char sql_state[6];              /* "HY000", or "" when not sent */
	char err_message[256];          /* printable, cut */
	/* PROTO_ERROR, and for PROTO_MYSQL_ERR the "down" reason:
	 * "ERR 1129: Host '192.0.2.9' is blocked because of ...", with the
	 * SQLSTATE when it is not the generic HY000:
	 * "ERR 1040 (08004): Too many connections" */
	char reason[PROTO_REASON_MAX];
};

/*
 * proto_mysql_parse_greeting -- parse the server's first packet.
 * @g     receives the result; overwritten at each call.
 * @buf   the bytes received so far, from the first one; not kept.
 * @need  on PROTO_NEED_MORE, the number of bytes (from the start) the
 *        parser needs: 4 for the header, then the whole packet.
 * @return PROTO_NEED_MORE; PROTO_COMPLETE with g->kind saying which packet
 *         it was (an ERR packet is a complete, well-formed refusal);
 *         PROTO_ERROR with g->reason on anything else: "packet too large",
 *         "unsupported protocol version 9", "greeting cut short",
 *         "not a MySQL server: 220 mx.example.com ESMTP" (text where a
 *         packet header should be), ...  Bytes after the first packet are
 *         ignored.
 */
int proto_mysql_parse_greeting(struct proto_mysql_greeting *g, const uint8_t *buf, size_t len,
			       size_t *need);

#endif
