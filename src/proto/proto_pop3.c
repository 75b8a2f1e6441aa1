/*
 * proto_pop3.c -- POP3 status lines and CAPA lists (see proto_pop3.h).
 */
#include "proto_pop3.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mxf.h"

enum { POP3_STATUS_LINE, POP3_LIST, POP3_DONE, POP3_FAILED };

static const struct proto_keyword pop3_caps[] = {
	{ "STLS", PROTO_POP3_CAP_STLS },
	{ "USER", PROTO_POP3_CAP_USER },
	{ "SASL", PROTO_POP3_CAP_SASL },
	{ "TOP", PROTO_POP3_CAP_TOP },
	{ "UIDL", PROTO_POP3_CAP_UIDL },
	{ "PIPELINING", PROTO_POP3_CAP_PIPELINING },
	{ "RESP-CODES", PROTO_POP3_CAP_RESP_CODES },
	{ "AUTH-RESP-CODE", PROTO_POP3_CAP_AUTH_RESP_CODE },
	{ "UTF8", PROTO_POP3_CAP_UTF8 },
	{ "EXPIRE", PROTO_POP3_CAP_EXPIRE },
	{ "LOGIN-DELAY", PROTO_POP3_CAP_LOGIN_DELAY },
	{ "IMPLEMENTATION", PROTO_POP3_CAP_IMPLEMENTATION },
};

void
proto_pop3_init(struct proto_pop3 *p, enum proto_pop3_kind kind)
{
	uint32_t caps = kind == PROTO_POP3_STATUS ? p->caps : 0;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->caps = caps;
	p->state = POP3_STATUS_LINE;
}

static int
pop3_fail(struct proto_pop3 *p, const char *what, const char *line, size_t len)
{
	p->state = POP3_FAILED;
	return proto_fail(p->reason, what, line, len);
}

/* "+OK" or "-ERR" followed by a space or the end. @return 1, 0, or -1. */
static int
pop3_status(const char *s, size_t n)
{
	if (n >= 3 && strncasecmp(s, "+OK", 3) == 0 && (n == 3 || s[3] == ' '))
		return 1;
	if (n >= 4 && strncasecmp(s, "-ERR", 4) == 0 && (n == 4 || s[4] == ' '))
		return 0;
	return -1;
}

static void
pop3_capa_line(struct proto_pop3 *p, const char *s, size_t n)
{
	size_t kw = 0;

	while (kw < n && s[kw] != ' ')
		kw++;
	p->caps |= proto_keyword_bit(pop3_caps, MXF_ARRAY_SIZE(pop3_caps), s, kw);
}

int
proto_pop3_feed_line(struct proto_pop3 *p, const char *line, size_t len)
{
	int st;

	if (p->state == POP3_FAILED)
		return PROTO_ERROR;
	if (p->state == POP3_DONE)
		return pop3_fail(p, "line after the end of the reply", line, proto_strip_eol(line, len));
	if (proto_line_check(p->reason, line, &len, PROTO_POP3_LINE_MAX, "reply") != 0) {
		p->state = POP3_FAILED;
		return PROTO_ERROR;
	}

	if (p->state == POP3_LIST) {
		if (len == 1 && line[0] == '.') {
			p->state = POP3_DONE;
			return PROTO_COMPLETE;
		}
		/* Dot-stuffing: a line starting with '.' carries one more. */
		if (len > 0 && line[0] == '.')
			line++, len--;
		if (++p->ncapa > PROTO_POP3_CAPA_LINES_MAX)
			return pop3_fail(p, "too many CAPA lines", NULL, 0);
		pop3_capa_line(p, line, len);
		return PROTO_NEED_MORE;
	}

	st = pop3_status(line, len);
	if (st < 0)
		return pop3_fail(p, p->kind == PROTO_POP3_GREETING ? "malformed greeting"
								   : "malformed status line",
				 line, len);
	p->ok = st == 1;
	proto_printable(p->text, sizeof(p->text), line, len);
	if (p->kind == PROTO_POP3_GREETING && !p->ok)
		return pop3_fail(p, "greeting is not +OK", line, len);
	if (p->kind == PROTO_POP3_CAPA && p->ok) {
		p->state = POP3_LIST;
		return PROTO_NEED_MORE;
	}
	p->state = POP3_DONE;
	return PROTO_COMPLETE;
}
