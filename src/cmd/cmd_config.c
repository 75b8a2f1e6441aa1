/*
 * cmd_config.c -- `mxfailover config check`: validate and summarise.
 *
 * Beyond what config_load() checks, the TSIG key file is read here (its
 * syntax and its permissions), because that is what a daemon would trip
 * over at its first update.  Errors print as FILE:LINE: message, in line
 * order; exit 2.  A configuration that loads may still protect nothing
 * somewhere (config_warnings): those print as FILE:LINE: warning: message
 * on stderr and the exit stays 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "dns_keyfile.h"
#include "dns_tsig.h"
#include "mxf.h"
#include "value.h"

static void
print_duration(FILE *out, uint64_t ms)
{
	char b[VALUE_DURATION_BUF];

	fputs(value_format_duration(ms, b, sizeof(b)), out);
}

/* "quorum: site-a of site-a site-b site-c, need 2, views in example.com, ...". */
static void
print_quorum(FILE *out, const struct config_quorum *q)
{
	if (!q->enabled) {
		fprintf(out, "quorum: none: this monitor decides alone\n");
		return;
	}
	fprintf(out, "quorum: %s of", q->id);
	for (size_t i = 0; i < q->nmonitors; i++)
		fprintf(out, " %s", q->monitors[i]);
	fprintf(out, ", need %u, views in %s (as %s._mxfailover.%s), heartbeat ", q->need, q->zone,
		q->id, q->zone);
	print_duration(out, q->heartbeat_ms);
	fprintf(out, ", stale after ");
	print_duration(out, q->stale_ms);
	fprintf(out, "\n");
}

static void
print_summary(FILE *out, const struct config *cfg, const struct dns_tsig_key *key,
	      size_t nwarnings)
{
	const struct config_general *g = &cfg->general;
	const struct config_notify *n = &cfg->notify;
	size_t nrecords = 0;

	fprintf(out, "configuration OK: %s (%s)", cfg->path,
		cfg->format == CONFIG_FORMAT_DNSFAILOVER ? "DNS_Failover config.cfg format"
							 : "mxfailover format");
	if (nwarnings > 0)
		fprintf(out, ", %zu warning%s (on stderr)", nwarnings, nwarnings == 1 ? "" : "s");
	fprintf(out, "\n");
	fprintf(out, "general: interval ");
	print_duration(out, g->interval_ms);
	fprintf(out, ", fastinter ");
	print_duration(out, g->fastinter_ms);
	fprintf(out, ", timeout ");
	print_duration(out, g->timeout_ms);
	fprintf(out, ", fall %u, rise %u, log %s%s\n", g->fall, g->rise, g->log,
		cfg->format == CONFIG_FORMAT_DNSFAILOVER ? " (DNS_Failover line format)" : "");
	fprintf(out, "  state file %s, lock file %s\n", g->state_file, g->lock_file);
	if (g->nwitness > 0) {
		fprintf(out, "  witnesses:");
		for (size_t i = 0; i < g->nwitness; i++)
			fprintf(out, " %s", g->witness[i]);
		fprintf(out, "\n");
	}
	if (g->status_listen != NULL)
		fprintf(out, "  status listens on %s\n", g->status_listen);

	fprintf(out, "dns: server %s port %u, ", cfg->dns.server, cfg->dns.port);
	if (key != NULL)
		fprintf(out, "key \"%s\" (%s) from %s", key->name, dns_tsig_alg_name(key->alg),
			cfg->dns.key_file);
	else
		fprintf(out, "no TSIG key: updates are unsigned (the server must allow them by address)");
	if (cfg->dns.ttl >= 0)
		fprintf(out, ", ttl %lld", (long long)cfg->dns.ttl);
	else
		fprintf(out, ", ttl kept");
	fprintf(out, ", timeout ");
	print_duration(out, cfg->dns.timeout_ms);
	fprintf(out, "\n");

	fprintf(out, "servers: %zu\n", cfg->nservers);
	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct config_server *s = &cfg->servers[i];

		fprintf(out, "  %s: address %s, name %s, %zu check%s\n", s->id, s->address,
			s->name != NULL ? s->name : "(none)", s->nchecks, s->nchecks == 1 ? "" : "s");
		for (size_t c = 0; c < s->nchecks; c++)
			fprintf(out, "    %s\n", s->checks[c]);
		if (s->queue != NULL)
			fprintf(out, "    queue: postqueue -j as %s on %s port %u over ssh\n", s->queue->user,
				s->queue->host, s->queue->port);
	}
	fprintf(out, "groups: %zu\n", cfg->ngroups);
	for (size_t i = 0; i < cfg->ngroups; i++) {
		const struct config_group *gr = &cfg->groups[i];

		fprintf(out, "  %s: type %s, servers", gr->id, config_rtype_name(gr->type));
		for (size_t s = 0; s < gr->nservers; s++)
			fprintf(out, "%s%s", s == 0 ? " " : " > ", cfg->servers[gr->servers[s]].id);
		fprintf(out, ", failback %s, hold_down ",
			gr->failback == CONFIG_FAILBACK_AUTO ? "auto" : "manual");
		print_duration(out, gr->hold_down_ms);
		fprintf(out, ", etrn %s\n", gr->etrn ? "yes" : "no");
		fprintf(out, "    zones:");
		for (size_t z = 0; z < gr->nzones; z++)
			fprintf(out, " %s%s", gr->zones[z],
				gr->zone_records_required != NULL && gr->zone_records_required[z]
					? " (every record must exist)"
					: "");
		fprintf(out, "\n    records:");
		for (size_t r = 0; r < gr->nrecords; r++)
			fprintf(out, " %s", gr->records[r]);
		fprintf(out, "\n    managed: %zu record%s (%s)\n", gr->nzones * gr->nrecords,
			gr->nzones * gr->nrecords == 1 ? "" : "s",
			gr->zone_records_required != NULL
				? "those that exist; one missing where every record must exist is "
				  "reported; none is created"
				: "those that exist; none is created");
		nrecords += gr->nzones * gr->nrecords;
	}
	print_quorum(out, &cfg->quorum);
	fprintf(out, "notify:");
	if (n->mail_to == NULL && n->webhook == NULL && n->exec == NULL)
		fprintf(out, " none");
	if (n->mail_to != NULL) {
		fprintf(out, " mail from %s to %s ", n->mail_from != NULL ? n->mail_from : "(default)",
			n->mail_to);
		if (n->via_active)
			fprintf(out, "through the active server, port %u%s", n->via_active_port,
				n->via_active_starttls ? " with STARTTLS" : "");
		else
			fprintf(out, "via %s", n->smtp_url);
		if (n->smtp_user != NULL)
			fprintf(out, " as %s", n->smtp_user);
	}
	if (n->webhook != NULL)
		fprintf(out, "%swebhook %s", n->mail_to != NULL ? ";" : " ", n->webhook);
	if (n->exec != NULL)
		fprintf(out, "%sexec %s", (n->mail_to != NULL || n->webhook != NULL) ? ";" : " ",
			n->exec);
	fprintf(out, "\n");
	(void)nrecords;
}

int
cmd_config(struct mxf_ctx *ctx, int argc, char **argv)
{
	struct dns_tsig_key *key = NULL;
	struct config *cfg = NULL;
	int rc;

	if (argc < 2 || strcmp(argv[1], "check") != 0)
		return cmd_usage_error("config", "expected 'config check'");
	if (argc > 2)
		return cmd_usage_error("config", "'config check' takes no arguments");
	rc = cmd_load_config(ctx, &cfg);
	if (rc != 0)
		return rc;
	if (cfg->dns.key_file != NULL) {
		char err[512] = "";
		int e = dns_keyfile_load(cfg->dns.key_file, NULL, &key, err, sizeof(err));

		if (e != 0) {
			/* The key file's own FILE:LINE, then where the config names it. */
			fprintf(stderr, "%s\n", err[0] != '\0' ? err : mxf_strerror(e));
			fprintf(stderr, "%s:%d: key_file '%s' cannot be used\n", cfg->path,
				cfg->dns.line_key_file, cfg->dns.key_file);
			config_free(cfg);
			return MXF_EXIT_USAGE;
		}
	}
	{
		struct config_errors warns = {0};

		if (config_warnings(cfg, &warns) != 0)
			fprintf(stderr, "mxfailover: out of memory\n");
		for (size_t i = 0; i < warns.n; i++) {
			if (warns.v[i].line > 0)
				fprintf(stderr, "%s:%d: warning: %s\n", warns.v[i].file,
					warns.v[i].line, warns.v[i].msg);
			else
				fprintf(stderr, "%s: warning: %s\n", warns.v[i].file, warns.v[i].msg);
		}
		print_summary(stdout, cfg, key, warns.n);
		config_errors_free(&warns);
	}
	dns_tsig_key_free(key);
	config_free(cfg);
	return MXF_EXIT_OK;
}
