/*
 * test_notify_text.c -- notify_text.c, the words of a notice: subject, body
 * and whole mail message, address lists, the webhook JSON, the exec
 * environment, secret scrubbing and peers for log lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "mxf.h"
#include "notify.h"
#include "notify_text.h"

/* 2026-11-23 08:26:00 UTC */
#define T0 ((time_t)1795422360)

static const char *const zones[] = {"example.com.", "example.net."};
static const char *const records[] = {"mx.example.com. CNAME mx2.example.com.",
				      "mx.example.net. CNAME mx2.example.com."};

static struct notify_event
switched_event(void)
{
	struct notify_event e = {
		.kind = NOTIFY_SWITCHED,
		.group = "mail",
		.server = "mx1",
		.from = "mx1",
		.to = "mx2",
		.zones = zones,
		.nzones = 2,
		.records = records,
		.nrecords = 2,
		.reason = "mx1 is down: smtp://192.0.2.10:25 timed out after 5.0 s in banner",
		.time = T0,
	};
	return e;
}

static int
setup_utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void
test_subjects(void **state)
{
	struct notify_event e = switched_event();
	char *s;

	(void)state;
	s = notify_text_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] mail: switched mx1 -> mx2");
	free(s);
	e.kind = NOTIFY_SERVER_DOWN;
	s = notify_text_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] mx1 is down");
	free(s);
	e.kind = NOTIFY_ALL_DOWN;
	e.test = true;
	s = notify_text_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] TEST mail: ALL servers down");
	free(s);
	e.test = false;
	e.kind = NOTIFY_QUEUE_FLUSH;
	e.server = "mx2";
	e.failed = true;
	s = notify_text_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] mail: queue flush at mx2 FAILED");
	free(s);
}

static void
test_body(void **state)
{
	struct notify_event e = switched_event();
	char *b;

	(void)state;
	b = notify_text_body(&e, "monitor.example.org", T0);
	assert_non_null(b);
	assert_non_null(strstr(b, "The records of group mail were switched from mx1 to mx2."));
	assert_non_null(strstr(b, "When:    2026-11-23 08:26:00 UTC\n"));
	assert_non_null(strstr(b, "Why:     mx1 is down: smtp://192.0.2.10:25 timed out"));
	assert_non_null(strstr(b, "Records now:\n  mx.example.com. CNAME mx2.example.com.\n"
			       "  mx.example.net. CNAME mx2.example.com.\n"));
	assert_non_null(strstr(b, "\nNext: "));
	assert_non_null(strstr(b, "mxfailover on monitor.example.org"));
	assert_null(strstr(b, "TEST"));
	free(b);
}

static void
test_body_local_time(void **state)
{
	struct notify_event e = switched_event();
	char *b;

	(void)state;
	setenv("TZ", "CET-1", 1);
	tzset();
	b = notify_text_body(&e, "h", T0);
	assert_non_null(strstr(b, "When:    2026-11-23 09:26:00 CET (08:26:00 UTC)\n"));
	free(b);
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
test_mail_message(void **state)
{
	struct notify_event e = switched_event();
	char *m;

	(void)state;
	m = notify_text_mail_message(&e, "mxf@example.com", "a@example.com,b@example.org",
				"id.1@example.com", "h", T0);
	assert_non_null(m);
	assert_true(strncmp(m, "Date: Mon, 23 Nov 2026 08:26:00 +0000\r\n", 39) == 0);
	assert_non_null(strstr(m, "\r\nFrom: mxfailover <mxf@example.com>\r\n"));
	assert_non_null(strstr(m, "\r\nTo: a@example.com,b@example.org\r\n"));
	assert_non_null(strstr(m, "\r\nSubject: [mxfailover] mail: switched mx1 -> mx2\r\n"));
	assert_non_null(strstr(m, "\r\nMessage-ID: <id.1@example.com>\r\n"));
	assert_non_null(strstr(m, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(m, "\r\n\r\nThe records of group"));
	/* Every line ends in CRLF: no bare LF. */
	for (const char *p = m; (p = strchr(p, '\n')) != NULL; p++)
		assert_true(p > m && p[-1] == '\r');
	free(m);
}

static void
test_header_injection(void **state)
{
	struct notify_event e = switched_event();
	char *clean = notify_text_redact("mx1\r\nBcc: victim@example.com", NULL, 0);
	char *m;

	(void)state;
	/* notify_send scrubs every event string like this before building. */
	assert_string_equal(clean, "mx1??Bcc: victim@example.com");
	e.group = clean;
	m = notify_text_mail_message(&e, "f@x.org", "t@x.org", "i@x", "h", T0);
	assert_null(strstr(m, "\r\nBcc:"));
	free(m);
	free(clean);
}

static void
test_addresses(void **state)
{
	char **v;

	(void)state;
	assert_int_equal(notify_text_split_addresses("a@x.org", &v), 0);
	assert_string_equal(v[0], "a@x.org");
	assert_null(v[1]);
	notify_strv_free(v);
	assert_int_equal(notify_text_split_addresses(" a@x.org, b@y.org ,,c@z.org", &v), 0);
	assert_string_equal(v[0], "a@x.org");
	assert_string_equal(v[1], "b@y.org");
	assert_string_equal(v[2], "c@z.org");
	assert_null(v[3]);
	notify_strv_free(v);
	assert_int_equal(notify_text_split_addresses("", &v), MXF_EINVAL);
	assert_int_equal(notify_text_split_addresses(" , ", &v), MXF_EINVAL);
	assert_int_equal(notify_text_split_addresses("a@x.org, nobody", &v), MXF_EINVAL);
	assert_int_equal(notify_text_split_addresses("a b@x.org", &v), MXF_EINVAL);
	assert_int_equal(notify_text_split_addresses("<a@x.org>", &v), MXF_EINVAL);
}

static void
test_json(void **state)
{
	struct notify_event e = switched_event();
	json_error_t err;
	json_t *o;
	char *s;

	(void)state;
	s = notify_text_json(&e);
	assert_non_null(s);
	o = json_loads(s, 0, &err);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "event")), "switched");
	assert_string_equal(json_string_value(json_object_get(o, "group")), "mail");
	assert_string_equal(json_string_value(json_object_get(o, "server")), "mx1");
	assert_string_equal(json_string_value(json_object_get(o, "from")), "mx1");
	assert_string_equal(json_string_value(json_object_get(o, "to")), "mx2");
	assert_int_equal(json_array_size(json_object_get(o, "zones")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "zones"), 1)),
			    "example.net.");
	assert_int_equal(json_array_size(json_object_get(o, "records")), 2);
	assert_non_null(strstr(json_string_value(json_object_get(o, "reason")), "timed out"));
	assert_string_equal(json_string_value(json_object_get(o, "time")), "2026-11-23T08:26:00Z");
	assert_true(json_is_false(json_object_get(o, "test")));
	assert_null(json_object_get(o, "about"));
	json_decref(o);
	free(s);

	/* Absent strings are null; a reminder says what about and since when. */
	e.kind = NOTIFY_REMINDER;
	e.about = NOTIFY_ALL_DOWN;
	e.since = T0 - 7200;
	e.from = NULL;
	s = notify_text_json(&e);
	o = json_loads(s, 0, &err);
	assert_true(json_is_null(json_object_get(o, "from")));
	assert_string_equal(json_string_value(json_object_get(o, "about")), "all_down");
	assert_string_equal(json_string_value(json_object_get(o, "since")), "2026-11-23T06:26:00Z");
	json_decref(o);
	free(s);
}

static const char *
env_get(char **env, const char *name)
{
	size_t l = strlen(name);

	for (char **p = env; *p != NULL; p++)
		if (strncmp(*p, name, l) == 0 && (*p)[l] == '=')
			return *p + l + 1;
	return NULL;
}

static void
test_env(void **state)
{
	struct notify_event e = switched_event();
	char *base[] = {"PATH=/usr/bin", "MXF_EVENT=stale", "HOME=/root", NULL};
	char **env;
	size_t n = 0;

	(void)state;
	env = notify_text_env(&e, base);
	assert_non_null(env);
	for (char **p = env; *p != NULL; p++)
		if (strncmp(*p, "MXF_EVENT=", 10) == 0)
			n++;
	assert_int_equal(n, 1);
	assert_string_equal(env_get(env, "PATH"), "/usr/bin");
	assert_string_equal(env_get(env, "HOME"), "/root");
	assert_string_equal(env_get(env, "MXF_EVENT"), "switched");
	assert_string_equal(env_get(env, "MXF_GROUP"), "mail");
	assert_string_equal(env_get(env, "MXF_SERVER"), "mx1");
	assert_string_equal(env_get(env, "MXF_FROM"), "mx1");
	assert_string_equal(env_get(env, "MXF_TO"), "mx2");
	assert_string_equal(env_get(env, "MXF_ZONES"), "example.com. example.net.");
	assert_string_equal(env_get(env, "MXF_RECORDS"),
			    "mx.example.com. CNAME mx2.example.com., mx.example.net. CNAME mx2.example.com.");
	assert_non_null(strstr(env_get(env, "MXF_REASON"), "timed out"));
	assert_string_equal(env_get(env, "MXF_TIME"), "2026-11-23T08:26:00Z");
	assert_string_equal(env_get(env, "MXF_TEST"), "0");
	notify_strv_free(env);

	e.group = NULL;
	env = notify_text_env(&e, NULL);
	assert_string_equal(env_get(env, "MXF_GROUP"), "");
	assert_null(env_get(env, "PATH"));
	notify_strv_free(env);
}

static void
test_redact(void **state)
{
	const char *secrets[] = {"hunter2pw", "c2VjcmV0LWtleQ==", "ab"};
	char *s;

	(void)state;
	s = notify_text_redact("AUTH failed for hunter2pw at hunter2pw!", secrets, 3);
	assert_string_equal(s, "AUTH failed for [redacted] at [redacted]!");
	free(s);
	s = notify_text_redact("tsig c2VjcmV0LWtleQ== leaked", secrets, 3);
	assert_string_equal(s, "tsig [redacted] leaked");
	free(s);
	/* Too short to scrub without mangling words. */
	s = notify_text_redact("about", secrets, 3);
	assert_string_equal(s, "about");
	free(s);
	s = notify_text_redact("tab\there\x1b[31m", NULL, 0);
	assert_string_equal(s, "tab?here?[31m");
	free(s);
	assert_null(notify_text_redact(NULL, secrets, 3));
	s = notify_text_redact("", secrets, 3);
	assert_string_equal(s, "");
	free(s);
}

static void
test_url_peer(void **state)
{
	char b[128];

	(void)state;
	assert_string_equal(notify_text_url_peer("smtp://relay.example.net:587", b, sizeof(b)),
			    "relay.example.net:587");
	assert_string_equal(notify_text_url_peer("smtps://user:pw@relay.example.net", b, sizeof(b)),
			    "relay.example.net:465");
	assert_string_equal(notify_text_url_peer("smtp://relay.example.net/helo.name", b, sizeof(b)),
			    "relay.example.net:25");
	assert_string_equal(notify_text_url_peer("https://hooks.example.net/T000/B000/XXXXSECRET", b,
					    sizeof(b)), "hooks.example.net:443");
	assert_string_equal(notify_text_url_peer("http://a:b@[2001:db8::1]:8080/x?token=1", b, sizeof(b)),
			    "[2001:db8::1]:8080");
	assert_string_equal(notify_text_url_peer("http://[2001:db8::1]/x", b, sizeof(b)), "[2001:db8::1]:80");
	assert_string_equal(notify_text_url_peer("garbage", b, sizeof(b)), "?");
}

/* Subject and body of @e, checked against the expected words. */
static void
check_words(const struct notify_event *e, const char *subject, const char *headline,
	    const char *next)
{
	char *s = notify_text_subject(e, T0);
	char *b = notify_text_body(e, "h", T0);

	assert_string_equal(s, subject);
	assert_non_null(strstr(b, headline));
	assert_non_null(strstr(b, next));
	free(s);
	free(b);
}

static void
test_words_every_kind(void **state)
{
	struct notify_event e = {.group = "mail", .server = "mx1", .from = "mx1", .to = "mx2",
				 .time = T0};
	const char *const recs[] = {"mx.example.com. CNAME mx1.example.com."};
	char *b;

	(void)state;
	e.kind = NOTIFY_SERVER_UP;
	check_words(&e, "[mxfailover] mx1 is up again", "Server mx1 of group mail is up again.\n",
		    "\nNext: Nothing to do. With failback = auto");
	e.kind = NOTIFY_SWITCH_FAILED;
	check_words(&e, "[mxfailover] mail: switch mx1 -> mx2 FAILED",
		    "Switching the records of group mail from mx1 to mx2 FAILED.\n",
		    "\nNext: mxfailover retries the update with backoff");
	e.kind = NOTIFY_ISOLATED;
	check_words(&e, "[mxfailover] monitor isolated, DNS changes stopped",
		    "This monitor looks cut off: every witness failed.\n",
		    "\nNext: mxfailover changes no DNS until a witness answers again.");
	e.kind = NOTIFY_ISOLATION_OVER;
	check_words(&e, "[mxfailover] monitor isolation over",
		    "This monitor is no longer isolated: a witness answers again.\n",
		    "\nNext: mxfailover works normally again");
	e.kind = NOTIFY_QUORUM_LOST;
	check_words(&e, "[mxfailover] quorum lost, DNS changes stopped",
		    "Fewer monitors than [quorum] need have fresh views: this monitor cannot "
		    "reach a quorum.\n",
		    "\nNext: mxfailover switches no records until enough monitors publish fresh "
		    "views again.");
	e.kind = NOTIFY_QUORUM_BACK;
	check_words(&e, "[mxfailover] quorum back",
		    "Enough monitors have fresh views again: the quorum is back.\n",
		    "\nNext: mxfailover works normally again");
	e.kind = NOTIFY_CHANGED_BY_HAND;
	check_words(&e, "[mxfailover] mail: record changed by hand, left alone",
		    "A record of group mail was changed by hand: it points at none of the "
		    "group's servers as mxfailover left it.\n",
		    "\nNext: mxfailover leaves the record alone.");
	e.kind = NOTIFY_RECORD_MISSING;
	check_words(&e, "[mxfailover] mail: a record is missing",
		    "A record that group mail must switch does not exist, so it is not "
		    "switched.\n",
		    "\nNext: mxfailover never creates records.");
	e.kind = NOTIFY_QUEUE_FLUSH;
	check_words(&e, "[mxfailover] mail: queue flush at mx1 started",
		    "The backup MX mx1 was asked to deliver its queued mail (ETRN) and accepted.\n",
		    "\nNext: Nothing to do: the queued mail is on its way.\n");
	e.failed = true;
	check_words(&e, "[mxfailover] mail: queue flush at mx1 FAILED",
		    "Asking the backup MX mx1 to deliver its queued mail (ETRN) FAILED.\n",
		    "smtpd_etrn_restrictions on mx1, or run `postqueue -s DOMAIN` there.\n");
	e.failed = false;

	/* Absent fields read "?"; no group, no "of group". */
	e.kind = NOTIFY_SERVER_DOWN;
	e.group = NULL;
	e.server = NULL;
	check_words(&e, "[mxfailover] ? is down", "Server ? is DOWN.\n",
		    "\nNext: mxfailover keeps checking ?. If it is the active server");
	e.kind = NOTIFY_SWITCHED;
	e.from = NULL;
	check_words(&e, "[mxfailover] ?: switched ? -> mx2",
		    "The records of group ? were switched from ? to mx2.\n",
		    "\nNext: mxfailover keeps checking every server of the group;");

	/* A kind without words: its name. */
	e.kind = NOTIFY_REMINDER;
	e.about = NOTIFY_KIND_COUNT_;
	check_words(&e, "[mxfailover] reminder: unknown", "Reminder, still going on: Event unknown.\n",
		    "\nNext: Nothing.\n");

	/* The heading over the records says what they are. */
	e.nrecords = 1;
	e.records = recs;
	e.kind = NOTIFY_SWITCH_FAILED;
	b = notify_text_body(&e, "h", T0);
	assert_non_null(strstr(b, "\nRecords (unchanged):\n  mx.example.com. CNAME"));
	free(b);
	e.kind = NOTIFY_CHANGED_BY_HAND;
	b = notify_text_body(&e, "h", T0);
	assert_non_null(strstr(b, "\nRecords as DNS holds them:\n  mx.example.com. CNAME"));
	free(b);
	e.kind = NOTIFY_ALL_DOWN;
	b = notify_text_body(&e, "h", T0);
	assert_non_null(strstr(b, "\nRecords now:\n  mx.example.com. CNAME"));
	free(b);
}

static void
test_redact_edges(void **state)
{
	const char *const overlap[] = {"secret", "secretpassword", NULL};
	const char *const four[] = {"abcd"};
	char *s;

	(void)state;

	/* The first listed secret that matches wins; NULL entries are skipped. */
	s = notify_text_redact("xsecretpasswordx", overlap, 3);
	assert_string_equal(s, "x[redacted]passwordx");
	free(s);
	/* Back to back, and at both ends. */
	s = notify_text_redact("secretsecret", overlap, 3);
	assert_string_equal(s, "[redacted][redacted]");
	free(s);
	/* Exactly NOTIFY_SECRET_MIN bytes is scrubbed. */
	s = notify_text_redact("xabcdx", four, 1);
	assert_string_equal(s, "x[redacted]x");
	free(s);
	/* Invalid UTF-8 and DEL become '?', valid UTF-8 stays. */
	s = notify_text_redact("caf\xc3\xa9 \xff\x7f", NULL, 0);
	assert_string_equal(s, "caf\xc3\xa9 ??");
	free(s);
	/* A mail header cannot be smuggled in through a secret's neighbour. */
	s = notify_text_redact("secret\nBcc: x", overlap, 3);
	assert_string_equal(s, "[redacted]?Bcc: x");
	free(s);
}

/* A queue flush at a backup whose queue is read: every channel says
 * whether it drained; one without a queue reading says nothing of it. */
static void
test_queue_flush_drained(void **state)
{
	struct notify_event e = switched_event();
	char *s, **env;
	json_t *o;

	(void)state;
	e.kind = NOTIFY_QUEUE_FLUSH;
	e.server = "mx2";
	e.from = e.to = NULL;
	e.nrecords = 0;
	e.reason = "ETRN example.com: 250 Queuing started";
	s = notify_text_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] mail: queue flush at mx2 started");
	free(s);
	s = notify_text_body(&e, "monitor", T0);
	assert_null(strstr(s, "Queue:"));
	free(s);

	e.queue = "no mail left for example.com, example.net";
	e.queue_drained = 1;
	s = notify_text_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] mail: queue flush at mx2 started, queue drained");
	free(s);
	s = notify_text_body(&e, "monitor", T0);
	assert_non_null(strstr(s, "Queue:   drained: no mail left for example.com, example.net\n"));
	assert_null(strstr(s, "mxfailover queue mx2"));
	free(s);
	env = notify_text_env(&e, NULL);
	assert_string_equal(env_get(env, "MXF_QUEUE"), "no mail left for example.com, example.net");
	assert_string_equal(env_get(env, "MXF_QUEUE_DRAINED"), "1");
	for (char **p = env; *p != NULL; p++)
		free(*p);
	free(env);

	e.queue = "3 messages still held, oldest 2 min, for example.com, example.net";
	e.queue_drained = 0;
	s = notify_text_subject(&e, T0);
	assert_non_null(strstr(s, ", queue NOT drained"));
	free(s);
	s = notify_text_body(&e, "monitor", T0);
	assert_non_null(strstr(s, "Queue:   NOT drained: 3 messages still held"));
	assert_non_null(strstr(s, "`mxfailover queue mx2` shows it"));
	free(s);
	s = notify_text_json(&e);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_true(json_is_false(json_object_get(o, "queue_drained")));
	assert_non_null(strstr(json_string_value(json_object_get(o, "queue")), "3 messages"));
	json_decref(o);
	free(s);

	e.queue = "could not be read: ssh: connect to host 192.0.2.11 port 22: Connection refused";
	e.queue_drained = -1;
	s = notify_text_subject(&e, T0);
	assert_non_null(strstr(s, ", queue unreadable"));
	free(s);
	s = notify_text_json(&e);
	o = json_loads(s, 0, NULL);
	assert_true(json_is_null(json_object_get(o, "queue_drained")));
	json_decref(o);
	free(s);
	env = notify_text_env(&e, NULL);
	assert_string_equal(env_get(env, "MXF_QUEUE_DRAINED"), "");
	for (char **p = env; *p != NULL; p++)
		free(*p);
	free(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_body_local_time),
		cmocka_unit_test(test_mail_message),
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_queue_flush_drained),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_url_peer),
		cmocka_unit_test(test_words_every_kind),
		cmocka_unit_test(test_redact_edges),
	};

	return cmocka_run_group_tests(tests, setup_utc, NULL);
}
