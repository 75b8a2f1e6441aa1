/*
 * notify_exec.c -- the exec channel: run the configured program, without a
 * shell, with the event in its environment (notify_text_env: MXF_EVENT,
 * MXF_GROUP, ...).
 *
 * The program runs through the process API (proc.h: stdin from /dev/null,
 * output captured, own process group) on the notifier's loop, killed at a
 * deadline of opts.exec_timeout_ms.  The command line is split by argv.h,
 * the one grammar for programs named in the configuration.  Exit status 0
 * is delivered; any other end is a failed attempt, retried, whose reason
 * quotes the first line of the program's output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "argv.h"
#include "config.h"
#include "mxf.h"
#include "notify_impl.h"
#include "notify_text.h"
#include "proc.h"
#include "proto.h"
#include "value.h"

extern char **environ;

/* The state of the channel is the program's argument vector (char **). */
static void
exec_state_free(void *state)
{
	argv_free(state);
}

static int
exec_setup(struct notify *n, const struct config_notify *cfg, void **state, char *err,
	   size_t errsize)
{
	char **argv;
	int rc;

	if (cfg->exec == NULL)
		return 0;
	rc = argv_split(cfg->exec, CONFIG_NOTIFY_EXEC_ARGS_MAX, &argv);
	if (rc != 0) {
		snprintf(err, errsize, rc == MXF_ENOMEM ? "out of memory" :
			 "exec: '%s' is not a program with arguments", cfg->exec);
		return rc;
	}
	*state = argv;
	return 0;
}

static void
exec_done(void *arg, int wstatus, const char *out, size_t len)
{
	struct notify_delivery *d = arg;
	bool timed_out = proc_timed_out(d->proc);
	char why[300], line[160], dur[VALUE_DURATION_BUF];
	size_t l = strcspn(out, "\n");

	/* @out belongs to the process: copy what is needed before freeing it. */
	proto_printable(line, sizeof(line), out, l);
	proc_free(d->proc);
	d->proc = NULL;
	if (wstatus != -1 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		notify_attempt_done(d, true, false, NULL);
		return;
	}
	if (timed_out)
		snprintf(why, sizeof(why), "killed after %s (timeout)",
			 value_format_duration(notify_opts_of(d->n)->exec_timeout_ms, dur,
					       sizeof(dur)));
	else if (wstatus == -1)
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
exec_start(struct notify_delivery *d)
{
	char why[300];
	char **envp = notify_text_env(&d->nt->e, environ);
	int rc;

	if (envp == NULL) {
		notify_attempt_done(d, false, true, "out of memory");
		return;
	}
	rc = proc_run(notify_base(d->n), d->chan, envp, exec_done, d, &d->proc, why, sizeof(why));
	notify_strv_free(envp);
	if (rc != 0) {
		notify_attempt_done(d, false, rc != MXF_EIO, why);
		return;
	}
	if (proc_set_deadline(d->proc, notify_opts_of(d->n)->exec_timeout_ms) != 0) {
		/* Never a program without a deadline. */
		proc_free(d->proc);
		d->proc = NULL;
		notify_attempt_done(d, false, true, "out of memory");
	}
}

static void
exec_cancel(struct notify_delivery *d)
{
	/* Kills the whole process group and reaps the child; NULL is fine. */
	proc_free(d->proc);
	d->proc = NULL;
}

static const char *
exec_peer(const struct notify_delivery *d, char *buf, size_t size)
{
	char *const *argv = d->chan;

	snprintf(buf, size, "%s", argv[0]);
	return buf;
}

const struct notify_channel_ops notify_exec_ops = {
	.name = "exec",
	.setup = exec_setup,
	.state_free = exec_state_free,
	.start = exec_start,
	.cancel = exec_cancel,
	.peer = exec_peer,
};
