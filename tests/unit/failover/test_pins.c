/*
 * test_pins.c -- the pins file: set and clear under the lock (created with
 * its directory), entries of unknown servers kept, expiry, a file that
 * cannot be parsed refused with a message and left alone, and the health
 * machine brought in line with the file (each change once, expired pins
 * not adopted).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "health.h"
#include "fail_fsync.h"
#include "mxf.h"
#include "pins.h"

#define T0 1700000000000ULL

struct fixture {
	struct config *cfg;
	char dir[64];
	char sub[96];
	char pins[160];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mxf-pins-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* A directory that does not exist yet: `pin` creates it. */
	snprintf(f->sub, sizeof(f->sub), "%s/lib", f->dir);
	snprintf(f->pins, sizeof(f->pins), "%s/state.json.pins", f->sub);
	char text[1024];
	snprintf(text, sizeof(text),
		 "[general]\n"
		 "log = stderr\n"
		 "state_file = %s/state.json\n"
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
		 "records = mx\n"
		 "type = CNAME\n",
		 f->sub);
	struct config_errors errs = { 0 };
	int e = config_load_string("t.conf", text, &f->cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
	config_errors_free(&errs);
	assert_int_equal(e, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[256];
	unlink(f->pins);
	snprintf(p, sizeof(p), "%s.lock", f->pins);
	unlink(p);
	rmdir(f->sub);
	rmdir(f->dir);
	config_free(f->cfg);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *read_file(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void test_path_and_absent_file(void **state)
{
	struct fixture *f = *state;
	char why[512] = "";
	char *p = pins_path(f->cfg);
	assert_string_equal(p, f->pins);
	free(p);
	struct pins *pins = NULL;
	assert_int_equal(pins_load(f->cfg, &pins, why, sizeof(why)), 0);
	assert_int_equal(pins->n, 2);
	assert_int_equal(pins_get(pins, 0, T0, NULL), HEALTH_PIN_NONE);
	assert_int_equal(pins_get(pins, 5, T0, NULL), HEALTH_PIN_NONE);
	pins_free(pins);
}

static void test_set_clear_expire(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", why[512] = "";
	struct pins *pins = NULL;
	uint64_t until = 1;
	assert_int_equal(pins_set(f->cfg, "mx1", HEALTH_PIN_DOWN, T0 + 600000, err, sizeof(err)), 0);
	assert_int_equal(pins_set(f->cfg, "mx2", HEALTH_PIN_UP, 0, err, sizeof(err)), 0);
	struct stat sb;
	assert_int_equal(stat(f->pins, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	assert_int_equal(pins_load(f->cfg, &pins, why, sizeof(why)), 0);
	assert_int_equal(pins_get(pins, 0, T0, &until), HEALTH_PIN_DOWN);
	assert_int_equal(until, T0 + 600000);
	assert_int_equal(pins_get(pins, 1, T0, &until), HEALTH_PIN_UP);
	assert_int_equal(until, 0);
	/* An expired pin is no longer in force. */
	assert_int_equal(pins_get(pins, 0, T0 + 600000, &until), HEALTH_PIN_NONE);
	assert_int_equal(until, 0);
	assert_int_equal(pins_get(pins, 1, T0 + 600000, NULL), HEALTH_PIN_UP);
	pins_free(pins);

	assert_int_equal(pins_set(f->cfg, "mx1", HEALTH_PIN_NONE, 0, err, sizeof(err)), 0);
	assert_int_equal(pins_load(f->cfg, &pins, why, sizeof(why)), 0);
	assert_int_equal(pins_get(pins, 0, T0, NULL), HEALTH_PIN_NONE);
	assert_int_equal(pins_get(pins, 1, T0, NULL), HEALTH_PIN_UP);
	pins_free(pins);
	assert_null(strstr(read_file(f->pins), "mx1"));

	assert_int_equal(pins_set(f->cfg, "nosuch", HEALTH_PIN_DOWN, 0, err, sizeof(err)),
			 MXF_ENOTFOUND);
}

/* `pin` after the rename: the pin is written, so a failed fsync of the
 * directory is a warning, not an error (pin must not exit 2). */
static void test_set_dir_fsync_warning(void **state)
{
	struct fixture *f = *state;
	char err[512] = "stale", why[512] = "";
	struct pins *pins = NULL;
	fail_dir_fsync = true;
	int e = pins_set(f->cfg, "mx1", HEALTH_PIN_DOWN, 0, err, sizeof(err));
	fail_dir_fsync = false;
	assert_int_equal(e, 0);
	assert_non_null(strstr(err, "written, but cannot fsync the directory"));
	assert_int_equal(pins_load(f->cfg, &pins, why, sizeof(why)), 0);
	assert_int_equal(pins_get(pins, 0, T0, NULL), HEALTH_PIN_DOWN);
	pins_free(pins);
	/* A write that syncs says nothing. */
	assert_int_equal(pins_set(f->cfg, "mx1", HEALTH_PIN_NONE, 0, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void test_unknown_entries_kept(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", why[512] = "";
	struct pins *pins = NULL;
	mkdir(f->sub, 0750);
	write_file(f->pins, "{\"gone\": {\"pin\": \"down\", \"until_ms\": 0},\n"
			    " \"mx2\": {\"pin\": \"sideways\", \"until_ms\": 0}}\n");
	/* A pin not understood is no pin. */
	assert_int_equal(pins_load(f->cfg, &pins, why, sizeof(why)), 0);
	assert_int_equal(pins_get(pins, 1, T0, NULL), HEALTH_PIN_NONE);
	pins_free(pins);
	assert_int_equal(pins_set(f->cfg, "mx1", HEALTH_PIN_UP, 0, err, sizeof(err)), 0);
	const char *text = read_file(f->pins);
	assert_non_null(strstr(text, "\"gone\""));
	assert_non_null(strstr(text, "\"sideways\""));
	assert_non_null(strstr(text, "\"mx1\""));
	assert_int_equal(text[strlen(text) - 1], '\n');
}

static void test_corrupt_file(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", why[512] = "";
	struct pins *pins = NULL;
	mkdir(f->sub, 0750);
	write_file(f->pins, "{\"mx1\": {\"pin\": \"down\",");
	assert_int_equal(pins_load(f->cfg, &pins, why, sizeof(why)), MXF_EINVAL);
	assert_null(pins);
	assert_non_null(strstr(why, f->pins));
	/* `pin` does not overwrite what it cannot read. */
	assert_int_equal(pins_set(f->cfg, "mx2", HEALTH_PIN_DOWN, 0, err, sizeof(err)), MXF_EINVAL);
	assert_non_null(strstr(err, "not changing pins"));
	assert_string_equal(read_file(f->pins), "{\"mx1\": {\"pin\": \"down\",");
	write_file(f->pins, "[1, 2]\n");
	assert_int_equal(pins_load(f->cfg, &pins, why, sizeof(why)), MXF_EINVAL);
	assert_non_null(strstr(why, "is not a JSON object"));
}

/* The health machine follows the file: each difference once, expiry kept
 * apart, an expired pin in the file not adopted. */
static void test_apply(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", why[512] = "";
	struct health *h = NULL;
	struct pins *pins = NULL;
	struct health_change c;
	assert_int_equal(health_new(f->cfg, &h), 0);
	assert_int_equal(health_set_pin(h, 1, HEALTH_PIN_UP, 0, T0, NULL), 1);
	while (health_next_change(h, &c))
		;
	/* `pin mx1 down --for 10m`; mx2's pin is not in the file: unpinned. */
	assert_int_equal(pins_set(f->cfg, "mx1", HEALTH_PIN_DOWN, T0 + 600000, err, sizeof(err)), 0);
	assert_int_equal(pins_load(f->cfg, &pins, why, sizeof(why)), 0);
	assert_int_equal(pins_apply(pins, h, T0 + 1000), 2);
	assert_int_equal(health_pinned(h, 0, T0 + 1000), HEALTH_PIN_DOWN);
	assert_int_equal(h->servers[0].pin_until_ms, T0 + 600000);
	assert_int_equal(health_pinned(h, 1, T0 + 1000), HEALTH_PIN_NONE);
	assert_true(health_next_change(h, &c));
	assert_int_equal(c.kind, HEALTH_CHANGE_PIN);
	assert_string_equal(c.reason, "pinned by operator");
	assert_true(health_next_change(h, &c));
	assert_string_equal(c.reason, "unpinned by operator");
	/* Nothing new the second time. */
	assert_int_equal(pins_apply(pins, h, T0 + 2000), 0);
	/* A new expiry for the same pin is a change. */
	pins->v[0].until_ms = T0 + 900000;
	assert_int_equal(pins_apply(pins, h, T0 + 2000), 1);
	assert_int_equal(h->servers[0].pin_until_ms, T0 + 900000);
	/* An expired pin in the file is not adopted: the one in force goes. */
	pins->v[0].until_ms = T0 + 500000;
	assert_int_equal(pins_apply(pins, h, T0 + 600000), 1);
	assert_int_equal(h->servers[0].pin, HEALTH_PIN_NONE);
	pins_free(pins);

	/* Pins read for another configuration (one server, not two). */
	struct pins_entry one = { HEALTH_PIN_DOWN, 0 };
	struct pins other = { .path = NULL, .v = &one, .n = 1 };
	assert_int_equal(pins_apply(&other, h, T0), MXF_EINVAL);
	health_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_path_and_absent_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_clear_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_dir_fsync_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_entries_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
