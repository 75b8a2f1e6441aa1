/*
 * test_state.c -- the state file: a full round trip, the atomic write
 * (the old file survives a failed write, no temporary file is left), mode
 * 0640, corrupt, truncated and mistyped files refused with a message, the
 * bounded event ring, and carrying state over a configuration reload.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "failover.h"
#include "health.h"
#include "fail_fsync.h"
#include "mxf.h"
#include "state.h"

#define T0 1700000000000ULL

static const char conf[] = "[general]\n"
			   "fall = 2\n"
			   "rise = 2\n"
			   "log = stderr\n"
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
			   "zones = example.com example.net\n"
			   "records = mx smtp\n"
			   "type = CNAME\n";

/* The same without mx2's group membership, plus a new server mx3. */
static const char conf2[] = "[general]\n"
			    "log = stderr\n"
			    "[dns]\n"
			    "server = 127.0.0.1\n"
			    "[server mx3]\n"
			    "address = 192.0.2.12\n"
			    "name = mx3.example.com.\n"
			    "checks = smtp\n"
			    "[server mx1]\n"
			    "address = 192.0.2.10\n"
			    "name = mx1.example.com.\n"
			    "checks = imaps smtp\n"
			    "[group mail]\n"
			    "servers = mx1 mx3\n"
			    "zones = example.com\n"
			    "records = smtp mx\n"
			    "type = CNAME\n";

struct fixture {
	struct config *cfg;
	char dir[64];
	char path[128];
};

static struct config *load_conf(const char *text)
{
	struct config *cfg = NULL;
	struct config_errors errs = { 0 };
	int e = config_load_string("t.conf", text, &cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
	config_errors_free(&errs);
	assert_int_equal(e, 0);
	return cfg;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->cfg = load_conf(conf);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mxf-state-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	chmod(f->dir, 0700);
	DIR *d = opendir(f->dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char p[512];
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	config_free(f->cfg);
	free(f);
	return 0;
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

static void spit(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

/* A state with something in every part. */
static struct state *busy_state(const struct config *cfg)
{
	struct state *st;
	assert_int_equal(state_new(cfg, &st), 0);
	struct health_result ok2[2] = { { HEALTH_OK, "250 ok" }, { HEALTH_WARN, "cert expires in 9 days" } };
	struct health_result bad1[1] = { { HEALTH_FAIL, "connection refused" } };
	health_feed(st->health, 0, ok2, 2, T0); /* rise 2: mx1 UP */
	health_feed(st->health, 0, ok2, 2, T0 + 10000);
	health_feed(st->health, 1, bad1, 1, T0);
	health_feed(st->health, 1, bad1, 1, T0 + 10000);
	assert_int_equal(health_set_pin(st->health, 0, HEALTH_PIN_UP, T0 + 3600000, T0, NULL), 1);
	struct health_change c;
	while (health_next_change(st->health, &c))
		;
	st->failover->isolated = true;
	st->failover->groups[0].active = 1;
	st->failover->groups[0].last_switch_ms = T0 + 5000;
	st->failover->groups[0].all_down = true;
	st->failover->groups[0].zones[1].failed = true;
	st->failover->groups[0].hand_changed[1] = true; /* example.com smtp */
	st->failover->groups[0].written[0] = 1;         /* example.com mx: mx2 */
	st->failover->groups[0].zones[1].intent = 1;    /* example.net -> mx2 */

	struct failover_dns *d;
	assert_int_equal(failover_dns_new(cfg, 0, &d), 0);
	const char *v1[] = { "mx2.example.com." };
	const char *v2[] = { "elsewhere.example.org." };
	failover_dns_set(d, 0, 0, FAILOVER_REC_PRESENT, v1, 1, 60, NULL);
	failover_dns_set(d, 0, 1, FAILOVER_REC_PRESENT, v2, 1, 300, NULL);
	failover_dns_set(d, 1, 0, FAILOVER_REC_ABSENT, NULL, 0, -1, NULL);
	failover_dns_set(d, 1, 1, FAILOVER_REC_FAILED, NULL, 0, -1, "timed out");
	assert_int_equal(state_update_seen(st, d), 0);
	failover_dns_free(d);

	size_t moved[2] = { 1, 0 };
	struct failover_event ev = { .type = FAILOVER_EV_SWITCHED, .at_ms = T0 + 5000, .group = 0,
				     .server = -1, .from = 0, .to = 1, .zone = -1, .record = -1,
				     .zones = moved, .nzones = 2 };
	snprintf(ev.detail, sizeof(ev.detail), "group mail: mx1 -> mx2 (\"quoted\" \\ text)");
	assert_int_equal(state_add_event(st, cfg, &ev), 0);
	struct failover_event ev2 = { .type = FAILOVER_EV_CHANGED_BY_HAND, .at_ms = T0 + 6000,
				      .group = 0, .server = -1, .from = -1, .to = -1, .zone = 0,
				      .record = 1 };
	snprintf(ev2.detail, sizeof(ev2.detail), "smtp.example.com. changed by hand");
	assert_int_equal(state_add_event(st, cfg, &ev2), 0);
	return st;
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	struct state *st = busy_state(f->cfg);
	assert_int_equal(state_save(f->path, f->cfg, st, T0 + 7000, err, sizeof(err)), 0);
	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	/* state.json and its zones, state.json.zones: no temporary file left */
	assert_int_equal(dir_entries(f->dir), 2);

	struct state *ld = NULL;
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_non_null(ld);
	assert_int_equal(ld->saved_ms, T0 + 7000);
	/* Health. */
	const struct health_server *a = &st->health->servers[1], *b = &ld->health->servers[1];
	assert_int_equal(b->state, HEALTH_DOWN);
	assert_int_equal(b->state, a->state);
	assert_int_equal(b->bad_run, 2);
	assert_int_equal(b->since_ms, a->since_ms);
	assert_string_equal(b->reason, a->reason);
	assert_int_equal(b->checks[0].state, HEALTH_DOWN);
	assert_string_equal(b->checks[0].reason, "connection refused");
	assert_int_equal(b->checks[0].last, HEALTH_FAIL);
	assert_true(b->checks[0].seen);
	const struct health_server *m1 = &ld->health->servers[0];
	assert_int_equal(m1->state, HEALTH_UP);
	assert_int_equal(m1->good_run, 2);
	assert_int_equal(m1->checks[1].last, HEALTH_WARN);
	assert_string_equal(m1->checks[1].reason, "cert expires in 9 days");
	assert_int_equal(m1->pin, HEALTH_PIN_UP);
	assert_int_equal(m1->pin_until_ms, T0 + 3600000);
	/* Failover memory. */
	assert_true(ld->failover->isolated);
	assert_int_equal(ld->failover->groups[0].active, 1);
	assert_int_equal(ld->failover->groups[0].last_switch_ms, T0 + 5000);
	assert_true(ld->failover->groups[0].all_down);
	assert_true(ld->failover->groups[0].zones[1].failed);
	assert_false(ld->failover->groups[0].zones[0].failed);
	assert_true(ld->failover->groups[0].hand_changed[1]);
	assert_false(ld->failover->groups[0].hand_changed[0]);
	/* What was written, and a saved intent. */
	assert_int_equal(ld->failover->groups[0].written[0], 1);
	assert_int_equal(ld->failover->groups[0].written[1], -1);
	assert_int_equal(ld->failover->groups[0].zones[1].intent, 1);
	assert_int_equal(ld->failover->groups[0].zones[0].intent, -1);
	/* Seen values: FAILED was never remembered, so it stays unread. */
	const struct failover_dns *sd = ld->seen[0];
	assert_int_equal(sd->zones[0].recs[0].status, FAILOVER_REC_PRESENT);
	assert_string_equal(sd->zones[0].recs[0].values[0], "mx2.example.com.");
	assert_int_equal(sd->zones[0].recs[0].ttl, 60);
	assert_string_equal(sd->zones[0].recs[1].values[0], "elsewhere.example.org.");
	assert_int_equal(sd->zones[1].recs[0].status, FAILOVER_REC_ABSENT);
	assert_int_equal(sd->zones[1].recs[1].status, FAILOVER_REC_UNREAD);
	/* Events, in order, with names. */
	assert_int_equal(state_event_count(ld), 2);
	const struct state_event *e0 = state_event_get(ld, 0), *e1 = state_event_get(ld, 1);
	assert_int_equal(e0->type, FAILOVER_EV_SWITCHED);
	assert_string_equal(e0->group, "mail");
	assert_string_equal(e0->from, "mx1");
	assert_string_equal(e0->to, "mx2");
	assert_null(e0->server);
	assert_string_equal(e0->detail, "group mail: mx1 -> mx2 (\"quoted\" \\ text)");
	assert_int_equal(e0->nzones, 2);
	assert_string_equal(e0->zones[0], "example.net.");
	assert_string_equal(e0->zones[1], "example.com.");
	assert_int_equal(e1->type, FAILOVER_EV_CHANGED_BY_HAND);
	assert_string_equal(e1->zone, "example.com.");
	assert_string_equal(e1->record, "smtp");
	assert_null(state_event_get(ld, 2));

	/* Saving what was loaded gives the same file. */
	char path2[200];
	snprintf(path2, sizeof(path2), "%s/again.json", f->dir);
	assert_int_equal(state_save(path2, f->cfg, ld, T0 + 7000, err, sizeof(err)), 0);
	size_t l1, l2;
	char *t1 = slurp(f->path, &l1), *t2 = slurp(path2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	assert_non_null(strstr(t1, "\"version\": 1"));
	free(t1);
	free(t2);
	state_free(ld);
	state_free(st);
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	struct state *ld = NULL;
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), MXF_ENOTFOUND);
	assert_null(ld);
	assert_non_null(strstr(err, f->path));
	/* A directory is not a state file. */
	assert_int_equal(state_load(f->dir, f->cfg, &ld, err, sizeof(err)), MXF_EIO);
	assert_null(ld);
}

static void test_truncated_and_corrupt(void **state)
{
	struct fixture *f = *state;
	char err[512];
	struct state *st = busy_state(f->cfg);
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	state_free(st);
	size_t len;
	char *good = slurp(f->path, &len);
	assert_true(len > 200);

	/* Every truncation is refused cleanly, never half believed. */
	for (size_t cut = 0; cut + 2 < len; cut += 7) {
		struct state *ld = NULL;
		spit(f->path, good, cut);
		err[0] = '\0';
		int e = state_load(f->path, f->cfg, &ld, err, sizeof(err));
		assert_int_equal(e, MXF_EINVAL);
		assert_null(ld);
		assert_non_null(strstr(err, f->path));
	}
	/* Garbage and a flipped byte in the middle. */
	struct state *ld = NULL;
	spit(f->path, "\x00\xff garbage", 10);
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), MXF_EINVAL);
	assert_non_null(strstr(err, "not valid JSON"));
	char *bad = strdup(good);
	bad[len / 2] = '\x01'; /* invalid in and out of strings */
	spit(f->path, bad, len);
	assert_true(state_load(f->path, f->cfg, &ld, err, sizeof(err)) < 0);
	assert_null(ld);
	free(bad);
	free(good);
}

struct bad_case {
	const char *json;
	int code;
	const char *msg;
};

static void test_wrong_shapes(void **state)
{
	struct fixture *f = *state;
	static const struct bad_case cases[] = {
		{ "[1, 2]", MXF_EINVAL, "not a JSON object" },
		{ "{}", MXF_EINVAL, "version" },
		{ "{\"version\": \"1\"}", MXF_EINVAL, "version" },
		{ "{\"version\": 99}", MXF_EUNSUPPORTED, "version 99" },
		{ "{\"version\": 1, \"servers\": []}", MXF_EINVAL, "servers: wrong type" },
		{ "{\"version\": 1, \"servers\": {\"mx1\": {\"good_run\": \"x\"}}}", MXF_EINVAL,
		  "servers.mx1.good_run" },
		{ "{\"version\": 1, \"servers\": {\"mx1\": {\"bad_run\": -4}}}", MXF_EINVAL,
		  "servers.mx1.bad_run" },
		{ "{\"version\": 1, \"servers\": {\"mx2\": {\"state\": \"sideways\"}}}", MXF_EINVAL,
		  "unknown value 'sideways'" },
		{ "{\"version\": 1, \"servers\": {\"mx1\": {\"checks\": [3]}}}", MXF_EINVAL,
		  "checks[0]" },
		{ "{\"version\": 1, \"groups\": {\"mail\": {\"active\": 3}}}", MXF_EINVAL,
		  "groups.mail.active" },
		{ "{\"version\": 1, \"groups\": {\"mail\": {\"zones\": {\"example.com.\": "
		  "{\"records\": {\"mx\": {\"status\": \"present\", \"values\": []}}}}}}}",
		  MXF_EINVAL, "present without values" },
		{ "{\"version\": 1, \"groups\": {\"mail\": {\"zones\": {\"example.com.\": "
		  "{\"records\": {\"mx\": {\"status\": \"present\", \"values\": [7]}}}}}}}",
		  MXF_EINVAL, "values[0]" },
		{ "{\"version\": 1, \"events\": [{\"event\": \"exploded\"}]}", MXF_EINVAL,
		  "exploded" },
		{ "{\"version\": 1, \"events\": [{\"event\": \"isolated\", \"at_ms\": 1.5}]}",
		  MXF_EINVAL, "events[0].at_ms" },
		{ "{\"version\": 1, \"version\": 1}", MXF_EINVAL, "duplicate" },
		{ "{\"version\": 1, \"events\": [{\"event\": \"switched\", \"zones\": [3]}]}",
		  MXF_EINVAL, "events[0].zones[0]" },
		{ "{\"version\": 1, \"groups\": {\"mail\": {\"zones\": {\"example.com.\": "
		  "{\"intent\": 1}}}}}",
		  MXF_EINVAL, "example.com..intent" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		struct state *ld = NULL;
		spit(f->path, cases[i].json, strlen(cases[i].json));
		int e = state_load(f->path, f->cfg, &ld, err, sizeof(err));
		if (e != cases[i].code || !strstr(err, cases[i].msg))
			fprintf(stderr, "case %zu: %d %s\n", i, e, err);
		assert_int_equal(e, cases[i].code);
		assert_non_null(strstr(err, cases[i].msg));
		assert_null(ld);
	}
	/* Unknown names (another configuration) are ignored, not errors. */
	const char *other = "{\"version\": 1, \"servers\": {\"gone\": {\"state\": \"down\"}, "
			    "\"mx1\": {\"state\": \"down\", \"bad_run\": 5}}, "
			    "\"groups\": {\"old\": {\"active\": \"gone\"}, "
			    "\"mail\": {\"active\": \"gone\"}}, \"future_field\": true}";
	char err[512];
	struct state *ld = NULL;
	spit(f->path, other, strlen(other));
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_int_equal(ld->health->servers[0].state, HEALTH_DOWN);
	assert_int_equal(ld->health->servers[0].bad_run, 5);
	assert_int_equal(ld->health->servers[1].state, HEALTH_UNKNOWN);
	assert_int_equal(ld->failover->groups[0].active, -1);
	state_free(ld);
}

/* After the rename the new file is in place: a failed fsync of the
 * directory is a warning in @err, not an error. */
static void test_dir_fsync_warning(void **state)
{
	struct fixture *f = *state;
	char err[512] = "stale";
	struct state *st = busy_state(f->cfg);
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	assert_string_equal(err, "");

	st->failover->groups[0].active = 0;
	fail_dir_fsync = true;
	int e = state_save(f->path, f->cfg, st, T0 + 1, err, sizeof(err));
	fail_dir_fsync = false;
	assert_int_equal(e, 0);
	assert_non_null(strstr(err, "written, but cannot fsync the directory"));
	assert_non_null(strstr(err, f->path));
	/* The new content is what loads, and no temporary file is left. */
	struct state *ld = NULL;
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_int_equal(ld->failover->groups[0].active, 0);
	assert_int_equal(dir_entries(f->dir), 2);
	state_free(ld);
	state_free(st);
}

static void test_atomic_write_failure(void **state)
{
	struct fixture *f = *state;
	char err[512];
	struct state *st = busy_state(f->cfg);
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	size_t len0;
	char *before = slurp(f->path, &len0);

	/* Writes fail part way (file size limit): the old file is intact and
	 * no temporary file is left behind. */
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 64;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	st->failover->groups[0].active = 0;
	err[0] = '\0';
	int e = state_save(f->path, f->cfg, st, T0 + 1, err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_int_equal(e, MXF_EIO);
	assert_non_null(strstr(err, "cannot write"));
	size_t len1;
	char *after = slurp(f->path, &len1);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	assert_int_equal(dir_entries(f->dir), 2);
	free(after);

	/* A directory that does not exist. */
	char nopath[200];
	snprintf(nopath, sizeof(nopath), "%s/missing/state.json", f->dir);
	assert_int_equal(state_save(nopath, f->cfg, st, T0, err, sizeof(err)), MXF_EIO);
	assert_non_null(strstr(err, "create a temporary file"));

	/* A directory that is not writable (root writes anyway). */
	if (geteuid() != 0) {
		assert_int_equal(chmod(f->dir, 0500), 0);
		e = state_save(f->path, f->cfg, st, T0 + 2, err, sizeof(err));
		assert_int_equal(chmod(f->dir, 0700), 0);
		assert_int_equal(e, MXF_EIO);
		after = slurp(f->path, &len1);
		assert_memory_equal(before, after, len0);
		free(after);
	}
	/* The old file still loads with the old content. */
	struct state *ld = NULL;
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_int_equal(ld->failover->groups[0].active, 1);
	state_free(ld);
	free(before);
	state_free(st);
}

static void test_event_ring(void **state)
{
	struct fixture *f = *state;
	char err[512];
	struct state *st;
	assert_int_equal(state_new(f->cfg, &st), 0);
	for (int i = 0; i < 150; i++) {
		struct failover_event ev = { .type = FAILOVER_EV_SERVER_DOWN,
					     .at_ms = T0 + (uint64_t)i, .group = -1, .server = i % 2,
					     .from = -1, .to = -1, .zone = -1, .record = -1 };
		snprintf(ev.detail, sizeof(ev.detail), "event %d", i);
		assert_int_equal(state_add_event(st, f->cfg, &ev), 0);
	}
	assert_int_equal(state_event_count(st), STATE_EVENTS_MAX);
	assert_string_equal(state_event_get(st, 0)->detail, "event 50");
	assert_string_equal(state_event_get(st, 99)->detail, "event 149");
	assert_string_equal(state_event_get(st, 99)->server, "mx2");
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	struct state *ld;
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_int_equal(state_event_count(ld), STATE_EVENTS_MAX);
	assert_string_equal(state_event_get(ld, 0)->detail, "event 50");
	assert_int_equal(state_event_get(ld, 0)->at_ms, T0 + 50);
	assert_string_equal(state_event_get(ld, 99)->detail, "event 149");
	state_free(ld);
	state_free(st);
}

static void test_rebind(void **state)
{
	struct fixture *f = *state;
	struct state *st = busy_state(f->cfg);
	struct config *cfg2 = load_conf(conf2);
	struct state *nst = NULL;
	assert_int_equal(state_rebind(st, f->cfg, cfg2, &nst), 0);
	/* mx1 is server 1 now; its checks are in another order. */
	const struct health_server *m1 = &nst->health->servers[1];
	assert_int_equal(m1->state, HEALTH_UP);
	assert_int_equal(m1->pin, HEALTH_PIN_UP);
	assert_int_equal(m1->checks[0].last, HEALTH_WARN); /* imaps, by URL */
	assert_int_equal(m1->checks[1].last, HEALTH_OK);
	/* mx3 is new. */
	assert_int_equal(nst->health->servers[0].state, HEALTH_UNKNOWN);
	/* The group's active server mx2 left the group: unknown again. */
	assert_int_equal(nst->failover->groups[0].active, -1);
	assert_int_equal(nst->failover->groups[0].last_switch_ms, T0 + 5000);
	/* Records by name: smtp is now record 0. */
	assert_string_equal(nst->seen[0]->zones[0].recs[0].values[0], "elsewhere.example.org.");
	assert_true(nst->failover->groups[0].hand_changed[0]);
	assert_int_equal(state_event_count(nst), 2);
	state_free(nst);
	config_free(cfg2);
	state_free(st);
}

static void test_update_seen_shape(void **state)
{
	struct fixture *f = *state;
	struct state *st;
	assert_int_equal(state_new(f->cfg, &st), 0);
	struct config *cfg2 = load_conf(conf2);
	struct failover_dns *d;
	assert_int_equal(failover_dns_new(cfg2, 0, &d), 0);
	assert_int_equal(state_update_seen(st, d), MXF_EINVAL); /* one zone, not two */
	failover_dns_free(d);
	config_free(cfg2);
	state_free(st);
}

/*
 * The announced audit findings: saved and loaded (and carried over a
 * reload), at most STATE_FINDINGS_MAX written; a file without them (an
 * older one) loads with none, and a malformed entry is skipped.
 */
static void test_audit_findings(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	struct state *st = busy_state(f->cfg), *ld = NULL, *nst = NULL;
	assert_int_equal(state_findings_add(&st->findings, "fod.test.", "failover-record-missing",
					    "imap.fod.test.", 2, T0 + 1),
			 0);
	for (int i = 0; i < STATE_FINDINGS_MAX + 10; i++) {
		char subj[32];
		snprintf(subj, sizeof(subj), "h%d.fod.test.", i);
		assert_int_equal(state_findings_add(&st->findings, "fod.test.", "ptr-missing", subj,
						    1, T0 + 2),
				 0);
	}
	assert_int_equal(state_save(f->path, f->cfg, st, T0 + 7000, err, sizeof(err)), 0);
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_int_equal(ld->findings.n, STATE_FINDINGS_MAX);
	const struct state_finding *rm = state_findings_find(&ld->findings, "fod.test.",
							      "failover-record-missing",
							      "imap.fod.test.");
	assert_non_null(rm);
	assert_int_equal(rm->severity, 2);
	assert_int_equal(rm->since_ms, T0 + 1);
	assert_int_equal(state_rebind(ld, f->cfg, f->cfg, &nst), 0);
	assert_int_equal(nst->findings.n, STATE_FINDINGS_MAX);
	state_free(nst);
	state_free(ld);
	state_free(st);

	/* Older files and malformed entries. */
	const char *old = "{\"version\": 1, \"servers\": {}, \"groups\": {}, \"events\": []}";
	spit(f->path, old, strlen(old));
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_int_equal(ld->findings.n, 0);
	state_free(ld);
	const char *odd = "{\"version\": 1, \"audit_findings\": [7, {\"domain\": \"a.\"},"
			  " {\"domain\": \"a.\", \"id\": \"mx-single\", \"subject\": \"a.\","
			  " \"severity\": \"loud\", \"since_ms\": 1},"
			  " {\"domain\": \"a.\", \"id\": \"mx-single\", \"subject\": \"a.\","
			  " \"severity\": \"warning\", \"since_ms\": 5}]}";
	spit(f->path, odd, strlen(odd));
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_int_equal(ld->findings.n, 1);
	assert_int_equal(ld->findings.v[0].severity, 1);
	assert_int_equal(ld->findings.v[0].since_ms, 5);
	state_free(ld);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_fsync_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_seen_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_findings, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
