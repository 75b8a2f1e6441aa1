/*
 * fuzz_seedconf.c -- libFuzzer target: DNS_Failover's config.cfg reader
 * (seedconf_load) on any text, without the format detection in front of it
 * that fuzz_config goes through, then the defaults that follow a clean read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "seedconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = {0};
	struct config *cfg;
	char *text;

	/* config_load refuses a NUL byte before any reader runs, and hands the
	 * readers NUL-terminated text: so does this. */
	if (memchr(data, '\0', size) != NULL || (cfg = calloc(1, sizeof(*cfg))) == NULL)
		return 0;
	text = malloc(size + 1);
	config_defaults(cfg);
	cfg->path = strdup("config.cfg");
	if (text != NULL && cfg->path != NULL) {
		memcpy(text, data, size);
		text[size] = '\0';
		cfg->format = CONFIG_FORMAT_DNSFAILOVER;
		if (seedconf_load("config.cfg", text, size, cfg, &errs) == 0 && errs.n == 0)
			config_fill_defaults(cfg);
	}
	config_free(cfg);
	config_errors_free(&errs);
	free(text);
	return 0;
}
