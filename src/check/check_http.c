/*
 * check_http.c -- http:// and https://: GET PATH with a Host header (the
 * sni= name when given, else the URL's host); up when the final status code
 * is accepted (default 2xx and 3xx, else the expect=200,301-302,2xx option).
 *
 * The conversation only: proto_http builds the request and parses the
 * response head -- status line, interim 1xx responses, headers -- within
 * its limits on lines, header count and head size.  The check reads the
 * whole head, so a server that sends a status line and then garbage or a
 * flood of headers is down, then closes the connection without reading
 * the body (the request said "Connection: close").
 */
#include <stdio.h>
#include <string.h>

#include "check_impl.h"
#include "proto_http.h"

/* proto_http counts the CRLF in its line limit; the engine's reader does not. */
#define HTTP_MAX_LINE (PROTO_HTTP_LINE_MAX - 2)

/* A request: the path (a check URL is at most 2048 bytes) and ~150 of headers. */
#define HTTP_REQUEST_MAX 4096

struct http_state {
	struct proto_http_response r;
};

static void
http_connected(struct check *c)
{
	const struct check_url *u = check_get_url(c);
	struct http_state *st = check_priv(c);
	const char *path = u->path != NULL ? u->path : "/";
	char req[HTTP_REQUEST_MAX];
	int n;

	check_set_phase(c, CHECK_PHASE_REQUEST);
	proto_http_response_init(&st->r);
	n = proto_http_build_request(req, sizeof(req), u->sni != NULL ? u->sni : u->host, u->port,
				     u->scheme == CHECK_SCHEME_HTTPS, path);
	if (n < 0) {
		check_finish(c, CHECK_STATE_DOWN, "cannot build the request for path %s", path);
		return;
	}
	if (check_conn_write(c, req, (size_t)n) != 0)
		return;
	check_set_phase(c, CHECK_PHASE_RESPONSE);
}

static void
http_line(struct check *c, char *line, size_t len)
{
	const struct check_url *u = check_get_url(c);
	struct http_state *st = check_priv(c);
	char desc[CHECK_REASON_MAX];
	bool ok;

	if (check_conn_parsed(c, proto_http_feed_line(&st->r, line, len), st->r.reason) !=
	    PROTO_COMPLETE)
		return;
	proto_http_response_describe(&st->r, desc, sizeof(desc));
	ok = proto_http_codes_match(u->expect_set ? &u->expect : NULL, st->r.status);
	check_finish(c, ok ? CHECK_STATE_UP : CHECK_STATE_DOWN, "%s", desc);
}

const struct check_ops check_http_ops = {
	.max_line = HTTP_MAX_LINE,
	.state_size = sizeof(struct http_state),
	.connected = http_connected,
	.line = http_line,
};
