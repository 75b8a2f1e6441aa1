/*
 * fuzz_proto_imap.c -- libFuzzer target: the IMAP parser through a
 * greeting and then tagged exchanges, fed lines as the engine cuts them.
 */
#include <stdint.h>
#include <string.h>

#include "proto_imap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct proto_imap im;
	size_t ll, used;

	proto_imap_init(&im);
	while (proto_line_find(p, size, PROTO_IMAP_LINE_MAX, &ll, &used) == PROTO_COMPLETE) {
		int rc = proto_imap_feed_line(&im, p, ll);

		if (rc == PROTO_ERROR)
			proto_imap_init(&im);
		else if (rc == PROTO_COMPLETE)
			proto_imap_expect_tagged(&im, "A1");
		p += used;
		size -= used;
	}
	return 0;
}
