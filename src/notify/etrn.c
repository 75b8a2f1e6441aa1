/*
 * etrn.c -- the ETRN conversation with a backup MX (RFC 1985), on a
 * libevent bufferevent, with STARTTLS through the TLS layer and the shared
 * client context of tls.h, as the check engine does it, replies parsed by
 * proto_smtp.
 *
 * Why not a checker of the check engine: the engine runs check URLs,
 * merges equal ones and reports one up/down line; ETRN has side effects,
 * must never be merged with a probe, and reports a reply per zone.  The
 * pieces that matter are shared: proto_smtp parses every reply, lines are
 * cut at PROTO_SMTP_LINE_MAX, one deadline covers the whole conversation,
 * data sent before the TLS handshake after a STARTTLS go-ahead is refused
 * (CVE-2011-0411 style injection), and every outcome ends in one function,
 * etrn_end(), whose report runs from a zero-delay event, never from inside
 * etrn_start() or a bufferevent callback.
 */
#include "etrn.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "mxf.h"
#include "proto.h"
#include "proto_smtp.h"
#include "tls.h"
#include "value.h"

enum etrn_step {
	ETRN_S_CONNECT,
	ETRN_S_BANNER,
	ETRN_S_EHLO,
	ETRN_S_STARTTLS,
	ETRN_S_TLS,
	ETRN_S_EHLO_TLS,
	ETRN_S_ETRN,
	ETRN_S_QUIT,
	ETRN_S_DONE,
};

static const char *const etrn_waiting[] = {
	[ETRN_S_CONNECT] = "connecting",
	[ETRN_S_BANNER] = "waiting for the banner",
	[ETRN_S_EHLO] = "waiting for the EHLO reply",
	[ETRN_S_STARTTLS] = "waiting for the STARTTLS reply",
	[ETRN_S_TLS] = "in the TLS handshake",
	[ETRN_S_EHLO_TLS] = "waiting for the EHLO reply",
	[ETRN_S_ETRN] = "waiting for the ETRN reply",
	[ETRN_S_QUIT] = "waiting for the QUIT reply",
	[ETRN_S_DONE] = "finishing",
};

struct etrn {
	struct event_base *base;
	struct bufferevent *bev;
	SSL_CTX *ssl_ctx;           /* only when the shared one is unusable */
	struct event *deadline_ev;
	struct event *report_ev;
	etrn_done_fn cb;
	void *arg;
	enum etrn_step step;
	bool tls;
	bool ended;                 /* the result is recorded */
	uint64_t timeout_ms;
	uint64_t t0; /* clock_mono_ms() at the start */
	char *helo;
	char *tls_name;
	char server[INET6_ADDRSTRLEN + 16];
	struct sockaddr_storage ss;
	socklen_t sslen;
	char **args;                /* ETRN arguments, one per zone */
	size_t cur;                 /* zone being asked */
	struct etrn_zone_result *zones;
	size_t nzones;
	struct proto_smtp_reply r;
	struct etrn_result res;
};

bool
etrn_code_accepted(int code)
{
	return code >= 250 && code <= 253;
}

const char *
etrn_code_meaning(int code)
{
	switch (code) {
	case 250:
		return "queuing started";
	case 251:
		return "no messages waiting";
	case 252:
	case 253:
		return "pending messages started";
	case 421:
		return "service not available";
	case 458:
		return "unable to queue messages";
	case 459:
		return "node not allowed";
	case 500:
	case 502:
		return "ETRN not supported";
	case 501:
		return "syntax error in the argument";
	case 530:
		return "authentication required";
	default:
		return code >= 200 && code < 300 ? "accepted" : "refused";
	}
}

char *
etrn_zone_arg(const char *zone, char *buf, size_t size)
{
	size_t l = zone != NULL ? strlen(zone) : 0;

	if (l > 0 && zone[l - 1] == '.')
		l--;
	if (l == 0 || l > 255 || l + 1 > size)
		return NULL;
	for (size_t i = 0; i < l; i++) {
		unsigned char ch = (unsigned char)zone[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return NULL;
	}
	memcpy(buf, zone, l);
	buf[l] = '\0';
	return buf;
}

static void
etrn_free(struct etrn *t)
{
	if (t->bev != NULL)
		bufferevent_free(t->bev);
	if (t->ssl_ctx != NULL)
		SSL_CTX_free(t->ssl_ctx);
	if (t->deadline_ev != NULL)
		event_free(t->deadline_ev);
	if (t->report_ev != NULL)
		event_free(t->report_ev);
	if (t->args != NULL)
		for (size_t i = 0; i < t->nzones; i++)
			free(t->args[i]);
	free(t->args);
	free(t->zones);
	free(t->helo);
	free(t->tls_name);
	free(t);
}

void
etrn_cancel(struct etrn *t)
{
	if (t != NULL)
		etrn_free(t);
}

static void
report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etrn *t = arg;

	t->res.zones = t->zones;
	t->res.nzones = t->nzones;
	t->cb(&t->res, t->arg);
	etrn_free(t);
}

/* Close the connection and schedule the report. */
static void
etrn_report(struct etrn *t)
{
	t->step = ETRN_S_DONE;
	if (t->bev != NULL) {
		bufferevent_free(t->bev);
		t->bev = NULL;
	}
	event_del(t->deadline_ev);
	event_active(t->report_ev, EV_TIMEOUT, 0);
}

static void etrn_end(struct etrn *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The one epilogue of a failed conversation: record @err and the reason;
 * every zone that got no reply yet gets the reason too.  Only the first
 * call counts.
 */
static void
etrn_end(struct etrn *t, int err, const char *fmt, ...)
{
	va_list ap;

	if (t->ended)
		return;
	t->ended = true;
	va_start(ap, fmt);
	/* The server's line is in it: one line of UTF-8, cut on a boundary. */
	value_utf8_vformat(t->res.reason, sizeof(t->res.reason), fmt, ap);
	va_end(ap);
	t->res.err = err;
	t->res.all_accepted = false;
	t->res.elapsed_ms = clock_mono_since_ms(t->t0);
	t->res.tls = t->tls;
	for (size_t i = 0; i < t->nzones; i++)
		if (t->zones[i].code == 0 && t->zones[i].reply[0] == '\0')
			value_utf8_clean(t->zones[i].reply, sizeof(t->zones[i].reply),
					 t->res.reason, strlen(t->res.reason));
	etrn_report(t);
}

/* Every zone has its answer: record success and leave politely. */
static void
etrn_success(struct etrn *t)
{
	t->ended = true;
	t->res.err = 0;
	t->res.elapsed_ms = clock_mono_since_ms(t->t0);
	t->res.tls = t->tls;
	t->res.all_accepted = true;
	for (size_t i = 0; i < t->nzones; i++)
		if (!t->zones[i].accepted)
			t->res.all_accepted = false;
	t->step = ETRN_S_QUIT;
	if (t->bev == NULL || bufferevent_write(t->bev, "QUIT\r\n", 6) != 0)
		etrn_report(t);
	/* The report follows the QUIT reply, the close, or the deadline. */
}

static void
etrn_send(struct etrn *t, enum etrn_step step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
etrn_send(struct etrn *t, enum etrn_step step, const char *fmt, ...)
{
	va_list ap;
	int n;

	t->step = step;
	proto_smtp_reply_init(&t->r);
	va_start(ap, fmt);
	n = evbuffer_add_vprintf(bufferevent_get_output(t->bev), fmt, ap);
	va_end(ap);
	if (n < 0)
		etrn_end(t, MXF_ENOMEM, "out of memory");
}

static void
etrn_next_zone(struct etrn *t)
{
	if (t->cur >= t->nzones) {
		etrn_success(t);
		return;
	}
	etrn_send(t, ETRN_S_ETRN, "ETRN %s\r\n", t->args[t->cur]);
}

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

/*
 * The TLS context: the shared one (tls.h).  Without a name to verify the
 * trust store does not matter, so when $MXF_CA_FILE cannot be loaded an
 * unverified conversation still gets a context of its own, as before
 * there was a shared one.  @return NULL after etrn_end().
 */
static SSL_CTX *
etrn_ssl_ctx(struct etrn *t)
{
	const char *ca = getenv("MXF_CA_FILE");
	SSL_CTX *ctx = tls_ctx_shared(NULL, 0);

	if (ctx != NULL)
		return ctx;
	if (t->tls_name != NULL) {
		etrn_end(t, MXF_EIO, "TLS: cannot load the CA file %s",
			 ca != NULL && *ca != '\0' ? ca : "(system store)");
		return NULL;
	}
	t->ssl_ctx = tls_ctx_new(NULL, NULL, 0);
	if (t->ssl_ctx == NULL)
		etrn_end(t, MXF_ENOMEM, "TLS: cannot set up OpenSSL");
	return t->ssl_ctx;
}

static void
etrn_starttls(struct etrn *t)
{
	struct bufferevent *fbev;
	SSL_CTX *ctx;
	char why[64];

	if (evbuffer_get_length(bufferevent_get_input(t->bev)) > 0) {
		etrn_end(t, MXF_EPROTO, "data after the STARTTLS reply, before the TLS handshake");
		return;
	}
	ctx = etrn_ssl_ctx(t);
	if (ctx == NULL)
		return;
	fbev = tls_filter_new(t->base, t->bev, ctx, t->tls_name, true, why, sizeof(why));
	if (fbev == NULL) {
		etrn_end(t, MXF_ENOMEM, "TLS: %s", why);
		return;
	}
	t->bev = fbev;
	t->step = ETRN_S_TLS;
	bufferevent_setwatermark(t->bev, EV_READ, 0, PROTO_SMTP_LINE_MAX + 4);
	bufferevent_setcb(t->bev, conn_read_cb, NULL, conn_event_cb, t);
	bufferevent_enable(t->bev, EV_READ | EV_WRITE);
}

static void
etrn_tls_done(struct etrn *t)
{
	if (t->tls_name != NULL) {
		SSL *ssl = bufferevent_openssl_get_ssl(t->bev);
		long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_ERR_UNSPECIFIED;
		X509 *cert = ssl != NULL ? SSL_get1_peer_certificate(ssl) : NULL;

		if (cert == NULL) {
			etrn_end(t, MXF_EPROTO, "TLS: the server sent no certificate");
			return;
		}
		X509_free(cert);
		if (vr != X509_V_OK) {
			char why[ETRN_REPLY_MAX];

			tls_verify_reason(ssl, why, sizeof(why));
			etrn_end(t, MXF_EPROTO, "TLS: %s", why);
			return;
		}
	}
	t->tls = true;
	etrn_send(t, ETRN_S_EHLO_TLS, "EHLO %s\r\n", t->helo);
}

/* A whole reply arrived. */
static void
etrn_reply(struct etrn *t)
{
	char line[ETRN_REPLY_MAX];
	int code = t->r.code;
	bool starttls = (t->r.ext & PROTO_SMTP_EXT_STARTTLS) != 0;

	proto_smtp_reply_describe(&t->r, line, sizeof(line));
	switch (t->step) {
	case ETRN_S_BANNER:
		if (code != 220) {
			etrn_end(t, MXF_EPROTO, "banner: %s", line);
			return;
		}
		etrn_send(t, ETRN_S_EHLO, "EHLO %s\r\n", t->helo);
		return;
	case ETRN_S_EHLO:
	case ETRN_S_EHLO_TLS:
		if (code != 250) {
			etrn_end(t, MXF_EPROTO, "EHLO: %s", line);
			return;
		}
		if (!t->tls && starttls) {
			etrn_send(t, ETRN_S_STARTTLS, "STARTTLS\r\n");
			return;
		}
		if (t->tls_name != NULL && !t->tls) {
			etrn_end(t, MXF_EPROTO, "STARTTLS not offered (required to verify %s)",
				 t->tls_name);
			return;
		}
		t->cur = 0;
		etrn_next_zone(t);
		return;
	case ETRN_S_STARTTLS:
		if (code != 220) {
			etrn_end(t, MXF_EPROTO, "STARTTLS: %s", line);
			return;
		}
		etrn_starttls(t);
		return;
	case ETRN_S_ETRN: {
		struct etrn_zone_result *z = &t->zones[t->cur];

		z->code = code;
		z->accepted = etrn_code_accepted(code);
		value_utf8_clean(z->reply, sizeof(z->reply), line, strlen(line));
		t->cur++;
		if (code == 421) {
			/* The server is closing the connection. */
			etrn_end(t, 0, "%s", line);
			return;
		}
		etrn_next_zone(t);
		return;
	}
	case ETRN_S_QUIT:
		etrn_report(t);
		return;
	default:
		return;
	}
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct etrn *t = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (int guard = 0; guard < 1000 && t->step != ETRN_S_DONE; guard++) {
		size_t n = evbuffer_get_length(in), linelen, consumed;
		char buf[PROTO_SMTP_LINE_MAX];
		int r;

		if (t->step == ETRN_S_TLS)
			return;
		if (n == 0)
			return;
		if (n > sizeof(buf))
			n = sizeof(buf);
		evbuffer_copyout(in, buf, n);
		r = proto_line_find(buf, n, PROTO_SMTP_LINE_MAX, &linelen, &consumed);
		if (r == PROTO_NEED_MORE)
			return;
		if (r == PROTO_ERROR) {
			etrn_end(t, MXF_ETOOBIG, "line too long (over %d bytes)", PROTO_SMTP_LINE_MAX);
			return;
		}
		evbuffer_drain(in, consumed);
		if (t->step == ETRN_S_QUIT) {
			etrn_report(t);
			return;
		}
		r = proto_smtp_feed_line(&t->r, buf, linelen);
		if (r == PROTO_ERROR) {
			etrn_end(t, MXF_EPROTO, "%s", t->r.reason);
			return;
		}
		if (r == PROTO_COMPLETE)
			etrn_reply(t);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct etrn *t = arg;
	int saved = errno;

	if (t->step == ETRN_S_QUIT) {
		if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
			etrn_report(t);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		if (t->step == ETRN_S_TLS) {
			etrn_tls_done(t);
			return;
		}
		t->step = ETRN_S_BANNER;
		proto_smtp_reply_init(&t->r);
		return;
	}
	if (t->step == ETRN_S_TLS) {
		const char *r = tls_error_reason(bev);

		if (r != NULL)
			etrn_end(t, MXF_EPROTO, "TLS: handshake failed: %s", r);
		else
			etrn_end(t, MXF_EPROTO, "TLS: handshake failed");
		return;
	}
	if (t->step == ETRN_S_CONNECT) {
		if (saved == ECONNREFUSED)
			etrn_end(t, MXF_ECONNREFUSED, "connection refused");
		else
			etrn_end(t, MXF_ENET, "connect: %s", saved != 0 ? strerror(saved) : "failed");
		return;
	}
	if (what & BEV_EVENT_EOF)
		etrn_end(t, MXF_ENET, "connection closed by the server while %s", etrn_waiting[t->step]);
	else
		etrn_end(t, MXF_ENET, "connection error while %s: %s", etrn_waiting[t->step],
			 saved != 0 ? strerror(saved) : "unknown");
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etrn *t = arg;
	char dur[VALUE_DURATION_BUF];

	if (t->step == ETRN_S_QUIT) {
		etrn_report(t);
		return;
	}

	etrn_end(t, MXF_ETIMEDOUT, "timed out after %s %s",
		 value_format_duration(t->timeout_ms, dur, sizeof(dur)), etrn_waiting[t->step]);
}

static int
parse_address(struct etrn *t, const char *address, uint16_t port)
{
	if (value_ip_sockaddr(address, port, &t->ss, &t->sslen) == 0)
		return MXF_EINVAL;
	value_format_hostport(address, port, t->server, sizeof(t->server));
	return 0;
}

struct etrn *
etrn_start(struct event_base *base, const char *address, uint16_t port,
	   const char *const *zones, size_t nzones, const struct etrn_opts *opts,
	   etrn_done_fn cb, void *arg, char *err, size_t errsize)
{
	struct etrn *t;
	struct timeval tv;
	char host[256];

	if (nzones == 0 || nzones > ETRN_MAX_ZONES) {
		snprintf(err, errsize, nzones == 0 ? "no zones to flush" : "too many zones (at most %d)",
			 ETRN_MAX_ZONES);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto oom;
	t->base = base;
	t->cb = cb;
	t->arg = arg;
	t->nzones = nzones;
	t->timeout_ms = opts != NULL && opts->timeout_ms != 0 ? opts->timeout_ms : ETRN_DEFAULT_TIMEOUT_MS;
	if (parse_address(t, address != NULL ? address : "", port != 0 ? port : ETRN_DEFAULT_PORT) != 0) {
		snprintf(err, errsize, "'%s' is not an IPv4 or IPv6 address", address != NULL ? address : "");
		etrn_free(t);
		return NULL;
	}
	t->res.server = t->server;
	if (opts != NULL && opts->helo != NULL) {
		t->helo = strdup(opts->helo);
	} else {
		if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0' ||
		    strchr(host, ' ') != NULL)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		t->helo = strdup(host);
	}
	if (t->helo == NULL)
		goto oom;
	if (opts != NULL && opts->tls_name != NULL && (t->tls_name = strdup(opts->tls_name)) == NULL)
		goto oom;
	t->args = calloc(nzones, sizeof(*t->args));
	t->zones = calloc(nzones, sizeof(*t->zones));
	if (t->args == NULL || t->zones == NULL)
		goto oom;
	for (size_t i = 0; i < nzones; i++) {
		char a[260];

		if (etrn_zone_arg(zones[i], a, sizeof(a)) == NULL) {
			snprintf(err, errsize, "'%s' is not a domain name", zones[i] != NULL ? zones[i] : "");
			etrn_free(t);
			return NULL;
		}
		if ((t->args[i] = strdup(a)) == NULL)
			goto oom;
		t->zones[i].zone = zones[i];
	}
	t->deadline_ev = evtimer_new(base, deadline_cb, t);
	t->report_ev = event_new(base, -1, 0, report_cb, t);
	t->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (t->deadline_ev == NULL || t->report_ev == NULL || t->bev == NULL)
		goto oom;
	t->t0 = clock_mono_ms();
	tv = clock_timeval(t->timeout_ms);
	evtimer_add(t->deadline_ev, &tv);
	t->step = ETRN_S_CONNECT;
	bufferevent_setwatermark(t->bev, EV_READ, 0, PROTO_SMTP_LINE_MAX + 4);
	bufferevent_setcb(t->bev, conn_read_cb, NULL, conn_event_cb, t);
	bufferevent_enable(t->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(t->bev, (struct sockaddr *)&t->ss, (int)t->sslen) != 0) {
		int e = errno;
		/* Reported from the loop like every other outcome. */
		if (e == ECONNREFUSED)
			etrn_end(t, MXF_ECONNREFUSED, "connection refused");
		else
			etrn_end(t, MXF_ENET, "connect: %s", strerror(e));
	}
	/* The zone names are the caller's; keep our own pointers stable. */
	for (size_t i = 0; i < nzones; i++)
		t->zones[i].zone = t->args[i];
	return t;
oom:
	snprintf(err, errsize, "out of memory");
	if (t != NULL)
		etrn_free(t);
	return NULL;
}
