/*
 * proto_smtp.h -- incremental parser for SMTP replies (RFC 5321 4.2),
 * with enhanced status codes (RFC 3463) and EHLO keywords.
 *
 * Feed it one line at a time; it assembles a multi-line reply ("250-..."
 * lines then one "250 ..." line), checks that every line carries the same
 * code, and keeps the code, the enhanced status code and text of the first
 * line, and (for EHLO replies) the service extensions of the other lines.
 * It holds no pointers and allocates nothing: a struct per connection is
 * enough, re-initialised before each reply.  It is pure: no I/O, no clock,
 * no logging.
 *
 * Limits: a line is at most PROTO_SMTP_LINE_MAX octets with its CRLF (RFC
 * 5321 4.5.3.1.5); a reply has at most PROTO_SMTP_LINES_MAX lines.  The
 * engine cuts lines with proto_line_find(buf, len, PROTO_SMTP_LINE_MAX,...)
 * so it never buffers more than that.
 */
#ifndef MXF_PROTO_SMTP_H
#define MXF_PROTO_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define PROTO_SMTP_LINE_MAX 512   /* octets of one reply line, CRLF included */
#define PROTO_SMTP_LINES_MAX 64   /* lines of one reply (Postfix EHLO: ~10) */

/* Service extensions recognised in an EHLO reply (proto_smtp_reply.ext). */
enum proto_smtp_ext {
	PROTO_SMTP_EXT_STARTTLS = 1u << 0,
	PROTO_SMTP_EXT_SIZE = 1u << 1,
	PROTO_SMTP_EXT_PIPELINING = 1u << 2,
	PROTO_SMTP_EXT_8BITMIME = 1u << 3,
	PROTO_SMTP_EXT_AUTH = 1u << 4,
	PROTO_SMTP_EXT_ENHANCEDSTATUSCODES = 1u << 5,
	PROTO_SMTP_EXT_SMTPUTF8 = 1u << 6,
	PROTO_SMTP_EXT_CHUNKING = 1u << 7,
	PROTO_SMTP_EXT_DSN = 1u << 8,
	PROTO_SMTP_EXT_ETRN = 1u << 9,
	PROTO_SMTP_EXT_VRFY = 1u << 10,
};

/* The class of a reply code: its first digit. */
enum proto_smtp_class {
	PROTO_SMTP_CLASS_INVALID = 0,
	PROTO_SMTP_CLASS_POSITIVE = 2,     /* 2yz: done */
	PROTO_SMTP_CLASS_INTERMEDIATE = 3, /* 3yz: go on (354) */
	PROTO_SMTP_CLASS_TRANSIENT = 4,    /* 4yz: try again later (421) */
	PROTO_SMTP_CLASS_PERMANENT = 5,    /* 5yz: refused (554) */
};

struct proto_smtp_reply {
	int code;                    /* e.g. 250; 0 before the first line */
	unsigned nlines;             /* lines of this reply so far */
	bool complete;               /* the final line was seen */
	bool failed;                 /* an error was returned; see reason */
	char enhanced[12];           /* "4.3.2" from the first line, or "" */
	char text[PROTO_SMTP_LINE_MAX]; /* first line's text after the code and
					 * enhanced code, printable (proto_printable) */
	uint32_t ext;                /* enum proto_smtp_ext bits (EHLO replies) */
	uint64_t size_max;           /* SIZE's value; 0 when absent or unlimited */
	char reason[PROTO_REASON_MAX]; /* why PROTO_ERROR was returned */
};

/* proto_smtp_reply_init -- clear @r before the first line of a reply. */
void proto_smtp_reply_init(struct proto_smtp_reply *r);

/*
 * proto_smtp_feed_line -- add one received line to the reply.
 * @r     initialised with proto_smtp_reply_init().
 * @line  the line, with or without "\r\n"; need not be NUL-terminated;
 *        not kept after the call.
 * @return PROTO_NEED_MORE after a continuation line ("250-"),
 *         PROTO_COMPLETE after the final line (read code, enhanced, text,
 *         ext; a 4xx/5xx reply is complete, not an error: the caller
 *         decides), PROTO_ERROR with r->reason set ("line too long",
 *         "malformed reply code: ...", "reply code changed within a
 *         multi-line reply: 250 then 550", "too many lines in one reply").
 *         After PROTO_ERROR or PROTO_COMPLETE, further lines are refused
 *         with PROTO_ERROR until the next proto_smtp_reply_init().
 */
int proto_smtp_feed_line(struct proto_smtp_reply *r, const char *line, size_t len);

/* proto_smtp_class -- the class of @code, PROTO_SMTP_CLASS_INVALID when it
 * is not a reply code (outside 200..599). */
enum proto_smtp_class proto_smtp_class(int code);

/*
 * proto_smtp_reply_describe -- "421 4.3.2 Service shutting down": the first
 * line of a complete reply as the reason of a probe line.  Written into
 * @buf (size @len), always NUL-terminated, cut if needed.
 */
void proto_smtp_reply_describe(const struct proto_smtp_reply *r, char *buf, size_t len);

#endif
