/*
 * test_proc.c -- proc.c on a real event loop with real programs (/bin/sh):
 * exit status, output capture and its 4 KiB cap, the deadline killing a
 * whole process group, a program that does not exist, freeing a running
 * process, and a process that SIGKILL cannot end (held by a tracer: its
 * parent cannot reap it) which must never block the loop.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "log.h"
#include "mxf.h"
#include "proc.h"

struct run {
	struct event_base *base;
	struct proc *p;
	int calls;
	int wstatus;
	size_t len;
	char out[PROC_OUT_MAX + 1];
	bool free_in_cb;
};

static void
run_done(void *arg, int wstatus, const char *out, size_t len)
{
	struct run *r = arg;

	r->calls++;
	r->wstatus = wstatus;
	r->len = len;
	assert_true(len <= PROC_OUT_MAX);
	assert_int_equal(out[len], '\0');
	memcpy(r->out, out, len + 1);
	if (r->free_in_cb) {
		proc_free(r->p);
		r->p = NULL;
	}
	event_base_loopbreak(r->base);
}

/* Run "sh -c @script" to its end (or 10 s) on a fresh loop. */
static void
run_sh(struct run *r, const char *script, uint64_t deadline_ms)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	char err[160];
	struct timeval guard = {10, 0};

	memset(r, 0, sizeof(*r));
	r->base = event_base_new();
	assert_non_null(r->base);
	r->free_in_cb = true;
	assert_int_equal(proc_run(r->base, argv, NULL, run_done, r, &r->p, err, sizeof(err)), 0);
	assert_non_null(r->p);
	if (deadline_ms > 0)
		assert_int_equal(proc_set_deadline(r->p, deadline_ms), 0);
	event_base_loopexit(r->base, &guard);
	event_base_dispatch(r->base);
}

static void
run_end(struct run *r)
{
	proc_free(r->p);
	event_base_free(r->base);
}

static void
test_exit_status(void **state)
{
	struct run r;

	run_sh(&r, "exit 3", 0);
	assert_int_equal(r.calls, 1);
	assert_true(WIFEXITED(r.wstatus));
	assert_int_equal(WEXITSTATUS(r.wstatus), 3);
	assert_int_equal(r.len, 0);
	run_end(&r);

	run_sh(&r, "kill -TERM $$", 0);
	assert_int_equal(r.calls, 1);
	assert_true(WIFSIGNALED(r.wstatus));
	assert_int_equal(WTERMSIG(r.wstatus), SIGTERM);
	run_end(&r);
}

static void
test_output(void **state)
{
	struct run r;

	/* stdout and stderr into one buffer; stdin is /dev/null. */
	run_sh(&r, "echo out; echo err >&2; cat; exit 0", 0);
	assert_int_equal(r.calls, 1);
	assert_true(WIFEXITED(r.wstatus));
	assert_int_equal(WEXITSTATUS(r.wstatus), 0);
	assert_string_equal(r.out, "out\nerr\n");
	run_end(&r);
}

static void
test_output_cap(void **state)
{
	struct run r;

	/* 100 KiB of output: the child never blocks, 4 KiB are kept. */
	run_sh(&r, "head -c 102400 /dev/zero | tr '\\0' x; echo; exit 7", 0);
	assert_int_equal(r.calls, 1);
	assert_true(WIFEXITED(r.wstatus));
	assert_int_equal(WEXITSTATUS(r.wstatus), 7);
	assert_int_equal(r.len, PROC_OUT_MAX);
	for (size_t i = 0; i < r.len; i++)
		assert_int_equal(r.out[i], 'x');
	run_end(&r);
}

static bool
pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* Wait up to 2 s for @pid (not our child: reaped by init) to disappear. */
static bool
pid_gone(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		if (!pid_alive(pid))
			return true;
		usleep(10000);
	}
	return false;
}

static void
test_deadline_kills_group(void **state)
{
	struct run r;
	struct timespec t0, t1;
	long ms;
	pid_t grandchild;
	char *end;

	/* The shell starts a grandchild in its process group, prints its
	 * pid and waits: the deadline must kill both. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_sh(&r, "sleep 30 & echo $!; wait", 200);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_int_equal(r.calls, 1);
	assert_true(WIFSIGNALED(r.wstatus));
	assert_int_equal(WTERMSIG(r.wstatus), SIGKILL);
	assert_true(ms >= 150 && ms < 5000);
	grandchild = (pid_t)strtol(r.out, &end, 10);
	assert_true(grandchild > 0);
	assert_true(pid_gone(grandchild));
	run_end(&r);
}

static void
test_timed_out_flag(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "exit 0", NULL};
	char err[160];
	struct run r;

	memset(&r, 0, sizeof(r));
	r.base = event_base_new();
	assert_int_equal(proc_run(r.base, argv, NULL, run_done, &r, &r.p, err, sizeof(err)), 0);
	/* A far deadline that the program beats. */
	assert_int_equal(proc_set_deadline(r.p, 60000), 0);
	event_base_dispatch(r.base);
	assert_int_equal(r.calls, 1);
	assert_false(proc_timed_out(r.p));
	assert_true(WIFEXITED(r.wstatus));
	run_end(&r);

	memset(&r, 0, sizeof(r));
	argv[2] = "exec sleep 30";
	r.base = event_base_new();
	assert_int_equal(proc_run(r.base, argv, NULL, run_done, &r, &r.p, err, sizeof(err)), 0);
	assert_int_equal(proc_set_deadline(r.p, 50), 0);
	event_base_dispatch(r.base);
	assert_int_equal(r.calls, 1);
	assert_true(proc_timed_out(r.p));
	run_end(&r);
}

static void
test_missing_program(void **state)
{
	char *argv[] = {"/nonexistent/mxf-no-such-program", NULL};
	struct event_base *base = event_base_new();
	struct proc *p = (struct proc *)1;
	char err[160] = "";
	struct run r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(proc_run(base, argv, NULL, run_done, &r, &p, err, sizeof(err)), MXF_EIO);
	assert_null(p);
	assert_string_equal(err, "cannot run /nonexistent/mxf-no-such-program: No such file or directory");
	/* Nothing is pending: the loop ends at once and @done never ran. */
	event_base_dispatch(base);
	assert_int_equal(r.calls, 0);
	event_base_free(base);
}

static void
test_free_running(void **state)
{
	char path[] = "/tmp/mxf-test-proc-XXXXXX";
	char script[200], buf[32] = "";
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct event_base *base = event_base_new();
	struct timeval tv = {0, 300000};
	char err[160];
	struct run r;
	pid_t grandchild;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; wait", path);
	memset(&r, 0, sizeof(r));
	r.base = base;
	assert_int_equal(proc_run(base, argv, NULL, run_done, &r, &r.p, err, sizeof(err)), 0);
	/* Let the shell start its grandchild, then give up on it. */
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_int_equal(r.calls, 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(path);
	grandchild = (pid_t)atoi(buf);
	assert_true(grandchild > 0);
	assert_true(pid_alive(grandchild));
	proc_free(r.p);
	r.p = NULL;
	/* The whole group is killed, and @done is never called. */
	assert_true(pid_gone(grandchild));
	event_base_dispatch(base);
	assert_int_equal(r.calls, 0);
	event_base_free(base);
	/* NULL is accepted. */
	proc_free(NULL);
}

/*
 * A tracer for @pid in a process of its own: after SIGKILL, a traced child
 * is a zombie its parent (we) cannot reap until the tracer has waited for
 * it, which it does when @release is closed.  @return the tracer's pid, or
 * 0 when ptrace is not allowed here.
 */
static pid_t
tracer_start(pid_t pid, int *release)
{
	int ready[2], rel[2];
	char c;
	pid_t t;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(rel), 0);
	t = fork();
	assert_true(t >= 0);
	if (t == 0) {
		close(ready[0]);
		close(rel[1]);
		c = ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || c != 'y')
			_exit(1);
		while (read(rel[0], &c, 1) < 0 && errno == EINTR)
			;
		/* Reap the tracee: its real parent may reap it after this. */
		waitpid(pid, NULL, __WALL);
		_exit(0);
	}
	close(ready[1]);
	close(rel[0]);
	if (read(ready[0], &c, 1) != 1 || c != 'y') {
		close(ready[0]);
		close(rel[1]);
		waitpid(t, NULL, 0);
		return 0;
	}
	close(ready[0]);
	*release = rel[1];
	return t;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* How many times @needle is in the file @path. */
static int
count_in_file(const char *path, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;
	int count = 0;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *s = buf; (s = strstr(s, needle)) != NULL; s += strlen(needle))
		count++;
	return count;
}

/* Run @base one pass at a time until @until_ms has passed since @t0 or
 * @stop() is true (no loopexit timer left behind to wait for later). */
static void
spin(struct event_base *base, const struct timespec *t0, long until_ms, bool (*stop)(void *),
     void *arg)
{
	struct timeval tick = {0, 50000};

	while (ms_since(t0) < until_ms && (stop == NULL || !stop(arg))) {
		event_base_loopexit(base, &tick);
		event_base_loop(base, EVLOOP_ONCE);
	}
}

static bool
graveyard_empty(void *arg)
{
	return proc_abandoned_count() == 0;
}

static bool
done_called(void *arg)
{
	return ((struct run *)arg)->calls > 0;
}

/* Run @base until the graveyard is empty (or 5 s). */
static void
drain_graveyard(struct event_base *base)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	spin(base, &t0, 5000, graveyard_empty, NULL);
	assert_int_equal(proc_abandoned_count(), 0);
}

static void
test_deadline_unreapable(void **state)
{
	char logpath[] = "/tmp/mxf-test-proc-log-XXXXXX";
	char *argv[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
	struct timespec t0;
	char err[160], needle[80];
	struct run r;
	pid_t pid, tracer;
	int release = -1, fd;
	long ms;

	fd = mkstemp(logpath);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open(logpath, LOG_STYLE_NATIVE), 0);
	memset(&r, 0, sizeof(r));
	r.base = event_base_new();
	assert_int_equal(proc_run(r.base, argv, NULL, run_done, &r, &r.p, err, sizeof(err)), 0);
	pid = proc_pid(r.p);
	tracer = tracer_start(pid, &release);
	if (tracer == 0) {
		proc_free(r.p);
		drain_graveyard(r.base);
		event_base_free(r.base);
		log_close();
		unlink(logpath);
		skip();
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(proc_set_deadline(r.p, 100), 0);
	spin(r.base, &t0, 10000, done_called, &r);
	ms = ms_since(&t0);
	/* SIGKILL at 100 ms, then the grace: abandoned, @done with -1. */
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.wstatus, -1);
	assert_true(ms >= PROC_KILL_GRACE_MS && ms < PROC_KILL_GRACE_MS + 3000);
	assert_int_equal(proc_abandoned_count(), 1);
	/* The loop goes on; the report is made once. */
	spin(r.base, &t0, ms + 500, NULL, NULL);
	snprintf(needle, sizeof(needle), "process %ld (plugin sh) will not die", (long)pid);
	log_close();
	assert_int_equal(count_in_file(logpath, needle), 1);
	/* Once the tracer lets go, the graveyard reaps it. */
	close(release);
	assert_int_equal(waitpid(tracer, NULL, 0), tracer);
	drain_graveyard(r.base);
	assert_int_equal(kill(pid, 0), -1);
	run_end(&r);
	unlink(logpath);
}

static void
test_free_unreapable(void **state)
{
	char logpath[] = "/tmp/mxf-test-proc-log-XXXXXX";
	char *argv[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
	struct event_base *base = event_base_new();
	struct timespec t0;
	char err[160], needle[80];
	struct run r;
	pid_t pid, tracer;
	int release = -1, fd;

	fd = mkstemp(logpath);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open(logpath, LOG_STYLE_NATIVE), 0);
	memset(&r, 0, sizeof(r));
	r.base = base;
	assert_int_equal(proc_run(base, argv, NULL, run_done, &r, &r.p, err, sizeof(err)), 0);
	pid = proc_pid(r.p);
	tracer = tracer_start(pid, &release);
	if (tracer == 0) {
		proc_free(r.p);
		drain_graveyard(base);
		event_base_free(base);
		log_close();
		unlink(logpath);
		skip();
	}
	/* Giving up on it returns at once: nothing waits for the child. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	proc_free(r.p);
	r.p = NULL;
	assert_true(ms_since(&t0) < 500);
	assert_int_equal(proc_abandoned_count(), 1);
	/* After the grace it is reported, once, and still watched. */
	spin(base, &t0, PROC_KILL_GRACE_MS + 500, NULL, NULL);
	assert_int_equal(proc_abandoned_count(), 1);
	snprintf(needle, sizeof(needle), "process %ld (plugin sh) will not die", (long)pid);
	log_close();
	assert_int_equal(count_in_file(logpath, needle), 1);
	close(release);
	assert_int_equal(waitpid(tracer, NULL, 0), tracer);
	drain_graveyard(base);
	assert_int_equal(r.calls, 0);
	proc_release(base);
	event_base_free(base);
	unlink(logpath);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_deadline_kills_group),
		cmocka_unit_test(test_timed_out_flag),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_free_running),
		cmocka_unit_test(test_deadline_unreapable),
		cmocka_unit_test(test_free_unreapable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
