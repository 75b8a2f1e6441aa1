/*
 * test_status_http.c -- the status endpoint's answers, without a socket:
 * status_http_handle() for /, /api/status (its JSON fields), /metrics (the
 * Prometheus lines), 404, a method other than GET or HEAD, a daemon still
 * starting, the query ignored, names and reasons HTML-escaped on the
 * dashboard; each banner (healthy, failed over, active server down, every
 * server down, isolated, changed by hand) and the title carrying the worst;
 * checks' latency and certificate days, witnesses, pins, the 24 h strip;
 * unknown never -1 in a 0/1 gauge; RFC 3339 times, the isolation detail and
 * the switch's records in /api/status; and status_server_parse(), the
 * request line the server reads.
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
	/* What the checks measured: latency, and imaps's certificate. */
	health_note_facts(f->st->health, 0, 0, 12, 0);
	health_note_facts(f->st->health, 0, 1, 34, (int64_t)(T0 / 1000) + 9 * 86400 + 100);
	health_note_facts(f->st->health, 1, 0, 5000, 0);
	state_witness_note(f->st, 0, true, 7, "220 witness ready", T0);
	state_witness_note(f->st, 1, true, 8, "220 witness two", T0);

	struct failover_dns *d;
	const char *v[] = { "mx1.example.com." };
	assert_int_equal(failover_dns_new(f->cfg, 0, &d), 0);
	failover_dns_set(d, 0, 0, FAILOVER_REC_PRESENT, v, 1, 300, NULL);
	failover_dns_set(d, 0, 1, FAILOVER_REC_ABSENT, NULL, 0, -1, NULL);
	assert_int_equal(state_update_seen(f->st, d), 0);
	failover_dns_free(d);

	struct failover_event ev = { .type = FAILOVER_EV_SWITCHED, .at_ms = T0 + 5000, .group = 0,
				     .server = -1, .from = 1, .to = 0, .zone = -1, .record = -1 };
	size_t zs[] = { 0 };
	ev.zones = zs;
	ev.nzones = 1;
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

/* @needle must be in @hay; on failure show the page. */
static void want_in(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fprintf(stderr, "%s\n", hay); /* cmocka cuts long messages */
		fail_msg("missing \"%s\" in the text above", needle);
	}
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
	want_in(a.body, "<!DOCTYPE html>");
	want_in(a.body, "<h1>mxfailover</h1>");
	/* Refreshes every interval (30 s); readable on a phone. */
	want_in(a.body, "content=\"30\"");
	want_in(a.body, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
	want_in(a.body, "<title>OK - mxfailover</title>");
	want_in(a.body, "<div class=\"banner v-ok\" id=\"banner-mail\"><span class=\"head\">mail: "
			"on the preferred server mx1</span><span class=\"line\">mx1 up since 2023-11-14 "
			"22:13 UTC (for 8s)</span>");
	/* The down server is said in the banner too, with its reason. */
	want_in(a.body, "<span class=\"line\">mx2 down since 2023-11-14 22:13 UTC (for 8s): ");
	want_in(a.body, "<h3>mx1 <span class=\"badge warning\">up, warning</span></h3>");
	want_in(a.body, "<h3>mx2 <span class=\"badge down\">down</span></h3>");
	/* Per check: state, latency, certificate (a warning is not green). */
	want_in(a.body, "<td data-l=\"state\"><span class=\"s warning\">warning</span></td>"
			"<td data-l=\"latency\">34 ms</td>"
			"<td data-l=\"certificate\" class=\"warning\">9 days left</td>");
	want_in(a.body, "<td data-l=\"latency\">12 ms</td><td data-l=\"certificate\"></td>");
	want_in(a.body, "<span class=\"s down\">failed</span></td><td data-l=\"latency\">5000 ms");
	/* Witnesses, records with TTL, pins, events with a header row. */
	want_in(a.body, "<h2>Witnesses</h2>");
	want_in(a.body, "<td data-l=\"witness\">smtp://192.0.2.99</td><td data-l=\"state\">"
			"<span class=\"s up\">up</span></td><td data-l=\"latency\">7 ms</td>");
	want_in(a.body, "<h3>mail (CNAME), active: mx1</h3>");
	want_in(a.body, "<td data-l=\"record\">mx.example.com.</td><td data-l=\"value\">"
			"mx1.example.com.</td><td data-l=\"TTL\">300</td><td data-l=\"note\"></td>");
	want_in(a.body, "<td data-l=\"record\">smtp.example.com.</td><td data-l=\"value\">"
			"(absent)</td>");
	want_in(a.body, "No server is pinned.");
	want_in(a.body, "<th>time</th><th>event</th><th>detail</th>");
	/* As of, version, uptime, links. */
	want_in(a.body, "as of 2023-11-14 22:13 UTC &middot; version " MXF_VERSION_STRING
			" &middot; daemon up 1m");
	want_in(a.body, "<a href=\"/api/status\">/api/status</a>");
	want_in(a.body, "<a href=\"/metrics\">/metrics</a>");
	/* No JavaScript, and the tables are the stacking kind. */
	assert_null(strstr(a.body, "<script"));
	assert_null(strstr(a.body, "<table>"));
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
	want_in(a.body, "250 &lt;script&gt;alert(&quot;x&quot;)&amp;&lt;/script&gt;");
	want_in(a.body, "group mail: mx2 -&gt; mx1 &lt;b&gt;&amp;&lt;/b&gt;");
	status_http_answer_free(&a);
}

/* Feed @n rounds to @server, each check with @o. */
static void feed(struct fixture *f, size_t server, enum health_outcome o, int n, uint64_t at)
{
	struct health_result res[2] = { { o, "x" }, { o, "x" } };
	struct health_change c;

	for (int i = 0; i < n; i++)
		health_feed(f->st->health, server, res, f->st->health->servers[server].nchecks,
			    at + (uint64_t)i);
	while (health_next_change(f->st->health, &c))
		;
}

static void test_banner_failed_over(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	feed(f, 0, HEALTH_FAIL, 3, T0 + 1000);
	feed(f, 1, HEALTH_OK, 3, T0 + 1000);
	f->st->failover->groups[0].active = 1;
	f->st->failover->groups[0].last_switch_ms = T0 + 4000;
	get(f, "GET", "/", &a);
	want_in(a.body, "<title>FAILED OVER - mxfailover</title>");
	want_in(a.body, "<div class=\"banner v-failed_over\" id=\"banner-mail\"><span "
			"class=\"head\">mail: FAILED OVER to mx2</span><span class=\"line\">on mx2 "
			"since 2023-11-14 22:13 UTC (for 6s); preferred: mx1</span>");
	want_in(a.body, "<span class=\"line\">mx1 down since ");
	status_http_answer_free(&a);
}

static void test_banner_all_down(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	feed(f, 0, HEALTH_FAIL, 3, T0 + 1000);
	get(f, "GET", "/", &a);
	want_in(a.body, "<title>EVERY SERVER DOWN - mxfailover</title>");
	want_in(a.body, "<span class=\"head\">mail: EVERY SERVER DOWN</span>");
	want_in(a.body, "the records stay on mx1 until a server is up again");
	status_http_answer_free(&a);
}

static void test_banner_isolated(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	f->st->failover->isolated = true;
	state_witness_note(f->st, 0, false, 3000, "connection refused", T0 + 9000);
	state_witness_note(f->st, 1, false, 3000, "timed out", T0 + 9000);
	get(f, "GET", "/", &a);
	want_in(a.body, "<title>ISOLATED - mxfailover</title>");
	want_in(a.body, "<span class=\"head\">mail: ISOLATED: no DNS changes</span>"
			"<span class=\"line\">every witness fails (smtp://192.0.2.99, "
			"smtp://192.0.2.98): this monitor may be cut off");
	want_in(a.body, "<span class=\"s down\">down</span></td><td data-l=\"latency\">3000 ms");
	status_http_answer_free(&a);
}

static void test_banner_hand_changed(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	f->st->failover->groups[0].hand_changed[1] = true;
	get(f, "GET", "/", &a);
	want_in(a.body, "<title>record changed by hand - mxfailover</title>");
	want_in(a.body, "<div class=\"banner v-hand_changed\"");
	want_in(a.body, "<span class=\"head\">mail: a record CHANGED BY HAND</span><span "
			"class=\"line\">otherwise on the preferred server mx1</span>");
	want_in(a.body, "changed by hand: smtp.example.com. (left alone");
	want_in(a.body, "<tr class=\"hand\"><td data-l=\"record\">smtp.example.com.</td>");
	want_in(a.body, "<strong>changed by hand</strong>");
	status_http_answer_free(&a);
}

/* Records still on a down server while another is up: never green. */
static void test_banner_active_down(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	feed(f, 0, HEALTH_FAIL, 3, T0 + 1000);
	feed(f, 1, HEALTH_OK, 3, T0 + 1000);
	get(f, "GET", "/", &a);
	want_in(a.body, "<title>ACTIVE SERVER DOWN - mxfailover</title>");
	want_in(a.body, "<div class=\"banner v-active_down\" id=\"banner-mail\"><span "
			"class=\"head\">mail: records on mx1, which is DOWN</span>");
	want_in(a.body, "the switch has not happened yet");
	status_http_answer_free(&a);
	/* A server still unknown as the active one is "waiting". */
	f->st->failover->groups[0].active = -1;
	get(f, "GET", "/", &a);
	want_in(a.body, "<title>waiting for the first checks - mxfailover</title>");
	status_http_answer_free(&a);
}

/* The title carries the gravest of the groups' states. */
static void test_title_worst(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	f->st->failover->groups[0].hand_changed[0] = true;
	f->st->failover->isolated = true;
	get(f, "GET", "/", &a);
	want_in(a.body, "<title>ISOLATED - mxfailover</title>");
	status_http_answer_free(&a);
}

static void test_pins(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;

	assert_int_equal(health_set_pin(f->st->health, 1, HEALTH_PIN_UP, T0 + 10000 + 7200000,
					T0 + 10000, "maintenance"),
			 1);
	get(f, "GET", "/", &a);
	want_in(a.body, "<td data-l=\"server\">mx2</td><td data-l=\"pinned\" class=\"up\">up</td>"
			"<td data-l=\"expires\">2023-11-15 00:13 UTC (in 2h 00m)</td>");
	want_in(a.body, "<span class=\"badge up\">up (pinned)</span>");
	status_http_answer_free(&a);
}

/* The 24 h strip: runs of equal marks as rects, the worst of a period wins. */
static void test_history_strip(void **state)
{
	struct fixture *f = *state;
	const uint64_t slot = STATE_HISTORY_SLOT_MS;
	uint64_t now = (T0 / slot) * slot + 1000;
	struct status_http_answer a;

	state_history_note(f->st, 0, STATE_MARK_UP, now - 3 * slot);
	state_history_note(f->st, 0, STATE_MARK_DOWN, now - 2 * slot);
	state_history_note(f->st, 0, STATE_MARK_UP, now - 2 * slot + 5); /* down stays */
	state_history_note(f->st, 0, STATE_MARK_WARNING, now - slot);
	state_history_note(f->st, 0, STATE_MARK_UP, now);
	assert_int_equal(state_history_get(f->st, 0, (now - 2 * slot) / slot), STATE_MARK_DOWN);
	assert_int_equal(state_history_get(f->st, 0, now / slot + 1), STATE_MARK_NONE);
	/* A period 24 h later takes the ring slot over. */
	state_history_note(f->st, 1, STATE_MARK_DOWN, now - 2 * slot);
	state_history_note(f->st, 1, STATE_MARK_UP, now - 2 * slot + STATE_HISTORY_SLOTS * slot);
	assert_int_equal(state_history_get(f->st, 1, (now - 2 * slot) / slot), STATE_MARK_NONE);
	assert_int_equal(state_history_judge(f->st->health, 0, now), STATE_MARK_WARNING);
	assert_int_equal(state_history_judge(f->st->health, 1, now), STATE_MARK_DOWN);

	status_http_handle("GET", "/", f->cfg, f->st, &f->ctr, now, &a);
	want_in(a.body, "aria-label=\"last 24 hours: up 2, warning 1, down 1, no data 140 of 144 "
			"ten-minute periods\"");
	want_in(a.body, "<rect x=\"0\" width=\"140\" height=\"10\" fill=\"#d0d7de\"><title>no "
			"data</title></rect><rect x=\"140\" width=\"1\" height=\"10\" "
			"fill=\"#2da44e\"><title>up</title></rect><rect x=\"141\" width=\"1\" "
			"height=\"10\" fill=\"#cf222e\"><title>down</title></rect><rect x=\"142\" "
			"width=\"1\" height=\"10\" fill=\"#d4a72c\"><title>warning</title></rect>"
			"<rect x=\"143\" width=\"1\" height=\"10\" fill=\"#2da44e\">");
	status_http_answer_free(&a);
}

/* One failed round of mx1 (fall 3): /api/status says the daemon is at the
 * fast pace and names mx1 as in transition. */
static void test_api_status_pace(void **state)
{
	struct fixture *f = *state;
	struct status_http_answer a;
	struct health_result r[2] = {{HEALTH_FAIL, "refused"}, {HEALTH_OK, "ok"}};
	json_error_t jerr;

	for (unsigned i = 0; i < 3; i++) {
		struct health_result ok[2] = {{HEALTH_OK, "ok"}, {HEALTH_OK, "ok"}};

		assert_true(health_feed(f->st->health, 0, ok, 2, T0 + i * 30000) >= 0);
	}
	assert_int_equal(health_effective(f->st->health, 0, T0 + 60000), HEALTH_UP);
	assert_true(health_feed(f->st->health, 0, r, 2, T0 + 90000) >= 0);
	get(f, "GET", "/api/status", &a);
	json_t *root = json_loads(a.body, 0, &jerr);
	assert_non_null(root);
	json_t *dm = json_object_get(root, "daemon");
	json_t *tr = json_object_get(dm, "in_transition");
	assert_int_equal(json_array_size(tr), 1);
	assert_string_equal(json_string_value(json_array_get(tr, 0)), "mx1");
	assert_string_equal(json_string_value(json_object_get(dm, "pace")), "fastinter");
	assert_int_equal(json_integer_value(json_object_get(dm, "pace_ms")), 6000);
	json_decref(root);
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
	assert_string_equal(json_string_value(json_object_get(dm, "started_time")),
			    "2023-11-14T22:12:20Z");
	assert_int_equal(json_integer_value(json_object_get(dm, "uptime_s")), 70);
	assert_string_equal(json_string_value(json_object_get(dm, "version")), MXF_VERSION_STRING);
	/* The pace (round_pace.h): fastinter interval / 5; "fastinter" exactly
	 * while a server is in transition. */
	assert_int_equal(json_integer_value(json_object_get(dm, "interval_ms")), 30000);
	assert_int_equal(json_integer_value(json_object_get(dm, "fastinter_ms")), 6000);
	assert_null(json_object_get(dm, "interval_time"));
	json_t *tr = json_object_get(dm, "in_transition");
	assert_true(json_is_array(tr));
	assert_string_equal(json_string_value(json_object_get(dm, "pace")),
			    json_array_size(tr) > 0 ? "fastinter" : "interval");
	assert_int_equal(json_integer_value(json_object_get(dm, "pace_ms")),
			 json_array_size(tr) > 0 ? 6000 : 30000);
	/* Verdicts, as the banners say them. */
	assert_string_equal(json_string_value(json_object_get(root, "verdict")), "ok");
	assert_string_equal(json_string_value(json_object_get(mail, "verdict")), "ok");
	assert_string_equal(json_string_value(json_object_get(mail, "preferred")), "mx1");
	assert_true(json_is_false(json_object_get(mail, "failed_over")));
	assert_true(json_is_false(json_object_get(mail, "every_server_down")));
	/* RFC 3339 beside the epoch times; null beside a 0. */
	assert_string_equal(json_string_value(json_object_get(root, "saved_time")),
			    "2023-11-14T22:13:30Z");
	assert_true(json_is_null(json_object_get(mail, "last_switch_time")));
	json_t *mx1 = json_object_get(servers, "mx1");
	assert_string_equal(json_string_value(json_object_get(mx1, "since_time")),
			    "2023-11-14T22:13:22Z");
	/* Latency and certificate expiry per check. */
	json_t *imaps = json_array_get(json_object_get(mx1, "checks"), 1);
	assert_int_equal(json_integer_value(json_object_get(imaps, "elapsed_ms")), 34);
	assert_int_equal(json_integer_value(json_object_get(imaps, "cert_expiry")),
			 T0 / 1000 + 9 * 86400 + 100);
	assert_int_equal(json_integer_value(json_object_get(imaps, "cert_days_left")), 9);
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(mx1, "checks"), 0),
						 "cert_expiry")));
	/* Witnesses and the isolation detail. */
	json_t *w = json_object_get(json_object_get(root, "witnesses"), "smtp://192.0.2.99");
	assert_true(json_is_true(json_object_get(w, "up")));
	assert_int_equal(json_integer_value(json_object_get(w, "elapsed_ms")), 7);
	assert_string_equal(json_string_value(json_object_get(w, "at_time")), "2023-11-14T22:13:20Z");
	json_t *iso = json_object_get(root, "isolation");
	assert_true(json_is_false(json_object_get(iso, "isolated")));
	assert_int_equal(json_integer_value(json_object_get(iso, "witnesses")), 2);
	assert_int_equal(json_array_size(json_object_get(iso, "witnesses_failed")), 0);
	/* The switch names the records it moved (smtp is absent: not created). */
	json_t *ev = json_array_get(json_object_get(root, "events"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "switched");
	assert_string_equal(json_string_value(json_object_get(ev, "at_time")), "2023-11-14T22:13:25Z");
	json_t *recs = json_object_get(ev, "records");
	assert_int_equal(json_array_size(recs), 1);
	assert_string_equal(json_string_value(json_array_get(recs, 0)), "mx.example.com.");
	assert_int_equal(json_integer_value(json_object_get(mail, "switches")), 1);
	json_decref(root);
	status_http_answer_free(&a);

	/* Isolated: which witnesses failed, and since when. */
	struct failover_events evs = { 0 };
	state_witness_note(f->st, 1, false, 3000, "timed out", T0 + 8000);
	assert_int_equal(failover_set_witness(f->st->failover, FAILOVER_WITNESS_ISOLATED, T0 + 8000,
					      &evs), 1);
	assert_int_equal(state_add_event(f->st, f->cfg, &evs.v[0]), 0);
	failover_events_free(&evs);
	get(f, "GET", "/api/status", &a);
	root = json_loads(a.body, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "verdict")), "isolated");
	iso = json_object_get(root, "isolation");
	assert_true(json_is_true(json_object_get(iso, "isolated")));
	assert_int_equal(json_array_size(json_object_get(iso, "witnesses_failed")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(iso, "witnesses_failed"), 0)),
			    "smtp://192.0.2.98");
	assert_string_equal(json_string_value(json_object_get(iso, "since_time")),
			    "2023-11-14T22:13:28Z");
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
		"\nmxfailover_build_info{version=\"" MXF_VERSION_STRING "\"} 1\n",
		"# TYPE mxfailover_check_success gauge\n",
		"\nmxfailover_check_success{server=\"mx2\",check=\"smtp://192.0.2.11?sni=mx2.example.com\"} 0\n",
		"\nmxfailover_check_warning{server=\"mx1\",check=\"imaps://192.0.2.10?sni=mx1.example.com\"} 1\n",
		"\nmxfailover_check_duration_seconds{server=\"mx1\",check=\"imaps://192.0.2.10?sni=mx1.example.com\"} 0.034\n",
		"\nmxfailover_check_cert_expiry_timestamp_seconds{server=\"mx1\",check=\"imaps://192.0.2.10?sni=mx1.example.com\"} 1700777700\n",
		"\nmxfailover_server_state{server=\"mx2\",state=\"down\"} 1\n",
		"\nmxfailover_server_state{server=\"mx2\",state=\"unknown\"} 0\n",
		"\nmxfailover_group_failed_over{group=\"mail\"} 0\n",
		"\nmxfailover_group_all_down{group=\"mail\"} 0\n",
		"\nmxfailover_switches_total{group=\"mail\"} 1\n",
		"# TYPE mxfailover_switches_total counter\n",
		"\nmxfailover_record_changed_by_hand{group=\"mail\",zone=\"example.com.\",record=\"smtp.example.com.\"} 0\n",
		"\nmxfailover_witness_up{witness=\"smtp://192.0.2.99\"} 1\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		want_in(a.body, want[i]);
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

	/* Unknown is no sample, never -1; the cert gauge only with a cert. */
	struct state *fresh;
	assert_int_equal(state_new(f->cfg, &fresh), 0);
	char *m2 = status_http_metrics(f->cfg, fresh, NULL, T0);
	assert_non_null(m2);
	assert_null(strstr(m2, " -1\n"));
	assert_null(strstr(m2, "\nmxfailover_server_up{"));
	assert_null(strstr(m2, "\nmxfailover_check_success{"));
	assert_null(strstr(m2, "\nmxfailover_check_cert_expiry_timestamp_seconds{"));
	assert_null(strstr(m2, "\nmxfailover_witness_up{"));
	assert_null(strstr(m2, "\nmxfailover_group_failed_over{"));
	assert_null(strstr(m2, "\nmxfailover_last_switch_timestamp_seconds{"));
	want_in(m2, "\nmxfailover_server_state{server=\"mx1\",state=\"unknown\"} 1\n");
	want_in(m2, "\nmxfailover_switches_total{group=\"mail\"} 0\n");
	free(m2);
	/* Failed over, by hand, all down: the 0/1 gauges say so. */
	fresh->failover->groups[0].active = 1;
	fresh->failover->groups[0].last_switch_ms = T0 + 500;
	fresh->failover->groups[0].hand_changed[0] = true;
	struct health_result bad[2] = { { HEALTH_FAIL, "x" }, { HEALTH_FAIL, "x" } };
	for (int i = 0; i < 3; i++) {
		health_feed(fresh->health, 0, bad, 2, T0 + (uint64_t)i);
		health_feed(fresh->health, 1, bad, 1, T0 + (uint64_t)i);
	}
	m2 = status_http_metrics(f->cfg, fresh, NULL, T0 + 1000);
	want_in(m2, "\nmxfailover_group_failed_over{group=\"mail\"} 1\n");
	want_in(m2, "\nmxfailover_group_all_down{group=\"mail\"} 1\n");
	want_in(m2, "\nmxfailover_last_switch_timestamp_seconds{group=\"mail\"} 1700000000.500\n");
	want_in(m2, "\nmxfailover_record_changed_by_hand{group=\"mail\",zone=\"example.com.\",record=\"mx.example.com.\"} 1\n");
	want_in(m2, "\nmxfailover_server_up{server=\"mx1\"} 0\n");
	free(m2);
	state_free(fresh);
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
		cmocka_unit_test_setup_teardown(test_banner_failed_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banner_all_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banner_isolated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banner_hand_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banner_active_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_title_worst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_strip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_status_pace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_starting, setup, teardown),
		cmocka_unit_test(test_server_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
