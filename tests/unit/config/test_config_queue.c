/*
 * test_config_queue.c -- [server] queue = ssh://USER@HOST[:PORT]: the
 * forms accepted, each refusal with its reason at its FILE:LINE.
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

static void
test_parse_good(void **state)
{
	struct config_queue *q = NULL;
	char err[200];

	(void)state;
	assert_int_equal(config_queue_parse("ssh://mxq@192.0.2.11", &q, err, sizeof(err)), 0);
	assert_string_equal(q->user, "mxq");
	assert_string_equal(q->host, "192.0.2.11");
	assert_int_equal(q->port, 22);
	assert_string_equal(q->url, "ssh://mxq@192.0.2.11");
	config_queue_free(q);
	assert_int_equal(
		config_queue_parse("ssh://mx.q_1@[2001:db8::11]:2222", &q, err, sizeof(err)), 0);
	assert_string_equal(q->host, "2001:db8::11");
	assert_int_equal(q->port, 2222);
	config_queue_free(q);
	assert_int_equal(config_queue_parse("ssh://m@backup.example.net:22", &q, err, sizeof(err)),
			 0);
	assert_string_equal(q->host, "backup.example.net");
	config_queue_free(q);
	config_queue_free(NULL);
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *in;
		const char *why;
	} bad[] = {
		{"mxq@192.0.2.11", "must be ssh://"},
		{"https://mxq@192.0.2.11", "must be ssh://"},
		{"ssh://192.0.2.11", "needs the USER"},
		{"ssh://@192.0.2.11", "bad user name"},
		{"ssh://-oProxyCommand=x@192.0.2.11", "bad user name"},
		{"ssh://a;b@192.0.2.11", "bad user name"},
		{"ssh://mxq@", "is not HOST[:PORT]"},
		{"ssh://mxq@192.0.2.11:0", "is not HOST[:PORT]"},
		{"ssh://mxq@192.0.2.11:99999", "is not HOST[:PORT]"},
		{"ssh://mxq@192.0.2.11/var", "nothing may follow"},
		{"ssh://mxq@192.0.2.11?timeout=5s", "nothing may follow"},
		{"ssh://mxq@host@evil", "nothing may follow"},
		{"ssh://mxq@-host", "is not HOST[:PORT]"},
	};
	struct config_queue *q = NULL;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(config_queue_parse(bad[i].in, &q, err, sizeof(err)), MXF_EINVAL);
		assert_null(q);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("'%s': \"%s\" lacks \"%s\"", bad[i].in, err, bad[i].why);
	}
}

static void
test_file_line(void **state)
{
	static const char text[] =
		"[dns]\nserver = 127.0.0.1\n"		  /* 1-2 */
		"[server mx1]\naddress = 127.0.0.1\n"	  /* 3-4 */
		"name = mx1.example.com\nchecks = smtp\n" /* 5-6 */
		"queue = ssh://127.0.0.1\n"		  /* 7 */
		"[server mx2]\naddress = 127.0.0.2\n"	  /* 8-9 */
		"name = mx2.example.com\nchecks = smtp\n" /* 10-11 */
		"queue = ssh://mxq@127.0.0.2:2222\n"	  /* 12 */
		"[group g]\nservers = mx1 mx2\nzones = example.com\nrecords = mx\n";
	struct config *cfg = NULL;
	struct config_errors errs = {0};

	(void)state;
	assert_int_equal(config_load_string("q.conf", text, &cfg, &errs), MXF_ECONFIG);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 7);
	assert_non_null(strstr(errs.v[0].msg, "queue: ssh://USER@HOST[:PORT] needs the USER"));
	config_errors_free(&errs);
	{
		char *fixed = strdup(text);
		char *at = strstr(fixed, "ssh://127.0.0.1\n");

		/* The same length, valid: "ssh://a@127.0.1". */
		memcpy(at, "ssh://a@127.0.1", 15);
		assert_int_equal(config_load_string("q.conf", fixed, &cfg, &errs), 0);
		assert_string_equal(cfg->servers[0].queue->host, "127.0.1");
		assert_int_equal(cfg->servers[0].queue->line, 7);
		assert_int_equal(cfg->servers[1].queue->line, 12);
		assert_int_equal(cfg->servers[1].queue->port, 2222);
		config_free(cfg);
		free(fixed);
	}
	config_errors_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_file_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
