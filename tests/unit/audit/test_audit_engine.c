/*
 * test_audit_engine.c -- the run's life cycle: done exactly once and never
 * from inside audit_run_start, a dead resolver gives "unresolved" within the
 * deadline, a cancelled run calls nothing, a bad name is refused up front.
 * (The lookups against real servers are tests/system/test_audit.py's.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "mxf.h"

struct outcome {
	int calls;
	size_t n;
	bool unresolved[2];
	bool has_finding[2];
};

static void
done_cb(struct audit_report *const *r, size_t n, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->n = n;
	for (size_t i = 0; i < n && i < 2; i++) {
		o->unresolved[i] = r[i]->unresolved;
		o->has_finding[i] = audit_report_find(r[i], "domain-unresolved", NULL) != NULL;
	}
}

/* A UDP port on 127.0.0.1 with nothing behind it (bound, then closed). */
static void
dead_resolver(struct audit_opts *o)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&o->resolver;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t len = sizeof(*a);

	memset(o, 0, sizeof(*o));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)a, sizeof(*a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)a, &len), 0);
	close(fd);
	o->resolver_len = sizeof(*a);
	o->timeout_ms = 1000;
}

static void
test_unresolved(void **state)
{
	struct event_base *base = event_base_new();
	struct audit_opts o;
	struct outcome out = {0};
	char *domains[] = {"example.test", "Example.NET."};
	struct audit_run *run;
	struct timespec t0, t1;
	int err = 0;

	(void)state;
	dead_resolver(&o);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run = audit_run_start(base, &o, domains, 2, done_cb, &out, &err);
	assert_non_null(run);
	assert_int_equal(out.calls, 0); /* never from inside the start */
	for (int i = 0; i < 1000 && out.calls == 0; i++)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(out.calls, 1);
	assert_int_equal(out.n, 2);
	assert_true(out.unresolved[0] && out.unresolved[1]);
	assert_true(out.has_finding[0] && out.has_finding[1]);
	/* Refused at once, not after the deadline. */
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	/* Nothing is left on the loop: the run freed itself. */
	assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 1);
	event_base_free(base);
}

static void
test_cancel(void **state)
{
	struct event_base *base = event_base_new();
	struct audit_opts o;
	struct outcome out = {0};
	char *domains[] = {"example.test"};
	struct audit_run *run;
	int err = 0;

	(void)state;
	dead_resolver(&o);
	run = audit_run_start(base, &o, domains, 1, done_cb, &out, &err);
	assert_non_null(run);
	audit_run_cancel(run);
	assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 1);
	assert_int_equal(out.calls, 0);
	event_base_free(base);
}

static void
test_bad_name(void **state)
{
	struct event_base *base = event_base_new();
	struct audit_opts o;
	struct outcome out = {0};
	char *domains[] = {"good.example", "bad name!"};
	int err = 0;

	(void)state;
	dead_resolver(&o);
	assert_null(audit_run_start(base, &o, domains, 2, done_cb, &out, &err));
	assert_int_equal(err, MXF_EINVAL);
	assert_null(audit_run_start(base, &o, domains, 0, done_cb, &out, &err));
	assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 1);
	assert_int_equal(out.calls, 0);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unresolved),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_bad_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
