/*
 * test_check.c -- the check engine's pure parts: state and phase names,
 * durations, quoting of peer text, URL validation through the engine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "mxf.h"

static void
test_state_names(void **state)
{
	assert_string_equal(check_state_name(CHECK_STATE_UP), "up");
	assert_string_equal(check_state_name(CHECK_STATE_DOWN), "down");
	assert_string_equal(check_state_name(CHECK_STATE_WARNING), "warning");
	assert_string_equal(check_state_name((enum check_state)42), "unknown");
}

static void
test_phase_names(void **state)
{
	/* Every phase has a name and a "waiting" phrase. */
	for (int p = 0; p < CHECK_PHASE_COUNT_; p++) {
		assert_string_not_equal(check_phase_name((enum check_phase)p), "unknown");
		assert_string_not_equal(check_phase_waiting((enum check_phase)p), "waiting");
	}
	assert_string_equal(check_phase_name(CHECK_PHASE_CONNECT), "connect");
	assert_string_equal(check_phase_name(CHECK_PHASE_TLS), "TLS handshake");
	assert_string_equal(check_phase_name(CHECK_PHASE_EHLO), "EHLO");
	assert_string_equal(check_phase_waiting(CHECK_PHASE_GREETING), "waiting for the greeting");
	assert_string_equal(check_phase_name(CHECK_PHASE_COUNT_), "unknown");
}

static void
test_format_duration(void **state)
{
	char buf[32];

	assert_string_equal(check_format_duration(0, buf, sizeof(buf)), "0 ms");
	assert_string_equal(check_format_duration(999, buf, sizeof(buf)), "999 ms");
	assert_string_equal(check_format_duration(1000, buf, sizeof(buf)), "1.0 s");
	assert_string_equal(check_format_duration(5049, buf, sizeof(buf)), "5.0 s");
	assert_string_equal(check_format_duration(12345, buf, sizeof(buf)), "12.3 s");
}

static void
test_quote(void **state)
{
	char out[16];

	check_quote("220 ok", 6, out, sizeof(out));
	assert_string_equal(out, "220 ok");
	check_quote("a\0b\x01\xff", 5, out, sizeof(out));
	assert_string_equal(out, "a\\x00b\\x01\\xff");
	/* Cut with "..." and always terminated. */
	check_quote("0123456789abcdefghij", 20, out, sizeof(out));
	assert_string_equal(out, "0123456789ab...");
	assert_true(strlen(out) < sizeof(out));
	/* Exactly fitting text is not cut. */
	check_quote("0123456789abcde", 15, out, sizeof(out));
	assert_string_equal(out, "0123456789abcde");
	/* An escape that would not fit is not split. */
	check_quote("0123456789a\x01zzzzz", 17, out, sizeof(out));
	assert_string_equal(out, "0123456789a...");
	check_quote("x", 1, out, 1);
	assert_string_equal(out, "");
}

static void
test_validate(void **state)
{
	char err[160];

	assert_int_equal(check_validate("smtp://192.0.2.1", err, sizeof(err)), 0);
	assert_int_equal(check_validate("imaps://[2001:db8::1]:993?timeout=3s&verify=no", err, sizeof(err)), 0);
	assert_int_equal(check_validate("exec:/bin/true", err, sizeof(err)), 0);
	assert_int_equal(check_validate("dns://192.0.2.53/example.org/SOA", err, sizeof(err)), 0);
	assert_int_equal(check_validate("gopher://192.0.2.1", err, sizeof(err)), MXF_EINVAL);
	assert_non_null(strstr(err, "gopher"));
	assert_int_equal(check_validate("smtp://192.0.2.1:70000", err, sizeof(err)), MXF_EINVAL);
	assert_int_equal(check_validate("smtp://192.0.2.1?timeout=soon", err, sizeof(err)), MXF_EINVAL);
	assert_int_equal(check_validate("", err, sizeof(err)), MXF_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_phase_names),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
