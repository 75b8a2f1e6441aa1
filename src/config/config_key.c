/*
 * config_key.c -- what each key of the native format means: its value is
 * checked and stored in the model, a bad one reported at its line.  The
 * INI syntax around it is config_ini.c's.
 */
#include <ctype.h>
#include <search.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "config.h"
#include "config_impl.h"
#include "mxf.h"
#include "suggest.h"
#include "value.h"

/* Append a copy of the @l bytes at @s to the list *@v of *@n words. */
static int
config_list_push(char ***v, size_t *n, const char *s, size_t l)
{
	if (*n >= CONFIG_MAX_LIST)
		return MXF_ETOOBIG;
	return config_strlist_add(v, n, strndup(s, l));
}

/* Split a list value on white space and commas; appends to *v. */
int
config_list_append(char ***v, size_t *n, const char *value)
{
	const char *s = value;

	while (*s != '\0') {
		size_t l;
		int e;

		while (*s != '\0' && (isspace((unsigned char)*s) || *s == ','))
			s++;
		if (*s == '\0')
			break;
		l = 0;
		while (s[l] != '\0' && !isspace((unsigned char)s[l]) && s[l] != ',')
			l++;
		e = config_list_push(v, n, s, l);
		if (e != 0)
			return e;
		s += l;
	}
	return 0;
}

/*
 * As config_list_append, for check URLs: an "exec:" word takes the rest of
 * the line as its arguments ("exec:/usr/lib/nagios/plugins/check_disk -w
 * 10%"), since plugins need them; other URLs contain no spaces.
 */
static int
config_checks_append(char ***v, size_t *n, const char *value)
{
	const char *s = value;

	while (*s != '\0') {
		const char *exec;
		char *head;
		int e;

		while (*s != '\0' && (isspace((unsigned char)*s) || *s == ','))
			s++;
		if (strncmp(s, "exec:", 5) != 0) {
			exec = strstr(s, " exec:");
			if (exec == NULL)
				return config_list_append(v, n, s);
			head = strndup(s, (size_t)(exec - s));
			if (head == NULL)
				return MXF_ENOMEM;
			e = config_list_append(v, n, head);
			free(head);
			if (e != 0)
				return e;
			s = exec + 1;
			continue;
		}
		{
			size_t l = strlen(s);

			while (l > 0 && isspace((unsigned char)s[l - 1]))
				l--;
			return config_list_push(v, n, s, l);
		}
	}
	return 0;
}

/*
 * Every key each kind of section accepts, for "did you mean" on a typo.
 * A key added to a config_key_* handler gets its word here too (the unit
 * test test_key_names_are_accepted checks that each word here is one).
 */
static const char *const config_key_names[][16] = {
	[SEC_GENERAL] = {"interval", "timeout", "fall", "rise", "state_file", "lock_file", "log",
			 "witness", "status_listen", "audit_interval", "fastinter"},
	[SEC_DNS] = {"server", "key_file", "ttl", "timeout", "verify_interval"},
	[SEC_NOTIFY] = {"mail_to", "mail_from", "smtp_url", "smtp_user", "smtp_password_file",
			"webhook", "exec", "reminder"},
	[SEC_SERVER] = {"address", "name", "checks", "queue"},
	[SEC_GROUP] = {"servers", "zones", "records", "type", "failback", "hold_down", "etrn"},
	[SEC_QUORUM] = {"id", "monitors", "need", "zone", "heartbeat", "stale"},
};

const char *const *
config_key_names_of(enum config_section_kind kind, size_t *n)
{
	*n = 0;
	if ((size_t)kind >= MXF_ARRAY_SIZE(config_key_names))
		return NULL;
	while (*n < MXF_ARRAY_SIZE(config_key_names[kind]) && config_key_names[kind][*n] != NULL)
		(*n)++;
	return config_key_names[kind];
}

void
config_key_unknown(struct config_parse *p, int line, const char *key, const char *where)
{
	const char *near = NULL;

	if ((size_t)p->kind < MXF_ARRAY_SIZE(config_key_names))
		near = suggest_nearest(key, config_key_names[p->kind],
				       MXF_ARRAY_SIZE(config_key_names[p->kind]));
	if (near != NULL)
		config_err(p, line, "unknown key '%s' in %s; did you mean '%s'?", key, where, near);
	else
		config_err(p, line, "unknown key '%s' in %s", key, where);
}

static int
config_set_str(struct config_parse *p, char **dst, const char *value)
{
	free(*dst);
	*dst = strdup(value);
	if (*dst == NULL)
		p->oom = 1;
	return 0;
}

/* Why argv_split refused a command line's quoting, for messages. */
static const char *const config_argv_quoting[] = {
	[ARGV_UNTERMINATED] = "a quote is not closed",
	[ARGV_QUOTE_END] = "a quoted word must end at a space",
	[ARGV_QUOTE_MID] = "a quote may only start a word",
};

/*
 * @return whether @value of @key is a program with its arguments, split as
 * the exec notifier splits it (argv_split), so a line it would refuse at
 * start is refused here, at its @line, with the reason.
 */
static bool
config_program_ok(struct config_parse *p, int line, const char *key, const char *value)
{
	enum argv_why why;
	char **argv = NULL;
	bool abs = false;

	argv_split_why(value, CONFIG_NOTIFY_EXEC_ARGS_MAX, &argv, &why);
	if (why == ARGV_OK) {
		abs = argv[0][0] == '/';
		argv_free(argv);
	} else if (why == ARGV_NOMEM) {
		p->oom = 1;
		return false;
	} else if (why == ARGV_TOO_MANY) {
		config_err(p, line, "%s: more than %d words", key, CONFIG_NOTIFY_EXEC_ARGS_MAX);
		return false;
	} else if (why != ARGV_EMPTY) {
		config_err(p, line, "%s: %s, in '%s'", key, config_argv_quoting[why], value);
		return false;
	}
	if (!abs)
		config_err(p, line, "%s must be an absolute path to a program", key);
	return abs;
}

/* What a string value must look like; each rule has its message. */
enum config_str_rule {
	CONFIG_STR_ANY,
	CONFIG_STR_ABS_PATH,
	CONFIG_STR_PROGRAM,
	CONFIG_STR_MAIL,
	CONFIG_STR_SMTP_URL,
	CONFIG_STR_HTTP_URL,
};

/* @return whether @value of @key follows @rule; if not, says why at @line. */
static bool
config_str_ok(struct config_parse *p, int line, const char *key, const char *value,
	      enum config_str_rule rule)
{
	switch (rule) {
	case CONFIG_STR_ANY:
		return true;
	case CONFIG_STR_ABS_PATH:
		if (value[0] == '/')
			return true;
		config_err(p, line, "%s must be an absolute path", key);
		return false;
	case CONFIG_STR_PROGRAM:
		return config_program_ok(p, line, key, value);
	case CONFIG_STR_MAIL:
		if (strchr(value, '@') != NULL && strchr(value, ' ') == NULL)
			return true;
		config_err(p, line, "%s: '%s' is not a mail address", key, value);
		return false;
	case CONFIG_STR_SMTP_URL:
		if (strncmp(value, "smtp://", 7) == 0 || strncmp(value, "smtps://", 8) == 0)
			return true;
		config_err(p, line, "%s: '%s' must start with smtp:// or smtps://", key, value);
		return false;
	case CONFIG_STR_HTTP_URL:
		if (strncmp(value, "https://", 8) == 0 || strncmp(value, "http://", 7) == 0)
			return true;
		config_err(p, line, "%s: '%s' must be an http:// or https:// URL", key, value);
		return false;
	}
	return false;
}

void
config_set_duration(struct config_parse *p, int line, const char *key, const char *value,
		    uint64_t *dst, int allow_zero)
{
	uint64_t ms;

	if (value_parse_duration(value, &ms) != 0) {
		config_err(p, line, "%s: '%s' is not a duration (e.g. 500ms, 10s, 5m, 1h)", key, value);
		return;
	}
	if (ms == 0 && !allow_zero) {
		config_err(p, line, "%s must be greater than zero", key);
		return;
	}
	*dst = ms;
}

static void
config_set_count(struct config_parse *p, int line, const char *key, const char *value,
		 unsigned *dst)
{
	unsigned long v;

	if (value_parse_uint(value, 1, 1000, &v) != 0) {
		config_err(p, line, "%s: '%s' must be a whole number from 1 to 1000", key, value);
		return;
	}
	*dst = (unsigned)v;
}

static void
config_key_general(struct config_parse *p, int line, const char *key, const char *value)
{
	struct config_general *g = &p->cfg->general;

	if (strcmp(key, "interval") == 0) {
		config_set_duration(p, line, key, value, &g->interval_ms, 0);
	} else if (strcmp(key, "fastinter") == 0) {
		uint64_t ms = UINT64_MAX;

		/* Checked against interval once the whole file is read
		 * (config_validate): interval may come later. */
		config_set_duration(p, line, key, value, &ms, 0);
		if (ms != UINT64_MAX && ms < 100)
			config_err(p, line, "fastinter: '%s' must be at least 100ms", value);
		else if (ms != UINT64_MAX && ms != 0) {
			g->fastinter_ms = ms;
			p->fastinter_line = line;
		}
	} else if (strcmp(key, "timeout") == 0) {
		config_set_duration(p, line, key, value, &g->timeout_ms, 0);
	} else if (strcmp(key, "fall") == 0) {
		config_set_count(p, line, key, value, &g->fall);
	} else if (strcmp(key, "rise") == 0) {
		config_set_count(p, line, key, value, &g->rise);
	} else if (strcmp(key, "state_file") == 0 || strcmp(key, "lock_file") == 0) {
		if (config_str_ok(p, line, key, value, CONFIG_STR_ABS_PATH))
			config_set_str(p, key[0] == 's' ? &g->state_file : &g->lock_file, value);
	} else if (strcmp(key, "log") == 0) {
		if (strcmp(value, "syslog") != 0 && strcmp(value, "stderr") != 0 && value[0] != '/')
			config_err(p, line, "log must be syslog, stderr or an absolute path, not '%s'",
				   value);
		else
			config_set_str(p, &g->log, value);
	} else if (strcmp(key, "witness") == 0) {
		int e = config_checks_append(&g->witness, &g->nwitness, value);

		if (p->witness_line == 0)
			p->witness_line = line;

		if (e == MXF_ENOMEM)
			p->oom = 1;
		else if (e != 0)
			config_err(p, line, "too many witnesses");
	} else if (strcmp(key, "status_listen") == 0) {
		char *host = NULL;
		uint16_t port = 0;

		if (value_parse_hostport(value, &host, &port, 0) != 0 || port == 0)
			config_err(p, line, "status_listen: '%s' is not ADDRESS:PORT", value);
		else
			config_set_str(p, &g->status_listen, value);
		free(host);
	} else if (strcmp(key, "audit_interval") == 0) {
		uint64_t ms = UINT64_MAX;

		/* 0 turns the background audit off; below a second it would
		 * audit without pause.  One error per line: a value that is no
		 * duration at all is not also "below a second". */
		config_set_duration(p, line, key, value, &ms, 1);
		if (ms != UINT64_MAX && ms != 0 && ms < 1000)
			config_err(p, line, "audit_interval: '%s' must be 0 (off) or at least 1s",
				   value);
		else if (ms != UINT64_MAX)
			g->audit_interval_ms = ms;
	} else {
		config_key_unknown(p, line, key, "[general]");
	}
}

static void
config_key_dns(struct config_parse *p, int line, const char *key, const char *value)
{
	struct config_dns *d = &p->cfg->dns;

	if (strcmp(key, "server") == 0) {
		p->dns_server_given = true;
		free(d->server);
		d->server = NULL;
		if (value_parse_hostport(value, &d->server, &d->port, 53) != 0)
			config_err(p, line, "server: '%s' is not HOST[:PORT] ([IPv6]:PORT for IPv6 with a port)",
				   value);
	} else if (strcmp(key, "key_file") == 0) {
		p->dns_key_file_given = true;
		if (config_str_ok(p, line, key, value, CONFIG_STR_ABS_PATH)) {
			config_set_str(p, &d->key_file, value);
			d->line_key_file = line;
		}
	} else if (strcmp(key, "ttl") == 0) {
		unsigned long v;

		if (strcmp(value, "keep") == 0)
			d->ttl = -1;
		else if (value_parse_uint(value, 0, 2147483647UL, &v) != 0)
			config_err(p, line, "ttl: '%s' must be seconds from 0 to 2147483647, or keep", value);
		else
			d->ttl = (int64_t)v;
	} else if (strcmp(key, "timeout") == 0) {
		config_set_duration(p, line, key, value, &d->timeout_ms, 0);
	} else if (strcmp(key, "verify_interval") == 0) {
		config_set_duration(p, line, key, value, &d->verify_interval_ms, 0);
	} else {
		config_key_unknown(p, line, key, "[dns]");
	}
}

static void
config_key_server(struct config_parse *p, int line, const char *key, const char *value)
{
	struct config_server *s = &p->cfg->servers[p->cur];

	if (strcmp(key, "address") == 0) {
		p->server_address_given[p->cur] = true;
		if (value_is_ip(value) == 0)
			config_err(p, line, "address: '%s' is not an IPv4 or IPv6 address", value);
		else
			config_set_str(p, &s->address, value);
	} else if (strcmp(key, "name") == 0) {
		char *n = value_normalize_name(value);

		if (n == NULL) {
			config_err(p, line, "name: '%s' is not a domain name", value);
			return;
		}
		free(s->name);
		s->name = n;
	} else if (strcmp(key, "checks") == 0) {
		/* Kept as written; expanded once the address is known. */
		int e = config_checks_append(&s->checks, &s->nchecks, value);

		if (e == MXF_ENOMEM)
			p->oom = 1;
		else if (e != 0)
			config_err(p, line, "too many checks");
		if (p->server_checks_line[p->cur] == 0)
			p->server_checks_line[p->cur] = line;
	} else if (strcmp(key, "queue") == 0) {
		struct config_queue *q = NULL;
		char err[200];
		int e = config_queue_parse(value, &q, err, sizeof(err));

		if (e == MXF_ENOMEM)
			p->oom = 1;
		else if (e != 0)
			config_err(p, line, "queue: %s", err);
		if (q != NULL) {
			q->line = line;
			config_queue_free(s->queue);
			s->queue = q;
		}
	} else {
		char where[96];

		snprintf(where, sizeof(where), "[server %s]", s->id);
		config_key_unknown(p, line, key, where);
	}
}

static void
config_key_group(struct config_parse *p, int line, const char *key, const char *value)
{
	struct config_group *g = &p->cfg->groups[p->cur];
	struct config_group_lines *gl = &p->glines[p->cur];
	int e = 0;

	if (strcmp(key, "servers") == 0) {
		/* Resolved to indices after the whole file is read. */
		e = config_list_append(&gl->server_names, &gl->nserver_names, value);
		if (gl->servers == 0)
			gl->servers = line;
	} else if (strcmp(key, "zones") == 0) {
		char **v = NULL;
		size_t n = 0;

		e = config_list_append(&v, &n, value);
		if (gl->zones == 0)
			gl->zones = line;
		for (size_t i = 0; e == 0 && i < n; i++) {
			char *z = value_normalize_name(v[i]);

			if (z == NULL) {
				config_err(p, line, "zones: '%s' is not a domain name", v[i]);
				continue;
			}
			if (tfind(z, &gl->zone_set, config_set_cmp) != NULL) {
				config_err(p, line, "zones: '%s' is listed twice", v[i]);
				free(z);
				continue;
			}
			e = config_strlist_add(&g->zones, &g->nzones, z);
			if (e == 0 && tsearch(z, &gl->zone_set, config_set_cmp) == NULL)
				e = MXF_ENOMEM;
		}
		config_strlist_free(v, n);
	} else if (strcmp(key, "records") == 0) {
		size_t before = g->nrecords;

		e = config_list_append(&g->records, &g->nrecords, value);
		if (gl->records == 0)
			gl->records = line;
		for (size_t i = before; e == 0 && i < g->nrecords; i++) {
			const char *r = g->records[i];
			char *n;

			if (strcmp(r, "@") == 0)
				continue;
			if (r[strlen(r) - 1] == '.') {
				config_err(p, line, "records: '%s' must be relative to each zone (no trailing dot; @ for the apex)",
					   r);
				continue;
			}
			n = value_normalize_name(r);
			if (n == NULL) {
				config_err(p, line, "records: '%s' is not a valid owner name", r);
				continue;
			}
			n[strlen(n) - 1] = '\0';
			free(g->records[i]);
			g->records[i] = n;
			for (size_t j = 0; j < i; j++)
				if (strcmp(g->records[j], n) == 0)
					config_err(p, line, "records: '%s' is listed twice", n);
		}
	} else if (strcmp(key, "type") == 0) {
		if (config_parse_rtype(value, &g->type) != 0)
			config_err(p, line, "type: '%s' must be CNAME, A, AAAA or MX", value);
		gl->type = line;
	} else if (strcmp(key, "failback") == 0) {
		if (strcmp(value, "auto") == 0)
			g->failback = CONFIG_FAILBACK_AUTO;
		else if (strcmp(value, "manual") == 0)
			g->failback = CONFIG_FAILBACK_MANUAL;
		else
			config_err(p, line, "failback: '%s' must be auto or manual", value);
	} else if (strcmp(key, "hold_down") == 0) {
		config_set_duration(p, line, key, value, &g->hold_down_ms, 1);
	} else if (strcmp(key, "etrn") == 0) {
		if (value_parse_bool(value, &g->etrn) != 0)
			config_err(p, line, "etrn: '%s' must be yes or no", value);
	} else {
		char where[96];

		snprintf(where, sizeof(where), "[group %s]", g->id);
		config_key_unknown(p, line, key, where);
	}
	if (e == MXF_ENOMEM)
		p->oom = 1;
	else if (e != 0)
		config_err(p, line, "%s: too many entries", key);
}

/* The strings of [notify], and what each must look like. */
static const struct {
	const char *key;
	enum config_str_rule rule;
	size_t off;
} config_notify_strs[] = {
	{ "mail_to", CONFIG_STR_MAIL, offsetof(struct config_notify, mail_to) },
	{ "mail_from", CONFIG_STR_MAIL, offsetof(struct config_notify, mail_from) },
	{ "smtp_url", CONFIG_STR_SMTP_URL, offsetof(struct config_notify, smtp_url) },
	{ "smtp_user", CONFIG_STR_ANY, offsetof(struct config_notify, smtp_user) },
	{ "smtp_password_file", CONFIG_STR_ABS_PATH, offsetof(struct config_notify, smtp_password_file) },
	{ "webhook", CONFIG_STR_HTTP_URL, offsetof(struct config_notify, webhook) },
	{ "exec", CONFIG_STR_PROGRAM, offsetof(struct config_notify, exec) },
};

static void
config_key_notify(struct config_parse *p, int line, const char *key, const char *value)
{
	struct config_notify *n = &p->cfg->notify;

	for (size_t i = 0; i < MXF_ARRAY_SIZE(config_notify_strs); i++) {
		if (strcmp(key, config_notify_strs[i].key) != 0)
			continue;
		if (config_str_ok(p, line, key, value, config_notify_strs[i].rule))
			config_set_str(p, (char **)((char *)n + config_notify_strs[i].off), value);
		return;
	}
	if (strcmp(key, "reminder") == 0)
		config_set_duration(p, line, key, value, &n->reminder_ms, 1);
	else
		config_key_unknown(p, line, key, "[notify]");
}

/* Keys whose value is a list and may continue on indented lines. */
bool
config_key_is_list(enum config_section_kind kind, const char *key)
{
	if (kind == SEC_GENERAL)
		return strcmp(key, "witness") == 0;
	if (kind == SEC_SERVER)
		return strcmp(key, "checks") == 0;
	if (kind == SEC_GROUP)
		return strcmp(key, "servers") == 0 || strcmp(key, "zones") == 0 ||
		       strcmp(key, "records") == 0;
	if (kind == SEC_QUORUM)
		return strcmp(key, "monitors") == 0;
	return 0;
}

/* The key handler of each kind of section; NULL where the section itself
 * was refused (and reported), so its keys are skipped. */
static void (*const config_key_fns[])(struct config_parse *p, int line, const char *key,
				      const char *value) = {
	[SEC_GENERAL] = config_key_general,
	[SEC_DNS] = config_key_dns,
	[SEC_NOTIFY] = config_key_notify,
	[SEC_SERVER] = config_key_server,
	[SEC_GROUP] = config_key_group,
	[SEC_QUORUM] = config_quorum_key,
	[SEC_UNKNOWN] = NULL,
};

void
config_key(struct config_parse *p, int line, const char *key, const char *value)
{
	if ((size_t)p->kind < MXF_ARRAY_SIZE(config_key_fns) && config_key_fns[p->kind] != NULL)
		config_key_fns[p->kind](p, line, key, value);
}

