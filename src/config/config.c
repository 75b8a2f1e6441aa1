/*
 * config.c -- the configuration model: the error list, the defaults, the
 * checks made once a whole native file is read, freeing and lookups.
 *
 * config_ini.c reads the native INI syntax and hands every setting to
 * config_key.c, which gives it its meaning in the model; seedconf.c maps
 * DNS_Failover's config.cfg onto the same model; config_load.c finds a
 * file, tells the two formats apart and calls the reader of its format.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_url.h"
#include "config_impl.h"
#include "mxf.h"
#include "suggest.h"
#include "value.h"

/* ---- small helpers the readers share ------------------------------------ */

static char *
config_vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *
config_vfmt(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *
config_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = config_vfmt(fmt, ap);
	va_end(ap);
	return s;
}

void *
config_grow(void *v, size_t n, size_t size)
{
	char *nv = realloc(v, (n + 1) * size);

	if (nv != NULL)
		memset(nv + n * size, 0, size);
	return nv;
}

int
config_set_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

void
config_set_keep(void *s)
{
	(void)s; /* the strings belong to their list */
}

int
config_strlist_add(char ***v, size_t *n, char *s)
{
	char **nv;

	if (s == NULL)
		return MXF_ENOMEM;
	nv = config_grow(*v, *n, sizeof(*nv));
	if (nv == NULL) {
		free(s);
		return MXF_ENOMEM;
	}
	*v = nv;
	(*v)[(*n)++] = s;
	return 0;
}

/* ---- error list --------------------------------------------------------- */

int
config_errors_add(struct config_errors *errs, const char *file, int line, const char *fmt, ...)
{
	struct config_error *v;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = config_vfmt(fmt, ap);
	va_end(ap);
	if (msg == NULL)
		return MXF_ENOMEM;
	v = config_grow(errs->v, errs->n, sizeof(*v));
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

void
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

const char *
config_text_line(const char *text, size_t len, size_t *pos, size_t *linelen)
{
	const char *line, *eol;
	size_t l;

	if (*pos >= len)
		return NULL;
	line = text + *pos;
	eol = memchr(line, '\n', len - *pos);
	l = eol != NULL ? (size_t)(eol - line) : len - *pos;
	*pos += l + (eol != NULL);
	if (l > 0 && line[l - 1] == '\r')
		l--;
	*linelen = l;
	return line;
}

void
config_strlist_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- whole-file validation ------------------------------------------------ */

void
config_defaults(struct config *cfg)
{
	cfg->general.interval_ms = 10000;
	cfg->general.timeout_ms = 5000;
	cfg->general.fall = 3;
	cfg->general.rise = 3;
	cfg->general.audit_interval_ms = 3600000;
	cfg->dns.port = 53;
	cfg->dns.ttl = -1;
	cfg->dns.verify_interval_ms = 60000;
}

int
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
	/* fastinter: interval / 5, at least 500 ms, never slower than interval. */
	if (g->fastinter_ms == 0)
		g->fastinter_ms = g->interval_ms / 5 >= 500 ? g->interval_ms / 5 : 500;
	if (g->fastinter_ms > g->interval_ms)
		g->fastinter_ms = g->interval_ms;
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
		const char *names[CHECK_SCHEME_COUNT] = {0};
		const char *near;

		for (unsigned i = 0; i < CHECK_SCHEME_COUNT; i++)
			if (check_url_is_short_name(check_url_scheme_name((enum check_scheme)i)))
				names[i] = check_url_scheme_name((enum check_scheme)i);
		near = suggest_nearest(word, names, CHECK_SCHEME_COUNT);
		if (near != NULL)
			snprintf(err, errlen, "unknown check; did you mean '%s'?", near);
		else
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

void
config_validate(struct config_parse *p)
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
	config_overlap_check(p);
	if (cfg->notify.mail_to != NULL && cfg->notify.smtp_url == NULL)
		config_err(p, 0, "[notify] mail_to is set but smtp_url is not");
	if (p->fastinter_line > 0 && cfg->general.fastinter_ms > cfg->general.interval_ms)
		config_err(p, p->fastinter_line,
			   "[general] fastinter (%llu ms) must not be longer than interval (%llu ms)",
			   (unsigned long long)cfg->general.fastinter_ms,
			   (unsigned long long)cfg->general.interval_ms);
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

/* ---- freeing, lookup ------------------------------------------------------ */

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
		config_queue_free(cfg->servers[i].queue);
	}
	free(cfg->servers);
	for (size_t i = 0; i < cfg->ngroups; i++) {
		free(cfg->groups[i].id);
		free(cfg->groups[i].servers);
		config_strlist_free(cfg->groups[i].zones, cfg->groups[i].nzones);
		free(cfg->groups[i].zone_records_required);
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
	free(cfg->quorum.id);
	config_strlist_free(cfg->quorum.monitors, cfg->quorum.nmonitors);
	free(cfg->quorum.zone);
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

