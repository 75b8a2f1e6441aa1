/*
 * demo_smtp.c -- the demo's SMTP responders on the demo's loop (see
 * demo_smtp.h).  Each session is a bufferevent with one deadline for the
 * whole conversation.
 */
#include "demo_smtp.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "mxf.h"

struct demo_smtp_session {
	struct demo_smtp *r;
	struct bufferevent *bev;
	struct event *deadline;
	unsigned ncmds;
	bool closing; /* QUIT answered: free once it is written */
	struct demo_smtp_session *next;
};

static void
demo_smtp_session_free(struct demo_smtp_session *s)
{
	struct demo_smtp *r = s->r;

	for (struct demo_smtp_session **pp = &r->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	r->nsessions--;
	bufferevent_free(s->bev);
	event_free(s->deadline);
	free(s);
}

static void
demo_smtp_reply(struct demo_smtp_session *s, const char *code, const char *text)
{
	evbuffer_add_printf(bufferevent_get_output(s->bev), "%s %s.demo.test %s\r\n", code,
			    s->r->name, text);
}

static void
demo_smtp_read(struct bufferevent *bev, void *arg)
{
	struct demo_smtp_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line;

	while (!s->closing && (line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		if (++s->ncmds > DEMO_SMTP_CMDS_MAX) {
			demo_smtp_reply(s, "421 4.7.0", "too many commands, closing");
			s->closing = true;
		} else if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
			demo_smtp_reply(s, "250", "hello");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			demo_smtp_reply(s, "221 2.0.0", "closing");
			s->closing = true;
		} else if (strncasecmp(line, "NOOP", 4) == 0 || strncasecmp(line, "RSET", 4) == 0) {
			demo_smtp_reply(s, "250 2.0.0", "ok");
		} else {
			demo_smtp_reply(s, "502 5.5.1", "a demo responder: not implemented");
		}
		free(line);
	}
	/* A line longer than SMTP allows ends the session. */
	if (!s->closing && evbuffer_get_length(in) > DEMO_SMTP_LINE_MAX) {
		demo_smtp_reply(s, "500 5.5.2", "line too long, closing");
		s->closing = true;
	}
	if (s->closing)
		bufferevent_disable(bev, EV_READ);
}

static void
demo_smtp_written(struct bufferevent *bev, void *arg)
{
	struct demo_smtp_session *s = arg;

	if (s->closing)
		demo_smtp_session_free(s);
}

static void
demo_smtp_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		demo_smtp_session_free(arg);
}

static void
demo_smtp_timeout(evutil_socket_t fd, short what, void *arg)
{
	demo_smtp_session_free(arg);
}

static void
demo_smtp_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int salen,
		 void *arg)
{
	struct demo_smtp *r = arg;
	struct timeval tv = {DEMO_SMTP_SESSION_MS / 1000, 0};
	struct demo_smtp_session *s;

	if (r->nsessions >= DEMO_SMTP_SESSIONS_MAX || (s = calloc(1, sizeof(*s))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	s->r = r;
	s->bev = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->deadline = evtimer_new(r->base, demo_smtp_timeout, s);
	if (s->bev == NULL || s->deadline == NULL) {
		if (s->bev != NULL)
			bufferevent_free(s->bev);
		else
			evutil_closesocket(fd);
		if (s->deadline != NULL)
			event_free(s->deadline);
		free(s);
		return;
	}
	s->next = r->sessions;
	r->sessions = s;
	r->nsessions++;
	evtimer_add(s->deadline, &tv);
	bufferevent_setcb(s->bev, demo_smtp_read, demo_smtp_written, demo_smtp_event, s);
	bufferevent_enable(s->bev, EV_READ);
	demo_smtp_reply(s, "220", "ESMTP demo");
}

int
demo_smtp_start(struct demo_smtp *r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(r->port)};
	socklen_t len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->lis = evconnlistener_new_bind(r->base, demo_smtp_accept, r,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						 LEV_OPT_CLOSE_ON_EXEC,
					 16, (struct sockaddr *)&sin, sizeof(sin));
	if (r->lis == NULL)
		return MXF_EIO;
	if (getsockname(evconnlistener_get_fd(r->lis), (struct sockaddr *)&sin, &len) != 0) {
		evconnlistener_free(r->lis);
		r->lis = NULL;
		return MXF_EIO;
	}
	r->port = ntohs(sin.sin_port);
	return 0;
}

void
demo_smtp_stop(struct demo_smtp *r)
{
	if (r->lis != NULL)
		evconnlistener_free(r->lis);
	r->lis = NULL;
	while (r->sessions != NULL)
		demo_smtp_session_free(r->sessions);
}
