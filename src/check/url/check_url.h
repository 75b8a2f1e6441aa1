/*
 * check_url.h -- check URLs (SPEC.md "Check URLs"): parsing into a
 * struct check_url, printing back in canonical form, and expanding a
 * server's short check names ("smtp", "imaps", ...) into URLs.
 *
 * Forms:
 *   tcp://HOST:PORT                   smtp|submission|smtps://HOST[:PORT]
 *   imap|imaps|pop3|pop3s://HOST[:PORT]   mysql://HOST[:PORT]
 *   http|https://HOST[:PORT][/PATH]   dns://SERVER[:PORT]/NAME[/TYPE]
 *   ssh-disk|ssh-socket|ssh-fsck://[USER@]HOST[:PORT]/PATH
 *   exec:/path/to/plugin arg...
 * HOST is an IPv4 address, an IPv6 address in brackets, or a host name.
 * Query options, after '?' and separated by '&':
 *   timeout=DURATION (500ms, 5s, 2m; any scheme but exec)
 *   sni=NAME, verify=yes|no, cert_days=N, ca=/ABS/PATH.pem
 *                         (schemes that speak TLS: smtp submission smtps
 *                          imap imaps pop3 pop3s https)
 *       ca= names a PEM file of trusted CA certificates (at most 255
 *       characters: printable ASCII without ? # & quotes or backslash); the
 *       engine then verifies this URL's server against that file alone,
 *       instead of the system store or $MXF_CA_FILE.  The parser does not
 *       open the file: a missing or unreadable one makes the check "down"
 *       when it runs, with the reason.
 *   helo=NAME (smtp submission smtps)      limit=PERCENT (ssh-disk, 1..100)
 *   expect=CODES (http https; "200,301", "2xx,401", "200-204")
 *   script=/ABS/PATH (ssh-fsck: run this remote script instead of fsck -n;
 *                     it must print 0 when the disk is clean, as
 *                     DNS_Failover's HD_fsck.sh does)
 * An unknown option, or an option the scheme has no use for, is an error,
 * so a typo never silently becomes a default.
 *
 * Because '?' starts our options, an http PATH cannot carry a query
 * string.  exec: takes no options: everything after "exec:" is the argv,
 * split on spaces; a word may be quoted whole with '...' or "..."
 * (no escapes, no shell).  The program must be an absolute path.
 *
 * Everything an ssh-* URL puts on the remote command line (USER, HOST,
 * PATH) is limited to characters that are inert in a shell and cannot start
 * with '-', because ssh hands the command to the remote user's shell.
 *
 * Pure: no I/O, no name resolution, no logging.
 */
#ifndef MXF_CHECK_URL_H
#define MXF_CHECK_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_http.h"

#define CHECK_URL_MAX 2048       /* longest URL text accepted */
#define CHECK_URL_ARGV_MAX 64    /* exec: most words */
#define CHECK_URL_ERR_MAX 160    /* a good size for the error buffer */
#define CHECK_URL_TIMEOUT_MAX_MS (3600u * 1000u)
#define CHECK_URL_CERT_DAYS_MAX 3650
#define CHECK_URL_DISK_LIMIT_DEFAULT 90

enum check_scheme {
	CHECK_SCHEME_TCP,
	CHECK_SCHEME_SMTP,
	CHECK_SCHEME_SUBMISSION,
	CHECK_SCHEME_SMTPS,
	CHECK_SCHEME_IMAP,
	CHECK_SCHEME_IMAPS,
	CHECK_SCHEME_POP3,
	CHECK_SCHEME_POP3S,
	CHECK_SCHEME_HTTP,
	CHECK_SCHEME_HTTPS,
	CHECK_SCHEME_MYSQL,
	CHECK_SCHEME_DNS,
	CHECK_SCHEME_SSH_DISK,
	CHECK_SCHEME_SSH_SOCKET,
	CHECK_SCHEME_SSH_FSCK,
	CHECK_SCHEME_EXEC,
	CHECK_SCHEME_COUNT
};

/* How a scheme uses TLS. */
enum check_tls {
	CHECK_TLS_NONE,               /* tcp, http, mysql, dns, ssh-*, exec */
	CHECK_TLS_IMPLICIT,           /* smtps, imaps, pop3s, https: TLS first */
	CHECK_TLS_STARTTLS,           /* smtp, imap, pop3: STARTTLS/STLS when offered */
	CHECK_TLS_STARTTLS_REQUIRED,  /* submission: down when not offered */
};

struct check_url {
	enum check_scheme scheme;
	char *host;            /* lower-case, without brackets; NULL for exec */
	bool host_ipv6;        /* host is an IPv6 literal (printed in brackets) */
	uint16_t port;         /* as given, else the scheme's default; 0 for exec */
	bool port_explicit;    /* the URL named the port */
	char *user;            /* ssh-*: USER@, else NULL */
	char *path;            /* http(s): "/..." (default "/"); ssh-*: the
				* absolute remote PATH or DEVICE; else NULL */
	char *dns_name;        /* dns: NAME as written (lower-case); else NULL */
	char *dns_type;        /* dns: TYPE upper-case, default "SOA"; else NULL */

	/* Options; the *_set flags say which the URL gave (canonical form). */
	uint64_t timeout_ms;   /* 0 when not given: the configured default applies */
	char *sni;             /* NULL when not given */
	bool verify;           /* default true */
	bool verify_set;
	unsigned cert_days;    /* warn/down when the certificate expires sooner */
	bool cert_days_set;
	char *helo;            /* NULL when not given */
	unsigned limit;        /* ssh-disk: percent, default CHECK_URL_DISK_LIMIT_DEFAULT */
	bool limit_set;
	char *script;          /* ssh-fsck: remote script to run instead of fsck, or NULL */
	char *ca;              /* TLS schemes: CA file for this URL, or NULL */
	struct proto_http_codes expect; /* http(s): accepted codes, default 2xx,3xx */
	bool expect_set;

	char **argv;           /* exec: argc words and a NULL; else NULL */
	size_t argc;
};

/*
 * check_url_parse -- parse a check URL.
 * @text    the URL, NUL-terminated.
 * @out     filled on success; the caller releases it with check_url_free().
 *          On failure it is left zeroed (check_url_free() is harmless).
 * @err     receives a precise message on failure, e.g. "unknown scheme
 *          'smpt'", "port out of range", "unknown option 'timout'"; may be
 *          NULL.  @errlen its size (CHECK_URL_ERR_MAX is plenty).
 * @return 0, MXF_EINVAL for a bad URL, MXF_ENOMEM.
 */
int check_url_parse(const char *text, struct check_url *out, char *err, size_t errlen);

/* check_url_free -- release what check_url_parse() allocated in @u and
 * zero it; @u itself is the caller's.  NULL is accepted. */
void check_url_free(struct check_url *u);

/*
 * check_url_format -- print @u canonically: lower-case scheme and host,
 * IPv6 in brackets, the port only when it is not the scheme's default,
 * options given in the URL in a fixed order (timeout, sni, verify,
 * cert_days, ca, helo, limit, script, expect), durations in their largest exact unit.
 * Parsing the result gives an equal struct.
 * @return 0, MXF_ETOOBIG when @len is too small (@buf then holds the part
 *         that fitted), MXF_EINVAL when an exec word cannot be quoted,
 *         MXF_ENOMEM.
 */
int check_url_format(const struct check_url *u, char *buf, size_t len);

/* check_url_scheme_name -- "smtp", "ssh-disk", ...; "?" for a bad value. */
const char *check_url_scheme_name(enum check_scheme s);

/* check_url_default_port -- 25, 587, ...; 0 for tcp and exec. */
uint16_t check_url_default_port(enum check_scheme s);

/* check_url_tls -- how @s uses TLS. */
enum check_tls check_url_tls(enum check_scheme s);

/* check_url_is_short_name -- whether @word is one of the short names a
 * [server] checks = line may use: smtp submission smtps imap imaps pop3
 * pop3s http https mysql. */
bool check_url_is_short_name(const char *word);

/*
 * check_url_expand -- the URL for one word of a [server] checks = line.
 * A short name becomes SCHEME://ADDRESS (the scheme's default port
 * applies; an IPv6 address is put in brackets); for a scheme that speaks
 * TLS (smtp submission smtps imap imaps pop3 pop3s https) and a non-empty
 * @tls_name, "?sni=NAME" is added, NAME being @tls_name lower-cased without
 * its trailing dot, so the certificate is checked against the server's name
 * even when ADDRESS is an IP literal.  A word containing "://" or starting
 * with "exec:" is copied as is (check_url_parse validates it): a full URL is
 * taken as written.
 * @address   the server's address (IPv4, IPv6 with or without brackets, or
 *            a name).
 * @tls_name  the server's name ("mx1.example.com."), or NULL / "" for none.
 * @return 0, MXF_EINVAL for an unknown short name, an empty address or a
 *         @tls_name that is not a host name, MXF_ETOOBIG when @len is too
 *         small.
 */
int check_url_expand(const char *word, const char *address, const char *tls_name, char *buf,
		     size_t len);

#endif
