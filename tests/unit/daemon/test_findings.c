/*
 * test_findings.c -- the background audit's findings: a new warning or
 * error is reported once, its end once, infos never; a streak keeps its
 * start; duplicates are kept once; and the status endpoint shows them
 * (JSON "audit", mxfailover_audit_findings{severity}, the dashboard
 * section, HTML escaped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "mxf.h"
#include "status_audit.h"

#define IT(dom, id, sev, subj) \
	{ (char *)(dom), (char *)(id), (sev), (char *)(subj), (char *)"msg", (char *)"hint", 0 }

static void
test_changes(void **state)
{
	struct findings f = {0};
	struct findings_changes ch;
	const struct findings_item a1[] = {
		IT("example.com.", "mx-single", FINDINGS_INFO, "example.com."),
		IT("example.com.", "mx-target-cname", FINDINGS_ERROR, "mx.example.com."),
		IT("example.com.", "mx-target-cname", FINDINGS_ERROR, "mx.example.com."),
	};
	const struct findings_item a2[] = {
		IT("example.com.", "mx-target-cname", FINDINGS_ERROR, "mx.example.com."),
		IT("example.com.", "ptr-missing", FINDINGS_WARNING, "192.0.2.10"),
		IT("example.com.", "mx-single", FINDINGS_WARNING, "example.com."),
	};

	(void)state;
	assert_int_equal(findings_update(&f, a1, 3, 1000, NULL, &ch), 0);
	assert_int_equal(f.n, 2);			/* the duplicate once */
	assert_int_equal(ch.nadded, 1);			/* the info is no event */
	assert_string_equal(f.v[ch.added[0]].id, "mx-target-cname");
	assert_int_equal(ch.ngone, 0);
	findings_changes_free(&ch);
	/* The same error again: nothing new; an info turned warning: new. */
	assert_int_equal(findings_update(&f, a2, 3, 2000, NULL, &ch), 0);
	assert_int_equal(ch.nadded, 2);
	assert_string_equal(f.v[ch.added[0]].id, "ptr-missing");
	assert_string_equal(f.v[ch.added[1]].id, "mx-single");
	assert_int_equal(f.v[0].since_ms, 1000);	/* the streak goes on */
	assert_int_equal(f.v[1].since_ms, 2000);
	findings_changes_free(&ch);
	assert_int_equal(findings_count(&f, FINDINGS_WARNING), 2);
	assert_int_equal(findings_count(&f, FINDINGS_ERROR), 1);
	/* Everything fixed: three ends, each once. */
	assert_int_equal(findings_update(&f, NULL, 0, 3000, NULL, &ch), 0);
	assert_int_equal(ch.nadded, 0);
	assert_int_equal(ch.ngone, 3);
	findings_changes_free(&ch);
	assert_int_equal(findings_update(&f, NULL, 0, 4000, NULL, &ch), 0);
	assert_int_equal(ch.ngone, 0);
	findings_changes_free(&ch);
	assert_int_equal(f.runs, 4);
	assert_int_equal(f.last_ms, 4000);
	findings_clear(&f);
}

/*
 * What was told lives in the state (state_findings.h) and outlives the
 * process: a new findings set (a restart) over the same told set announces
 * nothing that is still there, clears what went away, and keeps the
 * streak's start.
 */
static void
test_told_outlives_a_restart(void **state)
{
	struct findings f = {0}, g = {0};
	struct state_findings told = {0};
	struct findings_changes ch;
	const struct findings_item a[] = {
		IT("fod.test.", "failover-record-missing", FINDINGS_ERROR, "imap.fod.test."),
		IT("fod.test.", "mx-single", FINDINGS_WARNING, "fod.test."),
		IT("fod.test.", "soa-timers", FINDINGS_INFO, "fod.test."),
	};
	char buf[256];

	(void)state;
	assert_int_equal(findings_update(&f, a, 3, 1000, &told, &ch), 0);
	assert_int_equal(ch.nadded, 2);
	assert_int_equal(told.n, 2);			/* warnings and errors only */
	findings_changes_free(&ch);
	findings_clear(&f);				/* the restart */

	/* Both still there: nothing to announce, the streaks go on. */
	assert_int_equal(findings_update(&g, a, 3, 5000, &told, &ch), 0);
	assert_int_equal(ch.nadded, 0);
	assert_int_equal(ch.ngone, 0);
	assert_int_equal(g.v[0].since_ms, 1000);
	assert_int_equal(g.v[2].since_ms, 5000);
	findings_changes_free(&ch);
	findings_clear(&g);				/* another restart */

	/* The missing record was added meanwhile: one clear, worded from the
	 * state (no message: that audit's words were not kept). */
	assert_int_equal(findings_update(&g, &a[1], 2, 9000, &told, &ch), 0);
	assert_int_equal(ch.nadded, 0);
	assert_int_equal(ch.ngone, 1);
	assert_string_equal(ch.gone[0].id, "failover-record-missing");
	assert_int_equal(ch.gone[0].severity, FINDINGS_ERROR);
	assert_int_equal(ch.gone[0].since_ms, 1000);
	findings_line(&ch.gone[0], buf, sizeof(buf));
	assert_string_equal(buf, "ERROR failover-record-missing imap.fod.test.");
	assert_int_equal(told.n, 1);
	assert_string_equal(told.v[0].id, "mx-single");
	findings_changes_free(&ch);

	/* Within one process the last words are kept for the clear. */
	assert_int_equal(findings_update(&g, NULL, 0, 10000, &told, &ch), 0);
	assert_int_equal(ch.ngone, 1);
	findings_line(&ch.gone[0], buf, sizeof(buf));
	assert_string_equal(buf, "WARNING mx-single fod.test.: msg (hint)");
	assert_int_equal(told.n, 0);
	findings_changes_free(&ch);
	findings_clear(&g);
	state_findings_clear(&told);
}

static void
test_line(void **state)
{
	const struct findings_item it = IT("example.com.", "mx-single", FINDINGS_WARNING, "x.");
	char buf[128];

	(void)state;
	findings_line(&it, buf, sizeof(buf));
	assert_string_equal(buf, "WARNING mx-single x.: msg (hint)");
}

static void
test_status(void **state)
{
	struct findings f = {0};
	struct findings_changes ch;
	const struct findings_item a[] = {
		IT("example.com.", "mx-target-cname", FINDINGS_ERROR, "<mx>.example.com."),
		IT("example.com.", "soa-timers", FINDINGS_INFO, "example.com."),
	};
	struct buf b = {0};
	json_t *root = json_object();
	char *s;

	(void)state;
	assert_int_equal(findings_update(&f, a, 2, 1700000000000ULL, NULL, &ch), 0);
	findings_changes_free(&ch);
	f.seconds = 0.25;
	f.checks = 42;

	status_audit_metrics(&b, &f);
	s = buf_take(&b);
	assert_non_null(strstr(s, "# TYPE mxfailover_audit_findings gauge\n"));
	assert_non_null(strstr(s, "mxfailover_audit_findings{severity=\"error\"} 1\n"));
	assert_non_null(strstr(s, "mxfailover_audit_findings{severity=\"warning\"} 0\n"));
	assert_non_null(strstr(s, "mxfailover_audit_findings{severity=\"info\"} 1\n"));
	assert_non_null(strstr(s, "mxfailover_audit_last_run_seconds 1700000000\n"));
	free(s);

	status_audit_json(root, &f, 3600000);
	json_t *au = json_object_get(root, "audit");
	assert_non_null(au);
	assert_true(json_is_true(json_object_get(au, "enabled")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(au, "counts"), "error")),
			 1);
	json_t *f0 = json_array_get(json_object_get(au, "findings"), 0);
	assert_string_equal(json_string_value(json_object_get(f0, "id")), "mx-target-cname");
	assert_string_equal(json_string_value(json_object_get(f0, "severity")), "error");
	json_decref(root);

	b = (struct buf){0};
	status_audit_html(&b, &f, 3600000);
	s = buf_take(&b);
	assert_non_null(strstr(s, "1 error, 0 warnings, 1 info"));
	assert_non_null(strstr(s, "&lt;mx&gt;.example.com."));
	assert_null(strstr(s, "<mx>"));
	/* Errors come before infos. */
	assert_true(strstr(s, "mx-target-cname") < strstr(s, "soa-timers"));
	free(s);
	b = (struct buf){0};
	status_audit_html(&b, NULL, 0);
	s = buf_take(&b);
	assert_non_null(strstr(s, "audit_interval = 0"));
	free(s);
	/* Before the first audit the page says so: not "0 errors" in green. */
	struct findings none = {0};
	b = (struct buf){0};
	status_audit_html(&b, &none, 3600000);
	s = buf_take(&b);
	assert_non_null(strstr(s, "No audit has run yet"));
	assert_non_null(strstr(s, "(1h)"));
	assert_null(strstr(s, "0 errors"));
	free(s);
	/* Off: the JSON says so, the metrics count nothing. */
	root = json_object();
	status_audit_json(root, NULL, 0);
	assert_true(json_is_false(json_object_get(json_object_get(root, "audit"), "enabled")));
	json_decref(root);
	findings_clear(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_told_outlives_a_restart),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
