/*
 * statusline.c -- the daemon's state in one line (statusline.h).
 *
 * What a glance needs: per group the active server and since when it is
 * active (the last switch), and every server of the group that is down or
 * pinned, with its reason cut short.  Nothing here reads a clock or logs.
 */
#include "statusline.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "failover.h"
#include "health.h"

/* An output buffer that never overflows and remembers that it was cut. */
struct sl_buf {
	char *p;
	size_t size, len;
	bool cut;
};

/* The largest n <= @n bytes of @s that end on a UTF-8 character boundary. */
static size_t
sl_utf8_fit(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static void
sl_add(struct sl_buf *b, const char *fmt, ...)
{
	char tmp[STATUSLINE_MAX];
	va_list ap;
	int n;
	size_t k, room;

	if (b->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	k = (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1;
	room = b->size - 1 - b->len;
	if (k <= room) {
		memcpy(b->p + b->len, tmp, k);
		b->len += k;
		b->p[b->len] = '\0';
		return;
	}
	/* Does not fit: as much as fits with "..." after it. */
	b->cut = true;
	k = room >= 3 ? room - 3 : 0;
	k = sl_utf8_fit(tmp, k);
	memcpy(b->p + b->len, tmp, k);
	b->len += k;
	k = b->size - 1 - b->len < 3 ? b->size - 1 - b->len : 3;
	memcpy(b->p + b->len, "...", k);
	b->len += k;
	b->p[b->len] = '\0';
}

/* @reason on one line and at most STATUSLINE_REASON_MAX bytes, into @out. */
static void
sl_reason(const char *reason, char *out, size_t size)
{
	size_t n = 0, max = STATUSLINE_REASON_MAX < size - 1 ? STATUSLINE_REASON_MAX : size - 1;

	for (const char *s = reason; *s != '\0' && n < size - 1; s++)
		out[n++] = (*s == '\n' || *s == '\r' || *s == '\t') ? ' ' : *s;
	out[n] = '\0';
	if (n > max) {
		n = sl_utf8_fit(out, max - 3);
		memcpy(out + n, "...", 4);
	}
}

/* "12:01" for a time of the same local day as @now_ms, else "2026-12-01 12:01". */
static void
sl_when(uint64_t at_ms, uint64_t now_ms, char *out, size_t size)
{
	time_t at = (time_t)(at_ms / 1000), now = (time_t)(now_ms / 1000);
	struct tm a, n;

	if (localtime_r(&at, &a) == NULL || localtime_r(&now, &n) == NULL) {
		snprintf(out, size, "?");
		return;
	}
	if (a.tm_year == n.tm_year && a.tm_yday == n.tm_yday)
		strftime(out, size, "%H:%M", &a);
	else
		strftime(out, size, "%Y-%m-%d %H:%M", &a);
}

static void
sl_group(struct sl_buf *b, const struct config *cfg, const struct state *st, size_t g,
	 uint64_t now_ms)
{
	const struct config_group *grp = &cfg->groups[g];
	const struct failover_group_mem *mem =
		st->failover != NULL && g < st->failover->ngroups ? &st->failover->groups[g] : NULL;
	long active = mem != NULL ? mem->active : -1;
	size_t down = 0, shown = 0;
	char when[32], why[STATUSLINE_REASON_MAX + 4];

	for (size_t i = 0; i < grp->nservers; i++)
		if (health_effective(st->health, grp->servers[i], now_ms) == HEALTH_DOWN)
			down++;
	if (grp->nservers > 0 && down == grp->nservers)
		sl_add(b, "%s: EVERY SERVER DOWN", grp->id);
	else if (active < 0 || (size_t)active >= cfg->nservers)
		sl_add(b, "%s: active not known yet", grp->id);
	else if (mem->last_switch_ms != 0) {
		sl_when(mem->last_switch_ms, now_ms, when, sizeof(when));
		sl_add(b, "%s: active %s since %s", grp->id, cfg->servers[active].id, when);
	} else
		sl_add(b, "%s: active %s", grp->id, cfg->servers[active].id);
	for (size_t i = 0; i < grp->nservers; i++) {
		size_t s = grp->servers[i];
		const struct health_server *hs = &st->health->servers[s];
		enum health_pin pin = health_pinned(st->health, s, now_ms);
		const char *what;

		if (pin == HEALTH_PIN_DOWN)
			what = "pinned down";
		else if (pin == HEALTH_PIN_UP)
			what = "pinned up";
		else if (hs->state == HEALTH_DOWN)
			what = "down";
		else
			continue;
		sl_add(b, "%s%s %s", shown++ == 0 ? " (" : ", ", cfg->servers[s].id, what);
		if (pin == HEALTH_PIN_NONE && hs->reason[0] != '\0') {
			sl_reason(hs->reason, why, sizeof(why));
			sl_add(b, ": %s", why);
		}
	}
	if (shown > 0)
		sl_add(b, ")");
}

size_t
statusline_format(const struct config *cfg, const struct state *st, uint64_t now_ms, char *buf,
		  size_t size)
{
	struct sl_buf b = {.p = buf, .size = size};

	buf[0] = '\0';
	if (st == NULL || st->health == NULL) {
		sl_add(&b, "starting");
		return b.len;
	}
	if (st->failover != NULL && st->failover->isolated)
		sl_add(&b, "ISOLATED (every witness failed, no DNS changes): ");
	for (size_t g = 0; g < cfg->ngroups; g++) {
		if (g > 0)
			sl_add(&b, "; ");
		sl_group(&b, cfg, st, g, now_ms);
	}
	if (cfg->ngroups == 0)
		sl_add(&b, "no groups");
	return b.len;
}
