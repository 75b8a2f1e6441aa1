/*
 * cmd_notify.c -- two operator commands for what happens around a failover
 * besides DNS:
 *
 *   mxfailover notify test [--event KIND] [--reason TEXT] [--server ID]
 *                          [--timeout DUR] [--attempts N] [--backoff DUR]
 *       sends one test event through every channel of [notify] and waits
 *       for the outcome, one line per channel ("mail: delivered",
 *       "webhook: failed: HTTP status 404").  Exit 0 when every channel
 *       delivered, 1 otherwise, 2 on a usage or configuration error.
 *
 *   mxfailover etrn [--timeout DUR] [--helo NAME] [--tls-name NAME]
 *                   SERVER[:PORT] ZONE...
 *       asks a backup MX to deliver the mail it queued for each ZONE (ETRN)
 *       and prints each zone's reply.  Exit 0 when every zone was accepted,
 *       1 otherwise, 2 on a usage error.
 *
 * Both run the same modules as the daemon (notify.c, etrn.c) on an event
 * loop of their own and return when every result is in; every wait is
 * bounded by the modules' timeouts.
 */
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "argv.h"
#include "cmd.h"
#include "config.h"
#include "dns_keyfile.h"
#include "dns_tsig.h"
#include "etrn.h"
#include "log.h"
#include "mxf.h"
#include "proc.h"
#include "notify.h"

/* ---------------------------------------------------------- notify test -- */

struct ntest {
	bool done[NOTIFY_CH_COUNT_];
	bool ok[NOTIFY_CH_COUNT_];
	char why[NOTIFY_CH_COUNT_][512];
};

static void
ntest_result(enum notify_channel ch, const struct notify_event *e, bool delivered,
	     const char *reason, void *arg)
{
	struct ntest *t = arg;

	if ((unsigned)ch >= NOTIFY_CH_COUNT_)
		return;
	t->done[ch] = true;
	t->ok[ch] = delivered;
	snprintf(t->why[ch], sizeof(t->why[ch]), "%s", reason != NULL ? reason : "");
}

/* The TSIG secret in the text form of the key file, to be scrubbed. */
static void
ntest_add_tsig_secret(struct notify *n, const struct config *cfg)
{
	struct dns_tsig_key *key = NULL;
	char err[256];
	unsigned char *b64;
	int len;

	if (cfg->dns.key_file == NULL ||
	    dns_keyfile_load(cfg->dns.key_file, NULL, &key, err, sizeof(err)) != 0)
		return;
	b64 = malloc(4 * ((key->secret_len + 2) / 3) + 1);
	if (b64 != NULL) {
		len = EVP_EncodeBlock(b64, key->secret, (int)key->secret_len);
		if (len > 0)
			notify_add_secret(n, (const char *)b64);
		explicit_bzero(b64, (size_t)(len > 0 ? len : 0));
		free(b64);
	}
	dns_tsig_key_free(key);
}

/* A name without its trailing dot, for texts. */
static char *
bare(const char *name)
{
	size_t l = strlen(name);

	return strndup(name, l > 0 && name[l - 1] == '.' ? l - 1 : l);
}

#define ntest_usage(fmt, arg) cmd_usage_error("notify", fmt, arg)

static int
cmd_notify_test(struct mxf_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"event", required_argument, NULL, 'e'},
		{"reason", required_argument, NULL, 'r'},
		{"server", required_argument, NULL, 's'},
		{"timeout", required_argument, NULL, 't'},
		{"attempts", required_argument, NULL, 'a'},
		{"backoff", required_argument, NULL, 'b'},
		{NULL, 0, NULL, 0},
	};
	enum notify_kind kind = NOTIFY_SWITCHED;
	const char *reason = NULL, *server_id = NULL;
	struct notify_opts opts = {0};
	struct config *cfg = NULL;
	struct event_base *base = NULL;
	struct notify *n = NULL;
	struct notify_event ev = {0};
	struct ntest t = {0};
	char **records = NULL, **zones = NULL;
	char *from = NULL, *to = NULL, *server = NULL;
	size_t nrec = 0, nzones = 0;
	char err[512];
	unsigned long ul;
	int ch, rc = MXF_EXIT_USAGE;
	unsigned chans;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+e:r:s:t:a:b:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			if (notify_kind_parse(optarg, &kind) != 0)
				return ntest_usage("unknown event kind '%s' (server_down, server_up, "
						   "switched, switch_failed, all_down, isolated, "
						   "isolation_over, changed_by_hand, record_missing, "
						   "queue_flush, reminder, switch_completed, "
						   "audit_finding, audit_clear, quorum_lost, "
						   "quorum_back)",
						   optarg);
			break;
		case 'r':
			reason = optarg;
			break;
		case 's':
			server_id = optarg;
			break;
		case 't':
			if (value_parse_duration(optarg, &opts.timeout_ms) != 0 || opts.timeout_ms == 0)
				return ntest_usage("--timeout: '%s' is not a duration", optarg);
			opts.exec_timeout_ms = opts.timeout_ms;
			if (opts.timeout_ms < 10000)
				opts.connect_timeout_ms = opts.timeout_ms;
			break;
		case 'a':
			if (value_parse_uint(optarg, 1, 20, &ul) != 0)
				return ntest_usage("--attempts: '%s' is not a number from 1 to 20", optarg);
			opts.attempts = (unsigned)ul;
			break;
		case 'b':
			if (value_parse_duration(optarg, &opts.backoff_ms) != 0 || opts.backoff_ms == 0)
				return ntest_usage("--backoff: '%s' is not a duration", optarg);
			break;
		default:
			return cmd_usage_error("notify", "unknown option");
		}
	}
	if (optind != argc)
		return ntest_usage("unexpected argument '%s'", argv[optind]);

	if (cmd_load_config(ctx, &cfg) != 0)
		return MXF_EXIT_USAGE;
	base = event_base_new();
	if (base == NULL) {
		fprintf(stderr, "mxfailover: notify: cannot create an event loop\n");
		goto out;
	}
	n = notify_new(base, &cfg->notify, &opts, err, sizeof(err));
	if (n == NULL) {
		fprintf(stderr, "%s: [notify] %s\n", cfg->path != NULL ? cfg->path : ctx->config_path, err);
		goto out;
	}
	chans = notify_channels(n);
	if (chans == 0) {
		fprintf(stderr, "%s: no notification channel configured in [notify] "
			"(mail_to with smtp_url, webhook, exec)\n", ctx->config_path);
		goto out;
	}
	ntest_add_tsig_secret(n, cfg);
	notify_set_result_cb(n, ntest_result, &t);

	/* A plausible event from the configuration's first group. */
	ev.kind = kind;
	ev.test = true;
	ev.time = time(NULL);
	ev.reason = reason != NULL ? reason : "test notice from `mxfailover notify test`";
	if (cfg->ngroups > 0) {
		const struct config_group *g = &cfg->groups[0];
		const struct config_server *s0 = &cfg->servers[g->servers[0]];
		const struct config_server *s1 = g->nservers > 1 ? &cfg->servers[g->servers[1]] : s0;

		ev.group = g->id;
		from = strdup(s0->id);
		to = strdup(s1->id);
		server = strdup(s0->id);
		if (from == NULL || to == NULL || server == NULL)
			goto oom;
		ev.from = from;
		ev.to = to;
		ev.server = server;
		zones = calloc(g->nzones + 1, sizeof(*zones));
		records = calloc(g->nzones * g->nrecords + 1, sizeof(*records));
		if (zones == NULL || records == NULL)
			goto oom;
		for (size_t z = 0; z < g->nzones; z++) {
			zones[nzones++] = strdup(g->zones[z]);
			if (zones[nzones - 1] == NULL)
				goto oom;
			for (size_t r = 0; r < g->nrecords; r++) {
				int k;
				if (strcmp(g->records[r], "@") == 0)
					k = asprintf(&records[nrec], "%s %s %s", g->zones[z],
						     config_rtype_name(g->type), s1->name);
				else
					k = asprintf(&records[nrec], "%s.%s %s %s", g->records[r], g->zones[z],
						     config_rtype_name(g->type), s1->name);
				if (k < 0)
					goto oom;
				nrec++;
			}
		}
		ev.zones = (const char *const *)zones;
		ev.nzones = nzones;
		ev.records = (const char *const *)records;
		ev.nrecords = nrec;
	}
	if (kind == NOTIFY_REMINDER) {
		ev.about = NOTIFY_SERVER_DOWN;
		ev.since = ev.time - 3600;
	}

	/* via_active: the test goes through the first server (or --server). */
	if (cfg->notify.via_active && cfg->notify.smtp_url == NULL && cfg->nservers > 0) {
		long idx = server_id != NULL ? config_server_index(cfg, server_id) : 0;
		char *name;

		if (idx < 0) {
			fprintf(stderr, "mxfailover: notify: no [server %s] in %s\n", server_id,
				ctx->config_path);
			goto out;
		}
		name = bare(cfg->servers[idx].name);
		if (name == NULL || notify_set_active(n, name, cfg->servers[idx].address) != 0) {
			free(name);
			goto oom;
		}
		free(name);
	}

	if (notify_send(n, &ev) < 0) {
		fprintf(stderr, "mxfailover: notify: cannot queue the event\n");
		rc = MXF_EXIT_DEGRADED;
		goto out;
	}
	/* Every delivery ends within attempts x (timeout + backoff): bounded. */
	for (unsigned i = 0; i < 1000000 && notify_pending(n) > 0; i++)
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			break;
	rc = MXF_EXIT_OK;
	for (unsigned c = 0; c < NOTIFY_CH_COUNT_; c++) {
		if (!(chans & (1u << c)))
			continue;
		if (t.done[c] && t.ok[c]) {
			printf("%s: delivered\n", notify_channel_name((enum notify_channel)c));
		} else {
			printf("%s: failed: %s\n", notify_channel_name((enum notify_channel)c),
			       t.done[c] ? t.why[c] : "no result");
			rc = MXF_EXIT_DEGRADED;
		}
	}
	fflush(stdout);
	goto out;
oom:
	fprintf(stderr, "mxfailover: notify: out of memory\n");
	rc = MXF_EXIT_DEGRADED;
out:
	notify_free(n);
	if (base != NULL) {
		proc_release(base);
		event_base_free(base);
	}
	argv_free(records);
	argv_free(zones);
	free(from);
	free(to);
	free(server);
	config_free(cfg);
	return rc;
}

int
cmd_notify(struct mxf_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage_error("notify", "missing subcommand (notify test)");
	if (strcmp(argv[1], "test") == 0)
		return cmd_notify_test(ctx, argc - 1, argv + 1);
	return cmd_usage_error("notify", "unknown subcommand '%s' (notify test)", argv[1]);
}

/* ----------------------------------------------------------------- etrn -- */

struct etrn_cli {
	bool done;
	int rc;
};

static void
etrn_cli_done(const struct etrn_result *r, void *arg)
{
	struct etrn_cli *c = arg;

	c->done = true;
	c->rc = r->all_accepted ? MXF_EXIT_OK : MXF_EXIT_DEGRADED;
	for (size_t i = 0; i < r->nzones; i++) {
		const struct etrn_zone_result *z = &r->zones[i];

		printf("%s: %s: %s\n", z->zone, z->accepted ? "accepted" : "failed", z->reply);
	}
	if (r->err != 0)
		fprintf(stderr, "mxfailover: etrn: %s: %s\n", r->server, r->reason);
	fflush(stdout);
}

int
cmd_etrn(struct mxf_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"timeout", required_argument, NULL, 't'},
		{"helo", required_argument, NULL, 'H'},
		{"tls-name", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	struct etrn_opts opts = {0};
	struct etrn_cli c = {0};
	struct event_base *base = NULL;
	char *host = NULL;
	char addr[INET6_ADDRSTRLEN + 1];
	uint16_t port = ETRN_DEFAULT_PORT;
	char err[256];
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+t:H:n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (value_parse_duration(optarg, &opts.timeout_ms) != 0 || opts.timeout_ms == 0)
				return cmd_usage_error("etrn", "--timeout: '%s' is not a duration", optarg);
			break;
		case 'H':
			opts.helo = optarg;
			break;
		case 'n':
			opts.tls_name = optarg;
			break;
		default:
			return cmd_usage_error("etrn", "unknown option");
		}
	}
	if (argc - optind < 2)
		return cmd_usage_error("etrn", "usage: etrn SERVER[:PORT] ZONE...");
	if (value_parse_hostport(argv[optind], &host, &port, ETRN_DEFAULT_PORT) != 0)
		return cmd_usage_error("etrn", "'%s' is not HOST or HOST:PORT", argv[optind]);
	if (value_is_ip(host) != 0) {
		snprintf(addr, sizeof(addr), "%s", host);
	} else {
		/* A name: resolve it here (a one-shot command may block). */
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
		int e = getaddrinfo(host, NULL, &hints, &ai);

		if (e != 0 || ai == NULL ||
		    getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0,
				NI_NUMERICHOST) != 0) {
			fprintf(stderr, "mxfailover: etrn: cannot resolve %s: %s\n", host,
				e != 0 ? gai_strerror(e) : "no address");
			if (ai != NULL)
				freeaddrinfo(ai);
			free(host);
			return MXF_EXIT_DEGRADED;
		}
		freeaddrinfo(ai);
	}
	free(host);
	base = event_base_new();
	if (base == NULL) {
		fprintf(stderr, "mxfailover: etrn: cannot create an event loop\n");
		return MXF_EXIT_DEGRADED;
	}
	if (etrn_start(base, addr, port, (const char *const *)argv + optind + 1,
		       (size_t)(argc - optind - 1), &opts, etrn_cli_done, &c, err, sizeof(err)) == NULL) {
		event_base_free(base);
		return cmd_usage_error("etrn", "%s", err);
	}
	/* The conversation has a deadline; this loop ends with it. */
	for (unsigned i = 0; i < 1000000 && !c.done; i++)
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			break;
	event_base_free(base);
	(void)ctx;
	return c.done ? c.rc : MXF_EXIT_DEGRADED;
}
