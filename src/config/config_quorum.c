/*
 * config_quorum.c -- the [quorum] section of the native format: several
 * monitors, each running mxfailover with the same groups, decide together
 * (issue 13).  Each monitor publishes its view as a TXT record at
 * ID._mxfailover.ZONE, signed with the [dns] key.
 *
 * A key is checked as it is read (config_quorum_key); what depends on the
 * whole file is checked once every section is read (config_quorum_finish):
 * id among the monitors, need at most their number, a [dns] key_file to
 * sign the views, and heartbeat and stale against [general] interval,
 * which may come later in the file.  DNS_Failover's config.cfg has no such
 * section: its quorum stays disabled.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_impl.h"
#include "mxf.h"
#include "value.h"

/* What a monitor id must look like, for messages. */
#define CONFIG_QUORUM_LABEL_RULE                                                                   \
	"a DNS label: 1 to 63 letters, digits and '-', not starting or ending with '-'"

int
config_quorum_label(const char *s, size_t n, char **out)
{
	char *l;

	*out = NULL;
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return MXF_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return MXF_EINVAL;
	l = strndup(s, n);
	if (l == NULL)
		return MXF_ENOMEM;
	for (size_t i = 0; i < n; i++)
		l[i] = (char)tolower((unsigned char)l[i]);
	*out = l;
	return 0;
}

int
config_quorum_id_from_host(const char *host, char **out)
{
	const char *dot = strchr(host, '.');

	return config_quorum_label(host, dot != NULL ? (size_t)(dot - host) : strlen(host), out);
}

/* Add the words of @value to the monitors, each a label listed once. */
static void
config_quorum_monitors(struct config_parse *p, int line, const char *value)
{
	struct config_quorum *q = &p->cfg->quorum;
	char **v = NULL;
	size_t n = 0;
	int e;

	e = config_list_append(&v, &n, value);
	if (e == MXF_ENOMEM)
		p->oom = 1;
	else if (e != 0)
		config_err(p, line, "monitors: too many entries");
	for (size_t i = 0; e == 0 && i < n; i++) {
		char *m = NULL;
		bool dup = false;

		e = config_quorum_label(v[i], strlen(v[i]), &m);
		if (e == MXF_ENOMEM) {
			p->oom = 1;
			break;
		}
		if (e != 0) {
			config_err(p, line, "monitors: '%s' is not %s", v[i],
				   CONFIG_QUORUM_LABEL_RULE);
			p->qlines.monitors_bad = true;
			e = 0;
			continue;
		}
		for (size_t j = 0; j < q->nmonitors && !dup; j++)
			dup = strcmp(q->monitors[j], m) == 0;
		if (dup) {
			config_err(p, line, "monitors: '%s' is listed twice", m);
			p->qlines.monitors_bad = true;
			free(m);
		} else if (q->nmonitors >= QUORUM_MONITORS_MAX) {
			if (!p->qlines.monitors_too_many)
				config_err(p, line, "monitors: more than %d monitors",
					   QUORUM_MONITORS_MAX);
			p->qlines.monitors_too_many = true;
			p->qlines.monitors_bad = true;
			free(m);
		} else if (config_strlist_add(&q->monitors, &q->nmonitors, m) != 0) {
			p->oom = 1;
		}
	}
	config_strlist_free(v, n);
}

void
config_quorum_key(struct config_parse *p, int line, const char *key, const char *value)
{
	struct config_quorum *q = &p->cfg->quorum;
	struct config_quorum_lines *ql = &p->qlines;

	if (strcmp(key, "id") == 0) {
		char *id = NULL;
		int e = config_quorum_label(value, strlen(value), &id);

		ql->id = line;
		if (e == MXF_ENOMEM)
			p->oom = 1;
		else if (e != 0)
			config_err(p, line, "id: '%s' is not %s", value, CONFIG_QUORUM_LABEL_RULE);
		free(q->id);
		q->id = id;
	} else if (strcmp(key, "monitors") == 0) {
		if (ql->monitors == 0)
			ql->monitors = line;
		config_quorum_monitors(p, line, value);
	} else if (strcmp(key, "need") == 0) {
		unsigned long v;

		ql->need = line;
		if (value_parse_uint(value, 1, QUORUM_MONITORS_MAX, &v) != 0) {
			config_err(p, line,
				   "need: '%s' must be a whole number from 1 to the number of "
				   "monitors",
				   value);
			return;
		}
		q->need = (unsigned)v;
		q->line_need = line;
	} else if (strcmp(key, "zone") == 0) {
		char *z = value_normalize_name(value);

		ql->zone = line;
		if (z == NULL) {
			config_err(p, line, "zone: '%s' is not a domain name", value);
			return;
		}
		free(q->zone);
		q->zone = z;
	} else if (strcmp(key, "heartbeat") == 0) {
		ql->heartbeat = line;
		config_set_duration(p, line, key, value, &q->heartbeat_ms, 0);
	} else if (strcmp(key, "stale") == 0) {
		ql->stale = line;
		config_set_duration(p, line, key, value, &q->stale_ms, 0);
	} else {
		config_key_unknown(p, line, key, "[quorum]");
	}
}

/* The monitors as one string ("site-a site-b"), for messages; "" when out
 * of memory. */
static void
config_quorum_list(const struct config_quorum *q, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < q->nmonitors && off < size; i++) {
		int w = snprintf(buf + off, size - off, "%s%s", i > 0 ? " " : "", q->monitors[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* No id was written: this host's name up to its first dot, if that is a
 * label; else say so, and that id must be set. */
static void
config_quorum_default_id(struct config_parse *p)
{
	struct config_quorum *q = &p->cfg->quorum;
	char host[256];
	int e;

	if (gethostname(host, sizeof(host)) != 0) {
		config_err(p, q->line,
			   "[quorum] has no id, and this host's name cannot be read: set id");
		return;
	}
	host[sizeof(host) - 1] = '\0';
	e = config_quorum_id_from_host(host, &q->id);
	if (e == MXF_ENOMEM)
		p->oom = 1;
	else if (e != 0)
		config_err(p, q->line,
			   "[quorum] has no id, and this host's name '%s' up to its first dot is "
			   "not %s: set id",
			   host, CONFIG_QUORUM_LABEL_RULE);
}

/* The monitors, id among them (self), need against their number. */
static void
config_quorum_finish_monitors(struct config_parse *p)
{
	struct config_quorum *q = &p->cfg->quorum;
	const struct config_quorum_lines *ql = &p->qlines;
	char list[QUORUM_MONITORS_MAX * 64 + 1];
	bool found = false;

	if (q->nmonitors == 0) {
		if (ql->monitors == 0)
			config_err(
				p, q->line,
				"[quorum] has no monitors: list every monitor of the deployment");
		else if (!ql->monitors_bad)
			config_err(p, ql->monitors, "[quorum] monitors is empty");
		return;
	}
	config_quorum_list(q, list, sizeof(list));
	for (size_t i = 0; q->id != NULL && i < q->nmonitors && !found; i++) {
		if (strcmp(q->monitors[i], q->id) == 0) {
			q->self = i;
			found = true;
		}
	}
	if (q->id != NULL && !found)
		config_err(p, ql->id != 0 ? ql->id : q->line,
			   "[quorum] id '%s'%s is not one of monitors (%s)", q->id,
			   ql->id != 0 ? "" : " (this host's name; set id)", list);
	if (ql->monitors_bad)
		return; /* need against a list that is not what was meant */
	if (q->line_need == 0)
		q->need = (unsigned)(q->nmonitors / 2 + 1);
	else if (q->need > q->nmonitors)
		config_err(p, q->line_need, "[quorum] need %u is more than the %zu monitor%s (%s)",
			   q->need, q->nmonitors, q->nmonitors == 1 ? "" : "s", list);
}

/* heartbeat and stale, their defaults derived from [general] interval. */
static void
config_quorum_finish_times(struct config_parse *p)
{
	struct config_quorum *q = &p->cfg->quorum;
	const struct config_quorum_lines *ql = &p->qlines;
	uint64_t interval = p->cfg->general.interval_ms;
	char a[VALUE_DURATION_BUF], b[VALUE_DURATION_BUF];

	if (q->heartbeat_ms == 0)
		q->heartbeat_ms = interval <= UINT64_MAX / 3 ? 3 * interval : UINT64_MAX;
	else if (q->heartbeat_ms < interval)
		config_err(p, ql->heartbeat,
			   "[quorum] heartbeat (%s) must not be shorter than [general] interval "
			   "(%s): a view is published once a round at most",
			   value_format_duration(q->heartbeat_ms, a, sizeof(a)),
			   value_format_duration(interval, b, sizeof(b)));
	if (q->stale_ms == 0)
		q->stale_ms = q->heartbeat_ms <= UINT64_MAX / 3 ? 3 * q->heartbeat_ms : UINT64_MAX;
	else if (q->stale_ms <= q->heartbeat_ms)
		config_err(p, ql->stale, "[quorum] stale (%s) must be longer than heartbeat (%s%s)",
			   value_format_duration(q->stale_ms, a, sizeof(a)),
			   value_format_duration(q->heartbeat_ms, b, sizeof(b)),
			   ql->heartbeat != 0 ? "" : ", 3 x interval");
	else if (interval <= UINT64_MAX / 4 && q->heartbeat_ms <= UINT64_MAX / 2 &&
		 q->stale_ms < q->heartbeat_ms + 2 * interval)
		/* A reader samples once a round and a heartbeat lands on a
		 * round: between two views it sees up to heartbeat + 2 rounds. */
		config_err(p, ql->stale,
			   "[quorum] stale (%s) must be at least heartbeat + 2 x interval (%s): "
			   "views are published and read once a round, so a live monitor "
			   "would flap between fresh and stale",
			   value_format_duration(q->stale_ms, a, sizeof(a)),
			   value_format_duration(q->heartbeat_ms + 2 * interval, b, sizeof(b)));
}

void
config_quorum_finish(struct config_parse *p)
{
	struct config_quorum *q = &p->cfg->quorum;
	const struct config_quorum_lines *ql = &p->qlines;

	if (!q->enabled)
		return;
	if (q->id == NULL && ql->id == 0)
		config_quorum_default_id(p);
	config_quorum_finish_monitors(p);
	if (q->zone == NULL && ql->zone == 0)
		config_err(p, q->line,
			   "[quorum] has no zone: the zone where the monitors publish their views");
	if (p->cfg->dns.key_file == NULL && !p->dns_key_file_given)
		config_err(p, q->line,
			   "[quorum] needs a [dns] key_file: the monitors' views are published and "
			   "read signed with it");
	config_quorum_finish_times(p);
}
