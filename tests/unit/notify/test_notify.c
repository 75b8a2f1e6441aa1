/*
 * test_notify.c -- notify.c: kind and channel names, the reminder schedule
 * and reminder events, and deliveries through the channel vtable on a real
 * event loop (the exec channel, which needs no network): configuration,
 * delivery, retry, timeout, scrubbing and cancel at shutdown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "mxf.h"
#include "notify.h"
#include "notify_text.h"

/* 2026-11-23 08:26:00 UTC */
#define T0 ((time_t)1795422360)

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
	assert_string_equal(notify_kind_name(NOTIFY_QUORUM_LOST), "quorum_lost");
	assert_string_equal(notify_kind_name(NOTIFY_QUORUM_BACK), "quorum_back");
	assert_string_equal(notify_kind_name(NOTIFY_KIND_COUNT_), "unknown");
	assert_int_equal(notify_kind_parse("switchd", &k), MXF_EINVAL);
	assert_string_equal(notify_channel_name(NOTIFY_CH_WEBHOOK), "webhook");
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
	s = notify_text_subject(&rem, rem.time);
	assert_string_equal(s, "[mxfailover] reminder: mx1 is down (for 2 h 10 min)");
	free(s);
	b = notify_text_body(&rem, "h", rem.time);
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
test_channel_names(void **state)
{
	(void)state;
	assert_string_equal(notify_channel_name(NOTIFY_CH_MAIL), "mail");
	assert_string_equal(notify_channel_name(NOTIFY_CH_WEBHOOK), "webhook");
	assert_string_equal(notify_channel_name(NOTIFY_CH_EXEC), "exec");
	assert_string_equal(notify_channel_name(NOTIFY_CH_COUNT_), "unknown");
}

/* ------------------------------------------------ deliveries on a loop -- */

struct results {
	unsigned delivered, failed;
	enum notify_channel ch;
	char reason[256];
	char event_reason[256];
};

static void
on_result(enum notify_channel ch, const struct notify_event *e, bool delivered,
	  const char *reason, void *arg)
{
	struct results *r = arg;

	r->ch = ch;
	if (delivered)
		r->delivered++;
	else
		r->failed++;
	snprintf(r->reason, sizeof(r->reason), "%s", reason != NULL ? reason : "");
	snprintf(r->event_reason, sizeof(r->event_reason), "%s", e->reason != NULL ? e->reason : "");
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* Run @base until @n has nothing pending, or @ms passed. */
static void
run_until_idle(struct event_base *base, struct notify *n, unsigned ms)
{
	bool late = false;
	struct event *stop = evtimer_new(base, stop_cb, &late);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	assert_non_null(stop);
	evtimer_add(stop, &tv);
	while (notify_pending(n) > 0 && !late)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(stop);
}

static struct notify *
exec_notifier(struct event_base *base, const char *cmd, const struct notify_opts *o,
	      struct results *r)
{
	struct config_notify cfg = {.exec = (char *)cmd};
	char err[256];
	struct notify *n = notify_new(base, &cfg, o, err, sizeof(err));

	assert_non_null(n);
	assert_string_equal(err, "");
	notify_set_result_cb(n, on_result, r);
	return n;
}

static void
test_channels_configured(void **state)
{
	struct event_base *base = event_base_new();
	struct config_notify cfg = {0};
	char err[256];
	struct notify *n;

	(void)state;
	/* Nothing configured: nothing to send. */
	n = notify_new(base, &cfg, NULL, err, sizeof(err));
	assert_non_null(n);
	assert_int_equal(notify_channels(n), 0);
	assert_int_equal(notify_send(n, &(struct notify_event){.kind = NOTIFY_SERVER_UP}), 0);
	notify_free(n);

	/* mail_to alone has no way to send: no mail channel. */
	cfg.mail_to = "ops@example.com";
	cfg.webhook = "http://127.0.0.1:9/hook";
	cfg.exec = "/bin/true";
	n = notify_new(base, &cfg, NULL, err, sizeof(err));
	assert_non_null(n);
	assert_int_equal(notify_channels(n), (1u << NOTIFY_CH_WEBHOOK) | (1u << NOTIFY_CH_EXEC));
	notify_free(n);
	cfg.smtp_url = "smtp://127.0.0.1:9";
	n = notify_new(base, &cfg, NULL, err, sizeof(err));
	assert_int_equal(notify_channels(n), 7);
	notify_free(n);

	/* Each channel refuses its own bad settings, and says which. */
	cfg.mail_to = "nobody";
	assert_null(notify_new(base, &cfg, NULL, err, sizeof(err)));
	assert_string_equal(err, "mail_to: 'nobody' is not a list of mail addresses");
	cfg.mail_to = NULL;
	cfg.exec = " \t ";
	assert_null(notify_new(base, &cfg, NULL, err, sizeof(err)));
	assert_string_equal(err, "exec: ' \t ' is not a program with arguments");
	event_base_free(base);
}

static void
test_password_file(void **state)
{
	struct event_base *base = event_base_new();
	char path[] = "/tmp/mxf_test_pwXXXXXX";
	struct config_notify cfg = {.mail_to = "ops@example.com", .smtp_url = "smtp://127.0.0.1:9",
				    .smtp_user = "u", .smtp_password_file = path,
				    .exec = "/bin/true"};
	struct notify_opts o = {.attempts = 1};
	struct results r = {0};
	char err[256];
	struct notify *n;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hunter2pw\nignored\n", 18), 18);
	close(fd);
	chmod(path, 0640);
	assert_null(notify_new(base, &cfg, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "is accessible by group or others (mode 0640); refusing"));
	chmod(path, 0600);
	n = notify_new(base, &cfg, &o, err, sizeof(err));
	assert_non_null(n);
	/* The password read is a secret: no notice shows it (the first line only). */
	cfg.mail_to = NULL;
	notify_free(n);
	n = notify_new(base, &cfg, &o, err, sizeof(err));
	assert_non_null(n);
	notify_set_result_cb(n, on_result, &r);
	assert_int_equal(notify_add_secret(n, "hunter2pw"), 0);
	assert_int_equal(notify_add_secret(n, "abc"), 0); /* too short: ignored */
	assert_int_equal(notify_send(n, &(struct notify_event){.kind = NOTIFY_SERVER_DOWN,
				     .reason = "login hunter2pw refused abc"}), 1);
	run_until_idle(base, n, 5000);
	assert_int_equal(r.delivered, 1);
	assert_string_equal(r.event_reason, "login [redacted] refused abc");
	notify_free(n);
	unlink(path);
	event_base_free(base);
}

static void
test_exec_delivered(void **state)
{
	struct event_base *base = event_base_new();
	struct results r = {0};
	struct notify *n = exec_notifier(base, "/bin/true", NULL, &r);

	(void)state;
	assert_int_equal(notify_send(n, &(struct notify_event){.kind = NOTIFY_SERVER_UP,
				     .server = "mx1"}), 1);
	/* Nothing runs before the loop does. */
	assert_int_equal(r.delivered + r.failed, 0);
	assert_int_equal(notify_pending(n), 1);
	run_until_idle(base, n, 5000);
	assert_int_equal(r.delivered, 1);
	assert_int_equal(r.failed, 0);
	assert_int_equal(r.ch, NOTIFY_CH_EXEC);
	assert_int_equal(notify_pending(n), 0);
	notify_free(n);
	event_base_free(base);
}

static void
test_exec_retried_then_given_up(void **state)
{
	struct event_base *base = event_base_new();
	struct notify_opts o = {.attempts = 2, .backoff_ms = 10};
	struct results r = {0};
	struct notify *n = exec_notifier(base, "/bin/sh -c echo${IFS}nope;exit${IFS}3", &o, &r);

	(void)state;
	assert_int_equal(notify_send(n, &(struct notify_event){.kind = NOTIFY_ISOLATED}), 1);
	run_until_idle(base, n, 5000);
	assert_int_equal(r.delivered, 0);
	assert_int_equal(r.failed, 1);
	assert_string_equal(r.reason, "exited with status 3: nope");
	notify_free(n);
	event_base_free(base);
}

static void
test_exec_timeout(void **state)
{
	struct event_base *base = event_base_new();
	struct notify_opts o = {.attempts = 1, .exec_timeout_ms = 100};
	struct results r = {0};
	struct notify *n = exec_notifier(base, "/bin/sleep 10", &o, &r);

	(void)state;
	assert_int_equal(notify_send(n, &(struct notify_event){.kind = NOTIFY_ISOLATED}), 1);
	run_until_idle(base, n, 5000);
	assert_int_equal(r.failed, 1);
	assert_string_equal(r.reason, "killed after 100ms (timeout)");
	notify_free(n);
	event_base_free(base);
}

static void
test_free_cancels(void **state)
{
	struct event_base *base = event_base_new();
	struct results r = {0};
	struct notify *n = exec_notifier(base, "/bin/sleep 10", NULL, &r);

	(void)state;
	assert_int_equal(notify_send(n, &(struct notify_event){.kind = NOTIFY_ISOLATED}), 1);
	/* Let the program start, then shut down under it. */
	run_until_idle(base, n, 200);
	assert_int_equal(notify_pending(n), 1);
	notify_free(n);
	assert_int_equal(r.delivered + r.failed, 0);
	event_base_free(base);
}

/* A reload with a changed [notify]: the pending notice moves to the new
 * notifier and is delivered there; the old secrets stay redacted. */
static void
test_adopt_pending(void **state)
{
	struct event_base *base = event_base_new();
	struct notify_opts o = {.attempts = 4, .backoff_ms = 60000};
	struct results ra = {0}, rb = {0};
	struct notify *a = exec_notifier(base, "/bin/sh -c exit${IFS}3", &o, &ra);
	struct notify *b = exec_notifier(base, "/bin/true", NULL, &rb);

	(void)state;
	assert_int_equal(notify_add_secret(a, "old-secret-1234"), 0);
	assert_int_equal(notify_send(a, &(struct notify_event){.kind = NOTIFY_SERVER_DOWN,
							       .server = "mx1",
							       .reason = "refused"}),
			 1);
	/* The first attempt fails; the retry is a minute away. */
	run_until_idle(base, a, 500);
	assert_int_equal(notify_pending(a), 1);
	assert_int_equal(ra.failed + ra.delivered, 0);
	assert_int_equal(notify_adopt(b, a), 1);
	assert_int_equal(notify_pending(a), 0);
	assert_int_equal(notify_pending(b), 1);
	notify_free(a);
	run_until_idle(base, b, 5000);
	assert_int_equal(rb.delivered, 1);
	assert_string_equal(rb.event_reason, "refused");
	/* The secret a knew is redacted by b too. */
	assert_int_equal(notify_send(b, &(struct notify_event){.kind = NOTIFY_ISOLATED,
							       .reason = "x old-secret-1234 y"}),
			 1);
	run_until_idle(base, b, 5000);
	assert_int_equal(rb.delivered, 2);
	assert_null(strstr(rb.event_reason, "old-secret-1234"));
	notify_free(b);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_reminder_schedule),
		cmocka_unit_test(test_reminder_event),
		cmocka_unit_test(test_channel_names),
		cmocka_unit_test(test_channels_configured),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_exec_delivered),
		cmocka_unit_test(test_exec_retried_then_given_up),
		cmocka_unit_test(test_exec_timeout),
		cmocka_unit_test(test_free_cancels),
		cmocka_unit_test(test_adopt_pending),
	};

	return cmocka_run_group_tests(tests, setup_utc, NULL);
}
