/*
 * test_check_url.c -- check URL parsing, canonical printing, short-name
 * expansion, and the error message of every kind of bad URL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_url.h"
#include "mxf.h"

/* Parse @text, which must be valid; print it back; compare with @canon. */
static void
parse_ok(const char *text, struct check_url *u, const char *canon)
{
	char err[CHECK_URL_ERR_MAX], buf[CHECK_URL_MAX + 64];
	int rc = check_url_parse(text, u, err, sizeof(err));

	if (rc != 0)
		print_error("'%s': %s\n", text, err);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");
	assert_int_equal(check_url_format(u, buf, sizeof(buf)), 0);
	assert_string_equal(buf, canon);
}

static void
test_smtp_forms(void **state)
{
	struct check_url u;

	(void)state;
	parse_ok("smtp://192.0.2.10", &u, "smtp://192.0.2.10");
	assert_int_equal(u.scheme, CHECK_SCHEME_SMTP);
	assert_string_equal(u.host, "192.0.2.10");
	assert_false(u.host_ipv6);
	assert_int_equal(u.port, 25);
	assert_false(u.port_explicit);
	assert_null(u.path);
	assert_null(u.user);
	assert_int_equal(u.timeout_ms, 0);
	assert_true(u.verify);
	assert_false(u.verify_set);
	check_url_free(&u);
	assert_null(u.host);

	parse_ok("SMTP://MX1.Example.COM:2525?helo=Mon.Example.org&timeout=5s", &u,
		 "smtp://mx1.example.com:2525?timeout=5s&helo=mon.example.org");
	assert_string_equal(u.host, "mx1.example.com");
	assert_int_equal(u.port, 2525);
	assert_true(u.port_explicit);
	assert_string_equal(u.helo, "mon.example.org");
	assert_int_equal(u.timeout_ms, 5000);
	check_url_free(&u);

	/* The default port written out is dropped from the canonical form. */
	parse_ok("submission://mx1.example.com:587/", &u, "submission://mx1.example.com");
	assert_int_equal(u.port, 587);
	assert_true(u.port_explicit);
	check_url_free(&u);

	parse_ok("smtps://mx1.example.com.?verify=no&cert_days=14&sni=mail.example.com", &u,
		 "smtps://mx1.example.com.?sni=mail.example.com&verify=no&cert_days=14");
	assert_int_equal(u.port, 465);
	assert_false(u.verify);
	assert_true(u.verify_set);
	assert_int_equal(u.cert_days, 14);
	assert_true(u.cert_days_set);
	assert_string_equal(u.sni, "mail.example.com");
	check_url_free(&u);
}

static void
test_ipv6(void **state)
{
	struct check_url u;

	(void)state;
	parse_ok("imaps://[2001:DB8:0::1]", &u, "imaps://[2001:db8::1]");
	assert_string_equal(u.host, "2001:db8::1");
	assert_true(u.host_ipv6);
	assert_int_equal(u.port, 993);
	check_url_free(&u);

	parse_ok("pop3://[::1]:1110?timeout=1500ms", &u, "pop3://[::1]:1110?timeout=1500ms");
	assert_int_equal(u.port, 1110);
	assert_int_equal(u.timeout_ms, 1500);
	check_url_free(&u);
}

static void
test_default_ports(void **state)
{
	static const struct {
		const char *url;
		enum check_scheme s;
		uint16_t port;
		enum check_tls tls;
	} t[] = {
		{ "smtp://h", CHECK_SCHEME_SMTP, 25, CHECK_TLS_STARTTLS },
		{ "submission://h", CHECK_SCHEME_SUBMISSION, 587, CHECK_TLS_STARTTLS_REQUIRED },
		{ "smtps://h", CHECK_SCHEME_SMTPS, 465, CHECK_TLS_IMPLICIT },
		{ "imap://h", CHECK_SCHEME_IMAP, 143, CHECK_TLS_STARTTLS },
		{ "imaps://h", CHECK_SCHEME_IMAPS, 993, CHECK_TLS_IMPLICIT },
		{ "pop3://h", CHECK_SCHEME_POP3, 110, CHECK_TLS_STARTTLS },
		{ "pop3s://h", CHECK_SCHEME_POP3S, 995, CHECK_TLS_IMPLICIT },
		{ "http://h", CHECK_SCHEME_HTTP, 80, CHECK_TLS_NONE },
		{ "https://h", CHECK_SCHEME_HTTPS, 443, CHECK_TLS_IMPLICIT },
		{ "mysql://h", CHECK_SCHEME_MYSQL, 3306, CHECK_TLS_NONE },
		{ "dns://h/example.org", CHECK_SCHEME_DNS, 53, CHECK_TLS_NONE },
		{ "ssh-disk://h/var", CHECK_SCHEME_SSH_DISK, 22, CHECK_TLS_NONE },
		{ "ssh-socket://h/run/x", CHECK_SCHEME_SSH_SOCKET, 22, CHECK_TLS_NONE },
		{ "ssh-fsck://h/dev/sda1", CHECK_SCHEME_SSH_FSCK, 22, CHECK_TLS_NONE },
		{ "tcp://h:2000", CHECK_SCHEME_TCP, 2000, CHECK_TLS_NONE },
	};
	char err[CHECK_URL_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct check_url u;

		assert_int_equal(check_url_parse(t[i].url, &u, err, sizeof(err)), 0);
		assert_int_equal(u.scheme, t[i].s);
		assert_int_equal(u.port, t[i].port);
		assert_int_equal(check_url_tls(u.scheme), t[i].tls);
		assert_true(strncmp(t[i].url, check_url_scheme_name(u.scheme),
				    strlen(check_url_scheme_name(u.scheme))) == 0);
		check_url_free(&u);
	}
	assert_int_equal(check_url_default_port(CHECK_SCHEME_TCP), 0);
	assert_int_equal(check_url_default_port(CHECK_SCHEME_EXEC), 0);
	assert_string_equal(check_url_scheme_name(CHECK_SCHEME_COUNT), "?");
}

static void
test_http(void **state)
{
	struct check_url u;

	(void)state;
	parse_ok("http://www.example.org", &u, "http://www.example.org");
	assert_string_equal(u.path, "/");
	assert_false(u.expect_set);
	assert_true(proto_http_codes_match(&u.expect, 302));
	assert_false(proto_http_codes_match(&u.expect, 404));
	check_url_free(&u);

	parse_ok("https://www.example.org:8443/health/check.php?expect=200,301&sni=www.example.org",
		 &u, "https://www.example.org:8443/health/check.php?sni=www.example.org&expect=200,301");
	assert_string_equal(u.path, "/health/check.php");
	assert_true(u.expect_set);
	assert_true(proto_http_codes_match(&u.expect, 301));
	assert_false(proto_http_codes_match(&u.expect, 302));
	check_url_free(&u);

	parse_ok("https://h/a%20b;v=1?expect=2xx,401", &u, "https://h/a%20b;v=1?expect=2xx,401");
	assert_string_equal(u.path, "/a%20b;v=1");
	assert_true(proto_http_codes_match(&u.expect, 401));
	check_url_free(&u);
}

static void
test_dns(void **state)
{
	struct check_url u;

	(void)state;
	parse_ok("dns://192.0.2.53/Example.ORG", &u, "dns://192.0.2.53/example.org");
	assert_string_equal(u.dns_name, "example.org");
	assert_string_equal(u.dns_type, "SOA");
	assert_null(u.path);
	check_url_free(&u);

	parse_ok("dns://[2001:db8::53]:5353/example.org./mx?timeout=2s", &u,
		 "dns://[2001:db8::53]:5353/example.org./MX?timeout=2s");
	assert_string_equal(u.dns_type, "MX");
	assert_int_equal(u.port, 5353);
	check_url_free(&u);

	parse_ok("dns://ns1/_dmarc.example.org/TXT", &u, "dns://ns1/_dmarc.example.org/TXT");
	check_url_free(&u);
}

static void
test_ssh(void **state)
{
	struct check_url u;

	(void)state;
	parse_ok("ssh-disk://root@mx1.example.com/var/spool?limit=97", &u,
		 "ssh-disk://root@mx1.example.com/var/spool?limit=97");
	assert_string_equal(u.user, "root");
	assert_string_equal(u.path, "/var/spool");
	assert_int_equal(u.limit, 97);
	check_url_free(&u);

	parse_ok("ssh-socket://mx1/var/spool/postfix/private/dovecot-lmtp", &u,
		 "ssh-socket://mx1/var/spool/postfix/private/dovecot-lmtp");
	assert_null(u.user);
	assert_int_equal(u.limit, CHECK_URL_DISK_LIMIT_DEFAULT);
	assert_false(u.limit_set);
	check_url_free(&u);

	parse_ok("ssh-fsck://monitor@[2001:db8::10]:2222/dev/sda1", &u,
		 "ssh-fsck://monitor@[2001:db8::10]:2222/dev/sda1");
	assert_int_equal(u.port, 2222);
	assert_string_equal(u.path, "/dev/sda1");
	check_url_free(&u);
}

/* DNS_Failover runs its own HD_fsck.sh over SSH; ssh-fsck takes it as script=. */
static void
test_ssh_fsck_script(void **state)
{
	struct check_url u;
	char err[CHECK_URL_ERR_MAX] = "", out[256];

	(void)state;
	assert_int_equal(check_url_parse("ssh-fsck://root@1.2.3.4:2222/?script=/usr/local/bin/HD_fsck.sh",
					 &u, err, sizeof(err)), 0);
	assert_string_equal(u.script, "/usr/local/bin/HD_fsck.sh");
	assert_int_equal(u.port, 2222);
	assert_int_equal(check_url_format(&u, out, sizeof(out)), 0);
	assert_string_equal(out, "ssh-fsck://root@1.2.3.4:2222/?script=/usr/local/bin/HD_fsck.sh");
	check_url_free(&u);
	assert_int_equal(check_url_parse("ssh-fsck://root@h/?script=HD_fsck.sh", &u, err, sizeof(err)),
			 MXF_EINVAL);
	assert_non_null(strstr(err, "absolute"));
	assert_int_equal(check_url_parse("ssh-fsck://root@h/?script=/bin/x;rm", &u, err, sizeof(err)),
			 MXF_EINVAL);
	assert_int_equal(check_url_parse("ssh-disk://root@h/var?script=/x", &u, err, sizeof(err)),
			 MXF_EINVAL);
	assert_non_null(strstr(err, "does not apply"));
}

static void
test_exec(void **state)
{
	struct check_url u;

	(void)state;
	parse_ok("exec:/usr/lib/nagios/plugins/check_smtp  -H mx1 -w 5", &u,
		 "exec:/usr/lib/nagios/plugins/check_smtp -H mx1 -w 5");
	assert_int_equal(u.scheme, CHECK_SCHEME_EXEC);
	assert_int_equal(u.argc, 5);
	assert_string_equal(u.argv[0], "/usr/lib/nagios/plugins/check_smtp");
	assert_string_equal(u.argv[4], "5");
	assert_null(u.argv[5]);
	assert_null(u.host);
	assert_int_equal(u.port, 0);
	check_url_free(&u);

	/* No shell: quotes group words, '?' and ';' are plain characters. */
	parse_ok("exec:/bin/echo 'a b' \"it's\" '' x?y;z", &u,
		 "exec:/bin/echo 'a b' \"it's\" '' x?y;z");
	assert_int_equal(u.argc, 5);
	assert_string_equal(u.argv[1], "a b");
	assert_string_equal(u.argv[2], "it's");
	assert_string_equal(u.argv[3], "");
	assert_string_equal(u.argv[4], "x?y;z");
	check_url_free(&u);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *url;
		const char *msg;
	} t[] = {
		{ "smpt://mx1", "unknown check scheme 'smpt'; did you mean 'smtp'?" },
		{ "imapps://mx1", "unknown check scheme 'imapps'; did you mean 'imaps'?" },
		{ "gopher://mx1", "unknown check scheme 'gopher'" },
		{ "smtp://mx1:70000", "port out of range (1..65535)" },
		{ "smtp://mx1:99999999999999999999", "port out of range (1..65535)" },
		{ "smtp://mx1:0", "port out of range (1..65535)" },
		{ "smtp://mx1?timout=5s", "unknown option 'timout'" },
		{ "smtp://mx1:", "empty port after ':'" },
		{ "smtp://mx1:2a", "bad port '2a'" },
		{ "smtp://2001:db8::1", "an IPv6 address must be in brackets, as in [2001:db8::1]" },
		{ "smtp://[2001:db8::zz]", "bad IPv6 address '2001:db8::zz'" },
		{ "smtp://[2001:db8::1", "missing ']' after IPv6 address" },
		{ "smtp://[2001:db8::1]x", "unexpected 'x' after host" },
		{ "smtp://[]", "bad IPv6 address ''" },
		{ "smtp://192.0.2.300", "bad IPv4 address '192.0.2.300'" },
		{ "smtp://", "missing host" },
		{ "smtp://:25", "missing host" },
		{ "smtp://-oProxy.example", "bad host name '-oProxy.example'" },
		{ "smtp://a..b", "bad host name 'a..b'" },
		{ "smtp://mx_1.ex$ample", "bad host name 'mx_1.ex$ample'" },
		{ "smtp:mx1", "expected '//' after 'smtp:'" },
		{ "mx1.example.com", "missing scheme in 'mx1.example.com' (as in smtp://HOST)" },
		{ "mx1.example.com:25", "unknown check scheme 'mx1.example.com'" },
		{ "tcp://mx1", "tcp URLs need a port: tcp://HOST:PORT" },
		{ "smtp://mx1/path", "smtp URLs take no path" },
		{ "smtp://user@mx1", "USER@ is only allowed in ssh-* URLs" },
		{ "ssh-disk://-oProxyCommand=x@h/var", "bad user name '-oProxyCommand=x'" },
		{ "ssh-disk://h/var;reboot", "path '/var;reboot' has characters unsafe on a remote command line" },
		{ "ssh-disk://h/$(reboot)", "path '/$(reboot)' has characters unsafe on a remote command line" },
		{ "ssh-disk://h", "ssh-disk URLs need an absolute path" },
		{ "ssh-fsck://h/", "ssh-fsck URLs need an absolute path" },
		{ "dns://ns1", "dns URLs need a name: dns://SERVER/NAME[/TYPE]" },
		{ "dns://ns1/example..org", "bad DNS name 'example..org'" },
		{ "dns://ns1/example.org/M-X", "bad DNS type 'M-X'" },
		{ "dns://ns1/example.org/", "bad DNS type ''" },
		{ "https://h/a b", "space in URL" },
		{ "https://h/%zz", "bad character in path '/%zz'" },
		{ "https://h/<script>", "bad character in path '/<script>'" },
		{ "https://h/#frag", "'#' in URL" },
		{ "smtp://mx1?timeout=5parsecs", "bad timeout '5parsecs' (use 500ms, 5s, 2m)" },
		{ "smtp://mx1?timeout=-1s", "bad timeout '-1s' (use 500ms, 5s, 2m)" },
		{ "smtp://mx1?timeout=0", "timeout out of range (1ms..1h)" },
		{ "smtp://mx1?timeout=2h", "timeout out of range (1ms..1h)" },
		{ "smtp://mx1?timeout=99999999999999999999999d", "bad timeout '99999999999999999999999d' (use 500ms, 5s, 2m)" },
		{ "smtp://mx1?verify=maybe", "verify must be yes or no, not 'maybe'" },
		{ "smtp://mx1?cert_days=-1", "cert_days must be a number of days (0..3650)" },
		{ "smtp://mx1?cert_days=5000", "cert_days must be a number of days (0..3650)" },
		{ "imap://mx1?helo=a.example", "option 'helo' does not apply to imap URLs" },
		{ "smtp://mx1?limit=97", "option 'limit' does not apply to smtp URLs" },
		{ "http://h?sni=h", "option 'sni' does not apply to http URLs" },
		{ "smtp://mx1?expect=200", "option 'expect' does not apply to smtp URLs" },
		{ "ssh-disk://h/var?limit=101", "limit must be a percentage (1..100)" },
		{ "ssh-disk://h/var?limit=0", "limit must be a percentage (1..100)" },
		{ "http://h?expect=2x0", "expect: bad status code '2x0'" },
		{ "http://h?expect=", "option 'expect' needs a value" },
		{ "smtp://mx1?timeout=5s&timeout=6s", "option 'timeout' given twice" },
		{ "smtp://mx1?sni", "option 'sni' needs a value" },
		{ "smtp://mx1?sni=bad name", "space in URL" },
		{ "smtp://mx1?helo=1.2.3.4", "bad helo name '1.2.3.4'" },
		{ "smtp://mx1?", "empty option" },
		{ "smtp://mx1?timeout=5s&", "empty option" },
		{ "exec:", "exec: missing program" },
		{ "exec:   ", "exec: missing program" },
		{ "exec:bin/check", "exec needs an absolute path to the program, not 'bin/check'" },
		{ "exec:/bin/echo 'abc", "unterminated quote in exec" },
		{ "exec:/bin/echo 'a'b", "a quoted exec word must end at a space" },
		{ "exec:/bin/echo a'b'", "a quote may only start an exec word" },
		{ "smtp://mx1\n", "control character in URL" },
		{ "exec:/bin/echo\ta", "control character in URL" },
		{ "", "missing scheme in '' (as in smtp://HOST)" },
	};
	char err[CHECK_URL_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct check_url u;
		int rc = check_url_parse(t[i].url, &u, err, sizeof(err));

		if (rc != MXF_EINVAL || strcmp(err, t[i].msg) != 0)
			print_error("'%s': rc %d '%s', want '%s'\n", t[i].url, rc, err, t[i].msg);
		assert_int_equal(rc, MXF_EINVAL);
		assert_string_equal(err, t[i].msg);
		/* A failed parse leaves nothing allocated behind. */
		assert_null(u.host);
		assert_null(u.argv);
		assert_null(u.path);
		check_url_free(&u);
	}
}

static void
test_too_long(void **state)
{
	char *url = malloc(CHECK_URL_MAX + 2);
	char err[CHECK_URL_ERR_MAX];
	struct check_url u;

	(void)state;
	assert_non_null(url);
	memcpy(url, "https://h/", 10);
	memset(url + 10, 'a', CHECK_URL_MAX + 1 - 10);
	url[CHECK_URL_MAX + 1] = '\0';
	assert_int_equal(check_url_parse(url, &u, err, sizeof(err)), MXF_EINVAL);
	assert_string_equal(err, "URL too long (more than 2048 characters)");
	/* At the limit it is fine. */
	url[CHECK_URL_MAX] = '\0';
	assert_int_equal(check_url_parse(url, &u, err, sizeof(err)), 0);
	assert_int_equal(strlen(u.path), CHECK_URL_MAX - 9);
	check_url_free(&u);
	/* Without an error buffer nothing is written, the code still says it. */
	assert_int_equal(check_url_parse("smpt://x", &u, NULL, 0), MXF_EINVAL);
	free(url);
}

static void
test_format_roundtrip(void **state)
{
	static const char *const urls[] = {
		"smtp://mx1.example.com:26?timeout=60s&helo=h.example&verify=off&cert_days=0",
		"https://[2001:db8::1]:443/x?expect=200-204,3xx&timeout=90000ms",
		"dns://ns1/example.org/AAAA",
		"ssh-disk://u@h:22/var?limit=90",
		"exec:/usr/bin/check \"it's here\"",
		"tcp://192.0.2.1:25?timeout=1h",
		"mysql://db.example.com:3307",
	};
	char err[CHECK_URL_ERR_MAX], a[512], b[512];

	(void)state;
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		struct check_url u, v;

		assert_int_equal(check_url_parse(urls[i], &u, err, sizeof(err)), 0);
		assert_int_equal(check_url_format(&u, a, sizeof(a)), 0);
		assert_int_equal(check_url_parse(a, &v, err, sizeof(err)), 0);
		assert_int_equal(check_url_format(&v, b, sizeof(b)), 0);
		assert_string_equal(a, b);
		assert_int_equal(u.timeout_ms, v.timeout_ms);
		assert_int_equal(u.port, v.port);
		check_url_free(&u);
		check_url_free(&v);
	}
	/* Durations print in their largest exact unit. */
	{
		struct check_url u;

		assert_int_equal(check_url_parse("tcp://h:1?timeout=120000ms", &u, err, sizeof(err)), 0);
		assert_int_equal(check_url_format(&u, a, sizeof(a)), 0);
		assert_string_equal(a, "tcp://h:1?timeout=2m");
		check_url_free(&u);
	}
}

static void
test_format_small_buffer(void **state)
{
	struct check_url u;
	char err[CHECK_URL_ERR_MAX], buf[12];

	(void)state;
	assert_int_equal(check_url_parse("smtp://mx1.example.com", &u, err, sizeof(err)), 0);
	assert_int_equal(check_url_format(&u, buf, sizeof(buf)), MXF_ETOOBIG);
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(check_url_format(&u, buf, 0), MXF_ETOOBIG);
	check_url_free(&u);
	assert_int_equal(check_url_parse("exec:/bin/a-long-program", &u, err, sizeof(err)), 0);
	assert_int_equal(check_url_format(&u, buf, sizeof(buf)), MXF_ETOOBIG);
	check_url_free(&u);
}

static void
test_expand(void **state)
{
	char buf[128], err[CHECK_URL_ERR_MAX];
	struct check_url u;

	(void)state;
	assert_int_equal(check_url_expand("smtp", "192.0.2.10", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "smtp://192.0.2.10");
	assert_int_equal(check_url_expand("imaps", "2001:db8::1", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "imaps://[2001:db8::1]");
	assert_int_equal(check_url_parse(buf, &u, err, sizeof(err)), 0);
	assert_int_equal(u.port, 993);
	assert_true(u.host_ipv6);
	check_url_free(&u);
	assert_int_equal(check_url_expand("POP3S", "[2001:db8::1]", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "pop3s://[2001:db8::1]");

	static const char *const shorts[] = { "smtp", "submission", "smtps", "imap", "imaps",
					      "pop3", "pop3s", "http", "https", "mysql" };
	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
		assert_true(check_url_is_short_name(shorts[i]));
		assert_int_equal(check_url_expand(shorts[i], "192.0.2.10", NULL, buf, sizeof(buf)), 0);
		assert_int_equal(check_url_parse(buf, &u, err, sizeof(err)), 0);
		assert_int_equal(u.port, check_url_default_port(u.scheme));
		assert_string_equal(check_url_scheme_name(u.scheme), shorts[i]);
		check_url_free(&u);
	}
	/* Full URLs are copied as they are. */
	assert_int_equal(check_url_expand("https://www.example.org/", "192.0.2.10", NULL, buf,
					  sizeof(buf)), 0);
	assert_string_equal(buf, "https://www.example.org/");
	assert_int_equal(check_url_expand("exec:/bin/true", NULL, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "exec:/bin/true");
	/* No short form for checks that need more than an address. */
	assert_false(check_url_is_short_name("tcp"));
	assert_false(check_url_is_short_name("dns"));
	assert_false(check_url_is_short_name("ssh-disk"));
	assert_int_equal(check_url_expand("tcp", "192.0.2.10", NULL, buf, sizeof(buf)), MXF_EINVAL);
	assert_int_equal(check_url_expand("ftp", "192.0.2.10", NULL, buf, sizeof(buf)), MXF_EINVAL);
	assert_int_equal(check_url_expand("smtp", "", NULL, buf, sizeof(buf)), MXF_EINVAL);
	assert_int_equal(check_url_expand("smtp", NULL, NULL, buf, sizeof(buf)), MXF_EINVAL);
	assert_int_equal(check_url_expand("smtp", "192.0.2.10", NULL, buf, 10), MXF_ETOOBIG);
	assert_int_equal(check_url_expand("https://www.example.org/", "x", NULL, buf, 10), MXF_ETOOBIG);
}

/* The server's name becomes sni= of short names that speak TLS. */
static void
test_expand_name(void **state)
{
	char buf[128], err[CHECK_URL_ERR_MAX];
	struct check_url u;

	(void)state;
	assert_int_equal(check_url_expand("smtp", "192.0.2.10", "mx1.example.com.", buf,
					  sizeof(buf)), 0);
	assert_string_equal(buf, "smtp://192.0.2.10?sni=mx1.example.com");
	assert_int_equal(check_url_parse(buf, &u, err, sizeof(err)), 0);
	assert_string_equal(u.sni, "mx1.example.com");
	check_url_free(&u);
	assert_int_equal(check_url_expand("IMAPS", "2001:db8::1", "MX1.Example.COM", buf,
					  sizeof(buf)), 0);
	assert_string_equal(buf, "imaps://[2001:db8::1]?sni=mx1.example.com");

	static const char *const tls[] = { "smtp", "submission", "smtps", "imap", "imaps",
					   "pop3", "pop3s", "https" };
	for (size_t i = 0; i < sizeof(tls) / sizeof(tls[0]); i++) {
		assert_int_equal(check_url_expand(tls[i], "192.0.2.10", "mx.example.com.", buf,
						  sizeof(buf)), 0);
		assert_non_null(strstr(buf, "?sni=mx.example.com"));
		assert_int_equal(check_url_parse(buf, &u, err, sizeof(err)), 0);
		check_url_free(&u);
	}
	/* No TLS, no sni; no name (NULL, "" or the root), no sni. */
	assert_int_equal(check_url_expand("http", "192.0.2.10", "mx.example.com.", buf,
					  sizeof(buf)), 0);
	assert_string_equal(buf, "http://192.0.2.10");
	assert_int_equal(check_url_expand("mysql", "192.0.2.10", "mx.example.com.", buf,
					  sizeof(buf)), 0);
	assert_string_equal(buf, "mysql://192.0.2.10");
	assert_int_equal(check_url_expand("smtp", "192.0.2.10", "", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "smtp://192.0.2.10");
	assert_int_equal(check_url_expand("smtp", "192.0.2.10", ".", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "smtp://192.0.2.10");
	/* A full URL is taken as written, with or without its own sni=. */
	assert_int_equal(check_url_expand("smtps://192.0.2.10", "192.0.2.10", "mx.example.com.",
					  buf, sizeof(buf)), 0);
	assert_string_equal(buf, "smtps://192.0.2.10");
	assert_int_equal(check_url_expand("imap://192.0.2.10?sni=imap.example.com", "192.0.2.10",
					  "mx.example.com.", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "imap://192.0.2.10?sni=imap.example.com");
	/* A name that cannot be an SNI name is refused, not sent. */
	assert_int_equal(check_url_expand("smtp", "192.0.2.10", "192.0.2.10", buf, sizeof(buf)),
			 MXF_EINVAL);
	assert_int_equal(check_url_expand("smtp", "192.0.2.10", "bad name", buf, sizeof(buf)),
			 MXF_EINVAL);
	/* The name counts towards the length. */
	assert_int_equal(check_url_expand("smtp", "192.0.2.10", "mx.example.com", buf, 30),
			 MXF_ETOOBIG);
}

/* ca= names a CA file for one URL's TLS. */
static void
test_ca_option(void **state)
{
	char buf[256], err[CHECK_URL_ERR_MAX];
	struct check_url u;

	(void)state;
	assert_int_equal(check_url_parse("smtps://192.0.2.10?ca=/etc/mxfailover/mx-ca.pem", &u,
					 err, sizeof(err)), 0);
	assert_string_equal(u.ca, "/etc/mxfailover/mx-ca.pem");
	assert_int_equal(check_url_format(&u, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "smtps://192.0.2.10?ca=/etc/mxfailover/mx-ca.pem");
	check_url_free(&u);
	assert_null(u.ca);

	/* Canonical order: ... cert_days, ca, helo ... */
	assert_int_equal(check_url_parse("SMTP://192.0.2.10?helo=probe.example&ca=/x/ca.pem"
					 "&cert_days=14&sni=mx.example.com&timeout=2000ms",
					 &u, err, sizeof(err)), 0);
	assert_int_equal(check_url_format(&u, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "smtp://192.0.2.10?timeout=2s&sni=mx.example.com&cert_days=14"
				 "&ca=/x/ca.pem&helo=probe.example");
	check_url_free(&u);

	static const char *const tls[] = {
		"smtp://h?ca=/c.pem",  "submission://h?ca=/c.pem", "smtps://h?ca=/c.pem",
		"imap://h?ca=/c.pem",  "imaps://h?ca=/c.pem",      "pop3://h?ca=/c.pem",
		"pop3s://h?ca=/c.pem", "https://h/?ca=/c.pem",
	};
	for (size_t i = 0; i < sizeof(tls) / sizeof(tls[0]); i++) {
		assert_int_equal(check_url_parse(tls[i], &u, err, sizeof(err)), 0);
		assert_string_equal(u.ca, "/c.pem");
		check_url_free(&u);
	}

	/* Only TLS schemes; an absolute path; once; with a value. */
	assert_int_equal(check_url_parse("http://h/?ca=/c.pem", &u, err, sizeof(err)), MXF_EINVAL);
	assert_string_equal(err, "option 'ca' does not apply to http URLs");
	assert_int_equal(check_url_parse("mysql://h?ca=/c.pem", &u, err, sizeof(err)), MXF_EINVAL);
	assert_int_equal(check_url_parse("tcp://h:1?ca=/c.pem", &u, err, sizeof(err)), MXF_EINVAL);
	assert_int_equal(check_url_parse("smtps://h?ca=c.pem", &u, err, sizeof(err)), MXF_EINVAL);
	assert_string_equal(err, "ca must be the absolute path of a PEM file, not 'c.pem'");
	assert_int_equal(check_url_parse("smtps://h?ca=/", &u, err, sizeof(err)), MXF_EINVAL);
	assert_int_equal(check_url_parse("smtps://h?ca=/a\\b", &u, err, sizeof(err)), MXF_EINVAL);
	assert_int_equal(check_url_parse("smtps://h?ca=/a'b", &u, err, sizeof(err)), MXF_EINVAL);
	assert_int_equal(check_url_parse("smtps://h?ca=/a.pem&ca=/b.pem", &u, err, sizeof(err)),
			 MXF_EINVAL);
	assert_string_equal(err, "option 'ca' given twice");
	assert_int_equal(check_url_parse("smtps://h?ca=", &u, err, sizeof(err)), MXF_EINVAL);
	assert_string_equal(err, "option 'ca' needs a value");
	assert_null(u.ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_forms),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_default_ports),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_ssh),
		cmocka_unit_test(test_ssh_fsck_script),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_format_small_buffer),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_name),
		cmocka_unit_test(test_ca_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
