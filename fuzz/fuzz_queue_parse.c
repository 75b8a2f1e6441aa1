/*
 * fuzz_queue_parse.c -- libFuzzer target: `postqueue -j` output as a backup
 * MX's ssh could send it, counted per zone, whole and as a cut output.
 */
#include <stdint.h>
#include <string.h>

#include "queue_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_zone zones[3] = {
		{.zone = "example.com."}, {.zone = "EXAMPLE.net"}, {.zone = "."}};
	struct queue_summary sum;
	char err[256];

	if (size > QUEUE_OUT_MAX)
		return 0;
	queue_parse((const char *)data, size, false, zones, 3, &sum, err, sizeof(err));
	queue_parse((const char *)data, size, true, zones, 3, &sum, err, sizeof(err));
	return 0;
}
