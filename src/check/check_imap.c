/*
 * check_imap.c -- imap:// and imaps://: the "* OK" greeting, CAPABILITY,
 * STARTTLS when offered on a plain connection, LOGOUT.
 *
 * The conversation only: every response is parsed by proto_imap, which
 * absorbs the untagged lines servers send before and after the greeting,
 * keeps the latest capability list, and says why a response is wrong.  A
 * tagged NO/BAD is down with the server's line, a "* BYE" greeting or an
 * untagged BYE in the middle is down with that line, anything malformed is
 * down with the parser's reason.  Lines are bounded by the engine's reader
 * at PROTO_IMAP_LINE_MAX with the CRLF (RFC 7162 3.2.1).
 */
#include <stdio.h>
#include <string.h>

#include "check_impl.h"
#include "proto_imap.h"

/* proto_imap counts the CRLF in its limit; the engine's reader does not. */
#define IMAP_MAX_LINE (PROTO_IMAP_LINE_MAX - 2)

enum imap_step { IMAP_GREETING, IMAP_CAPABILITY, IMAP_STARTTLS };

struct imap_state {
	enum imap_step step;
	struct proto_imap p;
	char greeting[sizeof(((struct proto_imap *)0)->text)];
};

static const char imap_bye[] = "a9 LOGOUT\r\n";

/* Send a tagged command and tell the parser which tag to wait for. */
static void
imap_command(struct check *c, struct imap_state *st, enum imap_step step, enum check_phase phase,
	     const char *tag, const char *cmd)
{
	st->step = step;
	check_set_phase(c, phase);
	if (proto_imap_expect_tagged(&st->p, tag) != 0) {
		check_finish(c, CHECK_STATE_DOWN, "internal error: bad IMAP tag '%s'", tag);
		return;
	}
	check_conn_printf(c, "%s %s\r\n", tag, cmd);
}

/* A complete response (the greeting or our command's tagged completion). */
static void
imap_complete(struct check *c, struct imap_state *st)
{
	switch (st->step) {
	case IMAP_GREETING:
		snprintf(st->greeting, sizeof(st->greeting), "%s", st->p.text);
		imap_command(c, st, IMAP_CAPABILITY, CHECK_PHASE_CAPABILITY, "a1", "CAPABILITY");
		return;
	case IMAP_CAPABILITY:
		if (st->p.status != PROTO_IMAP_OK) {
			check_finish_polite(c, imap_bye, CHECK_STATE_DOWN, "%s", st->p.text);
			return;
		}
		if (!check_conn_tls_active(c) && (st->p.caps & PROTO_IMAP_CAP_STARTTLS)) {
			imap_command(c, st, IMAP_STARTTLS, CHECK_PHASE_STARTTLS, "a2", "STARTTLS");
			return;
		}
		check_conn_up(c, imap_bye, st->greeting, " (STARTTLS)");
		return;
	case IMAP_STARTTLS:
		check_conn_upgrade(c, st->p.status == PROTO_IMAP_OK, imap_bye, st->p.text);
		return;
	}
}

static void
imap_line(struct check *c, char *line, size_t len)
{
	struct imap_state *st = check_priv(c);
	int r = check_conn_parsed(c, proto_imap_feed_line(&st->p, line, len), st->p.reason);

	if (r == PROTO_COMPLETE)
		imap_complete(c, st);
	else if (r != PROTO_ERROR && st->p.bye)
		/* The server is closing on us: say so with its own words. */
		check_finish(c, CHECK_STATE_DOWN, "%s", st->p.text);
}

static void
imap_connected(struct check *c)
{
	struct imap_state *st = check_priv(c);

	st->step = IMAP_GREETING;
	proto_imap_init(&st->p);
}

static void
imap_tls_done(struct check *c)
{
	struct imap_state *st = check_priv(c);

	check_conn_up(c, imap_bye, st->greeting, " (STARTTLS)");
}

const struct check_ops check_imap_ops = {
	.max_line = IMAP_MAX_LINE,
	.state_size = sizeof(struct imap_state),
	.connected = imap_connected,
	.line = imap_line,
	.tls_done = imap_tls_done,
};
