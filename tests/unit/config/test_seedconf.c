/*
 * test_seedconf.c -- DNS_Failover's config.cfg (seedconf.c): the SSH checks
 * made from [SETTINGS] user and partition are validated like native check
 * URLs, each error at the line of its key; zone1's records must exist.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mxf.h"

/* DNS_Failover's sample, with the two keys under test as %s (lines 27, 28). */
static const char conf_fmt[] = "[ZONES]\n" /* 1 */
			       "zone1 = domain1.tld\n"
			       "zone2 = domain2.tld\n"
			       "[MX]\n" /* 4 */
			       "mxip1 = 1.2.3.4\n"
			       "mxip2 = 1.2.3.5\n"
			       "mx1 = mx1.example.com\n"
			       "mx2 = mx2.example.com\n"
			       "[RECORDS]\n" /* 9 */
			       "record_mx = mx\n"
			       "record_smtp = smtp\n"
			       "record_imap = imap\n"
			       "record_mail = mail\n"
			       "record_pop3 = pop3\n"
			       "[PORTS]\n" /* 15 */
			       "smtp = 25\n"
			       "imaps = 993\n"
			       "https = 443\n"
			       "mysql = 3306\n"
			       "port1 = 22\n"
			       "port2 = 22\n"
			       "[SETTINGS]\n" /* 22 */
			       "ttl = 60\n"
			       "ns = 192.168.0.2\n"
			       "logfile = /var/log/bind/bind.log\n"
			       "space_limit = 97\n"
			       "partition = %s\n" /* 27 */
			       "user = %s\n"	  /* 28 */
			       "[MAIL]\n"
			       "sender_email = noreply@example.com\n"
			       "recipient_email = recipient@domain1.tld\n";

#define PARTITION_LINE 27
#define USER_LINE      28

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
	dump_errors();
	return 0;
}

/* Load the sample with @partition and @user; *@cfg on success. */
static int
load(const char *partition, const char *user, struct config **cfg)
{
	char text[2048];

	snprintf(text, sizeof(text), conf_fmt, partition, user);
	*cfg = NULL;
	return config_load_string("config.cfg", text, cfg, &errs);
}

static void
test_sample_ok(void **state)
{
	struct config *cfg;

	(void)state;
	assert_int_equal(load("/var/", "root", &cfg), 0);
	assert_string_equal(cfg->servers[0].checks[5], "ssh-disk://root@1.2.3.4:22/var/?limit=97");
	config_free(cfg);
	/* The root file system, for hosts without their own /var. */
	assert_int_equal(load("/", "root", &cfg), 0);
	assert_string_equal(cfg->servers[1].checks[5], "ssh-disk://root@1.2.3.5:22/?limit=97");
	config_free(cfg);
}

static void
test_bad_partition(void **state)
{
	static const struct {
		const char *partition, *why;
	} bad[] = {
		{"/var/my data", "space in URL"},
		{"/var;reboot", "unsafe on a remote command line"},
		{"/$(reboot)", "unsafe on a remote command line"},
		/* Would become options of the URL, not a path. */
		{"/var?limit=1", ""},
		{"/var?timeout=1s&", ""},
	};
	struct config *cfg;

	(void)state;
	for (size_t i = 0; i < MXF_ARRAY_SIZE(bad); i++) {
		assert_int_equal(load(bad[i].partition, "root", &cfg), MXF_ECONFIG);
		assert_null(cfg);
		assert_true(has_error(PARTITION_LINE, "[SETTINGS] partition: '"));
		assert_true(has_error(PARTITION_LINE, bad[i].partition));
		assert_true(has_error(PARTITION_LINE, bad[i].why));
		/* Once, not once per server. */
		assert_int_equal(errs.n, 1);
		config_errors_free(&errs);
	}
}

static void
test_bad_user(void **state)
{
	static const struct {
		const char *user, *why;
	} bad[] = {
		{"-oProxyCommand=x", "bad user name '-oProxyCommand=x'"},
		{"ro ot", "space in URL"},
		{"a;b", "bad user name"},
		/* Accepted by the parser, but not as the user: refused. */
		{"a/b", "does not fit"},
		{"a@b", ""},
	};
	struct config *cfg;

	(void)state;
	for (size_t i = 0; i < MXF_ARRAY_SIZE(bad); i++) {
		assert_int_equal(load("/var", bad[i].user, &cfg), MXF_ECONFIG);
		assert_null(cfg);
		assert_true(has_error(USER_LINE, "[SETTINGS] user: '"));
		assert_true(has_error(USER_LINE, bad[i].user));
		assert_true(has_error(USER_LINE, bad[i].why));
		assert_int_equal(errs.n, 1);
		config_errors_free(&errs);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sample_ok, teardown),
		cmocka_unit_test_teardown(test_bad_partition, teardown),
		cmocka_unit_test_teardown(test_bad_user, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
