/*
 * test_status_queue.c -- the backup queues on /api/status, /metrics and the
 * dashboard: readings as JSON, gauges only for what was read (unknown is
 * absence), HTML escaped; and the one-line description notices use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "mxf.h"
#include "queue_watch.h"
#include "status_queue.h"

#define NOW ((int64_t)1796000000)

static const char conf[] =
	"[dns]\nserver = 127.0.0.1\n"
	"[server mx1]\naddress = 127.0.0.1\nname = mx1.example.com\nchecks = smtp\n"
	"[server mx2]\naddress = 127.0.0.2\nname = mx2.example.com\nchecks = smtp\n"
	"queue = ssh://mxq@127.0.0.2\n"
	"[server mx3]\naddress = 127.0.0.3\nname = mx3.example.com\nchecks = smtp\n"
	"queue = ssh://mxq@127.0.0.3\n"
	"[group mail]\nservers = mx1 mx2 mx3\nzones = example.com example.net\nrecords = mx\n";

struct fixture {
	struct event_base *base;
	struct config *cfg;
	struct queue_watch *qw;
	struct queue_watch_entry *mx2, *mx3;
};

static int
setup(void **state)
{
	static struct fixture f;
	struct config_errors errs = {0};

	memset(&f, 0, sizeof(f));
	f.base = event_base_new();
	assert_int_equal(config_load_string("t.conf", conf, &f.cfg, &errs), 0);
	config_errors_free(&errs);
	f.qw = queue_watch_new(f.base);
	f.mx2 = queue_watch_get(f.qw, f.cfg, 1);
	f.mx3 = queue_watch_get(f.qw, f.cfg, 2);
	assert_non_null(f.mx2);
	assert_non_null(f.mx3);
	assert_null(queue_watch_get(f.qw, f.cfg, 0)); /* no queue */
	/* mx2: read, 3 messages for example.com. */
	f.mx2->have = true;
	f.mx2->why = "failover";
	f.mx2->read_at = NOW - 5;
	f.mx2->sum.total = 4;
	f.mx2->sum.matched = 3;
	f.mx2->sum.oldest = NOW - 600;
	f.mx2->counts = calloc(2, sizeof(*f.mx2->counts));
	f.mx2->counts[0].zone = f.mx2->zones[0];
	f.mx2->counts[0].messages = 3;
	f.mx2->counts[0].oldest = NOW - 600;
	f.mx2->counts[1].zone = f.mx2->zones[1];
	/* mx3: could not be read. */
	f.mx3->have = true;
	f.mx3->rc = MXF_ECONNREFUSED;
	f.mx3->why = "after ETRN";
	f.mx3->read_at = NOW - 1;
	snprintf(f.mx3->error, sizeof(f.mx3->error), "ssh: <refused> & gone");
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	queue_watch_free(f->qw);
	config_free(f->cfg);
	event_base_free(f->base);
	return 0;
}

static void
test_json(void **state)
{
	struct fixture *f = *state;
	json_t *root = json_object(), *q, *z;

	status_queue_json(root, f->qw, NOW);
	q = json_object_get(root, "queues");
	assert_int_equal(json_array_size(q), 2);
	z = json_array_get(q, 0);
	assert_string_equal(json_string_value(json_object_get(z, "server")), "mx2");
	assert_string_equal(json_string_value(json_object_get(z, "queue")), "ssh://mxq@127.0.0.2");
	assert_true(json_is_true(json_object_get(z, "ok")));
	assert_int_equal(json_integer_value(json_object_get(z, "messages")), 3);
	assert_int_equal(json_integer_value(json_object_get(z, "oldest_age_seconds")), 600);
	assert_string_equal(json_string_value(json_object_get(z, "why")), "failover");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(z, "zones"), 0), "zone")),
			    "example.com");
	z = json_array_get(q, 1);
	assert_true(json_is_false(json_object_get(z, "ok")));
	assert_string_equal(json_string_value(json_object_get(z, "error")),
			    "ssh: <refused> & gone");
	assert_null(json_object_get(z, "messages"));
	json_decref(root);
	/* No watch yet: an empty array. */
	root = json_object();
	status_queue_json(root, NULL, NOW);
	assert_int_equal(json_array_size(json_object_get(root, "queues")), 0);
	json_decref(root);
}

static void
test_metrics(void **state)
{
	struct fixture *f = *state;
	struct buf b = {0};
	const char *s;

	status_queue_metrics(&b, f->qw, NOW);
	s = buf_str(&b);
	assert_non_null(
		strstr(s, "mxfailover_queue_messages{server=\"mx2\",zone=\"example.com\"} 3\n"));
	assert_non_null(
		strstr(s, "mxfailover_queue_messages{server=\"mx2\",zone=\"example.net\"} 0\n"));
	assert_non_null(strstr(s, "mxfailover_queue_oldest_seconds{server=\"mx2\"} 600\n"));
	assert_non_null(strstr(s, "mxfailover_queue_read_success{server=\"mx2\"} 1\n"));
	/* An unreadable queue has no count, no age. */
	assert_non_null(strstr(s, "mxfailover_queue_read_success{server=\"mx3\"} 0\n"));
	assert_null(strstr(s, "mxfailover_queue_messages{server=\"mx3\""));
	assert_null(strstr(s, "mxfailover_queue_oldest_seconds{server=\"mx3\""));
	assert_non_null(strstr(s, "# TYPE mxfailover_queue_messages gauge\n"));
	buf_free(&b);
	/* Nothing read: no families at all. */
	f->mx2->have = f->mx3->have = false;
	status_queue_metrics(&b, f->qw, NOW);
	assert_true(buf_str(&b) == NULL || buf_str(&b)[0] == '\0');
	buf_free(&b);
	f->mx2->have = f->mx3->have = true;
}

static void
test_html_and_describe(void **state)
{
	struct fixture *f = *state;
	struct buf b = {0};
	char line[300];
	const char *s;

	status_queue_html(&b, f->qw, NOW);
	s = buf_str(&b);
	assert_non_null(strstr(s, "<h2>Backup queues</h2>"));
	assert_non_null(
		strstr(s, "3 messages still held, oldest 10 min, for example.com, example.net"));
	assert_non_null(strstr(s, ">mx3<"));
	assert_non_null(strstr(s, "could not be read: ssh: &lt;refused&gt; &amp; gone"));
	assert_null(strstr(s, "<refused>"));
	buf_free(&b);
	queue_watch_describe(f->mx2, NOW, line, sizeof(line));
	assert_string_equal(line,
			    "3 messages still held, oldest 10 min, for example.com, example.net");
	f->mx2->sum.matched = 0;
	queue_watch_describe(f->mx2, NOW, line, sizeof(line));
	assert_string_equal(line, "no mail left for example.com, example.net");
	f->mx2->sum.matched = 3;
	queue_watch_describe(f->mx3, NOW, line, sizeof(line));
	assert_string_equal(line, "could not be read: ssh: <refused> & gone");
	assert_false(queue_watch_busy(f->qw));
}

/* A reload that drops mx3's queue stops listing it; one that brings it
 * back lists it again; mx2 keeps its last reading throughout. */
static void
test_reload(void **state)
{
	struct fixture *f = *state;
	struct config_errors errs = {0};
	struct config *cfg2 = NULL;
	char *text = strdup(conf), *q3 = strstr(text, "queue = ssh://mxq@127.0.0.3\n");

	memcpy(q3, "; ", 2); /* the line becomes a comment */
	assert_int_equal(config_load_string("t2.conf", text, &cfg2, &errs), 0);
	config_errors_free(&errs);
	assert_null(cfg2->servers[2].queue);
	queue_watch_reload(f->qw, cfg2);
	assert_int_equal(queue_watch_count(f->qw), 1);
	assert_ptr_equal(queue_watch_entry(f->qw, 0), f->mx2);
	assert_null(queue_watch_entry(f->qw, 1));
	assert_true(f->mx2->have);
	assert_int_equal(f->mx2->sum.matched, 3);
	queue_watch_reload(f->qw, f->cfg);
	assert_int_equal(queue_watch_count(f->qw), 2);
	assert_ptr_equal(queue_watch_entry(f->qw, 1), f->mx3);
	config_free(cfg2);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_and_describe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
