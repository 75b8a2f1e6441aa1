/*
 * config_ini.c -- the native INI reader.
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
 * Every error is collected as FILE:LINE: message; reading never stops at
 * the first one.  What a key means is config.c's (config_key).
 */
#include <ctype.h>
#include <ini.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "mxf.h"
#include "seedconf.h"
#include "suggest.h"

/* libinih's line buffer is 200 bytes: room for 197 characters. */
#define CONFIG_INI_LINE 197

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
	const char *line;
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
	line = config_text_line(p->text, p->len, &p->pos, &l);
	if (line == NULL)
		return NULL;
	p->lineno++;

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

static struct config_server *
config_add_server(struct config_parse *p, const char *id, int line)
{
	struct config *cfg = p->cfg;
	struct config_server *v;
	int *cl;
	bool *ag;

	if ((v = config_grow(cfg->servers, cfg->nservers, sizeof(*v))) == NULL)
		return NULL;
	cfg->servers = v;
	if ((cl = config_grow(p->server_checks_line, cfg->nservers, sizeof(*cl))) == NULL)
		return NULL;
	p->server_checks_line = cl;
	if ((ag = config_grow(p->server_address_given, cfg->nservers, sizeof(*ag))) == NULL)
		return NULL;
	p->server_address_given = ag;
	v[cfg->nservers].line = line;
	if ((v[cfg->nservers].id = strdup(id)) == NULL)
		return NULL;
	return &v[cfg->nservers++];
}

static struct config_group *
config_add_group(struct config_parse *p, const char *id, int line)
{
	struct config *cfg = p->cfg;
	struct config_group *v;
	struct config_group_lines *gl;

	if ((v = config_grow(cfg->groups, cfg->ngroups, sizeof(*v))) == NULL)
		return NULL;
	cfg->groups = v;
	if ((gl = config_grow(p->glines, cfg->ngroups, sizeof(*gl))) == NULL)
		return NULL;
	p->glines = gl;
	v[cfg->ngroups].line = line;
	v[cfg->ngroups].type = CONFIG_RTYPE_CNAME;
	v[cfg->ngroups].failback = CONFIG_FAILBACK_AUTO;
	v[cfg->ngroups].hold_down_ms = 5 * 60 * 1000;
	if ((v[cfg->ngroups].id = strdup(id)) == NULL)
		return NULL;
	return &v[cfg->ngroups++];
}

/* Remember that @key (NULL: the section header) of @section was set at @line. */
static void
config_seen_add(struct config_parse *p, const char *section, const char *key, int line)
{
	struct config_seen_key *s = config_grow(p->seen, p->nseen, sizeof(*s));

	if (s == NULL) {
		p->oom = 1;
		return;
	}
	p->seen = s;
	s[p->nseen].section = strdup(section);
	s[p->nseen].key = key != NULL ? strdup(key) : NULL;
	s[p->nseen].line = line;
	if (s[p->nseen].section == NULL || (key != NULL && s[p->nseen].key == NULL))
		p->oom = 1;
	p->nseen++;
}

/* Index of the group with this id, or -1. */
static long
config_group_index(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->ngroups; i++)
		if (strcmp(cfg->groups[i].id, id) == 0)
			return (long)i;
	return -1;
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

/* The first words of the sections there are, for "did you mean". */
static const char *const config_section_words[] = {"general", "dns",   "notify",
						   "server",  "group", "quorum"};

/* The sections without a name, each at most once in a file. */
static const struct {
	const char *name;
	enum config_section_kind kind;
} config_single_sections[] = {
	{"general", SEC_GENERAL},
	{"dns", SEC_DNS},
	{"notify", SEC_NOTIFY},
	{"quorum", SEC_QUORUM},
};

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
	for (size_t k = 0; k < MXF_ARRAY_SIZE(config_single_sections); k++) {
		if (strcmp(section, config_single_sections[k].name) != 0)
			continue;
		for (size_t i = 0; i < p->nseen; i++) {
			if (p->seen[i].key == NULL && strcmp(p->seen[i].section, section) == 0) {
				config_err(p, line, "duplicate section [%s] (first at line %d)", section,
					   p->seen[i].line);
				return;
			}
		}
		p->kind = config_single_sections[k].kind;
		if (p->kind == SEC_QUORUM) {
			p->cfg->quorum.enabled = true;
			p->cfg->quorum.line = line;
		}
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
		bool server = word[1] == 'e';
		long i = server ? config_server_index(p->cfg, rest) : config_group_index(p->cfg, rest);

		if (i >= 0) {
			config_err(p, line, "duplicate section [%s %s] (first at line %d)", word, rest,
				   server ? p->cfg->servers[i].line : p->cfg->groups[i].line);
			return;
		}
		if (server ? config_add_server(p, rest, line) == NULL
			   : config_add_group(p, rest, line) == NULL) {
			p->oom = 1;
			return;
		}
		p->kind = server ? SEC_SERVER : SEC_GROUP;
		p->cur = (long)(server ? p->cfg->nservers : p->cfg->ngroups) - 1;
		goto record;
	}
	if (seedconf_is_section(section))
		config_err(p, line,
			   "[%s] is a DNS_Failover section; a config.cfg must not mix them with mxfailover sections",
			   section);
	else if (n >= 1 && suggest_nearest(word, config_section_words,
					   MXF_ARRAY_SIZE(config_section_words)) != NULL)
		config_err(p, line, "unknown section [%s]; did you mean [%s%s%s]?", section,
			   suggest_nearest(word, config_section_words,
					   MXF_ARRAY_SIZE(config_section_words)),
			   n >= 2 ? " " : "", n >= 2 ? id : "");
	else
		config_err(p, line,
			   "unknown section [%s] (expected [general], [dns], [server NAME], [group "
			   "NAME], [notify] or [quorum])",
			   section);
	return;
record:
	config_seen_add(p, section, NULL, line);
}

/* Duplicate-key detection; returns the line of the first setting or 0. */
static int
config_key_seen(struct config_parse *p, const char *key, int line)
{
	for (size_t i = 0; i < p->nseen; i++)
		if (p->seen[i].key != NULL && strcmp(p->seen[i].section, p->section) == 0 &&
		    strcmp(p->seen[i].key, key) == 0)
			return p->seen[i].line;
	config_seen_add(p, p->section, key, line);
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
		if (!config_key_is_list(p->kind, key)) {
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
	if (*value == '\0' && !config_key_is_list(p->kind, key)) {
		config_err(p, line, "'%s' has no value", key);
		return 1;
	}
	config_key(p, line, key, value);
	return 1;
}

static void
config_parse_free(struct config_parse *p)
{
	for (size_t i = 0; i < p->nseen; i++) {
		free(p->seen[i].section);
		free(p->seen[i].key);
	}
	free(p->seen);
	for (size_t i = 0; p->cfg != NULL && p->glines != NULL && i < p->cfg->ngroups; i++) {
		config_strlist_free(p->glines[i].server_names, p->glines[i].nserver_names);
		tdestroy(p->glines[i].zone_set, config_set_keep);
	}
	free(p->glines);
	free(p->server_checks_line);
	free(p->server_address_given);
}

int
config_ini_load(const char *name, const char *text, size_t len, struct config *cfg,
		struct config_errors *errs)
{
	struct config_parse p = {
		.file = name, .cfg = cfg, .errs = errs, .text = text, .len = len,
		.kind = SEC_NONE, .cur = -1,
	};

	/* libinih reads a line through config_reader, then calls the handler
	 * for it, so the reader's line number and section are the handler's. */
	ini_parse_stream(config_reader, &p, config_handler, &p);
	if (!p.oom)
		config_validate(&p);
	if (!p.oom)
		config_quorum_finish(&p);
	config_parse_free(&p);
	return p.oom ? MXF_ENOMEM : 0;
}
