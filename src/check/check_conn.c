/*
 * check_conn.c -- the connection of a stream check: resolve (evdns on the
 * loop), a non-blocking connect, implicit TLS or a STARTTLS upgrade (the
 * TLS layer from tls.h) with the certificate verdict, the bounded line
 * reader that feeds a checker's line() callback, and the polite goodbye.
 *
 * Every failure here ends in check_finish() with the reason; the engine
 * (check.c) then releases the connection through check_conn_release().
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "check_conn.h"
#include "mxf.h"
#include "proto.h"
#include "tls.h"
#include "value.h"

/* A TLS context made from one ca= file, kept for the engine's life. */
struct check_conn_ca {
	char *file;
	SSL_CTX *ctx;
	struct check_conn_ca *next;
};

/*
 * One evdns lookup; the callback's argument.  It belongs to its check
 * (check_conn.lookup) until the check releases it, then to the engine's
 * orphan list until libevent runs the callback of the cancelled lookup,
 * which frees it.  So the callback never reaches a freed check.
 */
struct check_conn_lookup {
	struct check *c;                         /* NULL once cancelled */
	struct check_conn_env *env;
	struct evdns_getaddrinfo_request *req;   /* NULL until evdns returns */
	struct check_conn_lookup *prev, *next;   /* env->orphans */
};

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

int
check_conn_init(struct check *c)
{
	struct check_conn *k = check_get_conn(c);
	const struct check_ops *ops = check_get_ops(c);

	k->cert_days = INT32_MIN;
	if (ops->line != NULL) {
		k->line = malloc(ops->max_line + 1);
		if (k->line == NULL)
			return MXF_ENOMEM;
	}
	return 0;
}

void
check_conn_release(struct check *c)
{
	struct check_conn *k = check_get_conn(c);

	k->closing = false;
	if (k->lookup != NULL) {
		struct check_conn_lookup *l = k->lookup;
		struct check_conn_env *env = l->env;

		/* Orphaned before the cancel: its callback (EVUTIL_EAI_CANCEL)
		 * may run at any later time, and frees it. */
		k->lookup = NULL;
		l->c = NULL;
		l->prev = NULL;
		l->next = env->orphans;
		if (env->orphans != NULL)
			env->orphans->prev = l;
		env->orphans = l;
		if (l->req != NULL)
			evdns_getaddrinfo_cancel(l->req);
	}
	if (k->bev != NULL) {
		bufferevent_free(k->bev);
		k->bev = NULL;
	}
}

void
check_conn_clear(struct check *c)
{
	struct check_conn *k = check_get_conn(c);

	free(k->line);
	free(k->cert_warn);
	k->line = k->cert_warn = NULL;
}

bool
check_conn_env_busy(const struct check_conn_env *env)
{
	return env->orphans != NULL;
}

void
check_conn_env_free(struct check_conn_env *env)
{
	while (env->cas != NULL) {
		struct check_conn_ca *ca = env->cas;
		env->cas = ca->next;
		SSL_CTX_free(ca->ctx);
		free(ca->file);
		free(ca);
	}
	if (env->dns != NULL)
		evdns_base_free(env->dns, 0);
	env->dns = NULL;
	while (env->orphans != NULL) {
		struct check_conn_lookup *l = env->orphans;
		env->orphans = l->next;
		free(l);
	}
}

int
check_conn_cert_days(struct check *c)
{
	return check_get_conn(c)->cert_days;
}

int64_t
check_conn_cert_not_after(struct check *c)
{
	return check_get_conn(c)->cert_not_after;
}

const char *
check_conn_cert_warn(struct check *c)
{
	return check_get_conn(c)->cert_warn;
}

bool
check_conn_closing(struct check *c)
{
	return check_get_conn(c)->closing;
}

int
check_conn_bye(struct check *c, const char *bye)
{
	struct check_conn *k = check_get_conn(c);
	struct evbuffer *in;

	if (k->bev == NULL || bye == NULL || bufferevent_write(k->bev, bye, strlen(bye)) != 0)
		return -1;
	/* Drop unread input: what comes now is the answer to @bye. */
	in = bufferevent_get_input(k->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	k->closing = true;
	return 0;
}

/* ------------------------------------------------------- for checkers -- */

bool
check_conn_tls_active(const struct check *c)
{
	return check_get_conn((struct check *)c)->tls;
}

void
check_conn_up(struct check *c, const char *bye, const char *text, const char *upgraded)
{
	const char *via = "";

	if (check_url_tls(check_get_url(c)->scheme) == CHECK_TLS_IMPLICIT)
		via = " (TLS)";
	else if (check_conn_tls_active(c))
		via = upgraded;
	check_set_phase(c, CHECK_PHASE_QUIT);
	check_finish_polite(c, bye, CHECK_STATE_UP, "%s%s", text, via);
}

void
check_conn_upgrade(struct check *c, bool ok, const char *bye, const char *text)
{
	if (ok)
		check_conn_starttls(c);
	else
		check_finish_polite(c, bye, CHECK_STATE_DOWN, "%s", text);
}

int
check_conn_parsed(struct check *c, int r, const char *reason)
{
	if (r == PROTO_ERROR)
		check_finish(c, CHECK_STATE_DOWN, "%s", reason);
	return r;
}

struct evbuffer *
check_conn_input(struct check *c)
{
	return bufferevent_get_input(check_get_conn(c)->bev);
}

int
check_conn_write(struct check *c, const void *data, size_t len)
{
	struct check_conn *k = check_get_conn(c);

	if (k->bev == NULL || bufferevent_write(k->bev, data, len) != 0) {
		check_finish(c, CHECK_STATE_DOWN, "cannot queue data: out of memory");
		return MXF_ENOMEM;
	}
	return 0;
}

int
check_conn_printf(struct check *c, const char *fmt, ...)
{
	struct check_conn *k = check_get_conn(c);
	va_list ap;
	int n;

	if (k->bev == NULL)
		return MXF_EINVAL;
	va_start(ap, fmt);
	n = evbuffer_add_vprintf(bufferevent_get_output(k->bev), fmt, ap);
	va_end(ap);
	if (n < 0) {
		check_finish(c, CHECK_STATE_DOWN, "cannot queue data: out of memory");
		return MXF_ENOMEM;
	}
	return 0;
}

/*
 * Take one line from the input.
 * @return 1 with *line (NUL-terminated, CRLF or LF removed, may contain NUL
 *         bytes: use *len) valid until the next call; 0 when no full line is
 *         there yet; -1 when the line exceeds ops->max_line: the check was
 *         finished "down: line too long".
 */
static int
conn_readline(struct check *c, char **line, size_t *len)
{
	struct check_conn *k = check_get_conn(c);
	size_t max = check_get_ops(c)->max_line;
	struct evbuffer *in;
	struct evbuffer_ptr eol;
	size_t eol_len = 0, n, avail;

	if (check_finished(c) || k->bev == NULL)
		return 0;
	in = bufferevent_get_input(k->bev);
	avail = evbuffer_get_length(in);
	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos < 0) {
		if (avail > max) {
			check_finish(c, CHECK_STATE_DOWN,
				     "line too long (over %zu bytes without an end of line)", max);
			return -1;
		}
		return 0;
	}
	n = (size_t)eol.pos;
	if (n > max) {
		check_finish(c, CHECK_STATE_DOWN, "line too long (%zu bytes, at most %zu allowed)", n,
			     max);
		return -1;
	}
	evbuffer_remove(in, k->line, n);
	evbuffer_drain(in, eol_len);
	k->line[n] = '\0';
	*line = k->line;
	*len = n;
	return 1;
}

/* Hand the input to the checker: line by line, or all of it to read(). */
static void
conn_deliver(struct check *c)
{
	const struct check_ops *ops = check_get_ops(c);
	char *line;
	size_t len;

	if (ops->read != NULL) {
		ops->read(c);
	} else if (ops->line == NULL) {
		evbuffer_drain(check_conn_input(c), evbuffer_get_length(check_conn_input(c)));
	} else {
		/* Stop at a STARTTLS go-ahead: what follows belongs to TLS. */
		while (!check_finished(c) && check_get_phase(c) != CHECK_PHASE_TLS &&
		       conn_readline(c, &line, &len) == 1)
			ops->line(c, line, len);
	}
}

/* Whether input is waiting for the checker. */
static bool
conn_has_input(struct check *c)
{
	struct check_conn *k = check_get_conn(c);

	return !check_finished(c) && k->bev != NULL &&
	       evbuffer_get_length(bufferevent_get_input(k->bev)) > 0;
}

/* ---------------------------------------------------------------- TLS -- */

/*
 * The TLS context for @c: the shared one (tls.h), or for a URL with ca=
 * one made from that file alone, kept for the engine's life so a thousand
 * checks with the same ca= load it once.  A file that cannot be loaded is
 * not remembered: it is tried again by the next check, so fixing it needs
 * no restart.  @return NULL with @why set on failure.
 */
static SSL_CTX *
conn_ssl_ctx(struct check *c, char *why, size_t whylen)
{
	struct check_conn_env *env = check_get_env(c);
	const char *file = check_get_url(c)->ca;
	struct check_conn_ca *ca;

	if (file == NULL)
		return tls_ctx_shared(why, whylen);
	for (ca = env->cas; ca != NULL; ca = ca->next)
		if (strcmp(ca->file, file) == 0)
			return ca->ctx;
	snprintf(why, whylen, "out of memory");
	ca = calloc(1, sizeof(*ca));
	if (ca == NULL)
		return NULL;
	ca->file = strdup(file);
	ca->ctx = tls_ctx_new(file, why, whylen);
	if (ca->file == NULL || ca->ctx == NULL) {
		free(ca->file);
		SSL_CTX_free(ca->ctx);
		free(ca);
		return NULL;
	}
	ca->next = env->cas;
	env->cas = ca;
	return ca->ctx;
}

/* The name for SNI and the hostname check: sni=, else a non-literal host. */
static const char *
conn_tls_name(const struct check *c)
{
	const struct check_url *u = check_get_url(c);

	if (u->sni != NULL)
		return u->sni;
	if (u->host != NULL && value_is_ip(u->host) == 0)
		return u->host;
	return NULL;
}

static void
conn_setup_bev(struct check *c)
{
	struct check_conn *k = check_get_conn(c);

	/* Bound what libevent buffers: a bit more than one line, so a flood
	 * without an end of line is detected without growing memory. */
	bufferevent_setwatermark(k->bev, EV_READ, 0, check_get_ops(c)->max_line + 4);
	bufferevent_setcb(k->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
}

static void
tls_begin(struct check *c)
{
	const struct check_url *u = check_get_url(c);
	struct check_conn *k = check_get_conn(c);
	char why[128] = "";
	SSL_CTX *ctx = conn_ssl_ctx(c, why, sizeof(why));
	struct bufferevent *fbev;

	check_set_phase(c, CHECK_PHASE_TLS);
	if (ctx == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "TLS: cannot load the CA file %s: %s",
			     u->ca != NULL ? u->ca : "(default)", why);
		return;
	}
	fbev = tls_filter_new(check_base(c), k->bev, ctx, conn_tls_name(c), u->verify, why,
			      sizeof(why));
	if (fbev == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "TLS: %s", why);
		return;
	}
	k->bev = fbev;
	k->tls = true;
	conn_setup_bev(c);
}

/* Every reason the certificate failed verification (tls.h), in one line. */
static void
tls_verify_failed(struct check *c, SSL *ssl)
{
	char why[CHECK_REASON_MAX];

	tls_verify_reason(ssl, why, sizeof(why));
	check_finish(c, CHECK_STATE_DOWN, "TLS: %s", why);
}

/* Inspect the verified handshake.  @return 0, or -1 after finishing down. */
static int
tls_verdict(struct check *c)
{
	const struct check_url *u = check_get_url(c);
	struct check_conn *k = check_get_conn(c);
	SSL *ssl = bufferevent_openssl_get_ssl(k->bev);
	X509 *cert = ssl != NULL ? SSL_get1_peer_certificate(ssl) : NULL;
	long vr;
	int days = 0, secs = 0;

	if (cert == NULL) {
		if (u->verify) {
			check_finish(c, CHECK_STATE_DOWN, "TLS: the server sent no certificate");
			return -1;
		}
		return 0;
	}
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) == 1) {
		/* Whole days, truncated toward zero: 13.9 days left is 13, expired
		 * 1.2 days ago is -1, expired an hour ago is 0 (and expired). */
		int64_t total = (int64_t)days * 86400 + secs;
		k->cert_days = (int)(total / 86400);
	}
	struct tm tm;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
		k->cert_not_after = (int64_t)timegm(&tm);
	X509_free(cert);
	vr = SSL_get_verify_result(ssl);
	if (u->verify && vr != X509_V_OK) {
		tls_verify_failed(c, ssl);
		return -1;
	}
	if (u->cert_days_set && k->cert_days < (int)u->cert_days) {
		free(k->cert_warn);
		if (asprintf(&k->cert_warn, "TLS: certificate expires in %d day%s (cert_days=%d)",
			     k->cert_days, k->cert_days == 1 ? "" : "s", (int)u->cert_days) < 0)
			k->cert_warn = NULL;
	}
	return 0;
}

void
check_conn_starttls(struct check *c)
{
	struct check_conn *k = check_get_conn(c);

	if (check_finished(c) || k->bev == NULL)
		return;
	if (k->tls) {
		check_finish(c, CHECK_STATE_DOWN, "STARTTLS inside TLS");
		return;
	}
	/* Anything the server sent after its "go ahead" would be an injection
	 * attempt (CVE-2011-0411 style); refuse it. */
	if (evbuffer_get_length(bufferevent_get_input(k->bev)) > 0) {
		check_finish(c, CHECK_STATE_DOWN, "data after the STARTTLS reply, before the TLS handshake");
		return;
	}
	k->starttls = true;
	tls_begin(c);
}

static void
tls_error_finish(struct check *c, short what, int saved_errno)
{
	const char *r = tls_error_reason(check_get_conn(c)->bev);

	if (r != NULL)
		check_finish(c, CHECK_STATE_DOWN, "TLS: handshake failed: %s", r);
	else if (what & BEV_EVENT_EOF)
		check_finish(c, CHECK_STATE_DOWN, "TLS: connection closed during the handshake");
	else
		check_finish(c, CHECK_STATE_DOWN, "TLS: handshake failed: %s",
			     saved_errno != 0 ? strerror(saved_errno) : "connection error");
}

/* --------------------------------------------------------- connection -- */

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct check *c = arg;

	if (check_get_conn(c)->closing) {
		struct evbuffer *in = bufferevent_get_input(bev);
		/* Any answer to the polite goodbye ends the conversation. */
		if (evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_CRLF).pos >= 0 ||
		    evbuffer_get_length(in) > check_get_ops(c)->max_line)
			check_report(c);
		return;
	}
	/* In the handshake the filter reports no data: not reached then. */
	if (check_finished(c) || check_get_phase(c) == CHECK_PHASE_TLS)
		return;
	conn_deliver(c);
}

static void
conn_connected(struct check *c)
{
	const struct check_ops *ops = check_get_ops(c);
	struct check_conn *k = check_get_conn(c);

	if (check_url_tls(check_get_url(c)->scheme) == CHECK_TLS_IMPLICIT && !k->tls) {
		tls_begin(c);
		return;
	}
	if (check_get_phase(c) == CHECK_PHASE_TLS) {
		if (tls_verdict(c) != 0)
			return;
		if (k->starttls) {
			k->starttls = false;
			if (ops->tls_done != NULL)
				ops->tls_done(c);
			return;
		}
	}
	check_set_phase(c, CHECK_PHASE_GREETING);
	if (ops->connected != NULL)
		ops->connected(c);
	/* Data may have come with the connection (TLS: with the handshake). */
	if (conn_has_input(c) && (ops->line != NULL || ops->read != NULL))
		conn_deliver(c);
}

static void
conn_closed(struct check *c, short what, int saved_errno)
{
	struct check_conn *k = check_get_conn(c);
	size_t left;

	if (what & BEV_EVENT_EOF) {
		left = evbuffer_get_length(bufferevent_get_input(k->bev));
		if (left > 0)
			check_finish(c, CHECK_STATE_DOWN,
				     "connection closed by the server after %zu bytes without an end of line",
				     left);
		else
			check_finish(c, CHECK_STATE_DOWN, "connection closed by the server");
	} else if (k->tls) {
		tls_error_finish(c, what, saved_errno);
	} else if (saved_errno == ECONNRESET) {
		check_finish(c, CHECK_STATE_DOWN, "connection reset by the server");
	} else {
		check_finish(c, CHECK_STATE_DOWN, "connection error: %s",
			     saved_errno != 0 ? strerror(saved_errno) : "unknown");
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct check *c = arg;
	const struct check_ops *ops = check_get_ops(c);
	int saved_errno = errno;

	if (check_get_conn(c)->closing) {
		if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
			check_report(c);
		return;
	}
	if (check_finished(c))
		return;
	if (what & BEV_EVENT_CONNECTED) {
		conn_connected(c);
		return;
	}
	if (check_get_phase(c) == CHECK_PHASE_TLS) {
		tls_error_finish(c, what, saved_errno);
		return;
	}
	if (check_get_phase(c) == CHECK_PHASE_CONNECT) {
		if (saved_errno == ECONNREFUSED)
			check_finish(c, CHECK_STATE_DOWN, "connection refused");
		else
			check_finish(c, CHECK_STATE_DOWN, "connect: %s",
				     saved_errno != 0 ? strerror(saved_errno) : "failed");
		return;
	}
	/* Let the checker see the last bytes (e.g. a reply right before close). */
	if ((ops->line != NULL || ops->read != NULL) && conn_has_input(c))
		conn_deliver(c);
	if (!check_finished(c))
		conn_closed(c, what, saved_errno);
}

/* Connect to @sa; errors finish the check (reported later, from the loop). */
static void
conn_connect(struct check *c, const struct sockaddr *sa, socklen_t salen)
{
	struct check_conn *k = check_get_conn(c);
	int fd, one = 1;

	check_set_phase(c, CHECK_PHASE_CONNECT);
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		check_finish(c, CHECK_STATE_DOWN, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, sa, salen) != 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		if (e == ECONNREFUSED)
			check_finish(c, CHECK_STATE_DOWN, "connection refused");
		else
			check_finish(c, CHECK_STATE_DOWN, "connect: %s", strerror(e));
		return;
	}
	k->bev = bufferevent_socket_new(check_base(c), fd, BEV_OPT_CLOSE_ON_FREE);
	if (k->bev == NULL) {
		close(fd);
		check_finish(c, CHECK_STATE_DOWN, "out of memory");
		return;
	}
	conn_setup_bev(c);
	/* With the fd set and no address, libevent waits for the connect we
	 * started and reports BEV_EVENT_CONNECTED or the error. */
	if (bufferevent_socket_connect(k->bev, NULL, 0) != 0)
		check_finish(c, CHECK_STATE_DOWN, "connect: cannot wait for the connection");
}

void
check_conn_start(struct check *c)
{
	check_conn_resolve(c, SOCK_STREAM, conn_connect);
}

static void
resolve_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct check_conn_lookup *l = arg;
	struct check *c = l->c;
	struct check_conn *k;

	if (c == NULL) {
		/* Cancelled: the check may be gone; only the lookup is ours. */
		if (l->prev != NULL)
			l->prev->next = l->next;
		else
			l->env->orphans = l->next;
		if (l->next != NULL)
			l->next->prev = l->prev;
		free(l);
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	k = check_get_conn(c);
	k->lookup = NULL;
	free(l);
	if (result == EVUTIL_EAI_CANCEL) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	if (result != 0 || res == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "cannot resolve %s: %s", check_get_url(c)->host,
			     evutil_gai_strerror(result));
	} else if (!check_finished(c)) {
		k->resolved(c, res->ai_addr, (socklen_t)res->ai_addrlen);
	}
	if (res != NULL)
		evutil_freeaddrinfo(res);
}

void
check_conn_resolve(struct check *c, int socktype, check_resolved_fn cb)
{
	const struct check_url *u = check_get_url(c);
	struct check_conn_env *env = check_get_env(c);
	struct check_conn *k = check_get_conn(c);
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *req;
	struct check_conn_lookup *l;
	char portstr[8];

	if (value_ip_sockaddr(u->host, u->port, &ss, &sslen) != 0) {
		cb(c, (struct sockaddr *)&ss, sslen);
		return;
	}
	/* A name: resolve on the loop, never blocking it. */
	check_set_phase(c, CHECK_PHASE_RESOLVE);
	k->resolved = cb;
	if (env->dns == NULL)
		env->dns = evdns_base_new(check_base(c), EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (env->dns == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "cannot resolve %s: no resolver configured", u->host);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", u->port);
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "cannot resolve %s: out of memory", u->host);
		return;
	}
	l->c = c;
	l->env = env;
	k->lookup = l;
	/* The callback may run before this returns (a name in /etc/hosts, an
	 * error); it has freed @l then, and evdns returns NULL. */
	req = evdns_getaddrinfo(env->dns, u->host, portstr, &hints, resolve_cb, l);
	if (req != NULL)
		l->req = req;
}
