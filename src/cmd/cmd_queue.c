/*
 * cmd_queue.c -- `mxfailover queue [--json] [--timeout DUR] [SERVER]`: what
 * each backup MX with a [server] queue holds in its Postfix queue for its
 * groups' zones, read now over SSH with `postqueue -j` (queue_read.h), all
 * servers at once.
 *
 * Exit 0: every queue read and none holds mail for the zones; 1: a queue
 * holds some (mail waits on a backup); 3: a queue could not be read (ssh
 * refused, not postqueue -j output, timed out); 2: usage or configuration
 * error, or no server has a queue.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "cmd.h"
#include "config.h"
#include "mxf.h"
#include "proc.h"
#include "queue_json.h"
#include "queue_read.h"
#include "value.h"

#define QUEUE_TIMEOUT_DEFAULT_MS 30000

struct queue_item {
	const struct config_server *server;
	struct queue_read *read;
	struct queue_result res;  /* copied from the callback */
	struct queue_zone *zones; /* the callback's zones, copied */
	char *zone_copy[QUEUE_ZONES_MAX];
	bool done;
	size_t *pending;
};

static void
queue_item_done(void *arg, const struct queue_result *r)
{
	struct queue_item *it = arg;

	it->res = *r;
	it->zones = mxf_calloc(r->nzones, sizeof(*it->zones));
	if (it->zones != NULL) {
		memcpy(it->zones, r->zones, r->nzones * sizeof(*it->zones));
		for (size_t i = 0; i < r->nzones; i++) {
			it->zone_copy[i] = strdup(r->zones[i].zone);
			it->zones[i].zone = it->zone_copy[i] != NULL ? it->zone_copy[i] : "?";
		}
	} else {
		it->res.nzones = 0;
	}
	it->res.zones = it->zones;
	it->done = true;
	(*it->pending)--;
}

static void
queue_print_text(const struct queue_item *it, int64_t now)
{
	const struct queue_result *r = &it->res;
	char span[40], when[40], took[24];

	value_format_duration_elapsed(r->took_ms, took, sizeof(took));
	if (r->rc != 0) {
		printf("%s (%s): could not read the queue: %s\n", it->server->id,
		       it->server->queue->url, r->error);
		return;
	}
	if (r->sum.matched == 0)
		printf("%s (%s): no mail held for its zones%s (%zu message%s in the queue, read in "
		       "%s)\n",
		       it->server->id, it->server->queue->url, r->sum.truncated ? " seen" : "",
		       r->sum.total, r->sum.total == 1 ? "" : "s", took);
	else
		printf("%s (%s): %s%zu message%s held for its zones, oldest %s ago (%s) (%zu in "
		       "the queue, read in %s)\n",
		       it->server->id, it->server->queue->url, r->sum.truncated ? "at least " : "",
		       r->sum.matched, r->sum.matched == 1 ? "" : "s",
		       value_format_duration_span(now - r->sum.oldest, span, sizeof(span)),
		       queue_json_time(r->sum.oldest, when, sizeof(when)), r->sum.total, took);
	for (size_t i = 0; i < r->nzones; i++) {
		const struct queue_zone *z = &r->zones[i];
		int zl = (int)strlen(z->zone);

		/* Zones as people write them, without the trailing dot. */
		if (zl > 1 && z->zone[zl - 1] == '.')
			zl--;
		if (z->messages == 0) {
			printf("  %-24.*s 0 messages\n", zl, z->zone);
			continue;
		}
		printf("  %-24.*s %zu message%s, %zu recipient%s, oldest %s ago%s%s\n", zl, z->zone,
		       z->messages, z->messages == 1 ? "" : "s", z->recipients,
		       z->recipients == 1 ? "" : "s",
		       value_format_duration_span(now - z->oldest, span, sizeof(span)),
		       z->oldest_reason[0] != '\0' ? ": " : "", z->oldest_reason);
	}
	if (r->sum.truncated)
		printf("  (the output was longer than %u bytes: counts are lower bounds)\n",
		       QUEUE_OUT_MAX);
}

int
cmd_queue(struct mxf_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct config *cfg = NULL;
	struct event_base *base = NULL;
	struct queue_item *items = NULL;
	uint64_t timeout_ms = QUEUE_TIMEOUT_DEFAULT_MS;
	bool json = false;
	size_t nitems = 0, pending = 0;
	int ch, rc, exit_code = MXF_EXIT_OK;
	int64_t now;

	while ((ch = getopt_long(argc, argv, "+jt:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = true; break;
		case 't':
			if (value_parse_duration(optarg, &timeout_ms) != 0 || timeout_ms == 0 ||
			    timeout_ms > 600000)
				return cmd_usage_error(
					"queue", "--timeout: '%s' is not a duration up to 10m",
					optarg);
			break;
		default: return cmd_usage_error("queue", "unknown option");
		}
	}
	if (argc - optind > 1)
		return cmd_usage_error("queue", "at most one SERVER");
	rc = cmd_load_config(ctx, &cfg);
	if (rc != 0)
		return rc;
	if (optind < argc) {
		long si = config_server_index(cfg, argv[optind]);

		if (si < 0) {
			fprintf(stderr, "mxfailover: queue: no [server %s] in %s\n", argv[optind],
				cfg->path);
			exit_code = MXF_EXIT_USAGE;
			goto out;
		}
		if (cfg->servers[si].queue == NULL) {
			fprintf(stderr,
				"mxfailover: queue: [server %s] has no queue = "
				"ssh://USER@HOST[:PORT]\n",
				argv[optind]);
			exit_code = MXF_EXIT_USAGE;
			goto out;
		}
	}
	items = mxf_calloc(cfg->nservers, sizeof(*items));
	base = event_base_new();
	if (items == NULL || base == NULL) {
		fprintf(stderr, "mxfailover: queue: out of memory\n");
		exit_code = MXF_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct config_server *s = &cfg->servers[i];
		char *zones[QUEUE_ZONES_MAX];
		size_t nz;
		char err[200];
		struct queue_item *it;

		if (s->queue == NULL || (optind < argc && strcmp(s->id, argv[optind]) != 0))
			continue;
		it = &items[nitems++];
		it->server = s;
		it->pending = &pending;
		nz = queue_read_server_zones(cfg, i, zones, QUEUE_ZONES_MAX);
		rc = queue_read_start(base, s->queue, zones, nz, timeout_ms, queue_item_done, it,
				      &it->read, err, sizeof(err));
		if (rc != 0) {
			it->done = true;
			it->res.rc = rc;
			snprintf(it->res.error, sizeof(it->res.error), "%s", err);
			continue;
		}
		pending++;
	}
	if (nitems == 0) {
		fprintf(stderr,
			"mxfailover: queue: no server has a queue = ssh://USER@HOST[:PORT] in %s\n",
			cfg->path);
		exit_code = MXF_EXIT_USAGE;
		goto out;
	}
	/* Bounded: every read has its deadline (ssh is killed at it). */
	while (pending > 0)
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			break;
	now = (int64_t)time(NULL);
	{
		json_t *arr = json ? json_array() : NULL;

		for (size_t i = 0; i < nitems; i++) {
			struct queue_item *it = &items[i];

			if (it->res.rc != 0)
				exit_code = MXF_EXIT_DNS;
			else if (it->res.sum.matched > 0 && exit_code == MXF_EXIT_OK)
				exit_code = MXF_EXIT_DEGRADED;
			if (arr != NULL) {
				json_t *o = queue_json_result(&it->res, now);

				if (o != NULL) {
					json_object_set_new(o, "server",
							    json_string(it->server->id));
					json_object_set_new(o, "queue",
							    json_string(it->server->queue->url));
					json_array_append_new(arr, o);
				}
			} else {
				queue_print_text(it, now);
			}
		}
		if (arr != NULL) {
			char *s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
							  JSON_REAL_PRECISION(6));

			if (s != NULL)
				printf("%s\n", s);
			free(s);
			json_decref(arr);
		}
	}
out:
	for (size_t i = 0; items != NULL && i < nitems; i++) {
		queue_read_free(items[i].read);
		for (size_t z = 0; z < items[i].res.nzones; z++)
			free(items[i].zone_copy[z]);
		free(items[i].zones);
	}
	free(items);
	if (base != NULL) {
		proc_release(base);
		event_base_free(base);
	}
	config_free(cfg);
	return exit_code;
}
