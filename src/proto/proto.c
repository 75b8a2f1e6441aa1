/*
 * proto.c -- helpers shared by the protocol parsers: bounded line finding
 * and printable copies of peer text (see proto.h).
 */
#include "proto.h"

#include "value.h"

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

void
proto_printable(char *dst, size_t dstlen, const char *src, size_t len)
{
	value_utf8_clean(dst, dstlen, src, len);
}

void
proto_reason_quote(char *reason, const char *what, const char *line, size_t len)
{
	char q[PROTO_QUOTE_MAX + 1];

	proto_printable(q, sizeof(q), line, len);
	value_utf8_format(reason, PROTO_REASON_MAX, "%s: %s", what, q);
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
