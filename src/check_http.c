/*
 * check_http.c -- http:// and https://: GET PATH with a Host header; up
 * when the status code is accepted (default 2xx and 3xx, else the
 * expect=200,301-302,2xx option).  Only the status line is read; the
 * connection is then closed (the request said "Connection: close").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_impl.h"

#define HTTP_MAX_LINE 8192

static void
http_connected(struct check *c)
{
	const struct check_target *t = check_target(c);
	const char *path = t->path[0] != '\0' ? t->path : "/";
	bool v6 = strchr(t->host, ':') != NULL;
	bool tls = strcmp(t->scheme, "https") == 0;
	bool default_port = t->port == (tls ? 443 : 80);
	const char *hostname = t->sni != NULL ? t->sni : t->host;

	check_set_phase(c, CHECK_PHASE_REQUEST);
	if (t->sni != NULL)
		v6 = false;
	if (default_port)
		check_printf(c, "GET %s HTTP/1.1\r\nHost: %s%s%s\r\n", path, v6 ? "[" : "", hostname,
			     v6 ? "]" : "");
	else
		check_printf(c, "GET %s HTTP/1.1\r\nHost: %s%s%s:%u\r\n", path, v6 ? "[" : "",
			     hostname, v6 ? "]" : "", t->port);
	check_printf(c, "User-Agent: mxfailover-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n");
	check_set_phase(c, CHECK_PHASE_RESPONSE);
}

static void
http_read(struct check *c)
{
	const struct check_target *t = check_target(c);
	char *line, q[200];
	size_t len;
	int code;

	if (check_readline(c, &line, &len) != 1)
		return;
	check_quote(line, len, q, sizeof(q));
	if (len < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
	    !isdigit((unsigned char)line[9]) || !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) || (len > 12 && line[12] != ' ')) {
		check_finish(c, CHECK_STATE_DOWN, "not an HTTP status line: \"%s\"", q);
		return;
	}
	code = atoi(line + 9);
	if (proto_http_codes_match(t->expect_set ? &t->expect : NULL, code))
		check_finish(c, CHECK_STATE_UP, "%s", q + 9);
	else
		check_finish(c, CHECK_STATE_DOWN, "%s", q + 9);
}

const struct check_ops check_http_ops = {
	.scheme = "http",
	.default_port = 80,
	.flags = CHECK_F_STREAM,
	.max_line = HTTP_MAX_LINE,
	.connected = http_connected,
	.read = http_read,
};

const struct check_ops check_https_ops = {
	.scheme = "https",
	.default_port = 443,
	.flags = CHECK_F_STREAM | CHECK_F_TLS,
	.max_line = HTTP_MAX_LINE,
	.connected = http_connected,
	.read = http_read,
};
