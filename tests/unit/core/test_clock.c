/*
 * test_clock.c -- the clocks read sensibly and move forward.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "clock.h"

static void
test_clocks(void **state)
{
	struct timespec d = {0, 20 * 1000 * 1000};
	uint64_t wall = clock_wall_ms(), t0 = clock_mono_ms(), since;

	(void)state;
	/* After 2020-01-01 and within a second of time().  time() reads the
	 * coarse clock, which may still show the previous second for a tick
	 * after CLOCK_REALTIME has passed it: one second either way. */
	assert_true(wall > 1577836800000ULL);
	assert_true(wall / 1000 + 1 >= (uint64_t)time(NULL));
	assert_true(wall / 1000 <= (uint64_t)time(NULL) + 1);
	nanosleep(&d, NULL);
	since = clock_mono_since_ms(t0);
	assert_true(since >= 20);
	assert_true(since < 10000);
	assert_true(clock_mono_ms() >= t0 + 20);
	assert_int_equal(clock_mono_since_ms(clock_mono_ms() + 100000), 0);
}

static void
test_timeval(void **state)
{
	struct timeval tv = clock_timeval(2345);

	(void)state;
	assert_int_equal(tv.tv_sec, 2);
	assert_int_equal(tv.tv_usec, 345000);
	tv = clock_timeval(0);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 0);
	tv = clock_timeval(999);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 999000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_timeval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
