/*
 * daemon.c -- the loop that `run`, `once` and `plan` share: the lock, the
 * pins file, the event loop, signals and the reload between rounds.  One
 * round is round.c; what it announces is announce.c.
 *
 * Everything runs on one libevent loop.  The daemon owns what lives across
 * rounds (configuration, DNS context, state, notifier) and
 * lends it to each round through a struct round_env.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include "announce.h"
#include "check.h"
#include "clock.h"
#include "daemon_audit.h"
#include "dns_ops.h"
#include "dns_keyfile.h"
#include "dns_tsig.h"
#include "failover.h"
#include "health.h"
#include "log.h"
#include "mxf.h"
#include "notify.h"
#include "proc.h"
#include "queue_watch.h"
#include "round.h"
#include "round_pace.h"
#include "round_quorum.h"
#include "round_verify.h"
#include "sdnotify.h"
#include "state.h"
#include "state_file.h"
#include "status_http.h"
#include "value.h"

struct daemon {
	const char *cfg_path;
	struct config *cfg;	/* the one in use */
	struct config *own_cfg; /* a reloaded one, ours to free */
	enum daemon_mode mode;
	struct event_base *base;
	struct check_engine *eng;
	struct dns_tsig_key *key;
	struct dns_ops *ops;
	struct state *st;
	struct round *round; /* the round running, or NULL */
	struct event *timer, *sigterm, *sigint, *sighup;
	bool stopping, reload;
	bool fast; /* a server is in transition: the next round is a fast one */
	uint64_t full_ms; /* when the last full round (DNS read) started, wall clock */
	int lock_fd;
	int exit_code;
	struct status_http *http; /* [general] status_listen, run mode only */
	struct status_counters ctr;
	struct announce an;	 /* notices, queue flushes, reminders */
	struct event *drain_ev;	 /* once/plan: wait for notices and ETRN */
	bool pins_warned;	 /* the pins file was unreadable, said once */
	struct state_file_streak save_streak; /* state file not written, said once */
	uint64_t drain_until_ms; /* once: clock_mono_ms() to give up waiting */
	struct sdnotify *sd;	 /* systemd's notify protocol, run mode only */
	struct daemon_audit *audit; /* [general] audit_interval, run mode only */
	struct round_verify *verify; /* DNS as last seen, run mode only; built by a round */
	struct round_quorum *quorum; /* [quorum], run mode only; NULL without */
};

/* ---- start-up ------------------------------------------------------ */

/*
 * Descriptors: the soft RLIMIT_NOFILE raised to the hard limit (at most
 * DAEMON_NOFILE_MAX), so that checks, DNS and notices never meet EMFILE
 * under systemd's default soft limit of 1024.  The status listener's own
 * cap (status_http.h) keeps the rest for them whatever the limit is.
 */
#define DAEMON_NOFILE_MAX 65536

static void
daemon_raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > DAEMON_NOFILE_MAX
		       ? DAEMON_NOFILE_MAX
		       : rl.rlim_max;
	if (want <= rl.rlim_cur)
		return;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_debug("descriptor limit raised to %llu", (unsigned long long)want);
}

/* ---- the lock file ------------------------------------------------- */

/* @return the lock's fd, -1 when another process holds it, -2 on error. */
static int
daemon_lock(const char *path)
{
	int fd;

	state_file_make_parent(path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_err("cannot open the lock file %s: %s", path, strerror(errno));
		return -2;
	}
	/* `once` run by root must leave a lock the service's user can open. */
	(void)state_file_own_like_dir(fd, path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return -1;
		log_err("cannot lock %s: %s", path, strerror(e));
		return -2;
	}
	/* Our pid, for `status` to name the daemon that holds the lock. */
	if (state_file_lock_note(fd, NULL) != 0)
		log_warn("cannot write the pid into %s: %s", path, strerror(errno));
	return fd;
}

/*
 * Say who holds the lock @path, by the pid its holder wrote into it
 * (state_file_lock_note), so the operator knows which process to look at.
 */
static void
daemon_lock_held(const char *path)
{
	char note[STATE_FILE_LOCK_RECORD] = "";
	long pid = 0;

	if (state_file_lock_probe(path, &pid, note, sizeof(note)) == 1 && pid > 0)
		log_err("another mxfailover (pid %ld) holds the lock %s", pid, path);
	else
		log_err("another mxfailover holds the lock %s", path);
}

static void daemon_reload(struct daemon *d);

/* What the background audit announces with (daemon_audit.h). */
static void
daemon_audit_view(void *arg, const struct config **cfg, struct state **st, struct announce **an)
{
	struct daemon *d = arg;

	*cfg = d->cfg;
	*st = d->st;
	*an = &d->an;
}

static void
daemon_view(void *arg, const struct config **cfg, const struct state **st,
	    const struct status_counters **ctr)
{
	struct daemon *d = arg;

	*cfg = d->cfg;
	*st = d->st;
	d->ctr.queue = d->an.queue; /* made at the first switch that reads a queue */
	*ctr = &d->ctr;
}

/* The status endpoint @cfg asks for (NULL in *out when none, or not `run`). */
static int
daemon_build_http(struct daemon *d, const struct config *cfg, struct status_http **out)
{
	char err[256] = "";
	int rc;

	*out = NULL;
	if (d->mode != DAEMON_RUN || cfg->general.status_listen == NULL)
		return 0;
	rc = status_http_new(d->base, cfg->general.status_listen, daemon_view, d, out, err,
			     sizeof(err));
	if (rc != 0) {
		log_err("%s", err);
		return MXF_EXIT_USAGE;
	}
	log_info("status on http://%s/ (/api/status, /metrics)", cfg->general.status_listen);
	return 0;
}

static bool
daemon_streq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* via_active: before any plan, notices go where the memory points. */
static void
daemon_active_from_memory(struct daemon *d)
{
	announce_active(&d->an, d->cfg, failover_active(d->st->failover, d->cfg, 0, NULL));
}

/*
 * `once` waits at most DAEMON_ONCE_WAIT_MS after its round for notices and
 * queue flushes.  Queue flushes (ETRN and its drain check, at most some 50 s,
 * queue_watch.h) get DAEMON_ONCE_FLUSH_MS of it; one still running then is
 * settled (announce_settle): its notice goes out saying the drain was not
 * checked, with the rest of the wait left to deliver it.
 */
#define DAEMON_ONCE_WAIT_MS  60000
#define DAEMON_ONCE_FLUSH_MS 45000

/* once: the round is over; wait (bounded) for notices and queue flushes. */
static void
daemon_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = {0, 100000};
	uint64_t now = clock_mono_ms();

	(void)fd;
	(void)what;
	if (d->an.etrn != NULL && now + (DAEMON_ONCE_WAIT_MS - DAEMON_ONCE_FLUSH_MS) >=
					  d->drain_until_ms)
		announce_settle(&d->an, "queue drain not checked: `once` stopped waiting");
	if (!announce_busy(&d->an) || now >= d->drain_until_ms) {
		if (announce_busy(&d->an))
			log_warn("exiting with notices or queue flushes still pending");
		event_base_loopbreak(d->base);
		return;
	}
	evtimer_add(d->drain_ev, &tv);
}

/* A round is over (and freed): keep its code, then stop or schedule the next. */
static void
daemon_round_done(void *arg, int code, uint64_t started)
{
	struct daemon *d = arg;
	uint64_t next, now = clock_wall_ms();
	struct timeval tv;

	d->exit_code = code;
	d->round = NULL;
	sdnotify_round(d->sd, d->cfg, d->st);
	if (d->mode != DAEMON_RUN || d->stopping) {
		if (d->mode == DAEMON_ONCE && announce_busy(&d->an)) {
			d->drain_until_ms = clock_mono_ms() + DAEMON_ONCE_WAIT_MS;
			daemon_drain_cb(-1, 0, d);
			return;
		}
		event_base_loopbreak(d->base);
		return;
	}
	/* The next round starts one interval (fastinter while a server is in
	 * transition, round_pace.h) after this one started. */
	size_t who = SIZE_MAX;
	bool was_fast = d->fast;
	char pace[VALUE_DURATION_BUF];

	next = round_pace_period(d->cfg, d->st->health, &d->fast, &who);
	if (d->fast && !was_fast) /* once per stretch of fast rounds */
		log_info("server %s in transition: checking every %s until it settles",
			 d->cfg->servers[who].id, value_format_duration(next, pace, sizeof(pace)));
	next = now - started < next ? next - (now - started) : 0;
	tv.tv_sec = (time_t)(next / 1000);
	tv.tv_usec = (suseconds_t)((next % 1000) * 1000);
	evtimer_add(d->timer, &tv);
}

static void
daemon_round_start(struct daemon *d)
{
	struct round_env env;
	/* After a reload a full round (the groups may have changed), and at
	 * least one every interval however long the fast pace lasts, so that
	 * retries and hand changes are not starved by a stream of transitions. */
	uint64_t now = clock_wall_ms();
	bool fast = !d->reload && round_pace_fast_round(d->cfg, d->fast, now, d->full_ms);

	if (d->reload) {
		d->reload = false;
		daemon_reload(d);
		sdnotify_reloaded(d->sd, d->cfg);
	}
	env = (struct round_env){
		.cfg = d->cfg,
		.mode = d->mode,
		.eng = d->eng,
		.ops = d->ops,
		.st = d->st,
		.an = &d->an,
		.ctr = &d->ctr,
		.pins_warned = &d->pins_warned,
		.save_streak = &d->save_streak,
		.pace_only = fast,
		.verify = d->mode == DAEMON_RUN ? &d->verify : NULL,
		.quorum = d->quorum,
		.lock_fd = d->lock_fd,
		.done = daemon_round_done,
		.arg = d,
	};
	if (!fast)
		d->full_ms = now;
	d->round = round_new(&env);
	if (d->round == NULL) {
		log_err("out of memory: round skipped");
		d->exit_code = MXF_EXIT_DEGRADED;
		event_base_loopbreak(d->base);
		return;
	}
	round_run(d->round);
}

/* ---- the loop of `run` ---------------------------------------------------- */

static void
daemon_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (!d->stopping)
		daemon_round_start(d);
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s before the next round", d->cfg_path);
		d->reload = true;
		sdnotify_reloading(d->sd);
		return;
	}
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	d->stopping = true;
	sdnotify_stopping(d->sd);
	/*
	 * A round that is still checking is abandoned: nothing was decided yet.
	 * One that is reading or updating DNS is let finish (bounded by the DNS
	 * timeout) so no update is left without its read-back and state.
	 */
	if (d->round == NULL || round_checking(d->round))
		event_base_loopbreak(d->base);
}

/*
 * daemon_build_dns -- the TSIG key and the DNS context for @cfg, built apart
 * from the running ones so a reload can be refused without touching them.
 * @return 0, or an exit code after logging why.
 */
static int
daemon_build_dns(struct event_base *base, const struct config *cfg, struct dns_tsig_key **keyp,
		 struct dns_ops **opsp)
{
	struct dns_tsig_key *key = NULL;
	char err[512] = "";
	int rc;

	*keyp = NULL;
	*opsp = NULL;
	if (cfg->dns.key_file != NULL) {
		rc = dns_keyfile_load(cfg->dns.key_file, NULL, &key, err, sizeof(err));
		if (rc != 0) {
			log_err("%s", err);
			return MXF_EXIT_USAGE;
		}
		announce_add_key_secret(NULL, key); /* no log line shows it */
	}
	rc = dns_ops_new(base, cfg->dns.server, cfg->dns.port, key, cfg->dns.timeout_ms, opsp);
	if (rc != 0) {
		if (rc == MXF_EINVAL)
			log_err("DNS server %s does not resolve to an address", cfg->dns.server);
		else
			log_err("DNS server %s: %s", cfg->dns.server, mxf_strerror(rc));
		dns_tsig_key_free(key);
		return rc == MXF_ENOMEM ? MXF_EXIT_DNS : MXF_EXIT_USAGE;
	}
	*keyp = key;
	return 0;
}

/*
 * Between rounds: swap in a new configuration, keeping health by name.
 * Everything the new configuration needs -- key, DNS context, notifier,
 * status listener, state, backoff memory -- is built first; only when all of
 * it succeeded is it swapped in, so a reload that cannot work is refused and
 * the daemon goes on exactly as before.
 */
static void
daemon_reload(struct daemon *d)
{
	struct config_errors errs = {0};
	struct config *ncfg = NULL, *old = d->cfg;
	struct dns_tsig_key *nkey = NULL;
	struct dns_ops *nops = NULL;
	struct notify *nnotify = NULL;
	struct status_http *nhttp = NULL;
	struct state *nst = NULL;
	uint64_t *nrem = NULL;
	struct round_quorum *nquorum = NULL;
	bool notify_new_one, http_new_one;

	if (config_load(d->cfg_path, &ncfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_err("%s:%d: %s", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
		log_err("reload refused: %s has errors; keeping the running configuration",
			d->cfg_path);
		config_errors_free(&errs);
		return;
	}
	config_errors_free(&errs);
	if (!daemon_streq(ncfg->general.state_file, old->general.state_file) ||
	    !daemon_streq(ncfg->general.lock_file, old->general.lock_file)) {
		log_err("reload refused: state_file and lock_file change only with a restart");
		goto refuse;
	}
	if (daemon_build_dns(d->base, ncfg, &nkey, &nops) != 0) {
		log_err("reload refused: the new [dns] cannot be used; keeping the running one");
		goto refuse;
	}
	notify_new_one = !announce_notify_same(&old->notify, &ncfg->notify);
	if (notify_new_one && announce_build_notify(d->base, d->mode, ncfg, nkey, &nnotify) != 0) {
		log_err("reload refused: the new [notify] cannot be used");
		goto refuse;
	}
	http_new_one = !daemon_streq(old->general.status_listen, ncfg->general.status_listen);
	if (http_new_one && daemon_build_http(d, ncfg, &nhttp) != 0) {
		log_err("reload refused: the new status_listen cannot be used");
		goto refuse;
	}
	nrem = calloc(ncfg->nservers + 1, sizeof(*nrem));
	if (nrem == NULL || state_rebind(d->st, old, ncfg, &nst) != 0) {
		log_err("reload refused: out of memory");
		goto refuse;
	}
	/* The same [quorum], servers and groups: the memory goes on (views,
	 * freshness, our boot and seq).  Else a new one, with a new boot: the
	 * others' views count again once seen advancing; whether quorum was
	 * lost is carried over. */
	if (ncfg->quorum.enabled && round_quorum_reload(d->quorum, ncfg, &nquorum) != 0) {
		log_err("reload refused: the new [quorum] cannot be used");
		goto refuse;
	}
	bool keep_quorum = ncfg->quorum.enabled && d->quorum != NULL && nquorum == NULL;

	/* Everything is ready: swap.  No exchange is running between rounds. */
	dns_ops_free(d->ops);
	dns_tsig_key_free(d->key);
	d->ops = nops;
	d->key = nkey;
	if (notify_new_one) {
		/* Notices still pending go out through the new settings (the
		 * operator changed them for a reason, often a refusing relay). */
		if (d->an.notify != NULL && nnotify != NULL) {
			int k = notify_adopt(nnotify, d->an.notify); /* and the secrets */

			if (k > 0)
				log_info("notify: %d pending notice%s carried over to the new "
					 "[notify]",
					 k, k == 1 ? "" : "s");
		}
		notify_free(d->an.notify);
		d->an.notify = nnotify;
	} else {
		/* Same channels, maybe a new key_file: redact its secret too. */
		announce_add_key_secret(d->an.notify, nkey);
	}
	if (http_new_one) {
		status_http_free(d->http);
		d->http = nhttp;
	}
	free(d->an.reminder_next);
	d->an.reminder_next = nrem;
	daemon_audit_reload(d->audit, ncfg); /* before the old config goes */
	round_verify_free(d->verify);	     /* a new config: every zone read anew */
	d->verify = NULL;
	if (keep_quorum) {
		round_quorum_rebind(d->quorum, ncfg);
	} else {
		round_quorum_free(d->quorum);
		d->quorum = nquorum;
	}
	state_free(d->st);
	d->st = nst;
	d->cfg = ncfg;
	config_free(d->own_cfg);
	d->own_cfg = ncfg;
	queue_watch_reload(d->an.queue, ncfg); /* backups' queues follow the new [server]s */
	/* Follow a rotated or changed log file (logrotate sends SIGHUP). */
	if (log_open(ncfg->general.log, ncfg->format == CONFIG_FORMAT_DNSFAILOVER
						? LOG_STYLE_DNSFAILOVER
						: LOG_STYLE_NATIVE) != 0)
		log_err("cannot open log %s; logging to stderr", ncfg->general.log);
	daemon_active_from_memory(d);
	log_info("configuration reloaded: %zu server%s, %zu group%s", ncfg->nservers,
		 ncfg->nservers == 1 ? "" : "s", ncfg->ngroups, ncfg->ngroups == 1 ? "" : "s");
	return;
refuse:
	round_quorum_free(nquorum);
	status_http_free(nhttp);
	notify_free(nnotify);
	if (nops != NULL)
		dns_ops_free(nops);
	dns_tsig_key_free(nkey);
	free(nrem);
	state_free(nst);
	config_free(ncfg);
}

int
daemon_main(const char *cfg_path, struct config *cfg, enum daemon_mode mode)
{
	struct daemon d = {.cfg_path = cfg_path, .cfg = cfg, .mode = mode, .lock_fd = -1};
	char err[512] = "";
	int rc;

	signal(SIGPIPE, SIG_IGN);
	daemon_raise_nofile();
	if (mode != DAEMON_PLAN) {
		d.lock_fd = daemon_lock(cfg->general.lock_file);
		if (d.lock_fd == -1) {
			daemon_lock_held(cfg->general.lock_file);
			return MXF_EXIT_LOCKED;
		}
		if (d.lock_fd < 0)
			return MXF_EXIT_USAGE;
	}
	rc = state_load(cfg->general.state_file, cfg, &d.st, err, sizeof(err));
	if (rc != 0) {
		if (rc != MXF_ENOTFOUND)
			log_warn("%s; starting afresh and rebuilding from DNS", err);
		if (state_new(cfg, &d.st) != 0) {
			rc = MXF_EXIT_USAGE;
			goto out;
		}
	} else {
		if (err[0] != '\0') /* the zones' companion was ignored */
			log_warn("%s", err);
		if (state_forget_stale(d.st, cfg, clock_wall_ms(), err, sizeof(err)) == 1)
			/* For `once` each pass is a round: a timer slower than the
			 * interval makes every pass start from unknown. */
			log_warn("%s: %s%s", cfg->general.state_file, err,
				 mode == DAEMON_ONCE
					 ? "; for `once` set interval to the timer's period"
					 : "");
	}
	d.base = event_base_new();
	d.eng = d.base != NULL ? check_engine_new(d.base) : NULL;
	d.an.base = d.base;
	d.an.reminder_next = calloc(cfg->nservers + 1, sizeof(*d.an.reminder_next));
	if (d.eng == NULL || d.an.reminder_next == NULL) {
		log_err("cannot set up the event loop");
		rc = MXF_EXIT_USAGE;
		goto out;
	}
	rc = daemon_build_dns(d.base, cfg, &d.key, &d.ops);
	if (rc != 0)
		goto out;
	d.timer = evtimer_new(d.base, daemon_timer_cb, &d);
	d.drain_ev = evtimer_new(d.base, daemon_drain_cb, &d);
	d.ctr.started_ms = clock_wall_ms();
	rc = announce_build_notify(d.base, mode, cfg, d.key, &d.an.notify);
	if (rc != 0)
		goto out;
	daemon_active_from_memory(&d);
	rc = daemon_build_http(&d, cfg, &d.http);
	if (rc != 0)
		goto out;
	if (mode == DAEMON_RUN && cfg->quorum.enabled &&
	    round_quorum_new(cfg, &d.quorum) != 0) {
		log_err("cannot set up [quorum]: out of memory");
		rc = MXF_EXIT_USAGE;
		goto out;
	}
	if (mode == DAEMON_RUN) {
		d.sigterm = evsignal_new(d.base, SIGTERM, daemon_signal_cb, &d);
		d.sigint = evsignal_new(d.base, SIGINT, daemon_signal_cb, &d);
		d.sighup = evsignal_new(d.base, SIGHUP, daemon_signal_cb, &d);
		evsignal_add(d.sigterm, NULL);
		evsignal_add(d.sigint, NULL);
		evsignal_add(d.sighup, NULL);
		d.sd = sdnotify_new(d.base, cfg);
		if (daemon_audit_new(d.base, cfg, daemon_audit_view, &d, &d.audit) != 0) {
			log_err("cannot set up the background audit: out of memory");
			rc = MXF_EXIT_USAGE;
			goto out;
		}
		d.ctr.audit = daemon_audit_findings(d.audit);
		char ivl[VALUE_DURATION_BUF];

		log_info("started: %zu server%s, %zu group%s, interval %s", cfg->nservers,
			 cfg->nservers == 1 ? "" : "s", cfg->ngroups, cfg->ngroups == 1 ? "" : "s",
			 value_format_duration(cfg->general.interval_ms, ivl, sizeof(ivl)));
	}
	daemon_round_start(&d);
	if (d.round != NULL || mode == DAEMON_RUN)
		event_base_dispatch(d.base);
	rc = mode == DAEMON_RUN ? MXF_EXIT_OK : d.exit_code;
	if (mode == DAEMON_RUN)
		log_info("stopped");
out:
	if (d.round != NULL) {
		/* Abandoned on SIGTERM while checking: cancel the checks first. */
		check_engine_free(d.eng);
		d.eng = NULL;
		round_free(d.round);
	}
	round_verify_free(d.verify);
	round_quorum_free(d.quorum);
	sdnotify_free(d.sd);
	status_http_free(d.http);
	daemon_audit_free(d.audit);
	announce_clear(&d.an);
	if (d.drain_ev != NULL)
		event_free(d.drain_ev);
	if (d.timer != NULL)
		event_free(d.timer);
	if (d.sigterm != NULL)
		event_free(d.sigterm);
	if (d.sigint != NULL)
		event_free(d.sigint);
	if (d.sighup != NULL)
		event_free(d.sighup);
	check_engine_free(d.eng);
	if (d.ops != NULL)
		dns_ops_free(d.ops);
	dns_tsig_key_free(d.key);
	state_free(d.st);
	if (d.base != NULL) {
		/* A plugin that would not die stays behind, not a timer. */
		proc_release(d.base);
		event_base_free(d.base);
	}
	config_free(d.own_cfg);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	return rc;
}
