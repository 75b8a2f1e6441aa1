/*
 * notify_exec.c -- the exec channel: run the configured program, without a
 * shell, with the event in its environment (notify_text_env: MXF_EVENT,
 * MXF_GROUP, ...).
 *
 * The program runs through the process API (check_proc_run: stdin from
 * /dev/null, output captured, own process group) on the notifier's loop,
 * with a kill timer of opts.exec_timeout_ms.  Exit status 0 is delivered;
 * any other end is a failed attempt, retried, whose reason quotes the first
 * line of the program's output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <event2/event.h>

#include "check_proc.h"
#include "config.h"
#include "mxf.h"
#include "notify_impl.h"
#include "notify_text.h"
#include "proto.h"

#define EXEC_ARGS_MAX 32

extern char **environ;

struct exec {
	char **argv;
};

static void
exec_state_free(void *state)
{
	struct exec *x = state;

	notify_strv_free(x->argv);
	free(x);
}

/* The command line, split at blanks (no quoting: no shell either). */
static int
split_argv(const char *cmd, char ***out)
{
	char **v = calloc(EXEC_ARGS_MAX + 1, sizeof(*v));
	size_t n = 0;
	const char *p = cmd;

	if (v == NULL)
		return MXF_ENOMEM;
	while (*p != '\0') {
		size_t l;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		l = strcspn(p, " \t");
		if (n == EXEC_ARGS_MAX) {
			notify_strv_free(v);
			return MXF_ETOOBIG;
		}
		if ((v[n++] = strndup(p, l)) == NULL) {
			notify_strv_free(v);
			return MXF_ENOMEM;
		}
		p += l;
	}
	if (n == 0) {
		free(v);
		return MXF_EINVAL;
	}
	*out = v;
	return 0;
}

static int
exec_setup(struct notify *n, const struct config_notify *cfg, void **state, char *err,
	   size_t errsize)
{
	struct exec *x;
	int rc;

	if (cfg->exec == NULL)
		return 0;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return MXF_ENOMEM;
	rc = split_argv(cfg->exec, &x->argv);
	if (rc != 0) {
		snprintf(err, errsize, rc == MXF_ENOMEM ? "out of memory" :
			 "exec: '%s' is not a program with arguments", cfg->exec);
		free(x);
		return rc;
	}
	*state = x;
	return 0;
}

static void
exec_done(void *arg, int wstatus, const char *out, size_t len)
{
	struct notify_delivery *d = arg;
	char why[300], line[160];
	size_t l = strcspn(out, "\n");

	/* @out belongs to the process: copy what is needed before freeing it. */
	proto_printable(line, sizeof(line), out, l);
	check_proc_free(d->proc);
	d->proc = NULL;
	event_del(d->kill_ev);
	if (wstatus != -1 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		notify_attempt_done(d, true, false, NULL);
		return;
	}
	if (wstatus == -1)
		snprintf(why, sizeof(why), "cannot read its exit status");
	else if (WIFEXITED(wstatus))
		snprintf(why, sizeof(why), "exited with status %d%s%s", WEXITSTATUS(wstatus),
			 line[0] != '\0' ? ": " : "", line);
	else if (WIFSIGNALED(wstatus))
		snprintf(why, sizeof(why), "killed by signal %d%s%s", WTERMSIG(wstatus),
			 line[0] != '\0' ? ": " : "", line);
	else
		snprintf(why, sizeof(why), "ended with wait status %d", wstatus);
	notify_attempt_done(d, false, true, why);
}

static void
exec_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify_delivery *d = arg;
	char why[96];

	/* Freeing kills the whole process group and reaps the child. */
	check_proc_free(d->proc);
	d->proc = NULL;
	snprintf(why, sizeof(why), "killed after %.1f s (timeout)",
		 (double)notify_opts_of(d->n)->exec_timeout_ms / 1000.0);
	notify_attempt_done(d, false, true, why);
}

static void
exec_start(struct notify_delivery *d)
{
	const struct exec *x = d->chan;
	uint64_t timeout_ms = notify_opts_of(d->n)->exec_timeout_ms;
	char why[300];
	char **envp = notify_text_env(&d->nt->e, environ);
	struct timeval tv;
	int rc;

	if (envp == NULL) {
		notify_attempt_done(d, false, true, "out of memory");
		return;
	}
	if (d->kill_ev == NULL)
		d->kill_ev = evtimer_new(notify_base(d->n), exec_kill_cb, d);
	if (d->kill_ev == NULL) {
		notify_strv_free(envp);
		notify_attempt_done(d, false, true, "out of memory");
		return;
	}
	rc = check_proc_run(notify_base(d->n), x->argv, envp, exec_done, d, &d->proc, why,
			    sizeof(why));
	notify_strv_free(envp);
	if (rc != 0) {
		notify_attempt_done(d, false, rc != MXF_EIO, why);
		return;
	}
	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000 * 1000);
	evtimer_add(d->kill_ev, &tv);
}

static void
exec_cancel(struct notify_delivery *d)
{
	if (d->proc != NULL)
		check_proc_free(d->proc);
	d->proc = NULL;
	if (d->kill_ev != NULL)
		event_free(d->kill_ev);
	d->kill_ev = NULL;
}

static const char *
exec_peer(const struct notify_delivery *d, char *buf, size_t size)
{
	const struct exec *x = d->chan;

	snprintf(buf, size, "%s", x->argv[0]);
	return buf;
}

const struct notify_channel_ops notify_exec_ops = {
	.name = "exec",
	.setup = exec_setup,
	.state_free = exec_state_free,
	.payload = NULL,
	.start = exec_start,
	.cancel = exec_cancel,
	.peer = exec_peer,
};
