/*
 * config_queue.c -- the value of [server] queue, ssh://USER@HOST[:PORT]:
 * which account on a backup MX answers `postqueue -j` (through a forced
 * command; see mxfailover.8, "queue").  Pure: it only parses.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mxf.h"
#include "value.h"

/* A user name ssh will pass as one argument: no option, no shell magic. */
static int
config_queue_user_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

int
config_queue_parse(const char *s, struct config_queue **out, char *err, size_t errsize)
{
	const char *at, *hp;
	struct config_queue *q;
	int rc;

	*out = NULL;
	if (strncmp(s, "ssh://", 6) != 0) {
		snprintf(err, errsize, "'%.80s' must be ssh://USER@HOST[:PORT]", s);
		return MXF_EINVAL;
	}
	s += 6;
	at = strchr(s, '@');
	if (at == NULL) {
		snprintf(err, errsize,
			 "ssh://USER@HOST[:PORT] needs the USER whose forced command runs "
			 "postqueue -j");
		return MXF_EINVAL;
	}
	if (!config_queue_user_ok(s, (size_t)(at - s))) {
		snprintf(err, errsize, "bad user name '%.*s' (letters, digits, '.', '_', '-')",
			 (int)((at - s) > 64 ? 64 : (at - s)), s);
		return MXF_EINVAL;
	}
	hp = at + 1;
	/* ssh gets "USER@HOST" after "--", but a host that looks like an
	 * option is never a name anyway. */
	if (hp[0] == '-') {
		snprintf(err, errsize, "'%.80s' is not HOST[:PORT]", hp);
		return MXF_EINVAL;
	}
	if (strpbrk(hp, "/?#@ \t") != NULL) {
		snprintf(err, errsize,
			 "'%.80s': nothing may follow HOST[:PORT] (no path or options)", hp);
		return MXF_EINVAL;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return MXF_ENOMEM;
	rc = value_parse_hostport(hp, &q->host, &q->port, 22);
	if (rc != 0) {
		free(q);
		if (rc == MXF_EINVAL)
			snprintf(err, errsize,
				 "'%.80s' is not HOST[:PORT] ([IPv6]:PORT for IPv6 with a port)",
				 hp);
		return rc;
	}
	q->user = strndup(s, (size_t)(at - s));
	q->url = strdup(s - 6);
	if (q->user == NULL || q->url == NULL) {
		config_queue_free(q);
		return MXF_ENOMEM;
	}
	*out = q;
	return 0;
}

void
config_queue_free(struct config_queue *q)
{
	if (q == NULL)
		return;
	free(q->url);
	free(q->user);
	free(q->host);
	free(q);
}
