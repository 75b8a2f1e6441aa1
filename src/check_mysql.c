/*
 * check_mysql.c -- mysql://HOST[:3306]: read the server's first packet; a
 * protocol-10 greeting is up (the reason names the server version), an ERR
 * packet is down with its code and text ("Host ... is blocked because of
 * many connection errors").  Then the connection is closed.
 *
 * Closing right after the greeting is what HAProxy's mysql-check does
 * without a user.  A server may count such connections as aborted
 * handshakes (max_connect_errors); a check that logs in as a monitoring
 * user and sends COM_QUIT is future work.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "check_impl.h"

#define MYSQL_MAX_PACKET 16384

static void
mysql_connected(struct check *c)
{
	check_set_phase(c, CHECK_PHASE_GREETING);
}

static void
mysql_read(struct check *c)
{
	struct evbuffer *in = check_input(c);
	size_t avail = evbuffer_get_length(in);
	unsigned char hdr[4];
	const unsigned char *p;
	size_t plen, i;
	char q[200];

	if (avail < 4)
		return;
	evbuffer_copyout(in, hdr, 4);
	plen = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16;
	if (plen == 0 || plen > MYSQL_MAX_PACKET) {
		check_finish(c, CHECK_STATE_DOWN, "not a MySQL greeting (packet length %zu)", plen);
		return;
	}
	if (avail < plen + 4)
		return;
	p = evbuffer_pullup(in, (ev_ssize_t)(plen + 4));
	if (p == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "out of memory");
		return;
	}
	p += 4;
	if (p[0] == 0xff) {
		unsigned code = plen >= 3 ? (unsigned)p[1] | (unsigned)p[2] << 8 : 0;
		i = 3;
		if (plen > i && p[i] == '#')
			i += 6;
		if (i > plen)
			i = plen;
		check_quote((const char *)p + i, plen - i, q, sizeof(q));
		check_finish(c, CHECK_STATE_DOWN, "ERR %u: %s", code, q);
		return;
	}
	if (p[0] != 10) {
		check_finish(c, CHECK_STATE_DOWN, "unsupported MySQL protocol version %u", p[0]);
		return;
	}
	for (i = 1; i < plen && p[i] != '\0'; i++)
		;
	if (i >= plen) {
		check_finish(c, CHECK_STATE_DOWN, "malformed MySQL greeting (no version string end)");
		return;
	}
	check_quote((const char *)p + 1, i - 1, q, sizeof(q));
	check_finish(c, CHECK_STATE_UP, "MySQL protocol 10, server %s", q);
}

const struct check_ops check_mysql_ops = {
	.scheme = "mysql",
	.default_port = 3306,
	.flags = CHECK_F_STREAM,
	.max_line = MYSQL_MAX_PACKET + 4,
	.connected = mysql_connected,
	.read = mysql_read,
};
