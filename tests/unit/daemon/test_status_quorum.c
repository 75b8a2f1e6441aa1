/*
 * test_status_quorum.c -- [quorum] on the status endpoint, without a socket
 * (status_quorum.h): from a st->quorum as round_quorum_json() writes it,
 * the dashboard's Monitors panel (each monitor's freshness, seq and views,
 * the decision row, the quorum-lost banner, who agreed on the last switch),
 * the verdict quorum_lost (page title, group banner, /api/status), the
 * "quorum" object of /api/status (a copy: the answer's added times never
 * reach the state), the mxfailover_quorum_* families, escaping of what a
 * state file could carry, and nothing at all without [quorum].
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
#include "state.h"
#include "status_http.h"

#define T0 1700000000000ULL

#define BODY                                                                                       \
	"[dns]\nserver = 127.0.0.1\nkey_file = /etc/mxfailover/update.key\n"                       \
	"[server mx1]\naddress = 192.0.2.10\nname = mx1.example.com.\nchecks = smtp\n"             \
	"[server mx2]\naddress = 192.0.2.11\nname = mx2.example.com.\nchecks = smtp\n"             \
	"[group mail]\nservers = mx1 mx2\nzones = example.com\nrecords = mx\ntype = CNAME\n"

static const char conf_quorum[] = "[general]\ninterval = 1s\nlog = stderr\n" BODY
				  "[quorum]\nid = mon-a\nmonitors = mon-a mon-b mon-c\nneed = 2\n"
				  "zone = views.example.com\nheartbeat = 1s\nstale = 3s\n";
static const char conf_plain[] = "[general]\ninterval = 1s\nlog = stderr\n" BODY;

/* Lost: only mon-a fresh; mon-b never seen; mon-c seen, stale, with a
 * hostile view value; a switch of mail agreed by mon-a and "<b>x</b>". */
static const char quorum_lost[] =
	"{\"id\":\"mon-a\",\"need\":2,\"zone\":\"views.example.com.\",\"have\":false,"
	"\"fresh\":1,\"monitors\":["
	"{\"id\":\"mon-a\",\"self\":true,\"fresh\":true,\"seen\":true,\"age_ms\":400,"
	"\"seq\":12,\"boot\":\"0123456789abcdef\",\"at\":1700000000,\"read_error\":false,"
	"\"views\":{\"mx1\":\"up\",\"mx2\":\"down\"}},"
	"{\"id\":\"mon-b\",\"self\":false,\"fresh\":false,\"seen\":false,\"age_ms\":null,"
	"\"seq\":0,\"boot\":\"\",\"at\":null,\"read_error\":false,\"views\":{}},"
	"{\"id\":\"mon-c\",\"self\":false,\"fresh\":false,\"seen\":true,\"age_ms\":65000,"
	"\"seq\":7,\"boot\":\"fedcba9876543210\",\"at\":1699999900,\"read_error\":true,"
	"\"views\":{\"mx1\":\"<i>odd</i>\",\"mx2\":\"up\"}}],"
	"\"decision\":{\"mx1\":\"unknown\",\"mx2\":\"unknown\"},"
	"\"last_switch\":{\"mail\":{\"to\":\"mx1\",\"at\":1699999990,"
	"\"agreed\":[\"mon-a\",\"<b>x</b>\"]}}}";

/* Had: mon-a and mon-b fresh and agreeing. */
static const char quorum_have[] =
	"{\"id\":\"mon-a\",\"need\":2,\"zone\":\"views.example.com.\",\"have\":true,"
	"\"fresh\":2,\"monitors\":["
	"{\"id\":\"mon-a\",\"self\":true,\"fresh\":true,\"seen\":true,\"age_ms\":400,"
	"\"seq\":12,\"boot\":\"0123456789abcdef\",\"at\":1700000000,\"read_error\":false,"
	"\"views\":{\"mx1\":\"up\",\"mx2\":\"up\"}},"
	"{\"id\":\"mon-b\",\"self\":false,\"fresh\":true,\"seen\":true,\"age_ms\":1500,"
	"\"seq\":3,\"boot\":\"00000000000000bb\",\"at\":1700000000,\"read_error\":false,"
	"\"views\":{\"mx1\":\"up\",\"mx2\":\"down\"}},"
	"{\"id\":\"mon-c\",\"self\":false,\"fresh\":false,\"seen\":false,\"age_ms\":null,"
	"\"seq\":0,\"boot\":\"\",\"at\":null,\"read_error\":false,\"views\":{}}],"
	"\"decision\":{\"mx1\":\"up\",\"mx2\":\"unknown\"},\"last_switch\":{}}";

struct fixture {
	struct config *cfg;
	struct state *st;
};

static struct fixture *
fixture(const char *conf, const char *quorum)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config_errors errs = {0};
	struct health_result ok[1] = {{HEALTH_OK, "250 ok"}};
	struct health_change c;

	assert_non_null(f);
	assert_int_equal(config_load_string("t.conf", conf, &f->cfg, &errs), 0);
	config_errors_free(&errs);
	assert_int_equal(state_new(f->cfg, &f->st), 0);
	for (int i = 0; i < 3; i++) {
		health_feed(f->st->health, 0, ok, 1, T0 + (uint64_t)i * 1000);
		health_feed(f->st->health, 1, ok, 1, T0 + (uint64_t)i * 1000);
	}
	while (health_next_change(f->st->health, &c))
		;
	f->st->failover->groups[0].active = 0;
	if (quorum != NULL) {
		f->st->quorum = json_loads(quorum, 0, NULL);
		assert_non_null(f->st->quorum);
	}
	return f;
}

static void
fixture_free(struct fixture *f)
{
	state_free(f->st);
	config_free(f->cfg);
	free(f);
}

static void
want_in(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fprintf(stderr, "%s\n", hay);
		fail_msg("missing \"%s\" in the text above", needle);
	}
}

static void
want_not(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL) {
		fprintf(stderr, "%s\n", hay);
		fail_msg("unexpected \"%s\" in the text above", needle);
	}
}

static void
test_page_quorum_lost(void **state)
{
	struct fixture *f = fixture(conf_quorum, quorum_lost);
	char *p = status_page_html(f->cfg, f->st, NULL, T0 + 10000);

	(void)state;
	assert_non_null(p);
	want_in(p, "<title>QUORUM LOST - mxfailover</title>");
	want_in(p, "<body class=\"worst-quorum_lost\">");
	want_in(p, "<div class=\"banner v-quorum_lost\" id=\"banner-mail\"><span class=\"head\">"
		   "mail: QUORUM LOST: no DNS changes</span><span class=\"line\">quorum lost: 1 "
		   "of 3 monitors fresh, need 2: nothing switches (see <a href=\"#monitors\">"
		   "Monitors</a>)</span>");
	want_in(p, "<h2 id=\"monitors\">Monitors</h2>");
	want_in(p, "this monitor: mon-a &middot; 3 monitors, need 2 &middot; views at "
		   "ID._mxfailover.views.example.com. &middot; heartbeat 1s, stale after 3s");
	want_in(p, "<div class=\"banner v-quorum_lost\" id=\"banner-quorum\"><span "
		   "class=\"head\">quorum lost: 1 of 3 monitors fresh, need 2: nothing "
		   "switches</span><span class=\"line\">not fresh: mon-b (never seen), mon-c "
		   "(stale)</span></div>");
	/* This monitor, marked; its views in the servers' badges. */
	want_in(p, "<tr class=\"self\" aria-current=\"true\"><td data-l=\"monitor\"><strong>"
		   "mon-a</strong> (this monitor)</td><td data-l=\"freshness\"><span class=\"s "
		   "up\">fresh</span>, published 0s ago</td><td data-l=\"seq\">12</td>"
		   "<td data-l=\"mx1\"><span class=\"badge up\">up</span></td>"
		   "<td data-l=\"mx2\"><span class=\"badge down\">down</span></td></tr>");
	want_in(p, "<td data-l=\"monitor\"><strong>mon-b</strong></td><td data-l=\"freshness\">"
		   "<span class=\"s unknown\">never seen</span></td><td data-l=\"seq\"></td>"
		   "<td data-l=\"mx1\"><span class=\"unknown\" title=\"no view read\">-</span>");
	/* A view value that is no state reads as unknown, never as markup. */
	want_in(p, "<td data-l=\"freshness\"><span class=\"s down\">stale</span>, advanced 1m "
		   "ago, <span class=\"down\">last read failed</span></td><td data-l=\"seq\">7</td>"
		   "<td data-l=\"mx1\"><span class=\"badge unknown\">unknown</span></td>");
	want_in(p, "<tr class=\"decision\"><td data-l=\"monitor\"><strong>decision</strong></td>"
		   "<td data-l=\"freshness\">need 2 of 3: 1 fresh</td><td data-l=\"seq\"></td>"
		   "<td data-l=\"mx1\"><span class=\"badge unknown\">unknown</span></td>");
	want_in(p, "<h3 class=\"sub\">Last switch made by this monitor</h3>");
	want_in(p, "<td data-l=\"group\">mail</td><td data-l=\"switched to\">mx1</td>"
		   "<td data-l=\"at\">2023-11-14 22:13:10 UTC</td><td data-l=\"agreed\">mon-a, "
		   "&lt;b&gt;x&lt;/b&gt;</td>");
	want_not(p, "<b>x");
	want_not(p, "<i>odd");
	free(p);

	/* /api/status: the verdicts, and the object as it is (a copy). */
	char *j = status_json_text(f->cfg, f->st, NULL, T0 + 10000);
	json_t *root = json_loads(j, 0, NULL);

	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "verdict")), "quorum_lost");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(root, "groups"), "mail"), "verdict")),
		"quorum_lost");
	assert_true(json_equal(json_object_get(root, "quorum"), f->st->quorum));
	json_decref(root);
	free(j);
	json_t *orig = json_loads(quorum_lost, 0, NULL);
	assert_true(json_equal(orig, f->st->quorum));
	json_decref(orig);

	/* /metrics */
	char *m = status_http_metrics(f->cfg, f->st, NULL, T0 + 10000);

	want_in(m, "# TYPE mxfailover_quorum_have gauge\nmxfailover_quorum_have 0\n");
	want_in(m, "\nmxfailover_quorum_fresh_monitors 1\n");
	want_in(m, "\nmxfailover_quorum_need 2\n");
	want_in(m, "\nmxfailover_quorum_monitors 3\n");
	want_in(m, "\nmxfailover_quorum_monitor_fresh{monitor=\"mon-a\"} 1\n"
		   "mxfailover_quorum_monitor_fresh{monitor=\"mon-b\"} 0\n"
		   "mxfailover_quorum_monitor_fresh{monitor=\"mon-c\"} 0\n");
	want_in(m,
		"\nmxfailover_quorum_view{monitor=\"mon-a\",server=\"mx2\",state=\"up\"} 0\n"
		"mxfailover_quorum_view{monitor=\"mon-a\",server=\"mx2\",state=\"down\"} 1\n"
		"mxfailover_quorum_view{monitor=\"mon-a\",server=\"mx2\",state=\"unknown\"} 0\n");
	want_in(m,
		"mxfailover_quorum_view{monitor=\"mon-b\",server=\"mx1\",state=\"unknown\"} 1\n");
	want_in(m,
		"mxfailover_quorum_view{monitor=\"mon-c\",server=\"mx1\",state=\"unknown\"} 1\n");
	want_in(m, "mxfailover_quorum_decision{server=\"mx1\",state=\"unknown\"} 1\n");
	free(m);
	fixture_free(f);
}

static void
test_page_quorum_had(void **state)
{
	struct fixture *f = fixture(conf_quorum, quorum_have);
	char *p = status_page_html(f->cfg, f->st, NULL, T0 + 10000);

	(void)state;
	want_in(p, "<title>OK - mxfailover</title>");
	want_in(p, "id=\"banner-mail\"><span class=\"head\">mail: on the preferred server mx1");
	want_in(p, "<p><span class=\"badge up\">quorum</span> 2 of 3 monitors fresh, need 2</p>");
	want_not(p, "banner-quorum");
	want_not(p, "QUORUM LOST");
	want_in(p, "<strong>mon-b</strong></td><td data-l=\"freshness\"><span class=\"s up\">"
		   "fresh</span>, advanced 1s ago</td><td data-l=\"seq\">3</td>");
	want_in(p, "<td data-l=\"freshness\">need 2 of 3: 2 fresh</td><td data-l=\"seq\"></td>"
		   "<td data-l=\"mx1\"><span class=\"badge up\">up</span></td>");
	want_in(p, "<td data-l=\"group\">mail</td><td data-l=\"switched to\" colspan=\"3\" "
		   "class=\"unknown\">no switch since this monitor started</td>");
	free(p);
	char *m = status_http_metrics(f->cfg, f->st, NULL, T0 + 10000);

	want_in(m, "\nmxfailover_quorum_have 1\n");
	want_in(m, "mxfailover_quorum_decision{server=\"mx1\",state=\"up\"} 1\n");
	free(m);
	char *j = status_json_text(f->cfg, f->st, NULL, T0 + 10000);

	want_in(j, "\"verdict\": \"ok\"");
	free(j);
	fixture_free(f);
}

/* [quorum] on, no round yet: the panel says so; no sample from a round. */
static void
test_quorum_before_first_round(void **state)
{
	struct fixture *f = fixture(conf_quorum, NULL);
	char *p = status_page_html(f->cfg, f->st, NULL, T0 + 10000);
	char *m = status_http_metrics(f->cfg, f->st, NULL, T0 + 10000);
	char *j = status_json_text(f->cfg, f->st, NULL, T0 + 10000);

	(void)state;
	want_in(p, "<h2 id=\"monitors\">Monitors</h2>");
	want_in(p, "No views read yet.");
	want_not(p, "QUORUM LOST");
	want_in(m, "\nmxfailover_quorum_need 2\n");
	want_not(m, "\nmxfailover_quorum_have ");
	want_not(m, "\nmxfailover_quorum_monitor_fresh{");
	want_in(j, "\"quorum\": null");
	free(p);
	free(m);
	free(j);
	fixture_free(f);
}

/* Without [quorum] nothing of it, even with views left in the state. */
static void
test_no_quorum_section(void **state)
{
	struct fixture *f = fixture(conf_plain, quorum_lost);
	char *p = status_page_html(f->cfg, f->st, NULL, T0 + 10000);
	char *m = status_http_metrics(f->cfg, f->st, NULL, T0 + 10000);
	char *j = status_json_text(f->cfg, f->st, NULL, T0 + 10000);

	(void)state;
	want_not(p, "Monitors");
	want_not(p, "quorum");
	want_in(p, "<title>OK - mxfailover</title>");
	want_not(m, "mxfailover_quorum");
	want_in(j, "\"quorum\": null");
	want_in(j, "\"verdict\": \"ok\"");
	free(p);
	free(m);
	free(j);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_quorum_lost),
		cmocka_unit_test(test_page_quorum_had),
		cmocka_unit_test(test_quorum_before_first_round),
		cmocka_unit_test(test_no_quorum_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
