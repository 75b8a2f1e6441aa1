/*
 * check_mysql.c -- mysql://HOST[:3306]: read the server's first packet; a
 * protocol-10 greeting is up (the reason names the server version), an ERR
 * packet is down with its code and text ("ERR 1129: Host ... is blocked
 * because of many connection errors").  Then the connection is closed.
 *
 * The conversation only: proto_mysql parses the packet and says how many
 * bytes it needs, and never more than 4 + PROTO_MYSQL_PAYLOAD_MAX, which is
 * also the engine's read watermark for this check.  Closing right after the
 * greeting, and what a server may think of it, is explained in
 * proto_mysql.h.
 */
#include <stdio.h>

#include <event2/buffer.h>

#include "check_impl.h"
#include "proto_mysql.h"

#define MYSQL_MAX_PACKET (4 + PROTO_MYSQL_PAYLOAD_MAX)

static void
mysql_connected(struct check *c)
{
	check_set_phase(c, CHECK_PHASE_GREETING);
}

static void
mysql_read(struct check *c)
{
	struct evbuffer *in = check_conn_input(c);
	size_t avail = evbuffer_get_length(in), need = 0;
	struct proto_mysql_greeting g;
	const uint8_t *p;
	int r;

	if (avail > MYSQL_MAX_PACKET)
		avail = MYSQL_MAX_PACKET;
	p = evbuffer_pullup(in, (ev_ssize_t)avail);
	if (p == NULL && avail > 0) {
		check_finish(c, CHECK_STATE_DOWN, "out of memory");
		return;
	}
	r = proto_mysql_parse_greeting(&g, p, avail, &need);
	if (r == PROTO_NEED_MORE)
		return;
	if (r == PROTO_ERROR)
		check_finish(c, CHECK_STATE_DOWN, "%s", g.reason);
	else if (g.kind == PROTO_MYSQL_ERR)
		check_finish(c, CHECK_STATE_DOWN, "%s", g.reason);
	else
		check_finish(c, CHECK_STATE_UP, "MySQL protocol %u, server %s", g.protocol,
			     g.server_version);
}

const struct check_ops check_mysql_ops = {
	/* Not a line protocol: this bounds what the engine buffers. */
	.max_line = MYSQL_MAX_PACKET,
	.connected = mysql_connected,
	.read = mysql_read,
};
