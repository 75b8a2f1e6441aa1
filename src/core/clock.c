/*
 * clock.c -- wall and monotonic clocks in milliseconds (see clock.h).
 */
#include "clock.h"

#include <time.h>

static uint64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
clock_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

uint64_t
clock_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

uint64_t
clock_mono_since_ms(uint64_t t0)
{
	uint64_t now = clock_mono_ms();

	return now > t0 ? now - t0 : 0;
}

struct timeval
clock_timeval(uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	return tv;
}
