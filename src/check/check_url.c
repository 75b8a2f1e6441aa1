/*
 * check_url.c -- parsing, canonical printing and short-name expansion of
 * check URLs (see check_url.h).
 */
#include "check_url.h"

#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxf.h"

/* Options, as bits, so each scheme lists the ones it takes. */
enum {
	OPT_TIMEOUT = 1u << 0,
	OPT_SNI = 1u << 1,
	OPT_VERIFY = 1u << 2,
	OPT_CERT_DAYS = 1u << 3,
	OPT_HELO = 1u << 4,
	OPT_LIMIT = 1u << 5,
	OPT_EXPECT = 1u << 6,
	OPT_SCRIPT = 1u << 7,
	OPT_CA = 1u << 8,
};

#define OPT_TLS (OPT_SNI | OPT_VERIFY | OPT_CERT_DAYS | OPT_CA)

/* What a scheme's URL may hold after the authority. */
enum path_kind { PATH_NONE, PATH_HTTP, PATH_DNS, PATH_REMOTE };

static const struct scheme_info {
	const char *name;
	uint16_t port;
	enum check_tls tls;
	enum path_kind path;
	bool user;        /* USER@ allowed */
	bool short_name;  /* usable as a short name in [server] checks */
	unsigned opts;
} schemes[CHECK_SCHEME_COUNT] = {
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

static const struct {
	const char *name;
	unsigned bit;
} options[] = {
	{ "timeout", OPT_TIMEOUT }, { "sni", OPT_SNI },	    { "verify", OPT_VERIFY },
	{ "cert_days", OPT_CERT_DAYS }, { "helo", OPT_HELO }, { "limit", OPT_LIMIT },
	{ "expect", OPT_EXPECT }, { "script", OPT_SCRIPT }, { "ca", OPT_CA },
};

const char *
check_url_scheme_name(enum check_scheme s)
{
	return (unsigned)s < CHECK_SCHEME_COUNT ? schemes[s].name : "?";
}

uint16_t
check_url_default_port(enum check_scheme s)
{
	return (unsigned)s < CHECK_SCHEME_COUNT ? schemes[s].port : 0;
}

enum check_tls
check_url_tls(enum check_scheme s)
{
	return (unsigned)s < CHECK_SCHEME_COUNT ? schemes[s].tls : CHECK_TLS_NONE;
}

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

static char *
xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * A host name (or DNS name): labels of 1..63 letters, digits, '-' and '_'
 * not starting with '-', separated by dots, at most 253 octets without an
 * optional trailing dot.
 */
static bool
valid_hostname(const char *s, size_t n)
{
	size_t label = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-' && c != '_')
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static bool
all_digits_dots(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.')
			return false;
	return n > 0;
}

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
		u->host = xstrndup(tmp, strlen(tmp));
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
		if (all_digits_dots(s, hl)) {
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
		} else if (!valid_hostname(s, hl)) {
			seterr(err, errlen, "bad host name '%.*s'", Q(hl), s);
			return MXF_EINVAL;
		}
		*rest = s + hl;
		u->host = xstrndup(s, hl);
	}
	if (u->host == NULL)
		return MXF_ENOMEM;
	lower(u->host);
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

/* A user name for ssh: letters, digits, '.', '_', '-', not starting with '-'. */
static bool
valid_user(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/*
 * An absolute local file name as a URL option value: printable ASCII without
 * the characters that delimit URLs or quote ('?', '#', '&', quotes, '\\'),
 * so the canonical form prints it back unchanged.
 */
static bool
valid_local_path(const char *s, size_t n)
{
	if (n < 2 || s[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]) || strchr("?#&'\"\\", s[i]) != NULL)
			return false;
	return true;
}

/* An absolute remote path made only of characters inert in a shell. */
static bool
valid_remote_path(const char *s, size_t n)
{
	if (n < 1 || s[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("/._+,=:@-", s[i]) == NULL)
			return false;
	return true;
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
parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return MXF_EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return MXF_EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return MXF_EINVAL;
	}
	*out = (unsigned)v;
	return 0;
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
	if (!(schemes[u->scheme].opts & bit)) {
		seterr(err, errlen, "option '%s' does not apply to %s URLs", name,
		       schemes[u->scheme].name);
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
		if (config_parse_duration(val, &u->timeout_ms) != 0) {
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
		if (!valid_hostname(val, vl) || all_digits_dots(val, vl)) {
			seterr(err, errlen, "bad %s name '%s'", name, val);
			return MXF_EINVAL;
		}
		lower(val);
		if ((*(bit == OPT_SNI ? &u->sni : &u->helo) = xstrndup(val, vl)) == NULL)
			return MXF_ENOMEM;
		break;
	case OPT_VERIFY:
		if (strcasecmp(val, "yes") == 0 || strcasecmp(val, "true") == 0 ||
		    strcmp(val, "1") == 0 || strcasecmp(val, "on") == 0) {
			u->verify = true;
		} else if (strcasecmp(val, "no") == 0 || strcasecmp(val, "false") == 0 ||
			   strcmp(val, "0") == 0 || strcasecmp(val, "off") == 0) {
			u->verify = false;
		} else {
			seterr(err, errlen, "verify must be yes or no, not '%s'", val);
			return MXF_EINVAL;
		}
		u->verify_set = true;
		break;
	case OPT_CERT_DAYS:
		if (parse_uint(val, CHECK_URL_CERT_DAYS_MAX, &u->cert_days) != 0) {
			seterr(err, errlen, "cert_days must be a number of days (0..%d)",
			       CHECK_URL_CERT_DAYS_MAX);
			return MXF_EINVAL;
		}
		u->cert_days_set = true;
		break;
	case OPT_LIMIT:
		if (parse_uint(val, 100, &u->limit) != 0 || u->limit == 0) {
			seterr(err, errlen, "limit must be a percentage (1..100)");
			return MXF_EINVAL;
		}
		u->limit_set = true;
		break;
	case OPT_SCRIPT:
		if (val[0] != '/' || !valid_remote_path(val, vl)) {
			seterr(err, errlen, "script must be an absolute path of shell-inert characters");
			return MXF_EINVAL;
		}
		if ((u->script = xstrndup(val, vl)) == NULL)
			return MXF_ENOMEM;
		break;
	case OPT_CA:
		if (!valid_local_path(val, vl)) {
			seterr(err, errlen, "ca must be the absolute path of a PEM file, not '%s'", val);
			return MXF_EINVAL;
		}
		if ((u->ca = xstrndup(val, vl)) == NULL)
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
	const char *sname = schemes[u->scheme].name;

	switch (schemes[u->scheme].path) {
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
		u->path = xstrndup(p, n);
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
		if (!valid_hostname(name, nl)) {
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
			u->dns_type = xstrndup(t, tl);
		} else {
			u->dns_type = xstrndup("SOA", 3);
		}
		u->dns_name = xstrndup(name, nl);
		if (u->dns_name == NULL || u->dns_type == NULL)
			return MXF_ENOMEM;
		lower(u->dns_name);
		for (char *c = u->dns_type; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		return 0;
	}
	case PATH_REMOTE:
		if (n <= 1 && u->script != NULL) {
			u->path = xstrndup("/", 1);
			return u->path ? 0 : MXF_ENOMEM;
		}
		if (n <= 1) {
			seterr(err, errlen, "%s URLs need an absolute path", sname);
			return MXF_EINVAL;
		}
		if (!valid_remote_path(p, n)) {
			seterr(err, errlen, "path '%.*s' has characters unsafe on a remote command line",
			       Q(n), p);
			return MXF_EINVAL;
		}
		u->path = xstrndup(p, n);
		return u->path ? 0 : MXF_ENOMEM;
	}
	return 0;
}

static int
parse_exec(struct check_url *u, const char *s, char *err, size_t errlen)
{
	char **argv = calloc(CHECK_URL_ARGV_MAX + 1, sizeof(*argv));
	size_t argc = 0;

	if (argv == NULL)
		return MXF_ENOMEM;
	u->argv = argv;
	for (;;) {
		const char *start;
		size_t n;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (argc == CHECK_URL_ARGV_MAX) {
			seterr(err, errlen, "more than %d words in exec", CHECK_URL_ARGV_MAX);
			return MXF_EINVAL;
		}
		if (*s == '\'' || *s == '"') {
			const char *close = strchr(s + 1, *s);

			if (close == NULL) {
				seterr(err, errlen, "unterminated quote in exec");
				return MXF_EINVAL;
			}
			if (close[1] != '\0' && close[1] != ' ' && close[1] != '\t') {
				seterr(err, errlen, "a quoted exec word must end at a space");
				return MXF_EINVAL;
			}
			start = s + 1;
			n = (size_t)(close - start);
			s = close + 1;
		} else {
			start = s;
			while (*s != '\0' && *s != ' ' && *s != '\t')
				s++;
			n = (size_t)(s - start);
			if (memchr(start, '\'', n) != NULL || memchr(start, '"', n) != NULL) {
				seterr(err, errlen, "a quote may only start an exec word");
				return MXF_EINVAL;
			}
		}
		if ((argv[argc] = xstrndup(start, n)) == NULL)
			return MXF_ENOMEM;
		u->argc = ++argc;
	}
	if (argc == 0) {
		seterr(err, errlen, "exec: missing program");
		return MXF_EINVAL;
	}
	if (argv[0][0] != '/') {
		seterr(err, errlen, "exec needs an absolute path to the program, not '%s'", argv[0]);
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
		if (strlen(schemes[i].name) == sl && strncasecmp(text, schemes[i].name, sl) == 0)
			u->scheme = (enum check_scheme)i;
	if (u->scheme == CHECK_SCHEME_COUNT) {
		seterr(err, errlen, "unknown scheme '%.*s'", Q(sl), text);
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

		if (!schemes[u->scheme].user) {
			seterr(err, errlen, "USER@ is only allowed in ssh-* URLs");
			return MXF_EINVAL;
		}
		if (!valid_user(p, ul)) {
			seterr(err, errlen, "bad user name '%.*s'", Q(ul), p);
			return MXF_EINVAL;
		}
		if ((u->user = xstrndup(p, ul)) == NULL)
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
		u->port = schemes[u->scheme].port;
		if (u->port == 0) {
			seterr(err, errlen, "%s URLs need a port: %s://HOST:PORT",
			       schemes[u->scheme].name, schemes[u->scheme].name);
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
	if (u->argv != NULL)
		for (size_t i = 0; u->argv[i] != NULL; i++)
			free(u->argv[i]);
	free(u->argv);
	memset(u, 0, sizeof(*u));
}

/* An output buffer that remembers whether anything did not fit. */
struct out {
	char *buf;
	size_t len, o;
	bool full;
};

static void __attribute__((format(printf, 2, 3)))
out_printf(struct out *b, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (b->full)
		return;
	va_start(ap, fmt);
	w = vsnprintf(b->buf + b->o, b->len - b->o, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= b->len - b->o)
		b->full = true;
	else
		b->o += (size_t)w;
}

/* The largest unit dividing @ms exactly, as parse_duration reads it. */
static void
out_duration(struct out *b, uint64_t ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 } };

	for (size_t i = 0; i < MXF_ARRAY_SIZE(units); i++) {
		if (ms % units[i].ms == 0) {
			out_printf(b, "%llu%s", (unsigned long long)(ms / units[i].ms), units[i].unit);
			return;
		}
	}
	out_printf(b, "%llums", (unsigned long long)ms);
}

static int
format_exec(const struct check_url *u, struct out *b)
{
	out_printf(b, "exec:");
	for (size_t i = 0; i < u->argc; i++) {
		const char *a = u->argv[i];
		bool sq = strchr(a, '\'') != NULL, dq = strchr(a, '"') != NULL;

		if (i > 0)
			out_printf(b, " ");
		if (*a != '\0' && strpbrk(a, " \t'\"") == NULL)
			out_printf(b, "%s", a);
		else if (sq && dq)
			return MXF_EINVAL;
		else if (sq)
			out_printf(b, "\"%s\"", a);
		else
			out_printf(b, "'%s'", a);
	}
	return 0;
}

int
check_url_format(const struct check_url *u, char *buf, size_t len)
{
	struct out b = { buf, len, 0, len == 0 };
	char sep = '?';
	int rc = 0;

	if (len > 0)
		buf[0] = '\0';
	if ((unsigned)u->scheme >= CHECK_SCHEME_COUNT)
		return MXF_EINVAL;
	if (u->scheme == CHECK_SCHEME_EXEC) {
		rc = format_exec(u, &b);
		return rc != 0 ? rc : b.full ? MXF_ETOOBIG : 0;
	}
	out_printf(&b, "%s://", schemes[u->scheme].name);
	if (u->user != NULL)
		out_printf(&b, "%s@", u->user);
	out_printf(&b, u->host_ipv6 ? "[%s]" : "%s", u->host ? u->host : "");
	if (u->port != schemes[u->scheme].port)
		out_printf(&b, ":%u", (unsigned)u->port);
	if (u->dns_name != NULL) {
		out_printf(&b, "/%s", u->dns_name);
		if (u->dns_type != NULL && strcmp(u->dns_type, "SOA") != 0)
			out_printf(&b, "/%s", u->dns_type);
	} else if (u->path != NULL &&
		   (strcmp(u->path, "/") != 0 || schemes[u->scheme].path == PATH_REMOTE)) {
		out_printf(&b, "%s", u->path);
	}
	if (u->timeout_ms != 0) {
		out_printf(&b, "%ctimeout=", sep), sep = '&';
		out_duration(&b, u->timeout_ms);
	}
	if (u->sni != NULL)
		out_printf(&b, "%csni=%s", sep, u->sni), sep = '&';
	if (u->verify_set)
		out_printf(&b, "%cverify=%s", sep, u->verify ? "yes" : "no"), sep = '&';
	if (u->cert_days_set)
		out_printf(&b, "%ccert_days=%u", sep, u->cert_days), sep = '&';
	if (u->ca != NULL)
		out_printf(&b, "%cca=%s", sep, u->ca), sep = '&';
	if (u->helo != NULL)
		out_printf(&b, "%chelo=%s", sep, u->helo), sep = '&';
	if (u->limit_set)
		out_printf(&b, "%climit=%u", sep, u->limit), sep = '&';
	if (u->script != NULL)
		out_printf(&b, "%cscript=%s", sep, u->script), sep = '&';
	if (u->expect_set) {
		char codes[PROTO_HTTP_CODES_MAX * 8 + 1];

		if (proto_http_codes_format(&u->expect, codes, sizeof(codes)) != 0)
			return MXF_EINVAL;
		out_printf(&b, "%cexpect=%s", sep, codes);
	}
	return b.full ? MXF_ETOOBIG : 0;
}

bool
check_url_is_short_name(const char *word)
{
	for (unsigned i = 0; i < CHECK_SCHEME_COUNT; i++)
		if (schemes[i].short_name && strcasecmp(word, schemes[i].name) == 0)
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
	if (nl > 0 && (!valid_hostname(tls_name, nl) || all_digits_dots(tls_name, nl)))
		return MXF_EINVAL;
	for (unsigned i = 0; i < CHECK_SCHEME_COUNT; i++) {
		if (!schemes[i].short_name || strcasecmp(word, schemes[i].name) != 0)
			continue;
		bool bracket = address[0] != '[' && strchr(address, ':') != NULL;
		bool sni = nl > 0 && (schemes[i].opts & OPT_SNI) != 0;

		w = snprintf(buf, len, "%s://%s%s%s%s%.*s", schemes[i].name, bracket ? "[" : "",
			     address, bracket ? "]" : "", sni ? "?sni=" : "", sni ? (int)nl : 0,
			     sni ? tls_name : "");
		if (w < 0 || (size_t)w >= len)
			return MXF_ETOOBIG;
		if (sni)
			lower(buf + (size_t)w - nl);
		return 0;
	}
	return MXF_EINVAL;
}
