/*
 * fuzz_proto_pop3.c -- libFuzzer target: the POP3 parser through a
 * greeting, a CAPA list and status lines; the first byte picks the order.
 */
#include <stdint.h>
#include <string.h>

#include "proto_pop3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_pop3 pp;
	const char *p;
	size_t ll, used;
	unsigned kind;

	if (size == 0)
		return 0;
	kind = data[0] % 3;
	p = (const char *)data + 1;
	size--;
	proto_pop3_init(&pp, (enum proto_pop3_kind)kind);
	while (proto_line_find(p, size, PROTO_POP3_LINE_MAX, &ll, &used) == PROTO_COMPLETE) {
		if (proto_pop3_feed_line(&pp, p, ll) != PROTO_NEED_MORE) {
			kind = (kind + 1) % 3;
			proto_pop3_init(&pp, (enum proto_pop3_kind)kind);
		}
		p += used;
		size -= used;
	}
	return 0;
}
