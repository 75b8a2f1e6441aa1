/*
 * check_imap.c -- imap:// and imaps://: the "* OK" greeting, CAPABILITY,
 * STARTTLS when offered on a plain connection, LOGOUT.
 *
 * Untagged lines other than the ones we wait for are skipped (servers send
 * extra ones); a tagged NO/BAD or a "* BYE" is down with the server's line.
 * Lines are bounded at 8192 octets, the size RFC 7162 asks clients to
 * accept.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check_impl.h"

#define IMAP_MAX_LINE 8192
#define IMAP_MAX_UNTAGGED 256

enum imap_step { IMAP_GREETING, IMAP_CAPABILITY, IMAP_STARTTLS };

struct imap_state {
	enum imap_step step;
	unsigned untagged;
	bool starttls;
	char greeting[200];
};

static bool
has_word(const char *line, size_t len, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i + wl <= len; i++) {
		if ((i == 0 || line[i - 1] == ' ') && strncasecmp(line + i, word, wl) == 0 &&
		    (i + wl == len || line[i + wl] == ' ' || line[i + wl] == ']'))
			return true;
	}
	return false;
}

static void
imap_up(struct check *c, struct imap_state *st)
{
	check_set_phase(c, CHECK_PHASE_QUIT);
	check_finish_polite(c, "a9 LOGOUT\r\n", CHECK_STATE_UP, "%s%s", st->greeting,
			    strcmp(check_target(c)->scheme, "imaps") == 0 ? " (TLS)"
			    : check_tls_active(c) ? " (STARTTLS)" : "");
}

/* A tagged completion for @tag.  @return 1 OK, 0 not this tag, -1 finished. */
static int
imap_tagged(struct check *c, const char *tag, const char *line, size_t len)
{
	size_t tl = strlen(tag);
	char q[200];

	if (len < tl + 1 || strncmp(line, tag, tl) != 0 || line[tl] != ' ')
		return 0;
	if (len >= tl + 3 && strncasecmp(line + tl + 1, "OK", 2) == 0 &&
	    (len == tl + 3 || line[tl + 3] == ' '))
		return 1;
	check_quote(line, len, q, sizeof(q));
	check_finish_polite(c, "a9 LOGOUT\r\n", CHECK_STATE_DOWN, "%s", q);
	return -1;
}

static void
imap_line(struct check *c, struct imap_state *st, const char *line, size_t len)
{
	char q[200];
	int r;

	check_quote(line, len, q, sizeof(q));
	if (st->step == IMAP_GREETING) {
		if (len >= 4 && (strncasecmp(line, "* OK", 4) == 0) && (len == 4 || line[4] == ' ')) {
			snprintf(st->greeting, sizeof(st->greeting), "%s", q);
			if (has_word(line, len, "STARTTLS"))
				st->starttls = true;
			st->step = IMAP_CAPABILITY;
			check_set_phase(c, CHECK_PHASE_CAPABILITY);
			check_printf(c, "a1 CAPABILITY\r\n");
		} else if (len >= 9 && strncasecmp(line, "* PREAUTH", 9) == 0) {
			snprintf(st->greeting, sizeof(st->greeting), "%s", q);
			st->step = IMAP_CAPABILITY;
			check_set_phase(c, CHECK_PHASE_CAPABILITY);
			check_printf(c, "a1 CAPABILITY\r\n");
		} else if (len >= 5 && strncasecmp(line, "* BYE", 5) == 0) {
			check_finish(c, CHECK_STATE_DOWN, "%s", q);
		} else {
			check_finish(c, CHECK_STATE_DOWN, "unexpected greeting: \"%s\"", q);
		}
		return;
	}
	if (line[0] == '*' || line[0] == '+') {
		if (len >= 5 && strncasecmp(line, "* BYE", 5) == 0) {
			check_finish(c, CHECK_STATE_DOWN, "%s", q);
			return;
		}
		if (len >= 12 && strncasecmp(line, "* CAPABILITY", 12) == 0 &&
		    has_word(line, len, "STARTTLS"))
			st->starttls = true;
		if (++st->untagged > IMAP_MAX_UNTAGGED)
			check_finish(c, CHECK_STATE_DOWN, "more than %d untagged lines", IMAP_MAX_UNTAGGED);
		return;
	}
	if (st->step == IMAP_CAPABILITY) {
		r = imap_tagged(c, "a1", line, len);
		if (r == 0)
			goto unexpected;
		if (r < 0)
			return;
		if (!check_tls_active(c) && st->starttls) {
			st->step = IMAP_STARTTLS;
			check_set_phase(c, CHECK_PHASE_STARTTLS);
			check_printf(c, "a2 STARTTLS\r\n");
			return;
		}
		imap_up(c, st);
		return;
	}
	if (st->step == IMAP_STARTTLS) {
		r = imap_tagged(c, "a2", line, len);
		if (r == 0)
			goto unexpected;
		if (r > 0)
			check_starttls(c);
		return;
	}
unexpected:
	check_finish(c, CHECK_STATE_DOWN, "unexpected response: \"%s\"", q);
}

static void
imap_read(struct check *c)
{
	struct imap_state *st = check_priv(c);
	char *line;
	size_t len;

	while (!check_finished(c) && check_get_phase(c) != CHECK_PHASE_TLS &&
	       check_readline(c, &line, &len) == 1) {
		if (len == 0) {
			check_finish(c, CHECK_STATE_DOWN, "empty line from the server");
			return;
		}
		imap_line(c, st, line, len);
	}
}

static void
imap_tls_done(struct check *c)
{
	imap_up(c, check_priv(c));
}

const struct check_ops check_imap_ops = {
	.scheme = "imap",
	.default_port = 143,
	.flags = CHECK_F_STREAM,
	.max_line = IMAP_MAX_LINE,
	.state_size = sizeof(struct imap_state),
	.read = imap_read,
	.tls_done = imap_tls_done,
};

const struct check_ops check_imaps_ops = {
	.scheme = "imaps",
	.default_port = 993,
	.flags = CHECK_F_STREAM | CHECK_F_TLS,
	.max_line = IMAP_MAX_LINE,
	.state_size = sizeof(struct imap_state),
	.read = imap_read,
	.tls_done = imap_tls_done,
};
