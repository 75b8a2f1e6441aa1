/*
 * value.c -- parsers and printers of the small values in configurations,
 * check URLs and command lines, and the one cleaner of text from outside
 * (value_utf8_clean; see value.h).
 */
#include "value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxf.h"

/* Fraction digits that count; more are read and dropped (below 1 ns). */
#define VALUE_FRACTION_DIGITS 9

int
value_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{"ms", 1},	{"s", 1000},	{"", 1000},	 {"m", 60000},
		{"min", 60000}, {"h", 3600000}, {"d", 86400000},
	};
	uint64_t whole = 0, frac = 0, scale = 1;
	bool digits = false, overflow = false;

	if (s == NULL)
		return MXF_EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		digits = true;
		if (whole > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			whole = whole * 10 + d;
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++) {
			digits = true;
			if (scale < 1000000000) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
		}
	}
	if (!digits || overflow)
		return MXF_EINVAL;
	for (size_t i = 0; i < MXF_ARRAY_SIZE(units); i++) {
		if (strcmp(s, units[i].unit) != 0)
			continue;
		/* Leave room to count the result in microseconds. */
		if (whole > UINT64_MAX / units[i].ms / 1000)
			return MXF_EINVAL;
		*ms = whole * units[i].ms + frac * units[i].ms / scale;
		return 0;
	}
	return MXF_EINVAL;
}

char *
value_format_duration(uint64_t ms, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};

	if (size == 0)
		return buf;
	if (ms == 0) {
		snprintf(buf, size, "0");
		return buf;
	}
	for (size_t i = 0; i < MXF_ARRAY_SIZE(units); i++) {
		if (ms % units[i].ms == 0) {
			snprintf(buf, size, "%llu%s", (unsigned long long)(ms / units[i].ms),
				 units[i].unit);
			break;
		}
	}
	return buf;
}

char *
value_format_duration_elapsed(uint64_t ms, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	if (ms < 1000)
		snprintf(buf, size, "%u ms", (unsigned)ms);
	else
		snprintf(buf, size, "%.1f s", (double)ms / 1000.0);
	return buf;
}

char *
value_format_duration_span(int64_t secs, char *buf, size_t size)
{
	long long s = secs < 0 ? 0 : (long long)secs;

	if (size == 0)
		return buf;
	if (s < 60)
		snprintf(buf, size, "%lld s", s);
	else if (s < 3600)
		snprintf(buf, size, "%lld min", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lld h %lld min", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lld d %lld h", s / 86400, s % 86400 / 3600);
	return buf;
}

int
value_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return MXF_EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return MXF_EINVAL;
	*out = v;
	return 0;
}

int
value_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < MXF_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return MXF_EINVAL;
}

int
value_is_ip(const char *s)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, s, buf) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return 6;
	return 0;
}

char *
value_format_hostport(const char *host, uint16_t port, char *buf, size_t size)
{
	bool bare_v6 = strchr(host, ':') != NULL && host[0] != '[';

	snprintf(buf, size, bare_v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
	return buf;
}

int
value_ip_sockaddr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	if (inet_pton(AF_INET, s, &s4.sin_addr) == 1) {
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, &s4, sizeof(s4));
		*sslen = sizeof(s4);
		return 4;
	}
	if (inet_pton(AF_INET6, s, &s6.sin6_addr) == 1) {
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, &s6, sizeof(s6));
		*sslen = sizeof(s6);
		return 6;
	}
	return 0;
}

/*
 * Check a domain name of @n bytes (trailing dot excluded by the caller).
 * @strict: no label may start with '-', and the name may not end in a dot.
 */
static bool
value_name_ok(const char *s, size_t n, bool strict)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return false;
		if (strict && label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return !strict || label > 0;
}

bool
value_is_hostname(const char *s, size_t n)
{
	if (n > 0 && s[n - 1] == '.')
		n--;
	return value_name_ok(s, n, true);
}

char *
value_normalize_name(const char *s)
{
	size_t len = strlen(s);
	char *out;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (!value_name_ok(s, len, false)) {
		errno = EINVAL;
		return NULL;
	}
	out = malloc(len + 2);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len] = '.';
	out[len + 1] = '\0';
	return out;
}

int
value_parse_hostport(const char *s, char **host, uint16_t *port, uint16_t defport)
{
	const char *colon, *h = s;
	size_t hlen;
	unsigned long p = defport;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return MXF_EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		if (close[1] == ':') {
			if (value_parse_uint(close + 2, 1, 65535, &p) != 0)
				return MXF_EINVAL;
		} else if (close[1] != '\0') {
			return MXF_EINVAL;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			hlen = strlen(s); /* bare IPv6 */
		} else if (colon != NULL) {
			hlen = (size_t)(colon - s);
			if (value_parse_uint(colon + 1, 1, 65535, &p) != 0)
				return MXF_EINVAL;
		} else {
			hlen = strlen(s);
		}
	}
	if (hlen == 0)
		return MXF_EINVAL;
	*host = strndup(h, hlen);
	if (*host == NULL)
		return MXF_ENOMEM;
	if (value_is_ip(*host) == 0) {
		/* A name: valid, and never in brackets (those are for IPv6). */
		char *n = value_normalize_name(*host);

		if (n == NULL || s[0] == '[') {
			free(n);
			free(*host);
			*host = NULL;
			return MXF_EINVAL;
		}
		free(n);
	}
	*port = (uint16_t)p;
	return 0;
}

/* ------------------------------------------------------------- UTF-8 -- */

/*
 * The length of the valid UTF-8 sequence at @s (at most @len bytes), or 0
 * when the bytes there are not one: overlong forms, surrogates and code
 * points above U+10FFFF are refused, as JSON encoders refuse them.
 */
static size_t
value_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0; /* below: overlong */
		else if (c == 0xed)
			hi = 0x9f; /* above: surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90; /* below: overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above: beyond U+10FFFF */
	} else {
		return 0;
	}
	if (len < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

/*
 * What the character at @s (of @len bytes left) becomes: *@n input bytes
 * are consumed; @return the bytes kept (*@n) or 0 for one '?'.
 */
static size_t
value_utf8_char(const unsigned char *s, size_t len, size_t *n)
{
	unsigned char c = s[0];

	*n = 1;
	if (c < 0x80)
		return c < 0x20 || c == 0x7f ? 0 : 1;
	*n = value_utf8_seq(s, len);
	if (*n == 0) {
		*n = 1;
		return 0;
	}
	/* U+0080..U+009F, the C1 controls: CSI (U+009B) moves a terminal's
	 * cursor as ESC [ does. */
	if (c == 0xc2 && s[1] <= 0x9f)
		return 0;
	return *n;
}

size_t
value_utf8_clean(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, i = 0;
	size_t cut = 0; /* output length at a boundary that leaves room for "..." */

	if (size == 0)
		return 0;
	while (i < len) {
		size_t n, keep = value_utf8_char(s + i, len - i, &n);
		size_t want = keep != 0 ? keep : 1;

		if (o + want > size - 1) {
			if (size >= 4) {
				o = cut;
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (keep != 0)
			memcpy(dst + o, s + i, keep);
		else
			dst[o] = '?';
		o += want;
		i += n;
		if (o + 3 <= size - 1)
			cut = o;
	}
	dst[o] = '\0';
	return o;
}

size_t
value_utf8_vformat(char *dst, size_t size, const char *fmt, va_list ap)
{
	char tmp[1024], *big = NULL;
	const char *text = tmp;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n < 0) {
		tmp[0] = '\0';
		n = 0;
	} else if ((size_t)n >= sizeof(tmp)) {
		/* The whole text, so a cut is made (and marked) on a boundary. */
		big = malloc((size_t)n + 1);
		if (big != NULL) {
			vsnprintf(big, (size_t)n + 1, fmt, ap2);
			text = big;
		} else {
			n = (int)sizeof(tmp) - 1; /* still valid: a torn end becomes '?' */
		}
	}
	va_end(ap2);
	size_t o = value_utf8_clean(dst, size, text, (size_t)n);
	free(big);
	return o;
}

size_t
value_utf8_format(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t o;

	va_start(ap, fmt);
	o = value_utf8_vformat(dst, size, fmt, ap);
	va_end(ap);
	return o;
}

bool
value_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n)
		if (value_utf8_char(u + i, len - i, &n) == 0)
			return false;
	return true;
}
