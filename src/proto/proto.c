/*
 * proto.c -- helpers shared by the protocol parsers: bounded line finding
 * and printable copies of peer text (see proto.h).
 */
#include "proto.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int
proto_line_find(const char *buf, size_t len, size_t max, size_t *linelen, size_t *consumed)
{
	size_t n = len < max ? len : max;
	const char *lf = n > 0 ? memchr(buf, '\n', n) : NULL;

	if (lf == NULL)
		return len >= max ? PROTO_ERROR : PROTO_NEED_MORE;
	*consumed = (size_t)(lf - buf) + 1;
	*linelen = proto_strip_eol(buf, *consumed);
	return PROTO_COMPLETE;
}

size_t
proto_strip_eol(const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

/*
 * The length of the valid UTF-8 sequence at @s (at most @len bytes), or 0
 * when the bytes there are not one (overlong forms, surrogates and code
 * points above U+10FFFF are refused, as JSON encoders refuse them).
 */
static size_t
utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (len < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

void
proto_printable(char *dst, size_t dstlen, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, i = 0;
	size_t cut = 0; /* output length at a character boundary leaving room for "..." */

	if (dstlen == 0)
		return;
	while (i < len) {
		size_t n = 1, want = 1;
		unsigned char c = s[i];

		if (c >= 0x80) {
			n = utf8_seq_len(s + i, len - i);
			if (n == 0) {
				n = 1, c = '?';
			} else if (c == 0xc2 && s[i + 1] <= 0x9f) {
				/* U+0080..U+009F, the C1 controls: CSI (U+009B) moves
				 * a terminal's cursor as ESC [ does.  One '?' each. */
				c = '?';
			} else {
				want = n;
			}
		} else if (c < 0x20 || c == 0x7f) {
			c = '?';
		}
		if (o + want > dstlen - 1) {
			o = cut;
			if (o + 3 <= dstlen - 1) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (want == 1)
			dst[o] = (char)c;
		else
			memcpy(dst + o, s + i, n);
		o += want;
		i += n;
		if (o + 3 <= dstlen - 1)
			cut = o;
	}
	dst[o] = '\0';
}

void
proto_reason_quote(char *reason, const char *what, const char *line, size_t len)
{
	char q[PROTO_QUOTE_MAX + 1];

	proto_printable(q, sizeof(q), line, len);
	snprintf(reason, PROTO_REASON_MAX, "%s: %s", what, q);
}

int
proto_fail(char *reason, const char *what, const char *line, size_t len)
{
	if (line != NULL)
		proto_reason_quote(reason, what, line, len);
	else
		snprintf(reason, PROTO_REASON_MAX, "%s", what);
	return PROTO_ERROR;
}

uint32_t
proto_keyword_bit(const struct proto_keyword *table, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(table[i].name) == len && strncasecmp(s, table[i].name, len) == 0)
			return table[i].bit;
	return 0;
}

int
proto_line_check(char *reason, const char *line, size_t *len, size_t max, const char *in)
{
	char what[64];

	*len = proto_strip_eol(line, *len);
	if (*len > max - 2)
		return proto_fail(reason, "line too long", NULL, 0);
	if (memchr(line, '\0', *len) != NULL) {
		snprintf(what, sizeof(what), "NUL byte in %s", in);
		return proto_fail(reason, what, line, *len);
	}
	return 0;
}
