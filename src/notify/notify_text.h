/*
 * notify_text.h -- the words of a notice: mail subject, body and whole
 * message, the webhook's JSON body, the exec hook's environment, and the
 * pieces they are made of (times, "host:port" of a URL, address lists,
 * scrubbing of secrets; durations come from value.h).
 *
 * Everything here is pure: no sockets, no clock (the current time is an
 * argument; local time uses the process's TZ), no logging, so every text a
 * channel sends is unit-tested byte for byte.  The channels (notify_mail.c,
 * notify_webhook.c, notify_exec.c) and the notice copy (notify.c) call these.
 */
#ifndef MXF_NOTIFY_TEXT_H
#define MXF_NOTIFY_TEXT_H

#include <stddef.h>
#include <time.h>

#include "notify.h"

/*
 * notify_text_subject -- the Subject line, e.g. "[mxfailover] mail: switched
 * mx1 -> mx2".  @now is used by reminders (the outage's duration).
 * @return a malloc'ed string the caller frees, or NULL when out of memory.
 */
char *notify_text_subject(const struct notify_event *e, time_t now);

/*
 * notify_text_body -- the plain-text body: what happened, when (local time
 * and UTC), why, which records point where, what mxfailover does next; lines
 * end in "\n" and stay short enough to read on a phone.  @host names this
 * monitor in the signature.
 * @return a malloc'ed string, or NULL when out of memory.
 */
char *notify_text_body(const struct notify_event *e, const char *host, time_t now);

/*
 * notify_text_mail_message -- a whole RFC 5322 message (headers Date, From,
 * To, Subject, Message-ID, MIME-Version, Content-Type, Auto-Submitted, and
 * the body), CRLF line ends, for libcurl to send.
 * @from     the sender address; @to the recipient list as configured
 *           (commas between addresses).
 * @msgid    the Message-ID without angle brackets.
 * @now      the Date header's time.
 * @return a malloc'ed string, or NULL when out of memory.
 */
char *notify_text_mail_message(const struct notify_event *e, const char *from, const char *to,
			       const char *msgid, const char *host, time_t now);

/*
 * notify_text_split_addresses -- "a@x, b@y" into a NULL-terminated malloc'ed
 * array of malloc'ed trimmed addresses (empty items skipped).  Free with
 * notify_strv_free().  @return 0, MXF_EINVAL (no address at all, or an item
 * without '@' or with a space, '<' or '>'), MXF_ENOMEM.
 */
int notify_text_split_addresses(const char *list, char ***out);

/*
 * notify_text_json -- the webhook body: one JSON object with "version",
 * "event", "group", "server", "from", "to", "zones" (array), "records"
 * (array), "reason", "time" (RFC 3339 UTC), "test"; a reminder adds "about"
 * and "since", a queue flush "failed".  Absent strings are null.
 * @return a malloc'ed string, or NULL when out of memory.
 */
char *notify_text_json(const struct notify_event *e);

/*
 * notify_text_env -- the exec hook's environment: @base (e.g. environ)
 * without the variables set here, then MXF_EVENT, MXF_GROUP, MXF_SERVER,
 * MXF_FROM, MXF_TO, MXF_ZONES (space-separated), MXF_RECORDS (", "-
 * separated), MXF_REASON, MXF_TIME (RFC 3339 UTC), MXF_VERSION, and
 * MXF_ABOUT, MXF_SINCE (reminders), MXF_FAILED (queue_flush: 0/1), MXF_TEST
 * (1 for a test notice).  Absent fields are set to "".
 * @return a NULL-terminated malloc'ed array (notify_strv_free), or NULL.
 */
char **notify_text_env(const struct notify_event *e, char *const *base);

/*
 * notify_text_redact -- a copy of @s in which every occurrence of each of
 * the @n @secrets (those of NOTIFY_SECRET_MIN bytes or more) is replaced by
 * "[redacted]", and control characters by '?' (so the text stays one line
 * and cannot inject mail headers).  NULL @s gives NULL.
 * @return a malloc'ed string, or NULL (also when out of memory: check @s).
 */
char *notify_text_redact(const char *s, const char *const *secrets, size_t n);

/*
 * notify_text_url_peer -- "host:port" of an smtp(s)/http(s) URL for log
 * lines: no user, password, path or query (webhook paths often hold a
 * token).  Written into @buf (always NUL-terminated).  @return @buf.
 */
char *notify_text_url_peer(const char *url, char *buf, size_t size);

/*
 * notify_text_format_time -- "2026-11-23 09:26:00 CET (08:26:00 UTC)" into
 * @buf, or "2026-11-23 08:26:00 UTC" when local time is UTC.  @return @buf.
 */
char *notify_text_format_time(time_t t, char *buf, size_t size);

#endif
