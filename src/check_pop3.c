/*
 * check_pop3.c -- pop3:// and pop3s://: the "+OK" greeting, CAPA, STLS
 * when offered on a plain connection, QUIT.
 *
 * A server without CAPA (-ERR) is still up: RFC 2449 made CAPA optional.
 * Lines are bounded at 512 octets with CRLF (RFC 1939, RFC 2449).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check_impl.h"

#define POP3_MAX_LINE 510
#define POP3_MAX_CAPA 128

enum pop3_step { POP3_GREETING, POP3_CAPA, POP3_CAPA_LIST, POP3_STLS };

struct pop3_state {
	enum pop3_step step;
	unsigned ncapa;
	bool stls;
	char greeting[200];
};

static void
pop3_up(struct check *c, struct pop3_state *st)
{
	check_set_phase(c, CHECK_PHASE_QUIT);
	check_finish_polite(c, "QUIT\r\n", CHECK_STATE_UP, "%s%s", st->greeting,
			    strcmp(check_target(c)->scheme, "pop3s") == 0 ? " (TLS)"
			    : check_tls_active(c) ? " (STLS)" : "");
}

static bool
is_status(const char *line, size_t len, const char *st)
{
	size_t n = strlen(st);

	return len >= n && strncasecmp(line, st, n) == 0 && (len == n || line[n] == ' ');
}

static void
pop3_after_capa(struct check *c, struct pop3_state *st)
{
	if (!check_tls_active(c) && st->stls) {
		st->step = POP3_STLS;
		check_set_phase(c, CHECK_PHASE_STARTTLS);
		check_printf(c, "STLS\r\n");
		return;
	}
	pop3_up(c, st);
}

static void
pop3_line(struct check *c, struct pop3_state *st, const char *line, size_t len)
{
	char q[200];

	check_quote(line, len, q, sizeof(q));
	switch (st->step) {
	case POP3_GREETING:
		if (is_status(line, len, "+OK")) {
			snprintf(st->greeting, sizeof(st->greeting), "%s", q);
			st->step = POP3_CAPA;
			check_set_phase(c, CHECK_PHASE_CAPABILITY);
			check_printf(c, "CAPA\r\n");
		} else if (is_status(line, len, "-ERR")) {
			check_finish_polite(c, "QUIT\r\n", CHECK_STATE_DOWN, "%s", q);
		} else {
			check_finish(c, CHECK_STATE_DOWN, "unexpected greeting: \"%s\"", q);
		}
		return;
	case POP3_CAPA:
		if (is_status(line, len, "+OK")) {
			st->step = POP3_CAPA_LIST;
		} else if (is_status(line, len, "-ERR")) {
			pop3_after_capa(c, st);
		} else {
			check_finish(c, CHECK_STATE_DOWN, "unexpected CAPA reply: \"%s\"", q);
		}
		return;
	case POP3_CAPA_LIST:
		if (len == 1 && line[0] == '.') {
			pop3_after_capa(c, st);
			return;
		}
		if (++st->ncapa > POP3_MAX_CAPA) {
			check_finish(c, CHECK_STATE_DOWN, "CAPA list of more than %d lines", POP3_MAX_CAPA);
			return;
		}
		if (len >= 4 && strncasecmp(line, "STLS", 4) == 0 && (len == 4 || line[4] == ' '))
			st->stls = true;
		return;
	case POP3_STLS:
		if (is_status(line, len, "+OK"))
			check_starttls(c);
		else
			check_finish_polite(c, "QUIT\r\n", CHECK_STATE_DOWN, "%s", q);
		return;
	}
}

static void
pop3_read(struct check *c)
{
	struct pop3_state *st = check_priv(c);
	char *line;
	size_t len;

	while (!check_finished(c) && check_get_phase(c) != CHECK_PHASE_TLS &&
	       check_readline(c, &line, &len) == 1)
		pop3_line(c, st, line, len);
}

static void
pop3_tls_done(struct check *c)
{
	pop3_up(c, check_priv(c));
}

const struct check_ops check_pop3_ops = {
	.scheme = "pop3",
	.default_port = 110,
	.flags = CHECK_F_STREAM,
	.max_line = POP3_MAX_LINE,
	.state_size = sizeof(struct pop3_state),
	.read = pop3_read,
	.tls_done = pop3_tls_done,
};

const struct check_ops check_pop3s_ops = {
	.scheme = "pop3s",
	.default_port = 995,
	.flags = CHECK_F_STREAM | CHECK_F_TLS,
	.max_line = POP3_MAX_LINE,
	.state_size = sizeof(struct pop3_state),
	.read = pop3_read,
	.tls_done = pop3_tls_done,
};
