/*
 * fuzz_proto_smtp.c -- libFuzzer target: cut the input into lines as the
 * engine does and feed them to the SMTP reply parser.
 */
#include <stdint.h>
#include <string.h>

#include "proto_smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct proto_smtp_reply r;
	char d[PROTO_SMTP_LINE_MAX + 16];
	size_t ll, used;

	proto_smtp_reply_init(&r);
	while (proto_line_find(p, size, PROTO_SMTP_LINE_MAX, &ll, &used) == PROTO_COMPLETE) {
		int rc = proto_smtp_feed_line(&r, p, ll);

		if (rc == PROTO_COMPLETE)
			proto_smtp_reply_describe(&r, d, sizeof(d));
		if (rc != PROTO_NEED_MORE)
			proto_smtp_reply_init(&r);
		p += used;
		size -= used;
	}
	return 0;
}
