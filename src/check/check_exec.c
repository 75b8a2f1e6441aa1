/*
 * check_exec.c -- exec:/path/to/plugin arg...: the Monitoring Plugins
 * convention.  Exit 0 is up, 1 warning, 2 (CRITICAL) and 3 (UNKNOWN) down;
 * the first output line, without its "|perfdata" part, is the reason.  The
 * program runs without a shell (proc.h) and is killed with its process
 * group at the deadline.
 *
 * check_exec_spawn() is the glue between proc and a check, which the ssh-*
 * checks use too.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "check_impl.h"
#include "mxf.h"

struct exec_state {
	struct proc *proc;
};

int
check_exec_spawn(struct check *c, struct proc **pp, char *const argv[], proc_done_fn done)
{
	char err[CHECK_REASON_MAX];
	int rc;

	check_set_phase(c, CHECK_PHASE_EXEC);
	rc = proc_run(check_base(c), argv, NULL, done, c, pp, err, sizeof(err));
	if (rc != 0)
		check_finish(c, CHECK_STATE_DOWN, "%s", err);
	return rc;
}

/* The Monitoring Plugins exit codes 0..3: OK, WARNING, CRITICAL, UNKNOWN. */
static const struct {
	enum check_state state;
	const char *prefix;
} exec_codes[] = {
	{CHECK_STATE_UP, ""},
	{CHECK_STATE_WARNING, ""},
	{CHECK_STATE_DOWN, ""},
	{CHECK_STATE_DOWN, "UNKNOWN: "},
};

static void
exec_done(void *arg, int st, const char *out, size_t len)
{
	struct check *c = arg;
	size_t n = strcspn(out, "\n");
	const char *bar = memchr(out, '|', n);
	char q[200];

	if (bar != NULL)
		n = (size_t)(bar - out);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\r'))
		n--;
	check_quote(out, n, q, sizeof(q));
	if (n == 0)
		snprintf(q, sizeof(q), "(no output)");
	if (st < 0)
		check_finish(c, CHECK_STATE_DOWN, "lost the command's exit status");
	else if (WIFSIGNALED(st))
		check_finish(c, CHECK_STATE_DOWN, "killed by signal %d: %s", WTERMSIG(st), q);
	else if ((unsigned)WEXITSTATUS(st) < MXF_ARRAY_SIZE(exec_codes))
		check_finish(c, exec_codes[WEXITSTATUS(st)].state, "%s%s",
			     exec_codes[WEXITSTATUS(st)].prefix, q);
	else
		check_finish(c, CHECK_STATE_DOWN, "exit status %d: %s", WEXITSTATUS(st), q);
}

static int
exec_start(struct check *c)
{
	struct exec_state *st = check_priv(c);

	return check_exec_spawn(c, &st->proc, check_get_url(c)->argv, exec_done);
}

static void
exec_cleanup(struct check *c)
{
	struct exec_state *st = check_priv(c);

	proc_free(st->proc);
	st->proc = NULL;
}

const struct check_ops check_exec_ops = {
	.max_line = 512,
	.state_size = sizeof(struct exec_state),
	.start = exec_start,
	.cleanup = exec_cleanup,
};
