/*
 * fuzz_proto_mysql.c -- libFuzzer target: the MySQL greeting parser on
 * every prefix length the engine might hand it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto_mysql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_mysql_greeting g;
	size_t have = 0, need = 0;

	/* As the engine would: read until the parser has what it asked for. */
	for (;;) {
		int rc = proto_mysql_parse_greeting(&g, data, have, &need);

		if (rc != PROTO_NEED_MORE)
			break;
		if (need <= have || need > 4 + PROTO_MYSQL_PAYLOAD_MAX)
			abort();
		if (need > size)
			break;
		have = need;
	}
	return 0;
}
