/*
 * test_status_http.c -- the status endpoint's answers, without a socket:
 * status_http_handle() for /, /api/status (its JSON fields), /metrics (the
 * Prometheus lines), 404, a method other than GET or HEAD, a daemon still
 * starting, the query ignored, and names and reasons HTML-escaped on the
 * dashboard; and status_server_parse(), the request line the server reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"
#include "state.h"
#include "status_http.h"
#include "status_server.h"

#define T0 1700000000000ULL

static const char conf[] = "[general]\n"
			   "interval = 30s\n"
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
			   "zones = example.com\n"
			   "records = mx smtp\n"
			   "type = CNAME\n";

struct fixture {
	struct config *cfg;
	struct state *st;
	struct status_counters ctr;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_errors errs = { 0 };

	assert_non_null(f);
	assert_int_equal(config_load_string("t.conf", conf, &f->cfg, &errs), 0);
	config_errors_free(&errs);
	assert_int_equal(state_new(f->cfg, &f->st), 0);

	/* mx1 up (one check with a hostile reason), mx2 down. */
	struct health_result ok2[2] = { { HEALTH_OK, "250 <script>alert(\"x\")&</script>" },
					{ HEALTH_WARN, "cert expires in 9 days" } };
	struct health_result bad1[1] = { { HEALTH_FAIL, "connection refused" } };
	for (int i = 0; i < 3; i++) {
		health_feed(f->st->health, 0, ok2, 2, T0 + (uint64_t)i * 1000);
		health_feed(f->st->health, 1, bad1, 1, T0 + (uint64_t)i * 1000);
	}
	struct health_change c;
	while (health_next_change(f->st->health, &c))
		;
	f->st->failover->groups[0].active = 0;

	struct failover_dns *d;
	const char *v[] = { "mx1.example.com." };
	assert_int_equal(failover_dns_new(f->cfg, 0, &d), 0);
	failover_dns_set(d, 0, 0, FAILOVER_REC_PRESENT, v, 1, 300, NULL);
	failover_dns_set(d, 0, 1, FAILOVER_REC_ABSENT, NULL, 0, -1, NULL);
	assert_int_equal(state_update_seen(f->st, d), 0);
	failover_dns_free(d);

	struct failover_event ev = { .type = FAILOVER_EV_SWITCHED, .at_ms = T0 + 5000, .group = 0,
				     .server = -1, .from = 1, .to = 0, .zone = -1, .record = -1 };
	snprintf(ev.detail, sizeof(ev.detail), "group mail: mx2 -> mx1 <b>&</b>");
	assert_int_equal(state_add_event(f->st, f->cfg, &ev), 0);

	f->ctr = (struct status_counters){ .rounds = 7, .round_ms = 1234, .updates_ok = 3,
					   .updates_failed = 1, .started_ms = T0 - 60000 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	state_free(f->st);
	config_free(f->cfg);
	free(f);
	return 0;
}

/* GET @target from the fixture's view. */
static void get(struct fixture *f, const char *method, const char *target,
		struct status_http_answer *a)
{
	status_http_handle(method, target, f->cfg, f->st, &f->ctr, T0 + 10000, a);
	assert_non_null(a->body);
	assert_non_null(a->type);
	assert_non_null(a->reason);
}

static void test_dashboard(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	get(f, "GET", "/", &a);
	assert_int_equal(a.code, 200);
	assert_string_equal(a.reason, "OK");
	assert_string_equal(a.type, "text/html; charset=utf-8");
	assert_null(a.allow);
	assert_non_null(strstr(a.body, "<!DOCTYPE html>"));
	assert_non_null(strstr(a.body, "<h1>mxfailover</h1>"));
	/* Refreshes every interval (30 s). */
	assert_non_null(strstr(a.body, "content=\"30\""));
	assert_non_null(strstr(a.body, "<td>mx1</td><td>192.0.2.10</td><td class=\"up\">up</td>"));
	assert_non_null(strstr(a.body, "<td>mx2</td><td>192.0.2.11</td><td class=\"down\">down</td>"));
	assert_non_null(strstr(a.body, "<h3>mail (CNAME): active mx1</h3>"));
	assert_non_null(strstr(a.body, "<td>mx.example.com.</td><td>mx1.example.com.</td>"));
	assert_non_null(strstr(a.body, "<td>smtp.example.com.</td><td>(absent)</td>"));
	assert_null(strstr(a.body, "ISOLATED"));
	status_http_answer_free(&a);
	assert_null(a.owned);
}

static void test_dashboard_escapes_html(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	get(f, "GET", "/", &a);
	assert_int_equal(a.code, 200);
	assert_null(strstr(a.body, "<script>"));
	assert_null(strstr(a.body, "<b>"));
	assert_non_null(strstr(a.body, "250 &lt;script&gt;alert(&quot;x&quot;)&amp;&lt;/script&gt;"));
	assert_non_null(strstr(a.body, "group mail: mx2 -&gt; mx1 &lt;b&gt;&amp;&lt;/b&gt;"));
	status_http_answer_free(&a);
}

static void test_dashboard_isolated(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	f->st->failover->isolated = true;
	get(f, "GET", "/", &a);
	assert_non_null(strstr(a.body, "ISOLATED: every witness fails; no DNS changes."));
	status_http_answer_free(&a);
}

static void test_api_status(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;
	json_error_t jerr;

	get(f, "GET", "/api/status?pretty=1", &a);
	assert_int_equal(a.code, 200);
	assert_string_equal(a.type, "application/json");
	json_t *root = json_loads(a.body, 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_true(json_object_get(root, "live")));
	assert_int_equal(json_integer_value(json_object_get(root, "version")), 1);
	json_t *servers = json_object_get(root, "servers");
	assert_string_equal(json_string_value(json_object_get(json_object_get(servers, "mx1"), "state")),
			    "up");
	assert_string_equal(json_string_value(json_object_get(json_object_get(servers, "mx2"), "state")),
			    "down");
	json_t *mail = json_object_get(json_object_get(root, "groups"), "mail");
	assert_string_equal(json_string_value(json_object_get(mail, "active")), "mx1");
	assert_int_equal(json_array_size(json_object_get(root, "events")), 1);
	json_t *dm = json_object_get(root, "daemon");
	assert_true(json_is_object(dm));
	assert_int_equal(json_integer_value(json_object_get(dm, "rounds")), 7);
	assert_int_equal(json_integer_value(json_object_get(dm, "round_ms")), 1234);
	assert_int_equal(json_integer_value(json_object_get(dm, "updates_ok")), 3);
	assert_int_equal(json_integer_value(json_object_get(dm, "updates_failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(dm, "started_ms")), T0 - 60000);
	json_decref(root);
	status_http_answer_free(&a);

	/* Without counters there is no "daemon" object. */
	status_http_handle("GET", "/api/status", f->cfg, f->st, NULL, T0, &a);
	assert_int_equal(a.code, 200);
	root = json_loads(a.body, 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_true(json_object_get(root, "live")));
	assert_null(json_object_get(root, "daemon"));
	json_decref(root);
	status_http_answer_free(&a);
}

static void test_metrics(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	get(f, "GET", "/metrics", &a);
	assert_int_equal(a.code, 200);
	assert_string_equal(a.type, "text/plain; version=0.0.4");
	static const char *const want[] = {
		"# TYPE mxfailover_server_up gauge\n",
		"\nmxfailover_server_up{server=\"mx1\"} 1\n",
		"\nmxfailover_server_up{server=\"mx2\"} 0\n",
		"\nmxfailover_server_pinned{server=\"mx1\"} 0\n",
		"\nmxfailover_check_ok{server=\"mx1\",check=\"smtp://192.0.2.10?sni=mx1.example.com\"} 1\n",
		"\nmxfailover_check_ok{server=\"mx1\",check=\"imaps://192.0.2.10?sni=mx1.example.com\"} 1\n",
		"\nmxfailover_check_ok{server=\"mx2\",check=\"smtp://192.0.2.11?sni=mx2.example.com\"} 0\n",
		"\nmxfailover_group_active{group=\"mail\",server=\"mx1\"} 1\n",
		"\nmxfailover_group_active{group=\"mail\",server=\"mx2\"} 0\n",
		"\nmxfailover_isolated 0\n",
		"\nmxfailover_rounds_total 7\n",
		"\nmxfailover_round_duration_seconds 1.234\n",
		"\nmxfailover_dns_updates_total{result=\"ok\"} 3\n",
		"\nmxfailover_dns_updates_total{result=\"failed\"} 1\n",
		"\nmxfailover_start_time_seconds 1699999940\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(a.body, want[i]) == NULL)
			fail_msg("missing %s in:\n%s", want[i], a.body);
	/* The same text as status_http_metrics() gives. */
	char *m = status_http_metrics(f->cfg, f->st, &f->ctr, T0 + 10000);
	assert_non_null(m);
	assert_string_equal(a.body, m);
	free(m);
	status_http_answer_free(&a);

	/* Without counters, no counter lines; a fragment is ignored too. */
	status_http_handle("HEAD", "/metrics#x", f->cfg, f->st, NULL, T0 + 10000, &a);
	assert_int_equal(a.code, 200);
	assert_non_null(strstr(a.body, "mxfailover_isolated 0\n"));
	assert_null(strstr(a.body, "mxfailover_rounds_total"));
	status_http_answer_free(&a);
}

static void test_not_found(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;
	static const char *const targets[] = {
		"/nope", "/metrics/", "/api", "/API/STATUS", "",
		"/metrics0123456789012345678901234567890123456789012345678901234567890123456789",
	};

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		get(f, "GET", targets[i], &a);
		assert_int_equal(a.code, 404);
		assert_string_equal(a.reason, "Not Found");
		assert_string_equal(a.type, "text/plain");
		assert_string_equal(a.body, "not found: try /, /api/status or /metrics\n");
		assert_null(a.owned);
		status_http_answer_free(&a);
	}
	/* No target at all is "/". */
	get(f, "GET", NULL, &a);
	assert_int_equal(a.code, 200);
	assert_string_equal(a.type, "text/html; charset=utf-8");
	status_http_answer_free(&a);
}

static void test_wrong_method(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;
	static const char *const methods[] = { "POST", "PUT", "DELETE", "get", "OTHER" };

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		get(f, methods[i], "/metrics", &a);
		assert_int_equal(a.code, 405);
		assert_string_equal(a.reason, "Method Not Allowed");
		assert_string_equal(a.allow, "GET, HEAD");
		assert_string_equal(a.type, "text/plain");
		assert_string_equal(a.body, "GET or HEAD only\n");
		status_http_answer_free(&a);
	}
	/* The method is judged first, before the view. */
	status_http_handle("POST", "/", NULL, NULL, NULL, T0, &a);
	assert_int_equal(a.code, 405);
	status_http_answer_free(&a);
	status_http_handle(NULL, "/", f->cfg, f->st, NULL, T0, &a);
	assert_int_equal(a.code, 405);
	status_http_answer_free(&a);
	/* HEAD is served like GET (the glue leaves the body out). */
	get(f, "HEAD", "/", &a);
	assert_int_equal(a.code, 200);
	assert_null(a.allow);
	status_http_answer_free(&a);
}

static void test_starting(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	status_http_handle("GET", "/api/status", NULL, NULL, NULL, T0, &a);
	assert_int_equal(a.code, 503);
	assert_string_equal(a.reason, "Service Unavailable");
	assert_string_equal(a.type, "text/plain");
	assert_string_equal(a.body, "starting\n");
	status_http_answer_free(&a);
	status_http_handle("GET", "/nope", f->cfg, NULL, NULL, T0, &a);
	assert_int_equal(a.code, 503);
	status_http_answer_free(&a);
	status_http_answer_free(NULL);
}

static int
parse(const char *head, char *m, char *t)
{
	return status_server_parse(head, strlen(head), m, 16, t, 32);
}

static void
test_server_parse(void **state)
{
	char m[16], t[32];
	char longt[80];

	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", m, t), 0);
	assert_string_equal(m, "GET");
	assert_string_equal(t, "/metrics");
	assert_int_equal(parse("HEAD /?a=b HTTP/1.0\n\n", m, t), 0);
	assert_string_equal(m, "HEAD");
	assert_string_equal(t, "/?a=b");
	/* Not a request line: 400. */
	assert_int_equal(parse("GET /\r\n\r\n", m, t), MXF_EINVAL);
	assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", m, t), MXF_EINVAL);
	assert_int_equal(parse("GET / HTTP/1.1 x\r\n\r\n", m, t), MXF_EINVAL);
	assert_int_equal(parse(" / HTTP/1.1\r\n\r\n", m, t), MXF_EINVAL);
	assert_int_equal(parse("GET  HTTP/1.1\r\n\r\n", m, t), MXF_EINVAL);
	assert_int_equal(parse("no line end", m, t), MXF_EINVAL);
	/* Words that do not fit are refused, never cut. */
	assert_int_equal(parse("AVERYLONGMETHODNAME / HTTP/1.1\r\n\r\n", m, t), MXF_EINVAL);
	snprintf(longt, sizeof(longt), "GET /%040d HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(parse(longt, m, t), MXF_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dashboard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dashboard_escapes_html, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dashboard_isolated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_starting, setup, teardown),
		cmocka_unit_test(test_server_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
