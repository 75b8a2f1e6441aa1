/*
 * test_argv.c -- the command-line splitter: white space, quotes, limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "mxf.h"

static void
test_plain(void **state)
{
	char **v = NULL;

	(void)state;
	assert_int_equal(argv_split("  /bin/prog -w\t10%  x ", 8, &v), 0);
	assert_int_equal(argv_count(v), 4);
	assert_string_equal(v[0], "/bin/prog");
	assert_string_equal(v[1], "-w");
	assert_string_equal(v[2], "10%");
	assert_string_equal(v[3], "x");
	assert_null(v[4]);
	argv_free(v);
	argv_free(NULL);
	assert_int_equal(argv_count(NULL), 0);
}

static void
test_quotes(void **state)
{
	char **v = NULL;

	(void)state;
	assert_int_equal(argv_split("/p 'a b' \"c 'd'\" '' e", 8, &v), 0);
	assert_int_equal(argv_count(v), 5);
	assert_string_equal(v[1], "a b");
	assert_string_equal(v[2], "c 'd'");
	assert_string_equal(v[3], "");
	assert_string_equal(v[4], "e");
	argv_free(v);
}

static void
test_refused(void **state)
{
	char **v = (char **)0x1;
	enum argv_why why;

	(void)state;
	assert_int_equal(argv_split_why("", 8, &v, &why), MXF_EINVAL);
	assert_int_equal(why, ARGV_EMPTY);
	assert_int_equal(argv_split_why(" \t ", 8, &v, &why), MXF_EINVAL);
	assert_int_equal(why, ARGV_EMPTY);
	assert_int_equal(argv_split_why(NULL, 8, &v, &why), MXF_EINVAL);
	assert_int_equal(argv_split_why("/p 'a b", 8, &v, &why), MXF_EINVAL);
	assert_int_equal(why, ARGV_UNTERMINATED);
	assert_int_equal(argv_split_why("/p 'a b'c", 8, &v, &why), MXF_EINVAL);
	assert_int_equal(why, ARGV_QUOTE_END);
	assert_int_equal(argv_split_why("/p a'b'", 8, &v, &why), MXF_EINVAL);
	assert_int_equal(why, ARGV_QUOTE_MID);
	assert_int_equal(argv_split_why("/p a b c", 3, &v, &why), MXF_ETOOBIG);
	assert_int_equal(why, ARGV_TOO_MANY);
	assert_ptr_equal(v, (char **)0x1);
	assert_int_equal(argv_split_why("/p a b", 3, &v, &why), 0);
	assert_int_equal(why, ARGV_OK);
	argv_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
