/*
 * notify.c -- mail, webhook and exec notices, delivered on the event loop.
 *
 * Life of an event: notify_send() copies the event once (a reference-
 * counted struct notice, every string scrubbed of secrets and control
 * characters) and makes one delivery per configured channel.  A delivery
 * runs attempts: mail and webhook as libcurl easy handles on one multi
 * handle driven by libevent (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION and
 * curl_multi_socket_action, so no thread and no blocking call), exec as a
 * child process (check_proc_run) with a kill timer.  A failed attempt that
 * may succeed later is retried after a doubling backoff, at most
 * opts.attempts times; then the delivery is given up.  Every outcome is
 * logged once here, with the peer as host:port (never a URL: webhook paths
 * and SMTP URLs may hold credentials), and reported to the result callback.
 *
 * The text builders at the end of the file are pure.
 */
#include "notify.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "check_proc.h"
#include "config.h"
#include "log.h"
#include "mxf.h"
#include "proto.h"

#define NOTIFY_DEFAULT_TIMEOUT_MS 30000
#define NOTIFY_DEFAULT_CONNECT_MS 10000
#define NOTIFY_DEFAULT_ATTEMPTS 4
#define NOTIFY_DEFAULT_BACKOFF_MS 5000
#define NOTIFY_PASSWORD_MAX 1024     /* bytes of a password file */
#define NOTIFY_HTTP_BODY_MAX 65536   /* webhook reply bytes read (and dropped) */
#define NOTIFY_EXEC_ARGS_MAX 32

extern char **environ;

/* The copied event, shared by its deliveries. */
struct notice {
	unsigned refs;
	struct notify_event e;
	char *group, *server, *from, *to, *reason;
	char **zones, **records;
};

struct delivery {
	struct notify *n;
	struct notice *nt;
	enum notify_channel ch;
	unsigned attempt;            /* attempts started */
	struct event *retry_ev;
	CURL *easy;
	struct curl_slist *list;     /* recipients (mail) or headers (webhook) */
	struct curl_slist *resolve;  /* via_active: name to address, kept for curl */
	char *payload;               /* the mail message or the JSON body */
	size_t len, off;
	size_t reply_bytes;          /* webhook reply bytes seen */
	char errbuf[CURL_ERROR_SIZE];
	struct check_proc *proc;
	struct event *kill_ev;
	struct delivery *prev, *next;
};

struct notify {
	struct event_base *base;
	CURLM *multi;
	struct event *curl_timer;
	struct notify_opts o;
	char hostname[256];
	/* mail */
	char *mail_to, *mail_from, *smtp_url, *smtp_user, *password;
	char **rcpt;
	bool via_active, via_starttls;
	uint16_t via_port;
	char *active_name, *active_addr;
	/* webhook, exec */
	char *webhook;
	char **exec_argv;
	/* scrubbed from every event string */
	char **secrets;
	size_t nsecrets;
	notify_result_fn cb;
	void *cbarg;
	struct delivery *list;
	size_t pending;
	unsigned long msg_counter;
};

static const char *const notify_kind_names[NOTIFY_KIND_COUNT_] = {
	[NOTIFY_SERVER_DOWN] = "server_down",
	[NOTIFY_SERVER_UP] = "server_up",
	[NOTIFY_SWITCHED] = "switched",
	[NOTIFY_SWITCH_FAILED] = "switch_failed",
	[NOTIFY_ALL_DOWN] = "all_down",
	[NOTIFY_ISOLATED] = "isolated",
	[NOTIFY_ISOLATION_OVER] = "isolation_over",
	[NOTIFY_CHANGED_BY_HAND] = "changed_by_hand",
	[NOTIFY_QUEUE_FLUSH] = "queue_flush",
	[NOTIFY_REMINDER] = "reminder",
};

static const char *const notify_channel_names[NOTIFY_CH_COUNT_] = {
	[NOTIFY_CH_MAIL] = "mail",
	[NOTIFY_CH_WEBHOOK] = "webhook",
	[NOTIFY_CH_EXEC] = "exec",
};

const char *
notify_kind_name(enum notify_kind k)
{
	if ((unsigned)k < NOTIFY_KIND_COUNT_)
		return notify_kind_names[k];
	return "unknown";
}

int
notify_kind_parse(const char *name, enum notify_kind *out)
{
	for (unsigned i = 0; i < NOTIFY_KIND_COUNT_; i++) {
		if (strcmp(notify_kind_names[i], name) == 0) {
			*out = (enum notify_kind)i;
			return 0;
		}
	}
	return MXF_EINVAL;
}

const char *
notify_channel_name(enum notify_channel ch)
{
	if ((unsigned)ch < NOTIFY_CH_COUNT_)
		return notify_channel_names[ch];
	return "unknown";
}

/* ------------------------------------------------------ small helpers -- */

void
notify_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* A growing string; once out of memory it stays failed and NULL. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (int round = 0; round < 2; round++) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s != NULL ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (s == NULL) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

static char *
sb_take(struct sbuf *b)
{
	if (b->oom || b->s == NULL) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

static const char *
or_q(const char *s)
{
	return s != NULL && *s != '\0' ? s : "?";
}

char *
notify_format_time(time_t t, char *buf, size_t size)
{
	struct tm lt, ut;
	char l[64], u[32], z[16];

	localtime_r(&t, &lt);
	gmtime_r(&t, &ut);
	strftime(z, sizeof(z), "%Z", &lt);
	strftime(u, sizeof(u), "%H:%M:%S UTC", &ut);
	if (lt.tm_gmtoff == 0 && (strcmp(z, "UTC") == 0 || strcmp(z, "GMT") == 0)) {
		strftime(l, sizeof(l), "%Y-%m-%d %H:%M:%S UTC", &ut);
		snprintf(buf, size, "%s", l);
	} else {
		strftime(l, sizeof(l), "%Y-%m-%d %H:%M:%S %Z", &lt);
		snprintf(buf, size, "%s (%s)", l, u);
	}
	return buf;
}

static char *
format_rfc3339(time_t t, char *buf, size_t size)
{
	struct tm ut;

	gmtime_r(&t, &ut);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &ut);
	return buf;
}

/* "45 s", "12 min", "2 h 10 min", "3 d 4 h". */
static char *
format_span(time_t secs, char *buf, size_t size)
{
	long long s = secs < 0 ? 0 : (long long)secs;

	if (s < 60)
		snprintf(buf, size, "%lld s", s);
	else if (s < 3600)
		snprintf(buf, size, "%lld min", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lld h %lld min", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lld d %lld h", s / 86400, s % 86400 / 3600);
	return buf;
}

char *
notify_redact(const char *s, const char *const *secrets, size_t n)
{
	static const char mark[] = "[redacted]";
	struct sbuf b = {0};
	char *out;
	size_t len;

	if (s == NULL)
		return NULL;
	for (const char *p = s; *p != '\0';) {
		size_t hit = 0;

		for (size_t i = 0; i < n; i++) {
			size_t sl = secrets[i] != NULL ? strlen(secrets[i]) : 0;
			if (sl >= NOTIFY_SECRET_MIN && strncmp(p, secrets[i], sl) == 0) {
				hit = sl;
				break;
			}
		}
		if (hit > 0) {
			sb_printf(&b, "%s", mark);
			p += hit;
		} else {
			sb_printf(&b, "%c", *p);
			p++;
		}
	}
	if (b.s == NULL && !b.oom)
		sb_printf(&b, "%s", "");
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	/* Control characters and invalid UTF-8 become '?': one safe line. */
	len = b.len;
	out = malloc(len + 4);
	if (out == NULL) {
		free(b.s);
		return NULL;
	}
	proto_printable(out, len + 4, b.s, len);
	free(b.s);
	return out;
}

char *
notify_url_peer(const char *url, char *buf, size_t size)
{
	const char *p = strstr(url, "://");
	const char *start, *end, *at, *colon;
	const char *defport = "";
	size_t hl;

	if (p == NULL) {
		snprintf(buf, size, "?");
		return buf;
	}
	if (strncasecmp(url, "smtps", 5) == 0)
		defport = "465";
	else if (strncasecmp(url, "smtp", 4) == 0)
		defport = "25";
	else if (strncasecmp(url, "https", 5) == 0)
		defport = "443";
	else if (strncasecmp(url, "http", 4) == 0)
		defport = "80";
	start = p + 3;
	end = start + strcspn(start, "/?#");
	/* The user and password end at the last '@' of the authority. */
	at = NULL;
	for (const char *q = start; q < end; q++)
		if (*q == '@')
			at = q;
	if (at != NULL)
		start = at + 1;
	hl = (size_t)(end - start);
	colon = NULL;
	if (hl > 0 && start[0] == '[') {
		const char *rb = memchr(start, ']', hl);
		if (rb != NULL && rb + 1 < end && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(start, ':', hl);
	}
	if (hl == 0)
		snprintf(buf, size, "?");
	else if (colon != NULL || *defport == '\0')
		snprintf(buf, size, "%.*s", (int)hl, start);
	else
		snprintf(buf, size, "%.*s:%s", (int)hl, start, defport);
	return buf;
}

int
notify_split_addresses(const char *list, char ***out)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = list;

	*out = NULL;
	if (list == NULL)
		return MXF_EINVAL;
	while (*p != '\0') {
		const char *e = p + strcspn(p, ",");
		const char *a = p, *z = e;
		char **nv;

		while (a < z && isspace((unsigned char)*a))
			a++;
		while (z > a && isspace((unsigned char)z[-1]))
			z--;
		if (z > a) {
			size_t l = (size_t)(z - a);
			if (memchr(a, '@', l) == NULL || memchr(a, ' ', l) != NULL ||
			    memchr(a, '<', l) != NULL || memchr(a, '>', l) != NULL ||
			    memchr(a, '\t', l) != NULL) {
				notify_strv_free(v);
				return MXF_EINVAL;
			}
			nv = realloc(v, (n + 2) * sizeof(*v));
			if (nv == NULL)
				goto oom;
			v = nv;
			v[n] = strndup(a, l);
			v[n + 1] = NULL;
			if (v[n] == NULL)
				goto oom;
			n++;
		}
		p = *e == ',' ? e + 1 : e;
	}
	if (n == 0)
		return MXF_EINVAL;
	*out = v;
	return 0;
oom:
	notify_strv_free(v);
	return MXF_ENOMEM;
}

/* ------------------------------------------------------- pure: texts -- */

uint64_t
notify_reminder_next(uint64_t since_ms, uint64_t now_ms, uint64_t interval_ms)
{
	uint64_t k;

	if (interval_ms == 0)
		return 0;
	if (now_ms < since_ms)
		return since_ms + interval_ms;
	k = (now_ms - since_ms) / interval_ms + 1;
	if (k > (UINT64_MAX - since_ms) / interval_ms)
		return UINT64_MAX;
	return since_ms + k * interval_ms;
}

void
notify_reminder_init(struct notify_event *rem, const struct notify_event *outage, time_t now)
{
	*rem = *outage;
	rem->kind = NOTIFY_REMINDER;
	rem->about = outage->kind == NOTIFY_REMINDER ? outage->about : outage->kind;
	rem->since = outage->kind == NOTIFY_REMINDER ? outage->since : outage->time;
	rem->time = now;
}

/* The kind whose words a reminder repeats. */
static enum notify_kind
subject_kind(const struct notify_event *e)
{
	return e->kind == NOTIFY_REMINDER ? e->about : e->kind;
}

/* The few words after "[mxfailover] " for @k. */
static void
describe_short(struct sbuf *b, enum notify_kind k, const struct notify_event *e)
{
	switch (k) {
	case NOTIFY_SERVER_DOWN:
		sb_printf(b, "%s is down", or_q(e->server));
		break;
	case NOTIFY_SERVER_UP:
		sb_printf(b, "%s is up again", or_q(e->server));
		break;
	case NOTIFY_SWITCHED:
		sb_printf(b, "%s: switched %s -> %s", or_q(e->group), or_q(e->from), or_q(e->to));
		break;
	case NOTIFY_SWITCH_FAILED:
		sb_printf(b, "%s: switch %s -> %s FAILED", or_q(e->group), or_q(e->from), or_q(e->to));
		break;
	case NOTIFY_ALL_DOWN:
		sb_printf(b, "%s: ALL servers down", or_q(e->group));
		break;
	case NOTIFY_ISOLATED:
		sb_printf(b, "monitor isolated, DNS changes stopped");
		break;
	case NOTIFY_ISOLATION_OVER:
		sb_printf(b, "monitor isolation over");
		break;
	case NOTIFY_CHANGED_BY_HAND:
		sb_printf(b, "%s: record changed by hand, left alone", or_q(e->group));
		break;
	case NOTIFY_QUEUE_FLUSH:
		sb_printf(b, "%s: queue flush at %s %s", or_q(e->group), or_q(e->server),
			  e->failed ? "FAILED" : "started");
		break;
	default:
		sb_printf(b, "%s", notify_kind_name(k));
		break;
	}
}

char *
notify_subject(const struct notify_event *e, time_t now)
{
	struct sbuf b = {0};
	char span[48];

	sb_printf(&b, "[mxfailover] %s", e->test ? "TEST " : "");
	if (e->kind == NOTIFY_REMINDER) {
		sb_printf(&b, "reminder: ");
		describe_short(&b, subject_kind(e), e);
		if (e->since != 0)
			sb_printf(&b, " (for %s)", format_span(now - e->since, span, sizeof(span)));
	} else {
		describe_short(&b, e->kind, e);
	}
	return sb_take(&b);
}

/* The headline sentence of the body. */
static void
describe_long(struct sbuf *b, enum notify_kind k, const struct notify_event *e)
{
	switch (k) {
	case NOTIFY_SERVER_DOWN:
		sb_printf(b, "Server %s%s%s is DOWN.", or_q(e->server), e->group ? " of group " : "",
			  e->group ? e->group : "");
		break;
	case NOTIFY_SERVER_UP:
		sb_printf(b, "Server %s%s%s is up again.", or_q(e->server),
			  e->group ? " of group " : "", e->group ? e->group : "");
		break;
	case NOTIFY_SWITCHED:
		sb_printf(b, "The records of group %s were switched from %s to %s.", or_q(e->group),
			  or_q(e->from), or_q(e->to));
		break;
	case NOTIFY_SWITCH_FAILED:
		sb_printf(b, "Switching the records of group %s from %s to %s FAILED.",
			  or_q(e->group), or_q(e->from), or_q(e->to));
		break;
	case NOTIFY_ALL_DOWN:
		sb_printf(b, "Every server of group %s is DOWN.", or_q(e->group));
		break;
	case NOTIFY_ISOLATED:
		sb_printf(b, "This monitor looks cut off: every witness failed.");
		break;
	case NOTIFY_ISOLATION_OVER:
		sb_printf(b, "This monitor is no longer isolated: a witness answers again.");
		break;
	case NOTIFY_CHANGED_BY_HAND:
		sb_printf(b, "A record of group %s was changed by hand: it points at none of "
			  "the group's servers as mxfailover left it.", or_q(e->group));
		break;
	case NOTIFY_QUEUE_FLUSH:
		if (e->failed)
			sb_printf(b, "Asking the backup MX %s to deliver its queued mail (ETRN) FAILED.",
				  or_q(e->server));
		else
			sb_printf(b, "The backup MX %s was asked to deliver its queued mail (ETRN) "
				  "and accepted.", or_q(e->server));
		break;
	default:
		sb_printf(b, "Event %s.", notify_kind_name(k));
		break;
	}
}

/* What mxfailover does next, for the body's "Next:" paragraph. */
static void
describe_next(struct sbuf *b, enum notify_kind k, const struct notify_event *e)
{
	switch (k) {
	case NOTIFY_SERVER_DOWN:
		sb_printf(b, "mxfailover keeps checking %s. If it is the active server, the "
			  "records move to the next healthy server of the group. You will hear "
			  "when it is up again.", or_q(e->server));
		break;
	case NOTIFY_SERVER_UP:
		sb_printf(b, "Nothing to do. With failback = auto the records return to the "
			  "preferred server once it has been up for `rise` rounds.");
		break;
	case NOTIFY_SWITCHED:
		sb_printf(b, "mxfailover keeps checking every server of the group; the records "
			  "follow the first healthy one in preference order (back to the "
			  "preferred server after failback, with ETRN to the backup when "
			  "etrn = yes).");
		break;
	case NOTIFY_SWITCH_FAILED:
		sb_printf(b, "mxfailover retries the update with backoff until DNS converges; "
			  "the other zones go ahead. Check the DNS server and the TSIG key.");
		break;
	case NOTIFY_ALL_DOWN:
		sb_printf(b, "The records stay where they are. mxfailover switches as soon as a "
			  "server is healthy again. Check the servers now.");
		break;
	case NOTIFY_ISOLATED:
		sb_printf(b, "mxfailover changes no DNS until a witness answers again. Check "
			  "this monitor's network.");
		break;
	case NOTIFY_ISOLATION_OVER:
		sb_printf(b, "mxfailover works normally again and acts on the servers' health.");
		break;
	case NOTIFY_CHANGED_BY_HAND:
		sb_printf(b, "mxfailover leaves the record alone. Point it back at a server of "
			  "the group, or take it out of the configuration.");
		break;
	case NOTIFY_QUEUE_FLUSH:
		if (e->failed)
			sb_printf(b, "The queued mail still arrives at the backup's next queue run. "
				  "Check fast_flush_domains and smtpd_etrn_restrictions on %s, or "
				  "run `postqueue -s DOMAIN` there.", or_q(e->server));
		else
			sb_printf(b, "Nothing to do: the queued mail is on its way.");
		break;
	default:
		sb_printf(b, "Nothing.");
		break;
	}
}

char *
notify_body(const struct notify_event *e, const char *host, time_t now)
{
	struct sbuf b = {0};
	enum notify_kind k = subject_kind(e);
	char when[128], span[48];

	if (e->test)
		sb_printf(&b, "TEST: this notice was sent by `mxfailover notify test`; "
			  "nothing happened.\n\n");
	if (e->kind == NOTIFY_REMINDER) {
		sb_printf(&b, "Reminder, still going on: ");
		describe_long(&b, k, e);
		if (e->since != 0)
			sb_printf(&b, " It has lasted %s.", format_span(now - e->since, span, sizeof(span)));
		sb_printf(&b, "\n\n");
	} else {
		describe_long(&b, k, e);
		sb_printf(&b, "\n\n");
	}
	sb_printf(&b, "When:    %s\n", notify_format_time(e->time, when, sizeof(when)));
	if (e->kind == NOTIFY_REMINDER && e->since != 0)
		sb_printf(&b, "Since:   %s\n", notify_format_time(e->since, when, sizeof(when)));
	sb_printf(&b, "Event:   %s\n", notify_kind_name(e->kind));
	if (e->group != NULL)
		sb_printf(&b, "Group:   %s\n", e->group);
	if (e->server != NULL)
		sb_printf(&b, "Server:  %s\n", e->server);
	if (e->from != NULL || e->to != NULL)
		sb_printf(&b, "From/to: %s -> %s\n", or_q(e->from), or_q(e->to));
	if (e->reason != NULL && *e->reason != '\0')
		sb_printf(&b, "Why:     %s\n", e->reason);
	if (e->nzones > 0) {
		sb_printf(&b, "Zones:  ");
		for (size_t i = 0; i < e->nzones; i++)
			sb_printf(&b, " %s", e->zones[i]);
		sb_printf(&b, "\n");
	}
	if (e->nrecords > 0) {
		sb_printf(&b, "\n%s\n", k == NOTIFY_SWITCH_FAILED ? "Records (unchanged):" :
			  k == NOTIFY_CHANGED_BY_HAND ? "Records as DNS holds them:" : "Records now:");
		for (size_t i = 0; i < e->nrecords; i++)
			sb_printf(&b, "  %s\n", e->records[i]);
	}
	sb_printf(&b, "\nNext: ");
	describe_next(&b, k, e);
	sb_printf(&b, "\n\n-- \nmxfailover on %s\n", or_q(host));
	return sb_take(&b);
}

char *
notify_mail_message(const struct notify_event *e, const char *from, const char *to,
		    const char *msgid, const char *host, time_t now)
{
	struct sbuf b = {0};
	char date[64];
	struct tm lt;
	char *subject = notify_subject(e, now);
	char *body = notify_body(e, host, now);

	if (subject == NULL || body == NULL)
		goto fail;
	localtime_r(&now, &lt);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &lt);
	sb_printf(&b, "Date: %s\r\n", date);
	sb_printf(&b, "From: mxfailover <%s>\r\n", from);
	sb_printf(&b, "To: %s\r\n", to);
	sb_printf(&b, "Subject: %s\r\n", subject);
	sb_printf(&b, "Message-ID: <%s>\r\n", msgid);
	sb_printf(&b, "MIME-Version: 1.0\r\n");
	sb_printf(&b, "Content-Type: text/plain; charset=utf-8\r\n");
	sb_printf(&b, "Content-Transfer-Encoding: 8bit\r\n");
	sb_printf(&b, "Auto-Submitted: auto-generated\r\n");
	sb_printf(&b, "X-Mxfailover-Event: %s\r\n", notify_kind_name(e->kind));
	sb_printf(&b, "\r\n");
	/* Body lines end in CRLF on the wire. */
	for (const char *p = body; *p != '\0';) {
		size_t l = strcspn(p, "\n");
		sb_printf(&b, "%.*s\r\n", (int)l, p);
		p += l;
		if (*p == '\n')
			p++;
	}
	free(subject);
	free(body);
	return sb_take(&b);
fail:
	free(subject);
	free(body);
	return NULL;
}

static json_t *
json_str_or_null(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	/* Not UTF-8 (cannot happen after notify_redact, but be safe). */
	return j != NULL ? j : json_string("?");
}

static json_t *
json_strv(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_str_or_null(v[i]));
	return a;
}

char *
notify_json(const struct notify_event *e)
{
	json_t *o = json_object();
	char t[40];
	char *s;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "version", json_integer(NOTIFY_FORMAT_VERSION));
	json_object_set_new(o, "event", json_string(notify_kind_name(e->kind)));
	json_object_set_new(o, "group", json_str_or_null(e->group));
	json_object_set_new(o, "server", json_str_or_null(e->server));
	json_object_set_new(o, "from", json_str_or_null(e->from));
	json_object_set_new(o, "to", json_str_or_null(e->to));
	json_object_set_new(o, "zones", json_strv(e->zones, e->nzones));
	json_object_set_new(o, "records", json_strv(e->records, e->nrecords));
	json_object_set_new(o, "reason", json_str_or_null(e->reason));
	json_object_set_new(o, "time", json_string(format_rfc3339(e->time, t, sizeof(t))));
	json_object_set_new(o, "test", json_boolean(e->test));
	if (e->kind == NOTIFY_QUEUE_FLUSH)
		json_object_set_new(o, "failed", json_boolean(e->failed));
	if (e->kind == NOTIFY_REMINDER) {
		json_object_set_new(o, "about", json_string(notify_kind_name(e->about)));
		json_object_set_new(o, "since", e->since != 0 ?
				    json_string(format_rfc3339(e->since, t, sizeof(t))) : json_null());
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static const char *const notify_env_names[] = {
	"MXF_EVENT", "MXF_GROUP", "MXF_SERVER", "MXF_FROM", "MXF_TO", "MXF_ZONES",
	"MXF_RECORDS", "MXF_REASON", "MXF_TIME", "MXF_VERSION", "MXF_ABOUT", "MXF_SINCE",
	"MXF_FAILED", "MXF_TEST",
};

static bool
env_is_ours(const char *entry)
{
	for (size_t i = 0; i < MXF_ARRAY_SIZE(notify_env_names); i++) {
		size_t l = strlen(notify_env_names[i]);
		if (strncmp(entry, notify_env_names[i], l) == 0 && entry[l] == '=')
			return true;
	}
	return false;
}

static char *
env_join(const char *name, const char *const *v, size_t n, const char *sep)
{
	struct sbuf b = {0};

	sb_printf(&b, "%s=", name);
	for (size_t i = 0; i < n; i++)
		sb_printf(&b, "%s%s", i > 0 ? sep : "", v[i] != NULL ? v[i] : "");
	return sb_take(&b);
}

static char *
env_pair(const char *name, const char *value)
{
	char *s;

	if (asprintf(&s, "%s=%s", name, value != NULL ? value : "") < 0)
		return NULL;
	return s;
}

char **
notify_env(const struct notify_event *e, char *const *base)
{
	size_t nbase = 0, n = 0;
	char **v;
	char t[40], since[40];
	bool oom = false;

	for (char *const *p = base; p != NULL && *p != NULL; p++)
		nbase++;
	v = calloc(nbase + MXF_ARRAY_SIZE(notify_env_names) + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < nbase; i++) {
		if (env_is_ours(base[i]))
			continue;
		if ((v[n++] = strdup(base[i])) == NULL)
			oom = true;
	}
	format_rfc3339(e->time, t, sizeof(t));
	since[0] = '\0';
	if (e->kind == NOTIFY_REMINDER && e->since != 0)
		format_rfc3339(e->since, since, sizeof(since));
	char *ours[] = {
		env_pair("MXF_EVENT", notify_kind_name(e->kind)),
		env_pair("MXF_GROUP", e->group),
		env_pair("MXF_SERVER", e->server),
		env_pair("MXF_FROM", e->from),
		env_pair("MXF_TO", e->to),
		env_join("MXF_ZONES", e->zones, e->nzones, " "),
		env_join("MXF_RECORDS", e->records, e->nrecords, ", "),
		env_pair("MXF_REASON", e->reason),
		env_pair("MXF_TIME", t),
		env_pair("MXF_VERSION", "1"),
		env_pair("MXF_ABOUT", e->kind == NOTIFY_REMINDER ? notify_kind_name(e->about) : ""),
		env_pair("MXF_SINCE", since),
		env_pair("MXF_FAILED", e->kind == NOTIFY_QUEUE_FLUSH ? (e->failed ? "1" : "0") : ""),
		env_pair("MXF_TEST", e->test ? "1" : "0"),
	};
	for (size_t i = 0; i < MXF_ARRAY_SIZE(ours); i++) {
		if (ours[i] == NULL)
			oom = true;
		else
			v[n++] = ours[i];
	}
	if (oom) {
		notify_strv_free(v);
		return NULL;
	}
	return v;
}

/* ------------------------------------------------------------ notices -- */

static void
notice_unref(struct notice *nt)
{
	if (nt == NULL || --nt->refs > 0)
		return;
	free(nt->group);
	free(nt->server);
	free(nt->from);
	free(nt->to);
	free(nt->reason);
	notify_strv_free(nt->zones);
	notify_strv_free(nt->records);
	free(nt);
}

static bool
scrub(const struct notify *n, const char *in, char **out)
{
	*out = notify_redact(in, (const char *const *)n->secrets, n->nsecrets);
	return in == NULL || *out != NULL;
}

static bool
scrub_v(const struct notify *n, const char *const *in, size_t cnt, char ***out)
{
	*out = calloc(cnt + 1, sizeof(**out));
	if (*out == NULL)
		return false;
	for (size_t i = 0; i < cnt; i++)
		if (!scrub(n, in[i] != NULL ? in[i] : "", &(*out)[i]))
			return false;
	return true;
}

static struct notice *
notice_new(const struct notify *n, const struct notify_event *e)
{
	struct notice *nt = calloc(1, sizeof(*nt));
	bool ok;

	if (nt == NULL)
		return NULL;
	nt->refs = 1;
	nt->e = *e;
	if (nt->e.time == 0)
		nt->e.time = time(NULL);
	ok = scrub(n, e->group, &nt->group) && scrub(n, e->server, &nt->server) &&
	     scrub(n, e->from, &nt->from) && scrub(n, e->to, &nt->to) &&
	     scrub(n, e->reason, &nt->reason) &&
	     scrub_v(n, e->zones, e->nzones, &nt->zones) &&
	     scrub_v(n, e->records, e->nrecords, &nt->records);
	if (!ok) {
		notice_unref(nt);
		return NULL;
	}
	nt->e.group = nt->group;
	nt->e.server = nt->server;
	nt->e.from = nt->from;
	nt->e.to = nt->to;
	nt->e.reason = nt->reason;
	nt->e.zones = (const char *const *)nt->zones;
	nt->e.records = (const char *const *)nt->records;
	return nt;
}

/* ----------------------------------------------------------- deliveries -- */

static void attempt_start(struct delivery *d);

static void
delivery_free(struct delivery *d)
{
	struct notify *n = d->n;

	if (d->easy != NULL) {
		curl_multi_remove_handle(n->multi, d->easy);
		curl_easy_cleanup(d->easy);
	}
	curl_slist_free_all(d->list);
	curl_slist_free_all(d->resolve);
	if (d->proc != NULL)
		check_proc_free(d->proc);
	if (d->kill_ev != NULL)
		event_free(d->kill_ev);
	if (d->retry_ev != NULL)
		event_free(d->retry_ev);
	free(d->payload);
	notice_unref(d->nt);
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		n->list = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	n->pending--;
	free(d);
}

/* The peer of a delivery for log lines: host:port or the program. */
static const char *
delivery_peer(const struct delivery *d, char *buf, size_t size)
{
	const struct notify *n = d->n;

	switch (d->ch) {
	case NOTIFY_CH_MAIL:
		if (n->smtp_url != NULL)
			return notify_url_peer(n->smtp_url, buf, size);
		snprintf(buf, size, "%s%s%s:%u", n->active_addr != NULL && strchr(n->active_addr, ':') ? "[" : "",
			 n->active_addr != NULL ? n->active_addr : or_q(n->active_name),
			 n->active_addr != NULL && strchr(n->active_addr, ':') ? "]" : "",
			 (unsigned)n->via_port);
		return buf;
	case NOTIFY_CH_WEBHOOK:
		return notify_url_peer(n->webhook, buf, size);
	default:
		snprintf(buf, size, "%s", n->exec_argv[0]);
		return buf;
	}
}

/*
 * An attempt ended.  @ok: delivered.  @retry: another attempt may help.
 * @reason: why it failed (unscrubbed; scrubbed here).
 */
static void
attempt_done(struct delivery *d, bool ok, bool retry, const char *reason)
{
	struct notify *n = d->n;
	char peer[300];
	char *why = NULL;

	delivery_peer(d, peer, sizeof(peer));
	if (ok) {
		log_info("notify: %s of %s delivered to %s%s", notify_channel_name(d->ch),
			 notify_kind_name(d->nt->e.kind), peer,
			 d->attempt > 1 ? " after a retry" : "");
		if (n->cb != NULL)
			n->cb(d->ch, &d->nt->e, true, NULL, n->cbarg);
		delivery_free(d);
		return;
	}
	why = notify_redact(reason, (const char *const *)n->secrets, n->nsecrets);
	if (retry && d->attempt < n->o.attempts) {
		uint64_t ms = n->o.backoff_ms;
		struct timeval tv;

		for (unsigned i = 1; i < d->attempt && ms < 3600000; i++)
			ms *= 2;
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
		log_warn("notify: %s of %s to %s failed (attempt %u of %u): %s; retrying in %.1f s",
			 notify_channel_name(d->ch), notify_kind_name(d->nt->e.kind), peer, d->attempt,
			 n->o.attempts, why != NULL ? why : "?", (double)ms / 1000.0);
		free(why);
		if (evtimer_add(d->retry_ev, &tv) == 0)
			return;
		why = strdup("cannot arm the retry timer");
	}
	log_err("notify: %s of %s to %s given up after %u attempt%s: %s",
		notify_channel_name(d->ch), notify_kind_name(d->nt->e.kind), peer, d->attempt,
		d->attempt == 1 ? "" : "s", why != NULL ? why : "?");
	if (n->cb != NULL)
		n->cb(d->ch, &d->nt->e, false, why != NULL ? why : "?", n->cbarg);
	free(why);
	delivery_free(d);
}

/* --- curl on libevent -- */

static void
curl_check_done(struct notify *n)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(n->multi, &left)) != NULL) {
		struct delivery *d = NULL;
		char *priv = NULL;
		CURLcode rc = msg->data.result;
		long code = 0;
		char why[CURL_ERROR_SIZE + 64];
		bool ok = false, retry = true;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		d = (struct delivery *)(void *)priv;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		if (rc == CURLE_OK && d->ch == NOTIFY_CH_WEBHOOK) {
			if (code >= 200 && code < 300) {
				ok = true;
			} else {
				snprintf(why, sizeof(why), "HTTP status %ld%s", code,
					 code >= 300 && code < 400 ? " (redirects are not followed)" : "");
				retry = code >= 500;
			}
		} else if (rc == CURLE_OK) {
			ok = true;
		} else {
			snprintf(why, sizeof(why), "%s", d->errbuf[0] != '\0' ? d->errbuf :
				 curl_easy_strerror(rc));
			/* Problems another attempt will not fix. */
			switch (rc) {
			case CURLE_LOGIN_DENIED:
			case CURLE_USE_SSL_FAILED:
			case CURLE_PEER_FAILED_VERIFICATION:
			case CURLE_SSL_CACERT_BADFILE:
			case CURLE_UNSUPPORTED_PROTOCOL:
			case CURLE_URL_MALFORMAT:
			case CURLE_TOO_MANY_REDIRECTS:
				retry = false;
				break;
			default:
				break;
			}
			if (d->ch == NOTIFY_CH_MAIL && code >= 500 && code < 600)
				retry = false;
			if (rc == CURLE_USE_SSL_FAILED)
				snprintf(why, sizeof(why), "the server offers no STARTTLS, which is "
					 "required here (port 587 or a password); nothing was sent");
			if (d->ch == NOTIFY_CH_WEBHOOK && rc == CURLE_WRITE_ERROR)
				snprintf(why, sizeof(why), "reply larger than %d bytes", NOTIFY_HTTP_BODY_MAX);
		}
		curl_multi_remove_handle(n->multi, d->easy);
		curl_easy_cleanup(d->easy);
		d->easy = NULL;
		curl_slist_free_all(d->list);
		d->list = NULL;
		curl_slist_free_all(d->resolve);
		d->resolve = NULL;
		attempt_done(d, ok, retry, ok ? NULL : why);
	}
}

static void
curl_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	int running = 0;
	int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
		     ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(n->multi, fd, action, &running);
	curl_check_done(n);
}

static void
curl_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	int running = 0;

	curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_check_done(n);
}

static int
curl_socket_fn(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct notify *n = userp;
	struct event *ev = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL) {
			event_free(ev);
			curl_multi_assign(n->multi, s, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	       ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ev != NULL) {
		event_del(ev);
		event_assign(ev, n->base, s, kind, curl_event_cb, n);
	} else {
		ev = event_new(n->base, s, kind, curl_event_cb, n);
		if (ev == NULL)
			return -1;
		curl_multi_assign(n->multi, s, ev);
	}
	return event_add(ev, NULL) == 0 ? 0 : -1;
}

static int
curl_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct notify *n = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(n->curl_timer);
		return 0;
	}
	/* 0 means "now"; run it from the loop, not inside libcurl's call. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(n->curl_timer, &tv) == 0 ? 0 : -1;
}

static size_t
mail_read_fn(char *buf, size_t size, size_t nitems, void *arg)
{
	struct delivery *d = arg;
	size_t room = size * nitems, left = d->len - d->off;
	size_t k = left < room ? left : room;

	memcpy(buf, d->payload + d->off, k);
	d->off += k;
	return k;
}

static size_t
http_write_fn(char *buf, size_t size, size_t nitems, void *arg)
{
	struct delivery *d = arg;
	size_t k = size * nitems;

	/* The reply is not needed: count it, and stop a flood. */
	d->reply_bytes += k;
	if (d->reply_bytes > NOTIFY_HTTP_BODY_MAX)
		return 0;
	return k;
}

/* Options every handle gets. */
static int
easy_common(struct delivery *d)
{
	struct notify *n = d->n;
	const char *ca = getenv("MXF_CA_FILE");
	CURL *h = d->easy;

	d->errbuf[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_PRIVATE, d) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, d->errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_VERBOSE, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)n->o.connect_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)n->o.timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK)
		return MXF_EINVAL;
	if (ca != NULL && *ca != '\0' && curl_easy_setopt(h, CURLOPT_CAINFO, ca) != CURLE_OK)
		return MXF_EINVAL;
	return 0;
}

static bool
url_port_is(const char *url, unsigned port)
{
	char peer[300], suffix[16];
	size_t pl, sl;

	notify_url_peer(url, peer, sizeof(peer));
	snprintf(suffix, sizeof(suffix), ":%u", port);
	pl = strlen(peer);
	sl = strlen(suffix);
	return pl > sl && strcmp(peer + pl - sl, suffix) == 0;
}

static int
mail_setup(struct delivery *d, char *why, size_t whysize)
{
	struct notify *n = d->n;
	CURL *h = d->easy;
	char url[600];
	char from[320];
	long ssl;
	int rc = MXF_EINVAL;

	if (n->smtp_url != NULL) {
		bool has_path;
		const char *rest = strstr(n->smtp_url, "://");

		rest = rest != NULL ? rest + 3 : n->smtp_url;
		has_path = strchr(rest, '/') != NULL;
		/* libcurl takes the EHLO name from the URL's path. */
		snprintf(url, sizeof(url), "%s%s%s", n->smtp_url, has_path ? "" : "/", has_path ? "" : n->hostname);
		if (strncasecmp(n->smtp_url, "smtps://", 8) == 0)
			ssl = CURLUSESSL_ALL;
		else if (n->smtp_user != NULL || url_port_is(n->smtp_url, 587))
			ssl = CURLUSESSL_ALL;
		else
			ssl = CURLUSESSL_TRY;
	} else {
		const char *name = n->active_name, *addr = n->active_addr;
		bool v6 = addr != NULL && strchr(addr, ':') != NULL;

		if (name == NULL && addr == NULL) {
			snprintf(why, whysize, "no active server known to send through");
			return MXF_EINVAL;
		}
		if (name != NULL) {
			char r[600];
			snprintf(url, sizeof(url), "smtp://%s:%u/%s", name, (unsigned)n->via_port, n->hostname);
			if (addr != NULL) {
				snprintf(r, sizeof(r), "%s:%u:%s%s%s", name, (unsigned)n->via_port,
					 v6 ? "[" : "", addr, v6 ? "]" : "");
				d->resolve = curl_slist_append(NULL, r);
				if (d->resolve == NULL)
					goto oom;
			}
		} else {
			snprintf(url, sizeof(url), "smtp://%s%s%s:%u/%s", v6 ? "[" : "", addr, v6 ? "]" : "",
				 (unsigned)n->via_port, n->hostname);
		}
		ssl = (n->via_starttls || n->smtp_user != NULL) ? CURLUSESSL_ALL : CURLUSESSL_TRY;
	}
	for (char **r = n->rcpt; *r != NULL; r++) {
		struct curl_slist *l = curl_slist_append(d->list, *r);
		if (l == NULL)
			goto oom;
		d->list = l;
	}
	snprintf(from, sizeof(from), "<%s>", n->mail_from);
	if (easy_common(d) != 0 ||
	    curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USE_SSL, ssl) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, d->list) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_READFUNCTION, mail_read_fn) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_READDATA, d) != CURLE_OK) {
		snprintf(why, whysize, "libcurl refused an option");
		goto out;
	}
	if (d->resolve != NULL && curl_easy_setopt(h, CURLOPT_RESOLVE, d->resolve) != CURLE_OK) {
		snprintf(why, whysize, "libcurl refused an option");
		goto out;
	}
	if (n->smtp_user != NULL &&
	    (curl_easy_setopt(h, CURLOPT_USERNAME, n->smtp_user) != CURLE_OK ||
	     curl_easy_setopt(h, CURLOPT_PASSWORD, n->password != NULL ? n->password : "") != CURLE_OK)) {
		snprintf(why, whysize, "libcurl refused an option");
		goto out;
	}
	rc = 0;
out:
	d->off = 0;
	return rc;
oom:
	snprintf(why, whysize, "out of memory");
	return MXF_ENOMEM;
}

static int
webhook_setup(struct delivery *d, char *why, size_t whysize)
{
	CURL *h = d->easy;
	struct curl_slist *l;

	l = curl_slist_append(NULL, "Content-Type: application/json");
	if (l == NULL)
		goto oom;
	d->list = l;
	l = curl_slist_append(d->list, "User-Agent: mxfailover/" MXF_VERSION_STRING);
	if (l == NULL)
		goto oom;
	d->list = l;
	d->reply_bytes = 0;
	if (easy_common(d) != 0 ||
	    curl_easy_setopt(h, CURLOPT_URL, d->n->webhook) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->payload) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)d->len) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, d->list) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write_fn) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, d) != CURLE_OK) {
		snprintf(why, whysize, "libcurl refused an option");
		return MXF_EINVAL;
	}
	return 0;
oom:
	snprintf(why, whysize, "out of memory");
	return MXF_ENOMEM;
}

/* --- exec -- */

static void
exec_done(void *arg, int wstatus, const char *out, size_t len)
{
	struct delivery *d = arg;
	char why[300], line[160];
	size_t l = strcspn(out, "\n");

	/* @out belongs to the process: copy what is needed before freeing it. */
	proto_printable(line, sizeof(line), out, l);
	check_proc_free(d->proc);
	d->proc = NULL;
	event_del(d->kill_ev);
	if (wstatus != -1 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		attempt_done(d, true, false, NULL);
		return;
	}
	if (wstatus == -1)
		snprintf(why, sizeof(why), "cannot read its exit status");
	else if (WIFEXITED(wstatus))
		snprintf(why, sizeof(why), "exited with status %d%s%s", WEXITSTATUS(wstatus),
			 line[0] != '\0' ? ": " : "", line);
	else if (WIFSIGNALED(wstatus))
		snprintf(why, sizeof(why), "killed by signal %d%s%s", WTERMSIG(wstatus),
			 line[0] != '\0' ? ": " : "", line);
	else
		snprintf(why, sizeof(why), "ended with wait status %d", wstatus);
	attempt_done(d, false, true, why);
}

static void
exec_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;
	char why[96];

	/* Freeing kills the whole process group and reaps the child. */
	check_proc_free(d->proc);
	d->proc = NULL;
	snprintf(why, sizeof(why), "killed after %.1f s (timeout)",
		 (double)d->n->o.exec_timeout_ms / 1000.0);
	attempt_done(d, false, true, why);
}

static void
exec_start(struct delivery *d)
{
	struct notify *n = d->n;
	char why[300];
	char **envp = notify_env(&d->nt->e, environ);
	struct timeval tv;
	int rc;

	if (envp == NULL) {
		attempt_done(d, false, true, "out of memory");
		return;
	}
	if (d->kill_ev == NULL)
		d->kill_ev = evtimer_new(n->base, exec_kill_cb, d);
	if (d->kill_ev == NULL) {
		notify_strv_free(envp);
		attempt_done(d, false, true, "out of memory");
		return;
	}
	rc = check_proc_run(n->base, n->exec_argv, envp, exec_done, d, &d->proc, why, sizeof(why));
	notify_strv_free(envp);
	if (rc != 0) {
		attempt_done(d, false, rc != MXF_EIO, why);
		return;
	}
	tv.tv_sec = (time_t)(n->o.exec_timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(n->o.exec_timeout_ms % 1000 * 1000);
	evtimer_add(d->kill_ev, &tv);
}

static void
attempt_start(struct delivery *d)
{
	struct notify *n = d->n;
	char why[160] = "";
	int rc;

	d->attempt++;
	if (d->ch == NOTIFY_CH_EXEC) {
		exec_start(d);
		return;
	}
	d->easy = curl_easy_init();
	if (d->easy == NULL) {
		attempt_done(d, false, true, "cannot make a libcurl handle");
		return;
	}
	rc = d->ch == NOTIFY_CH_MAIL ? mail_setup(d, why, sizeof(why)) : webhook_setup(d, why, sizeof(why));
	if (rc == 0 && curl_multi_add_handle(n->multi, d->easy) != CURLM_OK) {
		snprintf(why, sizeof(why), "libcurl refused the transfer");
		rc = MXF_EINVAL;
	}
	if (rc != 0) {
		curl_easy_cleanup(d->easy);
		d->easy = NULL;
		curl_slist_free_all(d->list);
		d->list = NULL;
		curl_slist_free_all(d->resolve);
		d->resolve = NULL;
		attempt_done(d, false, rc == MXF_ENOMEM, why);
	}
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	attempt_start(arg);
}

/* The payload of a delivery, made once so every attempt sends the same. */
static int
delivery_payload(struct delivery *d)
{
	struct notify *n = d->n;
	const struct notify_event *e = &d->nt->e;

	if (d->ch == NOTIFY_CH_MAIL) {
		char msgid[400];
		const char *dom = strchr(n->mail_from, '@');

		snprintf(msgid, sizeof(msgid), "mxfailover.%lld.%ld.%lu@%s", (long long)e->time,
			 (long)getpid(), ++n->msg_counter, dom != NULL ? dom + 1 : n->hostname);
		d->payload = notify_mail_message(e, n->mail_from, n->mail_to, msgid, n->hostname,
						 time(NULL));
	} else if (d->ch == NOTIFY_CH_WEBHOOK) {
		d->payload = notify_json(e);
	} else {
		return 0;
	}
	if (d->payload == NULL)
		return MXF_ENOMEM;
	d->len = strlen(d->payload);
	return 0;
}

/* ------------------------------------------------------------- public -- */

static int
read_password_file(const char *path, char **out, char *err, size_t errsize)
{
	struct stat st;
	char buf[NOTIFY_PASSWORD_MAX + 2];
	ssize_t r;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errsize, "smtp_password_file %s: %s", path, strerror(errno));
		return MXF_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "smtp_password_file %s: not a regular file", path);
		close(fd);
		return MXF_EIO;
	}
	if (st.st_mode & 077) {
		snprintf(err, errsize, "smtp_password_file %s is accessible by group or others "
			 "(mode %04o); refusing to use it: chmod 600 %s", path,
			 (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return MXF_EPERM;
	}
	while (len < sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsize, "smtp_password_file %s: %s", path, strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return MXF_EIO;
		}
		len += (size_t)r;
	}
	close(fd);
	if (len > NOTIFY_PASSWORD_MAX) {
		snprintf(err, errsize, "smtp_password_file %s: longer than %d bytes", path,
			 NOTIFY_PASSWORD_MAX);
		explicit_bzero(buf, sizeof(buf));
		return MXF_ETOOBIG;
	}
	/* The password is the first line. */
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		snprintf(err, errsize, "smtp_password_file %s is empty", path);
		return MXF_EINVAL;
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (*out == NULL) {
		snprintf(err, errsize, "out of memory");
		return MXF_ENOMEM;
	}
	return 0;
}

static int
split_argv(const char *cmd, char ***out)
{
	char **v = calloc(NOTIFY_EXEC_ARGS_MAX + 1, sizeof(*v));
	size_t n = 0;
	const char *p = cmd;

	if (v == NULL)
		return MXF_ENOMEM;
	while (*p != '\0') {
		size_t l;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		l = strcspn(p, " \t");
		if (n == NOTIFY_EXEC_ARGS_MAX) {
			notify_strv_free(v);
			return MXF_ETOOBIG;
		}
		if ((v[n++] = strndup(p, l)) == NULL) {
			notify_strv_free(v);
			return MXF_ENOMEM;
		}
		p += l;
	}
	if (n == 0) {
		free(v);
		return MXF_EINVAL;
	}
	*out = v;
	return 0;
}

static int
dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	*out = strdup(s);
	return *out != NULL ? 0 : MXF_ENOMEM;
}

static int curl_users;

struct notify *
notify_new(struct event_base *base, const struct config_notify *cfg,
	   const struct notify_opts *opts, char *err, size_t errsize)
{
	struct notify *n = calloc(1, sizeof(*n));
	int rc = 0;

	snprintf(err, errsize, "out of memory");
	if (n == NULL)
		return NULL;
	n->base = base;
	if (opts != NULL)
		n->o = *opts;
	if (n->o.timeout_ms == 0)
		n->o.timeout_ms = NOTIFY_DEFAULT_TIMEOUT_MS;
	if (n->o.connect_timeout_ms == 0)
		n->o.connect_timeout_ms = NOTIFY_DEFAULT_CONNECT_MS;
	if (n->o.connect_timeout_ms > n->o.timeout_ms)
		n->o.connect_timeout_ms = n->o.timeout_ms;
	if (n->o.exec_timeout_ms == 0)
		n->o.exec_timeout_ms = NOTIFY_DEFAULT_TIMEOUT_MS;
	if (n->o.attempts == 0)
		n->o.attempts = NOTIFY_DEFAULT_ATTEMPTS;
	if (n->o.backoff_ms == 0)
		n->o.backoff_ms = NOTIFY_DEFAULT_BACKOFF_MS;
	if (n->o.hostname != NULL) {
		snprintf(n->hostname, sizeof(n->hostname), "%s", n->o.hostname);
	} else if (gethostname(n->hostname, sizeof(n->hostname) - 1) != 0 || n->hostname[0] == '\0') {
		snprintf(n->hostname, sizeof(n->hostname), "localhost");
	}
	n->o.hostname = NULL;

	if (curl_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsize, "libcurl could not be initialised");
		goto fail;
	}
	n->multi = curl_multi_init();
	n->curl_timer = evtimer_new(base, curl_timer_cb, n);
	if (n->multi == NULL || n->curl_timer == NULL)
		goto fail;
	curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_fn);
	curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n);
	curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, curl_timer_fn);
	curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n);

	if (cfg->mail_to != NULL && (cfg->smtp_url != NULL || cfg->via_active)) {
		rc = notify_split_addresses(cfg->mail_to, &n->rcpt);
		if (rc == MXF_EINVAL) {
			snprintf(err, errsize, "mail_to: '%s' is not a list of mail addresses", cfg->mail_to);
			goto fail;
		}
		if (rc != 0 || dup_opt(cfg->mail_to, &n->mail_to) != 0 ||
		    dup_opt(cfg->smtp_url, &n->smtp_url) != 0 || dup_opt(cfg->smtp_user, &n->smtp_user) != 0)
			goto fail;
		if (cfg->mail_from != NULL) {
			if (dup_opt(cfg->mail_from, &n->mail_from) != 0)
				goto fail;
		} else if (asprintf(&n->mail_from, "mxfailover@%s", n->hostname) < 0) {
			n->mail_from = NULL;
			goto fail;
		}
		n->via_active = cfg->smtp_url == NULL && cfg->via_active;
		n->via_starttls = cfg->via_active_starttls;
		n->via_port = cfg->via_active_port != 0 ? cfg->via_active_port : 25;
		if (cfg->smtp_password_file != NULL) {
			rc = read_password_file(cfg->smtp_password_file, &n->password, err, errsize);
			if (rc != 0)
				goto fail;
		} else if (cfg->smtp_password != NULL && dup_opt(cfg->smtp_password, &n->password) != 0) {
			goto fail;
		}
		if (n->password != NULL && notify_add_secret(n, n->password) != 0)
			goto fail;
	}
	if (cfg->webhook != NULL && dup_opt(cfg->webhook, &n->webhook) != 0)
		goto fail;
	if (cfg->exec != NULL) {
		rc = split_argv(cfg->exec, &n->exec_argv);
		if (rc != 0) {
			snprintf(err, errsize, rc == MXF_ENOMEM ? "out of memory" :
				 "exec: '%s' is not a program with arguments", cfg->exec);
			goto fail;
		}
	}
	err[0] = '\0';
	return n;
fail:
	notify_free(n);
	return NULL;
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->pending > 0)
		log_warn("notify: %zu notice%s not delivered: shutting down", n->pending,
			 n->pending == 1 ? "" : "s");
	while (n->list != NULL)
		delivery_free(n->list);
	if (n->multi != NULL)
		curl_multi_cleanup(n->multi);
	if (n->curl_timer != NULL)
		event_free(n->curl_timer);
	if (curl_users > 0 && --curl_users == 0)
		curl_global_cleanup();
	if (n->password != NULL) {
		explicit_bzero(n->password, strlen(n->password));
		free(n->password);
	}
	for (size_t i = 0; i < n->nsecrets; i++) {
		explicit_bzero(n->secrets[i], strlen(n->secrets[i]));
		free(n->secrets[i]);
	}
	free(n->secrets);
	free(n->mail_to);
	free(n->mail_from);
	free(n->smtp_url);
	free(n->smtp_user);
	notify_strv_free(n->rcpt);
	free(n->active_name);
	free(n->active_addr);
	free(n->webhook);
	notify_strv_free(n->exec_argv);
	free(n);
}

unsigned
notify_channels(const struct notify *n)
{
	unsigned m = 0;

	if (n->rcpt != NULL)
		m |= 1u << NOTIFY_CH_MAIL;
	if (n->webhook != NULL)
		m |= 1u << NOTIFY_CH_WEBHOOK;
	if (n->exec_argv != NULL)
		m |= 1u << NOTIFY_CH_EXEC;
	return m;
}

void
notify_set_result_cb(struct notify *n, notify_result_fn cb, void *arg)
{
	n->cb = cb;
	n->cbarg = arg;
}

int
notify_add_secret(struct notify *n, const char *secret)
{
	char **v;

	if (secret == NULL || strlen(secret) < NOTIFY_SECRET_MIN)
		return 0;
	v = realloc(n->secrets, (n->nsecrets + 1) * sizeof(*v));
	if (v == NULL)
		return MXF_ENOMEM;
	n->secrets = v;
	if ((v[n->nsecrets] = strdup(secret)) == NULL)
		return MXF_ENOMEM;
	n->nsecrets++;
	return 0;
}

int
notify_set_active(struct notify *n, const char *name, const char *address)
{
	char *nm = NULL, *ad = NULL;

	if (dup_opt(name, &nm) != 0 || dup_opt(address, &ad) != 0) {
		free(nm);
		return MXF_ENOMEM;
	}
	free(n->active_name);
	free(n->active_addr);
	n->active_name = nm;
	n->active_addr = ad;
	return 0;
}

int
notify_send(struct notify *n, const struct notify_event *e)
{
	unsigned chans = notify_channels(n);
	struct delivery *ds[NOTIFY_CH_COUNT_] = {0};
	struct notice *nt;
	int count = 0;

	if (chans == 0)
		return 0;
	if (n->pending + (size_t)__builtin_popcount(chans) > NOTIFY_MAX_PENDING) {
		log_err("notify: %zu notices pending; %s dropped", n->pending, notify_kind_name(e->kind));
		return MXF_ETOOBIG;
	}
	nt = notice_new(n, e);
	if (nt == NULL)
		return MXF_ENOMEM;
	for (unsigned ch = 0; ch < NOTIFY_CH_COUNT_; ch++) {
		struct delivery *d;

		if (!(chans & (1u << ch)))
			continue;
		d = calloc(1, sizeof(*d));
		if (d == NULL)
			goto oom;
		ds[ch] = d;
		d->n = n;
		d->ch = (enum notify_channel)ch;
		d->nt = nt;
		nt->refs++;
		d->next = n->list;
		if (n->list != NULL)
			n->list->prev = d;
		n->list = d;
		n->pending++;
		d->retry_ev = evtimer_new(n->base, retry_cb, d);
		if (d->retry_ev == NULL || delivery_payload(d) != 0)
			goto oom;
	}
	notice_unref(nt);
	/* Start from the loop, so notify_send never runs a callback itself. */
	for (unsigned ch = 0; ch < NOTIFY_CH_COUNT_; ch++) {
		struct timeval zero = {0, 0};

		if (ds[ch] == NULL)
			continue;
		evtimer_add(ds[ch]->retry_ev, &zero);
		count++;
	}
	return count;
oom:
	for (unsigned ch = 0; ch < NOTIFY_CH_COUNT_; ch++)
		if (ds[ch] != NULL)
			delivery_free(ds[ch]);
	notice_unref(nt);
	log_err("notify: out of memory; %s not sent", notify_kind_name(e->kind));
	return MXF_ENOMEM;
}

size_t
notify_pending(const struct notify *n)
{
	return n->pending;
}
