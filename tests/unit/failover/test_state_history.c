/*
 * test_state_history.c -- what the state keeps for people: the 24 h strip
 * of each server (fixed slots, the worst mark of a period wins, a period a
 * day later takes the slot over), the witnesses' last results, the check
 * facts (latency, certificate expiry) and the switch counter; all carried
 * through the state file and a reload, an older file without them loading
 * with nothing, and a malformed strip skipped rather than refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"
#include "state.h"

#define T0 1700000000000ULL
#define SLOT ((uint64_t)STATE_HISTORY_SLOT_MS)

static const char conf[] = "[general]\n"
			   "log = stderr\n"
			   "witness = smtp://192.0.2.99 smtp://192.0.2.98\n"
			   "[dns]\n"
			   "server = 127.0.0.1\n"
			   "[server mx1]\n"
			   "address = 192.0.2.10\n"
			   "name = mx1.example.com.\n"
			   "checks = smtp imaps\n"
			   "[server mx2]\n"
			   "address = 192.0.2.11\n"
			   "name = mx2.example.com.\n"
			   "checks = smtp\n"
			   "[group mail]\n"
			   "servers = mx1 mx2\n"
			   "zones = example.com\n"
			   "records = mx\n"
			   "type = CNAME\n";

/* mx2 dropped, a witness dropped: what is left keeps its memory. */
static const char conf2[] = "[general]\n"
			    "log = stderr\n"
			    "witness = smtp://192.0.2.98\n"
			    "[dns]\n"
			    "server = 127.0.0.1\n"
			    "[server mx1]\n"
			    "address = 192.0.2.10\n"
			    "name = mx1.example.com.\n"
			    "checks = smtp imaps\n"
			    "[group mail]\n"
			    "servers = mx1\n"
			    "zones = example.com\n"
			    "records = mx\n"
			    "type = CNAME\n";

static struct config *load(const char *text)
{
	struct config *cfg;
	struct config_errors errs = { 0 };
	assert_int_equal(config_load_string("t.conf", text, &cfg, &errs), 0);
	config_errors_free(&errs);
	return cfg;
}

static void test_slots(void **state)
{
	(void)state;
	struct config *cfg = load(conf);
	struct state *st;
	assert_int_equal(state_new(cfg, &st), 0);
	uint64_t now = (T0 / SLOT) * SLOT + 1000, p = now / SLOT;

	assert_int_equal(state_history_get(st, 0, p), STATE_MARK_NONE);
	state_history_note(st, 0, STATE_MARK_UP, now);
	state_history_note(st, 0, STATE_MARK_DOWN, now + 1);
	state_history_note(st, 0, STATE_MARK_WARNING, now + 2); /* down stays */
	assert_int_equal(state_history_get(st, 0, p), STATE_MARK_DOWN);
	state_history_note(st, 0, STATE_MARK_UP, now + SLOT);
	assert_int_equal(state_history_get(st, 0, p + 1), STATE_MARK_UP);
	/* Nothing noted: none; out of range and NONE are ignored. */
	assert_int_equal(state_history_get(st, 1, p), STATE_MARK_NONE);
	state_history_note(st, 7, STATE_MARK_DOWN, now);
	state_history_note(st, 1, STATE_MARK_NONE, now);
	assert_int_equal(state_history_get(st, 1, p), STATE_MARK_NONE);
	assert_int_equal(state_history_get(st, 7, p), STATE_MARK_NONE);
	/* A day later the ring slot holds the new period, not the old one. */
	state_history_note(st, 0, STATE_MARK_UP, now + STATE_HISTORY_SLOTS * SLOT);
	assert_int_equal(state_history_get(st, 0, p + STATE_HISTORY_SLOTS), STATE_MARK_UP);
	assert_int_equal(state_history_get(st, 0, p), STATE_MARK_NONE);
	/* A note older than what the slot holds (the clock went back) is dropped. */
	state_history_note(st, 0, STATE_MARK_DOWN, now);
	assert_int_equal(state_history_get(st, 0, p + STATE_HISTORY_SLOTS), STATE_MARK_UP);

	/* The judge: unknown none, down, up, up with a warning. */
	assert_int_equal(state_history_judge(st->health, 0, now), STATE_MARK_NONE);
	struct health_result ok[2] = { { HEALTH_OK, "" }, { HEALTH_WARN, "cert" } };
	for (int i = 0; i < 5; i++) /* past rise */
		assert_true(health_feed(st->health, 0, ok, 2, now) >= 0);
	assert_int_equal(state_history_judge(st->health, 0, now), STATE_MARK_WARNING);
	ok[1].outcome = HEALTH_OK;
	assert_true(health_feed(st->health, 0, ok, 2, now) >= 0);
	assert_int_equal(state_history_judge(st->health, 0, now), STATE_MARK_UP);
	assert_int_equal(health_set_pin(st->health, 0, HEALTH_PIN_DOWN, 0, now, NULL), 1);
	assert_int_equal(state_history_judge(st->health, 0, now), STATE_MARK_DOWN);
	assert_int_equal(state_history_judge(st->health, 9, now), STATE_MARK_NONE);

	enum state_mark m;
	assert_string_equal(state_mark_name(STATE_MARK_WARNING), "warning");
	assert_int_equal(state_mark_parse("down", &m), 0);
	assert_int_equal(m, STATE_MARK_DOWN);
	assert_int_equal(state_mark_parse("sideways", &m), MXF_EINVAL);
	state_free(st);
	config_free(cfg);
}

static void test_witness(void **state)
{
	(void)state;
	struct config *cfg = load(conf);
	struct state *st;
	assert_int_equal(state_new(cfg, &st), 0);
	assert_int_equal(st->nwitness, 2);
	assert_false(st->witness[0].seen);
	state_witness_note(st, 0, true, 5, "220 hi", T0);
	state_witness_note(st, 0, true, 6, "220 hi again", T0 + 1000);
	assert_int_equal(st->witness[0].since_ms, T0); /* still up since T0 */
	assert_int_equal(st->witness[0].at_ms, T0 + 1000);
	state_witness_note(st, 0, false, 3000, "timed out", T0 + 2000);
	assert_int_equal(st->witness[0].since_ms, T0 + 2000);
	assert_false(st->witness[0].up);
	assert_string_equal(st->witness[0].reason, "timed out");
	state_witness_note(st, 5, false, 1, "x", T0); /* out of range: ignored */
	state_free(st);
	config_free(cfg);
}

/* A switch event names the records it moved: present, not changed by hand. */
static void test_switch_records(void **state)
{
	(void)state;
	static const char two[] = "[general]\n"
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
				  "zones = example.com example.net\n"
				  "records = mx smtp imap\n"
				  "type = CNAME\n";
	struct config *cfg = load(two);
	struct state *st, *back;
	struct failover_dns *d;
	const char *v[] = { "mx2.example.com." };
	char err[256];
	json_t *root;

	assert_int_equal(state_new(cfg, &st), 0);
	assert_int_equal(failover_dns_new(cfg, 0, &d), 0);
	for (size_t z = 0; z < 2; z++)
		for (size_t r = 0; r < 3; r++)
			failover_dns_set(d, z, r, FAILOVER_REC_PRESENT, v, 1, 300, NULL);
	failover_dns_set(d, 0, 2, FAILOVER_REC_ABSENT, NULL, 0, -1, NULL); /* imap.example.com */
	assert_int_equal(state_update_seen(st, d), 0);
	failover_dns_free(d);
	st->failover->groups[0].hand_changed[0 * 3 + 1] = true; /* smtp.example.com */
	size_t zs[] = { 0, 1 };
	struct failover_event ev = { .type = FAILOVER_EV_SWITCHED, .at_ms = T0, .group = 0,
				     .server = -1, .from = 0, .to = 1, .zone = -1, .record = -1,
				     .zones = zs, .nzones = 2 };
	assert_int_equal(state_add_event(st, cfg, &ev), 0);
	const struct state_event *e = state_event_get(st, 0);
	assert_int_equal(e->nrecords, 4);
	assert_string_equal(e->records[0], "mx.example.com.");
	assert_string_equal(e->records[1], "mx.example.net.");
	assert_string_equal(e->records[2], "smtp.example.net.");
	assert_string_equal(e->records[3], "imap.example.net.");
	/* Not a switch: no records. */
	ev.type = FAILOVER_EV_SERVER_DOWN;
	ev.zones = NULL;
	ev.nzones = 0;
	assert_int_equal(state_add_event(st, cfg, &ev), 0);
	assert_int_equal(state_event_get(st, 1)->nrecords, 0);
	/* Kept in the state file. */
	assert_int_equal(state_to_json(st, cfg, T0, &root), 0);
	assert_int_equal(state_from_json(root, cfg, &back, err, sizeof(err)), 0);
	assert_int_equal(state_event_get(back, 0)->nrecords, 4);
	assert_string_equal(state_event_get(back, 0)->records[3], "imap.example.net.");
	state_free(back);
	/* A wrong type is refused like any malformed event field. */
	json_object_set_new(json_array_get(json_object_get(root, "events"), 0), "records",
			    json_integer(3));
	assert_int_equal(state_from_json(root, cfg, &back, err, sizeof(err)), MXF_EINVAL);
	assert_non_null(strstr(err, ".records: wrong type"));
	json_decref(root);
	state_free(st);
	config_free(cfg);
}

static void test_file_round_trip(void **state)
{
	(void)state;
	struct config *cfg = load(conf), *cfg2 = load(conf2);
	struct state *st, *back;
	char err[256];
	json_t *root;
	uint64_t now = (T0 / SLOT) * SLOT + 1000, p = now / SLOT;

	assert_int_equal(state_new(cfg, &st), 0);
	state_history_note(st, 0, STATE_MARK_DOWN, now - SLOT);
	state_history_note(st, 0, STATE_MARK_UP, now);
	state_history_note(st, 1, STATE_MARK_WARNING, now);
	state_witness_note(st, 1, false, 3000, "timed out", now);
	health_note_facts(st->health, 0, 1, 34, 1700777700);
	struct failover_event ev = { .type = FAILOVER_EV_SWITCHED, .at_ms = now, .group = 0,
				     .server = -1, .from = 0, .to = 1, .zone = -1, .record = -1 };
	assert_int_equal(state_add_event(st, cfg, &ev), 0);
	ev.type = FAILOVER_EV_SERVER_DOWN; /* not a switch: not counted */
	assert_int_equal(state_add_event(st, cfg, &ev), 0);
	assert_int_equal(st->switches[0], 1);

	assert_int_equal(state_to_json(st, cfg, now, &root), 0);
	assert_int_equal(state_from_json(root, cfg, &back, err, sizeof(err)), 0);
	assert_int_equal(state_history_get(back, 0, p - 1), STATE_MARK_DOWN);
	assert_int_equal(state_history_get(back, 0, p), STATE_MARK_UP);
	assert_int_equal(state_history_get(back, 1, p), STATE_MARK_WARNING);
	assert_true(back->witness[1].seen);
	assert_false(back->witness[1].up);
	assert_int_equal(back->witness[1].elapsed_ms, 3000);
	assert_false(back->witness[0].seen);
	assert_int_equal(back->health->servers[0].checks[1].elapsed_ms, 34);
	assert_int_equal(back->health->servers[0].checks[1].cert_expiry_s, 1700777700);
	assert_int_equal(back->switches[0], 1);
	state_free(back);

	/* A reload keeps what still exists, by name. */
	assert_int_equal(state_rebind(st, cfg, cfg2, &back), 0);
	assert_int_equal(back->nservers, 1);
	assert_int_equal(state_history_get(back, 0, p - 1), STATE_MARK_DOWN);
	assert_int_equal(back->nwitness, 1);
	assert_true(back->witness[0].seen); /* smtp://192.0.2.98 */
	assert_string_equal(back->witness[0].reason, "timed out");
	state_free(back);

	/* An older file, without any of it, loads with nothing. */
	json_object_del(root, "history");
	json_object_del(root, "witnesses");
	json_object_del(json_object_get(json_object_get(root, "groups"), "mail"), "switches");
	json_t *ck = json_array_get(
		json_object_get(json_object_get(json_object_get(root, "servers"), "mx1"), "checks"), 1);
	json_object_del(ck, "elapsed_ms");
	json_object_del(ck, "cert_expiry");
	assert_int_equal(state_from_json(root, cfg, &back, err, sizeof(err)), 0);
	assert_int_equal(state_history_get(back, 0, p), STATE_MARK_NONE);
	assert_false(back->witness[1].seen);
	assert_int_equal(back->switches[0], 0);
	assert_int_equal(back->health->servers[0].checks[1].cert_expiry_s, 0);
	state_free(back);

	/* Malformed strips and witnesses are skipped, not refused. */
	json_object_set_new(root, "history",
			    json_pack("{s:I, s:{s:[[s,s],[I,s],[I,s],i], s:s}}", "slot_ms",
				      (json_int_t)SLOT, "servers", "mx1", "x", "up",
				      (json_int_t)p, "bogus", (json_int_t)p - 1, "down", 3, "mx2",
				      "nope"));
	json_object_set_new(root, "witnesses", json_pack("{s:s}", "smtp://192.0.2.99", "up"));
	assert_int_equal(state_from_json(root, cfg, &back, err, sizeof(err)), 0);
	assert_int_equal(state_history_get(back, 0, p), STATE_MARK_NONE);
	assert_int_equal(state_history_get(back, 0, p - 1), STATE_MARK_DOWN);
	assert_false(back->witness[0].seen);
	state_free(back);
	/* Another slot size: the strips start anew. */
	json_object_set_new(root, "history",
			    json_pack("{s:i, s:{s:[[I,s]]}}", "slot_ms", 60000, "servers", "mx1",
				      (json_int_t)p, "down"));
	assert_int_equal(state_from_json(root, cfg, &back, err, sizeof(err)), 0);
	assert_int_equal(state_history_get(back, 0, p), STATE_MARK_NONE);
	state_free(back);

	json_decref(root);
	state_free(st);
	config_free(cfg);
	config_free(cfg2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_witness),
		cmocka_unit_test(test_switch_records),
		cmocka_unit_test(test_file_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
