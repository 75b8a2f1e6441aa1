/*
 * test_queue_read.c -- one run of `postqueue -j` over SSH, with a stand-in
 * ssh (a shell script first in PATH) that answers as a real one would:
 * messages, ssh's own failures (exit 255), postqueue failing, garbage, a
 * flood of output (bounded) and a hang (the deadline kills it).
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

#include <event2/event.h>

#include "config.h"
#include "mxf.h"
#include "proc.h"
#include "queue_read.h"

static char dir[] = "/tmp/mxf-queue-read-XXXXXX";

static const char conf[] =
	"[dns]\nserver = 127.0.0.1\n"
	"[server mx1]\naddress = 127.0.0.1\nname = mx1.example.com\nchecks = smtp\n"
	"[server mx2]\naddress = 127.0.0.2\nname = mx2.example.com\nchecks = smtp\n"
	"queue = ssh://mxq@127.0.0.2:2222\n"
	"[server mx3]\naddress = 127.0.0.3\nname = mx3.example.com\nchecks = smtp\n"
	"[group a]\nservers = mx1 mx2\nzones = example.com example.net\nrecords = mx\n"
	"[group b]\nservers = mx2 mx1\nzones = example.org example.com\nrecords = smtp\n";

/* Install @body as the stand-in ssh. */
static void
fake_ssh(const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ssh", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s/argv'\n%s\n", dir, body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static struct queue_result got;
static struct queue_zone got_zones[4];
static int calls;

static void
on_done(void *arg, const struct queue_result *r)
{
	(void)arg;
	calls++;
	got = *r;
	assert_true(r->nzones <= 4);
	memcpy(got_zones, r->zones, r->nzones * sizeof(*r->zones));
}

/* Read mx2's queue with the stand-in; @return the result (copied). */
static const struct queue_result *
run(uint64_t timeout_ms)
{
	struct config *cfg = NULL;
	struct config_errors errs = {0};
	struct event_base *base = event_base_new();
	struct queue_read *r = NULL;
	char *zones[8];
	size_t nz;
	char err[200];

	assert_non_null(base);
	assert_int_equal(config_load_string("t.conf", conf, &cfg, &errs), 0);
	nz = queue_read_server_zones(cfg, 1, zones, 8);
	calls = 0;
	assert_int_equal(queue_read_start(base, cfg->servers[1].queue, zones, nz, timeout_ms,
					  on_done, NULL, &r, err, sizeof(err)),
			 0);
	for (int i = 0; i < 100000 && calls == 0; i++)
		assert_true(event_base_loop(base, EVLOOP_ONCE) >= 0);
	assert_int_equal(calls, 1);
	queue_read_free(r);
	proc_release(base);
	event_base_free(base);
	config_free(cfg);
	config_errors_free(&errs);
	got.zones = got_zones;
	return &got;
}

static int
setup(void **state)
{
	char path[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s:%s", dir,
		 getenv("PATH") != NULL ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_server_zones(void **state)
{
	struct config *cfg = NULL;
	struct config_errors errs = {0};
	char *zones[8];

	(void)state;
	assert_int_equal(config_load_string("t.conf", conf, &cfg, &errs), 0);
	/* mx2 is in both groups: their zones, each once, in config order. */
	assert_int_equal(queue_read_server_zones(cfg, 1, zones, 8), 3);
	assert_string_equal(zones[0], "example.com.");
	assert_string_equal(zones[1], "example.net.");
	assert_string_equal(zones[2], "example.org.");
	assert_int_equal(queue_read_server_zones(cfg, 1, zones, 2), 2);
	assert_int_equal(queue_read_server_zones(cfg, 2, zones, 8), 0);
	assert_null(cfg->servers[0].queue);
	assert_string_equal(cfg->servers[1].queue->user, "mxq");
	assert_string_equal(cfg->servers[1].queue->host, "127.0.0.2");
	assert_int_equal(cfg->servers[1].queue->port, 2222);
	config_free(cfg);
	config_errors_free(&errs);
}

static void
test_messages(void **state)
{
	const struct queue_result *r;
	char path[300], argv[512];
	FILE *f;
	size_t n;

	(void)state;
	fake_ssh("cat <<'J'\n"
		 "{\"queue_name\": \"deferred\", \"queue_id\": \"A1\", \"arrival_time\": 1000, "
		 "\"message_size\": 10, \"sender\": \"s@x.org\", \"recipients\": [{\"address\": "
		 "\"u@example.org\", \"delay_reason\": \"connect to mx1: Connection refused\"}]}\n"
		 "J");
	r = run(10000);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->sum.total, 1);
	assert_int_equal(r->sum.matched, 1);
	assert_int_equal(r->nzones, 3);
	assert_int_equal(r->zones[2].messages, 1);
	assert_string_equal(r->zones[2].oldest_reason, "connect to mx1: Connection refused");
	/* ssh in batch mode, host keys checked, the fixed command last. */
	snprintf(path, sizeof(path), "%s/argv", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(argv, 1, sizeof(argv) - 1, f);
	fclose(f);
	argv[n] = '\0';
	assert_non_null(strstr(argv, "BatchMode=yes\n"));
	assert_non_null(strstr(argv, "StrictHostKeyChecking=yes\n"));
	assert_non_null(strstr(argv, "-p\n2222\n--\nmxq@127.0.0.2\npostqueue -j\n"));
}

static void
test_ssh_refused(void **state)
{
	const struct queue_result *r;

	(void)state;
	fake_ssh("echo 'ssh: connect to host 127.0.0.2 port 2222: Connection refused' >&2; exit "
		 "255");
	r = run(10000);
	assert_int_equal(r->rc, MXF_ECONNREFUSED);
	assert_string_equal(r->error,
			    "ssh: connect to host 127.0.0.2 port 2222: Connection refused");
}

static void
test_ssh_host_key(void **state)
{
	const struct queue_result *r;

	(void)state;
	fake_ssh("echo '@@@@@@@@@@@@@@@@@@@@@' >&2\n"
		 "echo 'No ED25519 host key is known for [127.0.0.2]:2222 and you have requested "
		 "strict checking.' >&2\n"
		 "echo 'Host key verification failed.' >&2; exit 255");
	r = run(10000);
	assert_int_equal(r->rc, MXF_ENET);
	assert_non_null(strstr(r->error, "ssh: No ED25519 host key is known"));
	assert_non_null(strstr(r->error, "strict checking. (Host key verification failed.)"));
}

static void
test_postqueue_fails(void **state)
{
	const struct queue_result *r;

	(void)state;
	fake_ssh(
		"echo 'postqueue: fatal: Queue report unavailable - mail system is down'; exit 69");
	r = run(10000);
	assert_int_equal(r->rc, MXF_EPROTO);
	assert_non_null(strstr(r->error, "exit status 69"));
	assert_non_null(strstr(r->error, "mail system is down"));
}

static void
test_garbage(void **state)
{
	const struct queue_result *r;

	(void)state;
	fake_ssh("echo 'this is not json'");
	r = run(10000);
	assert_int_equal(r->rc, MXF_EPROTO);
	assert_non_null(strstr(r->error, "line 1: not JSON"));
}

static void
test_flood_is_bounded(void **state)
{
	const struct queue_result *r;

	(void)state;
	/* 20 MB of messages: read up to the maximum, counted as "at least". */
	fake_ssh("i=0; line='{\"queue_id\": \"A\", \"arrival_time\": 5, \"recipients\": "
		 "[{\"address\": \"a@example.com\"}]}'\n"
		 "l8=\"$line\n$line\n$line\n$line\n$line\n$line\n$line\n$line\"\n"
		 "l64=\"$l8\n$l8\n$l8\n$l8\n$l8\n$l8\n$l8\n$l8\"\n"
		 "while [ $i -lt 3000 ]; do printf '%s\\n' \"$l64\"; i=$((i+1)); done");
	r = run(60000);
	assert_int_equal(r->rc, 0);
	assert_true(r->sum.truncated);
	assert_true(r->sum.matched > 1000);
	assert_true(r->sum.matched < 3000 * 64);
	assert_int_equal(r->zones[0].messages, r->sum.matched);
}

static void
test_hang_times_out(void **state)
{
	const struct queue_result *r;

	(void)state;
	fake_ssh("exec sleep 30");
	r = run(600);
	assert_int_equal(r->rc, MXF_ETIMEDOUT);
	assert_non_null(strstr(r->error, "timed out"));
	assert_true(r->took_ms < 5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_zones),	 cmocka_unit_test(test_messages),
		cmocka_unit_test(test_ssh_refused),	 cmocka_unit_test(test_ssh_host_key),
		cmocka_unit_test(test_postqueue_fails),	 cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_flood_is_bounded), cmocka_unit_test(test_hang_times_out),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
