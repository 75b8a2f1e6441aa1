/*
 * test_state_stale.c -- health in a state file too old to be believed
 * (state_forget_stale): a file saved within 3 x max(fall, rise) x interval
 * keeps its health; an older one, or one saved that far in the future (the
 * clock went back), loads as UNKNOWN with no streak, pins and the failover
 * memory kept, and the servers then need the full rise or fall.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"
#include "state.h"

#define T0 1700000000000ULL

/* fall 2, rise 4, interval 5 s: stale after 3 x 4 x 5 s = 60 s. */
static const char conf[] = "[general]\n"
			   "fall = 2\n"
			   "rise = 4\n"
			   "interval = 5s\n"
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
			   "records = smtp\n"
			   "type = CNAME\n";

#define STALE 60000ULL

struct fixture {
	struct config *cfg;
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_errors errs = { 0 };
	assert_non_null(f);
	int e = config_load_string("t.conf", conf, &f->cfg, &errs);
	config_errors_free(&errs);
	assert_int_equal(e, 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mxf-stale-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->path);
	rmdir(f->dir);
	config_free(f->cfg);
	free(f);
	return 0;
}

static void feed(struct state *st, size_t server, bool good, uint64_t now)
{
	struct health_result r = { good ? HEALTH_OK : HEALTH_FAIL,
				   good ? "220 ok" : "connection refused" };
	assert_true(health_feed(st->health, server, &r, 1, now) >= 0);
}

/* Save a state, saved at T0, with mx1 UP (pinned up) and mx2 DOWN, the
 * group failed over to mx2; load it back. */
static struct state *saved_and_loaded(struct fixture *f)
{
	struct state *st, *ld = NULL;
	char err[512] = "";
	assert_int_equal(state_new(f->cfg, &st), 0);
	for (int i = 0; i < 4; i++)
		feed(st, 0, true, T0 - 40000 + (uint64_t)i * 5000);
	for (int i = 0; i < 2; i++)
		feed(st, 1, false, T0 - 40000 + (uint64_t)i * 5000);
	assert_int_equal(health_set_pin(st->health, 0, HEALTH_PIN_UP, 0, T0, NULL), 1);
	st->failover->groups[0].active = 1;
	struct health_change c;
	while (health_next_change(st->health, &c))
		;
	assert_int_equal(st->health->servers[0].state, HEALTH_UP);
	assert_int_equal(st->health->servers[1].state, HEALTH_DOWN);
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	state_free(st);
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_int_equal(ld->saved_ms, T0);
	return ld;
}

static void test_threshold(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(state_stale_after_ms(f->cfg), STALE);
}

static void test_fresh_file_believed(void **state)
{
	struct fixture *f = *state;
	struct state *st = saved_and_loaded(f);
	char why[256] = "";
	assert_int_equal(state_forget_stale(st, f->cfg, T0 + STALE, why, sizeof(why)), 0);
	assert_int_equal(state_forget_stale(st, f->cfg, T0 - STALE, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(st->health->servers[0].state, HEALTH_UP);
	assert_int_equal(st->health->servers[1].state, HEALTH_DOWN);
	assert_int_equal(st->health->servers[1].bad_run, 2);
	state_free(st);
}

static void test_old_file_forgotten(void **state)
{
	struct fixture *f = *state;
	struct state *st = saved_and_loaded(f);
	char why[256] = "";
	uint64_t now = T0 + STALE + 1000;
	assert_int_equal(state_forget_stale(st, f->cfg, now, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "61 s old, more than 60 s"));
	for (size_t i = 0; i < 2; i++) {
		const struct health_server *s = &st->health->servers[i];
		assert_int_equal(s->state, HEALTH_UNKNOWN);
		assert_int_equal(s->good_run + s->bad_run, 0);
		assert_int_equal(s->checks[0].state, HEALTH_UNKNOWN);
		assert_string_equal(s->reason, why);
	}
	/* Pins and the failover memory are not health: kept. */
	assert_int_equal(health_pinned(st->health, 0, now), HEALTH_PIN_UP);
	assert_int_equal(st->failover->groups[0].active, 1);
	/* mx2 passes three rounds: not yet UP (rise 4), so nothing moves
	 * toward it; mx1 fails once: not DOWN (fall 2). */
	health_set_pin(st->health, 0, HEALTH_PIN_NONE, 0, now, NULL);
	for (int i = 0; i < 3; i++)
		feed(st, 1, true, now += 5000);
	feed(st, 0, false, now);
	assert_int_equal(health_effective(st->health, 1, now), HEALTH_UNKNOWN);
	assert_int_equal(health_effective(st->health, 0, now), HEALTH_UNKNOWN);
	feed(st, 1, true, now += 5000);
	assert_int_equal(health_effective(st->health, 1, now), HEALTH_UP);
	state_free(st);
}

static void test_future_file_forgotten(void **state)
{
	struct fixture *f = *state;
	struct state *st = saved_and_loaded(f);
	char why[256] = "";
	assert_int_equal(state_forget_stale(st, f->cfg, T0 - STALE - 1000, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "in the future"));
	assert_int_equal(st->health->servers[0].state, HEALTH_UNKNOWN);
	state_free(st);
}

static void test_never_saved(void **state)
{
	struct fixture *f = *state;
	struct state *st;
	/* saved_ms 0 (state_new): as old as can be; NULL why is allowed. */
	assert_int_equal(state_new(f->cfg, &st), 0);
	assert_int_equal(state_forget_stale(st, f->cfg, T0, NULL, 0), 1);
	state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_file_believed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_file_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_file_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_saved, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
