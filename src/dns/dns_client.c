/*
 * dns_client.c -- one DNS exchange over UDP, then TCP, on libevent.
 *
 * States: UDP tries with a per-try timer, under one deadline timer; a
 * truncated reply or a large message moves to one TCP connection for the
 * rest of the deadline.  finish() is the only way out: it stops every event,
 * calls the callback once and frees the query.
 */
#include "dns_client.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "clock.h"
#include "dns_tsig.h"
#include "dns_update.h"
#include "mxf.h"

#define UDP_MAX_PAYLOAD 512
#define UDP_MAX_TRIES 4
#define UDP_FIRST_TRY_MS 1000
#define MAX_IGNORED 100   /* stray or forged replies tolerated per exchange */
#define MSG_MAX 65535

struct dns_client_query {
	struct event_base *base;
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint8_t *msg;
	size_t len;
	ldns_pkt *req;            /* the request parsed, to match replies */
	int fd;                   /* UDP socket or -1 */
	struct event *udp_ev;
	struct event *try_ev;
	struct event *deadline_ev;
	struct bufferevent *bev;  /* TCP */
	uint64_t try_ms;
	int tries;
	int ignored;
	int pending_status;       /* failure to report from the deadline event */
	bool tcp;
	dns_client_cb cb;
	void *arg;
};

/* One loop, one thread: datagrams are read into this buffer, then copied. */
static uint8_t udp_buf[MSG_MAX + 1];

int
dns_client_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char portbuf[8], hbuf[256];
	size_t n = strlen(host);

	/* Accept "[2001:db8::1]" as well as the bare literal. */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(hbuf)) {
		memcpy(hbuf, host + 1, n - 2);
		hbuf[n - 2] = '\0';
		host = hbuf;
	}
	snprintf(portbuf, sizeof(portbuf), "%u", (unsigned)port);
	if (getaddrinfo(host, portbuf, &hints, &res) != 0 || res == NULL)
		return MXF_EINVAL;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return MXF_EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
query_free(struct dns_client_query *q)
{
	if (q->udp_ev != NULL)
		event_free(q->udp_ev);
	if (q->try_ev != NULL)
		event_free(q->try_ev);
	if (q->deadline_ev != NULL)
		event_free(q->deadline_ev);
	if (q->bev != NULL)
		bufferevent_free(q->bev);
	if (q->fd >= 0)
		close(q->fd);
	ldns_pkt_free(q->req);
	free(q->msg);
	free(q);
}

static void
finish(struct dns_client_query *q, int status, uint8_t *wire, size_t len, ldns_pkt *pkt)
{
	struct dns_client_result res = {.status = status, .wire = wire, .len = len, .pkt = pkt,
					.tcp = q->tcp, .tries = q->tries};
	dns_client_cb cb = q->cb;
	void *arg = q->arg;

	/* Free the sockets first, so the callback may start new queries freely. */
	query_free(q);
	cb(&res, arg);
	free(res.wire);
	ldns_pkt_free(res.pkt);
}

static int
errno_status(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return MXF_ECONNREFUSED;
	case ETIMEDOUT:
		return MXF_ETIMEDOUT;
	case ENOMEM:
	case ENOBUFS:
		return MXF_ENOMEM;
	default:
		return MXF_ENET;
	}
}

static void start_tcp(struct dns_client_query *q);

/*
 * A message arrived (copied into @buf, which this takes).  Returns true when
 * the query is finished (and freed).
 */
static bool
handle_reply(struct dns_client_query *q, uint8_t *buf, size_t n)
{
	ldns_pkt *pkt = NULL;
	int rcode;

	/* dns_tsig_find first: ldns_wire2pkt leaks a TSIG record that is not
	 * the last record (a second TSIG, or one before a truncated record). */
	if (n < 12 || dns_tsig_find(buf, n) < 0 || ldns_wire2pkt(&pkt, buf, n) != LDNS_STATUS_OK ||
	    dns_update_check_reply(q->req, pkt, &rcode) != 0) {
		/* Garbage, or an answer to something else: keep waiting. */
		ldns_pkt_free(pkt);
		free(buf);
		if (++q->ignored > MAX_IGNORED) {
			finish(q, MXF_EPROTO, NULL, 0, NULL);
			return true;
		}
		return false;
	}
	if (!q->tcp && ldns_pkt_tc(pkt)) {
		ldns_pkt_free(pkt);
		free(buf);
		start_tcp(q);
		return true; /* start_tcp owns the query now */
	}
	finish(q, 0, buf, n, pkt);
	return true;
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_client_query *q = arg;

	for (int i = 0; i < 64; i++) {
		ssize_t r = recv(fd, udp_buf, sizeof(udp_buf), 0);
		uint8_t *copy;

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			finish(q, errno_status(errno), NULL, 0, NULL);
			return;
		}
		if ((size_t)r > MSG_MAX)
			continue; /* cannot be a DNS message */
		copy = malloc((size_t)r > 0 ? (size_t)r : 1);
		if (copy == NULL) {
			finish(q, MXF_ENOMEM, NULL, 0, NULL);
			return;
		}
		memcpy(copy, udp_buf, (size_t)r);
		if (handle_reply(q, copy, (size_t)r))
			return;
	}
}

static void
udp_send(struct dns_client_query *q)
{
	struct timeval tv = clock_timeval(q->try_ms);

	q->tries++;
	if (send(q->fd, q->msg, q->len, 0) < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		finish(q, errno_status(errno), NULL, 0, NULL);
		return;
	}
	evtimer_add(q->try_ev, &tv);
}

static void
try_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_client_query *q = arg;

	if (q->tries >= UDP_MAX_TRIES)
		return; /* the deadline ends it */
	q->try_ms *= 2;
	udp_send(q);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_client_query *q = arg;

	finish(q, q->pending_status != 0 ? q->pending_status : MXF_ETIMEDOUT, NULL, 0, NULL);
}

/* Report @status from the loop rather than from the current call stack. */
static void
fail_later(struct dns_client_query *q, int status)
{
	q->pending_status = status;
	event_active(q->deadline_ev, EV_TIMEOUT, 0);
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct dns_client_query *q = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (int i = 0; i < 64; i++) {
		uint8_t lenb[2], *buf;
		size_t n;

		if (evbuffer_get_length(in) < 2)
			return;
		evbuffer_copyout(in, lenb, 2);
		n = ((size_t)lenb[0] << 8) | lenb[1];
		if (evbuffer_get_length(in) < 2 + n)
			return;
		evbuffer_drain(in, 2);
		buf = malloc(n > 0 ? n : 1);
		if (buf == NULL) {
			finish(q, MXF_ENOMEM, NULL, 0, NULL);
			return;
		}
		evbuffer_remove(in, buf, n);
		if (handle_reply(q, buf, n))
			return;
	}
}

static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct dns_client_query *q = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_ERROR) {
		int e = EVUTIL_SOCKET_ERROR();
		finish(q, errno_status(e), NULL, 0, NULL);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_TIMEOUT))
		finish(q, MXF_ENET, NULL, 0, NULL);
}

static void
start_tcp(struct dns_client_query *q)
{
	uint8_t lenb[2] = {(uint8_t)(q->len >> 8), (uint8_t)q->len};
	struct evbuffer *out;

	if (q->udp_ev != NULL) {
		event_free(q->udp_ev);
		q->udp_ev = NULL;
	}
	evtimer_del(q->try_ev);
	if (q->fd >= 0) {
		close(q->fd);
		q->fd = -1;
	}
	q->tcp = true;
	q->tries++;
	q->bev = bufferevent_socket_new(q->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (q->bev == NULL) {
		fail_later(q, MXF_ENOMEM);
		return;
	}
	/* A reply is at most 2 + 65535 bytes; do not read ahead of that. */
	bufferevent_setwatermark(q->bev, EV_READ, 0, 2 + MSG_MAX);
	bufferevent_setcb(q->bev, tcp_read_cb, NULL, tcp_event_cb, q);
	out = bufferevent_get_output(q->bev);
	if (evbuffer_add(out, lenb, 2) != 0 || evbuffer_add(out, q->msg, q->len) != 0) {
		fail_later(q, MXF_ENOMEM);
		return;
	}
	bufferevent_enable(q->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(q->bev, (struct sockaddr *)&q->ss, (int)q->sslen) != 0)
		fail_later(q, errno_status(errno));
}

static int
start_udp(struct dns_client_query *q)
{
	q->fd = socket(q->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return MXF_EIO;
	q->udp_ev = event_new(q->base, q->fd, EV_READ | EV_PERSIST, udp_read_cb, q);
	if (q->udp_ev == NULL)
		return MXF_ENOMEM;
	if (connect(q->fd, (struct sockaddr *)&q->ss, q->sslen) != 0) {
		fail_later(q, errno_status(errno));
		return 0;
	}
	event_add(q->udp_ev, NULL);
	q->tries++;
	if (send(q->fd, q->msg, q->len, 0) < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		fail_later(q, errno_status(errno));
		return 0;
	}
	{
		struct timeval tv = clock_timeval(q->try_ms);

		evtimer_add(q->try_ev, &tv);
	}
	return 0;
}

static struct dns_client_query *
send_common(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
	    const uint8_t *msg, size_t len, uint64_t timeout_ms, bool tcp_only, dns_client_cb cb,
	    void *arg, int *err)
{
	struct dns_client_query *q;
	struct timeval tv;
	int rc;

	if (len < 12 || len > MSG_MAX || salen > sizeof(q->ss) || timeout_ms == 0) {
		*err = MXF_EINVAL;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		*err = MXF_ENOMEM;
		return NULL;
	}
	q->fd = -1;
	q->base = base;
	q->cb = cb;
	q->arg = arg;
	memcpy(&q->ss, sa, salen);
	q->sslen = salen;
	q->msg = malloc(len);
	if (q->msg == NULL) {
		rc = MXF_ENOMEM;
		goto fail;
	}
	memcpy(q->msg, msg, len);
	q->len = len;
	if (ldns_wire2pkt(&q->req, msg, len) != LDNS_STATUS_OK) {
		rc = MXF_EINVAL;
		goto fail;
	}
	q->try_ev = evtimer_new(base, try_cb, q);
	q->deadline_ev = evtimer_new(base, deadline_cb, q);
	if (q->try_ev == NULL || q->deadline_ev == NULL) {
		rc = MXF_ENOMEM;
		goto fail;
	}
	tv = clock_timeval(timeout_ms);
	evtimer_add(q->deadline_ev, &tv);
	q->try_ms = timeout_ms / 4 < UDP_FIRST_TRY_MS ? timeout_ms / 4 : UDP_FIRST_TRY_MS;
	if (q->try_ms < 100)
		q->try_ms = 100;
	if (tcp_only || len > UDP_MAX_PAYLOAD) {
		start_tcp(q);
		return q;
	}
	rc = start_udp(q);
	if (rc != 0)
		goto fail;
	return q;
fail:
	query_free(q);
	*err = rc;
	return NULL;
}

struct dns_client_query *
dns_client_send(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
		const uint8_t *msg, size_t len, uint64_t timeout_ms, dns_client_cb cb, void *arg,
		int *err)
{
	return send_common(base, sa, salen, msg, len, timeout_ms, false, cb, arg, err);
}

struct dns_client_query *
dns_client_send_tcp(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
		    const uint8_t *msg, size_t len, uint64_t timeout_ms, dns_client_cb cb,
		    void *arg, int *err)
{
	return send_common(base, sa, salen, msg, len, timeout_ms, true, cb, arg, err);
}

void
dns_client_cancel(struct dns_client_query *q)
{
	if (q != NULL)
		query_free(q);
}
