/*
 * queue_json.h -- one queue reading as a JSON object, the same for
 * `mxfailover queue --json` and the daemon's /api/status:
 *
 *   {"ok": true, "seconds": 0.4, "total": 12, "messages": 3,
 *    "oldest": 1767225600, "oldest_time": "2026-01-01T00:00:00Z",
 *    "oldest_age_seconds": 7500, "truncated": false, "warnings": 0,
 *    "zones": [{"zone": "example.com", "messages": 3, "recipients": 4,
 *               "bytes": 9000, "oldest": ..., "oldest_time": ...,
 *               "oldest_reason": "connect to ...: Connection refused"}]}
 *   {"ok": false, "seconds": 5.0, "error": "ssh: ... Connection refused"}
 *
 * "messages" counts messages with a recipient in the zones; "total" every
 * message in the queue.  Zones are written without their trailing dot.
 * Times absent (no message) are null.
 */
#ifndef MXF_QUEUE_JSON_H
#define MXF_QUEUE_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "queue_read.h"

/* @return a new object (the caller decrefs), or NULL when out of memory.
 * @now (Unix seconds) gives the ages. */
json_t *queue_json_result(const struct queue_result *r, int64_t now);

/* "2026-01-01T00:00:00Z" of @t into @buf (at least 24 bytes). @return @buf. */
char *queue_json_time(int64_t t, char *buf, size_t size);

#endif
