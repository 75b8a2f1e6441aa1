/*
 * test_state_zones.c -- the zones' companion file (state_zones.h): written
 * only when the zones changed (an unchanged save, also right after a load,
 * leaves it alone), the state file then without zones, a file written
 * before the split read and migrated, a crash between the two writes
 * (newer zones, older rest) keeping the newer zones, also right after an
 * upgrade, a corrupt companion ignored with a warning that names it, a
 * newer state file refused as such, a companion loaded under another
 * configuration rewritten, inline zones winning over an older companion.
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
#include <unistd.h>

#include "config.h"
#include "failover.h"
#include "mxf.h"
#include "state.h"
#include "state_file.h"
#include "state_zones.h"

#define T0 1700000000000ULL

static const char conf[] = "[general]\n"
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
			   "records = mx smtp\n"
			   "type = CNAME\n";

struct fx {
	struct config *cfg;
	char dir[64], path[128], zpath[160];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct config_errors errs = {0};
	assert_non_null(f);
	assert_int_equal(config_load_string("t.conf", conf, &f->cfg, &errs), 0);
	config_errors_free(&errs);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mxf-zones-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.json", f->dir);
	snprintf(f->zpath, sizeof(f->zpath), "%s/state.json.zones", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	unlink(f->path);
	unlink(f->zpath);
	rmdir(f->dir);
	config_free(f->cfg);
	free(f);
	return 0;
}

static ino_t
ino(const char *path)
{
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_ino;
}

/* Record @r of zone @z seen pointing at @value. */
static void
seen(struct state *st, size_t z, size_t r, const char *value)
{
	const char *v[] = {value};
	assert_int_equal(failover_dns_set(st->seen[0], z, r, FAILOVER_REC_PRESENT, v, 1, 300, NULL),
			 0);
}

static struct state *
fresh(const struct config *cfg)
{
	struct state *st;
	assert_int_equal(state_new(cfg, &st), 0);
	seen(st, 0, 0, "mx1.example.com.");
	seen(st, 1, 1, "mx1.example.com.");
	st->failover->groups[0].written[0] = 0;
	return st;
}

static struct state *
load(const struct fx *f)
{
	struct state *ld = NULL;
	char err[512] = "";
	int e = state_load(f->path, f->cfg, &ld, err, sizeof(err));
	if (e)
		fprintf(stderr, "%s\n", err);
	assert_int_equal(e, 0);
	return ld;
}

static const char *
seen_value(const struct state *st, size_t z, size_t r)
{
	const struct failover_rec_view *v = &st->seen[0]->zones[z].recs[r];
	return v->status == FAILOVER_REC_PRESENT ? v->values[0] : "(none)";
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char *buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	assert_true(fread(buf, 1, (1 << 16) - 1, fp) > 0);
	fclose(fp);
	return buf;
}

static void
test_rewritten_only_on_change(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	struct state *st = fresh(f->cfg);
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	ino_t z1 = ino(f->zpath), m1 = ino(f->path);

	/* Health moves every round; the zones do not: only the state file. */
	st->health->servers[0].good_run = 7;
	assert_int_equal(state_save(f->path, f->cfg, st, T0 + 10000, err, sizeof(err)), 0);
	assert_true(ino(f->zpath) == z1);
	assert_true(ino(f->path) != m1);

	/* The same value set again is no change either. */
	seen(st, 0, 0, "mx1.example.com.");
	assert_int_equal(state_save(f->path, f->cfg, st, T0 + 20000, err, sizeof(err)), 0);
	assert_true(ino(f->zpath) == z1);

	/* A record that reads differently, a written mark, an intent: each one
	 * rewrites the companion, and what loads is the new content. */
	seen(st, 0, 0, "mx2.example.com.");
	assert_int_equal(state_save(f->path, f->cfg, st, T0 + 30000, err, sizeof(err)), 0);
	ino_t z2 = ino(f->zpath);
	assert_true(z2 != z1);
	st->failover->groups[0].written[0] = 1;
	assert_int_equal(state_save(f->path, f->cfg, st, T0 + 40000, err, sizeof(err)), 0);
	ino_t z3 = ino(f->zpath);
	assert_true(z3 != z2);
	st->failover->groups[0].zones[1].intent = 1;
	assert_int_equal(state_save(f->path, f->cfg, st, T0 + 50000, err, sizeof(err)), 0);
	assert_true(ino(f->zpath) != z3);

	struct state *ld = load(f);
	assert_string_equal(seen_value(ld, 0, 0), "mx2.example.com.");
	assert_int_equal(ld->failover->groups[0].written[0], 1);
	assert_int_equal(ld->failover->groups[0].zones[1].intent, 1);
	assert_int_equal(ld->health->servers[0].good_run, 7);

	/* Right after a load, an unchanged save leaves the companion alone. */
	ino_t z4 = ino(f->zpath);
	assert_int_equal(state_save(f->path, f->cfg, ld, T0 + 60000, err, sizeof(err)), 0);
	assert_true(ino(f->zpath) == z4);
	state_free(ld);
	state_free(st);
}

static void
test_state_file_without_zones(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	struct state *st = fresh(f->cfg);
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	char *main_text = slurp(f->path), *zones_text = slurp(f->zpath);
	assert_null(strstr(main_text, "\"zones\""));
	assert_non_null(strstr(main_text, "\"active\""));
	assert_non_null(strstr(zones_text, "\"example.net.\": {\"failed\":false"));
	/* One zone per line. */
	assert_non_null(strstr(zones_text, "\n   \"example.net.\""));
	free(main_text);
	free(zones_text);
	/* state_to_json (status --json) still carries the zones. */
	json_t *j;
	assert_int_equal(state_to_json(st, f->cfg, T0, &j), 0);
	json_t *zs =
		json_object_get(json_object_get(json_object_get(j, "groups"), "mail"), "zones");
	assert_int_equal(json_object_size(zs), 2);
	json_decref(j);
	state_free(st);
}

/* A state file from before the split (zones inline, no companion) loads,
 * and the next save moves the zones out. */
static void
test_old_file_migrates(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	struct state *st = fresh(f->cfg);
	json_t *j;
	assert_int_equal(state_to_json(st, f->cfg, T0, &j), 0);
	assert_int_equal(state_file_write_json(f->path, j, JSON_INDENT(1), err, sizeof(err)), 0);
	json_decref(j);
	assert_int_equal(access(f->zpath, F_OK), -1);

	struct state *ld = load(f);
	assert_string_equal(seen_value(ld, 1, 1), "mx1.example.com.");
	assert_int_equal(ld->failover->groups[0].written[0], 0);
	assert_int_equal(state_save(f->path, f->cfg, ld, T0 + 1000, err, sizeof(err)), 0);
	assert_int_equal(access(f->zpath, F_OK), 0);
	char *main_text = slurp(f->path);
	assert_null(strstr(main_text, "\"zones\""));
	free(main_text);
	state_free(ld);
	ld = load(f);
	assert_string_equal(seen_value(ld, 1, 1), "mx1.example.com.");
	state_free(ld);
	state_free(st);
}

/* A crash after the companion was written and before the state file: the
 * zones that load are the newer ones. */
static void
test_crash_between_writes(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	struct state *st = fresh(f->cfg);
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	st->failover->groups[0].zones[0].intent = 1; /* an update about to be sent */
	assert_int_equal(state_zones_save(f->path, f->cfg, st, T0 + 1000, err, sizeof(err)), 0);
	struct state *ld = load(f);
	assert_int_equal(ld->failover->groups[0].zones[0].intent, 1);
	assert_true(ld->saved_ms == T0);
	state_free(ld);
	state_free(st);
}

/* A companion that cannot be used is ignored with a warning: the zones
 * start unknown (read again from DNS), the health stands. */
static void
test_corrupt_companion(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	struct state *st = fresh(f->cfg);
	st->health->servers[1].bad_run = 4;
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	assert_int_equal(state_file_write(f->zpath, "{\"version\": 1, \"gro", 19, err, sizeof(err)),
			 0);
	struct state *ld = NULL;
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "state.json.zones"));
	assert_non_null(strstr(err, "not valid JSON"));
	assert_non_null(strstr(err, "read again from DNS"));
	assert_string_equal(seen_value(ld, 0, 0), "(none)");
	assert_int_equal(ld->failover->groups[0].written[0], -1);
	assert_int_equal(ld->health->servers[1].bad_run, 4);
	/* ... and the next save writes a good one again. */
	assert_int_equal(state_save(f->path, f->cfg, ld, T0 + 1, err, sizeof(err)), 0);
	state_free(ld);
	ld = load(f);
	state_free(ld);

	assert_int_equal(state_file_write(f->zpath, "{\"version\": 9}\n", 15, err, sizeof(err)), 0);
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not a version 1 zones file"));
	state_free(ld);
	/* A lost companion: the zones start unknown, the rest loads, quietly. */
	assert_int_equal(unlink(f->zpath), 0);
	ld = NULL;
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(seen_value(ld, 0, 0), "(none)");
	assert_int_equal(ld->health->servers[1].bad_run, 4);
	state_free(ld);
	state_free(st);
}

/* A newer state file is refused as such, whatever its companion says. */
static void
test_newer_version(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	struct state *st = fresh(f->cfg);
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	static const char v2[] = "{\"version\": 2, \"groups\": {\"mail\": {}}}\n";
	assert_int_equal(state_file_write(f->path, v2, sizeof(v2) - 1, err, sizeof(err)), 0);
	struct state *ld = NULL;
	assert_int_equal(state_load(f->path, f->cfg, &ld, err, sizeof(err)), MXF_EUNSUPPORTED);
	assert_null(ld);
	state_free(st);
}

/* Loaded under a configuration without example.net, the companion still
 * holds it: the first save rewrites it, so nothing of the removed zone
 * comes back when the zone is added again. */
static void
test_config_change_rewrites(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	struct state *st = fresh(f->cfg);
	st->failover->groups[0].hand_changed[1 * 2 + 1] = true; /* example.net smtp */
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	static const char less[] = "[general]\nlog = stderr\n[dns]\nserver = 127.0.0.1\n"
				   "[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com.\n"
				   "checks = smtp\n[server mx2]\naddress = 192.0.2.11\n"
				   "name = mx2.example.com.\nchecks = smtp\n[group mail]\n"
				   "servers = mx1 mx2\nzones = example.com\nrecords = mx smtp\n"
				   "type = CNAME\n";
	struct config *c2 = NULL;
	struct config_errors errs = {0};
	assert_int_equal(config_load_string("t2.conf", less, &c2, &errs), 0);
	config_errors_free(&errs);
	ino_t z1 = ino(f->zpath);
	struct state *ld = NULL;
	assert_int_equal(state_load(f->path, c2, &ld, err, sizeof(err)), 0);
	assert_false(ld->zones_saved);
	assert_int_equal(state_save(f->path, c2, ld, T0 + 1000, err, sizeof(err)), 0);
	assert_true(ino(f->zpath) != z1);
	char *text = slurp(f->zpath);
	assert_null(strstr(text, "example.net."));
	free(text);
	state_free(ld);
	/* Back under the first configuration: example.net starts unknown. */
	ld = load(f);
	assert_false(ld->failover->groups[0].hand_changed[1 * 2 + 1]);
	assert_string_equal(seen_value(ld, 1, 1), "(none)");
	assert_string_equal(seen_value(ld, 0, 0), "mx1.example.com.");
	state_free(ld);
	config_free(c2);
	state_free(st);
}

/* The first save after an upgrade writes the companion; a crash before
 * the state file (zones inline) follows must not bring the older inline
 * zones back. */
static void
test_upgrade_crash_keeps_companion(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	struct state *st = fresh(f->cfg);
	json_t *j;
	assert_int_equal(state_to_json(st, f->cfg, T0, &j), 0);
	assert_int_equal(state_file_write_json(f->path, j, JSON_INDENT(1), err, sizeof(err)), 0);
	json_decref(j);
	st->failover->groups[0].zones[0].intent = 1;
	assert_int_equal(state_zones_save(f->path, f->cfg, st, T0 + 1000, err, sizeof(err)), 0);
	struct state *ld = load(f);
	assert_int_equal(ld->failover->groups[0].zones[0].intent, 1);
	state_free(ld);
	state_free(st);
}

/* A state file written by hand with the zones inline wins over a companion
 * left from earlier. */
static void
test_inline_zones_win(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	struct state *st = fresh(f->cfg);
	assert_int_equal(state_save(f->path, f->cfg, st, T0, err, sizeof(err)), 0);
	seen(st, 0, 0, "hand.example.org.");
	json_t *j;
	assert_int_equal(state_to_json(st, f->cfg, T0, &j), 0);
	assert_int_equal(state_file_write_json(f->path, j, JSON_INDENT(1), err, sizeof(err)), 0);
	json_decref(j);
	struct state *ld = load(f);
	assert_string_equal(seen_value(ld, 0, 0), "hand.example.org.");
	state_free(ld);
	state_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rewritten_only_on_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_without_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_file_migrates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_between_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_companion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_change_rewrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_crash_keeps_companion, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_inline_zones_win, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
