/*
 * cmd_probe.c -- `mxfailover probe [--json] [--timeout DUR] [--server NAME]
 * URL...`: run check URLs now, all at once on one event loop, and print one
 * result per URL in the order given.
 *
 * Every URL is validated before anything runs, so a typo exits 2 without
 * knocking on any server.  The exit code is 0 only when every probe is up,
 * else 1 (a warning counts as not up).  No configuration file is needed
 * unless --server is used.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>
#include <jansson.h>

#include "check.h"
#include "cmd.h"
#include "config.h"
#include "mxf.h"
#include "proc.h"
#include "value.h"

struct probe_item {
	const char *url;
	struct check_result res;
	bool done;
	struct probe_run *run;
};

struct probe_run {
	struct event_base *base;
	size_t pending;
};

static void
probe_done(const struct check_result *res, void *arg)
{
	struct probe_item *it = arg;

	it->res = *res;
	it->done = true;
	if (--it->run->pending == 0)
		event_base_loopbreak(it->run->base);
}

/* Thousands of probes need thousands of descriptors: use the hard limit. */
static void
raise_nofile(size_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * The longest --timeout: "86400m", the largest that probe's own parser
 * (which took at most 86400 of any unit) accepted before durations had one
 * grammar (value_parse_duration).
 */
#define PROBE_TIMEOUT_MAX_MS (86400ULL * 60000)

static int
parse_timeout(const char *s, uint64_t *ms)
{
	if (value_parse_duration(s, ms) != 0 || *ms == 0 || *ms > PROBE_TIMEOUT_MAX_MS)
		return MXF_EINVAL;
	return 0;
}

static void
print_text(const struct probe_item *items, size_t n)
{
	int w = 0;

	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(items[i].url);
		if (l > w)
			w = l;
	}
	if (w > 60)
		w = 60;
	for (size_t i = 0; i < n; i++) {
		char dur[VALUE_DURATION_BUF];

		printf("%-*s  %-7s  %8s  %s\n", w, items[i].url, check_state_name(items[i].res.state),
		       value_format_duration_elapsed(items[i].res.elapsed_ms, dur, sizeof(dur)),
		       items[i].res.reason);
	}
}

static int
print_json(const struct probe_item *items, size_t n)
{
	json_t *arr = json_array();
	char *s;

	if (arr == NULL)
		return MXF_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct check_result *r = &items[i].res;
		json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "url", items[i].url, "state",
				      check_state_name(r->state), "ms", (json_int_t)r->elapsed_ms,
				      "phase", check_phase_name(r->phase), "reason", r->reason);
		if (o == NULL) {
			json_decref(arr);
			return MXF_ENOMEM;
		}
		if (r->cert_days != INT32_MIN)
			json_object_set_new(o, "cert_days", json_integer(r->cert_days));
		json_array_append_new(arr, o);
	}
	s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(arr);
	if (s == NULL)
		return MXF_ENOMEM;
	printf("%s\n", s);
	free(s);
	return 0;
}

/* Append a configured server's check URLs to @urls. */
static int
add_server_checks(struct mxf_ctx *ctx, struct config **cfgp, const char *name,
		  const char ***urls, size_t *n)
{
	struct config *cfg;
	long idx;
	const char **v;

	if (*cfgp == NULL) {
		int rc = cmd_load_config(ctx, cfgp);
		if (rc != 0)
			return rc;
	}
	cfg = *cfgp;
	idx = config_server_index(cfg, name);
	if (idx < 0)
		return cmd_usage_error("probe", "no server '%s' in %s", name, cfg->path);
	v = realloc(*urls, (*n + cfg->servers[idx].nchecks + 1) * sizeof(*v));
	if (v == NULL) {
		fprintf(stderr, "mxfailover: probe: out of memory\n");
		return MXF_EXIT_USAGE;
	}
	for (size_t i = 0; i < cfg->servers[idx].nchecks; i++)
		v[(*n)++] = cfg->servers[idx].checks[i];
	*urls = v;
	return 0;
}

int
cmd_probe(struct mxf_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"server", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct config *cfg = NULL;
	const char **urls = NULL;
	struct probe_item *items = NULL;
	struct event_base *base = NULL;
	struct check_engine *eng = NULL;
	struct probe_run run = {0};
	uint64_t timeout_ms = 0;
	bool json = false;
	size_t n = 0;
	int ch, rc = MXF_EXIT_USAGE;
	char err[256];

	while ((ch = getopt_long(argc, argv, "jt:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 't':
			if (parse_timeout(optarg, &timeout_ms) != 0) {
				rc = cmd_usage_error("probe", "bad --timeout '%s' (e.g. 5s, 500ms)", optarg);
				goto out;
			}
			break;
		case 's':
			rc = add_server_checks(ctx, &cfg, optarg, &urls, &n);
			if (rc != 0)
				goto out;
			rc = MXF_EXIT_USAGE;
			break;
		case 'h':
			printf("usage: mxfailover probe [--json] [--timeout DUR] [--server NAME] URL...\n");
			rc = MXF_EXIT_OK;
			goto out;
		default:
			rc = cmd_usage_error("probe", "unknown option");
			goto out;
		}
	}
	for (int i = optind; i < argc; i++) {
		const char **v = realloc(urls, (n + 1) * sizeof(*v));
		if (v == NULL)
			goto nomem;
		urls = v;
		urls[n++] = argv[i];
	}
	if (n == 0) {
		rc = cmd_usage_error("probe", "no check URL given (e.g. smtp://192.0.2.10)");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_validate(urls[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "mxfailover: probe: bad check URL '%s': %s\n", urls[i], err);
			rc = MXF_EXIT_USAGE;
			goto out;
		}
	}
	/* A configured server's checks use the configured timeout. */
	if (timeout_ms == 0 && cfg != NULL)
		timeout_ms = cfg->general.timeout_ms;
	raise_nofile(n);
	items = calloc(n, sizeof(*items));
	base = event_base_new();
	if (items == NULL || base == NULL)
		goto nomem;
	eng = check_engine_new(base);
	if (eng == NULL) {
		fprintf(stderr, "mxfailover: probe: cannot set up the check engine (TLS trust store%s)\n",
			getenv("MXF_CA_FILE") != NULL ? " from MXF_CA_FILE" : "");
		rc = MXF_EXIT_USAGE;
		goto out;
	}
	run.base = base;
	run.pending = n;
	for (size_t i = 0; i < n; i++) {
		items[i].url = urls[i];
		items[i].run = &run;
		if (check_engine_start(eng, urls[i], timeout_ms, probe_done, &items[i], err,
				       sizeof(err)) != 0) {
			/* Validated above, so only memory can fail here. */
			items[i].done = true;
			items[i].res.state = CHECK_STATE_DOWN;
			snprintf(items[i].res.reason, sizeof(items[i].res.reason), "%s", err);
			run.pending--;
		}
	}
	if (run.pending > 0)
		event_base_dispatch(base);
	rc = MXF_EXIT_OK;
	for (size_t i = 0; i < n; i++)
		if (!items[i].done || items[i].res.state != CHECK_STATE_UP)
			rc = MXF_EXIT_DEGRADED;
	if (json) {
		if (print_json(items, n) != 0)
			goto nomem;
	} else {
		print_text(items, n);
	}
	fflush(stdout);
	goto out;
nomem:
	fprintf(stderr, "mxfailover: probe: out of memory\n");
	rc = MXF_EXIT_USAGE;
out:
	check_engine_free(eng);
	if (base != NULL) {
		proc_release(base);
		event_base_free(base);
	}
	free(items);
	free(urls);
	config_free(cfg);
	return rc;
}
