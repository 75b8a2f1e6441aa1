/*
 * proto_imap.c -- IMAP greeting, untagged and tagged response parsing
 * (see proto_imap.h).
 */
#include "proto_imap.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mxf.h"

enum { IMAP_GREETING, IMAP_TAGGED, IMAP_DONE, IMAP_FAILED };

static const struct proto_keyword imap_caps[] = {
	{ "IMAP4REV1", PROTO_IMAP_CAP_IMAP4REV1 },
	{ "IMAP4REV2", PROTO_IMAP_CAP_IMAP4REV2 },
	{ "STARTTLS", PROTO_IMAP_CAP_STARTTLS },
	{ "LOGINDISABLED", PROTO_IMAP_CAP_LOGINDISABLED },
	{ "IDLE", PROTO_IMAP_CAP_IDLE },
	{ "ID", PROTO_IMAP_CAP_ID },
	{ "LITERAL+", PROTO_IMAP_CAP_LITERALPLUS },
	{ "SASL-IR", PROTO_IMAP_CAP_SASL_IR },
	{ "ENABLE", PROTO_IMAP_CAP_ENABLE },
};

void
proto_imap_init(struct proto_imap *p)
{
	memset(p, 0, sizeof(*p));
	p->phase = IMAP_GREETING;
}

/* ATOM-CHAR of RFC 3501 without '+': what a tag may hold. */
static bool
is_tag_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]+", c) == NULL;
}

int
proto_imap_expect_tagged(struct proto_imap *p, const char *tag)
{
	size_t n = strlen(tag);

	if (n == 0 || n >= sizeof(p->tag))
		return MXF_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!is_tag_char((unsigned char)tag[i]))
			return MXF_EINVAL;
	memcpy(p->tag, tag, n + 1);
	p->phase = IMAP_TAGGED;
	p->status = PROTO_IMAP_NONE;
	p->bye = false;
	p->nlines = 0;
	p->text[0] = '\0';
	p->reason[0] = '\0';
	return 0;
}

static int
imap_fail(struct proto_imap *p, const char *what, const char *line, size_t len)
{
	p->phase = IMAP_FAILED;
	return proto_fail(p->reason, what, line, len);
}

/* Whether @s (length @n) starts with the word @w, case-insensitively,
 * followed by a space or the end. */
static bool
word_is(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);

	return n >= wl && strncasecmp(s, w, wl) == 0 && (n == wl || s[wl] == ' ');
}

/* Parse the capabilities in @s up to the end or a ']' into p->caps. */
static void
imap_parse_caps(struct proto_imap *p, const char *s, size_t n)
{
	size_t i = 0;

	p->caps = 0;
	p->caps_seen = true;
	while (i < n && s[i] != ']') {
		size_t st;

		while (i < n && s[i] == ' ')
			i++;
		st = i;
		while (i < n && s[i] != ' ' && s[i] != ']')
			i++;
		if (i - st > 5 && strncasecmp(s + st, "AUTH=", 5) == 0) {
			p->caps |= PROTO_IMAP_CAP_AUTH;
			continue;
		}
		p->caps |= proto_keyword_bit(imap_caps, MXF_ARRAY_SIZE(imap_caps), s + st, i - st);
	}
}

/* resp-text: "[CAPABILITY ...]" as a response code is the one we use. */
static void
imap_resp_text(struct proto_imap *p, const char *s, size_t n)
{
	if (n >= 12 && s[0] == '[' && strncasecmp(s + 1, "CAPABILITY ", 11) == 0)
		imap_parse_caps(p, s + 12, n - 12);
}

/* Whether the line ends in a literal announcement "{123}" or "{123+}". */
static bool
ends_in_literal(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || s[n - 1] != '}')
		return false;
	i = n - 2;
	if (s[i] == '+')
		i--;
	if (i == 0 || s[i] < '0' || s[i] > '9')
		return false;
	while (i > 0 && s[i] >= '0' && s[i] <= '9')
		i--;
	return s[i] == '{';
}

int
proto_imap_feed_line(struct proto_imap *p, const char *line, size_t len)
{
	const char *s;
	size_t n;

	if (p->phase == IMAP_FAILED)
		return PROTO_ERROR;
	if (p->phase == IMAP_DONE)
		return imap_fail(p, "line after the end of the exchange", line, proto_strip_eol(line, len));
	if (proto_line_check(p->reason, line, &len, PROTO_IMAP_LINE_MAX, "response") != 0) {
		p->phase = IMAP_FAILED;
		return PROTO_ERROR;
	}
	if (ends_in_literal(line, len))
		return imap_fail(p, "unexpected literal in response", line, len);

	if (len >= 2 && line[0] == '*' && line[1] == ' ') {
		if (++p->nlines > PROTO_IMAP_LINES_MAX)
			return imap_fail(p, "too many untagged lines", NULL, 0);
		s = line + 2;
		n = len - 2;
		if (word_is(s, n, "CAPABILITY")) {
			imap_parse_caps(p, s + 10, n - 10);
			return PROTO_NEED_MORE;
		}
		if (p->phase == IMAP_GREETING) {
			if (word_is(s, n, "OK") || word_is(s, n, "PREAUTH")) {
				size_t w = word_is(s, n, "OK") ? 2 : 7;

				p->status = w == 2 ? PROTO_IMAP_OK : PROTO_IMAP_PREAUTH;
				if (n > w)
					imap_resp_text(p, s + w + 1, n - w - 1);
				proto_printable(p->text, sizeof(p->text), line, len);
				p->phase = IMAP_DONE;
				return PROTO_COMPLETE;
			}
			if (word_is(s, n, "BYE") || word_is(s, n, "NO") || word_is(s, n, "BAD")) {
				proto_printable(p->text, sizeof(p->text), line, len);
				return imap_fail(p, "greeting is not * OK", line, len);
			}
			/* Other untagged data before the greeting: absorbed. */
			return PROTO_NEED_MORE;
		}
		if (word_is(s, n, "BYE")) {
			/* Normal in LOGOUT, a farewell elsewhere: keep its words. */
			p->bye = true;
			proto_printable(p->text, sizeof(p->text), line, len);
		} else if (word_is(s, n, "OK") && n > 3) {
			imap_resp_text(p, s + 3, n - 3);
		}
		return PROTO_NEED_MORE;
	}
	if (len >= 1 && line[0] == '+')
		return imap_fail(p, "unexpected continuation request", line, len);
	if (p->phase == IMAP_GREETING)
		return imap_fail(p, "malformed greeting", line, len);

	/* Tagged: TAG SP (OK / NO / BAD) [SP resp-text] */
	size_t tl = strlen(p->tag);

	if (len <= tl || memcmp(line, p->tag, tl) != 0 || line[tl] != ' ') {
		size_t w = 0;

		while (w < len && is_tag_char((unsigned char)line[w]))
			w++;
		if (w > 0 && w < len && line[w] == ' ')
			return imap_fail(p, "unexpected tag", line, len);
		return imap_fail(p, "malformed response", line, len);
	}
	s = line + tl + 1;
	n = len - tl - 1;
	if (word_is(s, n, "OK"))
		p->status = PROTO_IMAP_OK;
	else if (word_is(s, n, "NO"))
		p->status = PROTO_IMAP_NO;
	else if (word_is(s, n, "BAD"))
		p->status = PROTO_IMAP_BAD;
	else
		return imap_fail(p, "malformed tagged response", line, len);
	if (p->status == PROTO_IMAP_OK && n > 3)
		imap_resp_text(p, s + 3, n - 3);
	proto_printable(p->text, sizeof(p->text), line, len);
	p->phase = IMAP_DONE;
	return PROTO_COMPLETE;
}
