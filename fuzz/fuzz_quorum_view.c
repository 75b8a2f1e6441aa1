/*
 * fuzz_quorum_view.c -- libFuzzer target: another monitor's view record as
 * DNS hands it over, the RDATA of one TXT record (character-strings, each
 * a length byte and that many bytes), read by quorum_view_parse for a
 * configuration of three servers.  What it accepts must be written back by
 * quorum_view_format and read again to the same view: the reader and the
 * writer agree on the grammar.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "quorum.h"

#define FUZZ_MAX_STRINGS 64

static const char fuzz_conf[] = "[general]\nlog = stderr\n[dns]\nserver = 127.0.0.1\n"
				"[server mx1]\naddress = 192.0.2.1\nname = mx1.example.com.\n"
				"checks = smtp\n"
				"[server mx2]\naddress = 192.0.2.2\nname = mx2.example.com.\n"
				"checks = smtp\n"
				"[server at]\naddress = 192.0.2.3\nname = mx3.example.com.\n"
				"checks = smtp\n"
				"[group mail]\nservers = mx1 mx2 at\nzones = example.com\n"
				"records = smtp\ntype = CNAME\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *
fuzz_config(void)
{
	static struct config *cfg;
	struct config_errors errs = {0};

	if (cfg == NULL && config_load_string("fuzz.conf", fuzz_conf, &cfg, &errs) != 0)
		abort();
	config_errors_free(&errs);
	return cfg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct config *cfg = fuzz_config();
	const char *strs[FUZZ_MAX_STRINGS];
	size_t lens[FUZZ_MAX_STRINGS], n = 0, off = 0;
	struct quorum_view v, again;
	char **out = NULL;
	size_t nout = 0;
	char err[256];

	while (off < size && n < FUZZ_MAX_STRINGS) {
		size_t len = data[off++];
		if (len > size - off)
			return 0; /* not a well-formed RDATA */
		strs[n] = (const char *)data + off;
		lens[n++] = len;
		off += len;
	}
	if (quorum_view_init(&v, cfg) != 0 || quorum_view_init(&again, cfg) != 0)
		abort();
	if (quorum_view_parse(cfg, strs, lens, n, &v, err, sizeof(err)) == 0) {
		if (quorum_view_format(cfg, &v, &out, &nout) != 0)
			abort();
		if (quorum_view_parse(cfg, (const char *const *)out, NULL, nout, &again, err,
				      sizeof(err)) != 0)
			abort();
		if (strcmp(v.boot, again.boot) != 0 || v.seq != again.seq ||
		    v.has_at != again.has_at || v.at_s != again.at_s ||
		    memcmp(v.states, again.states, cfg->nservers * sizeof(*v.states)) != 0)
			abort();
		quorum_strs_free(out, nout);
	} else if (strlen(err) == 0 || strchr(err, '\n') != NULL) {
		abort(); /* a refusal says why, on one line */
	}
	quorum_view_clear(&v);
	quorum_view_clear(&again);
	return 0;
}
