/*
 * check_url_parse.c -- check URL text into a struct check_url, with a
 * precise message for every kind of bad URL (see check_url.h).
 */
#include "check_url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "check_url_impl.h"
#include "mxf.h"
#include "suggest.h"
#include "value.h"

static const struct {
	const char *name;
	unsigned bit;
} options[] = {
	{ "timeout", OPT_TIMEOUT }, { "sni", OPT_SNI },	    { "verify", OPT_VERIFY },
	{ "cert_days", OPT_CERT_DAYS }, { "helo", OPT_HELO }, { "limit", OPT_LIMIT },
	{ "expect", OPT_EXPECT }, { "script", OPT_SCRIPT }, { "ca", OPT_CA },
};

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Quote at most this much of a user's text in an error message. */
#define Q(n) ((int)((n) > 40 ? 40 : (n)))

/*
 * Parse the host of an authority into u->host.  @return 0 or MXF_EINVAL /
 * MXF_ENOMEM; *@rest points after the host.
 */
static int
parse_host(struct check_url *u, const char *s, size_t n, const char **rest, char *err,
	   size_t errlen)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	size_t hl;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL) {
			seterr(err, errlen, "missing ']' after IPv6 address");
			return MXF_EINVAL;
		}
		hl = (size_t)(close - s) - 1;
		if (hl == 0 || hl >= sizeof(tmp)) {
			seterr(err, errlen, "bad IPv6 address '%.*s'", Q(hl), s + 1);
			return MXF_EINVAL;
		}
		memcpy(tmp, s + 1, hl);
		tmp[hl] = '\0';
		if (inet_pton(AF_INET6, tmp, bin) != 1) {
			seterr(err, errlen, "bad IPv6 address '%s'", tmp);
			return MXF_EINVAL;
		}
		/* Print it the one canonical way: "2001:DB8:0::1" is "2001:db8::1". */
		if (inet_ntop(AF_INET6, bin, tmp, sizeof(tmp)) == NULL)
			return MXF_EINVAL;
		u->host_ipv6 = true;
		*rest = close + 1;
		u->host = strndup(tmp, strlen(tmp));
	} else {
		const char *colon = memchr(s, ':', n);

		hl = colon ? (size_t)(colon - s) : n;
		if (colon != NULL && memchr(colon + 1, ':', n - hl - 1) != NULL) {
			seterr(err, errlen, "an IPv6 address must be in brackets, as in [2001:db8::1]");
			return MXF_EINVAL;
		}
		if (hl == 0) {
			seterr(err, errlen, "missing host");
			return MXF_EINVAL;
		}
		if (check_url_all_digits_dots(s, hl)) {
			if (hl >= sizeof(tmp)) {
				seterr(err, errlen, "bad IPv4 address '%.*s'", Q(hl), s);
				return MXF_EINVAL;
			}
			memcpy(tmp, s, hl);
			tmp[hl] = '\0';
			if (inet_pton(AF_INET, tmp, bin) != 1) {
				seterr(err, errlen, "bad IPv4 address '%s'", tmp);
				return MXF_EINVAL;
			}
		} else if (!value_is_hostname(s, hl)) {
			seterr(err, errlen, "bad host name '%.*s'", Q(hl), s);
			return MXF_EINVAL;
		}
		*rest = s + hl;
		u->host = strndup(s, hl);
	}
	if (u->host == NULL)
		return MXF_ENOMEM;
	check_url_lower(u->host);
	return 0;
}

static int
parse_port(const char *s, size_t n, uint16_t *port, char *err, size_t errlen)
{
	unsigned long v = 0;

	if (n == 0) {
		seterr(err, errlen, "empty port after ':'");
		return MXF_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i])) {
			seterr(err, errlen, "bad port '%.*s'", Q(n), s);
			return MXF_EINVAL;
		}
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535) {
		seterr(err, errlen, "port out of range (1..65535)");
		return MXF_EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

/*
 * Whether each of the @n bytes at @s is allowed: with @graph, any printable
 * character not in @set; without, a letter, a digit or a character of @set.
 */
static bool
only_chars(const char *s, size_t n, bool graph, const char *set)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool in_set = c != '\0' && strchr(set, c) != NULL;

		if (graph ? !isgraph(c) || in_set : !isalnum(c) && !in_set)
			return false;
	}
	return true;
}

/* A user name for ssh: letters, digits, '.', '_', '-', not starting with '-'. */
static bool
valid_user(const char *s, size_t n)
{
	return n > 0 && n <= 64 && s[0] != '-' && only_chars(s, n, false, "._-");
}

/*
 * An absolute local file name as a URL option value: printable ASCII without
 * the characters that delimit URLs or quote ('?', '#', '&', quotes, '\\'),
 * so the canonical form prints it back unchanged.
 */
static bool
valid_local_path(const char *s, size_t n)
{
	return n >= 2 && s[0] == '/' && only_chars(s, n, true, "?#&'\"\\");
}

/* An absolute remote path made only of characters inert in a shell. */
static bool
valid_remote_path(const char *s, size_t n)
{
	return n >= 1 && s[0] == '/' && only_chars(s, n, false, "/._+,=:@-");
}

/* An http path: RFC 3986 path characters and %HH escapes. */
static bool
valid_http_path(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return false;
			i += 2;
			continue;
		}
		if (!isalnum(c) && strchr("/-._~!$&'()*+,;=:@", c) == NULL)
			return false;
	}
	return true;
}

static int
parse_option(struct check_url *u, const char *kv, size_t n, unsigned *seen, char *err,
	     size_t errlen)
{
	const char *eq = memchr(kv, '=', n);
	size_t kl = eq ? (size_t)(eq - kv) : n;
	unsigned bit = 0;
	const char *name = NULL;
	char val[256];
	unsigned long ul;
	size_t vl;

	for (size_t i = 0; i < MXF_ARRAY_SIZE(options); i++) {
		if (strlen(options[i].name) == kl && strncasecmp(kv, options[i].name, kl) == 0) {
			bit = options[i].bit;
			name = options[i].name;
		}
	}
	if (bit == 0) {
		seterr(err, errlen, "unknown option '%.*s'", Q(kl), kv);
		return MXF_EINVAL;
	}
	if (!(check_url_schemes[u->scheme].opts & bit)) {
		seterr(err, errlen, "option '%s' does not apply to %s URLs", name,
		       check_url_schemes[u->scheme].name);
		return MXF_EINVAL;
	}
	if (*seen & bit) {
		seterr(err, errlen, "option '%s' given twice", name);
		return MXF_EINVAL;
	}
	*seen |= bit;
	vl = eq ? n - kl - 1 : 0;
	if (eq == NULL || vl == 0) {
		seterr(err, errlen, "option '%s' needs a value", name);
		return MXF_EINVAL;
	}
	if (vl >= sizeof(val)) {
		seterr(err, errlen, "value of option '%s' too long", name);
		return MXF_EINVAL;
	}
	memcpy(val, eq + 1, vl);
	val[vl] = '\0';

	switch (bit) {
	case OPT_TIMEOUT:
		if (value_parse_duration(val, &u->timeout_ms) != 0) {
			seterr(err, errlen, "bad timeout '%s' (use 500ms, 5s, 2m)", val);
			return MXF_EINVAL;
		}
		if (u->timeout_ms == 0 || u->timeout_ms > CHECK_URL_TIMEOUT_MAX_MS) {
			seterr(err, errlen, "timeout out of range (1ms..1h)");
			return MXF_EINVAL;
		}
		break;
	case OPT_SNI:
	case OPT_HELO:
		if (!value_is_hostname(val, vl) || check_url_all_digits_dots(val, vl)) {
			seterr(err, errlen, "bad %s name '%s'", name, val);
			return MXF_EINVAL;
		}
		check_url_lower(val);
		if ((*(bit == OPT_SNI ? &u->sni : &u->helo) = strndup(val, vl)) == NULL)
			return MXF_ENOMEM;
		break;
	case OPT_VERIFY:
		if (value_parse_bool(val, &u->verify) != 0) {
			seterr(err, errlen, "verify must be yes or no, not '%s'", val);
			return MXF_EINVAL;
		}
		u->verify_set = true;
		break;
	case OPT_CERT_DAYS:
		if (value_parse_uint(val, 0, CHECK_URL_CERT_DAYS_MAX, &ul) != 0) {
			seterr(err, errlen, "cert_days must be a number of days (0..%d)",
			       CHECK_URL_CERT_DAYS_MAX);
			return MXF_EINVAL;
		}
		u->cert_days = (unsigned)ul;
		u->cert_days_set = true;
		break;
	case OPT_LIMIT:
		if (value_parse_uint(val, 1, 100, &ul) != 0) {
			seterr(err, errlen, "limit must be a percentage (1..100)");
			return MXF_EINVAL;
		}
		u->limit = (unsigned)ul;
		u->limit_set = true;
		break;
	case OPT_SCRIPT:
		if (val[0] != '/' || !valid_remote_path(val, vl)) {
			seterr(err, errlen, "script must be an absolute path of shell-inert characters");
			return MXF_EINVAL;
		}
		if ((u->script = strndup(val, vl)) == NULL)
			return MXF_ENOMEM;
		break;
	case OPT_CA:
		if (!valid_local_path(val, vl)) {
			seterr(err, errlen, "ca must be the absolute path of a PEM file, not '%s'", val);
			return MXF_EINVAL;
		}
		if ((u->ca = strndup(val, vl)) == NULL)
			return MXF_ENOMEM;
		break;
	case OPT_EXPECT: {
		char why[96];

		if (proto_http_codes_parse(val, &u->expect, why, sizeof(why)) != 0) {
			seterr(err, errlen, "expect: %s", why);
			return MXF_EINVAL;
		}
		u->expect_set = true;
		break;
	}
	}
	return 0;
}

static int
parse_query(struct check_url *u, const char *q, char *err, size_t errlen)
{
	unsigned seen = 0;

	for (;;) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		int rc;

		if (n == 0) {
			seterr(err, errlen, "empty option");
			return MXF_EINVAL;
		}
		if ((rc = parse_option(u, q, n, &seen, err, errlen)) != 0)
			return rc;
		if (amp == NULL)
			return 0;
		q = amp + 1;
	}
}

static int
parse_path(struct check_url *u, const char *p, size_t n, char *err, size_t errlen)
{
	const char *sname = check_url_schemes[u->scheme].name;

	switch (check_url_schemes[u->scheme].path) {
	case PATH_NONE:
		if (n > 1 || (n == 1 && p[0] != '/')) {
			seterr(err, errlen, "%s URLs take no path", sname);
			return MXF_EINVAL;
		}
		return 0;
	case PATH_HTTP:
		if (n == 0)
			p = "/", n = 1;
		if (!valid_http_path(p, n)) {
			seterr(err, errlen, "bad character in path '%.*s'", Q(n), p);
			return MXF_EINVAL;
		}
		u->path = strndup(p, n);
		return u->path ? 0 : MXF_ENOMEM;
	case PATH_DNS: {
		const char *name = p + 1, *slash;
		size_t nl;

		if (n <= 1) {
			seterr(err, errlen, "dns URLs need a name: dns://SERVER/NAME[/TYPE]");
			return MXF_EINVAL;
		}
		slash = memchr(name, '/', n - 1);
		nl = slash ? (size_t)(slash - name) : n - 1;
		if (!value_is_hostname(name, nl)) {
			seterr(err, errlen, "bad DNS name '%.*s'", Q(nl), name);
			return MXF_EINVAL;
		}
		if (slash != NULL) {
			const char *t = slash + 1;
			size_t tl = n - 1 - nl - 1;
			bool ok = tl > 0 && tl <= 16 && isalpha((unsigned char)t[0]);

			for (size_t i = 0; ok && i < tl; i++)
				ok = isalnum((unsigned char)t[i]) != 0;
			if (!ok) {
				seterr(err, errlen, "bad DNS type '%.*s'", Q(tl), t);
				return MXF_EINVAL;
			}
			u->dns_type = strndup(t, tl);
		} else {
			u->dns_type = strndup("SOA", 3);
		}
		u->dns_name = strndup(name, nl);
		if (u->dns_name == NULL || u->dns_type == NULL)
			return MXF_ENOMEM;
		check_url_lower(u->dns_name);
		for (char *c = u->dns_type; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		return 0;
	}
	case PATH_REMOTE:
		if (n <= 1 && u->script != NULL) {
			u->path = strndup("/", 1);
			return u->path ? 0 : MXF_ENOMEM;
		}
		/* "/" alone is a path only for ssh-disk: the root file system. */
		if (n == 0 || (n == 1 && u->scheme != CHECK_SCHEME_SSH_DISK)) {
			seterr(err, errlen, "%s URLs need an absolute path", sname);
			return MXF_EINVAL;
		}
		if (!valid_remote_path(p, n)) {
			seterr(err, errlen, "path '%.*s' has characters unsafe on a remote command line",
			       Q(n), p);
			return MXF_EINVAL;
		}
		u->path = strndup(p, n);
		return u->path ? 0 : MXF_ENOMEM;
	}
	return 0;
}

static int
parse_exec(struct check_url *u, const char *s, char *err, size_t errlen)
{
	enum argv_why why;
	int rc = argv_split_why(s, CHECK_URL_ARGV_MAX, &u->argv, &why);

	switch (why) {
	case ARGV_OK:
		break;
	case ARGV_EMPTY:
		seterr(err, errlen, "exec: missing program");
		return MXF_EINVAL;
	case ARGV_TOO_MANY:
		seterr(err, errlen, "more than %d words in exec", CHECK_URL_ARGV_MAX);
		return MXF_EINVAL;
	case ARGV_UNTERMINATED:
		seterr(err, errlen, "unterminated quote in exec");
		return MXF_EINVAL;
	case ARGV_QUOTE_END:
		seterr(err, errlen, "a quoted exec word must end at a space");
		return MXF_EINVAL;
	case ARGV_QUOTE_MID:
		seterr(err, errlen, "a quote may only start an exec word");
		return MXF_EINVAL;
	case ARGV_NOMEM:
		return MXF_ENOMEM;
	}
	if (rc != 0)
		return rc;
	u->argc = argv_count(u->argv);
	if (u->argv[0][0] != '/') {
		seterr(err, errlen, "exec needs an absolute path to the program, not '%s'", u->argv[0]);
		return MXF_EINVAL;
	}
	return 0;
}

static int
parse_url(const char *text, struct check_url *u, char *err, size_t errlen)
{
	size_t tlen = strlen(text), sl;
	const char *colon, *p, *auth_end, *at, *rest, *q;
	int rc;

	if (tlen > CHECK_URL_MAX) {
		seterr(err, errlen, "URL too long (more than %d characters)", CHECK_URL_MAX);
		return MXF_EINVAL;
	}
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f) {
			seterr(err, errlen, "control character in URL");
			return MXF_EINVAL;
		}
	}
	u->verify = true;
	u->limit = CHECK_URL_DISK_LIMIT_DEFAULT;
	proto_http_codes_default(&u->expect);

	colon = strchr(text, ':');
	if (colon == NULL) {
		seterr(err, errlen, "missing scheme in '%.*s' (as in smtp://HOST)", Q(tlen), text);
		return MXF_EINVAL;
	}
	sl = (size_t)(colon - text);
	u->scheme = CHECK_SCHEME_COUNT;
	for (unsigned i = 0; i < CHECK_SCHEME_COUNT; i++)
		if (strlen(check_url_schemes[i].name) == sl && strncasecmp(text, check_url_schemes[i].name, sl) == 0)
			u->scheme = (enum check_scheme)i;
	if (u->scheme == CHECK_SCHEME_COUNT) {
		const char *names[CHECK_SCHEME_COUNT];
		char word[SUGGEST_MAX_WORD + 1];
		const char *near;

		for (unsigned i = 0; i < CHECK_SCHEME_COUNT; i++)
			names[i] = check_url_schemes[i].name;
		snprintf(word, sizeof(word), "%.*s", (int)(sl < SUGGEST_MAX_WORD ? sl : SUGGEST_MAX_WORD),
			 text);
		near = sl <= SUGGEST_MAX_WORD ? suggest_nearest(word, names, CHECK_SCHEME_COUNT) : NULL;
		if (near != NULL)
			seterr(err, errlen, "unknown check scheme '%.*s'; did you mean '%s'?", Q(sl), text,
			       near);
		else
			seterr(err, errlen, "unknown check scheme '%.*s'", Q(sl), text);
		return MXF_EINVAL;
	}
	if (u->scheme == CHECK_SCHEME_EXEC)
		return parse_exec(u, colon + 1, err, errlen);
	if (strncmp(colon, "://", 3) != 0) {
		seterr(err, errlen, "expected '//' after '%.*s:'", Q(sl), text);
		return MXF_EINVAL;
	}
	if (strpbrk(text, " \t") != NULL) {
		seterr(err, errlen, "space in URL");
		return MXF_EINVAL;
	}
	if (strchr(text, '#') != NULL) {
		seterr(err, errlen, "'#' in URL");
		return MXF_EINVAL;
	}
	p = colon + 3;
	auth_end = p + strcspn(p, "/?");
	at = memchr(p, '@', (size_t)(auth_end - p));
	if (at != NULL) {
		size_t ul = (size_t)(at - p);

		if (!check_url_schemes[u->scheme].user) {
			seterr(err, errlen, "USER@ is only allowed in ssh-* URLs");
			return MXF_EINVAL;
		}
		if (!valid_user(p, ul)) {
			seterr(err, errlen, "bad user name '%.*s'", Q(ul), p);
			return MXF_EINVAL;
		}
		if ((u->user = strndup(p, ul)) == NULL)
			return MXF_ENOMEM;
		p = at + 1;
	}
	if ((rc = parse_host(u, p, (size_t)(auth_end - p), &rest, err, errlen)) != 0)
		return rc;
	if (rest < auth_end) {
		if (*rest != ':') {
			seterr(err, errlen, "unexpected '%.*s' after host", Q(auth_end - rest), rest);
			return MXF_EINVAL;
		}
		rc = parse_port(rest + 1, (size_t)(auth_end - rest - 1), &u->port, err, errlen);
		if (rc != 0)
			return rc;
		u->port_explicit = true;
	} else {
		u->port = check_url_schemes[u->scheme].port;
		if (u->port == 0) {
			seterr(err, errlen, "%s URLs need a port: %s://HOST:PORT",
			       check_url_schemes[u->scheme].name, check_url_schemes[u->scheme].name);
			return MXF_EINVAL;
		}
	}
	q = strchr(auth_end, '?');
	/* Options first: ssh-fsck with script= needs no device path. */
	if (q != NULL && (rc = parse_query(u, q + 1, err, errlen)) != 0)
		return rc;
	return parse_path(u, auth_end, q ? (size_t)(q - auth_end) : strlen(auth_end), err, errlen);
}

int
check_url_parse(const char *text, struct check_url *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	seterr(err, errlen, "%s", "");
	rc = parse_url(text, out, err, errlen);
	if (rc == MXF_ENOMEM)
		seterr(err, errlen, "out of memory");
	if (rc != 0)
		check_url_free(out);
	return rc;
}
