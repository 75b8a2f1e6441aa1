/*
 * notify.h -- telling the administrators: mail, webhook and exec hook, each
 * event once per channel, delivered asynchronously on the daemon's libevent
 * loop.
 *
 * The daemon translates what happened (a server went down, records were
 * switched, ETRN failed, ...) into a struct notify_event and calls
 * notify_send(), which copies the event and returns at once: delivery runs
 * on the event loop (libcurl's multi interface for mail and webhooks, a
 * child process for exec), so a channel that hangs or refuses never delays
 * a check or a DNS change.  Each channel delivers each event once; a failed
 * attempt is logged (log.h, with the peer as host:port) and retried a
 * bounded number of times with doubling backoff, then given up with a log
 * line.
 *
 * Secrets: the SMTP password never leaves libcurl's AUTH exchange (which
 * only runs over TLS, see notify_new()); no URL is logged, only host:port;
 * curl's verbose output stays off; and every text field of an event is
 * scrubbed of the registered secrets (the SMTP password, the TSIG secret,
 * see notify_add_secret()) before it reaches a mail, a webhook body, an exec
 * environment or a log line.
 *
 * Inside (notify*.c): notify.c keeps notices, retries and this API;
 * notify_text.c builds the words (pure: no sockets, no clock, no logging);
 * notify_curl.c drives libcurl on the loop; one file per channel
 * (notify_mail.c, notify_webhook.c, notify_exec.c) behind the vtable of
 * notify_impl.h.  notify_reminder_next and notify_reminder_init are pure.
 */
#ifndef MXF_NOTIFY_H
#define MXF_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct event_base;
struct config_notify;
struct notify;

/* Version of the webhook JSON body and of the exec environment. */
#define NOTIFY_FORMAT_VERSION 1

/* Most deliveries (event x channel) in flight or waiting to retry; more are
 * refused with a log line rather than eating memory during an event storm. */
#define NOTIFY_MAX_PENDING 256

enum notify_kind {
	NOTIFY_SERVER_DOWN,
	NOTIFY_SERVER_UP,
	NOTIFY_SWITCHED,
	NOTIFY_SWITCH_FAILED,
	NOTIFY_ALL_DOWN,
	NOTIFY_ISOLATED,
	NOTIFY_ISOLATION_OVER,
	NOTIFY_CHANGED_BY_HAND,
	NOTIFY_RECORD_MISSING,
	NOTIFY_QUEUE_FLUSH,
	NOTIFY_REMINDER,
	NOTIFY_SWITCH_COMPLETED,
	NOTIFY_AUDIT_FINDING,
	NOTIFY_AUDIT_CLEAR,
	NOTIFY_QUORUM_LOST,
	NOTIFY_QUORUM_BACK,
	NOTIFY_KIND_COUNT_
};

enum notify_channel {
	NOTIFY_CH_MAIL,
	NOTIFY_CH_WEBHOOK,
	NOTIFY_CH_EXEC,
	NOTIFY_CH_COUNT_
};

/*
 * One event.  Every pointer is borrowed: notify_send() copies what it needs.
 * Fields that do not apply are NULL (or 0); each kind uses:
 *   server_down, server_up      group, server, reason (the failing check)
 *   switched                    group, from, to, zones, records, reason
 *   switch_failed               group, from, to, zones (the failed ones), reason
 *   switch_completed            group, to, zones and records (those that moved
 *                               later: a retry, a restart), reason
 *   all_down                    group, server (where records stay), reason
 *   isolated, isolation_over    reason (the witnesses' results)
 *   quorum_lost, quorum_back    reason (which monitors' views are fresh)
 *   changed_by_hand             group, zones, records (what DNS holds), reason
 *   record_missing              group, zones (the zone), reason (the record)
 *   queue_flush                 group, server (the backup MX), zones, reason
 *                               (its reply), failed
 *   reminder                    about, since, plus the fields of the event
 *                               the outage began with
 */
struct notify_event {
	enum notify_kind kind;
	const char *group;
	const char *server;
	const char *from;            /* server the records pointed at before */
	const char *to;              /* server they point at now (or should) */
	const char *const *zones;    /* absolute names, trailing dot */
	size_t nzones;
	const char *const *records;  /* "mx.example.com. CNAME mx2.example.com." */
	size_t nrecords;
	const char *reason;          /* one line: why, in the peer's words */
	time_t time;                 /* when it happened; 0: at notify_send() */
	/* queue_flush: ETRN failed (the reason has the server's reply). */
	bool failed;
	/* reminder: the kind of the event that began the outage, and when. */
	enum notify_kind about;
	time_t since;
	/* A test notice (`mxfailover notify test`): said so in every channel. */
	bool test;
	/* queue_flush at a server with a [server] queue: what its queue held
	 * when last read after the ETRN, one line ("no mail left for
	 * example.com"), or NULL when the queue is not read; queue_drained is
	 * then 1 (no mail left for the zones), 0 (some still held at the
	 * bound) or -1 (it could not be read). */
	const char *queue;
	int queue_drained;
};

/* Tuning; zero fields take the defaults in brackets. */
struct notify_opts {
	uint64_t timeout_ms;         /* one attempt of mail or webhook, whole [30 s] */
	uint64_t connect_timeout_ms; /* TCP + TLS connect of one attempt [10 s] */
	uint64_t exec_timeout_ms;    /* exec hook, until killed [30 s] */
	unsigned attempts;           /* tries per event and channel [4] */
	uint64_t backoff_ms;         /* wait before the 2nd try, doubling [5 s] */
	const char *hostname;        /* this monitor's name in mails [gethostname] */
};

/*
 * notify_result_fn -- a delivery is over: @delivered, or given up after the
 * last attempt with @reason (one line, no secrets).  @e is the event as
 * sent (secrets scrubbed), valid only during the call.  The callback may
 * call notify_send(); it must not free the notifier.
 */
typedef void (*notify_result_fn)(enum notify_channel ch, const struct notify_event *e,
				 bool delivered, const char *reason, void *arg);

/* "server_down", ...; "unknown" outside the enum. */
const char *notify_kind_name(enum notify_kind k);
/* Kind by name.  @return 0, or MXF_EINVAL. */
int notify_kind_parse(const char *name, enum notify_kind *out);
/* "mail", "webhook", "exec". */
const char *notify_channel_name(enum notify_channel ch);

/*
 * notify_new -- a notifier delivering on @base (which stays the caller's
 * and must outlive it) through the channels @cfg configures: mail when
 * mail_to is set (through smtp_url, or the active server with via_active),
 * webhook when webhook is set, exec when exec is set.
 *
 * Mail transport (smtp_url):
 *   smtps://HOST[:465]   implicit TLS.
 *   smtp://HOST[:25]     STARTTLS when offered; required (the mail is not
 *                        sent without it) when the port is 587 or when
 *                        smtp_user is set: a password never travels in
 *                        clear text.
 *   via_active           smtp://ACTIVE-NAME:via_active_port, connected to the
 *                        address given to notify_set_active(); STARTTLS
 *                        required when via_active_starttls (or a user is
 *                        set), else when offered.
 * Certificates are verified (CA: $MXF_CA_FILE, else the system store).
 * The password comes from smtp_password_file, which must be a regular file
 * not accessible by group or others (else notify_new refuses, like ssh with
 * a private key), or from the inline smtp_password (DNS_Failover).
 *
 * @cfg   read during the call only (everything needed is copied).
 * @opts  NULL: defaults.
 * @err   receives why on failure (unsafe or unreadable password file).
 * @return the notifier, or NULL (MXF_EPERM/MXF_EIO/MXF_ENOMEM situations
 *         described in @err).
 */
struct notify *notify_new(struct event_base *base, const struct config_notify *cfg,
			  const struct notify_opts *opts, char *err, size_t errsize);

/*
 * notify_free -- cancel every pending delivery (each logged as given up at
 * shutdown; result callbacks are not called), kill a running exec hook,
 * free everything.  NULL is accepted.
 */
void notify_free(struct notify *n);

/* Bit (1 << enum notify_channel) for every channel that is configured. */
unsigned notify_channels(const struct notify *n);

/* Set the callback told of every finished delivery (NULL: none). */
void notify_set_result_cb(struct notify *n, notify_result_fn cb, void *arg);

/*
 * notify_add_secret -- text that must never appear in a notice or a log
 * line written by this module (e.g. the TSIG secret in base64).  Strings
 * shorter than NOTIFY_SECRET_MIN are ignored (they would scrub ordinary
 * words).  The SMTP password is added by notify_new() itself.
 * @return 0 or MXF_ENOMEM.
 */
#define NOTIFY_SECRET_MIN 4
int notify_add_secret(struct notify *n, const char *secret);

/*
 * notify_set_active -- via_active mode: the server mail is sent through,
 * @name its host name (for the TLS name check and the URL) and @address
 * the IP literal to connect to.  Either may be NULL (address alone: the
 * certificate is checked against nothing but the CA; name alone: resolved).
 * Copied.  @return 0 or MXF_ENOMEM.
 */
int notify_set_active(struct notify *n, const char *name, const char *address);

/*
 * notify_send -- queue @e for every configured channel and return at once.
 * The event is copied (strings scrubbed of secrets and control characters).
 * @return the number of deliveries queued (0 when no channel is
 *         configured), or MXF_ENOMEM, or MXF_ETOOBIG when
 *         NOTIFY_MAX_PENDING deliveries are already pending (logged).
 */
int notify_send(struct notify *n, const struct notify_event *e);

/* Deliveries queued, running or waiting to retry. */
size_t notify_pending(const struct notify *n);

/*
 * notify_adopt -- hand what @from still has to deliver to @to (a reload
 * with a changed [notify]): every pending notice is queued afresh in @to,
 * with a full set of attempts, on the channels it was still pending on that
 * @to has (on all of @to's channels when it has none of them); a running
 * attempt is abandoned, so a notice may arrive twice but is never lost.
 * @to also takes @from's secrets, so what was redacted stays redacted.
 * @from is left with nothing pending (the caller still frees it).
 * @return the number of notices handed over (each logged when it cannot be
 *         queued in @to: see notify_send()).
 */
int notify_adopt(struct notify *to, struct notify *from);

/* ------------------------------------------------------------ pure -- */

/*
 * The words of a notice (subject, body, mail message, webhook JSON, exec
 * environment, redaction) are built by notify_text.h, which the channels
 * use; what other modules need is here.
 */

/* Free a NULL-terminated array of strings and the strings.  NULL is fine. */
void notify_strv_free(char **v);

/*
 * notify_reminder_next -- when the next reminder of an outage that began at
 * @since_ms is due, seen at @now_ms, with @interval_ms between reminders:
 * the first since + k * interval (k >= 1) later than @now_ms.
 * @return that time, or 0 when reminders are off (@interval_ms 0).
 */
uint64_t notify_reminder_next(uint64_t since_ms, uint64_t now_ms, uint64_t interval_ms);

/*
 * notify_reminder_init -- @rem becomes the reminder of the outage @outage
 * (its strings are borrowed from @outage, which must outlive @rem's use),
 * sent at @now.
 */
void notify_reminder_init(struct notify_event *rem, const struct notify_event *outage,
			  time_t now);

#endif
