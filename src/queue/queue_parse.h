/*
 * queue_parse.h -- what a backup MX's mail queue holds for some zones, from
 * the output of Postfix's `postqueue -j`: one JSON object per line and per
 * message (queue_name, queue_id, arrival_time, message_size, sender,
 * recipients[{address, delay_reason}]).
 *
 * Pure: it reads a buffer the caller captured (queue_read.c runs the
 * command over SSH) and counts; no I/O, no clock, no logging.  The input
 * is bounded by the caller (QUEUE_OUT_MAX) and every line by
 * QUEUE_LINE_MAX, so a server that sends a gigabyte costs at most that.
 */
#ifndef MXF_QUEUE_PARSE_H
#define MXF_QUEUE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most `postqueue -j` output read (the rest is dropped, the counts then
 * say "at least"): some 8,000 messages of typical size. */
#define QUEUE_OUT_MAX (4u << 20)
/* The longest line (one message) accepted: many recipients fit. */
#define QUEUE_LINE_MAX (256u << 10)
/* The most zones counted in one pass. */
#define QUEUE_ZONES_MAX 256
/* The longest delay_reason kept. */
#define QUEUE_REASON_MAX 200

/* What the queue holds for one zone.  The caller sets @zone; queue_parse
 * fills the rest. */
struct queue_zone {
	const char *zone;  /* borrowed: absolute ("example.com."), any case */
	size_t messages;   /* messages with at least one recipient in the zone */
	size_t recipients; /* their recipients in the zone */
	uint64_t bytes;	   /* message_size of those messages, summed */
	int64_t oldest;	   /* arrival_time (Unix seconds) of the oldest; 0: none */
	char oldest_reason[QUEUE_REASON_MAX]; /* a delay_reason of that message's
					       * recipient in the zone ("" none),
					       * one line of valid UTF-8 */
};

struct queue_summary {
	size_t total;	 /* every message in the output, any domain */
	size_t matched;	 /* messages with a recipient in any of the zones */
	int64_t oldest;	 /* oldest arrival among the matched; 0: none */
	size_t warnings; /* "postqueue: warning: ..." lines skipped */
	bool truncated;	 /* the output was cut: counts are lower bounds */
};

/*
 * queue_parse -- count @buf's messages per zone of @zones.
 * @buf, @len   the output (need not be NUL-terminated); empty is an empty queue.
 * @truncated   the caller cut the output at its maximum: the last line, if
 *              it has no newline, is dropped, and @sum says truncated.
 * @zones       @nzones entries whose zone is set; their counts are reset and
 *              filled.  A recipient counts for a zone when its address's
 *              domain is the zone itself (case-insensitive; subdomains are
 *              other domains, with MX records of their own).  At most
 *              QUEUE_ZONES_MAX (else MXF_EINVAL).
 * @sum         filled (reset first).
 * @return 0; MXF_EPROTO when a line is not a message object of postqueue -j
 *         (@err: "line N: ..." quoting it), MXF_ETOOBIG for a line longer
 *         than QUEUE_LINE_MAX, MXF_ENOMEM.  The counts are then unusable.
 */
int queue_parse(const char *buf, size_t len, bool truncated, struct queue_zone *zones,
		size_t nzones, struct queue_summary *sum, char *err, size_t errsize);

#endif
