/*
 * test_config_quorum.c -- the [quorum] section (config_quorum.c): its
 * defaults, each rule with the line its error names, the warning about a
 * need that two halves can both reach, and the monitor id taken from the
 * host name.
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

/* Everything but [quorum], after it: a [quorum] at line 1 keeps the line
 * numbers of these tests those of their own text. */
#define REST                                                                                       \
	"[dns]\nserver = 192.0.2.53\nkey_file = /etc/mxfailover/update.key\n"                      \
	"[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com\nchecks = smtp\n"              \
	"[server mx2]\naddress = 192.0.2.11\nname = mx2.example.com\nchecks = smtp\n"              \
	"[group mail]\nservers = mx1 mx2\nzones = example.com\nrecords = mx\n"

/* The same without a [dns] key_file. */
#define REST_NO_KEY                                                                                \
	"[dns]\nserver = 192.0.2.53\n"                                                             \
	"[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com\nchecks = smtp\n"              \
	"[server mx2]\naddress = 192.0.2.11\nname = mx2.example.com\nchecks = smtp\n"              \
	"[group mail]\nservers = mx1 mx2\nzones = example.com\nrecords = mx\n"

static struct config_errors errs;

static int
teardown(void **state)
{
	(void)state;
	config_errors_free(&errs);
	return 0;
}

static void
dump_errors(void)
{
	for (size_t i = 0; i < errs.n; i++)
		print_message("  %s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
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

/* Load @text, which must load; the caller frees the config. */
static struct config *
load_ok(const char *text)
{
	struct config *cfg = NULL;
	int e = config_load_string("q.conf", text, &cfg, &errs);

	if (e != 0)
		dump_errors();
	assert_int_equal(e, 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(cfg);
	return cfg;
}

/* Load @text, which must fail with an error at @line containing @needle. */
static void
load_bad(const char *text, int line, const char *needle)
{
	struct config *cfg = NULL;
	int e = config_load_string("q.conf", text, &cfg, &errs);

	assert_int_equal(e, MXF_ECONFIG);
	assert_null(cfg);
	if (!has_error(line, needle)) {
		print_message("no error at line %d with '%s' in:\n", line, needle);
		dump_errors();
	}
	assert_true(has_error(line, needle));
	config_errors_free(&errs);
}

/* The warnings of @text, which must load, into errs. */
static void
load_warnings(const char *text)
{
	struct config *cfg = load_ok(text);

	assert_int_equal(config_warnings(cfg, &errs), 0);
	config_free(cfg);
}

static void
test_absent(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(REST);
	assert_false(cfg->quorum.enabled);
	assert_null(cfg->quorum.id);
	assert_null(cfg->quorum.monitors);
	assert_int_equal(cfg->quorum.nmonitors, 0);
	assert_int_equal(cfg->quorum.need, 0);
	assert_null(cfg->quorum.zone);
	assert_int_equal(cfg->quorum.heartbeat_ms, 0);
	config_free(cfg);
	/* Nor without a key: only [quorum] needs one. */
	cfg = load_ok(REST_NO_KEY);
	assert_false(cfg->quorum.enabled);
	config_free(cfg);
}

/* DNS_Failover's format has no [quorum]: its quorum stays off. */
static void
test_dnsfailover_has_none(void **state)
{
	static const char seed[] =
		"[ZONES]\nzone1 = domain1.tld\nzone2 = domain2.tld\n"
		"[MX]\nmxip1 = 1.2.3.4\nmxip2 = 1.2.3.5\nmx1 = mx1.example.com\n"
		"mx2 = mx2.example.com\n"
		"[RECORDS]\nrecord_mx = mx\nrecord_smtp = smtp\nrecord_imap = imap\n"
		"record_mail = mail\nrecord_pop3 = pop3\n"
		"[PORTS]\nsmtp = 25\nimaps = 993\nhttps = 443\nmysql = 3306\nport1 = 22\n"
		"port2 = 22\n"
		"[SETTINGS]\nttl = 60\nns = 192.168.0.2\nlogfile = /var/log/df.log\n"
		"space_limit = 97\npartition = /var/\nuser = root\n"
		"[MAIL]\nsender_email = a@example.com\nrecipient_email = b@example.com\n"
		"port = 587\nuse_tls = true\nusername = u\npassword = secret-password\n";
	struct config *cfg;

	(void)state;
	cfg = load_ok(seed);
	assert_int_equal(cfg->format, CONFIG_FORMAT_DNSFAILOVER);
	assert_false(cfg->quorum.enabled);
	config_free(cfg);
}

static void
test_defaults(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("[quorum]\n"
		      "id = site-b\n"
		      "monitors = site-a site-b site-c\n"
		      "zone = example.com\n" REST);
	assert_true(cfg->quorum.enabled);
	assert_int_equal(cfg->quorum.line, 1);
	assert_string_equal(cfg->quorum.id, "site-b");
	assert_int_equal(cfg->quorum.nmonitors, 3);
	assert_string_equal(cfg->quorum.monitors[0], "site-a");
	assert_string_equal(cfg->quorum.monitors[2], "site-c");
	assert_int_equal(cfg->quorum.self, 1);
	assert_int_equal(cfg->quorum.need, 2);
	assert_int_equal(cfg->quorum.line_need, 0);
	/* Absolute and lower-case, as group zones are. */
	assert_string_equal(cfg->quorum.zone, "example.com.");
	/* interval 10s by default: heartbeat 3 x interval, stale 3 x heartbeat. */
	assert_int_equal(cfg->quorum.heartbeat_ms, 30000);
	assert_int_equal(cfg->quorum.stale_ms, 90000);
	config_free(cfg);
}

/* need defaults to a majority: n / 2 + 1. */
static void
test_need_majority(void **state)
{
	static const char *const lists[] = {"m1", "m1 m2", "m1 m2 m3", "m1 m2 m3 m4",
					    "m1 m2 m3 m4 m5"};
	static const unsigned majority[] = {1, 2, 2, 3, 3};

	(void)state;
	for (size_t i = 0; i < MXF_ARRAY_SIZE(lists); i++) {
		char text[1024];
		struct config *cfg;

		snprintf(text, sizeof(text),
			 "[quorum]\nid = m1\nmonitors = %s\nzone = example.com\n" REST, lists[i]);
		cfg = load_ok(text);
		assert_int_equal(cfg->quorum.nmonitors, i + 1);
		assert_int_equal(cfg->quorum.need, majority[i]);
		assert_int_equal(cfg->quorum.self, 0);
		config_free(cfg);
	}
}

/* heartbeat and stale follow interval even when it comes after [quorum]. */
static void
test_times_from_a_later_interval(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("[quorum]\nid = a\nmonitors = a b c\nzone = example.com\n" REST
		      "[general]\ninterval = 20s\n");
	assert_int_equal(cfg->general.interval_ms, 20000);
	assert_int_equal(cfg->quorum.heartbeat_ms, 60000);
	assert_int_equal(cfg->quorum.stale_ms, 180000);
	config_free(cfg);

	/* A heartbeat given: stale is three of it. */
	cfg = load_ok("[quorum]\nid = a\nmonitors = a b c\nzone = example.com\n"
		      "heartbeat = 1m\n" REST "[general]\ninterval = 20s\n");
	assert_int_equal(cfg->quorum.heartbeat_ms, 60000);
	assert_int_equal(cfg->quorum.stale_ms, 180000);
	config_free(cfg);

	/* Both given; a heartbeat of exactly one interval is allowed. */
	cfg = load_ok("[quorum]\nid = a\nmonitors = a b c\nzone = example.com\n"
		      "heartbeat = 5s\nstale = 1m\nneed = 3\n" REST "[general]\ninterval = 5s\n");
	assert_int_equal(cfg->quorum.heartbeat_ms, 5000);
	assert_int_equal(cfg->quorum.stale_ms, 60000);
	assert_int_equal(cfg->quorum.need, 3);
	assert_int_equal(cfg->quorum.line_need, 7);
	config_free(cfg);
}

/* Upper case is accepted and lowered; monitors may continue on indented
 * lines and be separated by commas, as other lists. */
static void
test_lower_case_and_lists(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("[quorum]\n"
		      "ID = Site-A\n"
		      "monitors = SITE-A, Site-B\n"
		      "    site-c\n"
		      "zone = Example.COM.\n" REST);
	assert_string_equal(cfg->quorum.id, "site-a");
	assert_int_equal(cfg->quorum.nmonitors, 3);
	assert_string_equal(cfg->quorum.monitors[0], "site-a");
	assert_string_equal(cfg->quorum.monitors[1], "site-b");
	assert_string_equal(cfg->quorum.monitors[2], "site-c");
	assert_int_equal(cfg->quorum.self, 0);
	assert_string_equal(cfg->quorum.zone, "example.com.");
	config_free(cfg);

	/* 63 characters is a label; one digit-only label too. */
	cfg = load_ok("[quorum]\nid = 7\nmonitors = 7 "
		      "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefgh\n"
		      "zone = example.com\n" REST);
	assert_string_equal(cfg->quorum.monitors[1],
			    "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefgh");
	config_free(cfg);
}

static void
test_id_errors(void **state)
{
	static const char *const bad[] = {
		"-site",
		"site-",
		"si_te",
		"site.a",
		"-",
		"abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghi", /* 64 */
	};

	(void)state;
	for (size_t i = 0; i < MXF_ARRAY_SIZE(bad); i++) {
		char text[1024];

		snprintf(text, sizeof(text),
			 "[quorum]\nid = %s\nmonitors = a b\nzone = example.com\n" REST, bad[i]);
		load_bad(text, 2, "is not a DNS label");
	}
	/* The id must be one of the monitors: the message names both. */
	load_bad("[quorum]\nmonitors = a b c\nid = d\nzone = example.com\n" REST, 3,
		 "[quorum] id 'd' is not one of monitors (a b c)");
}

static void
test_monitors_errors(void **state)
{
	char text[2048];
	size_t off;

	(void)state;
	load_bad("[quorum]\nid = a\nmonitors = a b_c\nzone = example.com\n" REST, 3,
		 "monitors: 'b_c' is not a DNS label");
	load_bad("[quorum]\nid = a\nmonitors = a -b\nzone = example.com\n" REST, 3,
		 "monitors: '-b' is not a DNS label");
	/* A duplicate is named, case notwithstanding, on the line it is on. */
	load_bad("[quorum]\nid = a\nmonitors = a b\n  c B\nzone = example.com\n" REST, 4,
		 "monitors: 'b' is listed twice");
	/* Required. */
	load_bad("[quorum]\nid = a\nzone = example.com\n" REST, 1, "[quorum] has no monitors");
	load_bad("[quorum]\nid = a\nmonitors =\nzone = example.com\n" REST, 3,
		 "[quorum] monitors is empty");
	/* At most QUORUM_MONITORS_MAX; QUORUM_MONITORS_MAX itself is fine. */
	off = (size_t)snprintf(text, sizeof(text),
			       "[quorum]\nid = m0\nzone = example.com\nmonitors =");
	for (int i = 0; i < QUORUM_MONITORS_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, " m%d", i);
	snprintf(text + off, sizeof(text) - off, "\n%s", REST);
	{
		struct config *cfg = load_ok(text);

		assert_int_equal(cfg->quorum.nmonitors, QUORUM_MONITORS_MAX);
		assert_int_equal(cfg->quorum.need, QUORUM_MONITORS_MAX / 2 + 1);
		config_free(cfg);
	}
	off = (size_t)snprintf(text, sizeof(text),
			       "[quorum]\nid = m0\nzone = example.com\nmonitors =");
	for (int i = 0; i <= QUORUM_MONITORS_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, " m%d", i);
	snprintf(text + off, sizeof(text) - off, "\n%s", REST);
	load_bad(text, 4, "monitors: more than 16 monitors");
}

static void
test_need_errors(void **state)
{
	(void)state;
	load_bad("[quorum]\nid = a\nmonitors = a b c\nneed = 4\nzone = example.com\n" REST, 4,
		 "[quorum] need 4 is more than the 3 monitors (a b c)");
	/* need before monitors: checked once both are read. */
	load_bad("[quorum]\nneed = 2\nid = a\nmonitors = a\nzone = example.com\n" REST, 2,
		 "need 2 is more than the 1 monitor (a)");
	load_bad("[quorum]\nid = a\nmonitors = a b c\nneed = 0\nzone = example.com\n" REST, 4,
		 "need: '0' must be a whole number from 1");
	load_bad("[quorum]\nid = a\nmonitors = a b c\nneed = two\nzone = example.com\n" REST, 4,
		 "need: 'two' must be a whole number");
	load_bad("[quorum]\nid = a\nmonitors = a b c\nneed = -1\nzone = example.com\n" REST, 4,
		 "need: '-1'");
}

static void
test_zone_and_key_errors(void **state)
{
	(void)state;
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = exa mple.com\n" REST, 4,
		 "zone: 'exa mple.com' is not a domain name");
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = example..com\n" REST, 4,
		 "is not a domain name");
	load_bad("[quorum]\nid = a\nmonitors = a b\n" REST, 1, "[quorum] has no zone");
	/* Views are signed: no [dns] key_file, an error at [quorum]. */
	load_bad(REST_NO_KEY "[quorum]\nid = a\nmonitors = a b\nzone = example.com\n", 15,
		 "[quorum] needs a [dns] key_file");
}

static void
test_time_errors(void **state)
{
	(void)state;
	/* A heartbeat shorter than a round makes no sense. */
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = example.com\nheartbeat = 5s\n" REST
		 "[general]\ninterval = 10s\n",
		 5, "[quorum] heartbeat (5s) must not be shorter than [general] interval (10s)");
	/* stale must be longer than heartbeat, given or derived. */
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = example.com\nheartbeat = 30s\n"
		 "stale = 30s\n" REST,
		 6, "[quorum] stale (30s) must be longer than heartbeat (30s)");
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = example.com\nstale = 20s\n" REST, 5,
		 "stale (20s) must be longer than heartbeat (30s, 3 x interval)");
	/* ... and leave two rounds besides: views are read once a round. */
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = example.com\nheartbeat = 30s\n"
		 "stale = 40s\n" REST,
		 6, "[quorum] stale (40s) must be at least heartbeat + 2 x interval (50s)");
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = example.com\nheartbeat = soon\n" REST, 5,
		 "heartbeat: 'soon' is not a duration");
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = example.com\nstale = 0\n" REST, 5,
		 "stale must be greater than zero");
}

/* Unknown and duplicate keys, a second [quorum]: as in other sections. */
static void
test_syntax_errors(void **state)
{
	(void)state;
	load_bad("[quorum]\nid = a\nmonitor = a b\nzone = example.com\n" REST, 3,
		 "unknown key 'monitor' in [quorum]; did you mean 'monitors'?");
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = example.com\nid = b\n" REST, 5,
		 "duplicate key 'id' (first set at line 2)");
	load_bad("[quorum]\nid = a\nmonitors = a b\nzone = example.com\n" REST "[quorum]\n", 20,
		 "duplicate section [quorum] (first at line 1)");
	load_bad("[quorom]\n" REST, 1, "did you mean [quorum]?");
}

/* Every error of the section is reported, not only the first, in line order. */
static void
test_all_errors_collected(void **state)
{
	struct config *cfg = NULL;

	(void)state;
	assert_int_equal(config_load_string("q.conf",
					    REST_NO_KEY "[quorum]\n"	     /* 15 */
							"id = -a\n"	     /* 16 */
							"monitors = a a\n"   /* 17 */
							"need = many\n"	     /* 18 */
							"zone = bad..name\n" /* 19 */
							"stale = 1s\n",	     /* 20 */
					    &cfg, &errs),
			 MXF_ECONFIG);
	assert_true(has_error(15, "key_file"));
	assert_true(has_error(16, "id: '-a'"));
	assert_true(has_error(17, "'a' is listed twice"));
	assert_true(has_error(18, "need: 'many'"));
	assert_true(has_error(19, "zone: 'bad..name'"));
	assert_true(has_error(20, "stale (1s) must be longer"));
	for (size_t i = 1; i < errs.n; i++)
		assert_true(errs.v[i].line == 0 || errs.v[i - 1].line <= errs.v[i].line);
}

/* need at most half the monitors: valid, with a warning at its line. */
static void
test_split_warning(void **state)
{
	(void)state;
	load_warnings("[quorum]\nid = a\nmonitors = a b c\nneed = 1\nzone = example.com\n" REST);
	assert_int_equal(errs.n, 1);
	assert_true(has_error(4, "[quorum] need 1 of 3 monitors is half of them or fewer"));
	assert_true(has_error(4, "two disjoint sets of monitors can each reach it"));
	config_errors_free(&errs);

	load_warnings("[quorum]\nid = a\nmonitors = a b c d\nneed = 2\nzone = example.com\n" REST);
	assert_int_equal(errs.n, 1);
	assert_true(has_error(4, "need 2 of 4 monitors"));
	assert_true(has_error(4, "a majority is 3"));
	config_errors_free(&errs);

	/* A majority, given or by default, and one monitor alone: nothing to say. */
	load_warnings("[quorum]\nid = a\nmonitors = a b c d\nneed = 3\nzone = example.com\n" REST);
	assert_int_equal(errs.n, 0);
	load_warnings("[quorum]\nid = a\nmonitors = a b c d\nzone = example.com\n" REST);
	assert_int_equal(errs.n, 0);
	load_warnings("[quorum]\nid = a\nmonitors = a\nzone = example.com\n" REST);
	assert_int_equal(errs.n, 0);

	/* In line order with the other warnings: need (line 11) before a
	 * server in no group (line 13) and a group of one server (line 17). */
	load_warnings("[dns]\nserver = 192.0.2.53\nkey_file = /etc/mxfailover/update.key\n"
		      "[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com\nchecks = smtp\n"
		      "[quorum]\nid = a\nmonitors = a b\nneed = 1\nzone = example.com\n"
		      "[server mx2]\naddress = 192.0.2.11\nname = mx2.example.com\nchecks = smtp\n"
		      "[group mail]\nservers = mx1\nzones = example.com\nrecords = mx\n");
	if (errs.n != 3)
		dump_errors();
	assert_int_equal(errs.n, 3);
	assert_int_equal(errs.v[0].line, 11);
	assert_int_equal(errs.v[1].line, 13);
	assert_int_equal(errs.v[2].line, 17);
}

/* The default id: the host name up to its first dot, lower-cased. */
static void
test_id_from_host(void **state)
{
	char *id = NULL;

	(void)state;
	assert_int_equal(config_quorum_id_from_host("Mon-1.Example.com", &id), 0);
	assert_string_equal(id, "mon-1");
	free(id);
	assert_int_equal(config_quorum_id_from_host("localhost", &id), 0);
	assert_string_equal(id, "localhost");
	free(id);
	assert_int_equal(config_quorum_id_from_host("", &id), MXF_EINVAL);
	assert_null(id);
	assert_int_equal(config_quorum_id_from_host(".example.com", &id), MXF_EINVAL);
	assert_int_equal(config_quorum_id_from_host("mon_1.example.com", &id), MXF_EINVAL);
	assert_int_equal(config_quorum_id_from_host("mon-.example.com", &id), MXF_EINVAL);
	assert_int_equal(config_quorum_label("ab", 1, &id), 0);
	assert_string_equal(id, "a");
	free(id);
}

/* Without id, this host's name: whatever it is here, the config either
 * takes it (when it is a label, listed among the monitors) or says that
 * id must be set; never an empty or invalid id. */
static void
test_id_default(void **state)
{
	char host[256] = "", *want = NULL, text[1024];
	struct config *cfg = NULL;
	int e;

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	if (config_quorum_id_from_host(host, &want) == 0) {
		snprintf(text, sizeof(text),
			 "[quorum]\nmonitors = %s other\nzone = example.com\n" REST, want);
		cfg = load_ok(text);
		assert_string_equal(cfg->quorum.id, want);
		assert_int_equal(cfg->quorum.self, 0);
		config_free(cfg);
		/* Not among the monitors: said at [quorum], with the host name. */
		snprintf(text, sizeof(text),
			 "[quorum]\nmonitors = x%.40sx other\nzone = example.com\n" REST, want);
		load_bad(text, 1, "(this host's name; set id) is not one of monitors");
		free(want);
		return;
	}
	e = config_load_string("q.conf", "[quorum]\nmonitors = a b\nzone = example.com\n" REST,
			       &cfg, &errs);
	assert_int_equal(e, MXF_ECONFIG);
	assert_true(has_error(1, "set id"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_absent, teardown),
		cmocka_unit_test_teardown(test_dnsfailover_has_none, teardown),
		cmocka_unit_test_teardown(test_defaults, teardown),
		cmocka_unit_test_teardown(test_need_majority, teardown),
		cmocka_unit_test_teardown(test_times_from_a_later_interval, teardown),
		cmocka_unit_test_teardown(test_lower_case_and_lists, teardown),
		cmocka_unit_test_teardown(test_id_errors, teardown),
		cmocka_unit_test_teardown(test_monitors_errors, teardown),
		cmocka_unit_test_teardown(test_need_errors, teardown),
		cmocka_unit_test_teardown(test_zone_and_key_errors, teardown),
		cmocka_unit_test_teardown(test_time_errors, teardown),
		cmocka_unit_test_teardown(test_syntax_errors, teardown),
		cmocka_unit_test_teardown(test_all_errors_collected, teardown),
		cmocka_unit_test_teardown(test_split_warning, teardown),
		cmocka_unit_test_teardown(test_id_from_host, teardown),
		cmocka_unit_test_teardown(test_id_default, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
