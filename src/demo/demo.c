/*
 * demo.c -- `mxfailover demo`: named, two SMTP responders and the daemon on
 * loopback, a failover and a failback shown with timings (see demo.h).
 *
 * This file is the command and its scenario; the lab's files and children
 * are in demo_lab.c, the record and log printing in demo_show.c, the
 * responders in demo_smtp.c (demo_impl.h says who does what).
 *
 * The demo is one libevent loop.  Its steps are written as straight-line
 * code; each wait runs the loop (so the responders keep answering and the
 * daemon's log keeps flowing) until a condition holds, a deadline passes or
 * the user presses Ctrl-C.  A 50 ms tick keeps those waits responsive and
 * reaps the children when they exit.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "demo.h"
#include "demo_impl.h"
#include "dns_ops.h"
#include "dns_tsig.h"
#include "mxf.h"

const char *const demo_records[DEMO_NRECORDS] = {"mx", "smtp", "imap", "mail", "pop3"};

/* ---- output ---- */

double
demo_elapsed(const struct demo *d)
{
	return (double)clock_mono_since_ms(d->t0_ms) / 1000.0;
}

void
demo_line(const struct demo *d, const char *mark, const char *fmt, ...)
{
	va_list ap;

	printf("[%5.1fs] %s", demo_elapsed(d), mark);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- the event loop ---- */

static void
demo_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct demo *d = arg;

	d->signo = (int)sig;
	event_base_loopbreak(d->base);
}

int
demo_run_until(struct demo *d, demo_cond cond, uint64_t ms)
{
	double end = demo_elapsed(d) + (double)ms / 1000.0;

	for (;;) {
		if (d->signo != 0)
			return MXF_ECANCELED;
		if (cond != NULL && cond(d))
			return 0;
		if (demo_elapsed(d) >= end)
			return MXF_ETIMEDOUT;
		event_base_loop(d->base, EVLOOP_ONCE);
	}
}

/* ---- reading the records from named ---- */

static bool
demo_reads_done(struct demo *d)
{
	return d->pending == 0;
}

/*
 * Read the five records once.  @return 0 when every read came back (each
 * record says what it found), else MXF_ETIMEDOUT, MXF_ECANCELED, MXF_ENOMEM.
 */
static int
demo_read_records(struct demo *d)
{
	int rc;

	/* A batch still in flight (after a timeout) finishes first. */
	rc = demo_run_until(d, demo_reads_done, DEMO_READ_MS);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < DEMO_NRECORDS; i++) {
		d->rec[i].done = false;
		if (dns_ops_read(d->ops, d->rec[i].owner, LDNS_RR_TYPE_CNAME, demo_show_record_cb,
				 &d->rec[i]) != 0)
			return MXF_ENOMEM;
		d->pending++;
	}
	return demo_run_until(d, demo_reads_done, DEMO_READ_MS);
}

static bool
demo_all_at(const struct demo *d, const char *server)
{
	char want[64];

	snprintf(want, sizeof(want), "%s.%s", server, DEMO_ZONE);
	for (size_t i = 0; i < DEMO_NRECORDS; i++)
		if (strcmp(d->rec[i].target, want) != 0)
			return false;
	return true;
}

/*
 * Poll the records until all five point at @server, for DEMO_MOVE_MS at
 * most.  @return 0, MXF_ETIMEDOUT, MXF_ECANCELED, or MXF_EIO when the
 * daemon exited meanwhile.
 */
static int
demo_wait_records(struct demo *d, const char *server)
{
	double end = demo_elapsed(d) + DEMO_MOVE_MS / 1000.0;
	int rc;

	for (;;) {
		rc = demo_read_records(d);
		if (rc == MXF_ECANCELED || rc == MXF_ENOMEM)
			return rc;
		if (rc == 0 && demo_all_at(d, server))
			return 0;
		if (d->daemon.exited)
			return MXF_EIO;
		if (demo_elapsed(d) >= end)
			return MXF_ETIMEDOUT;
		rc = demo_run_until(d, NULL, DEMO_POLL_MS);
		if (rc == MXF_ECANCELED)
			return rc;
	}
}

/*
 * Wait until the five records point at @server, then say so with the
 * seconds since @since_s (@where: "at mx2", @since: "mx1 stopped") and show
 * them.  @return 0 with *secs set, else what demo_wait_records() returned.
 */
static int
demo_moved(struct demo *d, const char *server, double since_s, const char *where, const char *since,
	   double *secs)
{
	int rc = demo_wait_records(d, server);

	if (rc != 0)
		return rc;
	*secs = demo_elapsed(d) - since_s;
	demo_say(d, "all five records point %s, %.1f s after %s:", where, *secs, since);
	demo_show_records(d);
	return 0;
}

/* ---- the demo ---- */

static int
demo_setup(struct demo *d)
{
	const char *tmp = getenv("TMPDIR");
	struct timeval tick = {0, DEMO_TICK_MS * 1000};

	d->base = event_base_new();
	if (d->base == NULL)
		return MXF_ENOMEM;
	d->tick = event_new(d->base, -1, EV_PERSIST, demo_lab_reap, d);
	d->sigint = evsignal_new(d->base, SIGINT, demo_signal_cb, d);
	d->sigterm = evsignal_new(d->base, SIGTERM, demo_signal_cb, d);
	if (d->tick == NULL || d->sigint == NULL || d->sigterm == NULL ||
	    event_add(d->tick, &tick) != 0 || event_add(d->sigint, NULL) != 0 ||
	    event_add(d->sigterm, NULL) != 0)
		return MXF_ENOMEM;
	for (size_t i = 0; i < 2; i++)
		d->mx[i].base = d->base;
	for (size_t i = 0; i < DEMO_NRECORDS; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s.%s", demo_records[i], DEMO_ZONE);
		d->rec[i].d = d;
		d->rec[i].owner = ldns_dname_new_frm_str(name);
		if (d->rec[i].owner == NULL)
			return MXF_ENOMEM;
	}
	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(d->dir, sizeof(d->dir), "%s/mxfailover-demo.XXXXXX", tmp) >=
		    sizeof(d->dir) ||
	    mkdtemp(d->dir) == NULL) {
		demo_fail(d, "cannot make a temporary directory under %s: %s", tmp,
			  strerror(errno));
		d->dir[0] = '\0';
		return MXF_EIO;
	}
	return 0;
}

static void
demo_cleanup(struct demo *d, bool keep)
{
	demo_lab_stop(d);
	for (size_t i = 0; i < 2; i++)
		demo_smtp_stop(&d->mx[i]);
	demo_lab_ops_free(d);
	/* The loop has run for the last time: its events can go. */
	struct event *evs[] = {d->daemon_ev, d->tick, d->sigint, d->sigterm};

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	if (d->daemon_fd >= 0)
		close(d->daemon_fd);
	for (size_t i = 0; i < DEMO_NRECORDS; i++)
		if (d->rec[i].owner != NULL)
			ldns_rdf_deep_free(d->rec[i].owner);
	if (d->base != NULL)
		event_base_free(d->base);
	config_free(d->cfg);
	dns_tsig_key_free(d->key);
	demo_lab_remove(d, keep);
}

int
demo_main(const struct demo_options *opts)
{
	struct demo dd = {.daemon_fd = -1}, *d = &dd;
	char key_path[PATH_MAX + 16], mxf_conf[PATH_MAX + 32];
	double t_stop = 0, failover_s = -1, failback_s = -1;
	int rc;

	d->t0_ms = clock_mono_ms();
	setvbuf(stdout, NULL, _IOLBF, 0);
	d->named_bin = opts->named != NULL ? opts->named : DEMO_NAMED;
	if (access(d->named_bin, X_OK) != 0) {
		fprintf(stderr,
			"mxfailover: demo: %s is not installed; the demo needs BIND's named.\n"
			"Run `./dev demo` from the source tree (it installs what is missing), or\n"
			"`apt-get install bind9` and try again.\n",
			d->named_bin);
		return MXF_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	d->mx[0] = (struct demo_smtp){.name = "mx1"};
	d->mx[1] = (struct demo_smtp){.name = "mx2"};

	printf("mxfailover demo: a throw-away lab on 127.0.0.1 -- named, two mail servers\n"
	       "and the daemon; mx1 fails, the records move to mx2, mx1 returns, they move\n"
	       "back.  Ctrl-C stops it and cleans up.\n\n");
	rc = demo_setup(d);
	if (rc != 0)
		goto fail;
	demo_say(d, "lab directory %s", d->dir);
	rc = demo_lab_make_key(d, key_path, sizeof(key_path));
	if (rc != 0)
		goto fail;
	demo_say(d, "TSIG key %s (hmac-sha256, 256 random bits) in %s", DEMO_KEY_NAME, key_path);
	rc = demo_lab_write_zone(d);
	if (rc != 0)
		goto fail;
	rc = demo_lab_named_start(d);
	if (rc != 0)
		goto fail;
	demo_say(d, "named (pid %ld) serves zone %s on 127.0.0.1:%u, updates by key %s",
		 (long)d->named.pid, DEMO_ZONE, d->dns_port, DEMO_KEY_NAME);

	for (size_t i = 0; i < 2; i++) {
		if (demo_smtp_start(&d->mx[i]) != 0) {
			demo_fail(d, "cannot listen on 127.0.0.1 for %s: %s", d->mx[i].name,
				  strerror(errno));
			rc = MXF_EIO;
			goto fail;
		}
	}
	demo_say(d, "SMTP responders: mx1 on 127.0.0.1:%u, mx2 on 127.0.0.1:%u", d->mx[0].port,
		 d->mx[1].port);

	rc = demo_read_records(d);
	if (rc != 0)
		goto fail;
	demo_say(d, "the records, read from named with key %s:", DEMO_KEY_NAME);
	demo_show_records(d);
	if (!demo_all_at(d, "mx1")) {
		demo_fail(d, "the zone does not hold what was written");
		rc = MXF_EIO;
		goto fail;
	}

	rc = demo_lab_write_config(d, mxf_conf, sizeof(mxf_conf));
	if (rc != 0)
		goto fail;
	rc = demo_lab_daemon_start(d, mxf_conf);
	if (rc != 0)
		goto fail;
	demo_say(d, "started `mxfailover -c %s run` (pid %ld): interval 1s, fall 2, rise 2",
		 mxf_conf, (long)d->daemon.pid);
	rc = demo_run_until(d, demo_lab_daemon_ready, DEMO_DAEMON_READY_MS);
	if (rc == 0 && d->daemon.exited) {
		demo_lab_daemon_died(d);
		rc = MXF_EIO;
	} else if (rc == MXF_ETIMEDOUT) {
		demo_fail(d, "the daemon did not report both servers up within %d s",
			  DEMO_DAEMON_READY_MS / 1000);
	}
	if (rc != 0)
		goto fail;
	demo_say(d, "the daemon sees mx1 and mx2 up");

	demo_smtp_stop(&d->mx[0]);
	t_stop = demo_elapsed(d);
	demo_say(d, "stopping mx1: its SMTP port now refuses connections");
	rc = demo_moved(d, "mx2", t_stop, "at mx2", "mx1 stopped", &failover_s);
	if (rc != 0)
		goto moved;

	rc = demo_smtp_start(&d->mx[0]);
	if (rc != 0) {
		demo_fail(d, "cannot listen on 127.0.0.1:%u again for mx1: %s", d->mx[0].port,
			  strerror(errno));
		goto fail;
	}
	t_stop = demo_elapsed(d);
	demo_say(d, "bringing mx1 back on 127.0.0.1:%u", d->mx[0].port);
	rc = demo_moved(d, "mx1", t_stop, "back at mx1", "it returned", &failback_s);

moved:
	if (rc == MXF_ETIMEDOUT) {
		demo_fail(d, "the records did not move within %d s; as last read:",
			  DEMO_MOVE_MS / 1000);
		demo_show_records(d);
	} else if (rc == MXF_EIO && d->daemon.exited) {
		demo_lab_daemon_died(d);
	}
fail:
	if (d->signo != 0)
		printf("\n[%5.1fs] interrupted (%s): cleaning up\n", demo_elapsed(d),
		       d->signo == SIGINT ? "Ctrl-C" : "SIGTERM");
	demo_cleanup(d, opts->keep);
	if (failover_s >= 0 && failback_s >= 0) {
		printf("\nfailover took %.1f s, failback took %.1f s (interval 1 s, fall 2, rise "
		       "2)\n",
		       failover_s, failback_s);
		return MXF_EXIT_OK;
	}
	if (failover_s < 0)
		printf("\ndemo incomplete: neither the failover nor the failback was seen\n");
	else
		printf("\ndemo incomplete: the failover took %.1f s, but the failback was not "
		       "seen\n",
		       failover_s);
	return MXF_EXIT_DEGRADED;
}

/*
 * cmd_demo -- `mxfailover demo [--keep] [--named PATH]`; see demo_main().  The global -c
 * is ignored: the demo writes its own configuration.
 */
int
cmd_demo(struct mxf_ctx *ctx, int argc, char **argv)
{
	struct demo_options opts = {0};

	(void)ctx;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep") == 0)
			opts.keep = true;
		else if (strcmp(argv[i], "--named") == 0 && i + 1 < argc)
			opts.named = argv[++i];
		else
			return cmd_usage_error("demo", "unknown argument '%s'", argv[i]);
	}
	return demo_main(&opts);
}
