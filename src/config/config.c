/*
 * config.c -- load and validate the native INI configuration.
 *
 * libinih does the INI syntax (sections, key = value, comments, indented
 * continuation lines).  We feed it through our own line reader so that
 *   - every handler call knows its line number (Debian's libinih is built
 *     without INI_HANDLER_LINENO),
 *   - section headers are seen even when the section has no keys (empty
 *     and duplicate sections are errors),
 *   - lines that are not INI syntax are all reported, not only the first,
 *   - lines longer than libinih's fixed 200-byte buffer are either split at
 *     white space into continuation lines (list values) or reported.
 * Every error is collected as FILE:LINE: message; loading never stops at the
 * first one.  DNS_Failover's config.cfg is recognised by its section names
 * and handed to seedconf.c, which maps it onto the same model.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_url.h"
#include "mxf.h"
#include "seedconf.h"

#define CONFIG_MAX_FILE (1024 * 1024)
/* libinih's line buffer is 200 bytes: room for 197 characters. */
#define CONFIG_INI_LINE 197
#define CONFIG_MAX_LIST 4096

/* ---- error list --------------------------------------------------------- */

int
config_errors_add(struct config_errors *errs, const char *file, int line, const char *fmt, ...)
{
	struct config_error *v;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return MXF_ENOMEM;
	v = realloc(errs->v, (errs->n + 1) * sizeof(*v));
	if (v == NULL) {
		free(msg);
		return MXF_ENOMEM;
	}
	errs->v = v;
	v[errs->n].file = strdup(file != NULL ? file : "-");
	v[errs->n].line = line;
	v[errs->n].msg = msg;
	errs->n++;
	return 0;
}

void
config_errors_free(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		free(errs->v[i].file);
		free(errs->v[i].msg);
	}
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

/* ---- record types ----------------------------------------------------- */

static const char *const config_rtype_names[] = {
	[CONFIG_RTYPE_CNAME] = "CNAME",
	[CONFIG_RTYPE_A] = "A",
	[CONFIG_RTYPE_AAAA] = "AAAA",
	[CONFIG_RTYPE_MX] = "MX",
};

int
config_parse_rtype(const char *s, enum config_rtype *out)
{
	for (size_t i = 0; i < MXF_ARRAY_SIZE(config_rtype_names); i++) {
		if (strcasecmp(s, config_rtype_names[i]) == 0) {
			*out = (enum config_rtype)i;
			return 0;
		}
	}
	return MXF_EINVAL;
}

const char *
config_rtype_name(enum config_rtype t)
{
	if ((size_t)t < MXF_ARRAY_SIZE(config_rtype_names))
		return config_rtype_names[t];
	return "?";
}

/* ---- the parse context ------------------------------------------------- */

enum config_section_kind {
	SEC_NONE, SEC_GENERAL, SEC_DNS, SEC_NOTIFY, SEC_SERVER, SEC_GROUP, SEC_UNKNOWN,
};

/* Lines where keys were set, for errors found after the whole file is read. */
struct config_group_lines {
	int servers, zones, records, type;
	char **server_names;   /* as written; resolved after the whole file */
	size_t nserver_names;
};

struct config_seen_key {
	char *section;
	char *key;
	int line;
};

struct config_parse {
	const char *file;
	struct config *cfg;
	struct config_errors *errs;
	int oom;

	/* reader state */
	const char *text;
	size_t pos, len;
	int lineno;            /* physical line of what the reader last returned */
	const char *pending;   /* rest of an over-long line still to emit */
	size_t pending_len;
	int continuation;      /* the line just returned continues a value */
	char section[256];     /* section of the line just returned */
	int section_line;

	/* handler state */
	enum config_section_kind kind;
	long cur;              /* index of the current server or group */
	struct config_seen_key *seen;
	size_t nseen;
	struct config_group_lines *glines;
	int *server_checks_line;
	int witness_line;
	bool dns_server_given;  /* set, even if to a bad value: no "missing" error */
	bool *server_address_given;
	char last_key[64];
	int last_key_line;
	int has_dnsfailover_sections, has_native_sections;
};

static void
config_err(struct config_parse *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
config_err(struct config_parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (config_errors_add(p->errs, p->file, line, "%s", buf) != 0)
		p->oom = 1;
}

/* Split a list value on white space and commas; appends to *v. */
static int
config_list_append(char ***v, size_t *n, const char *value)
{
	const char *s = value;

	while (*s != '\0') {
		size_t l;
		char **nv;

		while (*s != '\0' && (isspace((unsigned char)*s) || *s == ','))
			s++;
		if (*s == '\0')
			break;
		l = 0;
		while (s[l] != '\0' && !isspace((unsigned char)s[l]) && s[l] != ',')
			l++;
		if (*n >= CONFIG_MAX_LIST)
			return MXF_ETOOBIG;
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (nv == NULL)
			return MXF_ENOMEM;
		*v = nv;
		(*v)[*n] = strndup(s, l);
		if ((*v)[*n] == NULL)
			return MXF_ENOMEM;
		(*n)++;
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
			char **nv;

			while (l > 0 && isspace((unsigned char)s[l - 1]))
				l--;
			if (*n >= CONFIG_MAX_LIST)
				return MXF_ETOOBIG;
			nv = realloc(*v, (*n + 1) * sizeof(**v));
			if (nv == NULL)
				return MXF_ENOMEM;
			*v = nv;
			(*v)[*n] = strndup(s, l);
			if ((*v)[*n] == NULL)
				return MXF_ENOMEM;
			(*n)++;
			return 0;
		}
	}
	return 0;
}

static void
config_strlist_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void config_enter_section(struct config_parse *p, const char *section, int line);

/*
 * The line reader libinih calls.  Returns one line (with '\n') per call in
 * @str of size @num, or NULL at the end.  See the file comment for why.
 */
static char *
config_reader(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	size_t room = (size_t)num - 3, l;
	const char *line, *eol;
	const char *s;

	if (num < 16)
		return NULL;
	if (p->pending != NULL) {
		/* The rest of a long list value: emit it as an indented line. */
		const char *rest = p->pending;
		size_t rlen = p->pending_len, cut = rlen;

		if (rlen + 2 > room) {
			cut = room - 2;
			while (cut > 0 && !isspace((unsigned char)rest[cut]))
				cut--;
			if (cut == 0) {
				config_err(p, p->lineno, "a single value is longer than %d characters",
					   CONFIG_INI_LINE - 10);
				p->pending = NULL;
				str[0] = '\n';
				str[1] = '\0';
				p->continuation = 0;
				return str;
			}
		}
		str[0] = ' ';
		str[1] = ' ';
		memcpy(str + 2, rest, cut);
		str[cut + 2] = '\n';
		str[cut + 3] = '\0';
		if (cut == rlen) {
			p->pending = NULL;
		} else {
			p->pending = rest + cut;
			p->pending_len = rlen - cut;
		}
		p->continuation = 1;
		return str;
	}
	if (p->pos >= p->len)
		return NULL;
	line = p->text + p->pos;
	eol = memchr(line, '\n', p->len - p->pos);
	l = eol != NULL ? (size_t)(eol - line) : p->len - p->pos;
	p->pos += l + (eol != NULL);
	p->lineno++;
	if (l > 0 && line[l - 1] == '\r')
		l--;

	s = line;
	while (s < line + l && isspace((unsigned char)*s))
		s++;
	p->continuation = 0;
	if (s == line + l || *s == '#' || *s == ';') {
		/* Blank or comment: pass on a short form, inih ignores it. */
		str[0] = s == line + l ? '\n' : ';';
		str[1] = s == line + l ? '\0' : '\n';
		str[2] = '\0';
		return str;
	}
	if (s > line) {
		p->continuation = 1;
	} else if (*s == '[') {
		const char *close = memchr(s, ']', l);
		size_t nlen;

		if (close == NULL) {
			config_err(p, p->lineno, "section header without ']'");
			snprintf(p->section, sizeof(p->section), "%s", "\001invalid");
		} else {
			nlen = (size_t)(close - s - 1);
			if (nlen >= sizeof(p->section))
				nlen = sizeof(p->section) - 1;
			memcpy(p->section, s + 1, nlen);
			p->section[nlen] = '\0';
		}
		p->section_line = p->lineno;
		p->last_key[0] = '\0';
		config_enter_section(p, p->section, p->lineno);
		/* Hand inih a clean header so it switches section even if ours was bad. */
		snprintf(str, (size_t)num, "[%s]\n", p->section);
		return str;
	} else {
		const char *eq = memchr(s, '=', l), *co = memchr(s, ':', l);

		if (eq == NULL && co == NULL) {
			config_err(p, p->lineno, "expected 'key = value', a [section] or a comment");
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
	}
	if (l <= room) {
		memcpy(str, line, l);
		str[l] = '\n';
		str[l + 1] = '\0';
		return str;
	}
	/* Too long for libinih: cut at white space, the rest follows indented. */
	{
		size_t cut = room;

		while (cut > 0 && !isspace((unsigned char)line[cut]))
			cut--;
		if (cut == 0 || memchr(line, '=', cut) == NULL) {
			config_err(p, p->lineno, "line longer than %d characters", CONFIG_INI_LINE);
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
		memcpy(str, line, cut);
		str[cut] = '\n';
		str[cut + 1] = '\0';
		p->pending = line + cut;
		p->pending_len = l - cut;
		return str;
	}
}

/* ---- section and key handling --------------------------------------------- */

static const char *const dnsfailover_sections[] = {
	"ZONES", "MX", "RECORDS", "PORTS", "SETTINGS", "MAIL",
};

static int
config_is_dnsfailover_section(const char *name)
{
	for (size_t i = 0; i < MXF_ARRAY_SIZE(dnsfailover_sections); i++)
		if (strcmp(name, dnsfailover_sections[i]) == 0)
			return 1;
	return 0;
}

/*
 * Recognise DNS_Failover's format by its section names: a file with any of
 * them and no native section is a config.cfg.
 */
static int
config_detect_dnsfailover(const char *text, size_t len)
{
	size_t pos = 0;
	int seed = 0, native = 0;

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
			if (config_is_dnsfailover_section(name))
				seed = 1;
			else
				native = 1;
		}
	}
	return seed && !native;
}

static struct config_server *
config_add_server(struct config_parse *p, const char *id, int line)
{
	struct config *cfg = p->cfg;
	struct config_server *v;
	int *cl;

	v = realloc(cfg->servers, (cfg->nservers + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	cfg->servers = v;
	cl = realloc(p->server_checks_line, (cfg->nservers + 1) * sizeof(*cl));
	if (cl == NULL)
		return NULL;
	p->server_checks_line = cl;
	cl[cfg->nservers] = 0;
	{
		bool *ag = realloc(p->server_address_given, (cfg->nservers + 1) * sizeof(*ag));

		if (ag == NULL)
			return NULL;
		p->server_address_given = ag;
		ag[cfg->nservers] = false;
	}
	memset(&v[cfg->nservers], 0, sizeof(*v));
	v[cfg->nservers].id = strdup(id);
	v[cfg->nservers].line = line;
	if (v[cfg->nservers].id == NULL)
		return NULL;
	return &v[cfg->nservers++];
}

static struct config_group *
config_add_group(struct config_parse *p, const char *id, int line)
{
	struct config *cfg = p->cfg;
	struct config_group *v;
	struct config_group_lines *gl;

	v = realloc(cfg->groups, (cfg->ngroups + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	cfg->groups = v;
	gl = realloc(p->glines, (cfg->ngroups + 1) * sizeof(*gl));
	if (gl == NULL)
		return NULL;
	p->glines = gl;
	memset(&gl[cfg->ngroups], 0, sizeof(*gl));
	memset(&v[cfg->ngroups], 0, sizeof(*v));
	v[cfg->ngroups].id = strdup(id);
	v[cfg->ngroups].line = line;
	v[cfg->ngroups].type = CONFIG_RTYPE_CNAME;
	v[cfg->ngroups].failback = CONFIG_FAILBACK_AUTO;
	v[cfg->ngroups].hold_down_ms = 5 * 60 * 1000;
	if (v[cfg->ngroups].id == NULL)
		return NULL;
	return &v[cfg->ngroups++];
}

static int
config_valid_id(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

/* Called when the reader has just passed a new section header. */
static void
config_enter_section(struct config_parse *p, const char *section, int line)
{
	char word[32], id[224];
	int n;

	p->kind = SEC_UNKNOWN;
	p->cur = -1;
	if (strcmp(section, "\001invalid") == 0)
		return;
	if (strcmp(section, "general") == 0 || strcmp(section, "dns") == 0 ||
	    strcmp(section, "notify") == 0) {
		for (size_t i = 0; i < p->nseen; i++) {
			if (p->seen[i].key == NULL && strcmp(p->seen[i].section, section) == 0) {
				config_err(p, line, "duplicate section [%s] (first at line %d)", section,
					   p->seen[i].line);
				return;
			}
		}
		p->kind = section[0] == 'g' ? SEC_GENERAL : section[0] == 'd' ? SEC_DNS : SEC_NOTIFY;
		goto record;
	}
	n = sscanf(section, "%31s %223s", word, id);
	if (n >= 1 && (strcmp(word, "server") == 0 || strcmp(word, "group") == 0)) {
		const char *rest = section + strlen(word);

		while (isspace((unsigned char)*rest))
			rest++;
		if (n < 2 || strchr(rest, ' ') != NULL || !config_valid_id(rest)) {
			config_err(p, line, "[%s] needs one name of letters, digits, '-', '_' or '.', as in [%s mx1]",
				   section, word);
			return;
		}
		if (word[1] == 'e') {
			long i = config_server_index(p->cfg, rest);

			if (i >= 0) {
				config_err(p, line, "duplicate section [server %s] (first at line %d)", rest,
					   p->cfg->servers[i].line);
				return;
			}
			if (config_add_server(p, rest, line) == NULL) {
				p->oom = 1;
				return;
			}
			p->kind = SEC_SERVER;
			p->cur = (long)p->cfg->nservers - 1;
		} else {
			for (size_t i = 0; i < p->cfg->ngroups; i++) {
				if (strcmp(p->cfg->groups[i].id, rest) == 0) {
					config_err(p, line, "duplicate section [group %s] (first at line %d)",
						   rest, p->cfg->groups[i].line);
					return;
				}
			}
			if (config_add_group(p, rest, line) == NULL) {
				p->oom = 1;
				return;
			}
			p->kind = SEC_GROUP;
			p->cur = (long)p->cfg->ngroups - 1;
		}
		goto record;
	}
	if (config_is_dnsfailover_section(section))
		config_err(p, line,
			   "[%s] is a DNS_Failover section; a config.cfg must not mix them with mxfailover sections",
			   section);
	else
		config_err(p, line,
			   "unknown section [%s] (expected [general], [dns], [server NAME], [group NAME] or [notify])",
			   section);
	return;
record:;
	struct config_seen_key *s = realloc(p->seen, (p->nseen + 1) * sizeof(*s));

	if (s == NULL) {
		p->oom = 1;
		return;
	}
	p->seen = s;
	s[p->nseen].section = strdup(section);
	s[p->nseen].key = NULL;
	s[p->nseen].line = line;
	if (s[p->nseen].section == NULL)
		p->oom = 1;
	p->nseen++;
}

/* Duplicate-key detection; returns the line of the first setting or 0. */
static int
config_key_seen(struct config_parse *p, const char *key, int line)
{
	struct config_seen_key *s;

	for (size_t i = 0; i < p->nseen; i++)
		if (p->seen[i].key != NULL && strcmp(p->seen[i].section, p->section) == 0 &&
		    strcmp(p->seen[i].key, key) == 0)
			return p->seen[i].line;
	s = realloc(p->seen, (p->nseen + 1) * sizeof(*s));
	if (s == NULL) {
		p->oom = 1;
		return 0;
	}
	p->seen = s;
	s[p->nseen].section = strdup(p->section);
	s[p->nseen].key = strdup(key);
	s[p->nseen].line = line;
	if (s[p->nseen].section == NULL || s[p->nseen].key == NULL)
		p->oom = 1;
	p->nseen++;
	return 0;
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

static void
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
	} else if (strcmp(key, "timeout") == 0) {
		config_set_duration(p, line, key, value, &g->timeout_ms, 0);
	} else if (strcmp(key, "fall") == 0) {
		config_set_count(p, line, key, value, &g->fall);
	} else if (strcmp(key, "rise") == 0) {
		config_set_count(p, line, key, value, &g->rise);
	} else if (strcmp(key, "state_file") == 0 || strcmp(key, "lock_file") == 0) {
		if (value[0] != '/')
			config_err(p, line, "%s must be an absolute path", key);
		else
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
	} else {
		config_err(p, line, "unknown key '%s' in [general]", key);
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
		if (value[0] != '/') {
			config_err(p, line, "key_file must be an absolute path");
		} else {
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
	} else {
		config_err(p, line, "unknown key '%s' in [dns]", key);
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
	} else {
		config_err(p, line, "unknown key '%s' in [server %s]", key, s->id);
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
			char **nz;

			if (z == NULL) {
				config_err(p, line, "zones: '%s' is not a domain name", v[i]);
				continue;
			}
			for (size_t j = 0; j < g->nzones; j++) {
				if (strcmp(g->zones[j], z) == 0) {
					config_err(p, line, "zones: '%s' is listed twice", v[i]);
					free(z);
					z = NULL;
					break;
				}
			}
			if (z == NULL)
				continue;
			nz = realloc(g->zones, (g->nzones + 1) * sizeof(*nz));
			if (nz == NULL) {
				free(z);
				e = MXF_ENOMEM;
				break;
			}
			g->zones = nz;
			g->zones[g->nzones++] = z;
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
		config_err(p, line, "unknown key '%s' in [group %s]", key, g->id);
	}
	if (e == MXF_ENOMEM)
		p->oom = 1;
	else if (e != 0)
		config_err(p, line, "%s: too many entries", key);
}

static void
config_key_notify(struct config_parse *p, int line, const char *key, const char *value)
{
	struct config_notify *n = &p->cfg->notify;

	if (strcmp(key, "mail_to") == 0 || strcmp(key, "mail_from") == 0) {
		if (strchr(value, '@') == NULL || strchr(value, ' ') != NULL)
			config_err(p, line, "%s: '%s' is not a mail address", key, value);
		else
			config_set_str(p, key[5] == 't' ? &n->mail_to : &n->mail_from, value);
	} else if (strcmp(key, "smtp_url") == 0) {
		if (strncmp(value, "smtp://", 7) != 0 && strncmp(value, "smtps://", 8) != 0)
			config_err(p, line, "smtp_url: '%s' must start with smtp:// or smtps://", value);
		else
			config_set_str(p, &n->smtp_url, value);
	} else if (strcmp(key, "smtp_user") == 0) {
		config_set_str(p, &n->smtp_user, value);
	} else if (strcmp(key, "smtp_password_file") == 0) {
		if (value[0] != '/')
			config_err(p, line, "smtp_password_file must be an absolute path");
		else
			config_set_str(p, &n->smtp_password_file, value);
	} else if (strcmp(key, "webhook") == 0) {
		if (strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0)
			config_err(p, line, "webhook: '%s' must be an http:// or https:// URL", value);
		else
			config_set_str(p, &n->webhook, value);
	} else if (strcmp(key, "exec") == 0) {
		if (value[0] != '/')
			config_err(p, line, "exec must be an absolute path to a program");
		else
			config_set_str(p, &n->exec, value);
	} else if (strcmp(key, "reminder") == 0) {
		config_set_duration(p, line, key, value, &n->reminder_ms, 1);
	} else {
		config_err(p, line, "unknown key '%s' in [notify]", key);
	}
}

/* Keys whose value is a list and may continue on indented lines. */
static int
config_is_list_key(enum config_section_kind kind, const char *key)
{
	if (kind == SEC_GENERAL)
		return strcmp(key, "witness") == 0;
	if (kind == SEC_SERVER)
		return strcmp(key, "checks") == 0;
	if (kind == SEC_GROUP)
		return strcmp(key, "servers") == 0 || strcmp(key, "zones") == 0 ||
		       strcmp(key, "records") == 0;
	return 0;
}

static int
config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_parse *p = user;
	int line = p->lineno;
	char key[64];
	size_t i;
	int first;

	(void)section;
	for (i = 0; name[i] != '\0' && i < sizeof(key) - 1; i++)
		key[i] = (char)tolower((unsigned char)name[i]);
	key[i] = '\0';

	if (p->continuation && strcmp(key, p->last_key) == 0) {
		if (!config_is_list_key(p->kind, key)) {
			config_err(p, line, "'%s' cannot continue on an indented line (only lists can)", key);
			return 1;
		}
	} else {
		if (p->section[0] == '\0') {
			config_err(p, line, "'%s' is outside any section", key);
			return 1;
		}
		first = config_key_seen(p, key, line);
		if (first != 0) {
			config_err(p, line, "duplicate key '%s' (first set at line %d)", key, first);
			return 1;
		}
		snprintf(p->last_key, sizeof(p->last_key), "%s", key);
		p->last_key_line = line;
	}
	if (*value == '\0' && !config_is_list_key(p->kind, key)) {
		config_err(p, line, "'%s' has no value", key);
		return 1;
	}
	switch (p->kind) {
	case SEC_GENERAL:
		config_key_general(p, line, key, value);
		break;
	case SEC_DNS:
		config_key_dns(p, line, key, value);
		break;
	case SEC_NOTIFY:
		config_key_notify(p, line, key, value);
		break;
	case SEC_SERVER:
		config_key_server(p, line, key, value);
		break;
	case SEC_GROUP:
		config_key_group(p, line, key, value);
		break;
	case SEC_NONE:
	case SEC_UNKNOWN:
		break; /* the section itself was reported */
	}
	return 1;
}

/* ---- whole-file validation ------------------------------------------------ */

static void
config_defaults(struct config *cfg)
{
	cfg->general.interval_ms = 10000;
	cfg->general.timeout_ms = 5000;
	cfg->general.fall = 3;
	cfg->general.rise = 3;
	cfg->dns.port = 53;
	cfg->dns.ttl = -1;
}

static int
config_fill_defaults(struct config *cfg)
{
	struct config_general *g = &cfg->general;

	if (g->state_file == NULL && (g->state_file = strdup("/var/lib/mxfailover/state.json")) == NULL)
		return MXF_ENOMEM;
	if (g->lock_file == NULL && asprintf(&g->lock_file, "%s.lock", g->state_file) < 0) {
		g->lock_file = NULL;
		return MXF_ENOMEM;
	}
	if (g->log == NULL && (g->log = strdup("syslog")) == NULL)
		return MXF_ENOMEM;
	if (cfg->dns.timeout_ms == 0)
		cfg->dns.timeout_ms = g->timeout_ms;
	return 0;
}

/*
 * One word of a checks = line (or a witness) as a full check URL, validated
 * by the check URL parser so a typo is a configuration error, not a check
 * that fails at run time.  @address NULL: no short names (witnesses).
 * @name, the server's name or NULL, becomes sni= of a short name that speaks
 * TLS, so the certificate is checked against the name the records point at
 * even though the check connects to an address (check_url_expand).
 */
static int
config_expand_check(const char *word, const char *address, const char *name, char **url,
		    char *err, size_t errlen)
{
	struct check_url u;
	char buf[CHECK_URL_MAX + 1];
	int e;

	*url = NULL;
	if (address == NULL && check_url_is_short_name(word)) {
		snprintf(err, errlen, "a short check name needs a server address; write a full URL");
		return MXF_EINVAL;
	}
	if (check_url_is_short_name(word) || strstr(word, "://") != NULL ||
	    strncmp(word, "exec:", 5) == 0) {
		e = check_url_expand(word, address != NULL ? address : "", name, buf, sizeof(buf));
		if (e == MXF_ETOOBIG) {
			snprintf(err, errlen, "longer than %d characters", CHECK_URL_MAX);
			return MXF_EINVAL;
		}
		if (e != 0) {
			snprintf(err, errlen, "cannot expand it");
			return e;
		}
	} else {
		snprintf(err, errlen,
			 "unknown check (short names: smtp submission smtps imap imaps pop3 pop3s http https mysql; or a check URL)");
		return MXF_EINVAL;
	}
	e = check_url_parse(buf, &u, err, errlen);
	check_url_free(&u);
	if (e != 0)
		return e;
	*url = strdup(buf);
	return *url != NULL ? 0 : MXF_ENOMEM;
}

/* Expand and validate each server's checks now that its address is known. */
static void
config_finish_servers(struct config_parse *p)
{
	struct config *cfg = p->cfg;

	for (size_t i = 0; i < cfg->nservers; i++) {
		struct config_server *s = &cfg->servers[i];
		int cl = p->server_checks_line[i] ? p->server_checks_line[i] : s->line;

		if (s->address == NULL && !p->server_address_given[i])
			config_err(p, s->line, "[server %s] has no address", s->id);
		if (s->nchecks == 0)
			config_err(p, cl, "[server %s] has no checks", s->id);
		for (size_t c = 0; c < s->nchecks; c++) {
			char err[256] = "";
			char *url = NULL;
			int e;

			e = config_expand_check(s->checks[c], s->address, s->name, &url, err,
						sizeof(err));
			if (e == MXF_ENOMEM) {
				p->oom = 1;
				continue;
			}
			if (e != 0) {
				config_err(p, cl, "[server %s] check '%s': %s", s->id, s->checks[c], err);
				continue;
			}
			free(s->checks[c]);
			s->checks[c] = url;
		}
	}
}

static void
config_finish_groups(struct config_parse *p)
{
	struct config *cfg = p->cfg;

	for (size_t gi = 0; gi < cfg->ngroups; gi++) {
		struct config_group *g = &cfg->groups[gi];
		struct config_group_lines *gl = &p->glines[gi];
		size_t n = 0;

		g->servers = calloc(gl->nserver_names + 1, sizeof(*g->servers));
		if (g->servers == NULL) {
			p->oom = 1;
			return;
		}
		for (size_t i = 0; i < gl->nserver_names; i++) {
			const char *name = gl->server_names[i];
			long idx = config_server_index(cfg, name);
			int dup = 0;

			if (idx < 0) {
				config_err(p, gl->servers, "[group %s] names server '%s', which has no [server %s] section",
					   g->id, name, name);
				continue;
			}
			for (size_t j = 0; j < n; j++)
				if (g->servers[j] == (size_t)idx)
					dup = 1;
			if (dup)
				config_err(p, gl->servers, "[group %s] lists server '%s' twice", g->id, name);
			else
				g->servers[n++] = (size_t)idx;
		}
		g->nservers = n;
		if (n == 0 && gl->servers == 0)
			config_err(p, g->line, "[group %s] has no servers", g->id);
		else if (n == 0 && gl->servers != 0)
			config_err(p, gl->servers, "[group %s] has no valid servers", g->id);
		if (g->nzones == 0)
			config_err(p, gl->zones ? gl->zones : g->line, "[group %s] has no zones", g->id);
		if (g->nrecords == 0)
			config_err(p, gl->records ? gl->records : g->line, "[group %s] has no records",
				   g->id);
		if (g->type == CONFIG_RTYPE_CNAME) {
			for (size_t r = 0; r < g->nrecords; r++)
				if (strcmp(g->records[r], "@") == 0)
					config_err(p, gl->records,
						   "[group %s] a CNAME cannot stand at the zone apex (@); use type = MX or A",
						   g->id);
		}
		for (size_t i = 0; i < g->nservers; i++) {
			struct config_server *s = &cfg->servers[g->servers[i]];
			int fam = s->address != NULL ? value_is_ip(s->address) : 0;

			if ((g->type == CONFIG_RTYPE_CNAME || g->type == CONFIG_RTYPE_MX) && s->name == NULL)
				config_err(p, s->line,
					   "[server %s] has no name, which [group %s] (type %s) points records at",
					   s->id, g->id, config_rtype_name(g->type));
			if (g->type == CONFIG_RTYPE_A && fam == 6)
				config_err(p, gl->type ? gl->type : g->line,
					   "[group %s] is type A but server %s has an IPv6 address", g->id,
					   s->id);
			if (g->type == CONFIG_RTYPE_AAAA && fam == 4)
				config_err(p, gl->type ? gl->type : g->line,
					   "[group %s] is type AAAA but server %s has an IPv4 address", g->id,
					   s->id);
		}
	}
}

static void
config_finish(struct config_parse *p)
{
	struct config *cfg = p->cfg;

	if (cfg->dns.server == NULL && !p->dns_server_given)
		config_err(p, 0, "no [dns] server: mxfailover needs the primary that accepts updates");
	if (cfg->nservers == 0)
		config_err(p, 0, "no [server NAME] section");
	if (cfg->ngroups == 0)
		config_err(p, 0, "no [group NAME] section");
	config_finish_servers(p);
	config_finish_groups(p);
	if (cfg->notify.mail_to != NULL && cfg->notify.smtp_url == NULL)
		config_err(p, 0, "[notify] mail_to is set but smtp_url is not");
	for (size_t i = 0; i < cfg->general.nwitness; i++) {
		char err[256] = "";
		char *url = NULL;
		int e = config_expand_check(cfg->general.witness[i], NULL, NULL, &url, err, sizeof(err));

		if (e == MXF_ENOMEM)
			p->oom = 1;
		else if (e != 0)
			config_err(p, p->witness_line, "[general] witness '%s': %s", cfg->general.witness[i], err);
		free(url);
	}
}

static void
config_parse_free(struct config_parse *p)
{
	for (size_t i = 0; i < p->nseen; i++) {
		free(p->seen[i].section);
		free(p->seen[i].key);
	}
	free(p->seen);
	for (size_t i = 0; p->cfg != NULL && p->glines != NULL && i < p->cfg->ngroups; i++)
		config_strlist_free(p->glines[i].server_names, p->glines[i].nserver_names);
	free(p->glines);
	free(p->server_checks_line);
	free(p->server_address_given);
}

static int
config_parse_native(struct config_parse *p)
{
	/* libinih reads a line through config_reader, then calls the handler
	 * for it, so the reader's line number and section are the handler's. */
	return ini_parse_stream(config_reader, p, config_handler, p);
}

static int
config_load_text(const char *name, const char *text, size_t len, struct config **out,
		 struct config_errors *errs)
{
	struct config_parse p = {0};
	struct config *cfg;
	size_t before = errs->n;
	int err;

	*out = NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return MXF_ENOMEM;
	config_defaults(cfg);
	cfg->path = strdup(name);
	if (cfg->path == NULL) {
		free(cfg);
		return MXF_ENOMEM;
	}
	if (memchr(text, '\0', len) != NULL) {
		config_errors_add(errs, name, 0, "file contains a NUL byte: not a text file");
		config_free(cfg);
		return MXF_ECONFIG;
	}
	if (config_detect_dnsfailover(text, len)) {
		cfg->format = CONFIG_FORMAT_DNSFAILOVER;
		err = seedconf_load(name, text, len, cfg, errs);
		if (err == 0 && errs->n == before)
			err = config_fill_defaults(cfg);
		goto done;
	}

	p.file = name;
	p.cfg = cfg;
	p.errs = errs;
	p.text = text;
	p.len = len;
	p.kind = SEC_NONE;
	p.cur = -1;
	config_parse_native(&p);
	if (!p.oom)
		config_finish(&p);
	err = p.oom ? MXF_ENOMEM : 0;
	if (err == 0)
		err = config_fill_defaults(cfg);
	config_parse_free(&p);
done:
	if (err == 0 && errs->n > before)
		err = MXF_ECONFIG;
	if (err != 0) {
		config_free(cfg);
		return err;
	}
	*out = cfg;
	return 0;
}

int
config_load_string(const char *name, const char *text, struct config **out,
		   struct config_errors *errs)
{
	return config_load_text(name, text, strlen(text), out, errs);
}

int
config_load(const char *path, struct config **out, struct config_errors *errs)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	*out = NULL;
	f = fopen(path, "re");
	if (f == NULL) {
		config_errors_add(errs, path, 0, "cannot open: %s", strerror(errno));
		return MXF_EIO;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		config_errors_add(errs, path, 0, "not a regular file");
		fclose(f);
		return MXF_EIO;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		config_errors_add(errs, path, 0, "larger than %d bytes: not a configuration file",
				  CONFIG_MAX_FILE);
		fclose(f);
		return MXF_ECONFIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		fclose(f);
		return MXF_ENOMEM;
	}
	len = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		config_errors_add(errs, path, 0, "read error: %s", strerror(errno));
		fclose(f);
		free(buf);
		return MXF_EIO;
	}
	fclose(f);
	buf[len] = '\0';
	err = config_load_text(path, buf, len, out, errs);
	free(buf);
	return err;
}

/* ---- freeing, lookup, search path ----------------------------------------- */

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->general.state_file);
	free(cfg->general.lock_file);
	free(cfg->general.log);
	config_strlist_free(cfg->general.witness, cfg->general.nwitness);
	free(cfg->general.status_listen);
	free(cfg->dns.server);
	free(cfg->dns.key_file);
	for (size_t i = 0; i < cfg->nservers; i++) {
		free(cfg->servers[i].id);
		free(cfg->servers[i].address);
		free(cfg->servers[i].name);
		config_strlist_free(cfg->servers[i].checks, cfg->servers[i].nchecks);
	}
	free(cfg->servers);
	for (size_t i = 0; i < cfg->ngroups; i++) {
		free(cfg->groups[i].id);
		free(cfg->groups[i].servers);
		config_strlist_free(cfg->groups[i].zones, cfg->groups[i].nzones);
		config_strlist_free(cfg->groups[i].records, cfg->groups[i].nrecords);
	}
	free(cfg->groups);
	free(cfg->notify.mail_to);
	free(cfg->notify.mail_from);
	free(cfg->notify.smtp_url);
	free(cfg->notify.smtp_user);
	free(cfg->notify.smtp_password_file);
	if (cfg->notify.smtp_password != NULL) {
		explicit_bzero(cfg->notify.smtp_password, strlen(cfg->notify.smtp_password));
		free(cfg->notify.smtp_password);
	}
	free(cfg->notify.webhook);
	free(cfg->notify.exec);
	free(cfg->dnsfailover_logfile);
	free(cfg);
}

long
config_server_index(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nservers; i++)
		if (strcmp(cfg->servers[i].id, id) == 0)
			return (long)i;
	return -1;
}

const char *
config_find_path(void)
{
	const char *env;

	env = getenv("MXFAILOVER_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	env = getenv("DNSFAILOVER_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		return CONFIG_DEFAULT_PATH;
	if (access(CONFIG_DNSFAILOVER_PATH, F_OK) == 0)
		return CONFIG_DNSFAILOVER_PATH;
	return CONFIG_DEFAULT_PATH;
}
