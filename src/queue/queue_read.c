/*
 * queue_read.c -- one run of `postqueue -j` over SSH (queue_read.h).
 *
 * The remote command is fixed ("postqueue -j"): a forced-command key
 * (command="postqueue -j" in authorized_keys) restricts the account to it,
 * and Postfix lets any user list the queue, so no root is needed.  The
 * output is kept up to QUEUE_OUT_MAX (proc drops the rest and says so) and
 * the whole run has one deadline.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "mxf.h"
#include "proc.h"
#include "queue_read.h"
#include "value.h"

#define QUEUE_READ_CMD "postqueue -j"

struct queue_read {
	struct proc *proc;
	queue_read_fn done;
	void *arg;
	uint64_t started_ms;
	uint64_t timeout_ms; /* the deadline as given, for the message */
	struct queue_result res;
	char **zone_names; /* owned copies; res.zones[i].zone borrows them */
};

int
queue_read_ssh_error(const char *out, size_t len, char *err, size_t errsize)
{
	static const char hkvf[] = "Host key verification failed.";
	const char *p = out, *end = out + len, *pick = NULL, *prev = NULL;
	size_t picklen = 0, prevlen = 0;
	bool hostkey = false;
	int rc = MXF_ENET;
	char q[240];

	/* The first line that is not a '@' banner line; for a host key
	 * problem, the line before the verdict says which. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && p[0] != '@') {
			if (n == sizeof(hkvf) - 1 && memcmp(p, hkvf, n) == 0) {
				hostkey = prev != NULL;
				if (prev != NULL)
					pick = prev, picklen = prevlen;
				else if (pick == NULL)
					pick = p, picklen = n;
				break;
			}
			if (pick == NULL)
				pick = p, picklen = n;
			prev = p, prevlen = n;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (pick == NULL) {
		snprintf(err, errsize, "ssh failed (no message)");
		return MXF_ENET;
	}
	value_utf8_clean(q, sizeof(q), pick, picklen);
	if (strstr(q, "Connection refused") != NULL)
		rc = MXF_ECONNREFUSED;
	else if (strstr(q, "timed out") != NULL)
		rc = MXF_ETIMEDOUT;
	snprintf(err, errsize, "%s%s%s%s", strncmp(q, "ssh: ", 5) == 0 ? "" : "ssh: ", q,
		 hostkey ? " " : "", hostkey ? "(Host key verification failed.)" : "");
	return rc;
}

/* The first line of @out, cleaned, for messages. */
static void
queue_read_first_line(const char *out, size_t len, char *q, size_t qsize)
{
	const char *nl = memchr(out, '\n', len);
	size_t n = nl != NULL ? (size_t)(nl - out) : len;

	if (n == 0)
		snprintf(q, qsize, "(no output)");
	else
		value_utf8_clean(q, qsize, out, n);
}

static void
queue_read_done(void *arg, int st, const char *out, size_t len)
{
	struct queue_read *r = arg;
	struct queue_result *res = &r->res;
	char q[200];

	res->took_ms = clock_mono_ms() - r->started_ms;
	if (proc_timed_out(r->proc)) {
		res->rc = MXF_ETIMEDOUT;
		char dur[VALUE_DURATION_BUF];

		snprintf(res->error, sizeof(res->error), "timed out after %s reading the queue",
			 value_format_duration(r->timeout_ms, dur, sizeof(dur)));
	} else if (st < 0 || WIFSIGNALED(st)) {
		queue_read_first_line(out, len, q, sizeof(q));
		res->rc = MXF_EIO;
		snprintf(res->error, sizeof(res->error), "ssh ended abnormally: %s", q);
	} else if (WEXITSTATUS(st) == 255) {
		res->rc = queue_read_ssh_error(out, len, res->error, sizeof(res->error));
	} else if (WEXITSTATUS(st) != 0) {
		queue_read_first_line(out, len, q, sizeof(q));
		res->rc = MXF_EPROTO;
		snprintf(res->error, sizeof(res->error), "postqueue -j exit status %d: %s",
			 WEXITSTATUS(st), q);
	} else {
		char perr[240];

		res->rc = queue_parse(out, len, proc_out_truncated(r->proc), res->zones,
				      res->nzones, &res->sum, perr, sizeof(perr));
		if (res->rc != 0)
			snprintf(res->error, sizeof(res->error), "postqueue -j output, %s", perr);
	}
	r->done(r->arg, res);
}

int
queue_read_start(struct event_base *base, const struct config_queue *q, char *const *zones,
		 size_t nzones, uint64_t timeout_ms, queue_read_fn done, void *arg,
		 struct queue_read **out, char *err, size_t errsize)
{
	struct queue_read *r;
	char opt_timeout[48], port[8], *dest = NULL;
	char *argv[16];
	size_t n = 0;
	uint64_t secs = timeout_ms / 1000;
	int rc;

	*out = NULL;
	if (nzones > QUEUE_ZONES_MAX) {
		snprintf(err, errsize, "more than %d zones", QUEUE_ZONES_MAX);
		return MXF_EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto nomem;
	r->done = done;
	r->arg = arg;
	r->res.nzones = nzones;
	r->res.zones = mxf_calloc(nzones, sizeof(*r->res.zones));
	r->zone_names = mxf_calloc(nzones, sizeof(*r->zone_names));
	if (r->res.zones == NULL || r->zone_names == NULL)
		goto nomem;
	for (size_t i = 0; i < nzones; i++) {
		if ((r->zone_names[i] = strdup(zones[i])) == NULL)
			goto nomem;
		r->res.zones[i].zone = r->zone_names[i];
	}
	if (asprintf(&dest, "%s@%s", q->user, q->host) < 0) {
		dest = NULL;
		goto nomem;
	}
	/* Leave ssh a second less than the whole so its own message wins. */
	snprintf(opt_timeout, sizeof(opt_timeout), "ConnectTimeout=%llu",
		 (unsigned long long)(secs > 1 ? secs - 1 : 1));
	snprintf(port, sizeof(port), "%u", q->port);
	argv[n++] = "ssh";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "StrictHostKeyChecking=yes";
	argv[n++] = "-o";
	argv[n++] = opt_timeout;
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = "--";
	argv[n++] = dest;
	argv[n++] = QUEUE_READ_CMD;
	argv[n] = NULL;
	r->started_ms = clock_mono_ms();
	r->timeout_ms = timeout_ms;
	rc = proc_run_max(base, QUEUE_OUT_MAX, argv, NULL, queue_read_done, r, &r->proc, err,
			  errsize);
	free(dest);
	if (rc == 0)
		rc = proc_set_deadline(r->proc, timeout_ms);
	if (rc != 0) {
		queue_read_free(r);
		return rc;
	}
	*out = r;
	return 0;
nomem:
	free(dest);
	queue_read_free(r);
	snprintf(err, errsize, "out of memory");
	return MXF_ENOMEM;
}

void
queue_read_free(struct queue_read *r)
{
	if (r == NULL)
		return;
	/* First the process: its callback must not run on freed memory. */
	proc_free(r->proc);
	for (size_t i = 0; r->zone_names != NULL && i < r->res.nzones; i++)
		free(r->zone_names[i]);
	free(r->zone_names);
	free(r->res.zones);
	free(r);
}

size_t
queue_read_server_zones(const struct config *cfg, size_t si, char **zones, size_t max)
{
	size_t n = 0;

	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *grp = &cfg->groups[g];
		bool member = false;

		for (size_t i = 0; i < grp->nservers; i++)
			member = member || grp->servers[i] == si;
		if (!member)
			continue;
		for (size_t z = 0; z < grp->nzones && n < max; z++) {
			bool dup = false;

			for (size_t k = 0; k < n; k++)
				dup = dup || strcmp(zones[k], grp->zones[z]) == 0;
			if (!dup)
				zones[n++] = grp->zones[z];
		}
	}
	return n;
}
