/*
 * cmd_status_plugin.c -- `status --plugin`: the state as one line for
 * Nagios, Icinga and the other hosts of Monitoring Plugins, following their
 * development guidelines: "SERVICE STATE - text | perfdata", perfdata as
 * 'label'=value[UOM];[warn];[crit];[min];[max] separated by spaces, "U"
 * for a value that cannot be determined, and exit 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN.
 *
 * The judging is cmd_daemon.c's (struct status_verdict); this file only
 * maps it to the plugin's four states, adds what a plugin tells besides
 * (a group on its backup server is WARNING even when every server is up
 * again, as with failback = manual) and writes the line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cmd_status.h"
#include "failover.h"
#include "health.h"
#include "mxf.h"

static const char *const status_plugin_words[] = {
	[STATUS_PLUGIN_OK] = "OK",
	[STATUS_PLUGIN_WARNING] = "WARNING",
	[STATUS_PLUGIN_CRITICAL] = "CRITICAL",
	[STATUS_PLUGIN_UNKNOWN] = "UNKNOWN",
};

int
status_plugin_unknown(const char *why)
{
	printf("MXFAILOVER UNKNOWN - %s\n", why);
	return STATUS_PLUGIN_UNKNOWN;
}

/* @return whether group @g is active on another server than its first (the
 * preferred one). */
static bool
status_plugin_failed_over(const struct config *cfg, const struct state *st, size_t g)
{
	long a = st->failover->groups[g].active;

	return a >= 0 && cfg->groups[g].nservers > 0 && (size_t)a != cfg->groups[g].servers[0];
}

/*
 * The label of check @c of server @s: "mx1 smtp", the server and the check's
 * scheme; a second check of the same scheme is "mx1 smtp#2".  Labels hold
 * neither '=' nor a quote (server ids and schemes cannot).
 */
static void
status_plugin_label(const struct config *cfg, size_t s, size_t c, char *buf, size_t len)
{
	const char *const *checks = (const char *const *)cfg->servers[s].checks;
	size_t sl = strcspn(checks[c], ":"), nth = 1;

	for (size_t i = 0; i < c; i++)
		if (strcspn(checks[i], ":") == sl && strncmp(checks[i], checks[c], sl) == 0)
			nth++;
	if (nth > 1)
		snprintf(buf, len, "%s %.*s#%zu", cfg->servers[s].id, (int)sl, checks[c], nth);
	else
		snprintf(buf, len, "%s %.*s", cfg->servers[s].id, (int)sl, checks[c]);
}

int
status_plugin_print(const struct config *cfg, const struct state *st, uint64_t now,
		    const struct status_verdict *v)
{
	struct buf text = BUF_INIT(4096), perf = BUF_INIT(16384);
	size_t up = 0, failed_over = 0, all_down = 0, by_hand = 0, nrecords = 0;
	int code;

	switch (v->code) {
	case MXF_EXIT_OK: code = STATUS_PLUGIN_OK; break;
	case MXF_EXIT_STALE:
	case MXF_EXIT_ALLDOWN: code = STATUS_PLUGIN_CRITICAL; break;
	default: code = STATUS_PLUGIN_WARNING; break;
	}
	if (v->msg[0] != '\0')
		buf_printf(&text, "%s", v->msg);
	/* A stale state is not believed: what follows is only what was last
	 * known. */
	if (v->code == MXF_EXIT_STALE)
		buf_printf(&text, "; last known:");
	for (size_t s = 0; s < cfg->nservers; s++)
		up += health_effective(st->health, s, now) == HEALTH_UP;
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];
		long a = st->failover->groups[g].active;
		bool every = gr->nservers > 0;

		for (size_t i = 0; i < gr->nservers; i++)
			every = every &&
				health_effective(st->health, gr->servers[i], now) == HEALTH_DOWN;
		all_down += every;
		/* "...; last known: group mail on mx1; group b on ..." */
		if (v->code == MXF_EXIT_STALE && g == 0)
			buf_printf(&text, " ");
		else if (text.len > 0)
			buf_printf(&text, "; ");
		if (a < 0) {
			buf_printf(&text, "group %s: no active server known", gr->id);
		} else if (status_plugin_failed_over(cfg, st, g)) {
			size_t pref = gr->servers[0];
			enum health_state ps = health_effective(st->health, pref, now);

			/* A preferred server that is down is in the verdict already;
			 * one that is up tells why this is a warning. */
			failed_over++;
			buf_printf(&text, "group %s FAILED OVER to %s", gr->id, cfg->servers[a].id);
			if (ps != HEALTH_DOWN || v->msg[0] == '\0')
				buf_printf(&text, " (%s %s)", cfg->servers[pref].id,
					   health_state_name(ps));
		} else {
			buf_printf(&text, "group %s on %s", gr->id, cfg->servers[a].id);
		}
	}
	if (failed_over > 0 && code == STATUS_PLUGIN_OK)
		code = STATUS_PLUGIN_WARNING;
	buf_printf(&text, "%s%zu of %zu server%s up", text.len > 0 ? "; " : "", up, cfg->nservers,
		   cfg->nservers == 1 ? "" : "s");

	/* Thresholds as ranges: warn "0" alerts above zero. */
	buf_printf(&perf, "'servers_up'=%zu;;;0;%zu", up, cfg->nservers);
	buf_printf(&perf, " 'groups_failed_over'=%zu;0;;0;%zu", failed_over, cfg->ngroups);
	buf_printf(&perf, " 'groups_all_down'=%zu;;0;0;%zu", all_down, cfg->ngroups);
	buf_printf(&perf, " 'isolated'=%d;0;;0;1", st->failover->isolated ? 1 : 0);
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct failover_group_mem *gm = &st->failover->groups[g];

		nrecords += gm->nzones * gm->nrecords;
		for (size_t k = 0; k < gm->nzones * gm->nrecords; k++)
			by_hand += gm->hand_changed[k];
	}
	buf_printf(&perf, " 'records_changed_by_hand'=%zu;0;;0;%zu", by_hand, nrecords);
	if (st->saved_ms != 0)
		buf_printf(&perf, " 'state_age'=%llus;;%llu;0;", (unsigned long long)v->age_s,
			   (unsigned long long)v->stale_s);
	else
		buf_printf(&perf, " 'state_age'=U;;%llu;0;", (unsigned long long)v->stale_s);
	for (size_t s = 0; s < cfg->nservers; s++) {
		const struct health_server *hs = &st->health->servers[s];

		for (size_t c = 0; c < hs->nchecks && c < cfg->servers[s].nchecks; c++) {
			char label[160];

			status_plugin_label(cfg, s, c, label, sizeof(label));
			if (hs->checks[c].seen)
				buf_printf(&perf, " '%s'=%llu.%03llus;;;0;", label,
					   (unsigned long long)(hs->checks[c].elapsed_ms / 1000),
					   (unsigned long long)(hs->checks[c].elapsed_ms % 1000));
			else
				buf_printf(&perf, " '%s'=U;;;0;", label);
		}
	}
	if (buf_error(&text) != 0 || buf_error(&perf) != 0)
		code = status_plugin_unknown("out of memory");
	else
		printf("MXFAILOVER %s - %s | %s\n", status_plugin_words[code], buf_str(&text),
		       buf_str(&perf));
	buf_free(&text);
	buf_free(&perf);
	return code;
}
