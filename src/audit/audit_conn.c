/*
 * audit_conn.c -- one probe conversation: connect, deadline, bounded lines,
 * TLS.  See audit_conn.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "audit_conn.h"
#include "mxf.h"
#include "proto.h"
#include "tls.h"

struct audit_conn {
	struct event_base *base;
	struct bufferevent *bev;
	struct event *deadline;
	const struct audit_conn_ops *ops;
	void *arg;
	size_t max_line;
	char *line;              /* max_line + 1 bytes */
	bool tls;                /* bev is the TLS filter */
	bool handshaking;        /* a TLS handshake is under way */
	bool starttls;           /* ... an upgrade (tls_done follows) */
	bool raw;
	bool dead;               /* failed() ran, or freed: no more callbacks */
	bool zombie;             /* freed inside a callback: free on the way out */
	unsigned depth;          /* callbacks of ours on the stack */
};

static SSL_CTX *audit_ctx;

SSL_CTX *
audit_ssl_ctx(char *why, size_t whylen)
{
	if (audit_ctx)
		return audit_ctx;
	const char *ca = getenv("MXF_CA_FILE");
	SSL_CTX *ctx = tls_ctx_new(ca, why, whylen);
	if (!ctx)
		return NULL;
	/* See what the server offers, old versions included: the audit
	 * reports them (tls-weak) rather than failing the handshake. */
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	audit_ctx = ctx;
	return ctx;
}

/* End the conversation with @err; the caller hears of it once. */
static void
conn_fail(struct audit_conn *k, int err, const char *why)
{
	if (k->dead)
		return;
	k->dead = true;
	if (k->deadline)
		event_del(k->deadline);
	if (k->bev)
		bufferevent_disable(k->bev, EV_READ | EV_WRITE);
	k->ops->failed(k, err, why, k->arg);
}

static void conn_leave(struct audit_conn *k);

static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct audit_conn *k = arg;

	(void)fd, (void)what;
	k->depth++;
	conn_fail(k, MXF_ETIMEDOUT, "no answer before the deadline");
	conn_leave(k);
}

/* Hand complete lines to the caller; stop when it freed us, ended the
 * conversation, or a STARTTLS upgrade began. */
static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct audit_conn *k = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	k->depth++;
	while (!k->dead && !k->handshaking) {
		size_t have = evbuffer_get_length(in);
		if (have == 0)
			break;
		size_t take = have < k->max_line ? have : k->max_line;
		const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)take);
		size_t ll, used;
		if (k->raw) {
			ll = used = take < k->max_line ? take : k->max_line - 1;
		} else {
			int r = proto_line_find(p, take, k->max_line, &ll, &used);
			if (r == PROTO_NEED_MORE)
				break;
			if (r == PROTO_ERROR) {
				conn_fail(k, MXF_EPROTO, "line too long");
				break;
			}
		}
		memcpy(k->line, p, ll);
		k->line[ll] = '\0';
		evbuffer_drain(in, used);
		k->ops->line(k, k->line, ll, k->arg);
	}
	conn_leave(k);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_real_free(struct audit_conn *k);

/* Leave one of our callbacks: a free asked for inside it happens now. */
static void
conn_leave(struct audit_conn *k)
{
	if (--k->depth == 0 && k->zombie)
		conn_real_free(k);
}

static void
conn_setup(struct audit_conn *k)
{
	bufferevent_setcb(k->bev, conn_read_cb, NULL, conn_event_cb, k);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
}

static int
conn_tls(struct audit_conn *k, const char *name, char *why, size_t whylen)
{
	SSL_CTX *ctx = audit_ssl_ctx(why, whylen);
	if (!ctx)
		return MXF_EIO;
	struct bufferevent *f = tls_filter_new(k->base, k->bev, ctx, name, true, why, whylen);
	if (!f)
		return MXF_ENOMEM;
	k->bev = f;
	k->tls = true;
	k->handshaking = true;
	conn_setup(k);
	return 0;
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct audit_conn *k = arg;

	(void)bev;
	if (k->dead)
		return;
	k->depth++;
	if (what & BEV_EVENT_CONNECTED) {
		if (k->handshaking) {
			k->handshaking = false;
			if (k->starttls) {
				k->starttls = false;
				k->ops->tls_done(k, k->arg);
			} else {
				k->ops->connected(k, k->arg);
			}
			/* Data may have come with the handshake. */
			if (!k->dead)
				conn_read_cb(k->bev, k);
		} else {
			k->ops->connected(k, k->arg);
		}
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		int e = EVUTIL_SOCKET_ERROR();
		char why[200];
		if (k->handshaking) {
			const char *r = tls_error_reason(k->bev);
			snprintf(why, sizeof(why), "TLS handshake failed: %s",
				 r ? r : (what & BEV_EVENT_EOF) ? "connection closed" : strerror(e));
			conn_fail(k, MXF_EPROTO, why);
		} else if (what & BEV_EVENT_EOF) {
			conn_fail(k, MXF_ENET, "connection closed by the server");
		} else if (e == ECONNREFUSED) {
			conn_fail(k, MXF_ECONNREFUSED, "connection refused");
		} else {
			snprintf(why, sizeof(why), "%s", e ? strerror(e) : "connection error");
			conn_fail(k, MXF_ENET, why);
		}
	}
	conn_leave(k);
}

struct audit_conn *
audit_conn_start(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
		 uint64_t timeout_ms, size_t max_line, bool implicit_tls, const char *tls_name,
		 const struct audit_conn_ops *ops, void *arg, char *why, size_t whylen)
{
	struct audit_conn *k = calloc(1, sizeof(*k));
	int fd = -1, one = 1;

	snprintf(why, whylen, "out of memory");
	if (!k)
		return NULL;
	k->base = base;
	k->ops = ops;
	k->arg = arg;
	k->max_line = max_line;
	k->line = malloc(max_line + 1);
	k->deadline = evtimer_new(base, conn_deadline_cb, k);
	if (!k->line || !k->deadline)
		goto fail;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A refused or unreachable connect shows up as an event later, so the
	 * caller hears of every outcome from the loop. */
	if (connect(fd, sa, salen) != 0 && errno != EINPROGRESS && errno != ECONNREFUSED &&
	    errno != ENETUNREACH && errno != EHOSTUNREACH) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		goto fail;
	}
	k->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!k->bev)
		goto fail;
	fd = -1;
	conn_setup(k);
	/* With the fd set and no address, libevent waits for the connect we
	 * started; a TLS filter on top starts its handshake once it is up. */
	if (bufferevent_socket_connect(k->bev, NULL, 0) != 0) {
		snprintf(why, whylen, "connect: cannot wait for the connection");
		goto fail;
	}
	if (implicit_tls && tls_name && conn_tls(k, tls_name, why, whylen) != 0)
		goto fail;
	struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
	event_add(k->deadline, &tv);
	return k;
fail:
	if (fd >= 0)
		close(fd);
	audit_conn_free(k);
	return NULL;
}

int
audit_conn_printf(struct audit_conn *k, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (k->dead || !k->bev)
		return MXF_EINVAL;
	va_start(ap, fmt);
	r = evbuffer_add_vprintf(bufferevent_get_output(k->bev), fmt, ap);
	va_end(ap);
	return r < 0 ? MXF_ENOMEM : 0;
}

int
audit_conn_starttls(struct audit_conn *k, const char *name)
{
	char why[128];

	if (k->dead || k->tls)
		return MXF_EINVAL;
	/* Bytes after the "go ahead" would be an injection (CVE-2011-0411). */
	if (evbuffer_get_length(bufferevent_get_input(k->bev)) > 0)
		return MXF_EPROTO;
	k->starttls = true;
	int r = conn_tls(k, name, why, sizeof(why));
	if (r != 0)
		k->starttls = false;
	return r;
}

SSL *
audit_conn_ssl(struct audit_conn *k)
{
	return k && k->tls && k->bev ? bufferevent_openssl_get_ssl(k->bev) : NULL;
}

void
audit_conn_raw_mode(struct audit_conn *k)
{
	k->raw = true;
}

static void
conn_real_free(struct audit_conn *k)
{
	if (k->bev)
		bufferevent_free(k->bev);
	if (k->deadline)
		event_free(k->deadline);
	free(k->line);
	free(k);
}

void
audit_conn_free(struct audit_conn *k)
{
	if (!k)
		return;
	if (k->depth > 0) {
		/* Inside one of our callbacks: stop, free on the way out. */
		k->dead = true;
		k->zombie = true;
		if (k->bev)
			bufferevent_disable(k->bev, EV_READ | EV_WRITE);
		if (k->deadline)
			event_del(k->deadline);
		return;
	}
	conn_real_free(k);
}
