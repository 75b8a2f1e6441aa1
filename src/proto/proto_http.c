/*
 * proto_http.c -- HTTP/1.x request building, response head parsing and the
 * accepted status code set (see proto_http.h).
 */
#include "proto_http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mxf.h"
#include "value.h"

enum { HTTP_STATUS_LINE, HTTP_HEADERS, HTTP_DONE, HTTP_FAILED };

void
proto_http_codes_default(struct proto_http_codes *set)
{
	memset(set, 0, sizeof(*set));
	set->n = 2;
	set->lo[0] = 200, set->hi[0] = 299;
	set->lo[1] = 300, set->hi[1] = 399;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Three digits 100..599 at @s. @return the code, or -1. */
static int
three_digits(const char *s)
{
	int v;

	if (!is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]))
		return -1;
	v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return v >= 100 && v <= 599 ? v : -1;
}

int
proto_http_codes_parse(const char *s, struct proto_http_codes *set, char *err, size_t errlen)
{
	const char *p = s;

	memset(set, 0, sizeof(*set));
	if (*s == '\0') {
		snprintf(err, errlen, "empty list of status codes");
		return MXF_EINVAL;
	}
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int lo = -1, hi = -1;

		if (n == 3 && p[0] >= '1' && p[0] <= '5' && (p[1] | 0x20) == 'x' &&
		    (p[2] | 0x20) == 'x') {
			lo = (p[0] - '0') * 100;
			hi = lo + 99;
		} else if (n == 3) {
			lo = hi = three_digits(p);
		} else if (n == 7 && p[3] == '-') {
			lo = three_digits(p);
			hi = three_digits(p + 4);
		}
		if (lo < 0 || hi < 0 || lo > hi) {
			snprintf(err, errlen, "bad status code '%.*s'", (int)(n > 20 ? 20 : n), p);
			return MXF_EINVAL;
		}
		if (set->n == PROTO_HTTP_CODES_MAX) {
			snprintf(err, errlen, "more than %d status codes", PROTO_HTTP_CODES_MAX);
			return MXF_EINVAL;
		}
		set->lo[set->n] = (uint16_t)lo;
		set->hi[set->n] = (uint16_t)hi;
		set->n++;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

int
proto_http_codes_format(const struct proto_http_codes *set, char *buf, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return MXF_ETOOBIG;
	buf[0] = '\0';
	for (unsigned i = 0; i < set->n; i++) {
		unsigned lo = set->lo[i], hi = set->hi[i];
		int w;

		if (lo % 100 == 0 && hi == lo + 99)
			w = snprintf(buf + o, len - o, "%s%uxx", i ? "," : "", lo / 100);
		else if (lo == hi)
			w = snprintf(buf + o, len - o, "%s%u", i ? "," : "", lo);
		else
			w = snprintf(buf + o, len - o, "%s%u-%u", i ? "," : "", lo, hi);
		if (w < 0 || (size_t)w >= len - o)
			return MXF_ETOOBIG;
		o += (size_t)w;
	}
	return 0;
}

bool
proto_http_codes_match(const struct proto_http_codes *set, int status)
{
	if (set == NULL || set->n == 0)
		return status >= 200 && status <= 399;
	for (unsigned i = 0; i < set->n; i++)
		if (status >= set->lo[i] && status <= set->hi[i])
			return true;
	return false;
}

int
proto_http_build_request(char *buf, size_t len, const char *host, uint16_t port, bool tls,
			 const char *path)
{
	bool v6 = strchr(host, ':') != NULL;
	char portbuf[8] = "";
	int w;

	if (path == NULL)
		path = "/";
	if (*host == '\0' || path[0] != '/')
		return MXF_EINVAL;
	for (const char *h = host; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || is_digit(*h) ||
		      *h == '.' || *h == '-' || *h == '_' || *h == ':'))
			return MXF_EINVAL;
	for (const unsigned char *q = (const unsigned char *)path; *q; q++)
		if (*q <= 0x20 || *q >= 0x7f || *q == '#')
			return MXF_EINVAL;
	if (port != 0 && port != (tls ? 443 : 80))
		snprintf(portbuf, sizeof(portbuf), ":%u", (unsigned)port);
	w = snprintf(buf, len,
		     "GET %s HTTP/1.1\r\n"
		     "Host: %s%s%s%s\r\n"
		     "User-Agent: mxfailover/" MXF_VERSION_STRING "\r\n"
		     "Accept: */*\r\n"
		     "Connection: close\r\n"
		     "\r\n",
		     path, v6 ? "[" : "", host, v6 ? "]" : "", portbuf);
	if (w < 0 || (size_t)w >= len)
		return MXF_ETOOBIG;
	return w;
}

void
proto_http_response_init(struct proto_http_response *r)
{
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	r->state = HTTP_STATUS_LINE;
}

static int
http_fail(struct proto_http_response *r, const char *what, const char *line, size_t len)
{
	r->state = HTTP_FAILED;
	return proto_fail(r->reason, what, line, len);
}

static int
http_status_line(struct proto_http_response *r, const char *line, size_t len)
{
	/* HTTP-version SP status-code [SP reason-phrase] */
	if (len < 12 || memcmp(line, "HTTP/", 5) != 0 || !is_digit(line[5]) || line[6] != '.' ||
	    !is_digit(line[7]) || line[8] != ' ' || three_digits(line + 9) < 0 ||
	    (len > 12 && line[12] != ' '))
		return http_fail(r, "malformed status line", line, len);
	r->major = line[5] - '0';
	r->minor = line[7] - '0';
	if (r->major != 1)
		return http_fail(r, "unsupported HTTP version", line, len);
	r->status = three_digits(line + 9);
	if (r->status == 101)
		return http_fail(r, "unexpected protocol switch", line, len);
	r->conn_close = r->minor == 0;
	r->nheaders = 0;
	r->content_length = -1;
	r->chunked = false;
	r->location[0] = '\0';
	if (len > 13)
		proto_printable(r->reason_phrase, sizeof(r->reason_phrase), line + 13, len - 13);
	else
		r->reason_phrase[0] = '\0';
	r->state = HTTP_HEADERS;
	return PROTO_NEED_MORE;
}

/* Whether @c may appear in a header name (an RFC 9110 token). */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Whether the comma-separated @v (length @n) holds the token @tok. */
static bool
list_has(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t' && v[i] != ';')
			i++;
		if (i - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return true;
		while (i < n && v[i] != ',')
			i++;
	}
	return false;
}

static int
http_header(struct proto_http_response *r, const char *line, size_t len)
{
	size_t n = 0;
	const char *v;
	size_t vl;

	if (line[0] == ' ' || line[0] == '\t') {
		/* Obsolete line folding: the value goes on; nothing we use. */
		if (r->nheaders == 0)
			return http_fail(r, "malformed header", line, len);
		return PROTO_NEED_MORE;
	}
	if (r->nheaders >= PROTO_HTTP_HEADERS_MAX)
		return http_fail(r, "too many headers", NULL, 0);
	r->nheaders++;
	while (n < len && is_tchar((unsigned char)line[n]))
		n++;
	if (n == 0 || n == len || line[n] != ':')
		return http_fail(r, "malformed header", line, len);
	v = line + n + 1;
	vl = len - n - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (name_is(line, n, "Content-Length")) {
		int64_t cl = 0;
		size_t i = 0;

		while (i < vl && is_digit(v[i]) && i < 18)
			cl = cl * 10 + (v[i++] - '0');
		r->content_length = (i == vl && i > 0) ? cl : -1;
	} else if (name_is(line, n, "Transfer-Encoding")) {
		r->chunked = list_has(v, vl, "chunked");
	} else if (name_is(line, n, "Connection")) {
		if (list_has(v, vl, "close"))
			r->conn_close = true;
	} else if (name_is(line, n, "Location")) {
		proto_printable(r->location, sizeof(r->location), v, vl);
	}
	return PROTO_NEED_MORE;
}

int
proto_http_feed_line(struct proto_http_response *r, const char *line, size_t len)
{
	if (r->state == HTTP_FAILED)
		return PROTO_ERROR;
	if (r->state == HTTP_DONE)
		return http_fail(r, "line after the end of the response head", NULL, 0);
	if (len > PROTO_HTTP_LINE_MAX)
		return http_fail(r, "line too long", NULL, 0);
	r->head_bytes += len;
	if (r->head_bytes > PROTO_HTTP_HEAD_MAX)
		return http_fail(r, "response head too large", NULL, 0);
	len = proto_strip_eol(line, len);
	if (memchr(line, '\0', len) != NULL)
		return http_fail(r, "NUL byte in response head", line, len);
	if (r->state == HTTP_STATUS_LINE)
		return http_status_line(r, line, len);
	if (len > 0)
		return http_header(r, line, len);
	if (r->status < 200) {
		/* An interim response; the final one follows. */
		r->state = HTTP_STATUS_LINE;
		return PROTO_NEED_MORE;
	}
	r->state = HTTP_DONE;
	return PROTO_COMPLETE;
}

void
proto_http_response_describe(const struct proto_http_response *r, char *buf, size_t len)
{
	if (len == 0)
		return;
	/* Both parts are printable already (proto_printable at parse time). */
	value_utf8_format(buf, len, "%d%s%s%s%s", r->status, r->reason_phrase[0] ? " " : "",
		 r->reason_phrase, r->location[0] && r->status >= 300 && r->status < 400 ? " -> " : "",
		 r->status >= 300 && r->status < 400 ? r->location : "");
}
