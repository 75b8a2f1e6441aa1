/*
 * test_config.c -- the configuration loader: native INI, DNS_Failover's
 * config.cfg, and every error with its line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_impl.h"
#include "mxf.h"

static const char good_conf[] =
	"[general]\n"
	"interval = 10s          ; durations: 500ms, 10s, 5m, 1h\n"
	"timeout  = 5s\n"
	"fall     = 3\n"
	"rise     = 2\n"
	"state_file = /var/lib/mxfailover/state.json\n"
	"log      = stderr\n"
	"witness  = dns://192.0.2.53/example.org https://www.example.org/\n"
	"                        ; isolation guard comment line\n"
	"status_listen = 127.0.0.1:9053\n"
	"\n"
	"[dns]\n"
	"server   = 192.0.2.53\n"
	"key_file = /etc/mxfailover/update.key\n"
	"ttl      = 60\n"
	"\n"
	"[server mx1]\n"
	"address = 192.0.2.10\n"
	"name    = MX1.Example.com.\n"
	"checks  = smtp imaps https mysql\n"
	"\n"
	"[server mx2]\n"
	"address = 2001:db8::11\n"
	"name    = mx2.example.com\n"
	"checks  = smtp imaps tcp://[2001:db8::11]:8080\n"
	"\n"
	"[group mail]\n"
	"servers = mx1 mx2\n"
	"zones   = example.com example.net\n"
	"records = mx smtp imap mail pop3\n"
	"type    = CNAME\n"
	"failback = manual\n"
	"hold_down = 5m\n"
	"etrn    = yes\n"
	"\n"
	"[notify]\n"
	"mail_to   = hostmaster@example.com\n"
	"mail_from = mxfailover@example.com\n"
	"smtp_url  = smtp://relay.example.net:587\n"
	"smtp_user = mxfailover\n"
	"smtp_password_file = /etc/mxfailover/smtp.pass\n"
	"webhook   = https://hooks.example.net/mxfailover\n"
	"exec      = /usr/local/sbin/on-failover\n";

/* DNS_Failover's sample config.cfg, as that program ships it. */
static const char dnsfailover_conf[] =
	"# Ini configuration file for the failover program DNS_Failover.py\n"
	"\n"
	"# Enter the domain zones involved here.\n"
	"[ZONES]\n"
	"zone1 = domain1.tld\n"
	"zone2 = domain2.tld\n"
	"\n"
	"# the mail servers\n"
	"[MX]\n"
	"mxip1 = 1.2.3.4\n"
	"mxip2 = 1.2.3.5\n"
	"mx1 = mx1.example.com\n"
	"mx2 = mx2.example.com\n"
	"\n"
	"[RECORDS]\n"
	"record_mx = mx\n"
	"record_smtp = smtp\n"
	"record_imap = imap\n"
	"record_mail = mail\n"
	"record_pop3 = pop3\n"
	"\n"
	"[PORTS]\n"
	"smtp = 25\n"
	"imaps = 993\n"
	"https = 443\n"
	"mysql = 3306\n"
	"port1 = 22\n"
	"port2 = 2222\n"
	"\n"
	"[SETTINGS]\n"
	"ttl = 60\n"
	"ns = 192.168.0.2\n"
	"logfile = /var/log/bind/bind.log\n"
	"space_limit = 97\n"
	"partition = /var/\n"
	"user = root\n"
	"\n"
	"[MAIL]\n"
	"sender_email = noreply@example.com\n"
	"recipient_email = recipient@domain1.tld\n"
	"port = 587\n"
	"use_tls = true\n"
	"username = user\n"
	"password = pass\n";

static struct config_errors errs;

static int
teardown(void **state)
{
	(void)state;
	config_errors_free(&errs);
	return 0;
}

/* Is there an error at @line whose message contains @needle? */
static int
has_error(int line, const char *needle)
{
	for (size_t i = 0; i < errs.n; i++)
		if (errs.v[i].line == line && strstr(errs.v[i].msg, needle) != NULL)
			return 1;
	return 0;
}

static void
dump_errors(void)
{
	for (size_t i = 0; i < errs.n; i++)
		print_message("  %s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
}

/* Load @text, which must fail; returns the number of errors. */
static size_t
load_bad(const char *text)
{
	struct config *cfg = NULL;
	int e = config_load_string("t.conf", text, &cfg, &errs);

	assert_int_equal(e, MXF_ECONFIG);
	assert_null(cfg);
	assert_true(errs.n > 0);
	return errs.n;
}

static void
test_good_native(void **state)
{
	struct config *cfg = NULL;
	int e;

	(void)state;
	e = config_load_string("good.conf", good_conf, &cfg, &errs);
	if (e != 0)
		dump_errors();
	assert_int_equal(e, 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(cfg->format, CONFIG_FORMAT_NATIVE);
	assert_int_equal(cfg->general.interval_ms, 10000);
	assert_int_equal(cfg->general.rise, 2);
	assert_int_equal(cfg->general.nwitness, 2);
	assert_string_equal(cfg->general.witness[1], "https://www.example.org/");
	assert_string_equal(cfg->general.lock_file, "/var/lib/mxfailover/state.json.lock");
	assert_string_equal(cfg->dns.server, "192.0.2.53");
	assert_int_equal(cfg->dns.port, 53);
	assert_int_equal(cfg->dns.ttl, 60);
	assert_int_equal(cfg->dns.timeout_ms, 5000);
	assert_int_equal(cfg->dns.line_key_file, 14);
	assert_int_equal(cfg->nservers, 2);
	assert_string_equal(cfg->servers[0].name, "mx1.example.com.");
	assert_int_equal(cfg->servers[0].nchecks, 4);
	/* Short names that speak TLS check the certificate against the name. */
	assert_string_equal(cfg->servers[0].checks[0], "smtp://192.0.2.10?sni=mx1.example.com");
	assert_string_equal(cfg->servers[0].checks[1], "imaps://192.0.2.10?sni=mx1.example.com");
	assert_string_equal(cfg->servers[0].checks[2], "https://192.0.2.10?sni=mx1.example.com");
	assert_string_equal(cfg->servers[0].checks[3], "mysql://192.0.2.10");
	assert_string_equal(cfg->servers[1].checks[1], "imaps://[2001:db8::11]?sni=mx2.example.com");
	assert_string_equal(cfg->servers[1].checks[2], "tcp://[2001:db8::11]:8080");
	assert_int_equal(cfg->ngroups, 1);
	assert_int_equal(cfg->groups[0].nservers, 2);
	assert_int_equal(cfg->groups[0].servers[1], 1);
	assert_string_equal(cfg->groups[0].zones[1], "example.net.");
	assert_int_equal(cfg->groups[0].nrecords, 5);
	assert_int_equal(cfg->groups[0].failback, CONFIG_FAILBACK_MANUAL);
	assert_int_equal(cfg->groups[0].hold_down_ms, 300000);
	assert_true(cfg->groups[0].etrn);
	assert_string_equal(cfg->notify.smtp_url, "smtp://relay.example.net:587");
	assert_false(cfg->notify.via_active);
	config_free(cfg);
}

#define MIN_SERVERS                                                                              \
	"[dns]\nserver = 192.0.2.53\n"                                                           \
	"[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com\nchecks = smtp\n"

static void
test_error_lines(void **state)
{
	(void)state;
	load_bad(MIN_SERVERS                         /* lines 1-6 */
		 "[group mail]\n"                     /* 7 */
		 "servers = mx1 mx9\n"                /* 8 */
		 "zones = example.com\n"              /* 9 */
		 "records = mx\n"                     /* 10 */
		 "type = TXT\n"                       /* 11 */
		 "hold_down = 5 minutes\n"            /* 12 */
		 "colour = blue\n"                    /* 13 */
		 "records = smtp\n"                   /* 14 */
		 "[sever mx2]\n"                      /* 15 */
		 "address = 192.0.2.11\n"             /* 16 */
		 "this line is not ini\n"             /* 17 */
		 "[server mx1]\n"                     /* 18 */
		 "[dns]\n");                          /* 19 */
	if (errs.n < 8)
		dump_errors();
	assert_true(has_error(8, "mx9"));
	assert_true(has_error(11, "TXT"));
	assert_true(has_error(12, "duration"));
	assert_true(has_error(13, "unknown key 'colour'"));
	assert_true(has_error(14, "duplicate key 'records' (first set at line 10)"));
	assert_true(has_error(15, "unknown section [sever mx2]; did you mean [server mx2]?"));
	assert_true(has_error(17, "expected 'key = value'"));
	assert_true(has_error(18, "duplicate section [server mx1] (first at line 3)"));
	assert_true(has_error(19, "duplicate section [dns]"));
}

static void
test_error_values(void **state)
{
	(void)state;
	load_bad("[general]\n"                        /* 1 */
		 "fall = 0\n"                          /* 2 */
		 "log = somewhere\n"                   /* 3 */
		 "[dns]\n"                             /* 4 */
		 "server = 192.0.2.53:99999\n"         /* 5 */
		 "ttl = -5\n"                          /* 6 */
		 "key_file = relative.key\n"           /* 7 */
		 "[server mx1]\n"                      /* 8 */
		 "address = 192.0.2.300\n"             /* 9 */
		 "name = bad..name\n"                  /* 10 */
		 "checks = smtp smpt://x\n"            /* 11 */
		 "[group g]\n"                         /* 12 */
		 "servers = mx1\n"                     /* 13 */
		 "zones = example.com\n"               /* 14 */
		 "records = @ mx.\n"                   /* 15 */
		 "failback = sometimes\n"              /* 16 */
		 "etrn = perhaps\n"                    /* 17 */
		 "[notify]\n"                          /* 18 */
		 "mail_to = nobody\n"                  /* 19 */
		 "smtp_url = ftp://x\n");              /* 20 */
	assert_true(has_error(2, "fall"));
	assert_true(has_error(3, "log must be"));
	assert_true(has_error(5, "server"));
	assert_true(has_error(6, "ttl"));
	assert_true(has_error(7, "absolute"));
	assert_true(has_error(9, "not an IPv4 or IPv6"));
	assert_true(has_error(10, "not a domain name"));
	assert_true(has_error(11, "unknown check scheme 'smpt'; did you mean 'smtp'?"));
	assert_true(has_error(15, "relative"));
	assert_true(has_error(15, "apex"));
	assert_true(has_error(16, "auto or manual"));
	assert_true(has_error(17, "yes or no"));
	assert_true(has_error(19, "mail address"));
	assert_true(has_error(20, "smtp://"));
}

/* [general] audit_interval: 1h by default, 0 turns it off, below a second
 * or not a duration is an error at its line. */
static void
test_audit_interval(void **state)
{
	static const char *const ok[][2] = {{"0", "0"}, {"5m", "300000"}, {"1s", "1000"}};
	const char *anchor = "status_listen = 127.0.0.1:9053\n";
	const char *at = strstr(good_conf, anchor);
	struct config *cfg = NULL;
	char text[sizeof(good_conf) + 128];

	(void)state;
	assert_non_null(at);
	assert_int_equal(config_load_string("good.conf", good_conf, &cfg, &errs), 0);
	assert_int_equal(cfg->general.audit_interval_ms, 3600000);
	config_free(cfg);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "%.*saudit_interval = %s\n%s",
			 (int)(at - good_conf), good_conf, ok[i][0], at);
		cfg = NULL;
		assert_int_equal(config_load_string("good.conf", text, &cfg, &errs), 0);
		assert_int_equal(cfg->general.audit_interval_ms, strtoull(ok[i][1], NULL, 10));
		config_free(cfg);
	}
	load_bad("[general]\naudit_interval = 500ms\n");
	assert_true(has_error(2, "audit_interval: '500ms' must be 0 (off) or at least 1s"));
	config_errors_free(&errs);
	load_bad("[general]\n\naudit_interval = hourly\n");
	assert_true(has_error(3, "audit_interval: 'hourly' is not a duration"));
	/* One error for the one mistake: not also "at least 1s". */
	assert_false(has_error(3, "at least 1s"));
}

/* [general] fastinter: interval / 5 by default, at least 500 ms and at most
 * interval; a value below 100 ms or longer than interval is an error at its
 * line, even when interval comes after it. */
static void
test_fastinter(void **state)
{
	/* interval, fastinter given (or ""), the fastinter in force */
	static const char *const ok[][3] = {{"10s", "1s", "1000"},  {"20s", "", "4000"},
					    {"1s", "", "500"},	    {"300ms", "", "300"},
					    {"10s", "10s", "10000"}, {"10s", "", "2000"}};
	const char *ivl = "interval = 10s", *at = strstr(good_conf, ivl);
	struct config *cfg = NULL;
	char text[sizeof(good_conf) + 128];

	(void)state;
	assert_non_null(at);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "%.*sinterval = %s\n%s%s%s%s",
			 (int)(at - good_conf), good_conf, ok[i][0], ok[i][1][0] ? "fastinter = " : "",
			 ok[i][1], ok[i][1][0] ? "\n" : "", strchr(at, '\n') + 1);
		cfg = NULL;
		assert_int_equal(config_load_string("good.conf", text, &cfg, &errs), 0);
		assert_int_equal(cfg->general.fastinter_ms, strtoull(ok[i][2], NULL, 10));
		config_free(cfg);
	}
	load_bad("[general]\nfastinter = 50ms\n");
	assert_true(has_error(2, "fastinter: '50ms' must be at least 100ms"));
	config_errors_free(&errs);
	load_bad("[general]\n\nfastinter = soon\n");
	assert_true(has_error(3, "fastinter: 'soon' is not a duration"));
	assert_false(has_error(3, "at least 100ms"));
	config_errors_free(&errs);
	load_bad("[general]\nfastinter = 0\n");
	assert_true(has_error(2, "fastinter must be greater than zero"));
	config_errors_free(&errs);
	load_bad("[general]\nfastinter = 5s\ninterval = 2s\n");
	assert_true(has_error(2, "fastinter (5000 ms) must not be longer than interval (2000 ms)"));
}

static void
test_error_whole_file(void **state)
{
	(void)state;
	/* Empty group, a server without checks, no [dns] at all. */
	load_bad("[server mx1]\n"
		 "address = 192.0.2.10\n"
		 "[group empty]\n"
		 "zones = example.com\n"
		 "records = mx\n"
		 "[group typed]\n"
		 "servers = mx1\n"
		 "zones = example.com\n"
		 "records = mx\n"
		 "type = AAAA\n");
	assert_true(has_error(0, "no [dns] server"));
	assert_true(has_error(1, "[server mx1] has no checks"));
	assert_true(has_error(3, "[group empty] has no servers"));
	assert_true(has_error(10, "type AAAA but server mx1 has an IPv4 address"));
}

static void
test_outside_section_and_scalar_continuation(void **state)
{
	(void)state;
	load_bad("stray = 1\n"
		 MIN_SERVERS
		 "[group g]\nservers = mx1\nzones = example.com\nrecords = mx\n"
		 "type = CNAME\n"
		 "  MX\n");
	assert_true(has_error(1, "outside any section"));
	assert_true(has_error(13, "cannot continue"));
}

static void
test_long_list_line(void **state)
{
	char text[4096];
	struct config *cfg = NULL;
	char checks[2048] = "";
	int e;

	(void)state;
	/* 40 URLs on one line: far over libinih's 200-byte line buffer. */
	for (int i = 0; i < 40; i++) {
		char one[64];

		snprintf(one, sizeof(one), " tcp://192.0.2.10:%d", 1000 + i);
		strcat(checks, one);
	}
	snprintf(text, sizeof(text),
		 "[dns]\nserver = 192.0.2.53\n"
		 "[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com\nchecks =%s\n"
		 "[group g]\nservers = mx1\nzones = example.com\nrecords = mx\n",
		 checks);
	e = config_load_string("long.conf", text, &cfg, &errs);
	if (e != 0)
		dump_errors();
	assert_int_equal(e, 0);
	assert_int_equal(cfg->servers[0].nchecks, 40);
	assert_string_equal(cfg->servers[0].checks[39], "tcp://192.0.2.10:1039");
	config_free(cfg);
}

/*
 * sni= from the server's name only for short names of TLS schemes; a server
 * without a name (type A) and full URLs are left as written; a witness
 * never gets one.
 */
static void
test_checks_sni_from_name(void **state)
{
	struct config *cfg = NULL;
	int e;

	(void)state;
	e = config_load_string("sni.conf",
			       "[general]\nwitness = https://www.example.org/\n"
			       "[dns]\nserver = 192.0.2.53\n"
			       "[server mx1]\naddress = 192.0.2.10\nname = MX1.example.com.\n"
			       "checks = submission pop3 pop3s http smtps://192.0.2.10 "
			       "imap://192.0.2.10?sni=imap.example.com\n"
			       "[server mx2]\naddress = 192.0.2.11\nchecks = smtp https\n"
			       "[group g]\nservers = mx1 mx2\nzones = example.com\nrecords = mail\n"
			       "type = A\n",
			       &cfg, &errs);
	if (e != 0)
		dump_errors();
	assert_int_equal(e, 0);
	assert_int_equal(cfg->servers[0].nchecks, 6);
	assert_string_equal(cfg->servers[0].checks[0], "submission://192.0.2.10?sni=mx1.example.com");
	assert_string_equal(cfg->servers[0].checks[1], "pop3://192.0.2.10?sni=mx1.example.com");
	assert_string_equal(cfg->servers[0].checks[2], "pop3s://192.0.2.10?sni=mx1.example.com");
	assert_string_equal(cfg->servers[0].checks[3], "http://192.0.2.10");
	assert_string_equal(cfg->servers[0].checks[4], "smtps://192.0.2.10");
	assert_string_equal(cfg->servers[0].checks[5], "imap://192.0.2.10?sni=imap.example.com");
	assert_string_equal(cfg->servers[1].checks[0], "smtp://192.0.2.11");
	assert_string_equal(cfg->servers[1].checks[1], "https://192.0.2.11");
	assert_string_equal(cfg->general.witness[0], "https://www.example.org/");
	config_free(cfg);
}

static void
test_continuation_lists(void **state)
{
	struct config *cfg = NULL;
	int e;

	(void)state;
	e = config_load_string("cont.conf",
			       "[dns]\nserver = [::1]:5300\n"
			       "[server a]\naddress = ::1\nname = a.example.com\nchecks = smtp\n"
			       "[server b]\naddress = ::1\nname = b.example.com\nchecks = smtp\n"
			       "[group g]\nservers = a\n    b\n"
			       "zones = example.com,\n  example.net\n"
			       "records = mx\n",
			       &cfg, &errs);
	if (e != 0)
		dump_errors();
	assert_int_equal(e, 0);
	assert_string_equal(cfg->dns.server, "::1");
	assert_int_equal(cfg->dns.port, 5300);
	assert_int_equal(cfg->groups[0].nservers, 2);
	assert_int_equal(cfg->groups[0].nzones, 2);
	config_free(cfg);
}

/*
 * A zone listed twice in one group is reported at the line of each repeat,
 * however written (case, trailing dot, a continuation line); the first
 * stays and the order is kept.  Thousands of zones are checked in
 * O(n log n) (a tsearch tree), which the second half shows: 20,000 zones
 * with 2,000 repeats are all found.
 */
static void
test_duplicate_zones(void **state)
{
	struct config *cfg = NULL;
	char *text, *p, *repeats;
	size_t cap = 64 * 22001 + 512;

	(void)state;
	assert_int_not_equal(
		config_load_string("dup.conf",
				   "[dns]\nserver = 192.0.2.53\n"
				   "[server a]\naddress = 192.0.2.10\nname = a.example.com\n"
				   "checks = smtp\n"
				   "[group g]\nservers = a\n"	  /* 8 */
				   "zones = a.org b.org A.ORG.\n" /* 9 */
				   "  c.org b.org.\n"		  /* 10 */
				   "records = mx\n",
				   &cfg, &errs),
		0);
	assert_int_equal(errs.n, 2);
	assert_true(has_error(9, "'A.ORG.' is listed twice"));
	assert_true(has_error(10, "'b.org.' is listed twice"));
	config_errors_free(&errs);

	text = malloc(cap);
	assert_non_null(text);
	p = text + sprintf(text, "[dns]\nserver = 192.0.2.53\n"
				 "[server a]\naddress = 192.0.2.10\nname = a.example.com\n"
				 "checks = smtp\n[group g]\nservers = a\nrecords = mx\nzones =");
	for (int i = 0; i < 20000; i++)
		p += sprintf(p, " z%05d.example", i);
	repeats = p;
	for (int i = 0; i < 2000; i++)
		p += sprintf(p, " Z%05d.EXAMPLE.", i * 10);
	strcpy(p, "\n");
	assert_int_not_equal(config_load_string("many.conf", text, &cfg, &errs), 0);
	assert_int_equal(errs.n, 2000);
	assert_true(has_error(10, "'Z00000.EXAMPLE.' is listed twice"));
	assert_true(has_error(10, "'Z19990.EXAMPLE.' is listed twice"));
	config_errors_free(&errs);
	strcpy(repeats, "\n");
	assert_int_equal(config_load_string("many.conf", text, &cfg, &errs), 0);
	free(text);
	assert_int_equal(cfg->groups[0].nzones, 20000);
	assert_string_equal(cfg->groups[0].zones[19999], "z19999.example.");
	config_free(cfg);
}

/* A plugin's arguments stay with it: exec: takes the rest of its line. */
static void
test_exec_check_with_arguments(void **state)
{
	struct config *cfg = NULL;
	int e;

	(void)state;
	e = config_load_string("exec.conf",
			       "[dns]\nserver = 192.0.2.53\n"
			       "[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com\n"
			       "checks = smtp exec:/usr/lib/nagios/plugins/check_disk -w 10% -c 5%\n"
			       "  tcp://192.0.2.10:8080\n"
			       "[group g]\nservers = mx1\nzones = example.com\nrecords = mx\n",
			       &cfg, &errs);
	if (e != 0)
		dump_errors();
	assert_int_equal(e, 0);
	assert_int_equal(cfg->servers[0].nchecks, 3);
	assert_string_equal(cfg->servers[0].checks[1],
			    "exec:/usr/lib/nagios/plugins/check_disk -w 10% -c 5%");
	assert_string_equal(cfg->servers[0].checks[2], "tcp://192.0.2.10:8080");
	config_free(cfg);
}

static void
test_nul_byte(void **state)
{
	struct config *cfg = NULL;
	char path[] = "/tmp/mxf-test-nul-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fwrite("[dns]\nserver = 1.2.3.4\0\n", 1, 24, f);
	fclose(f);
	assert_int_equal(config_load(path, &cfg, &errs), MXF_ECONFIG);
	assert_true(has_error(0, "NUL"));
	unlink(path);
}

static void
test_missing_file(void **state)
{
	struct config *cfg = NULL;

	(void)state;
	assert_int_equal(config_load("/nonexistent/mxf.conf", &cfg, &errs), MXF_EIO);
	assert_true(has_error(0, "cannot open"));
}

static void
test_dnsfailover_mapping(void **state)
{
	struct config *cfg = NULL;
	const struct config_group *g;
	int e;

	(void)state;
	e = config_load_string("config.cfg", dnsfailover_conf, &cfg, &errs);
	if (e != 0)
		dump_errors();
	assert_int_equal(e, 0);
	assert_int_equal(cfg->format, CONFIG_FORMAT_DNSFAILOVER);
	assert_int_equal(cfg->nservers, 2);
	assert_string_equal(cfg->servers[0].id, "mx1");
	assert_string_equal(cfg->servers[0].address, "1.2.3.4");
	assert_string_equal(cfg->servers[1].name, "mx2.example.com.");
	assert_int_equal(cfg->servers[0].nchecks, 7);
	assert_string_equal(cfg->servers[0].checks[0], "tcp://1.2.3.4:25");
	assert_string_equal(cfg->servers[0].checks[1], "tcp://1.2.3.4:993");
	assert_string_equal(cfg->servers[0].checks[2], "tcp://1.2.3.4:443");
	assert_string_equal(cfg->servers[0].checks[3], "tcp://1.2.3.4:3306");
	assert_string_equal(cfg->servers[0].checks[4],
			    "ssh-socket://root@1.2.3.4:22/var/run/mysqld/mysqld.sock");
	assert_string_equal(cfg->servers[0].checks[5], "ssh-disk://root@1.2.3.4:22/var/?limit=97");
	/* port2 belongs to the second server. */
	assert_string_equal(cfg->servers[1].checks[6],
			    "ssh-fsck://root@1.2.3.5:2222/?script=/usr/local/bin/HD_fsck.sh");
	assert_int_equal(cfg->ngroups, 1);
	g = &cfg->groups[0];
	assert_int_equal(g->type, CONFIG_RTYPE_CNAME);
	assert_int_equal(g->nzones, 2);
	assert_string_equal(g->zones[0], "domain1.tld.");
	assert_string_equal(g->zones[1], "domain2.tld.");
	assert_int_equal(g->nrecords, 5);
	assert_string_equal(g->records[0], "mx");
	assert_string_equal(g->records[4], "pop3");
	assert_int_equal(g->failback, CONFIG_FAILBACK_AUTO);
	assert_string_equal(cfg->dns.server, "192.168.0.2");
	assert_int_equal(cfg->dns.port, 53);
	assert_null(cfg->dns.key_file);
	assert_int_equal(cfg->dns.ttl, 60);
	assert_int_equal(cfg->general.fall, 1);
	assert_int_equal(cfg->general.rise, 1);
	assert_string_equal(cfg->general.log, "/var/log/bind/bind.log");
	assert_true(cfg->notify.via_active);
	assert_int_equal(cfg->notify.via_active_port, 587);
	assert_true(cfg->notify.via_active_starttls);
	assert_string_equal(cfg->notify.mail_to, "recipient@domain1.tld");
	assert_string_equal(cfg->notify.smtp_password, "pass");
	config_free(cfg);
}

static void
test_dnsfailover_missing(void **state)
{
	char *text = strdup(dnsfailover_conf);
	char *p;

	(void)state;
	/* Drop zone2 (line 6) and the whole [PORTS] header (line 22). */
	p = strstr(text, "zone2 = domain2.tld\n");
	memcpy(p, "#one2 = domain2.tld\n", 20);
	p = strstr(text, "[PORTS]");
	memcpy(p, "#PORTS]", 7);
	p = strstr(text, "mxip2 = 1.2.3.5");
	memcpy(p, "mxip2 = 1.2.3.x", 15);
	load_bad(text);
	assert_true(has_error(4, "[ZONES] has no key 'zone2'"));
	assert_true(has_error(0, "no [PORTS] section"));
	assert_true(has_error(11, "not an IP address"));
	free(text);
}

static void
test_find_path(void **state)
{
	(void)state;
	setenv("MXFAILOVER_CONFIG", "/a.conf", 1);
	setenv("DNSFAILOVER_CONFIG", "/b.cfg", 1);
	assert_string_equal(config_load_path(), "/a.conf");
	unsetenv("MXFAILOVER_CONFIG");
	assert_string_equal(config_load_path(), "/b.cfg");
	unsetenv("DNSFAILOVER_CONFIG");
	assert_non_null(config_load_path());
}

/* Every key of the suggestion table is one the section accepts, and a typo
 * of each one suggests it. */
static void
test_key_names_are_accepted(void **state)
{
	static const struct {
		enum config_section_kind kind;
		const char *header;
	} secs[] = {
		{SEC_GENERAL, "[general]"},   {SEC_DNS, "[dns]"},	{SEC_NOTIFY, "[notify]"},
		{SEC_SERVER, "[server mx1]"}, {SEC_GROUP, "[group g]"}, {SEC_QUORUM, "[quorum]"},
	};

	(void)state;
	for (size_t k = 0; k < MXF_ARRAY_SIZE(secs); k++) {
		size_t n = 0;
		const char *const *names = config_key_names_of(secs[k].kind, &n);

		assert_non_null(names);
		assert_true(n > 0);
		for (size_t i = 0; i < n; i++) {
			struct config *cfg = NULL;
			char text[512], needle[128];

			/* The key itself: whatever its value's fate, not unknown. */
			snprintf(text, sizeof(text), "%s\n%s = x\n", secs[k].header, names[i]);
			config_load_string("t.conf", text, &cfg, &errs);
			config_free(cfg);
			cfg = NULL;
			snprintf(needle, sizeof(needle), "unknown key '%s'", names[i]);
			assert_false(has_error(2, needle));
			config_errors_free(&errs);
			/* Its last letter doubled: a typo that suggests it. */
			snprintf(text, sizeof(text), "%s\n%s%c = x\n", secs[k].header, names[i],
				 names[i][strlen(names[i]) - 1]);
			config_load_string("t.conf", text, &cfg, &errs);
			config_free(cfg);
			snprintf(needle, sizeof(needle), "did you mean '%s'?", names[i]);
			if (!has_error(2, needle))
				dump_errors();
			assert_true(has_error(2, needle));
			config_errors_free(&errs);
		}
	}
	assert_null(config_key_names_of(SEC_UNKNOWN, &(size_t){0}));
}

/* Every key mxfailover.conf(5) documents (".It Cm KEY No =" under
 * ".Ss [SECTION]") is in the suggestion table, so a key added to the
 * reader and its manual cannot be left out of "did you mean". */
static void
test_documented_keys_are_suggested(void **state)
{
	FILE *f = fopen("man/mxfailover.conf.5", "r");
	enum config_section_kind kind = SEC_NONE;
	char line[512];
	size_t found = 0;

	(void)state;
	if (f == NULL)
		skip(); /* run from the source tree, as meson test does */
	while (fgets(line, sizeof(line), f) != NULL) {
		char key[64];

		if (strncmp(line, ".Sh ", 4) == 0)
			kind = SEC_NONE;
		if (strncmp(line, ".Ss [", 5) == 0)
			kind = strncmp(line + 5, "general", 7) == 0  ? SEC_GENERAL
			       : strncmp(line + 5, "dns", 3) == 0    ? SEC_DNS
			       : strncmp(line + 5, "server", 6) == 0 ? SEC_SERVER
			       : strncmp(line + 5, "group", 5) == 0  ? SEC_GROUP
			       : strncmp(line + 5, "notify", 6) == 0 ? SEC_NOTIFY
			       : strncmp(line + 5, "quorum", 6) == 0 ? SEC_QUORUM
								     : SEC_NONE;
		if (kind != SEC_NONE && sscanf(line, ".It Cm %63[a-z_] No =", key) == 1) {
			size_t n = 0, i;
			const char *const *names = config_key_names_of(kind, &n);

			for (i = 0; i < n && strcmp(names[i], key) != 0; i++)
				;
			if (i == n)
				print_message("documented key '%s' is not in config_key_names\n", key);
			assert_true(i < n);
			found++;
		}
	}
	fclose(f);
	assert_true(found >= 31);
}

/* Errors of the reader and of the whole-file checks come out in line
 * order, those about the whole file last. */
static void
test_errors_in_line_order(void **state)
{
	(void)state;
	load_bad("[server mx1]\n"            /* 1: no address, no checks (found last) */
		 "name = mx1.example.com\n"   /* 2 */
		 "colour = blue\n"            /* 3: found while reading */
		 "[group g]\n"                /* 4 */
		 "servers = mx1 mx9\n"        /* 5: found after reading */
		 "zones = example.com\n"      /* 6 */
		 "records = mx\n"             /* 7 */
		 "intervall = 1s\n");         /* 8: found while reading */
	for (size_t i = 1; i < errs.n; i++) {
		int a = errs.v[i - 1].line, b = errs.v[i].line;

		if (!(b == 0 || (a != 0 && a <= b)))
			dump_errors();
		assert_true(b == 0 || (a != 0 && a <= b));
	}
	assert_true(has_error(1, "no address"));
	assert_true(has_error(3, "unknown key 'colour' in [server mx1]"));
	assert_true(has_error(5, "mx9"));
	assert_true(has_error(8, "unknown key 'intervall' in [group g]"));
	assert_true(has_error(0, "[dns]"));
	assert_int_equal(errs.v[errs.n - 1].line, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_good_native, teardown),
		cmocka_unit_test_teardown(test_error_lines, teardown),
		cmocka_unit_test_teardown(test_error_values, teardown),
		cmocka_unit_test_teardown(test_audit_interval, teardown),
		cmocka_unit_test_teardown(test_fastinter, teardown),
		cmocka_unit_test_teardown(test_error_whole_file, teardown),
		cmocka_unit_test_teardown(test_outside_section_and_scalar_continuation, teardown),
		cmocka_unit_test_teardown(test_long_list_line, teardown),
		cmocka_unit_test_teardown(test_checks_sni_from_name, teardown),
		cmocka_unit_test_teardown(test_continuation_lists, teardown),
		cmocka_unit_test_teardown(test_exec_check_with_arguments, teardown),
		cmocka_unit_test_teardown(test_nul_byte, teardown),
		cmocka_unit_test_teardown(test_missing_file, teardown),
		cmocka_unit_test_teardown(test_dnsfailover_mapping, teardown),
		cmocka_unit_test_teardown(test_dnsfailover_missing, teardown),
		cmocka_unit_test_teardown(test_find_path, teardown),
		cmocka_unit_test_teardown(test_key_names_are_accepted, teardown),
		cmocka_unit_test_teardown(test_documented_keys_are_suggested, teardown),
		cmocka_unit_test_teardown(test_errors_in_line_order, teardown),
		cmocka_unit_test_teardown(test_duplicate_zones, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
