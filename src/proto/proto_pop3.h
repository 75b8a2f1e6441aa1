/*
 * proto_pop3.h -- POP3 (RFC 1939) replies for the pop3/pop3s check: the
 * "+OK"/"-ERR" status line of the greeting and of single-line commands
 * (STLS, QUIT), and the multi-line CAPA reply (RFC 2449) ending in ".",
 * with dot-unstuffing.
 *
 * Use: proto_pop3_init(p, PROTO_POP3_GREETING), feed lines until not
 * PROTO_NEED_MORE; send "CAPA", proto_pop3_init(p, PROTO_POP3_CAPA), feed;
 * and so on.  Capabilities are kept in p->caps across re-inits of kind
 * PROTO_POP3_STATUS, but a CAPA re-init clears them (after STLS the
 * list must be asked again, RFC 2595 4).
 *
 * Pure: no I/O, clock, logging or allocation.  Limits: a line is at most
 * PROTO_POP3_LINE_MAX octets with CRLF (RFC 2449 gives 512 for responses;
 * twice that is accepted so a verbose server is not called down for it);
 * a CAPA list has at most PROTO_POP3_CAPA_LINES_MAX lines.
 */
#ifndef MXF_PROTO_POP3_H
#define MXF_PROTO_POP3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define PROTO_POP3_LINE_MAX 1024
#define PROTO_POP3_CAPA_LINES_MAX 64

enum proto_pop3_kind {
	PROTO_POP3_GREETING,  /* the server's first line */
	PROTO_POP3_STATUS,    /* a single-line reply (STLS, QUIT, ...) */
	PROTO_POP3_CAPA,      /* the reply to CAPA */
};

enum proto_pop3_cap {
	PROTO_POP3_CAP_STLS = 1u << 0,
	PROTO_POP3_CAP_USER = 1u << 1,
	PROTO_POP3_CAP_SASL = 1u << 2,
	PROTO_POP3_CAP_TOP = 1u << 3,
	PROTO_POP3_CAP_UIDL = 1u << 4,
	PROTO_POP3_CAP_PIPELINING = 1u << 5,
	PROTO_POP3_CAP_RESP_CODES = 1u << 6,
	PROTO_POP3_CAP_AUTH_RESP_CODE = 1u << 7,
	PROTO_POP3_CAP_UTF8 = 1u << 8,
	PROTO_POP3_CAP_EXPIRE = 1u << 9,
	PROTO_POP3_CAP_LOGIN_DELAY = 1u << 10,
	PROTO_POP3_CAP_IMPLEMENTATION = 1u << 11,
};

struct proto_pop3 {
	enum proto_pop3_kind kind;
	int state;                      /* internal */
	bool ok;                        /* the status line was +OK */
	uint32_t caps;                  /* enum proto_pop3_cap bits (CAPA) */
	unsigned ncapa;                 /* capability lines received */
	char text[256];                 /* the status line, printable, cut */
	char reason[PROTO_REASON_MAX];  /* why PROTO_ERROR was returned */
};

/* proto_pop3_init -- prepare @p for the reply of @kind (see above). */
void proto_pop3_init(struct proto_pop3 *p, enum proto_pop3_kind kind);

/*
 * proto_pop3_feed_line -- add one received line.
 * @line  with or without "\r\n"; not kept after the call.
 * @return PROTO_COMPLETE when the reply is whole: for GREETING only on
 *         "+OK" ("-ERR" is PROTO_ERROR "greeting is not +OK: -ERR ...",
 *         with p->text holding the line, so a caller can tell a server's
 *         refusal, which deserves a QUIT, from garbage, where text is "");
 *         for STATUS on either, p->ok telling which; for CAPA after the
 *         terminating "." of a +OK list, or at once on "-ERR" (a server
 *         without CAPA: p->ok false, no caps, and the check goes on).
 *         PROTO_NEED_MORE inside a CAPA list.  PROTO_ERROR with p->reason
 *         ("line too long", "malformed status line: ...", "too many CAPA
 *         lines"); sticky until the next init.
 */
int proto_pop3_feed_line(struct proto_pop3 *p, const char *line, size_t len);

#endif
