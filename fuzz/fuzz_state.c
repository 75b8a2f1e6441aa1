/*
 * fuzz_state.c -- libFuzzer target: a state file's text parsed as
 * state_load does (json_loadb, state_from_json) for the fixed configuration
 * below, the one of the seeds (fuzz/corpus/state/, written by the system
 * tests); a state it accepts must save (state_to_json, json_dumps) and the
 * saved form load again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "config.h"
#include "state.h"

static const char fuzz_conf[] = "[general]\n"
				"fall = 2\n"
				"rise = 2\n"
				"log = stderr\n"
				"witness = tcp://127.0.0.99:25\n"
				"[dns]\n"
				"server = 127.0.0.1\n"
				"[server mx1]\n"
				"address = 127.0.0.11\n"
				"name = mx1.example.com.\n"
				"checks = tcp://127.0.0.11:25 smtp\n"
				"[server mx2]\n"
				"address = 127.0.0.12\n"
				"name = mx2.example.com.\n"
				"checks = tcp://127.0.0.12:25\n"
				"[group mail]\n"
				"servers = mx1 mx2\n"
				"zones = fo-a.fo.test fo-b.fo.test hold.fo.test pin.fo.test\n"
				"records = mx smtp imap mail pop3\n"
				"type = CNAME\n"
				"[group apex]\n"
				"servers = mx1 mx2\n"
				"zones = mx.fo.test\n"
				"records = @\n"
				"type = MX\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *
fuzz_config(void)
{
	static struct config *cfg;
	struct config_errors errs = {0};

	if (cfg == NULL && config_load_string("fuzz.conf", fuzz_conf, &cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
		abort();
	}
	config_errors_free(&errs);
	return cfg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct config *cfg = fuzz_config();
	struct state *st = NULL, *again = NULL;
	json_t *root, *saved = NULL;
	json_error_t jerr;
	char err[512];
	char *text;

	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return 0;
	if (state_from_json(root, cfg, &st, err, sizeof(err)) == 0) {
		if (state_to_json(st, cfg, st->saved_ms, &saved) != 0)
			abort();
		/* What was loaded must be savable: a state that cannot be written
		 * is a state file never saved again. */
		text = json_dumps(saved, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		if (text == NULL)
			abort();
		free(text);
		if (state_from_json(saved, cfg, &again, err, sizeof(err)) != 0) {
			fprintf(stderr, "saved state does not load: %s\n", err);
			abort();
		}
		state_free(again);
		json_decref(saved);
		state_free(st);
	}
	json_decref(root);
	return 0;
}
