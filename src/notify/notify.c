/*
 * notify.c -- the notifier: notices, deliveries, retries, and the public
 * API of notify.h.
 *
 * Life of an event: notify_send() copies the event once (a reference-
 * counted struct notify_notice, every string scrubbed of secrets and
 * control characters) and makes one delivery per configured channel.  A
 * delivery runs attempts through its channel's vtable (notify_impl.h): mail
 * and webhook as libcurl transfers on one multi handle driven by libevent
 * (notify_curl.c), exec as a child process (notify_exec.c).  A failed
 * attempt that may succeed later is retried after a doubling backoff, at
 * most opts.attempts times; then the delivery is given up.  Every outcome
 * is logged once here, with the peer as host:port (never a URL: webhook
 * paths and SMTP URLs may hold credentials), and reported to the result
 * callback.
 *
 * The words of a notice are built in notify_text.c (pure).
 */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "argv.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "mxf.h"
#include "notify_curl.h"
#include "notify_impl.h"
#include "notify_text.h"
#include "value.h"

#define NOTIFY_DEFAULT_TIMEOUT_MS 30000
#define NOTIFY_DEFAULT_CONNECT_MS 10000
#define NOTIFY_DEFAULT_ATTEMPTS 4
#define NOTIFY_DEFAULT_BACKOFF_MS 5000
#define NOTIFY_BACKOFF_MAX_MS 3600000 /* the doubling stops past an hour */

struct notify {
	struct event_base *base;
	struct notify_curl *curl;
	struct notify_opts o;
	char hostname[256];
	void *chan[NOTIFY_CH_COUNT_];        /* each channel's state; NULL: off */
	char *active_name, *active_addr;     /* via_active: where mail goes */
	/* scrubbed from every event string */
	char **secrets;
	size_t nsecrets;
	notify_result_fn cb;
	void *cbarg;
	struct notify_delivery *list;
	size_t pending;
};

/* The channels, in the order they are set up and served. */
static const struct notify_channel_ops *const notify_channel_ops[NOTIFY_CH_COUNT_] = {
	[NOTIFY_CH_MAIL] = &notify_mail_ops,
	[NOTIFY_CH_WEBHOOK] = &notify_webhook_ops,
	[NOTIFY_CH_EXEC] = &notify_exec_ops,
};

static const char *const notify_kind_names[NOTIFY_KIND_COUNT_] = {
	[NOTIFY_SERVER_DOWN] = "server_down",
	[NOTIFY_SERVER_UP] = "server_up",
	[NOTIFY_SWITCHED] = "switched",
	[NOTIFY_SWITCH_FAILED] = "switch_failed",
	[NOTIFY_ALL_DOWN] = "all_down",
	[NOTIFY_ISOLATED] = "isolated",
	[NOTIFY_ISOLATION_OVER] = "isolation_over",
	[NOTIFY_CHANGED_BY_HAND] = "changed_by_hand",
	[NOTIFY_RECORD_MISSING] = "record_missing",
	[NOTIFY_QUEUE_FLUSH] = "queue_flush",
	[NOTIFY_REMINDER] = "reminder",
	[NOTIFY_SWITCH_COMPLETED] = "switch_completed",
	[NOTIFY_AUDIT_FINDING] = "audit_finding",
	[NOTIFY_AUDIT_CLEAR] = "audit_clear",
	[NOTIFY_QUORUM_LOST] = "quorum_lost",
	[NOTIFY_QUORUM_BACK] = "quorum_back",
};

const char *
notify_kind_name(enum notify_kind k)
{
	if ((unsigned)k < NOTIFY_KIND_COUNT_)
		return notify_kind_names[k];
	return "unknown";
}

int
notify_kind_parse(const char *name, enum notify_kind *out)
{
	for (unsigned i = 0; i < NOTIFY_KIND_COUNT_; i++) {
		if (strcmp(notify_kind_names[i], name) == 0) {
			*out = (enum notify_kind)i;
			return 0;
		}
	}
	return MXF_EINVAL;
}

const char *
notify_channel_name(enum notify_channel ch)
{
	if ((unsigned)ch < NOTIFY_CH_COUNT_)
		return notify_channel_ops[ch]->name;
	return "unknown";
}

void
notify_strv_free(char **v)
{
	/* The same vectors as argv.h's: one owner of freeing them. */
	argv_free(v);
}

int
notify_dup(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	*out = strdup(s);
	return *out != NULL ? 0 : MXF_ENOMEM;
}

/* -------------------------------------------------------- reminders -- */

uint64_t
notify_reminder_next(uint64_t since_ms, uint64_t now_ms, uint64_t interval_ms)
{
	uint64_t k;

	if (interval_ms == 0)
		return 0;
	if (now_ms < since_ms)
		return since_ms + interval_ms;
	k = (now_ms - since_ms) / interval_ms + 1;
	if (k > (UINT64_MAX - since_ms) / interval_ms)
		return UINT64_MAX;
	return since_ms + k * interval_ms;
}

void
notify_reminder_init(struct notify_event *rem, const struct notify_event *outage, time_t now)
{
	*rem = *outage;
	rem->kind = NOTIFY_REMINDER;
	rem->about = outage->kind == NOTIFY_REMINDER ? outage->about : outage->kind;
	rem->since = outage->kind == NOTIFY_REMINDER ? outage->since : outage->time;
	rem->time = now;
}

/* ------------------------------------------------------------ notices -- */

static void
notice_unref(struct notify_notice *nt)
{
	if (nt == NULL || --nt->refs > 0)
		return;
	for (size_t i = 0; i < NOTIFY_NOTICE_TEXTS; i++)
		free(nt->text[i]);
	notify_strv_free(nt->zones);
	notify_strv_free(nt->records);
	free(nt);
}

static bool
scrub(const struct notify *n, const char *in, char **out)
{
	*out = notify_text_redact(in, (const char *const *)n->secrets, n->nsecrets);
	return in == NULL || *out != NULL;
}

static bool
scrub_v(const struct notify *n, const char *const *in, size_t cnt, char ***out)
{
	*out = calloc(cnt + 1, sizeof(**out));
	if (*out == NULL)
		return false;
	for (size_t i = 0; i < cnt; i++)
		if (!scrub(n, in[i] != NULL ? in[i] : "", &(*out)[i]))
			return false;
	return true;
}

static struct notify_notice *
notice_new(const struct notify *n, const struct notify_event *e)
{
	struct notify_notice *nt = calloc(1, sizeof(*nt));
	const char **texts[NOTIFY_NOTICE_TEXTS];

	if (nt == NULL)
		return NULL;
	nt->refs = 1;
	nt->e = *e;
	if (nt->e.time == 0)
		nt->e.time = (time_t)(clock_wall_ms() / 1000);
	/* Each text of the copy points at its scrubbed copy. */
	texts[0] = &nt->e.group;
	texts[1] = &nt->e.server;
	texts[2] = &nt->e.from;
	texts[3] = &nt->e.to;
	texts[4] = &nt->e.reason;
	texts[5] = &nt->e.queue;
	for (size_t i = 0; i < NOTIFY_NOTICE_TEXTS; i++) {
		if (!scrub(n, *texts[i], &nt->text[i]))
			goto fail;
		*texts[i] = nt->text[i];
	}
	if (!scrub_v(n, e->zones, e->nzones, &nt->zones) ||
	    !scrub_v(n, e->records, e->nrecords, &nt->records))
		goto fail;
	nt->e.zones = (const char *const *)nt->zones;
	nt->e.records = (const char *const *)nt->records;
	return nt;
fail:
	notice_unref(nt);
	return NULL;
}

/* ----------------------------------------------------------- deliveries -- */

static void
delivery_free(struct notify_delivery *d)
{
	struct notify *n = d->n;

	d->ops->cancel(d);
	if (d->retry_ev != NULL)
		event_free(d->retry_ev);
	free(d->payload);
	notice_unref(d->nt);
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		n->list = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	n->pending--;
	free(d);
}

void
notify_attempt_done(struct notify_delivery *d, bool ok, bool retry, const char *reason)
{
	struct notify *n = d->n;
	const char *ch = notify_channel_name(d->ch), *kind = notify_kind_name(d->nt->e.kind);
	char peer[300];
	char *why = NULL;

	d->ops->peer(d, peer, sizeof(peer));
	if (ok) {
		log_info("notify: %s of %s delivered to %s%s", ch, kind, peer,
			 d->attempt > 1 ? " after a retry" : "");
		if (n->cb != NULL)
			n->cb(d->ch, &d->nt->e, true, NULL, n->cbarg);
		delivery_free(d);
		return;
	}
	why = notify_text_redact(reason, (const char *const *)n->secrets, n->nsecrets);
	if (retry && d->attempt < n->o.attempts) {
		uint64_t ms = n->o.backoff_ms;
		struct timeval tv;

		for (unsigned i = 1; i < d->attempt && ms < NOTIFY_BACKOFF_MAX_MS; i++)
			ms *= 2;
		tv = clock_timeval(ms);
		char dur[VALUE_DURATION_BUF];

		log_warn("notify: %s of %s to %s failed (attempt %u of %u): %s; retrying in %s",
			 ch, kind, peer, d->attempt, n->o.attempts, why != NULL ? why : "?",
			 value_format_duration(ms, dur, sizeof(dur)));
		free(why);
		if (evtimer_add(d->retry_ev, &tv) == 0)
			return;
		why = strdup("cannot arm the retry timer");
	}
	log_err("notify: %s of %s to %s given up after %u attempt%s: %s", ch, kind, peer,
		d->attempt, d->attempt == 1 ? "" : "s", why != NULL ? why : "?");
	if (n->cb != NULL)
		n->cb(d->ch, &d->nt->e, false, why != NULL ? why : "?", n->cbarg);
	free(why);
	delivery_free(d);
}

/* The retry timer (also the first start, from the loop): one more attempt. */
static void
attempt_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify_delivery *d = arg;

	d->attempt++;
	d->ops->start(d);
}

void
notify_attempt_curl(struct notify_delivery *d)
{
	char why[160] = "";
	int rc;

	d->xfer.done = d->ops->curl_done;
	d->xfer.arg = d;
	rc = notify_curl_start(d->n->curl, &d->xfer, d->ops->curl_setup, d, why, sizeof(why));
	if (rc != 0)
		notify_attempt_done(d, false, rc == MXF_ENOMEM, why);
}

void
notify_cancel_curl(struct notify_delivery *d)
{
	notify_curl_stop(d->n->curl, &d->xfer);
}

const struct notify_opts *
notify_opts_of(const struct notify *n)
{
	return &n->o;
}

struct event_base *
notify_base(const struct notify *n)
{
	return n->base;
}

const char *
notify_hostname(const struct notify *n)
{
	return n->hostname;
}

void
notify_active_server(const struct notify *n, const char **name, const char **address)
{
	*name = n->active_name;
	*address = n->active_addr;
}

/* ------------------------------------------------------------- public -- */

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->pending > 0)
		log_warn("notify: %zu notice%s not delivered: shutting down", n->pending,
			 n->pending == 1 ? "" : "s");
	while (n->list != NULL)
		delivery_free(n->list);
	notify_curl_free(n->curl);
	for (unsigned ch = 0; ch < NOTIFY_CH_COUNT_; ch++)
		if (n->chan[ch] != NULL)
			notify_channel_ops[ch]->state_free(n->chan[ch]);
	for (size_t i = 0; i < n->nsecrets; i++) {
		explicit_bzero(n->secrets[i], strlen(n->secrets[i]));
		free(n->secrets[i]);
	}
	free(n->secrets);
	free(n->active_name);
	free(n->active_addr);
	free(n);
}

struct notify *
notify_new(struct event_base *base, const struct config_notify *cfg,
	   const struct notify_opts *opts, char *err, size_t errsize)
{
	struct notify *n = calloc(1, sizeof(*n));

	snprintf(err, errsize, "out of memory");
	if (n == NULL)
		return NULL;
	n->base = base;
	if (opts != NULL)
		n->o = *opts;
	if (n->o.timeout_ms == 0)
		n->o.timeout_ms = NOTIFY_DEFAULT_TIMEOUT_MS;
	if (n->o.connect_timeout_ms == 0)
		n->o.connect_timeout_ms = NOTIFY_DEFAULT_CONNECT_MS;
	if (n->o.connect_timeout_ms > n->o.timeout_ms)
		n->o.connect_timeout_ms = n->o.timeout_ms;
	if (n->o.exec_timeout_ms == 0)
		n->o.exec_timeout_ms = NOTIFY_DEFAULT_TIMEOUT_MS;
	if (n->o.attempts == 0)
		n->o.attempts = NOTIFY_DEFAULT_ATTEMPTS;
	if (n->o.backoff_ms == 0)
		n->o.backoff_ms = NOTIFY_DEFAULT_BACKOFF_MS;
	if (n->o.hostname != NULL) {
		snprintf(n->hostname, sizeof(n->hostname), "%s", n->o.hostname);
	} else if (gethostname(n->hostname, sizeof(n->hostname) - 1) != 0 ||
		   n->hostname[0] == '\0') {
		snprintf(n->hostname, sizeof(n->hostname), "localhost");
	}
	n->o.hostname = NULL;

	n->curl = notify_curl_new(base, n->o.connect_timeout_ms, n->o.timeout_ms, err, errsize);
	if (n->curl == NULL)
		goto fail;
	for (unsigned ch = 0; ch < NOTIFY_CH_COUNT_; ch++) {
		snprintf(err, errsize, "out of memory");
		if (notify_channel_ops[ch]->setup(n, cfg, &n->chan[ch], err, errsize) != 0)
			goto fail;
	}
	err[0] = '\0';
	return n;
fail:
	notify_free(n);
	return NULL;
}

unsigned
notify_channels(const struct notify *n)
{
	unsigned m = 0;

	for (unsigned ch = 0; ch < NOTIFY_CH_COUNT_; ch++)
		if (n->chan[ch] != NULL)
			m |= 1u << ch;
	return m;
}

void
notify_set_result_cb(struct notify *n, notify_result_fn cb, void *arg)
{
	n->cb = cb;
	n->cbarg = arg;
}

int
notify_add_secret(struct notify *n, const char *secret)
{
	char **v;

	if (secret == NULL || strlen(secret) < NOTIFY_SECRET_MIN)
		return 0;
	/* Reloads add the TSIG secret again: keep one copy. */
	for (size_t i = 0; i < n->nsecrets; i++)
		if (strcmp(n->secrets[i], secret) == 0)
			return 0;
	v = realloc(n->secrets, (n->nsecrets + 1) * sizeof(*v));
	if (v == NULL)
		return MXF_ENOMEM;
	n->secrets = v;
	if ((v[n->nsecrets] = strdup(secret)) == NULL)
		return MXF_ENOMEM;
	n->nsecrets++;
	return 0;
}

int
notify_set_active(struct notify *n, const char *name, const char *address)
{
	char *nm = NULL, *ad = NULL;

	if (notify_dup(name, &nm) != 0 || notify_dup(address, &ad) != 0) {
		free(nm);
		return MXF_ENOMEM;
	}
	free(n->active_name);
	free(n->active_addr);
	n->active_name = nm;
	n->active_addr = ad;
	return 0;
}

/* A delivery of @nt on @ch, linked in and counted; its payload made. */
static struct notify_delivery *
delivery_new(struct notify *n, struct notify_notice *nt, unsigned ch)
{
	struct notify_delivery *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->n = n;
	d->ch = (enum notify_channel)ch;
	d->ops = notify_channel_ops[ch];
	d->chan = n->chan[ch];
	d->nt = nt;
	nt->refs++;
	d->next = n->list;
	if (n->list != NULL)
		n->list->prev = d;
	n->list = d;
	n->pending++;
	d->retry_ev = evtimer_new(n->base, attempt_start_cb, d);
	if (d->retry_ev == NULL)
		goto fail;
	if (d->ops->payload != NULL) {
		d->payload = d->ops->payload(d);
		if (d->payload == NULL)
			goto fail;
		d->len = strlen(d->payload);
	}
	return d;
fail:
	delivery_free(d);
	return NULL;
}

/* notify_send() on the channels of @mask only. */
static int
notify_send_on(struct notify *n, const struct notify_event *e, unsigned mask)
{
	unsigned chans = notify_channels(n) & mask;
	struct notify_delivery *ds[NOTIFY_CH_COUNT_] = {0};
	struct notify_notice *nt;
	int count = 0;

	if (chans == 0)
		return 0;
	if (n->pending + (size_t)__builtin_popcount(chans) > NOTIFY_MAX_PENDING) {
		log_err("notify: %zu notices pending; %s dropped", n->pending,
			notify_kind_name(e->kind));
		return MXF_ETOOBIG;
	}
	nt = notice_new(n, e);
	if (nt == NULL)
		return MXF_ENOMEM;
	for (unsigned ch = 0; ch < NOTIFY_CH_COUNT_; ch++) {
		if (!(chans & (1u << ch)))
			continue;
		ds[ch] = delivery_new(n, nt, ch);
		if (ds[ch] == NULL)
			goto oom;
	}
	notice_unref(nt);
	/* Start from the loop, so notify_send never runs a callback itself. */
	for (unsigned ch = 0; ch < NOTIFY_CH_COUNT_; ch++) {
		struct timeval zero = {0, 0};

		if (ds[ch] == NULL)
			continue;
		evtimer_add(ds[ch]->retry_ev, &zero);
		count++;
	}
	return count;
oom:
	for (unsigned ch = 0; ch < NOTIFY_CH_COUNT_; ch++)
		if (ds[ch] != NULL)
			delivery_free(ds[ch]);
	notice_unref(nt);
	log_err("notify: out of memory; %s not sent", notify_kind_name(e->kind));
	return MXF_ENOMEM;
}

int
notify_send(struct notify *n, const struct notify_event *e)
{
	return notify_send_on(n, e, ~0u);
}

size_t
notify_pending(const struct notify *n)
{
	return n->pending;
}

int
notify_adopt(struct notify *to, struct notify *from)
{
	struct notify_notice **nts = mxf_calloc(from->pending, sizeof(*nts));
	unsigned *masks = mxf_calloc(from->pending, sizeof(*masks));
	struct notify_delivery *d = from->list;
	size_t cnt = 0;
	int handed = 0;

	for (size_t i = 0; i < from->nsecrets; i++)
		if (notify_add_secret(to, from->secrets[i]) != 0)
			log_err("notify: out of memory keeping a secret across the reload");
	if (nts == NULL || masks == NULL) {
		free(nts);
		free(masks);
		log_err("notify: out of memory; %zu pending notices not carried over",
			from->pending);
		return 0;
	}
	/* Oldest first: the list has the newest at its head. */
	while (d != NULL && d->next != NULL)
		d = d->next;
	for (; d != NULL; d = d->prev) {
		size_t k = 0;

		while (k < cnt && nts[k] != d->nt)
			k++;
		if (k == cnt) {
			nts[cnt++] = d->nt;
			d->nt->refs++;
		}
		masks[k] |= 1u << d->ch;
	}
	/* Abandon them here first: the notices live on through our references. */
	while (from->list != NULL)
		delivery_free(from->list);
	for (size_t k = 0; k < cnt; k++) {
		unsigned m = masks[k] & notify_channels(to);

		if (notify_send_on(to, &nts[k]->e, m != 0 ? m : ~0u) > 0)
			handed++;
		notice_unref(nts[k]);
	}
	free(nts);
	free(masks);
	return handed;
}
