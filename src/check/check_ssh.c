/*
 * check_ssh.c -- ssh-disk://, ssh-socket://, ssh-fsck://: one fixed command
 * run on the mail server through the system OpenSSH client, in batch mode
 * with host key checking on, so a forced-command key (command="..." in
 * authorized_keys) can restrict the monitor to exactly that command and no
 * root login is needed.  The output is parsed strictly: anything that is
 * not the expected shape is down with the output quoted.
 *
 *   ssh-disk   df -P 'PATH'                 down at >= limit % (default 90)
 *   ssh-socket test -S 'PATH' && echo OK    down unless exactly "OK"
 *   ssh-fsck   fsck -n 'DEVICE'             down unless exit status 0
 *   ssh-fsck with script=/PATH                 down unless it prints exactly "0"
 *              (DNS_Failover's HD_fsck.sh prints the number of damaged
 *              file systems)
 *
 * ssh's own failures (exit 255: refused, host key, authentication) are down
 * with ssh's message.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check_impl.h"
#include "mxf.h"

struct ssh_state {
	struct proc *proc;
	char *argv[16];
	char *cmd;
	char *dest;
	char opt_timeout[40];
	char port[8];
};

/* Single-quote @s for the remote POSIX shell.  @return malloc'ed or NULL. */
static char *
shell_quote(const char *s)
{
	size_t n = 2;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	o = out;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* The first line of @out, quoted, for reasons. */
static void
first_line(const char *out, size_t len, char *q, size_t qsize)
{
	size_t n = strcspn(out, "\n");

	if (n > len)
		n = len;
	if (n == 0)
		snprintf(q, qsize, "(no output)");
	else
		check_quote(out, n, q, qsize);
}

/*
 * What ssh said when it failed (exit 255).  Usually one line ("connect to
 * host ... Connection refused", "Permission denied (publickey)."), but a
 * host key problem is two or more: the specific line, then "Host key
 * verification failed.", and for a changed key a banner of '@' lines before
 * them.  Quote the line that says what is wrong, and the verdict after it.
 */
static void
ssh_failure_text(const char *out, size_t len, char *q, size_t qsize)
{
	static const char hkvf[] = "Host key verification failed.";
	const char *p = out, *end = out + len, *prev = NULL, *first = NULL;
	size_t prevlen = 0, firstlen = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (nl != NULL ? nl : end) - p;

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && p[0] != '@') {
			if (n == sizeof(hkvf) - 1 && memcmp(p, hkvf, n) == 0 && prev != NULL) {
				char spec[160];

				check_quote(prev, prevlen, spec, sizeof(spec));
				snprintf(q, qsize, "%s (%s)", spec, hkvf);
				return;
			}
			if (first == NULL)
				first = p, firstlen = n;
			prev = p, prevlen = n;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (first == NULL)
		snprintf(q, qsize, "(no output)");
	else
		check_quote(first, firstlen, q, qsize);
}

static void
ssh_disk_parse(struct check *c, const char *out, size_t len)
{
	const struct check_url *u = check_get_url(c);
	const char *l2 = memchr(out, '\n', len);
	char fs[256], mnt[256], q[200];
	unsigned long long blocks, used, avail;
	int pct, n = 0;

	check_quote(out, len, q, sizeof(q));
	if (strncmp(out, "Filesystem", 10) != 0 || l2 == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "unexpected df output: \"%s\"", q);
		return;
	}
	l2++;
	if (sscanf(l2, "%255s %llu %llu %llu %d%% %255s%n", fs, &blocks, &used, &avail, &pct, mnt, &n) != 6 ||
	    pct < 0 || pct > 100) {
		check_finish(c, CHECK_STATE_DOWN, "unexpected df output: \"%s\"", q);
		return;
	}
	/* Exactly two lines: anything after the data line is unexpected. */
	for (const char *p = l2 + n; p < out + len; p++) {
		if (!isspace((unsigned char)*p)) {
			check_finish(c, CHECK_STATE_DOWN, "unexpected df output: \"%s\"", q);
			return;
		}
	}
	check_quote(mnt, strlen(mnt), q, sizeof(q));
	check_finish(c, pct >= (int)u->limit ? CHECK_STATE_DOWN : CHECK_STATE_UP,
		     "%s is %d%% full (limit %u%%)", q, pct, u->limit);
}

static void
ssh_done(void *arg, int st, const char *out, size_t len)
{
	struct check *c = arg;
	const struct check_url *u = check_get_url(c);
	char q[200];
	int code;

	first_line(out, len, q, sizeof(q));
	if (st < 0 || WIFSIGNALED(st)) {
		check_finish(c, CHECK_STATE_DOWN, "ssh ended abnormally: %s", q);
		return;
	}
	code = WEXITSTATUS(st);
	if (code == 255) {
		ssh_failure_text(out, len, q, sizeof(q));
		/* ssh's own messages often start "ssh: " already. */
		check_finish(c, CHECK_STATE_DOWN, "%s%s", strncmp(q, "ssh: ", 5) == 0 ? "" : "ssh: ", q);
		return;
	}
	switch (u->scheme) {
	case CHECK_SCHEME_SSH_DISK:
		if (code != 0) {
			check_finish(c, CHECK_STATE_DOWN, "df exit status %d: %s", code, q);
			return;
		}
		ssh_disk_parse(c, out, len);
		return;
	case CHECK_SCHEME_SSH_SOCKET:
		if (code == 0 && (strcmp(out, "OK\n") == 0 || strcmp(out, "OK\r\n") == 0))
			check_finish(c, CHECK_STATE_UP, "socket %s exists", u->path);
		else if (code == 1 && len == 0)
			check_finish(c, CHECK_STATE_DOWN, "no socket at %s", u->path);
		else
			check_finish(c, CHECK_STATE_DOWN, "unexpected output (exit status %d): \"%s\"", code, q);
		return;
	default: /* CHECK_SCHEME_SSH_FSCK */
		if (u->script != NULL) {
			if (code == 0 && (strcmp(out, "0\n") == 0 || strcmp(out, "0\r\n") == 0 ||
					  strcmp(out, "0") == 0))
				check_finish(c, CHECK_STATE_UP, "%s: 0", u->script);
			else
				check_finish(c, CHECK_STATE_DOWN, "%s (exit status %d): \"%s\"",
					     u->script, code, q);
			return;
		}
		if (code == 0)
			check_finish(c, CHECK_STATE_UP, "fsck -n %s: clean", u->path);
		else
			check_finish(c, CHECK_STATE_DOWN, "fsck -n %s exit status %d: %s", u->path, code, q);
		return;
	}
}

static int
ssh_start(struct check *c)
{
	const struct check_url *u = check_get_url(c);
	struct ssh_state *st = check_priv(c);
	char *qpath;
	uint64_t secs;
	size_t n = 0;
	int len;

	qpath = shell_quote(u->path);
	if (qpath == NULL)
		goto nomem;
	switch (u->scheme) {
	case CHECK_SCHEME_SSH_DISK:
		len = asprintf(&st->cmd, "df -P %s", qpath);
		break;
	case CHECK_SCHEME_SSH_SOCKET:
		len = asprintf(&st->cmd, "test -S %s && echo OK", qpath);
		break;
	default: /* CHECK_SCHEME_SSH_FSCK */
		if (u->script != NULL)
			len = asprintf(&st->cmd, "%s", u->script); /* shell-inert, checked by check_url */
		else
			len = asprintf(&st->cmd, "fsck -n %s", qpath);
		break;
	}
	free(qpath);
	if (len < 0) {
		st->cmd = NULL;
		goto nomem;
	}
	if (u->user != NULL)
		len = asprintf(&st->dest, "%s@%s", u->user, u->host);
	else
		len = asprintf(&st->dest, "%s", u->host);
	if (len < 0) {
		st->dest = NULL;
		goto nomem;
	}
	/* Leave ssh a second less than the check so its own message wins. */
	secs = check_remaining_ms(c) / 1000;
	snprintf(st->opt_timeout, sizeof(st->opt_timeout), "ConnectTimeout=%llu",
		 (unsigned long long)(secs > 1 ? secs - 1 : 1));
	snprintf(st->port, sizeof(st->port), "%u", u->port);
	st->argv[n++] = "ssh";
	st->argv[n++] = "-o";
	st->argv[n++] = "BatchMode=yes";
	st->argv[n++] = "-o";
	st->argv[n++] = "StrictHostKeyChecking=yes";
	st->argv[n++] = "-o";
	st->argv[n++] = st->opt_timeout;
	st->argv[n++] = "-p";
	st->argv[n++] = st->port;
	st->argv[n++] = "--";
	st->argv[n++] = st->dest;
	st->argv[n++] = st->cmd;
	st->argv[n] = NULL;
	return check_exec_spawn(c, &st->proc, st->argv, ssh_done);
nomem:
	check_finish(c, CHECK_STATE_DOWN, "out of memory");
	return MXF_ENOMEM;
}

static void
ssh_cleanup(struct check *c)
{
	struct ssh_state *st = check_priv(c);

	/* First the process: it may still run when the deadline ended the check. */
	proc_free(st->proc);
	st->proc = NULL;
	free(st->cmd);
	free(st->dest);
	st->cmd = st->dest = NULL;
}

const struct check_ops check_ssh_ops = {
	.max_line = 512,
	.state_size = sizeof(struct ssh_state),
	.start = ssh_start,
	.cleanup = ssh_cleanup,
};
