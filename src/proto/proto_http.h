/*
 * proto_http.h -- the HTTP/1.x client side of the http and https checks:
 * building the request, parsing the status line and headers (RFC 9112),
 * and deciding whether the status code is one the check accepts.
 *
 * The check only needs the head of the response: the engine sends the
 * request built by proto_http_build_request() (GET, "Connection: close"),
 * feeds response lines until PROTO_COMPLETE, then closes; the body is never
 * read.  Interim 1xx responses (103 Early Hints, 100 Continue) are skipped.
 * Pure: no I/O, no clock, no logging, no allocation.
 *
 * Limits: a status or header line is at most PROTO_HTTP_LINE_MAX octets;
 * at most PROTO_HTTP_HEADERS_MAX header lines and PROTO_HTTP_HEAD_MAX
 * octets of head in all (interim responses included).
 */
#ifndef MXF_PROTO_HTTP_H
#define MXF_PROTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define PROTO_HTTP_LINE_MAX 8192
#define PROTO_HTTP_HEADERS_MAX 100
#define PROTO_HTTP_HEAD_MAX 65536
#define PROTO_HTTP_CODES_MAX 16

/* A set of accepted status codes: up to PROTO_HTTP_CODES_MAX ranges. */
struct proto_http_codes {
	unsigned n;
	uint16_t lo[PROTO_HTTP_CODES_MAX];
	uint16_t hi[PROTO_HTTP_CODES_MAX];
};

/* proto_http_codes_default -- the default set: 200-399 (2xx and 3xx). */
void proto_http_codes_default(struct proto_http_codes *set);

/*
 * proto_http_codes_parse -- a comma-separated list of "200", "2xx" or
 * "200-204" items (codes 100..599), e.g. "200,301,302" or "2xx,401".
 * @err, @errlen receive a message on failure ("bad status code '20x'").
 * @return 0, or MXF_EINVAL (empty list, bad item, more than
 *         PROTO_HTTP_CODES_MAX items); @set is then undefined.
 */
int proto_http_codes_parse(const char *s, struct proto_http_codes *set, char *err, size_t errlen);

/*
 * proto_http_codes_format -- write @set back in the syntax above ("2xx,301",
 * a whole class printed as "Nxx").  @return 0, or MXF_ETOOBIG when @len is
 * too small (@buf then holds a cut, NUL-terminated string).
 */
int proto_http_codes_format(const struct proto_http_codes *set, char *buf, size_t len);

/* proto_http_codes_match -- whether @status is in @set (NULL: the default). */
bool proto_http_codes_match(const struct proto_http_codes *set, int status);

/*
 * proto_http_build_request -- "GET PATH HTTP/1.1" with Host (IPv6 in
 * brackets; the port only when it is not @tls's default), User-Agent,
 * Accept and "Connection: close", ended by an empty line.
 * @host   host name or address literal, without brackets.
 * @path   "/..." (NULL: "/"); must hold no space, control byte or '#'.
 * @return the request's length (excluding the NUL written after it),
 *         MXF_EINVAL for a bad @host or @path (which could otherwise smuggle
 *         headers), MXF_ETOOBIG when @len is too small.
 */
int proto_http_build_request(char *buf, size_t len, const char *host, uint16_t port, bool tls,
			     const char *path);

struct proto_http_response {
	int major, minor;           /* 1.0 or 1.1 */
	int status;                 /* final status code, 100..599 */
	char reason_phrase[128];    /* printable, cut */
	unsigned nheaders;          /* header lines of the final response */
	size_t head_bytes;          /* octets of head seen so far */
	int64_t content_length;     /* -1 when absent */
	bool chunked;               /* Transfer-Encoding: chunked */
	bool conn_close;            /* Connection: close, or HTTP/1.0 */
	char location[256];         /* Location header (printable, cut), or "" */
	int state;                  /* internal */
	char reason[PROTO_REASON_MAX]; /* why PROTO_ERROR was returned */
};

/* proto_http_response_init -- clear @r before the first response line. */
void proto_http_response_init(struct proto_http_response *r);

/*
 * proto_http_feed_line -- add one line of the response head.
 * @line  with or without "\r\n"; not kept after the call.
 * @return PROTO_NEED_MORE, PROTO_COMPLETE after the empty line ending the
 *         final (non-1xx) response's headers (read status and friends;
 *         check the code with proto_http_codes_match()), or PROTO_ERROR
 *         with r->reason ("malformed status line: ...", "line too long",
 *         "too many headers", "response head too large", "malformed
 *         header: ..."); sticky until the next init.
 */
int proto_http_feed_line(struct proto_http_response *r, const char *line, size_t len);

/*
 * proto_http_response_describe -- "500 Internal Server Error", or for a
 * redirect "301 Moved Permanently -> https://www.example.org/": the final
 * response of a complete head as the reason of a probe line.  Written into
 * @buf (size @len), always NUL-terminated, cut if needed.
 */
void proto_http_response_describe(const struct proto_http_response *r, char *buf, size_t len);

#endif
