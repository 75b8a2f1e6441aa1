/*
 * status_queue.h -- the backup queues (queue_watch.h) on the status
 * endpoint: a "queues" array in /api/status, mxfailover_queue_* gauges in
 * /metrics and a "Backup queues" table on the dashboard.  One call each
 * from status_http.c; pure (the time comes in as an argument).
 *
 *   mxfailover_queue_messages{server,zone}   messages held for the zone
 *   mxfailover_queue_oldest_seconds{server}  age of the oldest of them
 *                                            (0 when none is held)
 *   mxfailover_queue_read_success{server}    1 when the last reading worked
 *   mxfailover_queue_read_timestamp_seconds{server}  when it ended
 *
 * A server whose queue was never read has no samples (unknown is absence,
 * not -1).
 */
#ifndef MXF_STATUS_QUEUE_H
#define MXF_STATUS_QUEUE_H

#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "queue_watch.h"

/* Set "queues" in @root: one object per watched server (NULL @qw: []). */
void status_queue_json(json_t *root, const struct queue_watch *qw, int64_t now);

/* Append the mxfailover_queue_* families to @b (nothing when @qw is NULL
 * or empty, so the exposition stays valid). */
void status_queue_metrics(struct buf *b, const struct queue_watch *qw, int64_t now);

/* Append the dashboard's "Backup queues" section (nothing when none). */
void status_queue_html(struct buf *b, const struct queue_watch *qw, int64_t now);

#endif
