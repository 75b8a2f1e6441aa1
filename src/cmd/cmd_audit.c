/*
 * cmd_audit.c -- `mxfailover audit [--json] [--resolver ADDR[:PORT]]
 * [--timeout DUR] [--no-smtp] [--allow-private PREFIX]... [DOMAIN...]`:
 * lint the mail DNS of domains (the audit engine, src/audit/) and print the
 * findings as text or JSON.
 *
 * Without DOMAIN every zone of the configuration is audited (a missing or
 * bad configuration exits 2); with DOMAIN the configuration is used when
 * one exists (for the failover checks of the zones it manages), and the
 * domain is audited alone when none does.  Lookups go to --resolver, else
 * the first nameserver of /etc/resolv.conf.  It changes nothing.
 * Exit 0 with no warning or error, 1 with any, 2 on a usage or
 * configuration error, 3 when a domain could not be resolved at all.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "audit.h"
#include "cmd.h"
#include "config.h"
#include "dns_client.h"
#include "mxf.h"
#include "value.h"

#define AUDIT_TIMEOUT_DEFAULT_MS 5000
#define AUDIT_TIMEOUT_MAX_MS (3600ULL * 1000)
#define AUDIT_ALLOW_MAX 64

struct audit_cli {
	bool json;
	bool done;
	int rc;
};

/* The first "nameserver ADDR" of resolv.conf ($MXF_RESOLV_CONF for tests). */
static int
system_resolver(char *buf, size_t size)
{
	const char *path = getenv("MXF_RESOLV_CONF");
	char line[512];
	FILE *f;
	int rc = MXF_ENOTFOUND;

	f = fopen(path != NULL ? path : "/etc/resolv.conf", "r");
	if (f == NULL)
		return MXF_EIO;
	while (fgets(line, sizeof(line), f) != NULL) {
		char word[32], addr[256];

		if (sscanf(line, " %31s %255s", word, addr) == 2 &&
		    strcmp(word, "nameserver") == 0) {
			snprintf(buf, size, "%s", addr);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* "ADDR", "ADDR:PORT", "[V6]:PORT" into an address: IP literals only. */
static int
parse_resolver(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char *host = NULL;
	uint16_t port;
	int rc;

	if (value_parse_hostport(s, &host, &port, 53) != 0)
		return MXF_EINVAL;
	rc = value_ip_sockaddr(host, port, ss, len) != 0 ? 0 : MXF_EINVAL;
	free(host);
	return rc;
}

/* Thousands of lookups at once need thousands of descriptors: use the hard limit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
print_text(struct audit_report *const *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned cnt[3] = {0, 0, 0};

		for (size_t j = 0; j < r[i]->nfindings; j++) {
			const struct audit_finding *f = &r[i]->findings[j];
			char sev[8];

			snprintf(sev, sizeof(sev), "%s", audit_severity_name(f->severity));
			for (char *p = sev; *p != '\0'; p++)
				*p = (char)(*p - 'a' + 'A');
			cnt[f->severity]++;
			printf("%-7s %s %s: %s\n", sev, f->id, f->subject, f->message);
			printf("        %s\n", f->hint);
		}
		printf("%s: %u error%s, %u warning%s, %u info (%u checks, %.2f s)%s\n",
		       r[i]->domain, cnt[AUDIT_ERROR], cnt[AUDIT_ERROR] == 1 ? "" : "s",
		       cnt[AUDIT_WARNING], cnt[AUDIT_WARNING] == 1 ? "" : "s", cnt[AUDIT_INFO],
		       r[i]->checks, r[i]->seconds, r[i]->unresolved ? ", not resolved" : "");
	}
}

static int
print_json(struct audit_report *const *r, size_t n)
{
	json_t *arr = json_array();
	char *s;

	if (arr == NULL)
		return MXF_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *o;

		if (audit_report_json(r[i], &o) != 0 || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return MXF_ENOMEM;
		}
	}
	s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(arr);
	if (s == NULL)
		return MXF_ENOMEM;
	printf("%s\n", s);
	free(s);
	return 0;
}

static void
audit_done(struct audit_report *const *r, size_t n, void *arg)
{
	struct audit_cli *cli = arg;
	bool unresolved = false, bad = false;

	for (size_t i = 0; i < n; i++) {
		unresolved = unresolved || r[i]->unresolved;
		bad = bad || audit_report_worst(r[i]) >= (int)AUDIT_WARNING;
	}
	cli->rc = unresolved ? MXF_EXIT_DNS : bad ? MXF_EXIT_DEGRADED : MXF_EXIT_OK;
	if (cli->json) {
		if (print_json(r, n) != 0) {
			fprintf(stderr, "mxfailover: audit: out of memory\n");
			cli->rc = MXF_EXIT_USAGE;
		}
	} else {
		print_text(r, n);
	}
	fflush(stdout);
	cli->done = true;
}

/* Every zone of the configuration, each once, in the order first named. */
static int
config_zones(const struct config *cfg, char ***out, size_t *n)
{
	char **v = NULL;

	*n = 0;
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t z = 0; z < cfg->groups[g].nzones; z++) {
			const char *zone = cfg->groups[g].zones[z];
			bool seen = false;
			char **nv;

			for (size_t i = 0; i < *n && !seen; i++)
				seen = strcmp(v[i], zone) == 0;
			if (seen)
				continue;
			nv = realloc(v, (*n + 1) * sizeof(*nv));
			if (nv == NULL) {
				free(v);
				return MXF_ENOMEM;
			}
			v = nv;
			v[(*n)++] = (char *)zone;
		}
	*out = v;
	return 0;
}

int
cmd_audit(struct mxf_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"resolver", required_argument, NULL, 'r'},
		{"timeout", required_argument, NULL, 't'},
		{"no-smtp", no_argument, NULL, 'n'},
		{"allow-private", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct audit_prefix allow[AUDIT_ALLOW_MAX];
	struct audit_opts o = {.timeout_ms = AUDIT_TIMEOUT_DEFAULT_MS, .smtp = true,
			       .ns_port = 53, .allow_private = allow};
	struct audit_cli cli = {.rc = MXF_EXIT_USAGE};
	struct config *cfg = NULL;
	struct event_base *base = NULL;
	struct audit_run *run;
	const char *resolver = NULL;
	char sysres[256];
	char **domains = NULL;
	size_t n = 0;
	bool own_domains = false;
	int ch, err = 0, rc = MXF_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "jr:t:np:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			cli.json = true;
			break;
		case 'r':
			resolver = optarg;
			break;
		case 't':
			if (value_parse_duration(optarg, &o.timeout_ms) != 0 || o.timeout_ms == 0 ||
			    o.timeout_ms > AUDIT_TIMEOUT_MAX_MS)
				return cmd_usage_error("audit", "bad --timeout '%s' (e.g. 5s, 500ms)",
						       optarg);
			break;
		case 'n':
			o.smtp = false;
			break;
		case 'p':
			if (o.nallow_private == AUDIT_ALLOW_MAX)
				return cmd_usage_error("audit", "more than %d --allow-private",
						       AUDIT_ALLOW_MAX);
			if (audit_prefix_parse(optarg, &allow[o.nallow_private]) != 0)
				return cmd_usage_error("audit",
						       "bad --allow-private '%s' (e.g. 10.0.0.0/8)",
						       optarg);
			o.nallow_private++;
			break;
		case 'h':
			printf("usage: mxfailover audit [--json] [--resolver ADDR[:PORT]] "
			       "[--timeout DUR] [--no-smtp] [--allow-private PREFIX] [DOMAIN...]\n");
			return MXF_EXIT_OK;
		default:
			return cmd_usage_error("audit", "unknown option");
		}
	}
	for (int i = optind; i < argc; i++) {
		char *norm = value_normalize_name(argv[i]);

		if (norm == NULL)
			return cmd_usage_error("audit", "'%s' is not a domain name", argv[i]);
		free(norm);
	}
	if (resolver == NULL) {
		if (system_resolver(sysres, sizeof(sysres)) != 0) {
			fprintf(stderr, "mxfailover: audit: no nameserver in /etc/resolv.conf; "
					"give --resolver ADDR\n");
			return MXF_EXIT_USAGE;
		}
		resolver = sysres;
	}
	if (parse_resolver(resolver, &o.resolver, &o.resolver_len) != 0)
		return cmd_usage_error("audit", "bad resolver '%s' (an address, e.g. 192.0.2.53:53)",
				       resolver);
	/* Without DOMAIN the configuration names the zones; with DOMAIN it is
	 * used when there is one (the failover checks need it). */
	if (optind == argc || ctx->config_path_given || access(ctx->config_path, F_OK) == 0) {
		rc = cmd_load_config(ctx, &cfg);
		if (rc != 0)
			return rc;
		o.cfg = cfg;
	}
	if (optind < argc) {
		domains = argv + optind;
		n = (size_t)(argc - optind);
	} else {
		if (config_zones(cfg, &domains, &n) != 0)
			goto nomem;
		own_domains = true;
		if (n == 0) {
			fprintf(stderr, "mxfailover: audit: %s names no zone; give DOMAIN\n",
				cfg->path);
			rc = MXF_EXIT_USAGE;
			goto out;
		}
	}
	raise_nofile();
	base = event_base_new();
	if (base == NULL)
		goto nomem;
	run = audit_run_start(base, &o, domains, n, audit_done, &cli, &err);
	if (run == NULL) {
		fprintf(stderr, "mxfailover: audit: %s\n", mxf_strerror(err));
		rc = err == MXF_EINVAL ? MXF_EXIT_USAGE : MXF_EXIT_DNS;
		goto out;
	}
	while (!cli.done)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	rc = cli.done ? cli.rc : MXF_EXIT_DNS;
	if (!cli.done)
		audit_run_cancel(run);
	goto out;
nomem:
	fprintf(stderr, "mxfailover: audit: out of memory\n");
	rc = MXF_EXIT_USAGE;
out:
	if (base != NULL)
		event_base_free(base);
	if (own_domains)
		free(domains);
	config_free(cfg);
	return rc;
}
