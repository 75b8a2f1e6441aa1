/*
 * test_notify.c -- the pure parts of notify.c and etrn.c: subject, body and
 * whole mail message, address lists, the webhook JSON, the exec
 * environment, the reminder schedule, secret scrubbing, peers for log
 * lines, and ETRN's reply classes and arguments.
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

#include "etrn.h"
#include "mxf.h"
#include "notify.h"

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
test_kind_names(void **state)
{
	enum notify_kind k;

	(void)state;
	for (unsigned i = 0; i < NOTIFY_KIND_COUNT_; i++) {
		assert_int_equal(notify_kind_parse(notify_kind_name((enum notify_kind)i), &k), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(notify_kind_name(NOTIFY_SERVER_DOWN), "server_down");
	assert_string_equal(notify_kind_name(NOTIFY_QUEUE_FLUSH), "queue_flush");
	assert_string_equal(notify_kind_name(NOTIFY_KIND_COUNT_), "unknown");
	assert_int_equal(notify_kind_parse("switchd", &k), MXF_EINVAL);
	assert_string_equal(notify_channel_name(NOTIFY_CH_WEBHOOK), "webhook");
}

static void
test_subjects(void **state)
{
	struct notify_event e = switched_event();
	char *s;

	(void)state;
	s = notify_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] mail: switched mx1 -> mx2");
	free(s);
	e.kind = NOTIFY_SERVER_DOWN;
	s = notify_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] mx1 is down");
	free(s);
	e.kind = NOTIFY_ALL_DOWN;
	e.test = true;
	s = notify_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] TEST mail: ALL servers down");
	free(s);
	e.test = false;
	e.kind = NOTIFY_QUEUE_FLUSH;
	e.server = "mx2";
	e.failed = true;
	s = notify_subject(&e, T0);
	assert_string_equal(s, "[mxfailover] mail: queue flush at mx2 FAILED");
	free(s);
}

static void
test_body(void **state)
{
	struct notify_event e = switched_event();
	char *b;

	(void)state;
	b = notify_body(&e, "monitor.example.org", T0);
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
	b = notify_body(&e, "h", T0);
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
	m = notify_mail_message(&e, "mxf@example.com", "a@example.com,b@example.org",
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
	char *clean = notify_redact("mx1\r\nBcc: victim@example.com", NULL, 0);
	char *m;

	(void)state;
	/* notify_send scrubs every event string like this before building. */
	assert_string_equal(clean, "mx1??Bcc: victim@example.com");
	e.group = clean;
	m = notify_mail_message(&e, "f@x.org", "t@x.org", "i@x", "h", T0);
	assert_null(strstr(m, "\r\nBcc:"));
	free(m);
	free(clean);
}

static void
test_addresses(void **state)
{
	char **v;

	(void)state;
	assert_int_equal(notify_split_addresses("a@x.org", &v), 0);
	assert_string_equal(v[0], "a@x.org");
	assert_null(v[1]);
	notify_strv_free(v);
	assert_int_equal(notify_split_addresses(" a@x.org, b@y.org ,,c@z.org", &v), 0);
	assert_string_equal(v[0], "a@x.org");
	assert_string_equal(v[1], "b@y.org");
	assert_string_equal(v[2], "c@z.org");
	assert_null(v[3]);
	notify_strv_free(v);
	assert_int_equal(notify_split_addresses("", &v), MXF_EINVAL);
	assert_int_equal(notify_split_addresses(" , ", &v), MXF_EINVAL);
	assert_int_equal(notify_split_addresses("a@x.org, nobody", &v), MXF_EINVAL);
	assert_int_equal(notify_split_addresses("a b@x.org", &v), MXF_EINVAL);
	assert_int_equal(notify_split_addresses("<a@x.org>", &v), MXF_EINVAL);
}

static void
test_json(void **state)
{
	struct notify_event e = switched_event();
	json_error_t err;
	json_t *o;
	char *s;

	(void)state;
	s = notify_json(&e);
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
	s = notify_json(&e);
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
	env = notify_env(&e, base);
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
	env = notify_env(&e, NULL);
	assert_string_equal(env_get(env, "MXF_GROUP"), "");
	assert_null(env_get(env, "PATH"));
	notify_strv_free(env);
}

static void
test_reminder_schedule(void **state)
{
	(void)state;
	/* Off. */
	assert_int_equal(notify_reminder_next(1000, 5000, 0), 0);
	/* Right at the start: one interval later. */
	assert_int_equal(notify_reminder_next(1000, 1000, 3600000), 3601000);
	/* Between reminders: the next multiple. */
	assert_int_equal(notify_reminder_next(1000, 3601000, 3600000), 7201000);
	assert_int_equal(notify_reminder_next(1000, 3600999, 3600000), 3601000);
	/* A late timer (the daemon was busy or asleep) skips missed ones. */
	assert_int_equal(notify_reminder_next(0, 10 * 3600000 + 5, 3600000), 11 * 3600000ULL);
	/* A clock before the start. */
	assert_int_equal(notify_reminder_next(5000, 1000, 100), 5100);
	/* No overflow. */
	assert_true(notify_reminder_next(UINT64_MAX - 10, UINT64_MAX - 1, 100) == UINT64_MAX);
}

static void
test_reminder_event(void **state)
{
	struct notify_event down = {
		.kind = NOTIFY_SERVER_DOWN, .group = "mail", .server = "mx1",
		.reason = "connection refused", .time = T0,
	};
	struct notify_event rem, rem2;
	char *s, *b;

	(void)state;
	notify_reminder_init(&rem, &down, T0 + 2 * 3600 + 600);
	assert_int_equal(rem.kind, NOTIFY_REMINDER);
	assert_int_equal(rem.about, NOTIFY_SERVER_DOWN);
	assert_int_equal(rem.since, T0);
	assert_string_equal(rem.server, "mx1");
	s = notify_subject(&rem, rem.time);
	assert_string_equal(s, "[mxfailover] reminder: mx1 is down (for 2 h 10 min)");
	free(s);
	b = notify_body(&rem, "h", rem.time);
	assert_non_null(strstr(b, "Reminder, still going on: Server mx1 of group mail is DOWN. "
			       "It has lasted 2 h 10 min."));
	assert_non_null(strstr(b, "Since:   2026-11-23 08:26:00 UTC"));
	free(b);
	/* A reminder of a reminder keeps the original start. */
	notify_reminder_init(&rem2, &rem, T0 + 5 * 3600);
	assert_int_equal(rem2.about, NOTIFY_SERVER_DOWN);
	assert_int_equal(rem2.since, T0);
}

static void
test_redact(void **state)
{
	const char *secrets[] = {"hunter2pw", "c2VjcmV0LWtleQ==", "ab"};
	char *s;

	(void)state;
	s = notify_redact("AUTH failed for hunter2pw at hunter2pw!", secrets, 3);
	assert_string_equal(s, "AUTH failed for [redacted] at [redacted]!");
	free(s);
	s = notify_redact("tsig c2VjcmV0LWtleQ== leaked", secrets, 3);
	assert_string_equal(s, "tsig [redacted] leaked");
	free(s);
	/* Too short to scrub without mangling words. */
	s = notify_redact("about", secrets, 3);
	assert_string_equal(s, "about");
	free(s);
	s = notify_redact("tab\there\x1b[31m", NULL, 0);
	assert_string_equal(s, "tab?here?[31m");
	free(s);
	assert_null(notify_redact(NULL, secrets, 3));
	s = notify_redact("", secrets, 3);
	assert_string_equal(s, "");
	free(s);
}

static void
test_url_peer(void **state)
{
	char b[128];

	(void)state;
	assert_string_equal(notify_url_peer("smtp://relay.example.net:587", b, sizeof(b)),
			    "relay.example.net:587");
	assert_string_equal(notify_url_peer("smtps://user:pw@relay.example.net", b, sizeof(b)),
			    "relay.example.net:465");
	assert_string_equal(notify_url_peer("smtp://relay.example.net/helo.name", b, sizeof(b)),
			    "relay.example.net:25");
	assert_string_equal(notify_url_peer("https://hooks.example.net/T000/B000/XXXXSECRET", b,
					    sizeof(b)), "hooks.example.net:443");
	assert_string_equal(notify_url_peer("http://a:b@[2001:db8::1]:8080/x?token=1", b, sizeof(b)),
			    "[2001:db8::1]:8080");
	assert_string_equal(notify_url_peer("http://[2001:db8::1]/x", b, sizeof(b)), "[2001:db8::1]:80");
	assert_string_equal(notify_url_peer("garbage", b, sizeof(b)), "?");
}

static void
test_etrn_pure(void **state)
{
	char b[64];

	(void)state;
	assert_true(etrn_code_accepted(250));
	assert_true(etrn_code_accepted(251));
	assert_true(etrn_code_accepted(252));
	assert_true(etrn_code_accepted(253));
	assert_false(etrn_code_accepted(458));
	assert_false(etrn_code_accepted(459));
	assert_false(etrn_code_accepted(500));
	assert_false(etrn_code_accepted(502));
	assert_false(etrn_code_accepted(0));
	assert_string_equal(etrn_code_meaning(250), "queuing started");
	assert_string_equal(etrn_code_meaning(458), "unable to queue messages");
	assert_string_equal(etrn_code_meaning(459), "node not allowed");
	assert_string_equal(etrn_code_meaning(502), "ETRN not supported");
	assert_string_equal(etrn_zone_arg("example.com.", b, sizeof(b)), "example.com");
	assert_string_equal(etrn_zone_arg("example.com", b, sizeof(b)), "example.com");
	assert_string_equal(etrn_zone_arg("@example.com", b, sizeof(b)), "@example.com");
	assert_null(etrn_zone_arg(".", b, sizeof(b)));
	assert_null(etrn_zone_arg("", b, sizeof(b)));
	assert_null(etrn_zone_arg("a b", b, sizeof(b)));
	assert_null(etrn_zone_arg("a\r\nQUIT", b, sizeof(b)));
	assert_null(etrn_zone_arg("example.com", b, 5));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_body_local_time),
		cmocka_unit_test(test_mail_message),
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_reminder_schedule),
		cmocka_unit_test(test_reminder_event),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_url_peer),
		cmocka_unit_test(test_etrn_pure),
	};

	return cmocka_run_group_tests(tests, setup_utc, NULL);
}
