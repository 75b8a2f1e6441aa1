/*
 * test_suggest.c -- edit distance and the nearest known word ("did you mean").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mxf.h"
#include "suggest.h"

static void
test_distance(void **state)
{
	(void)state;
	assert_int_equal(suggest_distance("", ""), 0);
	assert_int_equal(suggest_distance(NULL, "abc"), 3);
	assert_int_equal(suggest_distance("abc", ""), 3);
	assert_int_equal(suggest_distance("interval", "interval"), 0);
	assert_int_equal(suggest_distance("intervall", "interval"), 1); /* insertion */
	assert_int_equal(suggest_distance("intrval", "interval"), 1);	/* deletion */
	assert_int_equal(suggest_distance("smpt", "smtp"), 1);		/* swap */
	assert_int_equal(suggest_distance("kitten", "sitting"), 3);
	assert_int_equal(suggest_distance("STATUS", "status"), 0); /* case */
	assert_int_equal(suggest_distance("ca", "abc"), 3);	   /* OSA, not full DL */
}

static void
test_long_words(void **state)
{
	char a[200], b[200];

	(void)state;
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[150] = 'y'; /* past SUGGEST_MAX_WORD: not seen */
	assert_int_equal(suggest_distance(a, b), 0);
	b[3] = 'y';
	assert_int_equal(suggest_distance(a, b), 1);
}

static void
test_nearest(void **state)
{
	static const char *const cmds[] = {"run",   "once", "status", "plan",	NULL,
					   "probe", "pin",  "unpin",  "config", "notify"};
	static const char *const schemes[] = {"smtp", "smtps", "submission", "imap", "http"};

	(void)state;
	assert_string_equal(suggest_nearest("stauts", cmds, MXF_ARRAY_SIZE(cmds)), "status");
	assert_string_equal(suggest_nearest("unpn", cmds, MXF_ARRAY_SIZE(cmds)), "unpin");
	assert_string_equal(suggest_nearest("confgi", cmds, MXF_ARRAY_SIZE(cmds)), "config");
	/* Equally near: the first listed wins. */
	assert_string_equal(suggest_nearest("pun", cmds, MXF_ARRAY_SIZE(cmds)), "run");
	assert_string_equal(suggest_nearest("smpt", schemes, MXF_ARRAY_SIZE(schemes)), "smtp");
	/* Too far, the word itself, empty, a one-letter word: no suggestion. */
	assert_null(suggest_nearest("xyzzy", cmds, MXF_ARRAY_SIZE(cmds)));
	assert_null(suggest_nearest("status", cmds, MXF_ARRAY_SIZE(cmds)));
	assert_null(suggest_nearest("", cmds, MXF_ARRAY_SIZE(cmds)));
	assert_null(suggest_nearest(NULL, cmds, MXF_ARRAY_SIZE(cmds)));
	assert_null(suggest_nearest("q", cmds, MXF_ARRAY_SIZE(cmds)));
	assert_null(suggest_nearest("stat", cmds, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_long_words),
		cmocka_unit_test(test_nearest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
