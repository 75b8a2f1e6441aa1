/*
 * check_exec.c -- exec:/path/to/plugin arg...: the Monitoring Plugins
 * convention.  Exit 0 is up, 1 warning, 2 (CRITICAL) and 3 (UNKNOWN) down;
 * the first output line, without its "|perfdata" part, is the reason.  The
 * program runs without a shell and is killed at the deadline.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "check_impl.h"

static void
exec_done(struct check *c, int st, const char *out, size_t len)
{
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
	if (st < 0) {
		check_finish(c, CHECK_STATE_DOWN, "lost the command's exit status");
	} else if (WIFSIGNALED(st)) {
		check_finish(c, CHECK_STATE_DOWN, "killed by signal %d: %s", WTERMSIG(st), q);
	} else {
		switch (WEXITSTATUS(st)) {
		case 0:
			check_finish(c, CHECK_STATE_UP, "%s", q);
			break;
		case 1:
			check_finish(c, CHECK_STATE_WARNING, "%s", q);
			break;
		case 2:
			check_finish(c, CHECK_STATE_DOWN, "%s", q);
			break;
		case 3:
			check_finish(c, CHECK_STATE_DOWN, "UNKNOWN: %s", q);
			break;
		default:
			check_finish(c, CHECK_STATE_DOWN, "exit status %d: %s", WEXITSTATUS(st), q);
			break;
		}
	}
}

static int
exec_start(struct check *c)
{
	return check_proc_spawn(c, check_target(c)->argv, exec_done);
}

const struct check_ops check_exec_ops = {
	.scheme = "exec",
	.flags = CHECK_F_NOHOST,
	.max_line = 512,
	.start = exec_start,
};
