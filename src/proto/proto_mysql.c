/*
 * proto_mysql.c -- the MySQL/MariaDB initial handshake and ERR packets
 * (see proto_mysql.h).
 */
#include "proto_mysql.h"

#include <stdio.h>
#include <string.h>

static int
mysql_fail(struct proto_mysql_greeting *g, const char *what)
{
	snprintf(g->reason, sizeof(g->reason), "%s", what);
	return PROTO_ERROR;
}

static uint32_t
le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32(const uint8_t *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* Whether the header bytes look like a line of text (another protocol). */
static bool
looks_like_text(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] < 0x20 || b[i] > 0x7e)
			return false;
	return true;
}

static int
mysql_err_packet(struct proto_mysql_greeting *g, const uint8_t *p, size_t n)
{
	size_t off = 3;

	if (n < 3)
		return mysql_fail(g, "ERR packet cut short");
	g->kind = PROTO_MYSQL_ERR;
	g->err_code = (uint16_t)le16(p + 1);
	if (n >= 9 && p[3] == '#') {
		proto_printable(g->sql_state, sizeof(g->sql_state), (const char *)p + 4, 5);
		off = 9;
	}
	proto_printable(g->err_message, sizeof(g->err_message), (const char *)p + off, n - off);
	/* HY000 is SQLSTATE's "general error", what most refusals carry; only
	 * a specific state says more than the error code. */
	bool state = g->sql_state[0] != '\0' && strcmp(g->sql_state, "HY000") != 0;
	int w = snprintf(g->reason, sizeof(g->reason), "ERR %u%s%s%s: ", (unsigned)g->err_code,
			 state ? " (" : "", state ? g->sql_state : "", state ? ")" : "");

	if (w > 0 && (size_t)w < sizeof(g->reason))
		proto_printable(g->reason + w, sizeof(g->reason) - (size_t)w, (const char *)p + off,
				n - off);
	return PROTO_COMPLETE;
}

static int
mysql_handshake(struct proto_mysql_greeting *g, const uint8_t *p, size_t n)
{
	const uint8_t *nul;
	size_t off, vlen;

	g->kind = PROTO_MYSQL_HANDSHAKE;
	g->protocol = p[0];
	nul = memchr(p + 1, '\0', n - 1);
	if (nul == NULL)
		return mysql_fail(g, "malformed greeting: server version not terminated");
	vlen = (size_t)(nul - (p + 1));
	proto_printable(g->server_version, sizeof(g->server_version), (const char *)p + 1, vlen);
	g->mariadb = memmem(p + 1, vlen, "MariaDB", 7) != NULL;
	off = 1 + vlen + 1;
	/* connection id (4), auth data part 1 (8), filler (1), capabilities (2) */
	if (n - off < 15)
		return mysql_fail(g, "greeting cut short");
	g->connection_id = le32(p + off);
	if (p[off + 12] != 0)
		return mysql_fail(g, "malformed greeting: bad filler byte");
	g->capabilities = le16(p + off + 13);
	off += 15;
	if (off == n)
		return PROTO_COMPLETE; /* a pre-4.1 server stops here */
	/* charset (1), status (2), capabilities upper (2), auth data length (1),
	 * reserved (10; MariaDB keeps its extended capabilities in the last 4) */
	if (n - off < 16)
		return mysql_fail(g, "greeting cut short");
	g->charset = p[off];
	g->status_flags = (uint16_t)le16(p + off + 1);
	g->capabilities |= le16(p + off + 3) << 16;

	size_t auth_len = p[off + 5];

	off += 16;
	if (g->capabilities & PROTO_MYSQL_CLIENT_SECURE_CONNECTION) {
		size_t part2 = auth_len > 8 + 13 ? auth_len - 8 : 13;

		if (n - off < part2)
			return mysql_fail(g, "greeting cut short");
		off += part2;
	}
	if ((g->capabilities & PROTO_MYSQL_CLIENT_PLUGIN_AUTH) && off < n) {
		/* NUL-terminated, but some servers end the packet instead. */
		const uint8_t *end = memchr(p + off, '\0', n - off);
		size_t pl = end ? (size_t)(end - (p + off)) : n - off;

		proto_printable(g->auth_plugin, sizeof(g->auth_plugin), (const char *)p + off, pl);
	}
	return PROTO_COMPLETE;
}

int
proto_mysql_parse_greeting(struct proto_mysql_greeting *g, const uint8_t *buf, size_t len,
			   size_t *need)
{
	size_t plen;

	memset(g, 0, sizeof(*g));
	if (len < 4) {
		*need = 4;
		return PROTO_NEED_MORE;
	}
	plen = (size_t)buf[0] | (size_t)buf[1] << 8 | (size_t)buf[2] << 16;
	if (plen > PROTO_MYSQL_PAYLOAD_MAX || plen == 0 || buf[3] != 0) {
		if (looks_like_text(buf, 4)) {
			size_t n = len, ql;

			for (ql = 0; ql < n && buf[ql] != '\r' && buf[ql] != '\n'; ql++)
				;
			proto_reason_quote(g->reason, "not a MySQL server", (const char *)buf, ql);
			return PROTO_ERROR;
		}
		if (plen > PROTO_MYSQL_PAYLOAD_MAX) {
			snprintf(g->reason, sizeof(g->reason), "packet too large (%zu bytes)", plen);
			return PROTO_ERROR;
		}
		if (plen == 0)
			return mysql_fail(g, "empty packet");
		snprintf(g->reason, sizeof(g->reason), "unexpected packet sequence id %u", buf[3]);
		return PROTO_ERROR;
	}
	if (len < 4 + plen) {
		*need = 4 + plen;
		return PROTO_NEED_MORE;
	}
	buf += 4;
	if (buf[0] == 0xff)
		return mysql_err_packet(g, buf, plen);
	if (buf[0] == 10)
		return mysql_handshake(g, buf, plen);
	snprintf(g->reason, sizeof(g->reason), "unsupported protocol version %u", buf[0]);
	return PROTO_ERROR;
}
