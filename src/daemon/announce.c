/*
 * announce.c -- events into log lines, notices, queue flushes and
 * reminders; see announce.h.
 */
#include "announce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "check_url.h"
#include "etrn.h"
#include "log.h"
#include "mxf.h"
#include "queue_watch.h"
#include "round_rules.h"

/* One queue flush running: ETRN for the group's zones at one server, then,
 * when the server has a [server] queue, the drain check whose outcome the
 * queue-flush notice waits for. */
struct announce_etrn {
	struct announce *a;
	struct etrn *t;                 /* NULL once the ETRN conversation ended */
	char *group;
	char *server;
	struct queue_watch_entry *watch; /* the server's queue, or NULL */
	/* The notice kept while the drain check runs. */
	char *reason;
	char **zones;
	size_t nzones;
	bool failed;
	struct announce_etrn *next;
};

static void
announce_log_event(const struct failover_event *e)
{
	const char *name = failover_event_self_named(e->type) ? "" : failover_event_name(e->type);
	const char *sep = name[0] != '\0' ? ": " : "";

	switch (e->type) {
	case FAILOVER_EV_SERVER_DOWN:
	case FAILOVER_EV_CHANGED_BY_HAND:
	case FAILOVER_EV_RECORD_MISSING:
	case FAILOVER_EV_ISOLATED:
	case FAILOVER_EV_QUORUM_LOST:
	case FAILOVER_EV_AUDIT_FINDING:
		log_warn("%s%s%s", name, sep, e->detail);
		break;
	case FAILOVER_EV_ALL_DOWN:
	case FAILOVER_EV_SWITCH_FAILED:
		log_err("%s%s%s", name, sep, e->detail);
		break;
	default: log_info("%s%s%s", name, sep, e->detail); break;
	}
}

void
announce_active(struct announce *a, const struct config *cfg, long server)
{
	if (a->notify == NULL || server < 0 || (size_t)server >= cfg->nservers)
		return;
	notify_set_active(a->notify, cfg->servers[server].name, cfg->servers[server].address);
}

static void
announce_etrn_free(struct announce_etrn *job)
{
	for (size_t i = 0; i < job->nzones; i++)
		free(job->zones[i]);
	free(job->zones);
	free(job->reason);
	free(job->group);
	free(job->server);
	free(job);
}

/* Unlink @job from @a's list and free it. */
static void
announce_etrn_end(struct announce *a, struct announce_etrn *job)
{
	for (struct announce_etrn **pp = &a->etrn; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	announce_etrn_free(job);
}

/* The queue-flush notice of @job, with what its queue held when @e is set. */
static void
announce_etrn_notice(struct announce_etrn *job, const struct queue_watch_entry *e, int drained)
{
	struct announce *a = job->a;
	char queue[600];
	struct notify_event ev = {
		.kind = NOTIFY_QUEUE_FLUSH,
		.group = job->group,
		.server = job->server,
		.zones = (const char *const *)job->zones,
		.nzones = job->nzones,
		.reason = job->reason,
		.failed = job->failed,
	};

	if (e != NULL) {
		queue_watch_describe(e, (int64_t)time(NULL), queue, sizeof(queue));
		ev.queue = queue;
		ev.queue_drained = drained;
		if (drained > 0)
			log_info("group %s: queue at %s drained: %s", job->group, job->server, queue);
		else
			log_warn("group %s: queue at %s %s: %s", job->group, job->server,
				 drained == 0 ? "not drained" : "unreadable", queue);
	}
	if (a->notify != NULL)
		notify_send(a->notify, &ev);
}

static void
announce_etrn_drained(void *arg, const struct queue_watch_entry *e, int drained)
{
	struct announce_etrn *job = arg;

	announce_etrn_notice(job, e, drained);
	announce_etrn_end(job->a, job);
}

static void
announce_etrn_done(const struct etrn_result *res, void *arg)
{
	struct announce_etrn *job = arg;
	char **zones = calloc(res->nzones + 1, sizeof(*zones));
	char reason[1024] = "";
	size_t len = 0;

	if (res->err != 0) {
		snprintf(reason, sizeof(reason), "%s: %s", res->server, res->reason);
		log_err("group %s: queue flush at %s failed: %s", job->group, res->server,
			res->reason);
	}
	for (size_t i = 0; i < res->nzones; i++) {
		const struct etrn_zone_result *z = &res->zones[i];

		if (zones != NULL && (zones[i] = strdup(z->zone)) == NULL) {
			for (size_t k = 0; k < i; k++)
				free(zones[k]);
			free(zones);
			zones = NULL;
		}
		if (res->err == 0 && len < sizeof(reason))
			len += (size_t)snprintf(reason + len, sizeof(reason) - len, "%sETRN %s: %s",
						i > 0 ? "; " : "", z->zone, z->reply);
		if (res->err != 0)
			continue;
		if (z->accepted)
			log_info("group %s: queue flush at %s: ETRN %s: %s", job->group,
				 res->server, z->zone, z->reply);
		else
			log_err("group %s: queue flush at %s: ETRN %s refused: %s", job->group,
				res->server, z->zone, z->reply);
	}
	/* The etrn object is freed after this call. */
	job->t = NULL;
	job->zones = zones;
	job->nzones = zones != NULL ? res->nzones : 0;
	job->reason = strdup(reason);
	job->failed = !res->all_accepted;
	/* A backup whose queue we can read: the notice says whether it
	 * drained, once the drain check ends.  Not when the ETRN itself
	 * failed: nothing was flushed, and the notice must not wait (a cron
	 * pass could end before the check does). */
	if (res->err == 0 && job->watch != NULL &&
	    queue_watch_drain(job->watch, announce_etrn_drained, job) == 0)
		return;
	announce_etrn_notice(job, NULL, 0);
	announce_etrn_end(job->a, job);
}

/*
 * The port to send ETRN to: that of the server's first smtp:// check (the
 * port its MTA answers on, as the checks know it), else 25.
 */
static uint16_t
announce_etrn_port(const struct config_server *s)
{
	for (size_t c = 0; c < s->nchecks; c++) {
		struct check_url u;
		uint16_t port = 0;

		if (check_url_parse(s->checks[c], &u, NULL, 0) == 0 &&
		    u.scheme == CHECK_SCHEME_SMTP)
			port = u.port;
		check_url_free(&u);
		if (port != 0)
			return port;
	}
	return 25;
}

/* After a failback: ask every other server of the group to flush its queue. */
static void
announce_etrn(struct announce *a, const struct config *cfg, size_t g, long to)
{
	const struct config_group *gr = &cfg->groups[g];

	for (size_t i = 0; i < gr->nservers; i++) {
		const struct config_server *s = &cfg->servers[gr->servers[i]];
		struct etrn_opts opts = {.timeout_ms = 30000};
		struct announce_etrn *job;
		char err[256] = "";

		if ((long)gr->servers[i] == to)
			continue;
		job = calloc(1, sizeof(*job));
		if (job == NULL)
			return;
		job->a = a;
		job->group = strdup(gr->id);
		job->server = strdup(s->id);
		if (s->queue != NULL && a->queue == NULL)
			a->queue = queue_watch_new(a->base);
		if (s->queue != NULL && a->queue != NULL)
			job->watch = queue_watch_get(a->queue, cfg, gr->servers[i]);
		job->t = etrn_start(a->base, s->address, announce_etrn_port(s),
				    (const char *const *)gr->zones, gr->nzones, &opts,
				    announce_etrn_done, job, err, sizeof(err));
		if (job->t == NULL) {
			log_err("group %s: cannot ask %s to flush its queue: %s", gr->id, s->id,
				err);
			announce_etrn_free(job);
			continue;
		}
		log_info("group %s: asking %s (%s) to flush its queue for %zu zone%s", gr->id,
			 s->id, s->address, gr->nzones, gr->nzones == 1 ? "" : "s");
		job->next = a->etrn;
		a->etrn = job;
	}
}

/* Tell the channels about @e, once. */
static void
announce_notify(struct announce *a, const struct config *cfg, const struct failover_event *e,
		const char *const *records, size_t nrecords)
{
	struct notify_event ev = {
		.kind = round_rules_notify_kind(e->type),
		.reason = e->detail,
		.time = (time_t)(e->at_ms / 1000),
	};
	const struct config_group *gr = e->group >= 0 ? &cfg->groups[e->group] : NULL;
	const char *zone1[1];
	const char **moved = NULL;

	if (a->notify == NULL)
		return;
	if (gr != NULL) {
		ev.group = gr->id;
		ev.zones = (const char *const *)gr->zones;
		ev.nzones = gr->nzones;
		if (e->zone >= 0 && (size_t)e->zone < gr->nzones) {
			zone1[0] = gr->zones[e->zone];
			ev.zones = zone1;
			ev.nzones = 1;
		} else if (e->nzones > 0 && (moved = calloc(e->nzones, sizeof(*moved))) != NULL) {
			/* A switch names the zones it moved, not all of them. */
			ev.nzones = 0;
			for (size_t i = 0; i < e->nzones; i++)
				if (e->zones[i] < gr->nzones)
					moved[ev.nzones++] = gr->zones[e->zones[i]];
			ev.zones = moved;
		}
	}
	if (e->server >= 0)
		ev.server = cfg->servers[e->server].id;
	if (e->from >= 0)
		ev.from = cfg->servers[e->from].id;
	if (e->to >= 0)
		ev.to = cfg->servers[e->to].id;
	if (records != NULL) {
		ev.records = records;
		ev.nrecords = nrecords;
	}
	notify_send(a->notify, &ev);
	free(moved);
}

/*
 * A switch of a group whose backups have a [server] queue: a failover reads
 * their queues now (and keeps reading while it lasts), a failback stops
 * that; ETRN's drain check follows (announce_etrn).
 */
static void
announce_queue(struct announce *a, const struct config *cfg, const struct failover_event *e)
{
	const struct config_group *gr;
	bool any = false;

	if ((e->type != FAILOVER_EV_SWITCHED && e->type != FAILOVER_EV_SWITCHED_BACK) || e->group < 0)
		return;
	gr = &cfg->groups[e->group];
	for (size_t i = 0; i < gr->nservers; i++)
		any = any || cfg->servers[gr->servers[i]].queue != NULL;
	if (!any)
		return;
	if (a->queue == NULL && (a->queue = queue_watch_new(a->base)) == NULL) {
		log_err("group %s: out of memory: backup queues not read", gr->id);
		return;
	}
	queue_watch_switched(a->queue, cfg, (size_t)e->group, e->type == FAILOVER_EV_SWITCHED_BACK);
}

void
announce_event(struct announce *a, const struct config *cfg, const struct failover_event *e,
	       const char *const *records, size_t nrecords)
{
	announce_log_event(e);
	announce_notify(a, cfg, e, records, nrecords);
	announce_queue(a, cfg, e);
	if (e->type == FAILOVER_EV_SWITCHED_BACK && e->group >= 0 && cfg->groups[e->group].etrn)
		announce_etrn(a, cfg, (size_t)e->group, e->to);
}

void
announce_reminders(struct announce *a, const struct config *cfg, const struct health *h,
		   uint64_t now)
{
	if (a->notify == NULL || cfg->notify.reminder_ms == 0 || a->reminder_next == NULL)
		return;
	for (size_t s = 0; s < cfg->nservers; s++) {
		const struct health_server *hs = &h->servers[s];
		uint64_t since = hs->since_ms;
		struct notify_event outage = {
			.kind = NOTIFY_SERVER_DOWN,
			.server = cfg->servers[s].id,
			.reason = hs->reason,
			.time = (time_t)(since / 1000),
		};
		struct notify_event rem;

		if (health_effective(h, s, now) != HEALTH_DOWN) {
			a->reminder_next[s] = 0;
			continue;
		}
		if (a->reminder_next[s] == 0) {
			a->reminder_next[s] =
				notify_reminder_next(since, now, cfg->notify.reminder_ms);
			continue;
		}
		if (now < a->reminder_next[s])
			continue;
		notify_reminder_init(&rem, &outage, (time_t)(now / 1000));
		notify_send(a->notify, &rem);
		log_info("server %s: still down; reminder sent", cfg->servers[s].id);
		a->reminder_next[s] = notify_reminder_next(since, now, cfg->notify.reminder_ms);
	}
}

void
announce_settle(struct announce *a, const char *why)
{
	while (a->etrn != NULL) {
		struct announce_etrn *job = a->etrn;
		char *reason = NULL;

		a->etrn = job->next;
		job->next = NULL;
		if (job->t != NULL) {
			/* The ETRN conversation itself is still on (it has its own
			 * timeout, so this is rare): it counts as failed. */
			etrn_cancel(job->t);
			job->t = NULL;
			job->failed = true;
			log_err("group %s: queue flush at %s: ETRN did not end: %s", job->group,
				job->server, why);
			if (asprintf(&reason, "%s: ETRN did not end: %s", job->server, why) < 0)
				reason = NULL;
		} else {
			queue_watch_drain_cancel(a->queue, job);
			log_warn("group %s: queue at %s: %s", job->group, job->server, why);
			if (job->reason == NULL || job->reason[0] == '\0'
				    ? asprintf(&reason, "%s", why) < 0
				    : asprintf(&reason, "%s; %s", job->reason, why) < 0)
				reason = NULL;
		}
		if (reason != NULL) {
			free(job->reason);
			job->reason = reason;
		}
		announce_etrn_notice(job, NULL, 0);
		announce_etrn_free(job);
	}
}

bool
announce_busy(const struct announce *a)
{
	return a->etrn != NULL || queue_watch_busy(a->queue) ||
	       (a->notify != NULL && notify_pending(a->notify) > 0);
}

void
announce_clear(struct announce *a)
{
	while (a->etrn != NULL) {
		struct announce_etrn *job = a->etrn;

		a->etrn = job->next;
		if (job->t != NULL)
			etrn_cancel(job->t);
		announce_etrn_free(job);
	}
	/* After the jobs: their drain checks die with the watch, uncalled. */
	queue_watch_free(a->queue);
	a->queue = NULL;
	notify_free(a->notify);
	a->notify = NULL;
	free(a->reminder_next);
	a->reminder_next = NULL;
}

int
announce_build_notify(struct event_base *base, enum daemon_mode mode, const struct config *cfg,
		      const struct dns_tsig_key *key, struct notify **out)
{
	const struct config_notify *n = &cfg->notify;
	struct notify_opts opts = {0};
	char err[512] = "";

	*out = NULL;
	if ((n->mail_to == NULL && n->webhook == NULL && n->exec == NULL) || mode == DAEMON_PLAN)
		return 0;
	if (mode == DAEMON_ONCE) {
		/* A cron pass must end: fewer, shorter tries than the daemon. */
		opts.attempts = 2;
		opts.timeout_ms = 15000;
		opts.backoff_ms = 2000;
	}
	*out = notify_new(base, n, &opts, err, sizeof(err));
	if (*out == NULL) {
		log_err("[notify]: %s", err);
		return MXF_EXIT_USAGE;
	}
	announce_add_key_secret(*out, key);
	return 0;
}

void
announce_add_key_secret(struct notify *n, const struct dns_tsig_key *key)
{
	size_t blen;
	char *b64;

	if (key == NULL)
		return;
	/* The TSIG secret as it stands in the key file must never leak. */
	blen = 4 * ((key->secret_len + 2) / 3) + 1;
	b64 = malloc(blen);
	if (b64 == NULL) {
		log_err("out of memory: the TSIG secret may not be redacted from notices");
		return;
	}
	EVP_EncodeBlock((unsigned char *)b64, key->secret, (int)key->secret_len);
	/* Nor any log line: a check's reason could carry it too. */
	log_add_secret(b64);
	if (n != NULL && notify_add_secret(n, b64) != 0)
		log_err("out of memory: the TSIG secret may not be redacted from notices");
	explicit_bzero(b64, blen);
	free(b64);
}

static bool
announce_streq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
announce_notify_same(const struct config_notify *a, const struct config_notify *b)
{
	return announce_streq(a->mail_to, b->mail_to) &&
	       announce_streq(a->mail_from, b->mail_from) &&
	       announce_streq(a->smtp_url, b->smtp_url) &&
	       announce_streq(a->smtp_user, b->smtp_user) &&
	       announce_streq(a->smtp_password_file, b->smtp_password_file) &&
	       announce_streq(a->smtp_password, b->smtp_password) &&
	       a->via_active == b->via_active && a->via_active_port == b->via_active_port &&
	       a->via_active_starttls == b->via_active_starttls &&
	       announce_streq(a->webhook, b->webhook) && announce_streq(a->exec, b->exec);
}
