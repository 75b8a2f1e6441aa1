/*
 * test_quorum_view.c -- the record a monitor publishes its view in:
 * written and read back; refused when the version, boot or seq is wrong,
 * a server is listed twice, a string holds a NUL or passes 255 bytes; and
 * read tolerantly otherwise (unknown keys and servers ignored, a missing
 * server unknown, at= optional).
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
#include "health.h"
#include "mxf.h"
#include "quorum.h"
#include "quorum_fixture.h"

#define BOOT "0123456789abcdef"

struct fixture {
	struct config *cfg;
	struct quorum_view v;
	char err[256];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->cfg = quorum_fixture_config(3, 0, 2, 30000, 90000);
	assert_int_equal(quorum_view_init(&f->v, f->cfg), 0);
	/* A sentinel that shows whether a failed parse touched the view. */
	f->v.seq = 777;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	quorum_view_clear(&f->v);
	quorum_fixture_free(f->cfg);
	free(f);
	return 0;
}

/* Parse NUL-terminated strings. */
static int
parse(struct fixture *f, const char *const *strs, size_t n)
{
	f->err[0] = '\0';
	return quorum_view_parse(f->cfg, strs, NULL, n, &f->v, f->err, sizeof(f->err));
}

/* Parse a record that must be refused; the view stays untouched and the
 * message names @what. */
static void
refused(struct fixture *f, const char *const *strs, size_t n, const char *what)
{
	assert_int_equal(parse(f, strs, n), MXF_EINVAL);
	assert_int_equal(f->v.seq, 777);
	if (strstr(f->err, what) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", f->err, what);
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct quorum_view v;
	char **strs = NULL;
	size_t n = 0;

	assert_int_equal(quorum_view_init(&v, f->cfg), 0);
	memcpy(v.boot, BOOT, sizeof(v.boot));
	v.seq = 42;
	v.has_at = true;
	v.at_s = 1764748800;
	v.states[0] = HEALTH_DOWN;
	v.states[1] = HEALTH_UP;
	v.states[2] = HEALTH_UNKNOWN;
	assert_int_equal(quorum_view_format(f->cfg, &v, &strs, &n), 0);
	assert_int_equal(n, 7);
	assert_string_equal(strs[0], "mxf1");
	assert_string_equal(strs[1], "boot=" BOOT);
	assert_string_equal(strs[2], "seq=42");
	assert_string_equal(strs[3], "at=1764748800");
	assert_string_equal(strs[4], "mx1=down");
	assert_string_equal(strs[5], "mx2=up");
	assert_string_equal(strs[6], "mx3=unknown");
	assert_int_equal(parse(f, (const char *const *)strs, n), 0);
	assert_string_equal(f->v.boot, BOOT);
	assert_int_equal(f->v.seq, 42);
	assert_true(f->v.has_at);
	assert_int_equal(f->v.at_s, 1764748800);
	assert_int_equal(f->v.states[0], HEALTH_DOWN);
	assert_int_equal(f->v.states[1], HEALTH_UP);
	assert_int_equal(f->v.states[2], HEALTH_UNKNOWN);
	quorum_strs_free(strs, n);

	/* Without a time, and the largest seq. */
	v.has_at = false;
	v.seq = UINT64_MAX;
	assert_int_equal(quorum_view_format(f->cfg, &v, &strs, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(strs[2], "seq=18446744073709551615");
	assert_int_equal(parse(f, (const char *const *)strs, n), 0);
	assert_false(f->v.has_at);
	assert_true(f->v.seq == UINT64_MAX);
	quorum_strs_free(strs, n);
	quorum_view_clear(&v);
}

/* Strings as DNS hands them over: lengths, no terminating NUL. */
static void
test_lengths_without_nul(void **state)
{
	struct fixture *f = *state;
	const char buf[] = "mxf1boot=" BOOT "seq=9mx2=down";
	const char *strs[] = {buf, buf + 4, buf + 25, buf + 30};
	const size_t lens[] = {4, 21, 5, 8};

	assert_int_equal(quorum_view_parse(f->cfg, strs, lens, 4, &f->v, f->err, sizeof(f->err)),
			 0);
	assert_int_equal(f->v.seq, 9);
	assert_int_equal(f->v.states[0], HEALTH_UNKNOWN);
	assert_int_equal(f->v.states[1], HEALTH_DOWN);
}

static void
test_bad_version(void **state)
{
	struct fixture *f = *state;
	const char *v2[] = {"mxf2", "boot=" BOOT, "seq=1"};
	const char *upper[] = {"MXF1", "boot=" BOOT, "seq=1"};
	const char *longer[] = {"mxf10", "boot=" BOOT, "seq=1"};
	const char *order[] = {"boot=" BOOT, "mxf1", "seq=1"};

	refused(f, v2, 3, "version");
	refused(f, upper, 3, "version");
	refused(f, longer, 3, "version");
	refused(f, order, 3, "version");
	refused(f, v2, 2, "strings");
	refused(f, v2, 0, "strings");
}

static void
test_bad_boot(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = {
		"boot=0123456789ABCDEF",  /* upper case */
		"boot=0123456789abcde",	  /* 15 digits */
		"boot=0123456789abcdef0", /* 17 digits */
		"boot=0123456789abcdeg",  /* not hex */
		"boot=",
		"Boot=0123456789abcdef",
		"0123456789abcdef",
		"boot =0123456789abcdef",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *strs[] = {"mxf1", bad[i], "seq=1", "mx1=up"};
		refused(f, strs, 4, "boot");
	}
}

static void
test_bad_seq(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = {
		"seq=18446744073709551616", /* 2^64 */
		"seq=99999999999999999999",
		"seq=100000000000000000000",
		"seq=12a",
		"seq=",
		"seq=-1",
		"seq=+1",
		"seq=01",
		"seq= 1",
		"seq=1 ",
		"seq=0x10",
		"sequence=1",
	};
	const char *ok[] = {"mxf1", "boot=" BOOT, "seq=0"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *strs[] = {"mxf1", "boot=" BOOT, bad[i]};
		refused(f, strs, 3, "seq");
	}
	assert_int_equal(parse(f, ok, 3), 0);
	assert_int_equal(f->v.seq, 0);
}

static void
test_duplicate_server(void **state)
{
	struct fixture *f = *state;
	const char *differ[] = {"mxf1", "boot=" BOOT, "seq=3", "mx1=up", "mx2=up", "mx1=down"};
	const char *same[] = {"mxf1", "boot=" BOOT, "seq=3", "mx1=up", "mx1=up"};
	/* A server this configuration does not have may appear twice: it is
	 * ignored as a whole. */
	const char *foreign[] = {"mxf1", "boot=" BOOT, "seq=3", "mx9=up", "mx9=down"};

	refused(f, differ, 6, "twice");
	refused(f, same, 5, "twice");
	assert_int_equal(parse(f, foreign, 5), 0);
}

static void
test_nul_refused(void **state)
{
	struct fixture *f = *state;
	const char server[] = "mx1=up\0mx2=down";
	const char boot[] = "boot=0123456789ab\0def";
	const char *strs[] = {"mxf1", "boot=" BOOT, "seq=5", server};
	size_t lens[] = {4, 21, 5, sizeof(server) - 1};

	assert_int_equal(quorum_view_parse(f->cfg, strs, lens, 4, &f->v, f->err, sizeof(f->err)),
			 MXF_EINVAL);
	assert_non_null(strstr(f->err, "NUL"));
	/* The message escapes it. */
	assert_non_null(strstr(f->err, "\\x00"));
	assert_int_equal(f->v.seq, 777);

	strs[1] = boot;
	lens[1] = sizeof(boot) - 1;
	lens[3] = 6;
	assert_int_equal(quorum_view_parse(f->cfg, strs, lens, 4, &f->v, f->err, sizeof(f->err)),
			 MXF_EINVAL);
	assert_int_equal(f->v.seq, 777);
}

static void
test_too_long(void **state)
{
	struct fixture *f = *state;
	char s[300];
	const char *strs[] = {"mxf1", "boot=" BOOT, "seq=5", s};

	memset(s, 'x', sizeof(s));
	memcpy(s, "future=", 7);
	s[255] = '\0';
	assert_int_equal(parse(f, strs, 4), 0); /* 255 bytes: the most */
	f->v.seq = 777;
	s[255] = 'x';
	s[256] = '\0';
	refused(f, strs, 4, "longer than 255");
	/* The message quotes only the beginning. */
	assert_true(strlen(f->err) < 120);
}

static void
test_tolerant(void **state)
{
	struct fixture *f = *state;
	const char *strs[] = {"mxf1",	   "boot=" BOOT, "seq=8",    "colour=blue",
			      "no-equals", "=empty-key", "mx9=down", "mx2=draining",
			      "MX1=down",  "mx3=up",	 ""};

	assert_int_equal(parse(f, strs, sizeof(strs) / sizeof(strs[0])), 0);
	assert_false(f->v.has_at);
	assert_int_equal(f->v.seq, 8);
	assert_int_equal(f->v.states[0], HEALTH_UNKNOWN); /* absent (ids are exact) */
	assert_int_equal(f->v.states[1], HEALTH_UNKNOWN); /* a state we do not know */
	assert_int_equal(f->v.states[2], HEALTH_UP);
}

/* A record of an older or skewed config lists fewer servers. */
static void
test_missing_server_unknown(void **state)
{
	struct fixture *f = *state;
	const char *strs[] = {"mxf1", "boot=" BOOT, "seq=8", "at=5", "mx2=down"};

	f->v.states[0] = HEALTH_UP; /* left from an earlier parse */
	assert_int_equal(parse(f, strs, 5), 0);
	assert_int_equal(f->v.states[0], HEALTH_UNKNOWN);
	assert_int_equal(f->v.states[1], HEALTH_DOWN);
	assert_int_equal(f->v.states[2], HEALTH_UNKNOWN);
	assert_true(f->v.has_at);
	assert_int_equal(f->v.at_s, 5);
}

static void
test_at(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = {"mxf1", "boot=" BOOT, "seq=8", "at=soon", "at=18446744073709551616",
			     "at="};
	const char *late[] = {"mxf1", "boot=" BOOT, "seq=8", "mx1=up", "at=7", "at=9"};

	/* Informational: a malformed one is ignored, the view still counts. */
	assert_int_equal(parse(f, bad, 6), 0);
	assert_false(f->v.has_at);
	/* Anywhere after seq; the first one wins. */
	assert_int_equal(parse(f, late, 6), 0);
	assert_true(f->v.has_at);
	assert_int_equal(f->v.at_s, 7);
	assert_int_equal(f->v.states[0], HEALTH_UP);
}

/* What comes from the network is escaped in the message. */
static void
test_error_escaped(void **state)
{
	struct fixture *f = *state;
	const char *strs[] = {"mxf1\n\x1b[31m\"", "boot=" BOOT, "seq=1"};

	refused(f, strs, 3, "version");
	assert_null(strchr(f->err, '\n'));
	assert_null(strchr(f->err, '\x1b'));
	assert_non_null(strstr(f->err, "\\x0a\\x1b[31m\\x22"));
}

static void
test_format_refuses(void **state)
{
	struct fixture *f = *state;
	struct quorum_view v;
	char **strs = NULL;
	size_t n = 0;
	char *id;

	assert_int_equal(quorum_view_init(&v, f->cfg), 0);
	/* No boot yet. */
	assert_int_equal(quorum_view_format(f->cfg, &v, &strs, &n), MXF_EINVAL);
	memcpy(v.boot, "0123456789ABCDEF", sizeof(v.boot));
	assert_int_equal(quorum_view_format(f->cfg, &v, &strs, &n), MXF_EINVAL);
	memcpy(v.boot, BOOT, sizeof(v.boot));
	v.states[1] = (enum health_state)7;
	assert_int_equal(quorum_view_format(f->cfg, &v, &strs, &n), MXF_EINVAL);
	v.states[1] = HEALTH_UP;

	/* A server id whose string would pass 255 bytes. */
	id = f->cfg->servers[2].id;
	f->cfg->servers[2].id = calloc(1, 250);
	assert_non_null(f->cfg->servers[2].id);
	memset(f->cfg->servers[2].id, 'm', 247);
	assert_int_equal(quorum_view_format(f->cfg, &v, &strs, &n), 0); /* "m...=unknown": 255 */
	assert_int_equal(strlen(strs[5]), 255);
	quorum_strs_free(strs, n);
	f->cfg->servers[2].id[247] = 'm';
	assert_int_equal(quorum_view_format(f->cfg, &v, &strs, &n), MXF_EINVAL);
	free(f->cfg->servers[2].id);
	f->cfg->servers[2].id = id;
	quorum_view_clear(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lengths_without_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tolerant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_server_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_refuses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
