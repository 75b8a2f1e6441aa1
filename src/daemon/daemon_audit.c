/*
 * daemon_audit.c -- the daemon's background audit; see daemon_audit.h.
 */
#include "daemon_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "audit.h"
#include "clock.h"
#include "failover.h"
#include "log.h"
#include "mxf.h"
#include "value.h"

struct daemon_audit {
	struct event_base *base;
	struct event *timer;
	struct audit_run *run;       /* the audit running, or NULL */
	const struct config *cfg;    /* the one the next audit uses (borrowed) */
	daemon_audit_view_fn view;
	void *arg;
	uint64_t started_mono_ms;
	struct findings found;
};

static void
daemon_audit_arm(struct daemon_audit *da, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	if (da->cfg->general.audit_interval_ms == 0)
		return;
	evtimer_add(da->timer, &tv);
}

/* The first "nameserver ADDR" of resolv.conf ($MXF_RESOLV_CONF) as an address.
 * The same rule as `mxfailover audit` without --resolver. */
static int
daemon_audit_resolver(struct audit_opts *o, char *why, size_t len)
{
	const char *path = getenv("MXF_RESOLV_CONF");
	char line[512], word[32], addr[256];
	char *host = NULL;
	uint16_t port = 53;
	FILE *f;
	int rc = MXF_ENOTFOUND;

	if (path == NULL)
		path = "/etc/resolv.conf";
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(why, len, "cannot read %s for a resolver", path);
		return MXF_EIO;
	}
	while (rc != 0 && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " %31s %255s", word, addr) != 2 || strcmp(word, "nameserver") != 0)
			continue;
		if (value_parse_hostport(addr, &host, &port, 53) == 0 &&
		    value_ip_sockaddr(host, port, &o->resolver, &o->resolver_len) != 0)
			rc = 0;
		free(host);
		host = NULL;
	}
	fclose(f);
	if (rc != 0)
		snprintf(why, len, "no usable nameserver in %s", path);
	return rc;
}

/* One event for a finding that came or went. */
static void
daemon_audit_event(struct daemon_audit *da, enum failover_event_type type,
		   const struct findings_item *it, uint64_t now_ms)
{
	const struct config *cfg;
	struct state *st;
	struct announce *an;
	struct failover_event e = {.type = type, .at_ms = now_ms, .group = -1, .server = -1,
				   .from = -1, .to = -1, .zone = -1, .record = -1};
	char line[FAILOVER_DETAIL_MAX - 64];

	da->view(da->arg, &cfg, &st, &an);
	findings_line(it, line, sizeof(line));
	snprintf(e.detail, sizeof(e.detail), "%s: %s%s", it->domain,
		 type == FAILOVER_EV_AUDIT_CLEAR ? "no longer found: " : "", line);
	if (st != NULL)
		state_add_event(st, cfg, &e);
	if (an != NULL)
		announce_event(an, cfg, &e, NULL, 0);
}

static void
daemon_audit_done(struct audit_report *const *r, size_t n, void *arg)
{
	struct daemon_audit *da = arg;
	struct findings_item *items;
	struct findings_changes ch;
	const struct config *cfg;
	struct state *st;
	struct announce *an;
	size_t total = 0, k = 0;
	unsigned checks = 0;
	uint64_t now = clock_wall_ms();

	da->run = NULL;
	da->found.running = false;
	for (size_t i = 0; i < n; i++)
		total += r[i]->nfindings;
	items = mxf_calloc(total, sizeof(*items));
	if (items == NULL) {
		snprintf(da->found.error, sizeof(da->found.error), "out of memory");
		goto next;
	}
	for (size_t i = 0; i < n; i++) {
		checks += r[i]->checks;
		for (size_t j = 0; j < r[i]->nfindings; j++) {
			const struct audit_finding *af = &r[i]->findings[j];

			items[k++] = (struct findings_item){
				.domain = r[i]->domain,
				.id = (char *)af->id,
				.severity = af->severity == AUDIT_ERROR	    ? FINDINGS_ERROR
					    : af->severity == AUDIT_WARNING ? FINDINGS_WARNING
									    : FINDINGS_INFO,
				.subject = af->subject,
				.message = af->message,
				.hint = af->hint,
			};
		}
	}
	/* Against what was told, which the state file keeps across restarts. */
	da->view(da->arg, &cfg, &st, &an);
	if (findings_update(&da->found, items, k, now, st != NULL ? &st->findings : NULL, &ch) !=
	    0) {
		snprintf(da->found.error, sizeof(da->found.error), "out of memory");
		free(items);
		goto next;
	}
	free(items);
	da->found.error[0] = '\0';
	da->found.checks = checks;
	da->found.seconds = (double)clock_mono_since_ms(da->started_mono_ms) / 1000.0;
	log_debug("audit: %zu domains, %u checks, %zu findings in %.1f s", n, checks,
		  da->found.n, da->found.seconds);
	for (size_t i = 0; i < ch.nadded; i++)
		daemon_audit_event(da, FAILOVER_EV_AUDIT_FINDING, &da->found.v[ch.added[i]], now);
	for (size_t i = 0; i < ch.ngone; i++)
		daemon_audit_event(da, FAILOVER_EV_AUDIT_CLEAR, &ch.gone[i], now);
	findings_changes_free(&ch);
next:
	daemon_audit_arm(da, da->cfg->general.audit_interval_ms);
}

/* Every zone of the configuration, each once (borrowed strings). */
static char **
daemon_audit_zones(const struct config *cfg, size_t *n)
{
	size_t cap = 0;
	char **v;

	for (size_t g = 0; g < cfg->ngroups; g++)
		cap += cfg->groups[g].nzones;
	v = mxf_calloc(cap, sizeof(*v));
	*n = 0;
	for (size_t g = 0; v != NULL && g < cfg->ngroups; g++)
		for (size_t z = 0; z < cfg->groups[g].nzones; z++) {
			bool seen = false;

			for (size_t i = 0; i < *n && !seen; i++)
				seen = strcmp(v[i], cfg->groups[g].zones[z]) == 0;
			if (!seen)
				v[(*n)++] = cfg->groups[g].zones[z];
		}
	return v;
}

static void
daemon_audit_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_audit *da = arg;
	struct audit_opts o = {.ns_port = 53, .smtp = true, .cfg = da->cfg};
	size_t n = 0;
	char **zones = NULL, why[sizeof(da->found.error)] = "";
	int err = 0;

	(void)fd;
	(void)what;
	if (da->run != NULL)
		return;
	o.timeout_ms = da->cfg->general.timeout_ms;
	if (daemon_audit_resolver(&o, why, sizeof(why)) != 0) {
		/* Said once per streak, not every interval. */
		if (strcmp(why, da->found.error) != 0)
			log_warn("audit: %s; trying again every %llu s", why,
				 (unsigned long long)(da->cfg->general.audit_interval_ms / 1000));
		snprintf(da->found.error, sizeof(da->found.error), "%s", why);
		daemon_audit_arm(da, da->cfg->general.audit_interval_ms);
		return;
	}
	zones = daemon_audit_zones(da->cfg, &n);
	if (zones == NULL || n == 0) {
		free(zones);
		return; /* nothing to audit */
	}
	da->started_mono_ms = clock_mono_ms();
	da->run = audit_run_start(da->base, &o, zones, n, daemon_audit_done, da, &err);
	free(zones);
	if (da->run == NULL) {
		snprintf(da->found.error, sizeof(da->found.error), "cannot start: %s",
			 mxf_strerror(err));
		log_warn("audit: %s", da->found.error);
		daemon_audit_arm(da, da->cfg->general.audit_interval_ms);
		return;
	}
	da->found.running = true;
}

int
daemon_audit_new(struct event_base *base, const struct config *cfg, daemon_audit_view_fn view,
		 void *arg, struct daemon_audit **out)
{
	struct daemon_audit *da = calloc(1, sizeof(*da));

	if (da == NULL)
		return MXF_ENOMEM;
	da->base = base;
	da->cfg = cfg;
	da->view = view;
	da->arg = arg;
	da->timer = evtimer_new(base, daemon_audit_timer_cb, da);
	if (da->timer == NULL) {
		free(da);
		return MXF_ENOMEM;
	}
	daemon_audit_arm(da, cfg->general.audit_interval_ms);
	*out = da;
	return 0;
}

void
daemon_audit_reload(struct daemon_audit *da, const struct config *ncfg)
{
	if (da == NULL)
		return;
	if (da->run != NULL) {
		audit_run_cancel(da->run);
		da->run = NULL;
		da->found.running = false;
	}
	evtimer_del(da->timer);
	da->cfg = ncfg;
	daemon_audit_arm(da, ncfg->general.audit_interval_ms);
}

const struct findings *
daemon_audit_findings(const struct daemon_audit *da)
{
	return da != NULL ? &da->found : NULL;
}

void
daemon_audit_free(struct daemon_audit *da)
{
	if (da == NULL)
		return;
	if (da->run != NULL)
		audit_run_cancel(da->run);
	event_free(da->timer);
	findings_clear(&da->found);
	free(da);
}
