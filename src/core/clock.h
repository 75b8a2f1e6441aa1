/*
 * clock.h -- the two clocks, in milliseconds.
 *
 * Wall time is for what people and files see (timestamps in the state file,
 * notices, status pages); monotonic time is for measuring and deadlines,
 * which must not jump when the wall clock is set.  Pure modules take time
 * as an argument and never call these.
 */
#ifndef MXF_CLOCK_H
#define MXF_CLOCK_H

#include <stdint.h>
#include <sys/time.h>

/* @return milliseconds since the Unix epoch (CLOCK_REALTIME). */
uint64_t clock_wall_ms(void);

/* @return milliseconds on CLOCK_MONOTONIC, from an arbitrary start. */
uint64_t clock_mono_ms(void);

/*
 * clock_mono_since_ms -- how long ago a clock_mono_ms() reading was.
 * @return clock_mono_ms() - @t0, or 0 when @t0 lies in the future.
 */
uint64_t clock_mono_since_ms(uint64_t t0);

/*
 * clock_timeval -- @ms milliseconds as a struct timeval, the form libevent
 * takes for a timer's delay.
 */
struct timeval clock_timeval(uint64_t ms);

#endif
