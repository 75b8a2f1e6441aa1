/*
 * notify_text.c -- the words of a notice (see notify_text.h): pure text
 * builders, no I/O and no clock.
 *
 * What each kind of event says lives in one table (struct kind_words): the
 * few words of the subject, the headline sentence of the body, the "Next:"
 * paragraph and the heading over the records.  The sentences are templates
 * whose $-fields are filled from the event, so adding a kind is adding a
 * row, not a case to three switches.
 */
#include "notify_text.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "mxf.h"
#include "proto.h"
#include "value.h"

static const char *
or_q(const char *s)
{
	return s != NULL && *s != '\0' ? s : "?";
}

/* ------------------------------------------------------------- times -- */

char *
notify_text_format_time(time_t t, char *buf, size_t size)
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

/* ------------------------------------------------ redaction, peers -- */

/* Bytes of the first of the @n @secrets (of NOTIFY_SECRET_MIN bytes or
 * more) that @p starts with; 0 for none. */
static size_t
secret_at(const char *p, const char *const *secrets, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t sl = secrets[i] != NULL ? strlen(secrets[i]) : 0;

		if (sl >= NOTIFY_SECRET_MIN && strncmp(p, secrets[i], sl) == 0)
			return sl;
	}
	return 0;
}

char *
notify_text_redact(const char *s, const char *const *secrets, size_t n)
{
	static const char mark[] = "[redacted]";
	struct buf b = {0};
	char *out;

	if (s == NULL)
		return NULL;
	for (const char *p = s; *p != '\0';) {
		size_t hit = secret_at(p, secrets, n);

		if (hit > 0) {
			buf_append(&b, mark, sizeof(mark) - 1);
			p += hit;
		} else {
			buf_append(&b, p, 1);
			p++;
		}
	}
	if (buf_error(&b) != 0) {
		buf_free(&b);
		return NULL;
	}
	/* Control characters and invalid UTF-8 become '?': one safe line. */
	out = malloc(b.len + 4);
	if (out != NULL)
		proto_printable(out, b.len + 4, buf_str(&b), b.len);
	buf_free(&b);
	return out;
}

char *
notify_text_url_peer(const char *url, char *buf, size_t size)
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
notify_text_split_addresses(const char *list, char ***out)
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

/* ------------------------------------------------------- the words -- */

/*
 * What a kind of event says.  Templates: $s the server, $g the group, $f
 * and $t the servers switched from and to (each "?" when absent), $o
 * " of group GROUP" (nothing without a group), $k the kind's name.
 */
struct kind_words {
	const char *brief;    /* the subject, after "[mxfailover] " */
	const char *headline; /* the first sentence of the body */
	const char *next;     /* the "Next:" paragraph */
	const char *records;  /* the heading over the records */
};

#define RECORDS_NOW "Records now:"

static const struct kind_words kind_words[NOTIFY_KIND_COUNT_] = {
	[NOTIFY_SERVER_DOWN] = {
		"$s is down",
		"Server $s$o is DOWN.",
		"mxfailover keeps checking $s. If it is the active server, the records move to "
		"the next healthy server of the group. You will hear when it is up again.",
		RECORDS_NOW,
	},
	[NOTIFY_SERVER_UP] = {
		"$s is up again",
		"Server $s$o is up again.",
		"Nothing to do. With failback = auto the records return to the preferred server "
		"once it has been up for `rise` rounds.",
		RECORDS_NOW,
	},
	[NOTIFY_SWITCHED] = {
		"$g: switched $f -> $t",
		"The records of group $g were switched from $f to $t.",
		"mxfailover keeps checking every server of the group; the records follow the first "
		"healthy one in preference order (back to the preferred server after failback, "
		"with ETRN to the backup when etrn = yes).",
		RECORDS_NOW,
	},
	[NOTIFY_SWITCH_FAILED] = {
		"$g: switch $f -> $t FAILED",
		"Switching the records of group $g from $f to $t FAILED.",
		"mxfailover retries the update with backoff until DNS converges; the other zones "
		"go ahead. Check the DNS server and the TSIG key.",
		"Records (unchanged):",
	},
	[NOTIFY_ALL_DOWN] = {
		"$g: ALL servers down",
		"Every server of group $g is DOWN.",
		"The records stay where they are. mxfailover switches as soon as a server is "
		"healthy again. Check the servers now.",
		RECORDS_NOW,
	},
	[NOTIFY_ISOLATED] = {
		"monitor isolated, DNS changes stopped",
		"This monitor looks cut off: every witness failed.",
		"mxfailover changes no DNS until a witness answers again. Check this monitor's "
		"network.",
		RECORDS_NOW,
	},
	[NOTIFY_ISOLATION_OVER] = {
		"monitor isolation over",
		"This monitor is no longer isolated: a witness answers again.",
		"mxfailover works normally again and acts on the servers' health.",
		RECORDS_NOW,
	},
	[NOTIFY_QUORUM_LOST] = {
		"quorum lost, DNS changes stopped",
		"Fewer monitors than [quorum] need have fresh views: this monitor cannot "
		"reach a quorum.",
		"mxfailover switches no records until enough monitors publish fresh views "
		"again. Check the other monitors and their access to the DNS server.",
		RECORDS_NOW,
	},
	[NOTIFY_QUORUM_BACK] = {
		"quorum back",
		"Enough monitors have fresh views again: the quorum is back.",
		"mxfailover works normally again and acts on the servers' health when the "
		"monitors agree.",
		RECORDS_NOW,
	},
	[NOTIFY_CHANGED_BY_HAND] = {
		"$g: record changed by hand, left alone",
		"A record of group $g was changed by hand: it points at none of the group's "
		"servers as mxfailover left it.",
		"mxfailover leaves the record alone. Point it back at a server of the group, or "
		"take it out of the configuration.",
		"Records as DNS holds them:",
	},
	[NOTIFY_RECORD_MISSING] = {
		"$g: a record is missing",
		"A record that group $g must switch does not exist, so it is not switched.",
		"mxfailover never creates records. Add the record to the zone, or take it out "
		"of the configuration; you will not hear again until it has existed once.",
		"Records as DNS holds them:",
	},
	[NOTIFY_SWITCH_COMPLETED] = {
		"$g: switch to $t completed",
		"More zones of group $g now point at $t: their update went through later "
		"(a retry after a failed update, or after a restart).",
		"Nothing to do. The zones named here have converged.",
		RECORDS_NOW,
	},
	[NOTIFY_AUDIT_FINDING] = {
		"audit: a new finding",
		"The background audit of the mail DNS found something new that needs "
		"attention (the line below: severity, id, subject, what is wrong; then what "
		"to do).",
		"Fix it before the next failover needs it; `mxfailover audit` shows every "
		"finding. You will hear again when it is no longer found.",
		RECORDS_NOW,
	},
	[NOTIFY_AUDIT_CLEAR] = {
		"audit: a finding is gone",
		"The background audit no longer finds what it reported before (the line "
		"below).",
		"Nothing to do.",
		RECORDS_NOW,
	},
	[NOTIFY_QUEUE_FLUSH] = {
		"$g: queue flush at $s started",
		"The backup MX $s was asked to deliver its queued mail (ETRN) and accepted.",
		"Nothing to do: the queued mail is on its way.",
		RECORDS_NOW,
	},
};

/* A queue flush that failed (e->failed). */
static const struct kind_words flush_failed_words = {
	"$g: queue flush at $s FAILED",
	"Asking the backup MX $s to deliver its queued mail (ETRN) FAILED.",
	"The queued mail still arrives at the backup's next queue run. Check "
	"fast_flush_domains and smtpd_etrn_restrictions on $s, or run `postqueue -s DOMAIN` "
	"there.",
	RECORDS_NOW,
};

/* A kind without words of its own (a reminder about a reminder, junk). */
static const struct kind_words other_words = {"$k", "Event $k.", "Nothing.", RECORDS_NOW};

static const struct kind_words *
words_of(enum notify_kind k, const struct notify_event *e)
{
	if (k == NOTIFY_QUEUE_FLUSH && e->failed)
		return &flush_failed_words;
	if ((unsigned)k < NOTIFY_KIND_COUNT_ && kind_words[k].brief != NULL)
		return &kind_words[k];
	return &other_words;
}

/* Append template @t with its $-fields filled from @e (kind @k). */
static void
put_words(struct buf *b, const char *t, enum notify_kind k, const struct notify_event *e)
{
	static const char names[] = "sgft";
	const char *const fields[] = {e->server, e->group, e->from, e->to};

	while (*t != '\0') {
		size_t lit = strcspn(t, "$");
		const char *f;

		buf_append(b, t, lit);
		t += lit;
		if (*t == '\0')
			break;
		f = t[1] != '\0' ? strchr(names, t[1]) : NULL;
		if (f != NULL) {
			buf_printf(b, "%s", or_q(fields[f - names]));
		} else if (t[1] == 'o') {
			if (e->group != NULL)
				buf_printf(b, " of group %s", e->group);
		} else if (t[1] == 'k') {
			buf_printf(b, "%s", notify_kind_name(k));
		} else {
			/* Not a field: the '$' itself (no template has one). */
			buf_append(b, t, 1);
			t++;
			continue;
		}
		t += 2;
	}
}

/* The kind whose words a reminder repeats. */
static enum notify_kind
subject_kind(const struct notify_event *e)
{
	return e->kind == NOTIFY_REMINDER ? e->about : e->kind;
}

/* A queue flush's subject ends with what became of the backup's queue. */
static const char *
notify_text_queue_brief(const struct notify_event *e)
{
	return e->queue_drained > 0	  ? ", queue drained"
	       : e->queue_drained == 0 ? ", queue NOT drained"
				       : ", queue unreadable";
}

char *
notify_text_subject(const struct notify_event *e, time_t now)
{
	struct buf b = {0};
	enum notify_kind k = subject_kind(e);
	char span[48];

	buf_printf(&b, "[mxfailover] %s", e->test ? "TEST " : "");
	if (e->kind == NOTIFY_REMINDER)
		buf_printf(&b, "reminder: ");
	put_words(&b, words_of(k, e)->brief, k, e);
	if (e->kind == NOTIFY_REMINDER && e->since != 0) {
		value_format_duration_span((int64_t)(now - e->since), span, sizeof(span));
		buf_printf(&b, " (for %s)", span);
	}
	if (e->kind == NOTIFY_QUEUE_FLUSH && e->queue != NULL)
		buf_printf(&b, "%s", notify_text_queue_brief(e));
	return buf_take(&b);
}

char *
notify_text_body(const struct notify_event *e, const char *host, time_t now)
{
	struct buf b = {0};
	enum notify_kind k = subject_kind(e);
	const struct kind_words *w = words_of(k, e);
	char when[128], span[48];

	if (e->test)
		buf_printf(&b, "TEST: this notice was sent by `mxfailover notify test`; "
			   "nothing happened.\n\n");
	if (e->kind == NOTIFY_REMINDER)
		buf_printf(&b, "Reminder, still going on: ");
	put_words(&b, w->headline, k, e);
	if (e->kind == NOTIFY_REMINDER && e->since != 0) {
		value_format_duration_span((int64_t)(now - e->since), span, sizeof(span));
		buf_printf(&b, " It has lasted %s.", span);
	}
	buf_printf(&b, "\n\n");
	buf_printf(&b, "When:    %s\n", notify_text_format_time(e->time, when, sizeof(when)));
	if (e->kind == NOTIFY_REMINDER && e->since != 0)
		buf_printf(&b, "Since:   %s\n",
			   notify_text_format_time(e->since, when, sizeof(when)));
	buf_printf(&b, "Event:   %s\n", notify_kind_name(e->kind));
	if (e->group != NULL)
		buf_printf(&b, "Group:   %s\n", e->group);
	if (e->server != NULL)
		buf_printf(&b, "Server:  %s\n", e->server);
	if (e->from != NULL || e->to != NULL)
		buf_printf(&b, "From/to: %s -> %s\n", or_q(e->from), or_q(e->to));
	if (e->reason != NULL && *e->reason != '\0')
		buf_printf(&b, "Why:     %s\n", e->reason);
	if (e->kind == NOTIFY_QUEUE_FLUSH && e->queue != NULL)
		buf_printf(&b, "Queue:   %s%s\n",
			   e->queue_drained > 0	   ? "drained: "
			   : e->queue_drained == 0 ? "NOT drained: "
						   : "",
			   e->queue);
	if (e->nzones > 0) {
		buf_printf(&b, "Zones:  ");
		for (size_t i = 0; i < e->nzones; i++)
			buf_printf(&b, " %s", e->zones[i]);
		buf_printf(&b, "\n");
	}
	if (e->nrecords > 0) {
		buf_printf(&b, "\n%s\n", w->records);
		for (size_t i = 0; i < e->nrecords; i++)
			buf_printf(&b, "  %s\n", e->records[i]);
	}
	buf_printf(&b, "\nNext: ");
	if (e->kind == NOTIFY_QUEUE_FLUSH && e->queue != NULL && e->queue_drained <= 0)
		buf_printf(&b, "Mail may still wait at %s: `mxfailover queue %s` shows it. ",
			   or_q(e->server), or_q(e->server));
	put_words(&b, w->next, k, e);
	buf_printf(&b, "\n\n-- \nmxfailover on %s\n", or_q(host));
	return buf_take(&b);
}

char *
notify_text_mail_message(const struct notify_event *e, const char *from, const char *to,
			 const char *msgid, const char *host, time_t now)
{
	struct buf b = {0};
	char date[64];
	struct tm lt;
	char *subject = notify_text_subject(e, now);
	char *body = notify_text_body(e, host, now);

	if (subject == NULL || body == NULL)
		goto fail;
	localtime_r(&now, &lt);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &lt);
	buf_printf(&b, "Date: %s\r\n", date);
	buf_printf(&b, "From: mxfailover <%s>\r\n", from);
	buf_printf(&b, "To: %s\r\n", to);
	buf_printf(&b, "Subject: %s\r\n", subject);
	buf_printf(&b, "Message-ID: <%s>\r\n", msgid);
	buf_printf(&b, "MIME-Version: 1.0\r\n");
	buf_printf(&b, "Content-Type: text/plain; charset=utf-8\r\n");
	buf_printf(&b, "Content-Transfer-Encoding: 8bit\r\n");
	buf_printf(&b, "Auto-Submitted: auto-generated\r\n");
	buf_printf(&b, "X-Mxfailover-Event: %s\r\n", notify_kind_name(e->kind));
	buf_printf(&b, "\r\n");
	/* Body lines end in CRLF on the wire. */
	for (const char *p = body; *p != '\0';) {
		size_t l = strcspn(p, "\n");
		buf_printf(&b, "%.*s\r\n", (int)l, p);
		p += l;
		if (*p == '\n')
			p++;
	}
	free(subject);
	free(body);
	return buf_take(&b);
fail:
	free(subject);
	free(body);
	return NULL;
}

/* ------------------------------------------------- webhook and exec -- */

static json_t *
json_str_or_null(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	/* Not UTF-8 (cannot happen after notify_text_redact, but be safe). */
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
notify_text_json(const struct notify_event *e)
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
	if (e->kind == NOTIFY_QUEUE_FLUSH) {
		json_object_set_new(o, "failed", json_boolean(e->failed));
		json_object_set_new(o, "queue", json_str_or_null(e->queue));
		json_object_set_new(o, "queue_drained",
				    e->queue == NULL || e->queue_drained < 0 ? json_null()
									     : json_boolean(e->queue_drained > 0));
	}
	if (e->kind == NOTIFY_REMINDER) {
		json_t *since = e->since != 0 ? json_string(format_rfc3339(e->since, t, sizeof(t)))
					      : json_null();

		json_object_set_new(o, "about", json_string(notify_kind_name(e->about)));
		json_object_set_new(o, "since", since);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static const char *const notify_env_names[] = {
	"MXF_EVENT", "MXF_GROUP", "MXF_SERVER", "MXF_FROM", "MXF_TO", "MXF_ZONES",
	"MXF_RECORDS", "MXF_REASON", "MXF_TIME", "MXF_VERSION", "MXF_ABOUT", "MXF_SINCE",
	"MXF_FAILED", "MXF_TEST", "MXF_QUEUE", "MXF_QUEUE_DRAINED",
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
	struct buf b = {0};

	buf_printf(&b, "%s=", name);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i > 0 ? sep : "", v[i] != NULL ? v[i] : "");
	return buf_take(&b);
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
notify_text_env(const struct notify_event *e, char *const *base)
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
		env_pair("MXF_FAILED",
			 e->kind == NOTIFY_QUEUE_FLUSH ? (e->failed ? "1" : "0") : ""),
		env_pair("MXF_TEST", e->test ? "1" : "0"),
		env_pair("MXF_QUEUE", e->kind == NOTIFY_QUEUE_FLUSH && e->queue != NULL ? e->queue : ""),
		env_pair("MXF_QUEUE_DRAINED", e->kind != NOTIFY_QUEUE_FLUSH || e->queue == NULL ? ""
					      : e->queue_drained > 0			 ? "1"
					      : e->queue_drained == 0			 ? "0"
											 : ""),
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
