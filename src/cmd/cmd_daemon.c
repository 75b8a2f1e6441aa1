/*
 * cmd_daemon.c -- `run`, `once`, `plan`, `status`, `pin`, `unpin`.
 *
 * The work is daemon.c's; this file parses arguments, sets up logging the
 * way the configuration asks (DNS_Failover's line format for its config),
 * and prints `status` from the state file, which a running daemon rewrites
 * after every round, with the pins of the pins file (pins.h), the ones the
 * daemon obeys.  `pin` and `unpin` write that file.
 *
 * `status` also judges what it shows, and its exit code says so: stale
 * (the file is older than state_stale_after_ms(): the daemon is dead, or
 * alive but unable to write, which the lock file it holds tells apart),
 * every server of a group down, isolated, degraded, or all well.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "cmd.h"
#include "cmd_status.h"
#include "config.h"
#include "daemon.h"
#include "failover.h"
#include "health.h"
#include "log.h"
#include "mxf.h"
#include "pins.h"
#include "state.h"
#include "state_file.h"

static void
cmd_daemon_log_setup(const struct config *cfg, int info_always)
{
	enum log_style style =
		cfg->format == CONFIG_FORMAT_DNSFAILOVER ? LOG_STYLE_DNSFAILOVER : LOG_STYLE_NATIVE;

	if (log_open(cfg->general.log, style) != 0)
		fprintf(stderr, "mxfailover: warning: cannot open log %s; logging to stderr\n",
			cfg->general.log);
	log_set_info_always(info_always);
}

static int
cmd_daemon_common(struct mxf_ctx *ctx, int argc, char **argv, enum daemon_mode mode)
{
	struct config *cfg = NULL;
	int rc;

	if (argc > 1)
		return cmd_usage_error(argv[0], "takes no arguments");
	rc = cmd_load_config(ctx, &cfg);
	if (rc != 0)
		return rc;
	if (mode != DAEMON_RUN && cfg->quorum.enabled) {
		/* A view counts once seen advancing, so a single pass cannot
		 * judge the others: with several monitors only `run` decides. */
		fprintf(stderr,
			"mxfailover: %s: [quorum]: `%s` cannot decide with several monitors; "
			"run `mxfailover run` on each of them\n",
			ctx->config_path, argv[0]);
		config_free(cfg);
		return MXF_EXIT_USAGE;
	}
	if (mode != DAEMON_PLAN)
		cmd_daemon_log_setup(cfg, 1);
	rc = daemon_main(ctx->config_path, cfg, mode);
	log_close();
	config_free(cfg);
	return rc;
}

int
cmd_run(struct mxf_ctx *ctx, int argc, char **argv)
{
	return cmd_daemon_common(ctx, argc, argv, DAEMON_RUN);
}

int
cmd_once(struct mxf_ctx *ctx, int argc, char **argv)
{
	return cmd_daemon_common(ctx, argc, argv, DAEMON_ONCE);
}

int
cmd_plan(struct mxf_ctx *ctx, int argc, char **argv)
{
	return cmd_daemon_common(ctx, argc, argv, DAEMON_PLAN);
}

static void
fmt_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0) {
		snprintf(buf, len, "never");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void
status_print(const struct config *cfg, const struct state *st, uint64_t now)
{
	char t1[64], t2[64];

	fmt_time(st->saved_ms, t1, sizeof(t1));
	printf("state of %s, written %s\n", cfg->general.state_file, t1);
	for (size_t s = 0; s < cfg->nservers; s++) {
		const struct health_server *hs = &st->health->servers[s];
		enum health_pin pin = health_pinned(st->health, s, now);

		fmt_time(hs->since_ms, t1, sizeof(t1));
		printf("server %s (%s): %s since %s", cfg->servers[s].id, cfg->servers[s].address,
		       health_state_name(hs->state), t1);
		if (pin != HEALTH_PIN_NONE) {
			fmt_time(hs->pin_until_ms, t2, sizeof(t2));
			printf(", pinned %s%s%s", health_pin_name(pin),
			       hs->pin_until_ms != 0 ? " until " : "", hs->pin_until_ms != 0 ? t2 : "");
		}
		printf("\n");
		for (size_t c = 0; c < hs->nchecks; c++) {
			const struct health_check *hc = &hs->checks[c];

			printf("  %-8s %s%s%s\n", hc->seen ? health_outcome_name(hc->last) : "-",
			       cfg->servers[s].checks[c], hc->reason[0] != '\0' ? ": " : "", hc->reason);
		}
	}
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];
		const struct failover_group_mem *m = &st->failover->groups[g];
		const struct failover_dns *seen = st->seen != NULL ? st->seen[g] : NULL;

		fmt_time(m->last_switch_ms, t1, sizeof(t1));
		printf("group %s (%s): active %s, last switch %s%s\n", gr->id, config_rtype_name(gr->type),
		       m->active >= 0 ? cfg->servers[m->active].id : "unknown", t1,
		       st->failover->isolated ? ", ISOLATED: no DNS changes" : "");
		for (size_t z = 0; seen != NULL && z < gr->nzones; z++) {
			for (size_t r = 0; r < gr->nrecords; r++) {
				const struct failover_rec_view *v = &seen->zones[z].recs[r];
				char *owner = failover_owner_name(gr->zones[z], gr->records[r]);

				printf("  %-32s ", owner != NULL ? owner : "?");
				if (v->status == FAILOVER_REC_PRESENT)
					for (size_t i = 0; i < v->nvalues; i++)
						printf("%s%s", i > 0 ? ", " : "", v->values[i]);
				else
					printf("(%s)", failover_rec_status_name(v->status));
				printf("\n");
				free(owner);
			}
		}
	}
	status_print_quorum(cfg, st);
	if (state_event_count(st) > 0)
		printf("recent events:\n");
	for (size_t i = state_event_count(st) > 20 ? state_event_count(st) - 20 : 0;
	     i < state_event_count(st); i++) {
		const struct state_event *e = state_event_get(st, i);

		fmt_time(e->at_ms, t1, sizeof(t1));
		if (failover_event_self_named(e->type))
			printf("  %s %s\n", t1, e->detail);
		else
			printf("  %s %s: %s\n", t1, failover_event_name(e->type), e->detail);
	}
}

static void
status_set(struct status_verdict *v, int code, const char *word)
{
	v->code = code;
	v->word = word;
}

/*
 * The verdict on @st (loaded from the file, pins applied) at @now: stale
 * first (nothing in it can be believed), then every server of a group
 * down, isolated, a server down or a check failing or an active server not
 * up (degraded), else ok.  A live daemon's note that it cannot write the
 * state makes a fresh-looking state degraded at least.
 */
static void
status_judge(const struct config *cfg, const struct state *st, uint64_t now,
	     struct status_verdict *v)
{
	uint64_t stale_ms = state_stale_after_ms(cfg);
	uint64_t age = now > st->saved_ms ? now - st->saved_ms : 0;
	int held = state_file_lock_probe(cfg->general.lock_file, &v->pid, v->note, sizeof(v->note));
	size_t m = 0;

	v->age_s = age / 1000;
	v->stale_s = stale_ms / 1000;
	status_set(v, MXF_EXIT_OK, "ok");
	v->msg[0] = '\0';
	if (held != 1)
		v->pid = 0;
	if (st->saved_ms == 0 || age > stale_ms) {
		status_set(v, MXF_EXIT_STALE, "stale");
		if (held == 1 && v->note[0] != '\0')
			snprintf(v->msg, sizeof(v->msg),
				 "state %llu s old: mxfailover (pid %ld) is running but cannot "
				 "write its state: %s",
				 (unsigned long long)v->age_s, v->pid, v->note);
		else if (held == 1)
			/* pid 0: a holder that wrote no record (an older version). */
			snprintf(v->msg, sizeof(v->msg),
				 "state %llu s old: %s%.0ld%s holds the lock %s but has not "
				 "written the state for longer than %llu s: is it stuck?",
				 (unsigned long long)v->age_s,
				 v->pid > 0 ? "mxfailover (pid " : "a process", v->pid,
				 v->pid > 0 ? ")" : "", cfg->general.lock_file,
				 (unsigned long long)(stale_ms / 1000));
		else
			snprintf(v->msg, sizeof(v->msg),
				 "state %llu s old: is the daemon running?%s%s",
				 (unsigned long long)v->age_s, held < 0 ? " (" : "",
				 held < 0 ? v->note : "");
		if (held < 0 && strlen(v->msg) + 2 <= sizeof(v->msg))
			strcat(v->msg, ")");
		if (held != 1)
			v->note[0] = '\0';
		return;
	}
	if (held != 1)
		v->note[0] = '\0';
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];
		bool all = gr->nservers > 0;

		for (size_t i = 0; i < gr->nservers; i++)
			all = all &&
			      health_effective(st->health, gr->servers[i], now) == HEALTH_DOWN;
		if (all) {
			status_set(v, MXF_EXIT_ALLDOWN, "all_down");
			snprintf(v->msg, sizeof(v->msg), "every server of group %s is down",
				 gr->id);
			return;
		}
	}
	if (st->failover->isolated) {
		status_set(v, MXF_EXIT_DEGRADED, "isolated");
		snprintf(v->msg, sizeof(v->msg),
			 "isolated: every witness fails, no DNS change is made");
		return;
	}
	if (status_quorum_lost(cfg, st, v->msg, sizeof(v->msg))) {
		status_set(v, MXF_EXIT_DEGRADED, "quorum_lost");
		return;
	}
	for (size_t s = 0; s < cfg->nservers; s++) {
		const struct health_server *hs = &st->health->servers[s];
		bool failing = false;

		for (size_t c = 0; c < hs->nchecks; c++)
			failing = failing ||
				  (hs->checks[c].seen && hs->checks[c].last == HEALTH_FAIL);
		if (health_effective(st->health, s, now) == HEALTH_DOWN || failing) {
			m += (size_t)snprintf(
				v->msg + m, sizeof(v->msg) - m, "%s%s %s",
				m == 0 ? "degraded: " : ", ", cfg->servers[s].id,
				health_effective(st->health, s, now) == HEALTH_DOWN
					? "down"
					: "has a failing check");
			m = m < sizeof(v->msg) ? m : sizeof(v->msg) - 1; /* cut: stay inside */
			status_set(v, MXF_EXIT_DEGRADED, "degraded");
		}
	}
	for (size_t g = 0; g < cfg->ngroups; g++) {
		long a = st->failover->groups[g].active;

		if (a >= 0 && health_effective(st->health, (size_t)a, now) == HEALTH_UP)
			continue;
		m += (size_t)snprintf(v->msg + m, sizeof(v->msg) - m,
				      "%sgroup %s: %s", m == 0 ? "degraded: " : ", ",
				      cfg->groups[g].id,
				      a < 0 ? "no active server known" : "active server not up");
		m = m < sizeof(v->msg) ? m : sizeof(v->msg) - 1;
		status_set(v, MXF_EXIT_DEGRADED, "degraded");
	}
	/* Records failover no longer moves (changed by hand: left alone) and
	 * zones whose update keeps failing leave the domain unprotected even
	 * with every server up. */
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];
		const struct failover_group_mem *gm = &st->failover->groups[g];

		for (size_t z = 0; z < gr->nzones && z < gm->nzones; z++) {
			if (gm->zones[z].failed) {
				m += (size_t)snprintf(v->msg + m, sizeof(v->msg) - m,
						      "%sgroup %s: updates of zone %s fail",
						      m == 0 ? "degraded: " : ", ", gr->id,
						      gr->zones[z]);
				m = m < sizeof(v->msg) ? m : sizeof(v->msg) - 1;
				status_set(v, MXF_EXIT_DEGRADED, "degraded");
			}
			for (size_t r = 0; r < gr->nrecords && r < gm->nrecords; r++) {
				char *owner;

				if (!gm->hand_changed[z * gm->nrecords + r])
					continue;
				owner = failover_owner_name(gr->zones[z], gr->records[r]);
				m += (size_t)snprintf(v->msg + m, sizeof(v->msg) - m,
						      "%sgroup %s: %s changed by hand, left alone",
						      m == 0 ? "degraded: " : ", ", gr->id,
						      owner != NULL ? owner : gr->records[r]);
				m = m < sizeof(v->msg) ? m : sizeof(v->msg) - 1;
				free(owner);
				status_set(v, MXF_EXIT_DEGRADED, "degraded");
			}
		}
	}
	if (v->note[0] != '\0' && v->code == MXF_EXIT_OK) {
		status_set(v, MXF_EXIT_DEGRADED, "degraded");
		snprintf(v->msg, sizeof(v->msg), "mxfailover (pid %ld) cannot write its state: %s",
			 v->pid, v->note);
	}
}

/* The verdict as the "status" member of `status --json`. */
static json_t *
status_verdict_json(const struct status_verdict *v)
{
	json_t *o = json_pack("{s:s, s:i, s:s, s:I}", "verdict", v->word, "exit_code", v->code,
			      "message", v->msg, "state_age_s", (json_int_t)v->age_s);

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "daemon_pid", v->pid > 0 ? json_integer(v->pid) : json_null());
	json_object_set_new(o, "state_write_error",
			    v->note[0] != '\0' ? json_string(v->note) : json_null());
	return o;
}

int
cmd_status(struct mxf_ctx *ctx, int argc, char **argv)
{
	struct config *cfg = NULL;
	struct state *st = NULL;
	struct pins *pins = NULL;
	char err[512] = "";
	bool json = false, plugin = false;
	uint64_t now = clock_wall_ms();
	struct status_verdict verdict;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--plugin") == 0)
			plugin = true;
		else
			return cmd_usage_error("status", "unknown argument '%s'", argv[i]);
	}
	if (json && plugin)
		return cmd_usage_error("status", "--json and --plugin are two outputs: choose one");
	rc = cmd_load_config(ctx, &cfg);
	if (rc != 0 && plugin) {
		snprintf(err, sizeof(err),
			 "cannot use the configuration %s (`mxfailover config check` says why)",
			 ctx->config_path);
		return status_plugin_unknown(err);
	}
	if (rc != 0)
		return rc;
	rc = state_load(cfg->general.state_file, cfg, &st, err, sizeof(err));
	if (rc == MXF_ENOTFOUND) {
		char why[600];

		snprintf(why, sizeof(why),
			 "no state yet (%s does not exist): run `mxfailover once` or start the daemon",
			 cfg->general.state_file);
		config_free(cfg);
		if (plugin)
			return status_plugin_unknown(why);
		fprintf(stderr, "mxfailover: %s\n", why);
		return MXF_EXIT_DEGRADED;
	}
	if (rc != 0) {
		config_free(cfg);
		if (plugin)
			return status_plugin_unknown(err);
		fprintf(stderr, "mxfailover: %s\n", err);
		return MXF_EXIT_DEGRADED;
	}
	if (err[0] != '\0' && !plugin) /* the zones' companion was ignored */
		fprintf(stderr, "mxfailover: warning: %s\n", err);
	/* The pins the daemon obeys from its next round on, not the ones it
	 * had applied when it last wrote the state. */
	if (pins_load(cfg, &pins, err, sizeof(err)) == 0)
		pins_apply(pins, st->health, now);
	else if (!plugin)
		fprintf(stderr, "mxfailover: warning: %s; showing the pins last applied\n", err);
	pins_free(pins);
	status_judge(cfg, st, now, &verdict);
	if (plugin) {
		rc = status_plugin_print(cfg, st, now, &verdict);
		state_free(st);
		config_free(cfg);
		return rc;
	}
	if (json) {
		json_t *root = NULL;

		/* state_to_json() records the time it is given as "saved_ms":
		 * give it the file's own, not now. */
		if (state_to_json(st, cfg, st->saved_ms, &root) == 0) {
			json_object_set_new(root, "status", status_verdict_json(&verdict));
			json_dumpf(root, stdout, JSON_INDENT(2));
			printf("\n");
		}
		json_decref(root);
	} else {
		if (verdict.msg[0] != '\0')
			printf("%s: %s\n", verdict.code == MXF_EXIT_STALE ? "STALE" : "WARNING",
			       verdict.msg);
		status_print(cfg, st, now);
	}
	rc = verdict.code;
	state_free(st);
	config_free(cfg);
	return rc;
}

int
cmd_pin(struct mxf_ctx *ctx, int argc, char **argv)
{
	struct config *cfg = NULL;
	uint64_t until = 0, dur = 0;
	const char *server, *how;
	enum health_pin pin;
	char err[512] = "";
	int rc;

	if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--for") == 0))
		return cmd_usage_error("pin", "expected: pin SERVER down|up [--for DURATION]");
	server = argv[1];
	how = argv[2];
	if (health_pin_parse(how, &pin) != 0 || pin == HEALTH_PIN_NONE)
		return cmd_usage_error("pin", "'%s': expected down or up", how);
	if (argc == 5) {
		if (value_parse_duration(argv[4], &dur) != 0 || dur == 0)
			return cmd_usage_error("pin", "'%s' is not a duration (e.g. 30m, 2h)", argv[4]);
		until = clock_wall_ms() + dur;
	}
	rc = cmd_load_config(ctx, &cfg);
	if (rc != 0)
		return rc;
	rc = pins_set(cfg, server, pin, until, err, sizeof(err));
	if (rc == MXF_ENOTFOUND) {
		config_free(cfg);
		return cmd_usage_error("pin", "no server '%s' in %s", server, ctx->config_path);
	}
	if (rc == 0 && err[0] != '\0')
		fprintf(stderr, "mxfailover: warning: %s\n", err);
	if (rc == 0)
		printf("server %s pinned %s%s%s; a running daemon applies it within one interval\n",
		       server, how, argc == 5 ? " for " : "", argc == 5 ? argv[4] : "");
	else
		fprintf(stderr, "mxfailover: %s\n", err);
	config_free(cfg);
	return rc == 0 ? MXF_EXIT_OK : MXF_EXIT_USAGE;
}

int
cmd_unpin(struct mxf_ctx *ctx, int argc, char **argv)
{
	struct config *cfg = NULL;
	struct pins *pins = NULL;
	char err[512] = "";
	int rc;

	if (argc != 2)
		return cmd_usage_error("unpin", "expected: unpin SERVER");
	rc = cmd_load_config(ctx, &cfg);
	if (rc != 0)
		return rc;
	/* Nothing to clear: say so rather than "unpinned", which would have
	 * the operator believe a pin had been in force.  (A pin set between
	 * this read and none being written stays: nothing is written.) */
	if (config_server_index(cfg, argv[1]) >= 0 && pins_load(cfg, &pins, err, sizeof(err)) == 0) {
		uint64_t now = clock_wall_ms();
		bool pinned = pins_get(pins, (size_t)config_server_index(cfg, argv[1]), now, NULL) !=
			      HEALTH_PIN_NONE;

		pins_free(pins);
		if (!pinned) {
			printf("server %s is not pinned: nothing to unpin\n", argv[1]);
			config_free(cfg);
			return MXF_EXIT_OK;
		}
	}
	err[0] = '\0';
	rc = pins_set(cfg, argv[1], HEALTH_PIN_NONE, 0, err, sizeof(err));
	if (rc == MXF_ENOTFOUND) {
		config_free(cfg);
		return cmd_usage_error("unpin", "no server '%s' in %s", argv[1], ctx->config_path);
	}
	if (rc == 0 && err[0] != '\0')
		fprintf(stderr, "mxfailover: warning: %s\n", err);
	if (rc == 0)
		printf("server %s unpinned\n", argv[1]);
	else
		fprintf(stderr, "mxfailover: %s\n", err);
	config_free(cfg);
	return rc == 0 ? MXF_EXIT_OK : MXF_EXIT_USAGE;
}
