/*
 * quorum_fixture.c -- see quorum_fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quorum_fixture.h"

static const char conf[] = "[general]\n"
			   "log = stderr\n"
			   "[dns]\n"
			   "server = 127.0.0.1\n"
			   "[server mx1]\n"
			   "address = 192.0.2.10\n"
			   "name = mx1.example.com.\n"
			   "checks = smtp\n"
			   "[server mx2]\n"
			   "address = 192.0.2.11\n"
			   "name = mx2.example.com.\n"
			   "checks = smtp\n"
			   "[server mx3]\n"
			   "address = 192.0.2.12\n"
			   "name = mx3.example.com.\n"
			   "checks = smtp\n"
			   "[group mail]\n"
			   "servers = mx1 mx2 mx3\n"
			   "zones = example.com\n"
			   "records = smtp\n"
			   "type = CNAME\n";

struct config *
quorum_fixture_config(size_t nmonitors, size_t self, unsigned need, uint64_t heartbeat_ms,
		      uint64_t stale_ms)
{
	static const char *const ids[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
	struct config_errors errs = {0};
	struct config *cfg = NULL;
	int e = config_load_string("q.conf", conf, &cfg, &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
	config_errors_free(&errs);
	assert_int_equal(e, 0);
	assert_true(nmonitors <= sizeof(ids) / sizeof(ids[0]));
	cfg->quorum.enabled = true;
	cfg->quorum.monitors = calloc(nmonitors, sizeof(char *));
	assert_non_null(cfg->quorum.monitors);
	for (size_t i = 0; i < nmonitors; i++) {
		cfg->quorum.monitors[i] = strdup(ids[i]);
		assert_non_null(cfg->quorum.monitors[i]);
	}
	cfg->quorum.nmonitors = nmonitors;
	cfg->quorum.self = self;
	cfg->quorum.id = strdup(ids[self]);
	cfg->quorum.need = need;
	cfg->quorum.zone = strdup("example.com.");
	assert_non_null(cfg->quorum.id);
	assert_non_null(cfg->quorum.zone);
	cfg->quorum.heartbeat_ms = heartbeat_ms;
	cfg->quorum.stale_ms = stale_ms;
	cfg->general.interval_ms = 10000; /* the simulations' rounds */
	return cfg;
}

void
quorum_fixture_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	/* Freed here and zeroed, so that a config_free() that learns to free
	 * [quorum] (its reader is being written) finds nothing left. */
	for (size_t i = 0; i < cfg->quorum.nmonitors; i++)
		free(cfg->quorum.monitors[i]);
	free(cfg->quorum.monitors);
	free(cfg->quorum.id);
	free(cfg->quorum.zone);
	memset(&cfg->quorum, 0, sizeof(cfg->quorum));
	config_free(cfg);
}
