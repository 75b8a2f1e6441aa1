/*
 * test_value.c -- durations, numbers, booleans, addresses and names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "mxf.h"
#include "value.h"

static uint64_t
dur(const char *s)
{
	uint64_t ms = 12345;

	assert_int_equal(value_parse_duration(s, &ms), 0);
	return ms;
}

static void
test_duration(void **state)
{
	uint64_t ms;

	(void)state;
	/* What the configuration has always read. */
	assert_int_equal(dur("500ms"), 500);
	assert_int_equal(dur("10s"), 10000);
	assert_int_equal(dur("5m"), 300000);
	assert_int_equal(dur("5min"), 300000);
	assert_int_equal(dur("1h"), 3600000);
	assert_int_equal(dur("2d"), 172800000);
	assert_int_equal(dur("7"), 7000);
	assert_int_equal(dur("0"), 0);
	/* What probe --timeout has always read: fractions. */
	assert_int_equal(dur("1.5"), 1500);
	assert_int_equal(dur("1.5s"), 1500);
	assert_int_equal(dur(".5s"), 500);
	assert_int_equal(dur("5."), 5000);
	assert_int_equal(dur("0.25m"), 15000);
	assert_int_equal(dur("2.9ms"), 2);
	assert_int_equal(dur("1.001s"), 1001);
	assert_int_equal(dur("0.1234567891234s"), 123);
	/* Refused. */
	assert_int_equal(value_parse_duration(NULL, &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration(".", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("s", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("-1s", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("+1s", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration(" 1s", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("10 s", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("10x", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("1.2.3s", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("1e3", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("99999999999999999999s", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("9999999999999999d", &ms), MXF_EINVAL);
	assert_int_equal(value_parse_duration("18446744073709551615ms", &ms), MXF_EINVAL);
	assert_int_equal(dur("18446744073709551ms"), 18446744073709551ULL);
}

static void
test_format_duration(void **state)
{
	char b[VALUE_DURATION_BUF];
	uint64_t ms;

	(void)state;
	assert_string_equal(value_format_duration(0, b, sizeof(b)), "0");
	assert_string_equal(value_format_duration(1500, b, sizeof(b)), "1500ms");
	assert_string_equal(value_format_duration(10000, b, sizeof(b)), "10s");
	assert_string_equal(value_format_duration(300000, b, sizeof(b)), "5m");
	assert_string_equal(value_format_duration(3600000, b, sizeof(b)), "1h");
	assert_string_equal(value_format_duration(86400000, b, sizeof(b)), "24h");
	assert_string_equal(value_format_duration(5400000, b, sizeof(b)), "90m");
	/* It reads back. */
	for (uint64_t v = 1; v < 200000000; v = v * 7 + 3) {
		assert_int_equal(value_parse_duration(value_format_duration(v, b, sizeof(b)), &ms),
				 0);
		assert_int_equal(ms, v);
	}
	assert_string_equal(value_format_duration(3600000, b, 2), "1");

	assert_string_equal(value_format_duration_elapsed(0, b, sizeof(b)), "0 ms");
	assert_string_equal(value_format_duration_elapsed(999, b, sizeof(b)), "999 ms");
	assert_string_equal(value_format_duration_elapsed(1000, b, sizeof(b)), "1.0 s");
	assert_string_equal(value_format_duration_elapsed(12345, b, sizeof(b)), "12.3 s");

	assert_string_equal(value_format_duration_span(-5, b, sizeof(b)), "0 s");
	assert_string_equal(value_format_duration_span(45, b, sizeof(b)), "45 s");
	assert_string_equal(value_format_duration_span(60, b, sizeof(b)), "1 min");
	assert_string_equal(value_format_duration_span(12 * 60 + 59, b, sizeof(b)), "12 min");
	assert_string_equal(value_format_duration_span(2 * 3600 + 10 * 60, b, sizeof(b)),
			    "2 h 10 min");
	assert_string_equal(value_format_duration_span(3 * 86400 + 4 * 3600 + 5, b, sizeof(b)),
			    "3 d 4 h");
}

static void
test_uint_bool(void **state)
{
	unsigned long v;
	bool b = false;

	(void)state;
	assert_int_equal(value_parse_uint("53", 1, 65535, &v), 0);
	assert_int_equal(v, 53);
	assert_int_equal(value_parse_uint("0", 1, 65535, &v), MXF_EINVAL);
	assert_int_equal(value_parse_uint("65536", 1, 65535, &v), MXF_EINVAL);
	assert_int_equal(value_parse_uint("-1", 0, 65535, &v), MXF_EINVAL);
	assert_int_equal(value_parse_uint(" 1", 0, 65535, &v), MXF_EINVAL);
	assert_int_equal(value_parse_uint("1x", 0, 65535, &v), MXF_EINVAL);
	assert_int_equal(value_parse_uint("", 0, 65535, &v), MXF_EINVAL);
	assert_int_equal(value_parse_uint(NULL, 0, 65535, &v), MXF_EINVAL);
	assert_int_equal(value_parse_uint("99999999999999999999999", 0, 65535, &v), MXF_EINVAL);

	assert_int_equal(value_parse_bool("YES", &b), 0);
	assert_true(b);
	assert_int_equal(value_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(value_parse_bool("1", &b), 0);
	assert_true(b);
	assert_int_equal(value_parse_bool("0", &b), 0);
	assert_false(b);
	assert_int_equal(value_parse_bool("maybe", &b), MXF_EINVAL);
	assert_int_equal(value_parse_bool("", &b), MXF_EINVAL);
}

static void
test_ip_name(void **state)
{
	char *n;

	(void)state;
	assert_int_equal(value_is_ip("192.0.2.1"), 4);
	assert_int_equal(value_is_ip("2001:db8::1"), 6);
	assert_int_equal(value_is_ip("192.0.2"), 0);
	assert_int_equal(value_is_ip("mx1.example.com"), 0);

	n = value_normalize_name("MX1.Example.COM");
	assert_string_equal(n, "mx1.example.com.");
	free(n);
	n = value_normalize_name("_dmarc.example.com.");
	assert_string_equal(n, "_dmarc.example.com.");
	free(n);
	errno = 0;
	assert_null(value_normalize_name(""));
	assert_int_equal(errno, EINVAL);
	assert_null(value_normalize_name("."));
	assert_null(value_normalize_name("a..b"));
	assert_null(value_normalize_name("bad host"));
	{
		char label[70], name[300];

		memset(label, 'a', 64);
		label[64] = '\0';
		assert_null(value_normalize_name(label));
		label[63] = '\0';
		n = value_normalize_name(label);
		assert_non_null(n);
		free(n);
		memset(name, 'a', 254);
		for (size_t i = 1; i < 254; i += 2)
			name[i] = '.';
		name[253] = 'a';
		name[254] = '\0';
		assert_null(value_normalize_name(name)); /* 254 without a final dot */
		name[253] = '\0';
		n = value_normalize_name(name);
		assert_non_null(n);
		free(n);
	}
}

static void
test_hostname(void **state)
{
	(void)state;
	assert_true(value_is_hostname("mx1.example.com", 15));
	assert_true(value_is_hostname("mx1.example.com.", 16));
	assert_true(value_is_hostname("mx1.example.com-and-more", 15));
	assert_true(value_is_hostname("_x.a-b", 6));
	assert_false(value_is_hostname("-x.example.com", 14));
	assert_false(value_is_hostname("a.-x", 4));
	assert_false(value_is_hostname("a..", 3));
	assert_false(value_is_hostname("a..b", 4));
	assert_false(value_is_hostname("", 0));
	assert_false(value_is_hostname(".", 1));
	assert_false(value_is_hostname("a b", 3));
	/* value_normalize_name is the laxer of the two, as it always was. */
	{
		char *n = value_normalize_name("-x.example.com");

		assert_string_equal(n, "-x.example.com.");
		free(n);
	}
}

static void
test_hostport(void **state)
{
	char *h = NULL;
	uint16_t port = 0;

	(void)state;
	assert_int_equal(value_parse_hostport("192.0.2.1:5353", &h, &port, 53), 0);
	assert_string_equal(h, "192.0.2.1");
	assert_int_equal(port, 5353);
	free(h);
	assert_int_equal(value_parse_hostport("[::1]:54", &h, &port, 53), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(port, 54);
	free(h);
	assert_int_equal(value_parse_hostport("[::1]", &h, &port, 53), 0);
	assert_int_equal(port, 53);
	free(h);
	assert_int_equal(value_parse_hostport("2001:db8::1", &h, &port, 53), 0);
	assert_int_equal(port, 53);
	free(h);
	assert_int_equal(value_parse_hostport("ns.example.com", &h, &port, 53), 0);
	assert_string_equal(h, "ns.example.com");
	free(h);
	h = NULL;
	assert_int_equal(value_parse_hostport("1.2.3.4:0", &h, &port, 53), MXF_EINVAL);
	assert_int_equal(value_parse_hostport("1.2.3.4:70000", &h, &port, 53), MXF_EINVAL);
	assert_int_equal(value_parse_hostport("[::1", &h, &port, 53), MXF_EINVAL);
	assert_int_equal(value_parse_hostport("[::1]x", &h, &port, 53), MXF_EINVAL);
	assert_int_equal(value_parse_hostport("[ns.example.com]:53", &h, &port, 53), MXF_EINVAL);
	assert_int_equal(value_parse_hostport("bad host!", &h, &port, 53), MXF_EINVAL);
	assert_int_equal(value_parse_hostport(":53", &h, &port, 53), MXF_EINVAL);
	assert_null(h);
}

/* An IP literal and a port as a socket address, nothing for a name. */
static void
test_ip_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	char text[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(value_ip_sockaddr("192.0.2.1", 25, &ss, &len), 4);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 25);
	assert_string_equal(inet_ntop(AF_INET, &s4->sin_addr, text, sizeof(text)), "192.0.2.1");
	assert_int_equal(value_ip_sockaddr("2001:db8::1", 587, &ss, &len), 6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 587);
	assert_string_equal(inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof(text)), "2001:db8::1");
	len = 0;
	assert_int_equal(value_ip_sockaddr("mx1.example.com", 25, &ss, &len), 0);
	assert_int_equal(value_ip_sockaddr("[2001:db8::1]", 25, &ss, &len), 0);
	assert_int_equal(len, 0);
}

static void
test_format_hostport(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(value_format_hostport("192.0.2.1", 53, buf, sizeof(buf)), "192.0.2.1:53");
	assert_string_equal(value_format_hostport("ns1.example.com", 53, buf, sizeof(buf)),
			    "ns1.example.com:53");
	assert_string_equal(value_format_hostport("2001:db8::1", 25, buf, sizeof(buf)),
			    "[2001:db8::1]:25");
	assert_string_equal(value_format_hostport("[2001:db8::1]", 25, buf, sizeof(buf)),
			    "[2001:db8::1]:25");
}

/* value_utf8_clean of @in (NUL-terminated here for brevity) into 64 bytes. */
static const char *
clean(const char *in, size_t len)
{
	static char out[64];

	value_utf8_clean(out, sizeof(out), in, len);
	assert_true(value_utf8_valid(out, strlen(out)));
	return out;
}

static void
test_utf8_clean_bytes(void **state)
{
	(void)state;
	/* Clean text passes unchanged, multibyte characters included. */
	assert_string_equal(clean("220 mx ready", 12), "220 mx ready");
	assert_string_equal(clean("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14),
			    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* Controls: C0, DEL, a NUL byte inside the text, C1 (CSI is 2 bytes, one '?'). */
	assert_string_equal(clean("a\tb\r\nc\x7f", 7), "a?b??c?");
	assert_string_equal(clean("a\0b", 3), "a?b");
	assert_string_equal(clean("x\xc2\x9b" "31m", 6), "x?31m");
	/* Overlong forms: every byte is one '?'. */
	assert_string_equal(clean("\xc0\xaf", 2), "??");
	assert_string_equal(clean("\xc1\xbf", 2), "??");
	assert_string_equal(clean("\xe0\x80\xaf", 3), "???");
	assert_string_equal(clean("\xf0\x80\x80\xaf", 4), "????");
	/* Surrogates (U+D800, U+DFFF) and beyond U+10FFFF. */
	assert_string_equal(clean("\xed\xa0\x80", 3), "???");
	assert_string_equal(clean("\xed\xbf\xbf", 3), "???");
	assert_string_equal(clean("\xed\x9f\xbf", 3), "\xed\x9f\xbf"); /* U+D7FF is fine */
	assert_string_equal(clean("\xf4\x90\x80\x80", 4), "????");
	assert_string_equal(clean("\xf5\x80\x80\x80", 4), "????");
	assert_string_equal(clean("\xf4\x8f\xbf\xbf", 4), "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	/* Truncated sequences: at the end, before ASCII, before another lead byte. */
	assert_string_equal(clean("\xe2\x82", 2), "??");
	assert_string_equal(clean("\xe2\x82" "A", 3), "??A");
	assert_string_equal(clean("\xf0\x9f\x98\xe2\x82\xac", 6), "???\xe2\x82\xac");
	assert_string_equal(clean("\x80\xbf", 2), "??");
	assert_string_equal(clean("\xfe\xff", 2), "??");
	assert_true(value_utf8_valid("", 0));
	assert_false(value_utf8_valid("\xe2\x82", 2));
	assert_false(value_utf8_valid("a\nb", 3));
}

/* Every cut of a text with 1-, 2-, 3- and 4-byte characters, at every size. */
static void
test_utf8_clean_cut(void **state)
{
	static const char *const chars[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
	char in[256], out[64];

	(void)state;
	for (size_t k = 0; k < MXF_ARRAY_SIZE(chars); k++) {
		size_t w = strlen(chars[k]), len = 0;

		/* "ab" then the character repeated: every size puts the end of
		 * the room at every byte position inside one of them. */
		memcpy(in, "ab", 2);
		len = 2;
		while (len + w < 40) {
			memcpy(in + len, chars[k], w);
			len += w;
		}
		for (size_t size = 1; size <= sizeof(out); size++) {
			size_t o = value_utf8_clean(out, size, in, len);

			assert_int_equal(o, strlen(out));
			assert_true(o <= size - 1);
			assert_true(value_utf8_valid(out, o));
			if (len <= size - 1) {
				assert_memory_equal(out, in, len);
				assert_int_equal(o, len);
				continue;
			}
			/* Cut: a whole-character prefix of the input, then "...". */
			if (size >= 4) {
				assert_true(o >= 3);
				assert_memory_equal(out + o - 3, "...", 3);
				assert_true((o - 3 - 2) % w == 0 || o - 3 < 2);
				assert_memory_equal(out, in, o - 3);
			} else {
				assert_memory_equal(out, in, o);
			}
		}
	}
}

static void
test_utf8_format(void **state)
{
	char reason[300], label[40], out[256];
	size_t o;

	(void)state;
	/* A label and a reason of euro signs: the joined text is cut at
	 * every byte offset by moving the label's length. */
	memset(reason, 0, sizeof(reason));
	for (size_t i = 0; i + 3 < 250; i += 3)
		memcpy(reason + i, "\xe2\x82\xac", 3);
	for (size_t l = 1; l < 8; l++) {
		memset(label, 'x', l);
		label[l] = '\0';
		o = value_utf8_format(out, sizeof(out), "%s: %s (%u failed rounds)", label, reason,
				      3u);
		assert_int_equal(o, strlen(out));
		assert_true(o <= sizeof(out) - 1);
		assert_true(value_utf8_valid(out, o));
		assert_memory_equal(out + o - 3, "...", 3);
	}
	/* Short: as printf; pieces with control bytes are cleaned. */
	assert_int_equal(value_utf8_format(out, sizeof(out), "%s: %d", "a\nb", 7), 6);
	assert_string_equal(out, "a?b: 7");
	/* Longer than the stack buffer inside. */
	char big[3000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char *wide = malloc(4000);
	assert_non_null(wide);
	o = value_utf8_format(wide, 4000, "<%s>", big);
	assert_int_equal(o, sizeof(big) + 1);
	assert_int_equal(wide[o - 1], '>');
	free(wide);
}

/* Random bytes never come out invalid, whatever the room. */
static void
test_utf8_clean_random(void **state)
{
	unsigned seed = 12345;
	char in[64], out[40];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(round % 64), size = 1 + (size_t)(round % 40);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (char)(seed >> 16);
			/* Lean towards the bytes of multibyte characters. */
			if ((seed >> 8) % 3 == 0)
				in[i] = (char)(0x80 | (in[i] & 0x7f));
		}
		size_t o = value_utf8_clean(out, size, in, len);
		assert_true(o < size);
		assert_int_equal(o, strlen(out));
		assert_true(value_utf8_valid(out, o));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),  cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_uint_bool), cmocka_unit_test(test_ip_name),
		cmocka_unit_test(test_ip_sockaddr), cmocka_unit_test(test_format_hostport),
		cmocka_unit_test(test_hostname),  cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_utf8_clean_bytes), cmocka_unit_test(test_utf8_clean_cut),
		cmocka_unit_test(test_utf8_format), cmocka_unit_test(test_utf8_clean_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
