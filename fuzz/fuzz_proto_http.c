/*
 * fuzz_proto_http.c -- libFuzzer target: HTTP response heads fed line by
 * line, and the status code list parser on the first line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct proto_http_response r;
	struct proto_http_codes set;
	char err[96], codes[256], first[128];
	size_t ll, used;

	/* The first line, up to 127 bytes, also goes to the codes parser. */
	ll = strnlen(p, size < sizeof(first) - 1 ? size : sizeof(first) - 1);
	memcpy(first, p, ll);
	first[ll] = '\0';
	first[strcspn(first, "\r\n")] = '\0';
	if (proto_http_codes_parse(first, &set, err, sizeof(err)) == 0) {
		if (proto_http_codes_format(&set, codes, sizeof(codes)) != 0)
			abort();
	}

	proto_http_response_init(&r);
	while (proto_line_find(p, size, PROTO_HTTP_LINE_MAX, &ll, &used) == PROTO_COMPLETE) {
		int rc = proto_http_feed_line(&r, p, ll);

		if (rc == PROTO_COMPLETE)
			(void)proto_http_codes_match(&set, r.status);
		if (rc != PROTO_NEED_MORE)
			proto_http_response_init(&r);
		p += used;
		size -= used;
	}
	return 0;
}
