/*
 * status_metrics.c -- /metrics: the Prometheus text exposition of the
 * daemon's view (see status_http.h for the list).  Pure.
 *
 * Names follow blackbox_exporter where the meaning is the same (a check is
 * a probe: mxfailover_check_success, _duration_seconds,
 * _cert_expiry_timestamp_seconds, like probe_success, probe_duration_seconds
 * and probe_ssl_earliest_cert_expiry).  A 0/1 gauge never says "unknown"
 * with a third value: its sample is left out until the state is known, and
 * mxfailover_server_state carries unknown as a label of its own.  The 0.1
 * names the man page listed (mxfailover_server_up, _check_ok,
 * _group_active, _isolated, _rounds_total, _dns_updates_total) are kept.
 */
#include "status_http.h"

#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"
#include "status_audit.h"
#include "status_queue.h"
#include "status_quorum.h"
#include "status_view.h"

/* "# HELP" and "# TYPE" of one metric family. */
static void
metrics_family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The {server="..",check=".."} labels of check @c of server @s. */
static void
metrics_check_labels(struct buf *b, const struct config *cfg, size_t s, size_t c)
{
	buf_printf(b, "{server=\"");
	status_label(b, cfg->servers[s].id);
	buf_printf(b, "\",check=\"");
	status_label(b, cfg->servers[s].checks[c]);
	buf_printf(b, "\"}");
}

static void
metrics_server_label(struct buf *b, const struct config *cfg, size_t s)
{
	buf_printf(b, "{server=\"");
	status_label(b, cfg->servers[s].id);
	buf_printf(b, "\"}");
}

static void
metrics_group_label(struct buf *b, const struct config *cfg, size_t g)
{
	buf_printf(b, "{group=\"");
	status_label(b, cfg->groups[g].id);
	buf_printf(b, "\"}");
}

/* The per-check families; a check never run has no sample. */
static void
metrics_checks(struct buf *b, const struct config *cfg, const struct state *st)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{"mxfailover_check_success", "gauge",
		 "1 when the check's last result was up or warning, 0 when it failed."},
		{"mxfailover_check_ok", "gauge", "Same as mxfailover_check_success (0.1 name)."},
		{"mxfailover_check_warning", "gauge",
		 "1 when the check's last result was a warning (it counts as up)."},
		{"mxfailover_check_duration_seconds", "gauge",
		 "How long the check's last run took."},
		{"mxfailover_check_cert_expiry_timestamp_seconds", "gauge",
		 "When the TLS certificate the check last saw expires (Unix time)."},
	};

	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		metrics_family(b, fam[f].name, fam[f].type, fam[f].help);
		for (size_t s = 0; s < cfg->nservers; s++) {
			const struct health_server *hs = &st->health->servers[s];

			for (size_t c = 0; c < hs->nchecks; c++) {
				const struct health_check *hc = &hs->checks[c];

				if (!hc->seen || (f == 4 && hc->cert_expiry_s == 0))
					continue;
				buf_printf(b, "%s", fam[f].name);
				metrics_check_labels(b, cfg, s, c);
				if (f <= 1)
					buf_printf(b, " %d\n", hc->last != HEALTH_FAIL);
				else if (f == 2)
					buf_printf(b, " %d\n", hc->last == HEALTH_WARN);
				else if (f == 3)
					buf_printf(b, " %.3f\n", (double)hc->elapsed_ms / 1000.0);
				else
					buf_printf(b, " %lld\n", (long long)hc->cert_expiry_s);
			}
		}
	}
}

static void
metrics_servers(struct buf *b, const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	static const enum health_state states[] = {HEALTH_UP, HEALTH_DOWN, HEALTH_UNKNOWN};

	metrics_family(b, "mxfailover_server_up", "gauge",
		       "1 when the server is up, 0 when down (pins included); no sample while "
		       "unknown.");
	for (size_t s = 0; s < cfg->nservers; s++) {
		enum health_state hs = health_effective(st->health, s, now_ms);

		if (hs == HEALTH_UNKNOWN)
			continue;
		buf_printf(b, "mxfailover_server_up");
		metrics_server_label(b, cfg, s);
		buf_printf(b, " %d\n", hs == HEALTH_UP);
	}
	metrics_family(b, "mxfailover_server_state", "gauge",
		       "1 for the server's state (up, down or unknown), 0 for the others.");
	for (size_t s = 0; s < cfg->nservers; s++) {
		enum health_state hs = health_effective(st->health, s, now_ms);

		for (size_t i = 0; i < 3; i++) {
			buf_printf(b, "mxfailover_server_state{server=\"");
			status_label(b, cfg->servers[s].id);
			buf_printf(b, "\",state=\"%s\"} %d\n", health_state_name(states[i]),
				   hs == states[i]);
		}
	}
	metrics_family(b, "mxfailover_server_pinned", "gauge",
		       "1 when an operator pin is in force.");
	for (size_t s = 0; s < cfg->nservers; s++) {
		buf_printf(b, "mxfailover_server_pinned");
		metrics_server_label(b, cfg, s);
		buf_printf(b, " %d\n", health_pinned(st->health, s, now_ms) != HEALTH_PIN_NONE);
	}
	metrics_family(b, "mxfailover_server_state_change_timestamp_seconds", "gauge",
		       "When the server's checked state last changed (Unix time).");
	for (size_t s = 0; s < cfg->nservers; s++) {
		if (st->health->servers[s].since_ms == 0)
			continue;
		buf_printf(b, "mxfailover_server_state_change_timestamp_seconds");
		metrics_server_label(b, cfg, s);
		buf_printf(b, " %.3f\n", (double)st->health->servers[s].since_ms / 1000.0);
	}
}

static void
metrics_groups(struct buf *b, const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	metrics_family(b, "mxfailover_group_active", "gauge",
		       "1 for the server a group's records point at.");
	for (size_t g = 0; g < cfg->ngroups; g++) {
		long active = st->failover->groups[g].active;

		for (size_t i = 0; i < cfg->groups[g].nservers; i++) {
			size_t s = cfg->groups[g].servers[i];

			buf_printf(b, "mxfailover_group_active{group=\"");
			status_label(b, cfg->groups[g].id);
			buf_printf(b, "\",server=\"");
			status_label(b, cfg->servers[s].id);
			buf_printf(b, "\"} %d\n", active == (long)s);
		}
	}
	for (size_t pass = 0; pass < 2; pass++) {
		if (pass == 0)
			metrics_family(b, "mxfailover_group_failed_over", "gauge",
				       "1 while a group points at another server than its "
				       "preferred one; no sample while no server is known.");
		else
			metrics_family(b, "mxfailover_group_all_down", "gauge",
				       "1 while every server of the group is down.");
		for (size_t g = 0; g < cfg->ngroups; g++) {
			struct status_group_view v;

			status_view_group(cfg, st, g, now_ms, &v);
			if (pass == 0 && v.active < 0)
				continue;
			buf_printf(b, pass == 0 ? "mxfailover_group_failed_over"
						: "mxfailover_group_all_down");
			metrics_group_label(b, cfg, g);
			buf_printf(b, " %d\n", pass == 0 ? v.failed_over : v.all_down);
		}
	}
	metrics_family(b, "mxfailover_last_switch_timestamp_seconds", "gauge",
		       "When the group's records last moved (Unix time); no sample before the "
		       "first switch.");
	for (size_t g = 0; g < cfg->ngroups; g++) {
		uint64_t t = st->failover->groups[g].last_switch_ms;

		if (t == 0)
			continue;
		buf_printf(b, "mxfailover_last_switch_timestamp_seconds");
		metrics_group_label(b, cfg, g);
		buf_printf(b, " %.3f\n", (double)t / 1000.0);
	}
	metrics_family(b, "mxfailover_switches_total", "counter",
		       "Switches of the group's records (failover and failback), as kept in the "
		       "state file.");
	for (size_t g = 0; g < cfg->ngroups; g++) {
		buf_printf(b, "mxfailover_switches_total");
		metrics_group_label(b, cfg, g);
		buf_printf(b, " %llu\n",
			   (unsigned long long)(st->switches != NULL ? st->switches[g] : 0));
	}
	metrics_family(b, "mxfailover_record_changed_by_hand", "gauge",
		       "1 while a managed record points somewhere mxfailover did not put it.");
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];
		const struct failover_group_mem *m = &st->failover->groups[g];

		for (size_t z = 0; z < gr->nzones; z++) {
			for (size_t r = 0; r < gr->nrecords; r++) {
				char *owner = failover_owner_name(gr->zones[z], gr->records[r]);

				buf_printf(b, "mxfailover_record_changed_by_hand{group=\"");
				status_label(b, gr->id);
				buf_printf(b, "\",zone=\"");
				status_label(b, gr->zones[z]);
				buf_printf(b, "\",record=\"");
				status_label(b, owner != NULL ? owner : gr->records[r]);
				buf_printf(b, "\"} %d\n", m->hand_changed[z * m->nrecords + r]);
				free(owner);
			}
		}
	}
}

static void
metrics_witnesses(struct buf *b, const struct config *cfg, const struct state *st)
{
	metrics_family(b, "mxfailover_witness_up", "gauge",
		       "1 when the witness answered in the last round, 0 when it failed; no "
		       "sample before its first result.");
	for (size_t i = 0; i < cfg->general.nwitness && i < st->nwitness; i++) {
		if (!st->witness[i].seen)
			continue;
		buf_printf(b, "mxfailover_witness_up{witness=\"");
		status_label(b, cfg->general.witness[i]);
		buf_printf(b, "\"} %d\n", st->witness[i].up);
	}
	metrics_family(b, "mxfailover_isolated", "gauge",
		       "1 while every witness fails (no DNS changes).");
	buf_printf(b, "mxfailover_isolated %d\n", st->failover->isolated ? 1 : 0);
}

char *
status_http_metrics(const struct config *cfg, const struct state *st,
		    const struct status_counters *ctr, uint64_t now_ms)
{
	struct buf b = {0};

	metrics_family(&b, "mxfailover_build_info", "gauge",
		       "Always 1; the version is in the label.");
	buf_printf(&b, "mxfailover_build_info{version=\"%s\"} 1\n", MXF_VERSION_STRING);
	metrics_checks(&b, cfg, st);
	metrics_servers(&b, cfg, st, now_ms);
	metrics_groups(&b, cfg, st, now_ms);
	metrics_witnesses(&b, cfg, st);
	status_quorum_metrics(&b, cfg, st);
	status_audit_metrics(&b, ctr != NULL ? ctr->audit : NULL);
	status_queue_metrics(&b, ctr != NULL ? ctr->queue : NULL, (int64_t)(now_ms / 1000));
	if (ctr != NULL) {
		buf_printf(&b,
			   "# HELP mxfailover_rounds_total Rounds of checks finished.\n"
			   "# TYPE mxfailover_rounds_total counter\n"
			   "mxfailover_rounds_total %llu\n"
			   "# HELP mxfailover_round_duration_seconds Duration of the last round.\n"
			   "# TYPE mxfailover_round_duration_seconds gauge\n"
			   "mxfailover_round_duration_seconds %.3f\n"
			   "# HELP mxfailover_dns_updates_total Zone UPDATE messages by result.\n"
			   "# TYPE mxfailover_dns_updates_total counter\n"
			   "mxfailover_dns_updates_total{result=\"ok\"} %llu\n"
			   "mxfailover_dns_updates_total{result=\"failed\"} %llu\n"
			   "# HELP mxfailover_start_time_seconds When the daemon started.\n"
			   "# TYPE mxfailover_start_time_seconds gauge\n"
			   "mxfailover_start_time_seconds %llu\n",
			   (unsigned long long)ctr->rounds, (double)ctr->round_ms / 1000.0,
			   (unsigned long long)ctr->updates_ok,
			   (unsigned long long)ctr->updates_failed,
			   (unsigned long long)(ctr->started_ms / 1000));
		if (ctr->last_round_ms != 0)
			buf_printf(&b,
				   "# HELP mxfailover_last_round_timestamp_seconds When the last "
				   "round finished.\n"
				   "# TYPE mxfailover_last_round_timestamp_seconds gauge\n"
				   "mxfailover_last_round_timestamp_seconds %.3f\n",
				   (double)ctr->last_round_ms / 1000.0);
	}
	return buf_take(&b);
}
