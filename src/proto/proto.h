/*
 * proto.h -- what the protocol parsers (proto_smtp, proto_imap, proto_pop3,
 * proto_http, proto_mysql) share: the three-way result of feeding input,
 * finding a bounded line in received bytes, and making peer text safe to
 * print.
 *
 * The parsers are pure: they never read sockets, clocks or write logs.  The
 * check engine reads bytes, cuts lines with proto_line_find() (which refuses
 * to wait for a line longer than the protocol allows), feeds them to a
 * parser and acts on the result.  "Our code failed" and "the server said no"
 * stay apart: PROTO_ERROR means the peer broke the protocol or a limit (the
 * parser's reason buffer says how); a well-formed refusal (a 421 banner, a
 * tagged NO, -ERR, a MySQL ERR packet) is PROTO_COMPLETE with the answer in
 * the parser's fields, and the engine decides it is "down".
 */
#ifndef MXF_PROTO_H
#define MXF_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum proto_result {
	PROTO_ERROR = -1,     /* malformed input or a limit hit; see the reason */
	PROTO_NEED_MORE = 0,  /* feed the next line (or more bytes) */
	PROTO_COMPLETE = 1,   /* a whole reply was parsed; read the fields */
};

/* Size of every parser's reason buffer, including the NUL. */
#define PROTO_REASON_MAX 192

/* How much of a peer's line a reason quotes before "..." (sanitised). */
#define PROTO_QUOTE_MAX 80

/*
 * proto_line_find -- find the first complete line in received bytes.
 * @buf, @len  bytes received so far (need not be NUL-terminated).
 * @max        the longest line the protocol allows, terminator included.
 * @linelen    on PROTO_COMPLETE, the line's length without "\r\n" or "\n".
 * @consumed   on PROTO_COMPLETE, the bytes to drain, terminator included.
 * @return PROTO_COMPLETE when a line ending in LF starts at @buf and fits
 *         in @max bytes; PROTO_NEED_MORE when no LF was seen yet and fewer
 *         than @max bytes are buffered; PROTO_ERROR when @max bytes or more
 *         are buffered without a LF among the first @max ("line too long").
 *         The engine therefore never needs to buffer more than @max bytes
 *         of one line.
 */
int proto_line_find(const char *buf, size_t len, size_t max, size_t *linelen, size_t *consumed);

/*
 * proto_strip_eol -- the length of @line without one trailing "\n" and then
 * one trailing "\r".  Parsers accept lines with or without terminator.
 */
size_t proto_strip_eol(const char *line, size_t len);

/*
 * proto_printable -- copy peer text into @dst (size @dstlen >= 4), safe for
 * a log line, a terminal and a JSON string: C0 control bytes, DEL, the C1
 * controls (U+0080..U+009F, two bytes in UTF-8) and each byte of invalid
 * UTF-8 become one '?'; other valid UTF-8 is kept; text that does not fit
 * is cut on a character boundary and ends in "...".  @dst is always
 * NUL-terminated.  The parsers' name for value_utf8_clean(), the one
 * cleaner of text from outside.
 */
void proto_printable(char *dst, size_t dstlen, const char *src, size_t len);

/*
 * proto_reason_quote -- write "@what: LINE" into @reason (PROTO_REASON_MAX
 * bytes), LINE being @line made printable and cut at PROTO_QUOTE_MAX.
 */
void proto_reason_quote(char *reason, const char *what, const char *line, size_t len);

/* One row of a keyword table: a capability or extension name and its bit. */
struct proto_keyword {
	const char *name;
	uint32_t bit;
};

/*
 * proto_keyword_bit -- the bit of the keyword @s (@len bytes, not
 * NUL-terminated) in the @n rows of @table, compared case-insensitively.
 * @return the bit, or 0 when @s is not in the table.
 */
uint32_t proto_keyword_bit(const struct proto_keyword *table, size_t n, const char *s,
			   size_t len);

/*
 * proto_fail -- the reason a parser gives up: proto_reason_quote() of
 * @line, or @what alone when @line is NULL (a limit, not a bad line).
 * @return PROTO_ERROR, for `return proto_fail(...)` after the parser has
 *         marked its own state failed.
 */
int proto_fail(char *reason, const char *what, const char *line, size_t len);

/*
 * proto_line_check -- what a line parser checks on every line before it
 * reads it: without its end of line (@len is updated to that length) the
 * line fits in @max, a limit that counts the CRLF, and holds no NUL byte.
 * @in      what the line is part of ("reply"), for "NUL byte in @in: LINE".
 * @return 0, or PROTO_ERROR with @reason written as by proto_fail(); the
 *         caller marks its own state failed.
 */
int proto_line_check(char *reason, const char *line, size_t *len, size_t max, const char *in);

#endif
