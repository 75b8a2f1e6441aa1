/*
 * test_statusline.c -- the one-line state systemd shows (statusline.c):
 * the active server and since when, a down server with its reason, every
 * server down, pins, isolation, a reason too long or on several lines, and
 * a line cut to its buffer on a UTF-8 boundary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "config.h"
#include "failover.h"
#include "health.h"
#include "state.h"
#include "statusline.h"

/* 2023-11-14 22:13:20 UTC */
#define T0 1700000000000ULL

static const char conf[] = "[general]\n"
			   "interval = 30s\n"
			   "log = stderr\n"
			   "[dns]\n"
			   "server = 127.0.0.1\n"
			   "[server mx1]\n"
			   "address = 192.0.2.10\n"
			   "name = mx1.example.com.\n"
			   "checks = smtp\n"
			   "[server mx2]\n"
			   "address = 192.0.2.11\n"
			   "name = mx2.example.com.\n"
			   "checks = smtp\n"
			   "[group mail]\n"
			   "servers = mx1 mx2\n"
			   "zones = example.com\n"
			   "records = mx smtp\n"
			   "type = CNAME\n";

struct fixture {
	struct config *cfg;
	struct state *st;
};

/* Three rounds with these outcomes for mx1 and mx2 (fall = rise = 3). */
static void
feed(struct fixture *f, enum health_outcome o1, const char *r1, enum health_outcome o2,
     const char *r2)
{
	struct health_result a[1] = {{o1, r1}}, b[1] = {{o2, r2}};
	struct health_change c;

	for (int i = 0; i < 3; i++) {
		health_feed(f->st->health, 0, a, 1, T0 + (uint64_t)i * 1000);
		health_feed(f->st->health, 1, b, 1, T0 + (uint64_t)i * 1000);
	}
	while (health_next_change(f->st->health, &c))
		;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_errors errs = {0};

	assert_non_null(f);
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(config_load_string("t.conf", conf, &f->cfg, &errs), 0);
	config_errors_free(&errs);
	assert_int_equal(state_new(f->cfg, &f->st), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	state_free(f->st);
	config_free(f->cfg);
	free(f);
	return 0;
}

static const char *
line(struct fixture *f, uint64_t now)
{
	static char buf[STATUSLINE_MAX];

	statusline_format(f->cfg, f->st, now, buf, sizeof(buf));
	return buf;
}

static void
test_starting(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(line(f, T0), "mail: active not known yet");
}

static void
test_healthy(void **state)
{
	struct fixture *f = *state;

	feed(f, HEALTH_OK, "250 ok", HEALTH_OK, "250 ok");
	f->st->failover->groups[0].active = 0;
	assert_string_equal(line(f, T0 + 5000), "mail: active mx1");
}

static void
test_failed_over(void **state)
{
	struct fixture *f = *state;

	feed(f, HEALTH_FAIL, "421 4.3.2 Service shutting down", HEALTH_OK, "250 ok");
	f->st->failover->groups[0].active = 1;
	f->st->failover->groups[0].last_switch_ms = T0 - 600000; /* 22:03:20 */
	const char *s = line(f, T0 + 5000);
	assert_non_null(strstr(s, "mail: active mx2 since 22:03 (mx1 down: "));
	assert_non_null(strstr(s, "421 4.3.2 Service shutting down"));
	assert_int_equal(s[strlen(s) - 1], ')');
	/* Another day: the date too. */
	s = line(f, T0 + 86400000ULL);
	assert_non_null(strstr(s, "mail: active mx2 since 2023-11-14 22:03 (mx1 down"));
}

static void
test_all_down_isolated(void **state)
{
	struct fixture *f = *state;

	feed(f, HEALTH_FAIL, "connection refused", HEALTH_FAIL, "timed out\nafter 5.0s");
	f->st->failover->groups[0].active = 0;
	f->st->failover->isolated = true;
	const char *s = line(f, T0 + 5000);
	assert_non_null(strstr(s, "ISOLATED"));
	assert_non_null(strstr(s, "mail: EVERY SERVER DOWN (mx1 down: "));
	assert_non_null(strstr(s, ", mx2 down: "));
	assert_null(strchr(s, '\n'));
}

static void
test_pinned_and_long_reason(void **state)
{
	struct fixture *f = *state;
	char longr[400];

	memset(longr, 'x', sizeof(longr) - 1);
	longr[sizeof(longr) - 1] = '\0';
	feed(f, HEALTH_OK, "250 ok", HEALTH_FAIL, longr);
	f->st->failover->groups[0].active = 0;
	assert_int_equal(health_set_pin(f->st->health, 0, HEALTH_PIN_UP, 0, T0 + 3000, NULL), 1);
	const char *s = line(f, T0 + 5000);
	assert_non_null(strstr(s, "(mx1 pinned up, mx2 down: "));
	assert_non_null(strstr(s, "...)"));
	assert_true(strlen(s) < 200);
}

static void
test_cut_utf8(void **state)
{
	struct fixture *f = *state;
	char buf[40];
	size_t n;

	/* "ä" is two bytes: a cut must not split one. */
	feed(f, HEALTH_FAIL, "äääääääääääääääääääääääääääää", HEALTH_OK, "250 ok");
	f->st->failover->groups[0].active = 1;
	n = statusline_format(f->cfg, f->st, T0 + 5000, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_true(n <= sizeof(buf) - 1);
	assert_string_equal(buf + n - 3, "...");
	for (size_t i = 0; i < n - 3; i++)
		if ((unsigned char)buf[i] == 0xC3)
			assert_true(i + 1 < n - 3); /* the second byte is there too */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_starting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_healthy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_down_isolated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinned_and_long_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_utf8, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
