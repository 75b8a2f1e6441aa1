/*
 * seedconf.c -- read DNS_Failover's config.cfg into the common model.
 *
 * The file is Python configparser INI; libinih reads the same syntax.  Keys
 * are matched case-insensitively, as configparser does.  Keys DNS_Failover
 * does not know are ignored, as it ignores them, so a config.cfg that works
 * with DNS_Failover works here unchanged.  See seedconf.h for the mapping.
 */
#include "seedconf.h"

#include <ctype.h>
#include <stdarg.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_url.h"
#include "config_impl.h"
#include "mxf.h"
#include "value.h"

/*
 * DNS_Failover's own default for [SETTINGS] ttl (its config.cfg ships with
 * ttl = 60): what its records get when the key is not given.  A property of
 * that format, not mxfailover's default TTL (DNS_UPDATE_DEFAULT_TTL).
 */
#define SEEDCONF_DEFAULT_TTL 60

struct seedconf_entry {
	char section[16];
	char key[32];
	char *value;
	int line;
};

struct seedconf_parse {
	const char *file;
	struct config_errors *errs;
	const char *text;
	size_t pos, len;
	int lineno;
	char section[16];
	struct {
		char name[16];
		int line;
	} sections[16];
	size_t nsections;
	struct seedconf_entry *v;
	size_t n;
	int oom;
};

/* One physical line per call; counts lines and notes section headers. */
static char *
seedconf_reader(char *str, int num, void *stream)
{
	struct seedconf_parse *p = stream;
	const char *line;
	size_t l;

	if (num < 8 || (line = config_text_line(p->text, p->len, &p->pos, &l)) == NULL)
		return NULL;
	p->lineno++;
	if (l > (size_t)num - 3) {
		/* A comment may be long; a setting may not. */
		if (line[0] != '#' && line[0] != ';')
			config_errors_add(p->errs, p->file, p->lineno, "line longer than %d characters",
					  num - 3);
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	{
		/* configparser refuses lines that are no INI syntax; so do we, all of them. */
		const char *t = line;

		while (t < line + l && (*t == ' ' || *t == '\t'))
			t++;
		if (t < line + l && t == line && *t != '#' && *t != ';' && *t != '[' &&
		    memchr(t, '=', l) == NULL && memchr(t, ':', l) == NULL) {
			config_errors_add(p->errs, p->file, p->lineno,
					  "expected 'key = value', a [section] or a comment");
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
	}
	if (l > 1 && line[0] == '[') {
		const char *close = memchr(line, ']', l);

		if (close != NULL && (size_t)(close - line - 1) < sizeof(p->section)) {
			memcpy(p->section, line + 1, (size_t)(close - line - 1));
			p->section[close - line - 1] = '\0';
			if (p->nsections < MXF_ARRAY_SIZE(p->sections)) {
				snprintf(p->sections[p->nsections].name, sizeof(p->sections[0].name), "%s",
					 p->section);
				p->sections[p->nsections].line = p->lineno;
				p->nsections++;
			}
		}
	}
	memcpy(str, line, l);
	str[l] = '\n';
	str[l + 1] = '\0';
	return str;
}

static int
seedconf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct seedconf_parse *p = user;
	struct seedconf_entry *v, *e;
	size_t i;

	if (strlen(section) >= sizeof(v->section) || strlen(name) >= sizeof(v->key))
		return 1; /* not one of DNS_Failover's keys: ignored, as it does */
	for (i = 0; i < p->n; i++) {
		if (strcmp(p->v[i].section, section) == 0 && strcasecmp(p->v[i].key, name) == 0) {
			/* configparser refuses duplicates too (strict mode). */
			config_errors_add(p->errs, p->file, p->lineno,
					  "duplicate key '%s' in [%s] (first set at line %d)", name, section,
					  p->v[i].line);
			return 1;
		}
	}
	v = realloc(p->v, (p->n + 1) * sizeof(*v));
	if (v == NULL) {
		p->oom = 1;
		return 0;
	}
	p->v = v;
	e = &v[p->n];
	snprintf(e->section, sizeof(e->section), "%s", section);
	for (i = 0; name[i] != '\0'; i++)
		e->key[i] = (char)tolower((unsigned char)name[i]);
	e->key[i] = '\0';
	e->value = strdup(value);
	e->line = p->lineno;
	if (e->value == NULL) {
		p->oom = 1;
		return 0;
	}
	p->n++;
	return 1;
}

static int
seedconf_section_line(const struct seedconf_parse *p, const char *section)
{
	for (size_t i = 0; i < p->nsections; i++)
		if (strcmp(p->sections[i].name, section) == 0)
			return p->sections[i].line;
	return -1;
}

/*
 * The value of a key DNS_Failover requires; a missing key or section is
 * reported once.  @line receives the line of the value.
 */
static const char *
seedconf_get(struct seedconf_parse *p, const char *section, const char *key, int required,
	     int *line)
{
	int sl;

	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->v[i].section, section) == 0 && strcmp(p->v[i].key, key) == 0) {
			if (line != NULL)
				*line = p->v[i].line;
			if (p->v[i].value[0] == '\0' && required) {
				config_errors_add(p->errs, p->file, p->v[i].line, "[%s] %s has no value",
						  section, key);
				return NULL;
			}
			return p->v[i].value;
		}
	}
	if (!required)
		return NULL;
	sl = seedconf_section_line(p, section);
	if (sl < 0)
		return NULL; /* the missing section is reported once, elsewhere */
	config_errors_add(p->errs, p->file, sl, "[%s] has no key '%s', which DNS_Failover's config.cfg needs",
			  section, key);
	return NULL;
}

static int
seedconf_port(struct seedconf_parse *p, const char *section, const char *key, int required,
	      unsigned long def, uint16_t *out)
{
	unsigned long v = def;
	int line = 0;
	const char *s = seedconf_get(p, section, key, required, &line);

	if (s == NULL)
		return required ? -1 : (*out = (uint16_t)def, 0);
	if (value_parse_uint(s, 1, 65535, &v) != 0) {
		config_errors_add(p->errs, p->file, line, "[%s] %s: '%s' is not a port (1-65535)", section,
				  key, s);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static char *
seedconf_name(struct seedconf_parse *p, const char *section, const char *key)
{
	int line = 0;
	const char *s = seedconf_get(p, section, key, 1, &line);
	char *n;

	if (s == NULL)
		return NULL;
	n = value_normalize_name(s);
	if (n == NULL)
		config_errors_add(p->errs, p->file, line, "[%s] %s: '%s' is not a domain name", section,
				  key, s);
	return n;
}

struct seedconf_ports {
	uint16_t smtp, imaps, https, mysql, ssh[2];
};

/* The place of each SSH check in the list seedconf_server makes. */
enum {
	SEEDCONF_CHECK_SOCKET = 4, /* after the four TCP connects */
	SEEDCONF_CHECK_DISK,
	SEEDCONF_CHECK_FSCK,
};

static int
seedconf_server(struct config *cfg, size_t i, const char *id, const char *addr, char *name,
		const struct seedconf_ports *pt, const char *user, const char *partition,
		unsigned long limit)
{
	struct config_server *s = &cfg->servers[i];
	char host[64];
	int e = 0;

	memset(s, 0, sizeof(*s));
	s->id = strdup(id);
	s->address = strdup(addr);
	s->name = name;
	s->line = 0;
	if (s->id == NULL || s->address == NULL)
		return MXF_ENOMEM;
	snprintf(host, sizeof(host), value_is_ip(addr) == 6 ? "[%s]" : "%s", addr);
	/* DNS_Failover's checks: TCP connects to four ports, three over SSH
	 * (in the order of SEEDCONF_CHECK_*, which seedconf_check_ssh reads). */
	e = e ? e : config_strlist_add(&s->checks, &s->nchecks, config_fmt("tcp://%s:%u", host, pt->smtp));
	e = e ? e : config_strlist_add(&s->checks, &s->nchecks, config_fmt("tcp://%s:%u", host, pt->imaps));
	e = e ? e : config_strlist_add(&s->checks, &s->nchecks, config_fmt("tcp://%s:%u", host, pt->https));
	e = e ? e : config_strlist_add(&s->checks, &s->nchecks, config_fmt("tcp://%s:%u", host, pt->mysql));
	e = e ? e : config_strlist_add(&s->checks, &s->nchecks,
				  config_fmt("ssh-socket://%s@%s:%u%s", user, host, pt->ssh[i],
					       SEEDCONF_MYSQL_SOCKET));
	e = e ? e : config_strlist_add(&s->checks, &s->nchecks,
				  config_fmt("ssh-disk://%s@%s:%u%s%s?limit=%lu", user, host,
					       pt->ssh[i], partition[0] == '/' ? "" : "/", partition,
					       limit));
	e = e ? e : config_strlist_add(&s->checks, &s->nchecks,
				  config_fmt("ssh-fsck://%s@%s:%u/?script=%s", user, host, pt->ssh[i],
					       SEEDCONF_FSCK_SCRIPT));
	return e;
}

/*
 * One generated ssh check URL of @s (index @c of seedconf_server's list),
 * validated by the parser every native check URL goes through.
 * @return 0 with @u filled (the caller frees it), MXF_EINVAL with the
 *         parser's reason in @err, MXF_ENOMEM.
 */
static int
seedconf_parse_check(const struct config_server *s, size_t c, struct check_url *u, char *err,
		     size_t errlen)
{
	if (c >= s->nchecks) {
		memset(u, 0, sizeof(*u));
		snprintf(err, errlen, "no such check");
		return MXF_EINVAL;
	}
	return check_url_parse(s->checks[c], u, err, errlen);
}

/*
 * The SSH checks seedconf_server made from [SETTINGS] user and partition
 * are validated like the checks of a native [server] (check_url_parse), so
 * a value that would fail every round, or put an option on ssh's command
 * line ("-oProxyCommand=..."), is a configuration error at the line of the
 * key it came from.  A value the parser accepts but that lands elsewhere
 * in the URL ('/' or '?' in a user name, '?' in a partition) is refused
 * too: the check must test what the key says.  Each key is reported once.
 * @return 0 (errors are in p->errs) or MXF_ENOMEM.
 */
static int
seedconf_check_ssh(struct seedconf_parse *p, const struct config *cfg, const char *user,
		   int user_line, const char *partition, int partition_line, unsigned long limit)
{
	bool user_bad = false, partition_bad = false;
	char want_path[512];

	snprintf(want_path, sizeof(want_path), "%s%s", partition[0] == '/' ? "" : "/", partition);
	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct config_server *s = &cfg->servers[i];
		static const size_t user_checks[] = { SEEDCONF_CHECK_SOCKET, SEEDCONF_CHECK_FSCK };
		char err[CHECK_URL_ERR_MAX] = "";
		struct check_url u;
		int e;

		for (size_t k = 0; k < MXF_ARRAY_SIZE(user_checks) && !user_bad; k++) {
			e = seedconf_parse_check(s, user_checks[k], &u, err, sizeof(err));
			if (e == 0 && (u.user == NULL || strcmp(u.user, user) != 0)) {
				snprintf(err, sizeof(err), "it does not fit in a check URL as the user");
				e = MXF_EINVAL;
			}
			check_url_free(&u);
			if (e == MXF_ENOMEM)
				return e;
			if (e != 0) {
				config_errors_add(p->errs, p->file, user_line,
						  "[SETTINGS] user: '%s' cannot go into the ssh checks: %s",
						  user, err);
				user_bad = true;
			}
		}
		if (user_bad || partition_bad)
			continue;
		e = seedconf_parse_check(s, SEEDCONF_CHECK_DISK, &u, err, sizeof(err));
		if (e == 0 && (u.path == NULL || strcmp(u.path, want_path) != 0 || u.limit != limit)) {
			snprintf(err, sizeof(err), "it does not fit in a check URL as the path");
			e = MXF_EINVAL;
		}
		check_url_free(&u);
		if (e == MXF_ENOMEM)
			return e;
		if (e != 0) {
			config_errors_add(p->errs, p->file, partition_line,
					  "[SETTINGS] partition: '%s' cannot go into the ssh-disk check: %s",
					  partition, err);
			partition_bad = true;
		}
	}
	return 0;
}

static int
seedconf_map(struct seedconf_parse *p, struct config *cfg)
{
	static const char *const record_keys[] = {
		"record_mx", "record_smtp", "record_imap", "record_mail", "record_pop3",
	};
	struct seedconf_ports pt = {0};
	const char *ip[2], *ns, *user, *partition, *logfile, *s;
	char *zone[2], *mxname[2];
	unsigned long ttl = SEEDCONF_DEFAULT_TTL, limit = 97;
	struct config_group *g;
	int line = 0, e = 0, user_line = 0, partition_line = 0;
	size_t before = p->errs->n;

	for (size_t i = 0; i < 6; i++) {
		static const char *const need[] = {"ZONES", "MX", "RECORDS", "PORTS", "SETTINGS", "MAIL"};

		if (seedconf_section_line(p, need[i]) < 0)
			config_errors_add(p->errs, p->file, 0,
					  "no [%s] section, which DNS_Failover's config.cfg needs", need[i]);
	}
	zone[0] = seedconf_name(p, "ZONES", "zone1");
	zone[1] = seedconf_name(p, "ZONES", "zone2");
	mxname[0] = seedconf_name(p, "MX", "mx1");
	mxname[1] = seedconf_name(p, "MX", "mx2");
	for (int i = 0; i < 2; i++) {
		char key[8];

		snprintf(key, sizeof(key), "mxip%d", i + 1);
		ip[i] = seedconf_get(p, "MX", key, 1, &line);
		if (ip[i] != NULL && value_is_ip(ip[i]) == 0) {
			config_errors_add(p->errs, p->file, line, "[MX] %s: '%s' is not an IP address", key,
					  ip[i]);
			ip[i] = NULL;
		}
	}
	seedconf_port(p, "PORTS", "smtp", 1, 25, &pt.smtp);
	seedconf_port(p, "PORTS", "imaps", 1, 993, &pt.imaps);
	seedconf_port(p, "PORTS", "https", 1, 443, &pt.https);
	seedconf_port(p, "PORTS", "mysql", 1, 3306, &pt.mysql);
	seedconf_port(p, "PORTS", "port1", 1, 22, &pt.ssh[0]);
	seedconf_port(p, "PORTS", "port2", 1, 22, &pt.ssh[1]);

	if ((s = seedconf_get(p, "SETTINGS", "ttl", 1, &line)) != NULL &&
	    value_parse_uint(s, 0, 2147483647UL, &ttl) != 0)
		config_errors_add(p->errs, p->file, line, "[SETTINGS] ttl: '%s' is not a number of seconds", s);
	ns = seedconf_get(p, "SETTINGS", "ns", 1, &line);
	if (ns != NULL) {
		uint16_t port;

		free(cfg->dns.server);
		cfg->dns.server = NULL;
		if (value_parse_hostport(ns, &cfg->dns.server, &port, 53) != 0)
			config_errors_add(p->errs, p->file, line, "[SETTINGS] ns: '%s' is not an address", ns);
		else
			cfg->dns.port = port;
	}
	logfile = seedconf_get(p, "SETTINGS", "logfile", 1, &line);
	if ((s = seedconf_get(p, "SETTINGS", "space_limit", 1, &line)) != NULL &&
	    value_parse_uint(s, 1, 100, &limit) != 0)
		config_errors_add(p->errs, p->file, line, "[SETTINGS] space_limit: '%s' must be a percentage from 1 to 100",
				  s);
	partition = seedconf_get(p, "SETTINGS", "partition", 1, &partition_line);
	user = seedconf_get(p, "SETTINGS", "user", 1, &user_line);

	/* [MAIL]: DNS_Failover sends through the surviving server by default. */
	{
		struct config_notify *n = &cfg->notify;
		const char *from = seedconf_get(p, "MAIL", "sender_email", 1, &line);
		const char *to = seedconf_get(p, "MAIL", "recipient_email", 1, &line);
		const char *tls, *relay;
		uint16_t mport = 25;
		bool starttls = false;

		seedconf_port(p, "MAIL", "port", 0, 25, &mport);
		tls = seedconf_get(p, "MAIL", "use_tls", 0, &line);
		if (tls != NULL) {
			if (strcasecmp(tls, "true") == 0 || strcasecmp(tls, "yes") == 0 ||
			    strcasecmp(tls, "on") == 0 || strcmp(tls, "1") == 0)
				starttls = true;
			else if (!(strcasecmp(tls, "false") == 0 || strcasecmp(tls, "no") == 0 ||
				   strcasecmp(tls, "off") == 0 || strcmp(tls, "0") == 0))
				config_errors_add(p->errs, p->file, line,
						  "[MAIL] use_tls: '%s' must be true or false", tls);
		}
		if (from != NULL && (n->mail_from = strdup(from)) == NULL)
			e = MXF_ENOMEM;
		if (to != NULL && (n->mail_to = strdup(to)) == NULL)
			e = MXF_ENOMEM;
		if ((s = seedconf_get(p, "MAIL", "username", 0, NULL)) != NULL && *s != '\0' &&
		    (n->smtp_user = strdup(s)) == NULL)
			e = MXF_ENOMEM;
		if ((s = seedconf_get(p, "MAIL", "password", 0, NULL)) != NULL && *s != '\0' &&
		    (n->smtp_password = strdup(s)) == NULL)
			e = MXF_ENOMEM;
		relay = seedconf_get(p, "MAIL", "mx_server", 0, NULL);
		if (relay != NULL && *relay != '\0') {
			n->smtp_url = config_fmt("%s://%s%s%s:%u", "smtp",
						   value_is_ip(relay) == 6 ? "[" : "", relay,
						   value_is_ip(relay) == 6 ? "]" : "", mport);
			if (n->smtp_url == NULL)
				e = MXF_ENOMEM;
		} else {
			n->via_active = true;
		}
		n->via_active_port = mport;
		n->via_active_starttls = starttls;
	}
	if (e != 0)
		goto out;

	if (p->errs->n != before)
		goto out;

	/* Everything needed is there and valid: build the model. */
	cfg->general.fall = 1;
	cfg->general.rise = 1;
	cfg->general.interval_ms = 60000;
	cfg->dns.ttl = (int64_t)ttl;
	cfg->dnsfailover_logfile = strdup(logfile);
	free(cfg->general.log);
	cfg->general.log = strdup(logfile[0] == '\0' ? "stderr" : logfile);
	cfg->servers = calloc(2, sizeof(*cfg->servers));
	cfg->groups = calloc(1, sizeof(*cfg->groups));
	if (cfg->dnsfailover_logfile == NULL || cfg->general.log == NULL || cfg->servers == NULL ||
	    cfg->groups == NULL) {
		e = MXF_ENOMEM;
		goto out;
	}
	cfg->nservers = 2;
	for (size_t i = 0; i < 2 && e == 0; i++) {
		e = seedconf_server(cfg, i, i == 0 ? "mx1" : "mx2", ip[i], mxname[i], &pt, user,
				    partition, limit);
		mxname[i] = NULL;
	}
	if (e != 0)
		goto out;
	e = seedconf_check_ssh(p, cfg, user, user_line, partition, partition_line, limit);
	if (e != 0)
		goto out;
	cfg->ngroups = 1;
	g = &cfg->groups[0];
	g->id = strdup("mail");
	g->servers = calloc(2, sizeof(*g->servers));
	if (g->id == NULL || g->servers == NULL) {
		e = MXF_ENOMEM;
		goto out;
	}
	g->servers[0] = 0;
	g->servers[1] = 1;
	g->nservers = 2;
	g->type = CONFIG_RTYPE_CNAME;
	g->failback = CONFIG_FAILBACK_AUTO;
	g->hold_down_ms = 0;
	g->etrn = false;
	for (size_t i = 0; i < 2 && e == 0; i++) {
		e = config_strlist_add(&g->zones, &g->nzones, zone[i]);
		zone[i] = NULL;
	}
	/* DNS_Failover switches every record of zone1 and those of zone2 that
	 * exist: one missing from zone1 is an error to report, not skipped. */
	if (e == 0 && (g->zone_records_required = calloc(g->nzones, sizeof(bool))) == NULL)
		e = MXF_ENOMEM;
	if (e == 0)
		g->zone_records_required[0] = true;
	for (size_t i = 0; i < MXF_ARRAY_SIZE(record_keys) && e == 0; i++) {
		const char *r = seedconf_get(p, "RECORDS", record_keys[i], 1, &line);
		char *n = r != NULL ? value_normalize_name(r) : NULL;

		if (n == NULL) {
			config_errors_add(p->errs, p->file, line, "[RECORDS] %s: '%s' is not a valid name",
					  record_keys[i], r != NULL ? r : "");
			continue;
		}
		n[strlen(n) - 1] = '\0';
		for (size_t j = 0; j < g->nrecords; j++) {
			if (strcmp(g->records[j], n) == 0) {
				free(n);
				n = NULL;
				break;
			}
		}
		if (n != NULL)
			e = config_strlist_add(&g->records, &g->nrecords, n);
	}
out:
	for (int i = 0; i < 2; i++) {
		free(zone[i]);
		free(mxname[i]);
	}
	return e;
}

static const char *const dnsfailover_sections[] = {
	"ZONES", "MX", "RECORDS", "PORTS", "SETTINGS", "MAIL",
};

bool
seedconf_is_section(const char *name)
{
	for (size_t i = 0; i < MXF_ARRAY_SIZE(dnsfailover_sections); i++)
		if (strcmp(name, dnsfailover_sections[i]) == 0)
			return true;
	return false;
}

bool
seedconf_detect(const char *text, size_t len)
{
	size_t pos = 0;
	bool seed = false, native = false;

	while (pos < len) {
		const char *line = text + pos, *eol = memchr(line, '\n', len - pos);
		size_t l = eol != NULL ? (size_t)(eol - line) : len - pos;
		const char *close;

		pos += l + 1;
		if (l > 2 && line[0] == '[' && (close = memchr(line, ']', l)) != NULL) {
			char name[64];
			size_t nl = (size_t)(close - line - 1);

			if (nl >= sizeof(name))
				continue;
			memcpy(name, line + 1, nl);
			name[nl] = '\0';
			if (seedconf_is_section(name))
				seed = true;
			else
				native = true;
		}
	}
	return seed && !native;
}

int
seedconf_load(const char *name, const char *text, size_t len, struct config *cfg,
	      struct config_errors *errs)
{
	struct seedconf_parse p = {0};
	int e;

	p.file = name;
	p.errs = errs;
	p.text = text;
	p.len = len;
	ini_parse_stream(seedconf_reader, &p, seedconf_handler, &p);
	e = p.oom ? MXF_ENOMEM : seedconf_map(&p, cfg);
	for (size_t i = 0; i < p.n; i++) {
		if (strcmp(p.v[i].key, "password") == 0)
			explicit_bzero(p.v[i].value, strlen(p.v[i].value));
		free(p.v[i].value);
	}
	free(p.v);
	return e;
}
