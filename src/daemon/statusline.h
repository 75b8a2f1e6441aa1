/*
 * statusline.h -- the daemon's state in one line, for systemd's STATUS=
 * (sdnotify.h) and so for `systemctl status mxfailover`:
 *
 *   mail: active mx2 since 12:01 (mx1 down: 421 4.3.2 Service shutting down)
 *
 * one clause per group, joined by "; ", led by "ISOLATED: " while every
 * witness fails.  Pure: the time comes in as an argument; the clock times
 * are local (localtime_r, TZ).
 */
#ifndef MXF_STATUSLINE_H
#define MXF_STATUSLINE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "state.h"

/* A line longer than this is cut (with "..."); systemd shows one line. */
#define STATUSLINE_MAX 1024
/* A server's reason longer than this is cut with "...". */
#define STATUSLINE_REASON_MAX 120

/*
 * statusline_format -- the line for @cfg and @st at @now_ms into @buf
 * (@size bytes, at least 4), always NUL-terminated, cut on a UTF-8
 * character boundary when it does not fit.
 * @return the length of the line written.
 */
size_t statusline_format(const struct config *cfg, const struct state *st, uint64_t now_ms,
			 char *buf, size_t size);

#endif
