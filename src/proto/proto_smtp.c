/*
 * proto_smtp.c -- SMTP reply parser: multi-line assembly, code checks,
 * enhanced status codes and EHLO keywords (see proto_smtp.h).
 */
#include "proto_smtp.h"

#include <stdio.h>
#include <string.h>

#include "mxf.h"
#include "value.h"

static const struct proto_keyword smtp_ext_table[] = {
	{ "STARTTLS", PROTO_SMTP_EXT_STARTTLS },
	{ "SIZE", PROTO_SMTP_EXT_SIZE },
	{ "PIPELINING", PROTO_SMTP_EXT_PIPELINING },
	{ "8BITMIME", PROTO_SMTP_EXT_8BITMIME },
	{ "AUTH", PROTO_SMTP_EXT_AUTH },
	{ "ENHANCEDSTATUSCODES", PROTO_SMTP_EXT_ENHANCEDSTATUSCODES },
	{ "SMTPUTF8", PROTO_SMTP_EXT_SMTPUTF8 },
	{ "CHUNKING", PROTO_SMTP_EXT_CHUNKING },
	{ "DSN", PROTO_SMTP_EXT_DSN },
	{ "ETRN", PROTO_SMTP_EXT_ETRN },
	{ "VRFY", PROTO_SMTP_EXT_VRFY },
};

void
proto_smtp_reply_init(struct proto_smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

enum proto_smtp_class
proto_smtp_class(int code)
{
	if (code < 200 || code > 599)
		return PROTO_SMTP_CLASS_INVALID;
	return (enum proto_smtp_class)(code / 100);
}

static int
smtp_fail(struct proto_smtp_reply *r, const char *what, const char *line, size_t len)
{
	r->failed = true;
	return proto_fail(r->reason, what, line, len);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1 to 3 digits at @s; @return how many, 0 when none or more than 3. */
static size_t
digits_1_3(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && is_digit(s[n]))
		n++;
	return n >= 1 && n <= 3 ? n : 0;
}

/*
 * An RFC 3463 status code "class.subject.detail" at the start of @s whose
 * class matches the reply code's first digit, followed by a space or the
 * end.  @return its length, or 0 when there is none.
 */
static size_t
enhanced_len(const char *s, size_t len, int code)
{
	size_t p = 0, n;

	if (len < 5 || s[0] != (char)('0' + code / 100) || s[1] != '.')
		return 0;
	p = 2;
	if ((n = digits_1_3(s + p, len - p)) == 0)
		return 0;
	p += n;
	if (p >= len || s[p] != '.')
		return 0;
	p++;
	if ((n = digits_1_3(s + p, len - p)) == 0)
		return 0;
	p += n;
	if (p < len && s[p] != ' ')
		return 0;
	return p;
}

/* Record the service extension named by an EHLO reply line's text. */
static void
smtp_parse_ext(struct proto_smtp_reply *r, const char *s, size_t len)
{
	size_t kw = 0;
	uint32_t bit;

	while (kw < len && s[kw] != ' ' && s[kw] != '=')
		kw++;
	bit = proto_keyword_bit(smtp_ext_table, MXF_ARRAY_SIZE(smtp_ext_table), s, kw);
	r->ext |= bit;
	if (bit == PROTO_SMTP_EXT_SIZE && kw < len) {
		uint64_t v = 0;
		size_t p = kw + 1;

		/* A SIZE value longer than 19 digits is ignored, not wrapped. */
		while (p < len && is_digit(s[p]) && p - kw <= 19)
			v = v * 10 + (uint64_t)(s[p++] - '0');
		if (p == len)
			r->size_max = v;
	}
}

int
proto_smtp_feed_line(struct proto_smtp_reply *r, const char *line, size_t len)
{
	int code;
	bool last;

	if (r->failed)
		return PROTO_ERROR;
	if (r->complete)
		return smtp_fail(r, "line after the end of the reply", line, proto_strip_eol(line, len));
	if (proto_line_check(r->reason, line, &len, PROTO_SMTP_LINE_MAX, "reply") != 0) {
		r->failed = true;
		return PROTO_ERROR;
	}
	if (len < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
	    line[0] < '2' || line[0] > '5' || line[1] > '5' ||
	    (len > 3 && line[3] != ' ' && line[3] != '-'))
		return smtp_fail(r, "malformed reply code", line, len);
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	last = len == 3 || line[3] == ' ';
	if (r->nlines > 0 && code != r->code) {
		r->failed = true;
		snprintf(r->reason, sizeof(r->reason),
			 "reply code changed within a multi-line reply: %d then %d", r->code, code);
		return PROTO_ERROR;
	}
	if (r->nlines >= PROTO_SMTP_LINES_MAX)
		return smtp_fail(r, "too many lines in one reply", NULL, 0);
	r->nlines++;

	const char *t = len > 4 ? line + 4 : line + len;
	size_t tlen = len > 4 ? len - 4 : 0;

	if (r->nlines == 1) {
		size_t e = enhanced_len(t, tlen, code);

		r->code = code;
		if (e > 0) {
			memcpy(r->enhanced, t, e);
			r->enhanced[e] = '\0';
			t += e;
			tlen -= e;
			while (tlen > 0 && *t == ' ')
				t++, tlen--;
		}
		proto_printable(r->text, sizeof(r->text), t, tlen);
	} else {
		smtp_parse_ext(r, t, tlen);
	}
	if (!last)
		return PROTO_NEED_MORE;
	r->complete = true;
	return PROTO_COMPLETE;
}

void
proto_smtp_reply_describe(const struct proto_smtp_reply *r, char *buf, size_t len)
{
	if (r->enhanced[0] != '\0')
		value_utf8_format(buf, len, "%03d %s%s%s", r->code, r->enhanced,
				  r->text[0] ? " " : "", r->text);
	else
		value_utf8_format(buf, len, "%03d%s%s", r->code, r->text[0] ? " " : "", r->text);
}
