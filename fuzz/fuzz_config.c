/*
 * fuzz_config.c -- libFuzzer target for the configuration loader (both the
 * native format and DNS_Failover's config.cfg, picked by the input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = {0};
	struct config *cfg = NULL;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string("fuzz.conf", text, &cfg, &errs) == 0)
		config_free(cfg);
	config_errors_free(&errs);
	free(text);
	return 0;
}
