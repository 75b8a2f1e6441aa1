/*
 * proto_imap.h -- the IMAP4 (RFC 3501, RFC 9051) responses an imap/imaps
 * check meets: the server greeting, untagged data (CAPABILITY, BYE, OK with
 * response codes), and the tagged completion of our own commands
 * (CAPABILITY, STARTTLS, LOGOUT).
 *
 * Servers vary: some send untagged lines (e.g. "* CAPABILITY ...") before
 * their greeting, many put the capabilities in the greeting as a response
 * code ("* OK [CAPABILITY IMAP4rev1 STARTTLS ...] ready"), some send more
 * untagged lines after it.  The parser accepts all of these and keeps the
 * most recent capability list.
 *
 * Use: proto_imap_init(), feed lines until PROTO_COMPLETE (the greeting);
 * send "A1 CAPABILITY", call proto_imap_expect_tagged(p, "A1"), feed lines
 * until PROTO_COMPLETE (the tagged reply; untagged lines in between, even
 * ones the server sent before it read our command, are absorbed); check
 * p->status.  Re-run proto_imap_init() after STARTTLS, since capabilities
 * must be asked again (RFC 3501 6.2.1); there is no greeting then, so call
 * proto_imap_expect_tagged() straight away.
 *
 * Pure: no I/O, clock, logging or allocation.  Limits: a line is at most
 * PROTO_IMAP_LINE_MAX octets (RFC 7162 3.2.1 asks clients to accept 8192);
 * at most PROTO_IMAP_LINES_MAX untagged lines per greeting or command.
 * Literals ({n}) never occur in these responses and are refused.
 */
#ifndef MXF_PROTO_IMAP_H
#define MXF_PROTO_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define PROTO_IMAP_LINE_MAX 8192
#define PROTO_IMAP_LINES_MAX 64
#define PROTO_IMAP_TAG_MAX 16

enum proto_imap_cap {
	PROTO_IMAP_CAP_IMAP4REV1 = 1u << 0,
	PROTO_IMAP_CAP_IMAP4REV2 = 1u << 1,
	PROTO_IMAP_CAP_STARTTLS = 1u << 2,
	PROTO_IMAP_CAP_LOGINDISABLED = 1u << 3,
	PROTO_IMAP_CAP_IDLE = 1u << 4,
	PROTO_IMAP_CAP_ID = 1u << 5,
	PROTO_IMAP_CAP_LITERALPLUS = 1u << 6,
	PROTO_IMAP_CAP_SASL_IR = 1u << 7,
	PROTO_IMAP_CAP_ENABLE = 1u << 8,
	PROTO_IMAP_CAP_AUTH = 1u << 9,   /* any AUTH=mechanism */
};

enum proto_imap_status {
	PROTO_IMAP_NONE,
	PROTO_IMAP_OK,
	PROTO_IMAP_NO,
	PROTO_IMAP_BAD,
	PROTO_IMAP_PREAUTH,   /* greeting only: already authenticated */
};

struct proto_imap {
	int phase;                      /* internal */
	char tag[PROTO_IMAP_TAG_MAX];   /* the tag awaited */
	enum proto_imap_status status;  /* greeting or tagged completion */
	bool bye;                       /* an untagged BYE came (normal in LOGOUT);
					 * text then holds it until the tagged line */
	bool caps_seen;                 /* a capability list was received */
	uint32_t caps;                  /* enum proto_imap_cap bits */
	unsigned nlines;                /* untagged lines in this exchange */
	char text[256];                 /* the greeting, the tagged line, or the
					 * BYE line (see bye), printable */
	char reason[PROTO_REASON_MAX];  /* why PROTO_ERROR was returned */
};

/* proto_imap_init -- clear @p; the next line expected is the greeting. */
void proto_imap_init(struct proto_imap *p);

/*
 * proto_imap_expect_tagged -- the engine sent a command tagged @tag; what
 * follows are untagged lines and that tagged completion.  Capabilities seen
 * so far are kept.
 * @return 0, or MXF_EINVAL for a tag that is empty, too long, or not made
 *         of IMAP atom characters ('+' excluded).
 */
int proto_imap_expect_tagged(struct proto_imap *p, const char *tag);

/*
 * proto_imap_feed_line -- add one received line.
 * @line  with or without "\r\n"; not kept after the call.
 * @return in the greeting phase: PROTO_COMPLETE on "* OK" or "* PREAUTH"
 *         (p->status, p->text, maybe p->caps); PROTO_ERROR on "* BYE",
 *         "* NO" or "* BAD" ("greeting is not * OK: * BYE too many
 *         connections") and on anything not an untagged response;
 *         PROTO_NEED_MORE after other untagged lines.
 *         In the tagged phase: PROTO_COMPLETE on our tag's OK, NO or BAD
 *         (p->status; p->text quotes the line for a "down" reason);
 *         PROTO_NEED_MORE after untagged lines; PROTO_ERROR on another
 *         tag, a continuation request, a literal, a malformed line.
 *         In both, PROTO_ERROR on "line too long" and "too many untagged
 *         lines"; errors are sticky until the next init.
 */
int proto_imap_feed_line(struct proto_imap *p, const char *line, size_t len);

#endif
