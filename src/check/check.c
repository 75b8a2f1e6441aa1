/*
 * check.c -- the check engine: URL to checker, connection, TLS, deadline,
 * bounded line reader, the one epilogue, de-duplication of equal checks.
 *
 * Life of a stream check: check_engine_start() parses the URL, joins an equal
 * running check or creates one, arms the deadline and connects (after an
 * evdns lookup when the host is a name).  Connected, the engine wraps the
 * socket in TLS when the scheme says so, then hands over to the checker's
 * vtable.  Whatever happens -- a verdict from the checker, an error or EOF on
 * the socket, the deadline -- ends in check_finish(), which records the
 * result once, frees the connection and activates a zero-delay event; the
 * report (every waiter's callback, then freeing the check) runs from that
 * event, never inside a bufferevent callback or inside check_engine_start().
 */
#include "check.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "check_impl.h"
#include "check_url.h"
#include "mxf.h"
#include "proto.h"

#define CHECK_DEFAULT_TIMEOUT_MS 5000
#define CHECK_TABLE_BUCKETS 4096
#define CHECK_DEFAULT_HELO "mxfailover.invalid"

struct check_waiter {
	check_done_fn cb;
	void *arg;
	struct check_waiter *next;
};

struct ca_ctx {
	char *file;
	SSL_CTX *ctx;
	struct ca_ctx *next;
};

struct check_engine {
	struct event_base *base;
	struct evdns_base *dns;     /* made on first use of a host name */
	SSL_CTX *ssl_ctx;           /* the default trust store */
	struct ca_ctx *cas;         /* per-URL ca= files */
	struct check *table[CHECK_TABLE_BUCKETS];
	size_t running;
};

struct check {
	struct check_engine *eng;
	const struct check_ops *ops;
	struct check_target t;
	char *key;                  /* canonical URL: the de-duplication key */
	unsigned hash;
	struct check *hnext;
	struct check_waiter *waiters;

	struct event *deadline_ev;
	struct event *report_ev;
	struct evdns_getaddrinfo_request *dnsreq;
	check_resolved_fn resolved;  /* continuation of check_resolve() */
	int socktype;               /* what check_resolve() looks up */
	struct bufferevent *bev;
	bool tls;                   /* bev is the TLS filter */
	bool finished;              /* the verdict is recorded */
	bool closing;               /* waiting for the answer to QUIT/LOGOUT */
	bool starttls;              /* the TLS handshake is an upgrade */
	bool cleaned;               /* ops->cleanup ran */
	struct timespec t0;
	uint64_t timeout_ms;
	enum check_phase phase;
	int cert_days;
	char *cert_warn;          /* set when the certificate expires soon */
	struct check_result res;
	void *priv;
	char *line;                 /* ops->max_line + 1 bytes */
};

static const struct check_ops *const check_all_ops[] = {
	&check_tcp_ops, &check_smtp_ops, &check_submission_ops, &check_smtps_ops,
	&check_imap_ops, &check_imaps_ops, &check_pop3_ops, &check_pop3s_ops,
	&check_http_ops, &check_https_ops, &check_mysql_ops, &check_dns_ops,
	&check_exec_ops, &check_ssh_disk_ops, &check_ssh_socket_ops, &check_ssh_fsck_ops,
};

static const char *const check_state_names[] = {
	[CHECK_STATE_UP] = "up",
	[CHECK_STATE_DOWN] = "down",
	[CHECK_STATE_WARNING] = "warning",
};

static const struct {
	const char *name;
	const char *waiting;
} check_phases[CHECK_PHASE_COUNT_] = {
	[CHECK_PHASE_START] = {"start", "starting"},
	[CHECK_PHASE_RESOLVE] = {"resolve", "resolving the host name"},
	[CHECK_PHASE_CONNECT] = {"connect", "connecting"},
	[CHECK_PHASE_TLS] = {"TLS handshake", "in the TLS handshake"},
	[CHECK_PHASE_GREETING] = {"greeting", "waiting for the greeting"},
	[CHECK_PHASE_EHLO] = {"EHLO", "waiting for the EHLO reply"},
	[CHECK_PHASE_STARTTLS] = {"STARTTLS", "waiting for the STARTTLS reply"},
	[CHECK_PHASE_CAPABILITY] = {"CAPABILITY", "waiting for the capability list"},
	[CHECK_PHASE_REQUEST] = {"request", "sending the request"},
	[CHECK_PHASE_RESPONSE] = {"response", "waiting for the response"},
	[CHECK_PHASE_QUERY] = {"query", "waiting for the answer"},
	[CHECK_PHASE_EXEC] = {"exec", "waiting for the command"},
	[CHECK_PHASE_QUIT] = {"quit", "closing"},
	[CHECK_PHASE_DONE] = {"done", "finishing"},
};

const char *
check_state_name(enum check_state s)
{
	if ((unsigned)s < MXF_ARRAY_SIZE(check_state_names))
		return check_state_names[s];
	return "unknown";
}

const char *
check_phase_name(enum check_phase p)
{
	if ((unsigned)p < CHECK_PHASE_COUNT_ && check_phases[p].name != NULL)
		return check_phases[p].name;
	return "unknown";
}

const char *
check_phase_waiting(enum check_phase p)
{
	if ((unsigned)p < CHECK_PHASE_COUNT_ && check_phases[p].waiting != NULL)
		return check_phases[p].waiting;
	return "waiting";
}

char *
check_format_duration(uint64_t ms, char *buf, size_t size)
{
	if (ms < 1000)
		snprintf(buf, size, "%u ms", (unsigned)ms);
	else
		snprintf(buf, size, "%.1f s", (double)ms / 1000.0);
	return buf;
}

void
check_quote(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0, need = 0;
	bool cut;

	if (size == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		need += (ch >= 0x20 && ch < 0x7f) ? 1 : 4;
	}
	/* Reserve room for "..." only when the whole text does not fit. */
	cut = need + 1 > size;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		char tmp[5];
		size_t n;

		if (ch >= 0x20 && ch < 0x7f) {
			tmp[0] = (char)ch;
			n = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
			n = 4;
		}
		/* Keep room for "..." and the NUL when more follows. */
		if (o + n + (cut ? 4 : 1) > size) {
			if (size >= 4) {
				while (o + 4 > size)
					o--;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
}

/* ---------------------------------------------------------------- URLs -- */

static void
target_clear(struct check_target *t)
{
	free(t->scheme);
	free(t->user);
	free(t->host);
	free(t->path);
	free(t->sni);
	free(t->helo);
	free(t->script);
	free(t->ca);
	if (t->argv != NULL) {
		for (char **a = t->argv; *a != NULL; a++)
			free(*a);
		free(t->argv);
	}
	memset(t, 0, sizeof(*t));
}

static const struct check_ops *
ops_find(const char *scheme)
{
	for (size_t i = 0; i < MXF_ARRAY_SIZE(check_all_ops); i++)
		if (strcmp(check_all_ops[i]->scheme, scheme) == 0)
			return check_all_ops[i];
	return NULL;
}

static char *
dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*oom = true;
	return d;
}

/*
 * Parse @url into @t with check_url_parse() (the one parser of check URLs,
 * shared with the configuration) and copy what the engine needs.
 */
static int
target_parse(const char *url, struct check_target *t, const struct check_ops **opsp,
	     char **keyp, char *err, size_t errsize)
{
	struct check_url u;
	bool oom = false;
	int rc;

	memset(t, 0, sizeof(*t));
	rc = check_url_parse(url, &u, err, errsize);
	if (rc != 0)
		return rc;
	if (keyp != NULL) {
		/* The canonical form, so "smtp://h" and "SMTP://h:25" are one check. */
		char buf[CHECK_URL_MAX + 256];

		*keyp = strdup(check_url_format(&u, buf, sizeof(buf)) == 0 ? buf : url);
		if (*keyp == NULL)
			oom = true;
	}
	*opsp = ops_find(check_url_scheme_name(u.scheme));
	if (*opsp == NULL) {
		snprintf(err, errsize, "no checker for scheme '%s'", check_url_scheme_name(u.scheme));
		check_url_free(&u);
		return MXF_EINVAL;
	}
	t->scheme = dup_or_null(check_url_scheme_name(u.scheme), &oom);
	t->user = dup_or_null(u.user, &oom);
	t->host = dup_or_null(u.host, &oom);
	t->port = u.port;
	t->timeout_ms = u.timeout_ms;
	t->sni = dup_or_null(u.sni, &oom);
	t->verify = u.verify;
	t->cert_days = u.cert_days_set ? (int)u.cert_days : -1;
	t->helo = dup_or_null(u.helo, &oom);
	t->limit = (int)u.limit;
	t->script = dup_or_null(u.script, &oom);
	t->ca = dup_or_null(u.ca, &oom);
	if (u.expect_set) {
		t->expect = u.expect;
		t->expect_set = true;
	}
	if (u.scheme == CHECK_SCHEME_DNS) {
		if (asprintf(&t->path, "/%s/%s", u.dns_name, u.dns_type) < 0) {
			t->path = NULL;
			oom = true;
		}
	} else {
		t->path = dup_or_null(u.path != NULL ? u.path : "", &oom);
	}
	if (u.argv != NULL) {
		t->argv = calloc(u.argc + 1, sizeof(*t->argv));
		if (t->argv == NULL)
			oom = true;
		for (size_t i = 0; t->argv != NULL && i < u.argc; i++)
			t->argv[i] = dup_or_null(u.argv[i], &oom);
	}
	check_url_free(&u);
	if (oom) {
		snprintf(err, errsize, "out of memory");
		target_clear(t);
		return MXF_ENOMEM;
	}
	return 0;
}

int
check_validate(const char *url, char *errbuf, size_t errsize)
{
	struct check_target t;
	const struct check_ops *ops;
	int rc = target_parse(url, &t, &ops, NULL, errbuf, errsize);

	if (rc == 0)
		target_clear(&t);
	return rc;
}

/* ------------------------------------------------------------- engine -- */

static uint64_t
elapsed_ms(const struct check *c)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - c->t0.tv_sec) * 1000 +
	     (now.tv_nsec - c->t0.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (uint64_t)ms;
}

static unsigned
hash_str(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/*
 * A client context trusting @cafile, or the system store when @cafile is
 * NULL or "".  @why (may be NULL) says what went wrong on failure.
 */
static SSL_CTX *
ssl_ctx_make(const char *cafile, char *why, size_t whylen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "out of memory");
	if (ctx == NULL)
		return NULL;
	if (cafile != NULL && *cafile != '\0') {
		FILE *f = fopen(cafile, "r");

		/* errno is clearer than OpenSSL's error stack for the usual
		 * mistakes: a wrong path, a file only root may read. */
		if (f == NULL) {
			if (why != NULL)
				snprintf(why, whylen, "%s", strerror(errno));
			SSL_CTX_free(ctx);
			return NULL;
		}
		fclose(f);
		if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
			if (why != NULL)
				snprintf(why, whylen, "no PEM certificate in it");
			ERR_clear_error();
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Verification is done after the handshake, from the verify result,
	 * so a bad certificate gives a precise reason instead of an alert. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	return ctx;
}

struct check_engine *
check_engine_new(struct event_base *base)
{
	struct check_engine *eng = calloc(1, sizeof(*eng));

	if (eng == NULL)
		return NULL;
	eng->base = base;
	eng->ssl_ctx = ssl_ctx_make(getenv("MXF_CA_FILE"), NULL, 0);
	if (eng->ssl_ctx == NULL) {
		free(eng);
		return NULL;
	}
	return eng;
}

static void check_free(struct check *c);

void
check_engine_free(struct check_engine *eng)
{
	if (eng == NULL)
		return;
	for (size_t i = 0; i < CHECK_TABLE_BUCKETS; i++) {
		while (eng->table[i] != NULL) {
			struct check *c = eng->table[i];
			eng->table[i] = c->hnext;
			check_free(c);
		}
	}
	while (eng->cas != NULL) {
		struct ca_ctx *ca = eng->cas;
		eng->cas = ca->next;
		SSL_CTX_free(ca->ctx);
		free(ca->file);
		free(ca);
	}
	SSL_CTX_free(eng->ssl_ctx);
	if (eng->dns != NULL)
		evdns_base_free(eng->dns, 0);
	free(eng);
}

size_t
check_engine_running(const struct check_engine *eng)
{
	return eng->running;
}

/* Release everything a check holds; it must be out of the table. */
static void
check_release_io(struct check *c)
{
	if (c->dnsreq != NULL) {
		evdns_getaddrinfo_cancel(c->dnsreq);
		c->dnsreq = NULL;
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (c->ops->cleanup != NULL && c->priv != NULL && !c->cleaned) {
		c->cleaned = true;
		c->ops->cleanup(c);
	}
	if (c->deadline_ev != NULL)
		event_del(c->deadline_ev);
}

static void
check_free(struct check *c)
{
	check_release_io(c);
	if (c->deadline_ev != NULL)
		event_free(c->deadline_ev);
	if (c->report_ev != NULL)
		event_free(c->report_ev);
	while (c->waiters != NULL) {
		struct check_waiter *w = c->waiters;
		c->waiters = w->next;
		free(w);
	}
	target_clear(&c->t);
	free(c->key);
	free(c->priv);
	free(c->line);
	free(c->cert_warn);
	free(c);
}

static void
check_unlink(struct check *c)
{
	struct check **pp = &c->eng->table[c->hash % CHECK_TABLE_BUCKETS];

	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			c->eng->running--;
			return;
		}
	}
}

static void
report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	struct check_waiter *w;

	/* Out of the table first: a callback may start the same URL again. */
	check_unlink(c);
	for (w = c->waiters; w != NULL; w = w->next)
		w->cb(&c->res, w->arg);
	check_free(c);
}

/*
 * Record the verdict without touching the I/O.  The reason is formatted with
 * room to spare, then made one printable line by proto_printable(), the same
 * function that cleans peer text in the parsers: no C0 or C1 controls, valid
 * UTF-8 (a JSON string), cut on a character boundary with "..." when long.
 */
static void
check_record(struct check *c, enum check_state s, const char *fmt, va_list ap)
{
	char raw[CHECK_REASON_MAX * 2];

	c->finished = true;
	c->res.state = s;
	c->res.phase = c->phase;
	c->res.elapsed_ms = elapsed_ms(c);
	c->res.cert_days = c->cert_days;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	if (s == CHECK_STATE_UP && c->cert_warn != NULL) {
		c->res.state = CHECK_STATE_WARNING;
		snprintf(raw, sizeof(raw), "%s", c->cert_warn);
	}
	proto_printable(c->res.reason, sizeof(c->res.reason), raw, strlen(raw));
}

static void
check_report_now(struct check *c)
{
	c->closing = false;
	check_release_io(c);
	event_active(c->report_ev, EV_TIMEOUT, 0);
}

void
check_finish(struct check *c, enum check_state s, const char *fmt, ...)
{
	va_list ap;

	if (c->finished)
		return;
	va_start(ap, fmt);
	check_record(c, s, fmt, ap);
	va_end(ap);
	check_report_now(c);
}

void
check_finish_polite(struct check *c, const char *bye, enum check_state s, const char *fmt, ...)
{
	va_list ap;

	if (c->finished)
		return;
	va_start(ap, fmt);
	check_record(c, s, fmt, ap);
	va_end(ap);
	if (c->bev == NULL || bye == NULL ||
	    bufferevent_write(c->bev, bye, strlen(bye)) != 0) {
		check_report_now(c);
		return;
	}
	/* Drop unread input: what comes now is the answer to @bye. */
	evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
	c->closing = true;
}

bool
check_finished(const struct check *c)
{
	return c->finished;
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	char dur[32];

	if (c->closing) {
		check_report_now(c);
		return;
	}
	check_finish(c, CHECK_STATE_DOWN, "timed out after %s %s",
		     check_format_duration(c->timeout_ms, dur, sizeof(dur)),
		     check_phase_waiting(c->phase));
}

/* ----------------------------------------------------- checker helpers -- */

const struct check_target *
check_target(const struct check *c)
{
	return &c->t;
}

void *
check_priv(struct check *c)
{
	return c->priv;
}

struct event_base *
check_base(const struct check *c)
{
	return c->eng->base;
}

uint64_t
check_timeout_ms(const struct check *c)
{
	return c->timeout_ms;
}

uint64_t
check_remaining_ms(const struct check *c)
{
	uint64_t e = elapsed_ms(c);

	return e >= c->timeout_ms ? 0 : c->timeout_ms - e;
}

bool
check_tls_active(const struct check *c)
{
	return c->tls;
}

const char *
check_helo_name(const struct check *c)
{
	return c->t.helo != NULL ? c->t.helo : CHECK_DEFAULT_HELO;
}

void
check_set_phase(struct check *c, enum check_phase p)
{
	c->phase = p;
}

enum check_phase
check_get_phase(const struct check *c)
{
	return c->phase;
}

struct evbuffer *
check_input(struct check *c)
{
	return bufferevent_get_input(c->bev);
}

int
check_write(struct check *c, const void *data, size_t len)
{
	if (c->bev == NULL || bufferevent_write(c->bev, data, len) != 0) {
		check_finish(c, CHECK_STATE_DOWN, "cannot queue data: out of memory");
		return MXF_ENOMEM;
	}
	return 0;
}

int
check_printf(struct check *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->bev == NULL)
		return MXF_EINVAL;
	va_start(ap, fmt);
	n = evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
	if (n < 0) {
		check_finish(c, CHECK_STATE_DOWN, "cannot queue data: out of memory");
		return MXF_ENOMEM;
	}
	return 0;
}

int
check_readline(struct check *c, char **line, size_t *len)
{
	struct evbuffer *in;
	struct evbuffer_ptr eol;
	size_t eol_len = 0, n, avail;

	if (c->finished || c->bev == NULL)
		return 0;
	in = bufferevent_get_input(c->bev);
	avail = evbuffer_get_length(in);
	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos < 0) {
		if (avail > c->ops->max_line) {
			check_finish(c, CHECK_STATE_DOWN, "line too long (over %zu bytes without an end of line)",
				     c->ops->max_line);
			return -1;
		}
		return 0;
	}
	n = (size_t)eol.pos;
	if (n > c->ops->max_line) {
		check_finish(c, CHECK_STATE_DOWN, "line too long (%zu bytes, at most %zu allowed)", n,
			     c->ops->max_line);
		return -1;
	}
	evbuffer_remove(in, c->line, n);
	evbuffer_drain(in, eol_len);
	c->line[n] = '\0';
	*line = c->line;
	*len = n;
	return 1;
}

/* ---------------------------------------------------------------- TLS -- */

/*
 * The TLS context for @c: the engine's default one, or for a URL with ca=
 * one made from that file alone, kept for the engine's life so a thousand
 * checks with the same ca= load it once.  A file that cannot be loaded is
 * not remembered: it is tried again by the next check, so fixing it needs
 * no restart.  @return NULL with @why set on failure.
 */
static SSL_CTX *
check_ssl_ctx(struct check *c, char *why, size_t whylen)
{
	struct ca_ctx *ca;

	if (c->t.ca == NULL)
		return c->eng->ssl_ctx;
	for (ca = c->eng->cas; ca != NULL; ca = ca->next)
		if (strcmp(ca->file, c->t.ca) == 0)
			return ca->ctx;
	snprintf(why, whylen, "out of memory");
	ca = calloc(1, sizeof(*ca));
	if (ca == NULL)
		return NULL;
	ca->file = strdup(c->t.ca);
	ca->ctx = ssl_ctx_make(c->t.ca, why, whylen);
	if (ca->file == NULL || ca->ctx == NULL) {
		free(ca->file);
		SSL_CTX_free(ca->ctx);
		free(ca);
		return NULL;
	}
	ca->next = c->eng->cas;
	c->eng->cas = ca;
	return ca->ctx;
}

static bool
host_is_literal(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
}

/* The name for SNI and the hostname check: sni=, else a non-literal host. */
static const char *
check_tls_name(const struct check *c)
{
	if (c->t.sni != NULL)
		return c->t.sni;
	if (c->t.host != NULL && !host_is_literal(c->t.host))
		return c->t.host;
	return NULL;
}

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static void
conn_setup_bev(struct check *c)
{
	/* Bound what libevent buffers: a bit more than one line, so a flood
	 * without an end of line is detected without growing memory. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->ops->max_line + 4);
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
tls_begin(struct check *c)
{
	char why[128] = "";
	SSL_CTX *ctx = check_ssl_ctx(c, why, sizeof(why));
	const char *name = check_tls_name(c);
	struct bufferevent *fbev;
	SSL *ssl;

	c->phase = CHECK_PHASE_TLS;
	if (ctx == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "TLS: cannot load the CA file %s: %s", c->t.ca, why);
		return;
	}
	ssl = SSL_new(ctx);
	if (ssl == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "TLS: out of memory");
		return;
	}
	if (name != NULL) {
		SSL_set_tlsext_host_name(ssl, name);
		if (c->t.verify)
			SSL_set1_host(ssl, name);
	}
	fbev = bufferevent_openssl_filter_new(c->eng->base, c->bev, ssl,
					      BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (fbev == NULL) {
		SSL_free(ssl);
		check_finish(c, CHECK_STATE_DOWN, "TLS: cannot set up the TLS layer");
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(fbev, 1);
	c->bev = fbev;
	c->tls = true;
	conn_setup_bev(c);
}

/* Inspect the verified handshake.  @return 0, or -1 after finishing down. */
static int
tls_verdict(struct check *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	X509 *cert = ssl != NULL ? SSL_get1_peer_certificate(ssl) : NULL;
	long vr;
	int days = 0, secs = 0;

	if (cert == NULL) {
		if (c->t.verify) {
			check_finish(c, CHECK_STATE_DOWN, "TLS: the server sent no certificate");
			return -1;
		}
		return 0;
	}
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) == 1) {
		/* Whole days, truncated toward zero: 13.9 days left is 13, expired
		 * 1.2 days ago is -1, expired an hour ago is 0 (and expired). */
		int64_t total = (int64_t)days * 86400 + secs;
		c->cert_days = (int)(total / 86400);
	}
	X509_free(cert);
	vr = SSL_get_verify_result(ssl);
	if (c->t.verify && vr != X509_V_OK) {
		const char *name = check_tls_name(c);

		switch (vr) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			if (c->cert_days == 0)
				check_finish(c, CHECK_STATE_DOWN, "TLS: certificate expired less than a day ago");
			else
				check_finish(c, CHECK_STATE_DOWN, "TLS: certificate expired %d day%s ago",
					     -c->cert_days, c->cert_days == -1 ? "" : "s");
			break;
		case X509_V_ERR_HOSTNAME_MISMATCH:
			check_finish(c, CHECK_STATE_DOWN, "TLS: certificate does not match the name %s",
				     name != NULL ? name : "?");
			break;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			check_finish(c, CHECK_STATE_DOWN, "TLS: certificate is not valid yet");
			break;
		default:
			check_finish(c, CHECK_STATE_DOWN, "TLS: certificate verify failed: %s",
				     X509_verify_cert_error_string(vr));
			break;
		}
		return -1;
	}
	if (c->t.cert_days >= 0 && c->cert_days < c->t.cert_days) {
		free(c->cert_warn);
		if (asprintf(&c->cert_warn, "TLS: certificate expires in %d days (cert_days=%d)",
			     c->cert_days, c->t.cert_days) < 0)
			c->cert_warn = NULL;
	}
	return 0;
}

void
check_starttls(struct check *c)
{
	if (c->finished || c->bev == NULL)
		return;
	if (c->tls) {
		check_finish(c, CHECK_STATE_DOWN, "STARTTLS inside TLS");
		return;
	}
	/* Anything the server sent after its "go ahead" would be an injection
	 * attempt (CVE-2011-0411 style); refuse it. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
		check_finish(c, CHECK_STATE_DOWN, "data after the STARTTLS reply, before the TLS handshake");
		return;
	}
	c->starttls = true;
	tls_begin(c);
}

/* --------------------------------------------------------- connection -- */

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct check *c = arg;

	if (c->closing) {
		struct evbuffer *in = bufferevent_get_input(bev);
		/* Any answer to the polite goodbye ends the conversation. */
		if (evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_CRLF).pos >= 0 ||
		    evbuffer_get_length(in) > c->ops->max_line)
			check_report_now(c);
		return;
	}
	if (c->finished)
		return;
	if (c->phase == CHECK_PHASE_TLS) {
		/* Not reached: the filter reports data only after the handshake. */
		return;
	}
	if (c->ops->read != NULL)
		c->ops->read(c);
	else
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void
tls_error_reason(struct check *c, short what, int saved_errno)
{
	unsigned long e, last = 0;
	char buf[160];

	/* libevent queues SSL_get_error()'s small code next to OpenSSL's
	 * packed errors; keep the first OpenSSL error that has a reason. */
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		if (last == 0 && ERR_GET_LIB(e) != 0 && ERR_reason_error_string(e) != NULL)
			last = e;
	if (last != 0) {
		const char *r = ERR_reason_error_string(last);
		if (r == NULL) {
			ERR_error_string_n(last, buf, sizeof(buf));
			r = buf;
		}
		check_finish(c, CHECK_STATE_DOWN, "TLS: handshake failed: %s", r);
	} else if (what & BEV_EVENT_EOF) {
		check_finish(c, CHECK_STATE_DOWN, "TLS: connection closed during the handshake");
	} else {
		check_finish(c, CHECK_STATE_DOWN, "TLS: handshake failed: %s",
			     saved_errno != 0 ? strerror(saved_errno) : "connection error");
	}
}

static void
conn_connected(struct check *c)
{
	if ((c->ops->flags & CHECK_F_TLS) && !c->tls) {
		tls_begin(c);
		return;
	}
	if (c->phase == CHECK_PHASE_TLS) {
		if (tls_verdict(c) != 0)
			return;
		if (c->starttls) {
			c->starttls = false;
			if (c->ops->tls_done != NULL)
				c->ops->tls_done(c);
			return;
		}
	}
	c->phase = CHECK_PHASE_GREETING;
	if (c->ops->connected != NULL)
		c->ops->connected(c);
	/* Data may have come with the connection (TLS: with the handshake). */
	if (!c->finished && c->bev != NULL &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 && c->ops->read != NULL)
		c->ops->read(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct check *c = arg;
	int saved_errno = errno;

	if (c->closing) {
		if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
			check_report_now(c);
		return;
	}
	if (c->finished)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		conn_connected(c);
		return;
	}
	if (c->phase == CHECK_PHASE_TLS) {
		tls_error_reason(c, what, saved_errno);
		return;
	}
	if (c->phase == CHECK_PHASE_CONNECT) {
		if (saved_errno == ECONNREFUSED)
			check_finish(c, CHECK_STATE_DOWN, "connection refused");
		else
			check_finish(c, CHECK_STATE_DOWN, "connect: %s",
				     saved_errno != 0 ? strerror(saved_errno) : "failed");
		return;
	}
	/* Let the checker see the last bytes (e.g. a reply right before close). */
	if (c->ops->read != NULL && evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		c->ops->read(c);
	if (c->finished)
		return;
	if (what & BEV_EVENT_EOF) {
		size_t left = evbuffer_get_length(bufferevent_get_input(bev));
		if (left > 0)
			check_finish(c, CHECK_STATE_DOWN,
				     "connection closed by the server after %zu bytes without an end of line", left);
		else
			check_finish(c, CHECK_STATE_DOWN, "connection closed by the server");
	} else if (c->tls) {
		tls_error_reason(c, what, saved_errno);
	} else if (saved_errno == ECONNRESET) {
		check_finish(c, CHECK_STATE_DOWN, "connection reset by the server");
	} else {
		check_finish(c, CHECK_STATE_DOWN, "connection error: %s",
			     saved_errno != 0 ? strerror(saved_errno) : "unknown");
	}
}

/* Connect to @sa; errors finish the check (reported later, from the loop). */
static void
conn_start(struct check *c, const struct sockaddr *sa, socklen_t salen)
{
	int fd, one = 1;

	c->phase = CHECK_PHASE_CONNECT;
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
	c->bev = bufferevent_socket_new(c->eng->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		check_finish(c, CHECK_STATE_DOWN, "out of memory");
		return;
	}
	conn_setup_bev(c);
	/* With the fd set and no address, libevent waits for the connect we
	 * started and reports BEV_EVENT_CONNECTED or the error. */
	if (bufferevent_socket_connect(c->bev, NULL, 0) != 0)
		check_finish(c, CHECK_STATE_DOWN, "connect: cannot wait for the connection");
}

static void
resolve_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct check *c = arg;

	c->dnsreq = NULL;
	if (result == EVUTIL_EAI_CANCEL) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	if (result != 0 || res == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "cannot resolve %s: %s", c->t.host,
			     evutil_gai_strerror(result));
	} else if (!c->finished) {
		c->resolved(c, res->ai_addr, (socklen_t)res->ai_addrlen);
	}
	if (res != NULL)
		evutil_freeaddrinfo(res);
}

void
check_resolve(struct check *c, int socktype, check_resolved_fn cb)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
	struct evutil_addrinfo hints;
	char portstr[8];

	memset(&u, 0, sizeof(u));
	if (inet_pton(AF_INET, c->t.host, &u.sin.sin_addr) == 1) {
		u.sin.sin_family = AF_INET;
		u.sin.sin_port = htons(c->t.port);
		cb(c, &u.sa, sizeof(u.sin));
		return;
	}
	if (inet_pton(AF_INET6, c->t.host, &u.sin6.sin6_addr) == 1) {
		u.sin6.sin6_family = AF_INET6;
		u.sin6.sin6_port = htons(c->t.port);
		cb(c, &u.sa, sizeof(u.sin6));
		return;
	}
	/* A name: resolve on the loop, never blocking it. */
	c->phase = CHECK_PHASE_RESOLVE;
	c->resolved = cb;
	c->socktype = socktype;
	if (c->eng->dns == NULL)
		c->eng->dns = evdns_base_new(c->eng->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (c->eng->dns == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "cannot resolve %s: no resolver configured", c->t.host);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", c->t.port);
	/* The callback may run before this returns (a name in /etc/hosts). */
	c->dnsreq = evdns_getaddrinfo(c->eng->dns, c->t.host, portstr, &hints, resolve_cb, c);
}

int
check_engine_start(struct check_engine *eng, const char *url, uint64_t timeout_ms,
		   check_done_fn cb, void *arg, char *errbuf, size_t errsize)
{
	struct check_waiter *w;
	struct check *c = NULL;
	const struct check_ops *ops;
	struct check_target t;
	struct timeval tv;
	char *key = NULL;
	unsigned h;
	char dummy[8];
	int rc;

	if (errbuf == NULL) {
		errbuf = dummy;
		errsize = sizeof(dummy);
	}
	rc = target_parse(url, &t, &ops, &key, errbuf, errsize);
	if (rc != 0)
		return rc;
	h = hash_str(key);
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		target_clear(&t);
		free(key);
		return MXF_ENOMEM;
	}
	w->cb = cb;
	w->arg = arg;
	/* An equal check is running: join it rather than knock twice. */
	for (c = eng->table[h % CHECK_TABLE_BUCKETS]; c != NULL; c = c->hnext) {
		if (c->hash == h && strcmp(c->key, key) == 0) {
			w->next = c->waiters;
			c->waiters = w;
			target_clear(&t);
			free(key);
			return 0;
		}
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		free(w);
		target_clear(&t);
		free(key);
		return MXF_ENOMEM;
	}
	c->waiters = w;
	c->t = t;
	c->key = key;
	c->eng = eng;
	c->ops = ops;
	c->hash = h;
	c->cert_days = INT32_MIN;
	c->timeout_ms = c->t.timeout_ms != 0 ? c->t.timeout_ms
			: timeout_ms != 0 ? timeout_ms : CHECK_DEFAULT_TIMEOUT_MS;
	c->line = malloc(ops->max_line + 1);
	c->priv = calloc(1, ops->state_size > 0 ? ops->state_size : 1);
	c->deadline_ev = evtimer_new(eng->base, deadline_cb, c);
	c->report_ev = event_new(eng->base, -1, 0, report_cb, c);
	if (c->key == NULL || c->line == NULL || c->priv == NULL || c->deadline_ev == NULL ||
	    c->report_ev == NULL) {
		check_free(c);
		snprintf(errbuf, errsize, "out of memory");
		return MXF_ENOMEM;
	}
	c->hnext = eng->table[h % CHECK_TABLE_BUCKETS];
	eng->table[h % CHECK_TABLE_BUCKETS] = c;
	eng->running++;
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	tv.tv_sec = (time_t)(c->timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(c->timeout_ms % 1000) * 1000;
	evtimer_add(c->deadline_ev, &tv);
	c->phase = CHECK_PHASE_START;
	if (ops->flags & CHECK_F_STREAM)
		check_resolve(c, SOCK_STREAM, conn_start);
	else if (ops->start != NULL)
		ops->start(c);
	else
		check_finish(c, CHECK_STATE_DOWN, "no checker for %s", ops->scheme);
	return 0;
}
