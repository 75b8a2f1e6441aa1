/*
 * status_server.c -- the status endpoint's connections (status_server.h):
 * an evconnlistener that pauses at the cap, one bufferevent and one
 * deadline timer per connection, the request head read whole, the answer
 * written with "Connection: close", and a lingering close (the write side
 * shut, what the client still sends read and dropped) until it hangs up
 * or the deadline comes.
 */
#include "status_server.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "clock.h"
#include "mxf.h"

/* How long listening pauses after accept() failed (EMFILE, ENFILE...). */
#define STATUS_SERVER_PAUSE_MS 1000
/* How long, at most, a client may take to hang up once it has its answer. */
#define STATUS_SERVER_LINGER_MS 1000

struct status_conn {
	struct status_server *srv;
	struct bufferevent *bev;
	struct event *deadline;
	bool answered;		  /* the answer is queued: drop further input */
	uint64_t accepted_ms;	  /* clock_mono_ms() at accept */
	struct status_conn *next; /* every open connection, for _free */
	struct status_conn **prevp;
};

struct status_server {
	struct event_base *base;
	struct evconnlistener *lev;
	struct event *resume; /* the pause after a failed accept() */
	status_server_fn fn;
	void *arg;
	size_t max_conns;
	uint64_t deadline_ms;
	size_t nconns;
	bool paused; /* listening stopped: at the cap, or pausing */
	struct status_conn *conns;
};

/* Listen again when there is room and no pause is running. */
static void
status_server_maybe_resume(struct status_server *srv)
{
	if (srv->paused && srv->nconns < srv->max_conns && !evtimer_pending(srv->resume, NULL)) {
		evconnlistener_enable(srv->lev);
		srv->paused = false;
	}
}

static void
status_conn_free(struct status_conn *c)
{
	struct status_server *srv = c->srv;

	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	bufferevent_free(c->bev); /* closes the socket */
	event_free(c->deadline);
	free(c);
	srv->nconns--;
	status_server_maybe_resume(srv);
}

int
status_server_parse(const char *head, size_t len, char *method, size_t msize, char *target,
		    size_t tsize)
{
	const char *end = memchr(head, '\n', len);
	const char *sp1, *sp2;
	size_t n, m, t;

	if (end == NULL)
		return MXF_EINVAL;
	n = (size_t)(end - head);
	if (n > 0 && head[n - 1] == '\r')
		n--;
	sp1 = memchr(head, ' ', n);
	if (sp1 == NULL)
		return MXF_EINVAL;
	m = (size_t)(sp1 - head);
	sp2 = memchr(sp1 + 1, ' ', n - m - 1);
	if (sp2 == NULL)
		return MXF_EINVAL;
	t = (size_t)(sp2 - sp1 - 1);
	if (m == 0 || t == 0 || m >= msize || t >= tsize)
		return MXF_EINVAL;
	if (n - (size_t)(sp2 + 1 - head) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return MXF_EINVAL;
	memcpy(method, head, m);
	method[m] = '\0';
	memcpy(target, sp1 + 1, t);
	target[t] = '\0';
	return 0;
}

/* Queue @a as the answer and stop reading requests. */
static void
status_conn_answer(struct status_conn *c, const struct status_http_answer *a, bool head_only)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t blen = strlen(a->body);

	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\n"
			    "Content-Type: %s\r\n"
			    "Content-Length: %zu\r\n"
			    "Cache-Control: no-store\r\n"
			    "Connection: close\r\n",
			    a->code, a->reason, a->type, blen);
	if (a->allow != NULL)
		evbuffer_add_printf(out, "Allow: %s\r\n", a->allow);
	evbuffer_add(out, "\r\n", 2);
	if (!head_only)
		evbuffer_add(out, a->body, blen);
	c->answered = true;
	bufferevent_enable(c->bev, EV_WRITE);
}

static void
status_conn_error(struct status_conn *c, int code, const char *reason)
{
	struct status_http_answer a = {
		.code = code, .reason = reason, .type = "text/plain", .body = ""};
	char body[64];

	snprintf(body, sizeof(body), "%d %s\n", code, reason);
	a.body = body;
	status_conn_answer(c, &a, false);
}

static void
status_conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct status_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end;
	struct status_http_answer a;
	char method[16], target[2048];
	size_t len;
	char *head;

	if (c->answered) {
		/* Lingering: what the client still sends is dropped. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	len = end.pos >= 0 ? (size_t)end.pos + 4 : 0;
	if (end.pos < 0) {
		end = evbuffer_search(in, "\n\n", 2, NULL);
		len = end.pos >= 0 ? (size_t)end.pos + 2 : 0;
	}
	if (end.pos < 0 || len > STATUS_SERVER_HEAD_MAX) {
		if (evbuffer_get_length(in) >= STATUS_SERVER_HEAD_MAX) {
			evbuffer_drain(in, evbuffer_get_length(in));
			status_conn_error(c, 431, "Request Header Fields Too Large");
		}
		return;
	}
	head = (char *)evbuffer_pullup(in, (ev_ssize_t)len);
	if (head == NULL ||
	    status_server_parse(head, len, method, sizeof(method), target, sizeof(target)) != 0) {
		evbuffer_drain(in, evbuffer_get_length(in));
		status_conn_error(c, 400, "Bad Request");
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	c->srv->fn(c->srv->arg, method, target, &a);
	status_conn_answer(c, &a, strcmp(method, "HEAD") == 0);
	status_http_answer_free(&a);
}

static void
status_conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct status_conn *c = arg;

	if (!c->answered)
		return;
	/* All sent: our side is done; wait for the client to hang up (or
	 * the deadline), so that closing never resets an unread answer. */
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_disable(bev, EV_WRITE);
	/* A short linger, never past the one deadline. */
	if (c->srv->deadline_ms - clock_mono_since_ms(c->accepted_ms) > STATUS_SERVER_LINGER_MS &&
	    clock_mono_since_ms(c->accepted_ms) < c->srv->deadline_ms) {
		struct timeval tv = clock_timeval(STATUS_SERVER_LINGER_MS);

		evtimer_add(c->deadline, &tv);
	}
}

static void
status_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		status_conn_free(arg);
}

static void
status_conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	/* One deadline for the whole connection: it is over, whatever it
	 * was doing (trickling a request, or not reading our answer). */
	status_conn_free(arg);
}

static void
status_server_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			int salen, void *arg)
{
	struct status_server *srv = arg;
	struct status_conn *c = calloc(1, sizeof(*c));
	struct timeval tv = clock_timeval(srv->deadline_ms);

	if (c == NULL || srv->nconns >= srv->max_conns) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	c->accepted_ms = clock_mono_ms();
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(srv->base, status_conn_deadline_cb, c);
	if (c->bev == NULL || c->deadline == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		if (c->deadline != NULL)
			event_free(c->deadline);
		free(c);
		return;
	}
	c->next = srv->conns;
	if (c->next != NULL)
		c->next->prevp = &c->next;
	c->prevp = &srv->conns;
	srv->conns = c;
	srv->nconns++;
	bufferevent_setcb(c->bev, status_conn_read_cb, status_conn_write_cb, status_conn_event_cb,
			  c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, STATUS_SERVER_HEAD_MAX);
	bufferevent_enable(c->bev, EV_READ);
	evtimer_add(c->deadline, &tv);
	if (srv->nconns >= srv->max_conns) {
		/* At the cap: new clients wait in the kernel's backlog. */
		evconnlistener_disable(lev);
		srv->paused = true;
	}
}

static void
status_server_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	status_server_maybe_resume(arg);
}

static void
status_server_error_cb(struct evconnlistener *lev, void *arg)
{
	struct status_server *srv = arg;
	struct timeval tv = clock_timeval(STATUS_SERVER_PAUSE_MS);

	/* accept() failed (out of descriptors): pause rather than spin on a
	 * listening socket that stays readable. */
	evconnlistener_disable(lev);
	srv->paused = true;
	evtimer_add(srv->resume, &tv);
}

/* The cap: @want, but at most a quarter of the descriptor limit. */
static size_t
status_server_cap(size_t want)
{
	struct rlimit rl;
	size_t cap = want != 0 ? want : STATUS_SERVER_MAX_CONNS;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < cap)
		cap = rl.rlim_cur / 4 > 0 ? (size_t)(rl.rlim_cur / 4) : 1;
	return cap;
}

int
status_server_new(struct event_base *base, const char *host, uint16_t port, size_t max_conns,
		  uint64_t deadline_ms, status_server_fn fn, void *arg, struct status_server **out,
		  char *err, size_t errlen)
{
	struct evutil_addrinfo hints = {0}, *ai = NULL;
	struct status_server *srv;
	char portstr[8];

	*out = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	if (evutil_getaddrinfo(host, portstr, &hints, &ai) != 0 || ai == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u (cannot resolve %s)", host,
			 (unsigned)port, host);
		return MXF_EIO;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		evutil_freeaddrinfo(ai);
		return MXF_ENOMEM;
	}
	srv->base = base;
	srv->fn = fn;
	srv->arg = arg;
	srv->max_conns = status_server_cap(max_conns);
	srv->deadline_ms = deadline_ms != 0 ? deadline_ms : STATUS_SERVER_DEADLINE_MS;
	srv->resume = evtimer_new(base, status_server_resume_cb, srv);
	srv->lev = evconnlistener_new_bind(base, status_server_accept_cb, srv,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						   LEV_OPT_CLOSE_ON_EXEC,
					   128, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (srv->resume == NULL || srv->lev == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u (address in use or not local)", host,
			 (unsigned)port);
		status_server_free(srv);
		return MXF_EIO;
	}
	evconnlistener_set_error_cb(srv->lev, status_server_error_cb);
	*out = srv;
	return 0;
}

void
status_server_free(struct status_server *srv)
{
	if (srv == NULL)
		return;
	/* The listener first: freeing connections must not enable it. */
	if (srv->lev != NULL)
		evconnlistener_free(srv->lev);
	srv->lev = NULL;
	srv->paused = false;
	while (srv->conns != NULL) {
		struct status_conn *c = srv->conns;

		srv->conns = c->next;
		if (c->next != NULL)
			c->next->prevp = &srv->conns;
		bufferevent_free(c->bev);
		event_free(c->deadline);
		free(c);
	}
	if (srv->resume != NULL)
		event_free(srv->resume);
	free(srv);
}
