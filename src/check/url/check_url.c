/*
 * check_url.c -- the scheme table, canonical printing and short-name
 * expansion of check URLs (see check_url.h); parsing is in
 * check_url_parse.c.
 */
#include "check_url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "buf.h"
#include "check_url_impl.h"
#include "mxf.h"
#include "value.h"

const struct check_url_scheme check_url_schemes[CHECK_SCHEME_COUNT] = {
	[CHECK_SCHEME_TCP] = { "tcp", 0, CHECK_TLS_NONE, PATH_NONE, false, false, OPT_TIMEOUT },
	[CHECK_SCHEME_SMTP] = { "smtp", 25, CHECK_TLS_STARTTLS, PATH_NONE, false, true,
				OPT_TIMEOUT | OPT_TLS | OPT_HELO },
	[CHECK_SCHEME_SUBMISSION] = { "submission", 587, CHECK_TLS_STARTTLS_REQUIRED, PATH_NONE,
				      false, true, OPT_TIMEOUT | OPT_TLS | OPT_HELO },
	[CHECK_SCHEME_SMTPS] = { "smtps", 465, CHECK_TLS_IMPLICIT, PATH_NONE, false, true,
				 OPT_TIMEOUT | OPT_TLS | OPT_HELO },
	[CHECK_SCHEME_IMAP] = { "imap", 143, CHECK_TLS_STARTTLS, PATH_NONE, false, true,
				OPT_TIMEOUT | OPT_TLS },
	[CHECK_SCHEME_IMAPS] = { "imaps", 993, CHECK_TLS_IMPLICIT, PATH_NONE, false, true,
				 OPT_TIMEOUT | OPT_TLS },
	[CHECK_SCHEME_POP3] = { "pop3", 110, CHECK_TLS_STARTTLS, PATH_NONE, false, true,
				OPT_TIMEOUT | OPT_TLS },
	[CHECK_SCHEME_POP3S] = { "pop3s", 995, CHECK_TLS_IMPLICIT, PATH_NONE, false, true,
				 OPT_TIMEOUT | OPT_TLS },
	[CHECK_SCHEME_HTTP] = { "http", 80, CHECK_TLS_NONE, PATH_HTTP, false, true,
				OPT_TIMEOUT | OPT_EXPECT },
	[CHECK_SCHEME_HTTPS] = { "https", 443, CHECK_TLS_IMPLICIT, PATH_HTTP, false, true,
				 OPT_TIMEOUT | OPT_TLS | OPT_EXPECT },
	[CHECK_SCHEME_MYSQL] = { "mysql", 3306, CHECK_TLS_NONE, PATH_NONE, false, true,
				 OPT_TIMEOUT },
	[CHECK_SCHEME_DNS] = { "dns", 53, CHECK_TLS_NONE, PATH_DNS, false, false, OPT_TIMEOUT },
	[CHECK_SCHEME_SSH_DISK] = { "ssh-disk", 22, CHECK_TLS_NONE, PATH_REMOTE, true, false,
				    OPT_TIMEOUT | OPT_LIMIT },
	[CHECK_SCHEME_SSH_SOCKET] = { "ssh-socket", 22, CHECK_TLS_NONE, PATH_REMOTE, true, false,
				      OPT_TIMEOUT },
	[CHECK_SCHEME_SSH_FSCK] = { "ssh-fsck", 22, CHECK_TLS_NONE, PATH_REMOTE, true, false,
				    OPT_TIMEOUT | OPT_SCRIPT },
	[CHECK_SCHEME_EXEC] = { "exec", 0, CHECK_TLS_NONE, PATH_NONE, false, false, 0 },
};

const char *
check_url_scheme_name(enum check_scheme s)
{
	return (unsigned)s < CHECK_SCHEME_COUNT ? check_url_schemes[s].name : "?";
}

uint16_t
check_url_default_port(enum check_scheme s)
{
	return (unsigned)s < CHECK_SCHEME_COUNT ? check_url_schemes[s].port : 0;
}

enum check_tls
check_url_tls(enum check_scheme s)
{
	return (unsigned)s < CHECK_SCHEME_COUNT ? check_url_schemes[s].tls : CHECK_TLS_NONE;
}

void
check_url_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

bool
check_url_all_digits_dots(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.')
			return false;
	return n > 0;
}

void
check_url_free(struct check_url *u)
{
	if (u == NULL)
		return;
	free(u->host);
	free(u->user);
	free(u->path);
	free(u->dns_name);
	free(u->dns_type);
	free(u->sni);
	free(u->helo);
	free(u->script);
	free(u->ca);
	argv_free(u->argv);
	memset(u, 0, sizeof(*u));
}

static int
format_exec(const struct check_url *u, struct buf *b)
{
	buf_printf(b, "exec:");
	for (size_t i = 0; i < u->argc; i++) {
		const char *a = u->argv[i];
		bool sq = strchr(a, '\'') != NULL, dq = strchr(a, '"') != NULL;

		if (i > 0)
			buf_printf(b, " ");
		if (*a != '\0' && strpbrk(a, " \t'\"") == NULL)
			buf_printf(b, "%s", a);
		else if (sq && dq)
			return MXF_EINVAL;
		else if (sq)
			buf_printf(b, "\"%s\"", a);
		else
			buf_printf(b, "'%s'", a);
	}
	return 0;
}

/* Copy what @b holds into the caller's @buf of @len bytes (len > 0). */
static int
format_done(struct buf *b, int rc, char *buf, size_t len)
{
	const char *s = buf_str(b);
	size_t n = strlen(s);

	if (rc == 0)
		rc = buf_error(b);
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	buf_free(b);
	return rc;
}

int
check_url_format(const struct check_url *u, char *buf, size_t len)
{
	struct buf b = BUF_INIT(len > 1 ? len - 1 : 1);
	char sep = '?', dur[VALUE_DURATION_BUF];

	if (len > 0)
		buf[0] = '\0';
	if ((unsigned)u->scheme >= CHECK_SCHEME_COUNT)
		return MXF_EINVAL;
	if (len <= 1)
		return MXF_ETOOBIG; /* every URL has a scheme */
	if (u->scheme == CHECK_SCHEME_EXEC)
		return format_done(&b, format_exec(u, &b), buf, len);
	buf_printf(&b, "%s://", check_url_schemes[u->scheme].name);
	if (u->user != NULL)
		buf_printf(&b, "%s@", u->user);
	buf_printf(&b, u->host_ipv6 ? "[%s]" : "%s", u->host ? u->host : "");
	if (u->port != check_url_schemes[u->scheme].port)
		buf_printf(&b, ":%u", (unsigned)u->port);
	if (u->dns_name != NULL) {
		buf_printf(&b, "/%s", u->dns_name);
		if (u->dns_type != NULL && strcmp(u->dns_type, "SOA") != 0)
			buf_printf(&b, "/%s", u->dns_type);
	} else if (u->path != NULL &&
		   (strcmp(u->path, "/") != 0 || check_url_schemes[u->scheme].path == PATH_REMOTE)) {
		buf_printf(&b, "%s", u->path);
	}
	if (u->timeout_ms != 0) {
		buf_printf(&b, "%ctimeout=%s", sep,
			   value_format_duration(u->timeout_ms, dur, sizeof(dur)));
		sep = '&';
	}
	if (u->sni != NULL)
		buf_printf(&b, "%csni=%s", sep, u->sni), sep = '&';
	if (u->verify_set)
		buf_printf(&b, "%cverify=%s", sep, u->verify ? "yes" : "no"), sep = '&';
	if (u->cert_days_set)
		buf_printf(&b, "%ccert_days=%u", sep, u->cert_days), sep = '&';
	if (u->ca != NULL)
		buf_printf(&b, "%cca=%s", sep, u->ca), sep = '&';
	if (u->helo != NULL)
		buf_printf(&b, "%chelo=%s", sep, u->helo), sep = '&';
	if (u->limit_set)
		buf_printf(&b, "%climit=%u", sep, u->limit), sep = '&';
	if (u->script != NULL)
		buf_printf(&b, "%cscript=%s", sep, u->script), sep = '&';
	if (u->expect_set) {
		char codes[PROTO_HTTP_CODES_MAX * 8 + 1];

		if (proto_http_codes_format(&u->expect, codes, sizeof(codes)) != 0)
			return format_done(&b, MXF_EINVAL, buf, len);
		buf_printf(&b, "%cexpect=%s", sep, codes);
	}
	return format_done(&b, 0, buf, len);
}

bool
check_url_is_short_name(const char *word)
{
	for (unsigned i = 0; i < CHECK_SCHEME_COUNT; i++)
		if (check_url_schemes[i].short_name && strcasecmp(word, check_url_schemes[i].name) == 0)
			return true;
	return false;
}

int
check_url_expand(const char *word, const char *address, const char *tls_name, char *buf,
		 size_t len)
{
	size_t nl = tls_name != NULL ? strlen(tls_name) : 0;
	int w;

	if (strstr(word, "://") != NULL || strncasecmp(word, "exec:", 5) == 0) {
		w = snprintf(buf, len, "%s", word);
		return w < 0 || (size_t)w >= len ? MXF_ETOOBIG : 0;
	}
	if (!check_url_is_short_name(word) || address == NULL || *address == '\0')
		return MXF_EINVAL;
	/* The certificate names the server, not its address: "mx1.example.com."
	 * is checked as "mx1.example.com", as a client of the server would. */
	if (nl > 0 && tls_name[nl - 1] == '.')
		nl--;
	if (nl > 0 && (!value_is_hostname(tls_name, nl) || check_url_all_digits_dots(tls_name, nl)))
		return MXF_EINVAL;
	for (unsigned i = 0; i < CHECK_SCHEME_COUNT; i++) {
		if (!check_url_schemes[i].short_name || strcasecmp(word, check_url_schemes[i].name) != 0)
			continue;
		bool bracket = address[0] != '[' && strchr(address, ':') != NULL;
		bool sni = nl > 0 && (check_url_schemes[i].opts & OPT_SNI) != 0;

		w = snprintf(buf, len, "%s://%s%s%s%s%.*s", check_url_schemes[i].name, bracket ? "[" : "",
			     address, bracket ? "]" : "", sni ? "?sni=" : "", sni ? (int)nl : 0,
			     sni ? tls_name : "");
		if (w < 0 || (size_t)w >= len)
			return MXF_ETOOBIG;
		if (sni)
			check_url_lower(buf + (size_t)w - nl);
		return 0;
	}
	return MXF_EINVAL;
}
