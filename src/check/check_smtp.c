/*
 * check_smtp.c -- smtp://, submission://, smtps://: the 220 banner, EHLO,
 * STARTTLS when offered (required for submission), EHLO again over TLS, QUIT.
 *
 * A 4xx/5xx banner or EHLO reply is down with the server's own line, so the
 * operator reads "421 4.3.2 Service shutting down" rather than a code.
 * Lines come from the engine's bounded line reader (512 octets with CRLF,
 * RFC 5321 4.5.3.1.5) and are assembled into replies by proto_smtp.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check_impl.h"
#include "proto_smtp.h"

/* proto_smtp counts the CRLF in its limit; our line reader does not. */
#define SMTP_MAX_LINE (PROTO_SMTP_LINE_MAX - 2)

enum smtp_step { SMTP_BANNER, SMTP_EHLO, SMTP_STARTTLS, SMTP_EHLO_TLS };

static const char smtp_bye[] = "QUIT\r\n";

struct smtp_state {
	enum smtp_step step;
	struct proto_smtp_reply r;   /* the reply being gathered */
	char banner[200];
};

static void
smtp_send_ehlo(struct check *c, struct smtp_state *st, enum smtp_step step)
{
	st->step = step;
	check_set_phase(c, CHECK_PHASE_EHLO);
	check_conn_printf(c, "EHLO %s\r\n", check_helo_name(c));
}

static void
smtp_reply(struct check *c, struct smtp_state *st)
{
	int code = st->r.code;
	bool starttls = (st->r.ext & PROTO_SMTP_EXT_STARTTLS) != 0;
	/* The reply described for reasons: on the stack, not kept per check
	 * (10,000 checks at once make every byte of state count). */
	char first[200];

	proto_smtp_reply_describe(&st->r, first, sizeof(first));
	proto_smtp_reply_init(&st->r);
	switch (st->step) {
	case SMTP_BANNER:
		if (code != 220) {
			if (code >= 400 && code < 600)
				check_finish_polite(c, smtp_bye, CHECK_STATE_DOWN, "%s", first);
			else
				check_finish(c, CHECK_STATE_DOWN, "unexpected banner: \"%s\"", first);
			return;
		}
		snprintf(st->banner, sizeof(st->banner), "%s", first);
		smtp_send_ehlo(c, st, SMTP_EHLO);
		return;
	case SMTP_EHLO:
	case SMTP_EHLO_TLS:
		if (code != 250) {
			check_finish_polite(c, smtp_bye, CHECK_STATE_DOWN, "%s", first);
			return;
		}
		if (check_conn_tls_active(c)) {
			check_conn_up(c, smtp_bye, st->banner, " (STARTTLS)");
			return;
		}
		if (starttls) {
			st->step = SMTP_STARTTLS;
			check_set_phase(c, CHECK_PHASE_STARTTLS);
			check_conn_printf(c, "STARTTLS\r\n");
			return;
		}
		if (check_url_tls(check_get_url(c)->scheme) == CHECK_TLS_STARTTLS_REQUIRED) {
			check_finish_polite(c, smtp_bye, CHECK_STATE_DOWN,
					    "STARTTLS not offered (required for submission)");
			return;
		}
		check_conn_up(c, smtp_bye, st->banner, " (STARTTLS)");
		return;
	case SMTP_STARTTLS:
		check_conn_upgrade(c, code == 220, smtp_bye, first);
		return;
	}
}

static void
smtp_line(struct check *c, char *line, size_t len)
{
	struct smtp_state *st = check_priv(c);

	if (check_conn_parsed(c, proto_smtp_feed_line(&st->r, line, len), st->r.reason) ==
	    PROTO_COMPLETE)
		smtp_reply(c, st);
}

static void
smtp_connected(struct check *c)
{
	struct smtp_state *st = check_priv(c);

	st->step = SMTP_BANNER;
	proto_smtp_reply_init(&st->r);
}

static void
smtp_tls_done(struct check *c)
{
	smtp_send_ehlo(c, check_priv(c), SMTP_EHLO_TLS);
}

const struct check_ops check_smtp_ops = {
	.max_line = SMTP_MAX_LINE,
	.state_size = sizeof(struct smtp_state),
	.connected = smtp_connected,
	.line = smtp_line,
	.tls_done = smtp_tls_done,
};
