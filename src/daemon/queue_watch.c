/*
 * queue_watch.c -- when the daemon reads its backups' queues, and what it
 * keeps of each reading; see queue_watch.h.
 *
 * Each entry has one timer for its next action: a refresh while failed
 * over, or the next look of a drain check.  One reading at a time per
 * entry: a drain check that comes due while a reading runs waits for it.
 */
#include "queue_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "mxf.h"
#include "value.h"

/* The most backups watched at once (servers with a queue). */
#define QUEUE_WATCH_MAX 64

struct queue_watch_drain {
	queue_watch_drain_fn done;
	void *arg;
	uint64_t last_ms;     /* clock_mono_ms() of the last look */
	uint64_t deadline_ms; /* by when its readings end (last_ms + LAST_MS) */
	uint64_t next_ms;     /* next look; 0 while waiting for a reading */
	uint64_t step_ms;
	uint64_t started_ms;
	struct queue_watch_drain *next;
};

struct queue_watch {
	struct event_base *base;
	struct queue_watch_entry *v[QUEUE_WATCH_MAX];
	size_t n;
};

static void queue_watch_schedule(struct queue_watch_entry *e);

struct queue_watch *
queue_watch_new(struct event_base *base)
{
	struct queue_watch *qw = calloc(1, sizeof(*qw));

	if (qw != NULL)
		qw->base = base;
	return qw;
}

static void
queue_watch_entry_free(struct queue_watch_entry *e)
{
	while (e->drains != NULL) {
		struct queue_watch_drain *d = e->drains;

		e->drains = d->next;
		free(d);
	}
	queue_read_free(e->read);
	if (e->timer != NULL)
		event_free(e->timer);
	for (size_t i = 0; i < e->nzones; i++)
		free(e->zones[i]);
	free(e->zones);
	free(e->counts);
	free(e->server);
	free(e->q.url);
	free(e->q.user);
	free(e->q.host);
	free(e);
}

void
queue_watch_free(struct queue_watch *qw)
{
	if (qw == NULL)
		return;
	for (size_t i = 0; i < qw->n; i++)
		queue_watch_entry_free(qw->v[i]);
	free(qw);
}

size_t
queue_watch_count(const struct queue_watch *qw)
{
	size_t n = 0;

	for (size_t i = 0; qw != NULL && i < qw->n; i++)
		n += !qw->v[i]->retired;
	return n;
}

const struct queue_watch_entry *
queue_watch_entry(const struct queue_watch *qw, size_t i)
{
	for (size_t k = 0; qw != NULL && k < qw->n; k++) {
		if (qw->v[k]->retired)
			continue;
		if (i-- == 0)
			return qw->v[k];
	}
	return NULL;
}

void
queue_watch_reload(struct queue_watch *qw, const struct config *cfg)
{
	for (size_t i = 0; qw != NULL && i < qw->n; i++) {
		struct queue_watch_entry *e = qw->v[i];
		long s = config_server_index(cfg, e->server);

		if (s >= 0 && cfg->servers[s].queue != NULL) {
			queue_watch_get(qw, cfg, (size_t)s);
			continue;
		}
		e->retired = true;
		e->failed_over = false;
		e->refresh_ms = 0;
		if (e->read == NULL)
			queue_watch_schedule(e);
	}
}

bool
queue_watch_busy(const struct queue_watch *qw)
{
	for (size_t i = 0; qw != NULL && i < qw->n; i++)
		if (qw->v[i]->read != NULL || qw->v[i]->drains != NULL)
			return true;
	return false;
}

static void queue_watch_timer_cb(evutil_socket_t fd, short what, void *arg);

/*
 * The entry of server @s, made or brought up to date from @cfg (its queue
 * and zones may have changed on a reload; a reading running keeps its
 * own copies).  @return NULL when it has no queue or out of memory.
 */
/* Whether @e reads for exactly the @n zones @zones (so its counts still fit). */
static bool
queue_watch_same_zones(const struct queue_watch_entry *e, char *const *zones, size_t n)
{
	if (e->zones == NULL || e->nzones != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(e->zones[i], zones[i]) != 0)
			return false;
	return true;
}

struct queue_watch_entry *
queue_watch_get(struct queue_watch *qw, const struct config *cfg, size_t s)
{
	const struct config_server *srv = &cfg->servers[s];
	struct queue_watch_entry *e = NULL;
	char *zones[QUEUE_ZONES_MAX];
	size_t nz;
	char **zcopy;

	if (srv->queue == NULL)
		return NULL;
	for (size_t i = 0; i < qw->n && e == NULL; i++)
		if (strcmp(qw->v[i]->server, srv->id) == 0)
			e = qw->v[i];
	if (e == NULL) {
		if (qw->n >= QUEUE_WATCH_MAX)
			return NULL;
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return NULL;
		e->qw = qw;
		e->server = strdup(srv->id);
		e->timer = evtimer_new(qw->base, queue_watch_timer_cb, e);
		if (e->server == NULL || e->timer == NULL) {
			queue_watch_entry_free(e);
			return NULL;
		}
		qw->v[qw->n++] = e;
	}
	e->retired = false;
	if (e->q.url == NULL || strcmp(e->q.url, srv->queue->url) != 0) {
		char *url = strdup(srv->queue->url), *user = strdup(srv->queue->user),
		     *host = strdup(srv->queue->host);

		if (url == NULL || user == NULL || host == NULL) {
			free(url), free(user), free(host);
			return e->q.url != NULL ? e : NULL;
		}
		free(e->q.url), free(e->q.user), free(e->q.host);
		e->q.url = url, e->q.user = user, e->q.host = host;
		e->q.port = srv->queue->port;
	}
	nz = queue_read_server_zones(cfg, s, zones, QUEUE_ZONES_MAX);
	if (queue_watch_same_zones(e, zones, nz))
		return e; /* the usual case: keep the last reading */
	zcopy = mxf_calloc(nz, sizeof(*zcopy));
	for (size_t i = 0; zcopy != NULL && i < nz; i++) {
		if ((zcopy[i] = strdup(zones[i])) == NULL) {
			for (size_t k = 0; k < i; k++)
				free(zcopy[k]);
			free(zcopy);
			zcopy = NULL;
		}
	}
	if (zcopy != NULL && e->read == NULL) {
		/* The counts borrow the zones: replace both, only between readings. */
		for (size_t i = 0; i < e->nzones; i++)
			free(e->zones[i]);
		free(e->zones);
		free(e->counts);
		e->counts = NULL;
		e->have = false;
		e->zones = zcopy;
		e->nzones = nz;
	} else if (zcopy != NULL) {
		for (size_t i = 0; i < nz; i++)
			free(zcopy[i]);
		free(zcopy);
	}
	return e;
}

/* A reading ended: keep it, settle the drain checks waiting for it. */
static void
queue_watch_read_done(void *arg, const struct queue_result *r)
{
	struct queue_watch_entry *e = arg;
	struct queue_zone *counts = mxf_calloc(e->nzones, sizeof(*counts));
	uint64_t now = clock_mono_ms();
	struct queue_watch_drain **pp;

	e->have = true;
	e->rc = r->rc;
	snprintf(e->error, sizeof(e->error), "%s", r->rc != 0 ? r->error : "");
	e->sum = r->sum;
	e->read_at = (int64_t)time(NULL);
	e->seconds = (double)r->took_ms / 1000.0;
	e->why = e->read_why;
	free(e->counts);
	e->counts = counts;
	if (counts != NULL && r->rc == 0 && r->zones != NULL && r->nzones == e->nzones)
		memcpy(counts, r->zones, r->nzones * sizeof(*counts));
	else if (r->rc == 0) {
		e->rc = MXF_ENOMEM;
		snprintf(e->error, sizeof(e->error), "out of memory");
	}
	for (size_t i = 0; counts != NULL && i < e->nzones; i++)
		counts[i].zone = e->zones[i];
	if (e->rc != 0)
		log_warn("server %s: queue at %s could not be read: %s", e->server, e->q.url,
			 e->error);
	else
		log_info("server %s: queue at %s: %s%zu message%s for its zones (%zu in all)",
			 e->server, e->q.url, e->sum.truncated ? "at least " : "", e->sum.matched,
			 e->sum.matched == 1 ? "" : "s", e->sum.total);
	/* The reading is over: free it before any callback can look at us. */
	queue_read_free(e->read);
	e->read = NULL;
	pp = &e->drains;
	while (*pp != NULL) {
		struct queue_watch_drain *d = *pp;
		int drained;

		if (d->next_ms != 0) {
			pp = &d->next;
			continue;
		}
		if (e->rc == 0 && e->sum.matched == 0)
			drained = 1;
		else if (now >= d->last_ms)
			drained = e->rc == 0 ? 0 : -1;
		else {
			/* The last look is at the bound itself. */
			d->next_ms = now + d->step_ms < d->last_ms ? now + d->step_ms : d->last_ms;
			d->step_ms *= 2;
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		d->done(d->arg, e, drained);
		free(d);
	}
	if (e->failed_over)
		e->refresh_ms = now + QUEUE_WATCH_REFRESH_MS;
	queue_watch_schedule(e);
}

/*
 * The time a reading of @e started at @now is given: QUEUE_WATCH_TIMEOUT_MS,
 * cut to what is left of the drain checks waiting for it, so the last look
 * cannot run past their bound (at least QUEUE_WATCH_READ_MIN_MS).
 */
static uint64_t
queue_watch_read_timeout(const struct queue_watch_entry *e, uint64_t now)
{
	uint64_t t = QUEUE_WATCH_TIMEOUT_MS;

	for (const struct queue_watch_drain *d = e->drains; d != NULL; d = d->next) {
		uint64_t left = d->deadline_ms > now ? d->deadline_ms - now : 0;

		if (d->next_ms == 0 && left < t)
			t = left;
	}
	return t < QUEUE_WATCH_READ_MIN_MS ? QUEUE_WATCH_READ_MIN_MS : t;
}

/* Start a reading of @e now unless one runs. */
static void
queue_watch_read(struct queue_watch_entry *e, const char *why)
{
	char err[200];
	int rc;

	if (e->read != NULL)
		return;
	e->read_why = why;
	rc = queue_read_start(e->qw->base, &e->q, e->zones, e->nzones,
			      queue_watch_read_timeout(e, clock_mono_ms()), queue_watch_read_done,
			      e, &e->read, err, sizeof(err));
	if (rc != 0) {
		/* ssh could not even start: as if the reading ended at once. */
		struct queue_result r = {.rc = rc};

		snprintf(r.error, sizeof(r.error), "%s", err);
		e->read = NULL;
		queue_watch_read_done(e, &r);
	}
}

/* Arm @e's timer for its next action, or leave it off. */
static void
queue_watch_schedule(struct queue_watch_entry *e)
{
	uint64_t next = 0, now = clock_mono_ms();
	struct timeval tv;

	if (e->failed_over && e->refresh_ms != 0)
		next = e->refresh_ms;
	for (struct queue_watch_drain *d = e->drains; d != NULL; d = d->next)
		if (d->next_ms != 0 && (next == 0 || d->next_ms < next))
			next = d->next_ms;
	if (next == 0) {
		evtimer_del(e->timer);
		return;
	}
	tv = clock_timeval(next > now ? next - now : 0);
	evtimer_add(e->timer, &tv);
}

static void
queue_watch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct queue_watch_entry *e = arg;
	uint64_t now = clock_mono_ms();
	const char *why = NULL;

	(void)fd;
	(void)what;
	for (struct queue_watch_drain *d = e->drains; d != NULL; d = d->next) {
		if (d->next_ms != 0 && d->next_ms <= now) {
			d->next_ms = 0; /* waits for the reading */
			why = "after ETRN";
		}
	}
	if (e->failed_over && e->refresh_ms != 0 && e->refresh_ms <= now) {
		e->refresh_ms = 0;
		if (why == NULL)
			why = "failed over";
	}
	if (why != NULL)
		queue_watch_read(e, why);
	if (e->read != NULL)
		return; /* its end schedules the next action */
	queue_watch_schedule(e);
}

void
queue_watch_switched(struct queue_watch *qw, const struct config *cfg, size_t g, bool to_preferred)
{
	const struct config_group *gr = &cfg->groups[g];

	if (qw == NULL)
		return;
	for (size_t i = 1; i < gr->nservers; i++) {
		struct queue_watch_entry *e = queue_watch_get(qw, cfg, gr->servers[i]);

		if (e == NULL)
			continue;
		e->failed_over = !to_preferred;
		e->refresh_ms = 0;
		if (!to_preferred)
			queue_watch_read(e, "failover");
		if (e->read == NULL)
			queue_watch_schedule(e);
	}
}

int
queue_watch_drain(struct queue_watch_entry *e, queue_watch_drain_fn done, void *arg)
{
	struct queue_watch_drain *d = calloc(1, sizeof(*d));
	uint64_t now = clock_mono_ms();

	if (d == NULL)
		return MXF_ENOMEM;
	d->done = done;
	d->arg = arg;
	d->started_ms = now;
	d->last_ms = now + QUEUE_WATCH_DRAIN_MAX_MS;
	d->deadline_ms = d->last_ms + QUEUE_WATCH_DRAIN_LAST_MS;
	d->step_ms = QUEUE_WATCH_DRAIN_FIRST_MS * 2;
	d->next_ms = now + QUEUE_WATCH_DRAIN_FIRST_MS;
	d->next = e->drains;
	e->drains = d;
	if (e->read == NULL)
		queue_watch_schedule(e);
	return 0;
}

void
queue_watch_drain_cancel(struct queue_watch *qw, void *arg)
{
	for (size_t i = 0; qw != NULL && i < qw->n; i++) {
		struct queue_watch_drain **pp = &qw->v[i]->drains;

		while (*pp != NULL) {
			struct queue_watch_drain *d = *pp;

			if (d->arg == arg) {
				*pp = d->next;
				free(d);
			} else {
				pp = &d->next;
			}
		}
		if (qw->v[i]->read == NULL)
			queue_watch_schedule(qw->v[i]);
	}
}

void
queue_watch_describe(const struct queue_watch_entry *e, int64_t now, char *buf, size_t size)
{
	char span[40];
	size_t len;

	if (!e->have) {
		snprintf(buf, size, "not read yet");
		return;
	}
	if (e->rc != 0) {
		snprintf(buf, size, "could not be read: %s", e->error);
		return;
	}
	if (e->sum.matched == 0) {
		len = (size_t)snprintf(buf, size, "no mail left for");
	} else {
		len = (size_t)snprintf(
			buf, size, "%s%zu message%s still held, oldest %s, for",
			e->sum.truncated ? "at least " : "", e->sum.matched,
			e->sum.matched == 1 ? "" : "s",
			value_format_duration_span(now - e->sum.oldest, span, sizeof(span)));
	}
	for (size_t i = 0; i < e->nzones && len < size; i++) {
		size_t zl = strlen(e->zones[i]);

		if (zl > 1 && e->zones[i][zl - 1] == '.')
			zl--;
		len += (size_t)snprintf(buf + len, size - len, "%s %.*s", i > 0 ? "," : "", (int)zl,
					e->zones[i]);
	}
	if (e->nzones == 0 && len < size)
		snprintf(buf + len, size - len, " its zones");
}
