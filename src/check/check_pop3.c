/*
 * check_pop3.c -- pop3:// and pop3s://: the "+OK" greeting, CAPA, STLS
 * when offered on a plain connection, QUIT.
 *
 * The conversation only: status lines and the CAPA list are parsed by
 * proto_pop3.  A server without CAPA (-ERR) is still up: RFC 2449 made CAPA
 * optional.  A "-ERR" greeting or STLS refusal is down with the server's
 * line and still gets a QUIT; anything malformed is down with the parser's
 * reason.  Lines are bounded by the engine's reader at PROTO_POP3_LINE_MAX
 * with the CRLF.
 */
#include <stdio.h>
#include <string.h>

#include "check_impl.h"
#include "proto_pop3.h"

/* proto_pop3 counts the CRLF in its limit; the engine's reader does not. */
#define POP3_MAX_LINE (PROTO_POP3_LINE_MAX - 2)

enum pop3_step { POP3_GREETING, POP3_CAPA, POP3_STLS };

struct pop3_state {
	enum pop3_step step;
	struct proto_pop3 p;
	char greeting[sizeof(((struct proto_pop3 *)0)->text)];
};

static const char pop3_bye[] = "QUIT\r\n";

static void
pop3_complete(struct check *c, struct pop3_state *st)
{
	switch (st->step) {
	case POP3_GREETING:
		snprintf(st->greeting, sizeof(st->greeting), "%s", st->p.text);
		st->step = POP3_CAPA;
		check_set_phase(c, CHECK_PHASE_CAPABILITY);
		proto_pop3_init(&st->p, PROTO_POP3_CAPA);
		check_conn_printf(c, "CAPA\r\n");
		return;
	case POP3_CAPA:
		/* -ERR to CAPA: no capabilities, so no STLS either. */
		if (!check_conn_tls_active(c) && (st->p.caps & PROTO_POP3_CAP_STLS)) {
			st->step = POP3_STLS;
			check_set_phase(c, CHECK_PHASE_STARTTLS);
			proto_pop3_init(&st->p, PROTO_POP3_STATUS);
			check_conn_printf(c, "STLS\r\n");
			return;
		}
		check_conn_up(c, pop3_bye, st->greeting, " (STLS)");
		return;
	case POP3_STLS:
		check_conn_upgrade(c, st->p.ok, pop3_bye, st->p.text);
		return;
	}
}

static void
pop3_line(struct check *c, char *line, size_t len)
{
	struct pop3_state *st = check_priv(c);
	int r = proto_pop3_feed_line(&st->p, line, len);

	/* A well-formed "-ERR" greeting is a refusal from a server that still
	 * talks POP3: leave politely.  Garbage gets no QUIT, since nothing
	 * there would understand it. */
	if (r == PROTO_ERROR && st->step == POP3_GREETING && st->p.text[0] != '\0' && !st->p.ok) {
		check_finish_polite(c, pop3_bye, CHECK_STATE_DOWN, "%s", st->p.reason);
		return;
	}
	if (check_conn_parsed(c, r, st->p.reason) == PROTO_COMPLETE)
		pop3_complete(c, st);
}

static void
pop3_connected(struct check *c)
{
	struct pop3_state *st = check_priv(c);

	st->step = POP3_GREETING;
	proto_pop3_init(&st->p, PROTO_POP3_GREETING);
}

static void
pop3_tls_done(struct check *c)
{
	struct pop3_state *st = check_priv(c);

	check_conn_up(c, pop3_bye, st->greeting, " (STLS)");
}

const struct check_ops check_pop3_ops = {
	.max_line = POP3_MAX_LINE,
	.state_size = sizeof(struct pop3_state),
	.connected = pop3_connected,
	.line = pop3_line,
	.tls_done = pop3_tls_done,
};
