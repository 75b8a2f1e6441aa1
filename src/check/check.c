/*
 * check.c -- the check engine: URL to checker, de-duplication of equal
 * checks, the deadline, the one epilogue and the report.  The connection
 * of a stream check (resolve, connect, TLS, line reader) is check_conn.c.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "check_conn.h"
#include "check_impl.h"
#include "check_url.h"
#include "clock.h"
#include "mxf.h"
#include "tls.h"
#include "value.h"

#define CHECK_DEFAULT_TIMEOUT_MS 5000
#define CHECK_TABLE_BUCKETS 4096
#define CHECK_DEFAULT_HELO "mxfailover.invalid"
#define CHECK_DRAIN_PASSES 4 /* loop passes check_engine_free() allows lookups */

struct check_waiter {
	check_done_fn cb;
	void *arg;
	struct check_waiter *next;
};

struct check_engine {
	struct event_base *base;
	struct check_conn_env env;  /* resolver, ca= contexts */
	struct check *table[CHECK_TABLE_BUCKETS];
	size_t running;
};

struct check {
	struct check_engine *eng;
	const struct check_ops *ops;
	struct check_url u;
	char *key;                  /* canonical URL: the de-duplication key */
	unsigned hash;
	struct check *hnext;
	struct check_waiter *waiters;

	struct event *deadline_ev;
	struct event *report_ev;
	struct check_conn conn;     /* stream checks: check_conn.c's */
	bool finished;              /* the verdict is recorded */
	bool cleaned;               /* ops->cleanup ran */
	uint64_t t0;                /* clock_mono_ms() at the start */
	uint64_t timeout_ms;
	enum check_phase phase;
	struct check_result res;
	void *priv;
};

/* The checker of each scheme. */
static const struct check_ops *const check_all_ops[CHECK_SCHEME_COUNT] = {
	[CHECK_SCHEME_TCP] = &check_tcp_ops,
	[CHECK_SCHEME_SMTP] = &check_smtp_ops,
	[CHECK_SCHEME_SUBMISSION] = &check_smtp_ops,
	[CHECK_SCHEME_SMTPS] = &check_smtp_ops,
	[CHECK_SCHEME_IMAP] = &check_imap_ops,
	[CHECK_SCHEME_IMAPS] = &check_imap_ops,
	[CHECK_SCHEME_POP3] = &check_pop3_ops,
	[CHECK_SCHEME_POP3S] = &check_pop3_ops,
	[CHECK_SCHEME_HTTP] = &check_http_ops,
	[CHECK_SCHEME_HTTPS] = &check_http_ops,
	[CHECK_SCHEME_MYSQL] = &check_mysql_ops,
	[CHECK_SCHEME_DNS] = &check_dns_ops,
	[CHECK_SCHEME_SSH_DISK] = &check_ssh_ops,
	[CHECK_SCHEME_SSH_SOCKET] = &check_ssh_ops,
	[CHECK_SCHEME_SSH_FSCK] = &check_ssh_ops,
	[CHECK_SCHEME_EXEC] = &check_exec_ops,
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

/*
 * Parse @url into @u with check_url_parse() (the one parser of check URLs,
 * shared with the configuration) and find its checker.  @keyp (may be
 * NULL) receives the canonical form, malloc'ed, so "smtp://h" and
 * "SMTP://h:25" are one check.  @return 0, or MXF_EINVAL / MXF_ENOMEM with
 * @err saying why and @u released.
 */
static int
url_parse(const char *url, struct check_url *u, const struct check_ops **opsp, char **keyp,
	  char *err, size_t errsize)
{
	int rc = check_url_parse(url, u, err, errsize);

	if (rc != 0)
		return rc;
	*opsp = (unsigned)u->scheme < CHECK_SCHEME_COUNT ? check_all_ops[u->scheme] : NULL;
	if (*opsp == NULL) {
		snprintf(err, errsize, "no checker for scheme '%s'", check_url_scheme_name(u->scheme));
		check_url_free(u);
		return MXF_EINVAL;
	}
	if (keyp != NULL) {
		char buf[CHECK_URL_MAX + 256];

		*keyp = strdup(check_url_format(u, buf, sizeof(buf)) == 0 ? buf : url);
		if (*keyp == NULL) {
			snprintf(err, errsize, "out of memory");
			check_url_free(u);
			return MXF_ENOMEM;
		}
	}
	return 0;
}

int
check_validate(const char *url, char *errbuf, size_t errsize)
{
	struct check_url u;
	const struct check_ops *ops;
	int rc = url_parse(url, &u, &ops, NULL, errbuf, errsize);

	if (rc == 0)
		check_url_free(&u);
	return rc;
}

/* ------------------------------------------------------------- engine -- */

static unsigned
hash_str(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct check_engine *
check_engine_new(struct event_base *base)
{
	struct check_engine *eng = calloc(1, sizeof(*eng));

	if (eng == NULL)
		return NULL;
	eng->base = base;
	/* The shared TLS context is made here, so a bad $MXF_CA_FILE is
	 * reported at once rather than by every TLS check. */
	if (tls_ctx_shared(NULL, 0) == NULL) {
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
	/* A cancelled name lookup is finished by libevent from the loop: let
	 * it run (a few passes at most, never blocking), or its memory is
	 * lost and its callback would run after the resolver is gone. */
	for (int pass = 0; pass < CHECK_DRAIN_PASSES && check_conn_env_busy(&eng->env); pass++)
		event_base_loop(eng->base, EVLOOP_NONBLOCK);
	check_conn_env_free(&eng->env);
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
	check_conn_release(c);
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
	check_conn_clear(c);
	check_url_free(&c->u);
	free(c->key);
	free(c->priv);
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
 * Record the verdict without touching the I/O.  The reason is made one
 * printable line by value_utf8_format(), the function behind the parsers'
 * proto_printable(): no C0 or C1 controls, valid UTF-8 (a JSON string),
 * cut on a character boundary with "..." when long.
 */
static void check_record(struct check *c, enum check_state s, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
check_record(struct check *c, enum check_state s, const char *fmt, va_list ap)
{
	c->finished = true;
	c->res.state = s;
	c->res.phase = c->phase;
	c->res.elapsed_ms = clock_mono_since_ms(c->t0);
	c->res.cert_days = check_conn_cert_days(c);
	c->res.cert_not_after = check_conn_cert_not_after(c);
	if (s == CHECK_STATE_UP && check_conn_cert_warn(c) != NULL) {
		c->res.state = CHECK_STATE_WARNING;
		value_utf8_format(c->res.reason, sizeof(c->res.reason), "%s",
				  check_conn_cert_warn(c));
	} else {
		value_utf8_vformat(c->res.reason, sizeof(c->res.reason), fmt, ap);
	}
}

void
check_report(struct check *c)
{
	check_release_io(c);
	event_active(c->report_ev, EV_TIMEOUT, 0);
}

/* Both epilogues: record the verdict, then report now or after @bye. */
static void check_vfinish(struct check *c, const char *bye, enum check_state s, const char *fmt,
			  va_list ap) __attribute__((format(printf, 4, 0)));

static void
check_vfinish(struct check *c, const char *bye, enum check_state s, const char *fmt, va_list ap)
{
	if (c->finished)
		return;
	check_record(c, s, fmt, ap);
	if (bye == NULL || check_conn_bye(c, bye) != 0)
		check_report(c);
}

void
check_finish(struct check *c, enum check_state s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vfinish(c, NULL, s, fmt, ap);
	va_end(ap);
}

void
check_finish_polite(struct check *c, const char *bye, enum check_state s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vfinish(c, bye, s, fmt, ap);
	va_end(ap);
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

	if (check_conn_closing(c)) {
		check_report(c);
		return;
	}
	/* The timeout as configured ("1s", "1500ms"), not as measured. */
	check_finish(c, CHECK_STATE_DOWN, "timed out after %s %s",
		     value_format_duration(c->timeout_ms, dur, sizeof(dur)),
		     check_phase_waiting(c->phase));
}

/* ----------------------------------------------------- checker helpers -- */

const struct check_url *
check_get_url(const struct check *c)
{
	return &c->u;
}

const struct check_ops *
check_get_ops(const struct check *c)
{
	return c->ops;
}

struct check_conn *
check_get_conn(struct check *c)
{
	return &c->conn;
}

struct check_conn_env *
check_get_env(struct check *c)
{
	return &c->eng->env;
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
	uint64_t e = clock_mono_since_ms(c->t0);

	return e >= c->timeout_ms ? 0 : c->timeout_ms - e;
}

const char *
check_helo_name(const struct check *c)
{
	return c->u.helo != NULL ? c->u.helo : CHECK_DEFAULT_HELO;
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

/*
 * A new check for the parsed @u (taken over, as @key is) with its first
 * waiter @w, in the table, deadline armed.  @return NULL when out of
 * memory, with @u, @key and @w released.
 */
static struct check *
check_new(struct check_engine *eng, struct check_url *u, const struct check_ops *ops,
	  char *key, unsigned h, struct check_waiter *w, uint64_t timeout_ms)
{
	struct check *c = calloc(1, sizeof(*c));
	struct timeval tv;

	if (c == NULL) {
		free(w);
		check_url_free(u);
		free(key);
		return NULL;
	}
	c->waiters = w;
	c->u = *u;
	c->key = key;
	c->eng = eng;
	c->ops = ops;
	c->hash = h;
	c->timeout_ms = u->timeout_ms != 0 ? u->timeout_ms
			: timeout_ms != 0 ? timeout_ms : CHECK_DEFAULT_TIMEOUT_MS;
	c->priv = calloc(1, ops->state_size > 0 ? ops->state_size : 1);
	c->deadline_ev = evtimer_new(eng->base, deadline_cb, c);
	c->report_ev = event_new(eng->base, -1, 0, report_cb, c);
	if (check_conn_init(c) != 0 || c->priv == NULL || c->deadline_ev == NULL ||
	    c->report_ev == NULL) {
		c->cleaned = true; /* nothing started: no cleanup of zeroed state */
		check_free(c);
		return NULL;
	}
	c->hnext = eng->table[h % CHECK_TABLE_BUCKETS];
	eng->table[h % CHECK_TABLE_BUCKETS] = c;
	eng->running++;
	c->t0 = clock_mono_ms();
	tv = clock_timeval(c->timeout_ms);
	evtimer_add(c->deadline_ev, &tv);
	c->phase = CHECK_PHASE_START;
	return c;
}

int
check_engine_start(struct check_engine *eng, const char *url, uint64_t timeout_ms,
		   check_done_fn cb, void *arg, char *errbuf, size_t errsize)
{
	struct check_waiter *w;
	struct check *c;
	const struct check_ops *ops;
	struct check_url u;
	char *key = NULL;
	unsigned h;
	char dummy[8];
	int rc;

	if (errbuf == NULL) {
		errbuf = dummy;
		errsize = sizeof(dummy);
	}
	rc = url_parse(url, &u, &ops, &key, errbuf, errsize);
	if (rc != 0)
		return rc;
	h = hash_str(key);
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		check_url_free(&u);
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
			check_url_free(&u);
			free(key);
			return 0;
		}
	}
	c = check_new(eng, &u, ops, key, h, w, timeout_ms);
	if (c == NULL) {
		snprintf(errbuf, errsize, "out of memory");
		return MXF_ENOMEM;
	}
	/* A checker without start() is a stream checker. */
	if (ops->start != NULL)
		ops->start(c);
	else
		check_conn_start(c);
	return 0;
}
