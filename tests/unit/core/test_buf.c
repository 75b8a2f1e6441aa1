/*
 * test_buf.c -- the growing string buffer: growth, maximum, sticky errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mxf.h"

static void
test_grow(void **state)
{
	struct buf b = {0};
	char *s;

	(void)state;
	assert_string_equal(buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i % 10);
	assert_int_equal(b.len, 2000);
	assert_int_equal(buf_error(&b), 0);
	assert_int_equal(strncmp(buf_str(&b), "0,1,2,", 6), 0);
	buf_append(&b, "xyz", 2);
	assert_int_equal(b.len, 2002);
	s = buf_take(&b);
	assert_non_null(s);
	assert_int_equal(strlen(s), 2002);
	assert_string_equal(s + 2000, "xy");
	free(s);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_empty_take(void **state)
{
	struct buf b = BUF_INIT(10);
	char *s;

	(void)state;
	s = buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	buf_printf(&b, "%s", "");
	assert_string_equal(buf_str(&b), "");
	s = buf_take(&b);
	assert_string_equal(s, "");
	free(s);
	buf_free(NULL);
}

static void
test_max(void **state)
{
	struct buf b = BUF_INIT(10);
	char *s;

	(void)state;
	buf_printf(&b, "%s", "0123456789");
	assert_int_equal(buf_error(&b), 0);
	assert_string_equal(buf_str(&b), "0123456789");
	buf_printf(&b, "x");
	assert_int_equal(buf_error(&b), MXF_ETOOBIG);
	/* Sticky, and nothing of the failed call is kept. */
	assert_string_equal(buf_str(&b), "0123456789");
	buf_free(&b);
	assert_int_equal(buf_error(&b), 0);
	assert_int_equal(b.max, 10);

	buf_printf(&b, "%s", "01234");
	buf_printf(&b, "%s", "567890");
	assert_int_equal(buf_error(&b), MXF_ETOOBIG);
	assert_string_equal(buf_str(&b), "01234");
	buf_printf(&b, "a");
	buf_append(&b, "a", 1);
	assert_string_equal(buf_str(&b), "01234");
	s = buf_take(&b);
	assert_null(s);
	/* Take leaves the buffer usable. */
	assert_int_equal(buf_error(&b), 0);
	buf_append(&b, "abcdefghijk", 11);
	assert_int_equal(buf_error(&b), MXF_ETOOBIG);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

/* A partial vsnprintf into the free room must not survive a refusal. */
static void
test_partial(void **state)
{
	struct buf b = BUF_INIT(70);

	(void)state;
	buf_printf(&b, "%s", "abc");
	assert_true(b.cap > 3);
	buf_printf(&b, "%080d", 1);
	assert_int_equal(buf_error(&b), MXF_ETOOBIG);
	assert_string_equal(buf_str(&b), "abc");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_empty_take),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
