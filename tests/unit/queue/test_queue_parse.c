/*
 * test_queue_parse.c -- counting `postqueue -j` output per zone: real
 * Postfix lines, zone matching, the oldest message and its reason, and
 * every kind of bad input (not JSON, wrong shapes, too long, cut).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxf.h"
#include "queue_parse.h"

/* Two lines as Postfix 3.7 prints them (postqueue -j, deferred mail). */
#define MSG1                                                                                       \
	"{\"queue_name\": \"deferred\", \"queue_id\": \"4QTgZr1Vzbz9sWN\", \"arrival_time\": "     \
	"1764633000, \"message_size\": 412, \"forced_expire\": false, \"sender\": "                \
	"\"alice@sender.org\", \"recipients\": [{\"address\": \"bob@Example.COM\", "               \
	"\"delay_reason\": \"connect to mx1.example.com[192.0.2.10]:25: Connection refused\"}, "   \
	"{\"address\": \"carol@example.com\", \"delay_reason\": \"connect to "                     \
	"mx1.example.com\"}]}\n"
#define MSG2                                                                                       \
	"{\"queue_name\": \"active\", \"queue_id\": \"4QTgZs2\", \"arrival_time\": 1764632000, "   \
	"\"message_size\": 1000, \"sender\": \"\", \"recipients\": [{\"address\": "                \
	"\"dave@example.net\"}, {\"address\": \"erin@example.com\", \"delay_reason\": "            \
	"\"older\"}]}\n"
#define MSG3                                                                                       \
	"{\"queue_name\": \"deferred\", \"queue_id\": \"X3\", \"arrival_time\": 1764600000, "      \
	"\"message_size\": 5, \"sender\": \"x@y\", \"recipients\": [{\"address\": "                \
	"\"zed@sub.example.com\"}, {\"address\": \"postmaster\"}]}\n"

static struct queue_zone zones[2];
static struct queue_summary sum;
static char err[256];

static int
parse(const char *s, size_t len, bool truncated)
{
	zones[0].zone = "example.com.";
	zones[1].zone = "EXAMPLE.NET";
	return queue_parse(s, len, truncated, zones, 2, &sum, err, sizeof(err));
}

static void
test_counts_per_zone(void **state)
{
	static const char out[] = MSG1 MSG2 MSG3;

	(void)state;
	assert_int_equal(parse(out, strlen(out), false), 0);
	assert_int_equal(sum.total, 3);
	assert_int_equal(sum.matched, 2); /* MSG3: a subdomain and a local name only */
	assert_int_equal(sum.oldest, 1764632000);
	assert_false(sum.truncated);
	assert_int_equal(zones[0].messages, 2);
	assert_int_equal(zones[0].recipients, 3);
	assert_int_equal(zones[0].bytes, 1412);
	assert_int_equal(zones[0].oldest, 1764632000);
	assert_string_equal(zones[0].oldest_reason, "older");
	assert_int_equal(zones[1].messages, 1);
	assert_int_equal(zones[1].recipients, 1);
	assert_int_equal(zones[1].oldest, 1764632000);
	assert_string_equal(zones[1].oldest_reason, "");
}

static void
test_empty_and_blank(void **state)
{
	static const char out[] = "\n  \n";

	(void)state;
	assert_int_equal(parse("", 0, false), 0);
	assert_int_equal(sum.total, 0);
	assert_int_equal(zones[0].oldest, 0);
	assert_int_equal(parse(out, strlen(out), false), 0);
	assert_int_equal(sum.total, 0);
}

static void
test_counts_are_reset(void **state)
{
	static const char out[] = MSG1;

	(void)state;
	assert_int_equal(parse(out, strlen(out), false), 0);
	assert_int_equal(parse(out, strlen(out), false), 0);
	assert_int_equal(zones[0].messages, 1);
	assert_int_equal(sum.total, 1);
}

static void
test_warning_lines_skipped(void **state)
{
	static const char out[] =
		"postqueue: warning: Mail system is down -- accessing queue directly\n" MSG1;

	(void)state;
	assert_int_equal(parse(out, strlen(out), false), 0);
	assert_int_equal(sum.warnings, 1);
	assert_int_equal(sum.total, 1);
}

static void
test_one_recipient_counts_once_per_zone(void **state)
{
	static const char out[] =
		"{\"queue_id\": \"A\", \"arrival_time\": 5, \"recipients\": ["
		"{\"address\": \"a@example.com\"}, {\"address\": \"b@example.com.\"}]}";

	(void)state;
	/* No newline at the end of an uncut output: the line still counts. */
	assert_int_equal(parse(out, strlen(out), false), 0);
	assert_int_equal(zones[0].messages, 1);
	assert_int_equal(zones[0].recipients, 2);
	assert_int_equal(zones[0].bytes, 0); /* no message_size */
}

static void
test_garbage(void **state)
{
	static const struct {
		const char *in;
		const char *why;
	} bad[] = {
		{"postqueue: fatal: invalid option -- 'j'\n", "line 1: not JSON"},
		{"Mail queue is empty\n", "not JSON"},
		{MSG1 "[1,2]\n", "line 2: not a message object"},
		{"{\"arrival_time\": 1, \"recipients\": []}\n", "no queue_id"},
		{"{\"queue_id\": \"A\", \"recipients\": []}\n", "no arrival_time"},
		{"{\"queue_id\": \"A\", \"arrival_time\": -4, \"recipients\": []}\n",
		 "no arrival_time"},
		{"{\"queue_id\": \"A\", \"arrival_time\": \"x\", \"recipients\": []}\n",
		 "no arrival_time"},
		{"{\"queue_id\": \"A\", \"arrival_time\": 1}\n", "no recipients"},
		{"{\"queue_id\": \"A\", \"arrival_time\": 1, \"recipients\": [1]}\n",
		 "without an address"},
		{"{\"queue_id\": \"A\", \"arrival_time\": 1, \"recipients\": [{}]}\n",
		 "without an address"},
		{"{\"queue_id\": \"A\", \"arrival_time\": 1, \"message_size\": \"big\", "
		 "\"recipients\": []}\n",
		 "message_size"},
		{"{\"queue_id\": \"A\", \"queue_id\": \"B\", \"arrival_time\": 1, \"recipients\": "
		 "[]}\n",
		 "not JSON"},
		{"{\"queue_id\": \"A\"} {\"queue_id\": \"B\"}\n", "not JSON"},
		{"\x01\xff\xfe binary\n", "not JSON"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].in, strlen(bad[i].in), false), MXF_EPROTO);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("input %zu: \"%s\" lacks \"%s\"", i, err, bad[i].why);
	}
	/* The quote of a bad line is one clean line, cut. */
	assert_int_equal(parse("\x01\xff\xfe binary\n", 13, false), MXF_EPROTO);
	assert_null(strchr(err, '\x01'));
}

static void
test_nul_in_line(void **state)
{
	static const char out[] =
		"{\"queue_id\": \"A\0\", \"arrival_time\": 1, \"recipients\": []}\n";

	(void)state;
	assert_int_equal(parse(out, sizeof(out) - 1, false), MXF_EPROTO);
}

static void
test_line_too_long(void **state)
{
	size_t n = QUEUE_LINE_MAX + 10;
	char *big = malloc(n + 1);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[n - 1] = '\n';
	big[n] = '\0';
	assert_int_equal(parse(big, n, false), MXF_ETOOBIG);
	assert_non_null(strstr(err, "longer than"));
	free(big);
}

static void
test_truncated_drops_the_cut_line(void **state)
{
	static const char out[] = MSG1 MSG2 "{\"queue_name\": \"deferred\", \"queue_id\": \"cut";

	(void)state;
	assert_int_equal(parse(out, strlen(out), true), 0);
	assert_true(sum.truncated);
	assert_int_equal(sum.total, 2);
	/* Not cut: the same partial line is garbage. */
	assert_int_equal(parse(out, strlen(out), false), MXF_EPROTO);
	assert_non_null(strstr(err, "line 3"));
}

static void
test_too_many_zones(void **state)
{
	static struct queue_zone many[QUEUE_ZONES_MAX + 1];

	(void)state;
	for (size_t i = 0; i < QUEUE_ZONES_MAX + 1; i++)
		many[i].zone = "example.com.";
	assert_int_equal(
		queue_parse("", 0, false, many, QUEUE_ZONES_MAX + 1, &sum, err, sizeof(err)),
		MXF_EINVAL);
	assert_int_equal(queue_parse(MSG1, strlen(MSG1), false, many, QUEUE_ZONES_MAX, &sum, err,
				     sizeof(err)),
			 0);
	assert_int_equal(many[QUEUE_ZONES_MAX - 1].messages, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_per_zone),
		cmocka_unit_test(test_empty_and_blank),
		cmocka_unit_test(test_counts_are_reset),
		cmocka_unit_test(test_warning_lines_skipped),
		cmocka_unit_test(test_one_recipient_counts_once_per_zone),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_nul_in_line),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_truncated_drops_the_cut_line),
		cmocka_unit_test(test_too_many_zones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
