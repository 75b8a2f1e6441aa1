/*
 * daemon.c -- the round shared by `run`, `once` and `plan`, and the loop of
 * `run`.  See daemon.h for the steps of a round.
 *
 * The decisions are made by the pure modules (health.c, failover.c); this
 * file only moves data between them and the network, logs each change once
 * and keeps the state file.  Everything runs on one libevent loop; a round
 * is a chain of callbacks: checks -> health -> reads -> plans -> updates ->
 * commit.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "check.h"
#include "check_url.h"
#include "dns_apply.h"
#include "dns_ops.h"
#include "dns_keyfile.h"
#include "dns_tsig.h"
#include "dns_update.h"
#include "dns_view.h"
#include "failover.h"
#include "health.h"
#include "log.h"
#include "mxf.h"
#include "etrn.h"
#include "notify.h"
#include "pins.h"
#include "state.h"
#include "state_file.h"
#include "status_http.h"


struct check_slot {
	struct round *r;
	size_t server;    /* SIZE_MAX for a witness */
	size_t check;
	bool done;
	struct check_result res;
};

struct read_slot {
	struct round *r;
	size_t group, zone, rec;
};

/* Where an update item came from. */
struct item_ref {
	size_t group, zone, rec;
};

struct round {
	struct daemon *d;
	uint64_t started_ms, now_ms;
	struct check_slot *slots;
	size_t nslots, pending;
	struct read_slot *reads;
	size_t nreads, reads_pending;
	struct failover_dns **dns;   /* [ngroups] */
	struct failover_plan **plans; /* [ngroups] */
	struct dns_apply_item *items;
	struct item_ref *refs;
	size_t nitems;
	struct failover_events ev;
	bool any_check_failed, dns_failed, all_down;
};

struct daemon {
	const char *cfg_path;
	struct config *cfg;       /* the one in use */
	struct config *own_cfg;   /* a reloaded one, ours to free */
	enum daemon_mode mode;
	struct event_base *base;
	struct check_engine *eng;
	struct dns_tsig_key *key;
	struct dns_ops *ops;
	struct state *st;
	struct round *round;      /* the round running, or NULL */
	struct event *timer, *sigterm, *sigint, *sighup;
	bool stopping, reload;
	int lock_fd;
	int exit_code;
	struct status_http *http;  /* [general] status_listen, run mode only */
	struct status_counters ctr;
	struct notify *notify;     /* NULL when [notify] sets no channel */
	struct etrn_job *etrn_jobs; /* queue flushes running */
	uint64_t *reminder_next;   /* [nservers]: next reminder of a down server */
	struct event *drain_ev;    /* once/plan: wait for notices and ETRN */
	bool pins_warned;          /* the pins file was unreadable, said once */
	uint64_t drain_until_ms;
};

struct etrn_job {
	struct daemon *d;
	struct etrn *t;
	char *group;
	char *server;
	struct etrn_job *next;
};

uint64_t
daemon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- files: lock, pins ------------------------------------------------- */

/* @return the lock's fd, -1 when another process holds it, -2 on error. */
static int
daemon_lock(const char *path)
{
	int fd;

	state_file_make_parent(path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_err("cannot open the lock file %s: %s", path, strerror(errno));
		return -2;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return -1;
		log_err("cannot lock %s: %s", path, strerror(e));
		return -2;
	}
	return fd;
}

/* Bring health's pins in line with the pins file. */
static void
daemon_apply_pins(struct daemon *d, uint64_t now)
{
	struct pins *pins = NULL;
	char why[512] = "";

	if (pins_load(d->cfg, &pins, why, sizeof(why)) != 0) {
		if (!d->pins_warned)
			log_err("%s; keeping the pins in force until it can be read", why);
		d->pins_warned = true;
		return;
	}
	if (d->pins_warned)
		log_info("%s is readable again", pins->path);
	d->pins_warned = false;
	pins_apply(pins, d->st->health, now);
	pins_free(pins);
}

/* ---- events and logging ------------------------------------------------- */

static void
daemon_log_event(const struct failover_event *e)
{
	switch (e->type) {
	case FAILOVER_EV_SERVER_DOWN:
	case FAILOVER_EV_CHANGED_BY_HAND:
	case FAILOVER_EV_ISOLATED:
		log_warn("%s: %s", failover_event_name(e->type), e->detail);
		break;
	case FAILOVER_EV_ALL_DOWN:
	case FAILOVER_EV_SWITCH_FAILED:
		log_err("%s: %s", failover_event_name(e->type), e->detail);
		break;
	default:
		log_info("%s: %s", failover_event_name(e->type), e->detail);
		break;
	}
}

/* Log the health changes queued since the last drain; collect events. */
static void
daemon_drain_health(struct daemon *d, struct round *r)
{
	struct health_change c;

	while (health_next_change(d->st->health, &c)) {
		const struct config_server *s = &d->cfg->servers[c.server];

		if (c.kind == HEALTH_CHANGE_CHECK) {
			log_info("server %s: check %s: %s -> %s (%s)", s->id, s->checks[c.check],
				 health_state_name(c.from), health_state_name(c.to), c.reason);
			continue;
		}
		if (c.from != c.to || c.kind == HEALTH_CHANGE_PIN)
			log_info("server %s: %s -> %s%s%s (%s)", s->id, health_state_name(c.from),
				 health_state_name(c.to), c.pin != HEALTH_PIN_NONE ? ", pinned " : "",
				 c.pin != HEALTH_PIN_NONE ? health_pin_name(c.pin) : "", c.reason);
		if (failover_event_from_health(d->cfg, &c, &r->ev) < 0)
			log_err("out of memory recording an event");
	}
}

/* ---- notices and queue flushes ------------------------------------------ */

static enum notify_kind
daemon_notify_kind(enum failover_event_type t)
{
	switch (t) {
	case FAILOVER_EV_SERVER_DOWN: return NOTIFY_SERVER_DOWN;
	case FAILOVER_EV_SERVER_UP: return NOTIFY_SERVER_UP;
	case FAILOVER_EV_SWITCHED:
	case FAILOVER_EV_SWITCHED_BACK: return NOTIFY_SWITCHED;
	case FAILOVER_EV_SWITCH_FAILED: return NOTIFY_SWITCH_FAILED;
	case FAILOVER_EV_ALL_DOWN: return NOTIFY_ALL_DOWN;
	case FAILOVER_EV_ISOLATED: return NOTIFY_ISOLATED;
	case FAILOVER_EV_ISOLATION_OVER: return NOTIFY_ISOLATION_OVER;
	case FAILOVER_EV_CHANGED_BY_HAND: return NOTIFY_CHANGED_BY_HAND;
	}
	return NOTIFY_SERVER_DOWN;
}

/* DNS_Failover mode mails through the server the records point at. */
static void
daemon_notify_active(struct daemon *d)
{
	long a;

	if (d->notify == NULL || d->cfg->ngroups == 0)
		return;
	/* The first server of the group that is up: where the records point
	 * after a switch, and a live one even when the switch failed. */
	a = d->st->failover->groups[0].active;
	for (size_t i = 0; i < d->cfg->groups[0].nservers; i++) {
		size_t s = d->cfg->groups[0].servers[i];

		if (health_effective(d->st->health, s, daemon_now_ms()) == HEALTH_UP) {
			a = (long)s;
			break;
		}
	}
	if (a < 0)
		a = (long)d->cfg->groups[0].servers[0];
	notify_set_active(d->notify, d->cfg->servers[a].name, d->cfg->servers[a].address);
}

static void
etrn_done(const struct etrn_result *res, void *arg)
{
	struct etrn_job *job = arg, **pp;
	struct daemon *d = job->d;
	const char **zones = calloc(res->nzones + 1, sizeof(*zones));
	char reason[1024] = "";
	size_t len = 0;

	if (res->err != 0) {
		snprintf(reason, sizeof(reason), "%s: %s", res->server, res->reason);
		log_err("group %s: queue flush at %s failed: %s", job->group, res->server, res->reason);
	}
	for (size_t i = 0; i < res->nzones; i++) {
		const struct etrn_zone_result *z = &res->zones[i];

		if (zones != NULL)
			zones[i] = z->zone;
		if (res->err == 0 && len < sizeof(reason))
			len += (size_t)snprintf(reason + len, sizeof(reason) - len, "%sETRN %s: %s",
						i > 0 ? "; " : "", z->zone, z->reply);
		if (res->err != 0)
			continue;
		if (z->accepted)
			log_info("group %s: queue flush at %s: ETRN %s: %s", job->group, res->server,
				 z->zone, z->reply);
		else
			log_err("group %s: queue flush at %s: ETRN %s refused: %s", job->group,
				res->server, z->zone, z->reply);
	}
	if (d->notify != NULL) {
		struct notify_event ev = {
			.kind = NOTIFY_QUEUE_FLUSH,
			.group = job->group,
			.server = job->server,
			.zones = zones,
			.nzones = zones != NULL ? res->nzones : 0,
			.reason = reason,
			.failed = !res->all_accepted,
		};

		notify_send(d->notify, &ev);
	}
	free(zones);
	for (pp = &d->etrn_jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	free(job->group);
	free(job->server);
	free(job);
}

/*
 * The port to send ETRN to: that of the server's first smtp:// check (the
 * port its MTA answers on, as the checks know it), else 25.
 */
static uint16_t
daemon_etrn_port(const struct config_server *s)
{
	for (size_t c = 0; c < s->nchecks; c++) {
		struct check_url u;
		uint16_t port = 0;

		if (strncmp(s->checks[c], "smtp://", 7) != 0)
			continue;
		if (check_url_parse(s->checks[c], &u, NULL, 0) == 0)
			port = u.port;
		check_url_free(&u);
		if (port != 0)
			return port;
	}
	return 25;
}

/* After a failback: ask every other server of the group to flush its queue. */
static void
daemon_etrn(struct daemon *d, size_t g, long to)
{
	const struct config_group *gr = &d->cfg->groups[g];

	for (size_t i = 0; i < gr->nservers; i++) {
		const struct config_server *s = &d->cfg->servers[gr->servers[i]];
		struct etrn_opts opts = {.timeout_ms = 30000};
		struct etrn_job *job;
		char err[256] = "";

		if ((long)gr->servers[i] == to)
			continue;
		job = calloc(1, sizeof(*job));
		if (job == NULL)
			return;
		job->d = d;
		job->group = strdup(gr->id);
		job->server = strdup(s->id);
		job->t = etrn_start(d->base, s->address, daemon_etrn_port(s),
				    (const char *const *)gr->zones, gr->nzones,
				    &opts, etrn_done, job, err, sizeof(err));
		if (job->t == NULL) {
			log_err("group %s: cannot ask %s to flush its queue: %s", gr->id, s->id, err);
			free(job->group);
			free(job->server);
			free(job);
			continue;
		}
		log_info("group %s: asking %s (%s) to flush its queue for %zu zone%s", gr->id, s->id,
			 s->address, gr->nzones, gr->nzones == 1 ? "" : "s");
		job->next = d->etrn_jobs;
		d->etrn_jobs = job;
	}
}

/* "owner TYPE value" of every record of group @g this round moved. */
static char **
daemon_moved_records(const struct round *r, size_t g, size_t *n)
{
	const struct config_group *gr = &r->d->cfg->groups[g];
	char **v = calloc(r->nitems + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v != NULL && i < r->nitems; i++) {
		const struct item_ref *ref = &r->refs[i];
		const struct failover_zone_plan *zp;

		if (ref->group != g || r->items[i].status != 0)
			continue;
		zp = &r->plans[g]->zones[ref->zone];
		for (size_t k = 0; k < zp->nrecs; k++) {
			const struct failover_record_plan *rp = &zp->recs[k];

			if (rp->record == ref->rec && rp->nnew > 0 &&
			    asprintf(&v[*n], "%s %s %s", rp->owner, config_rtype_name(gr->type),
				     rp->new_values[0]) >= 0)
				(*n)++;
		}
	}
	return v;
}

/* Tell the channels about @e, once. */
static void
daemon_notify(struct daemon *d, const struct round *r, const struct failover_event *e)
{
	const struct config *cfg = d->cfg;
	struct notify_event ev = {
		.kind = daemon_notify_kind(e->type),
		.reason = e->detail,
		.time = (time_t)(e->at_ms / 1000),
	};
	const struct config_group *gr = e->group >= 0 ? &cfg->groups[e->group] : NULL;
	const char *zone1[1];
	char **recs = NULL;
	size_t nrecs = 0;

	if (d->notify == NULL)
		return;
	if (gr != NULL) {
		ev.group = gr->id;
		ev.zones = (const char *const *)gr->zones;
		ev.nzones = gr->nzones;
		if (e->zone >= 0 && (size_t)e->zone < gr->nzones) {
			zone1[0] = gr->zones[e->zone];
			ev.zones = zone1;
			ev.nzones = 1;
		}
	}
	if (e->server >= 0)
		ev.server = cfg->servers[e->server].id;
	if (e->from >= 0)
		ev.from = cfg->servers[e->from].id;
	if (e->to >= 0)
		ev.to = cfg->servers[e->to].id;
	if (gr != NULL && r != NULL && r->plans != NULL && r->plans[e->group] != NULL &&
	    (e->type == FAILOVER_EV_SWITCHED || e->type == FAILOVER_EV_SWITCHED_BACK)) {
		recs = daemon_moved_records(r, (size_t)e->group, &nrecs);
		ev.records = (const char *const *)recs;
		ev.nrecords = nrecs;
	}
	notify_send(d->notify, &ev);
	for (size_t i = 0; recs != NULL && i < nrecs; i++)
		free(recs[i]);
	free(recs);
}

/* While a server stays down, a reminder every [notify] reminder. */
static void
daemon_reminders(struct daemon *d, uint64_t now)
{
	const struct config *cfg = d->cfg;

	if (d->notify == NULL || cfg->notify.reminder_ms == 0 || d->reminder_next == NULL)
		return;
	for (size_t s = 0; s < cfg->nservers; s++) {
		const struct health_server *hs = &d->st->health->servers[s];
		uint64_t since = hs->since_ms;

		if (health_effective(d->st->health, s, now) != HEALTH_DOWN) {
			d->reminder_next[s] = 0;
			continue;
		}
		if (d->reminder_next[s] == 0) {
			d->reminder_next[s] = notify_reminder_next(since, now, cfg->notify.reminder_ms);
			continue;
		}
		if (now < d->reminder_next[s])
			continue;
		{
			struct notify_event outage = {
				.kind = NOTIFY_SERVER_DOWN,
				.server = cfg->servers[s].id,
				.reason = hs->reason,
				.time = (time_t)(since / 1000),
			};
			struct notify_event rem;

			notify_reminder_init(&rem, &outage, (time_t)(now / 1000));
			notify_send(d->notify, &rem);
			log_info("server %s: still down; reminder sent", cfg->servers[s].id);
		}
		d->reminder_next[s] = notify_reminder_next(since, now, cfg->notify.reminder_ms);
	}
}

static bool
daemon_busy(const struct daemon *d)
{
	return d->etrn_jobs != NULL || (d->notify != NULL && notify_pending(d->notify) > 0);
}

/* once: the round is over; wait (bounded) for notices and queue flushes. */
static void
daemon_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = {0, 100000};

	(void)fd;
	(void)what;
	if (!daemon_busy(d) || daemon_now_ms() >= d->drain_until_ms) {
		if (daemon_busy(d))
			log_warn("exiting with notices or queue flushes still pending");
		event_base_loopbreak(d->base);
		return;
	}
	evtimer_add(d->drain_ev, &tv);
}

/*
 * daemon_build_notify -- a notifier for @cfg's [notify] (NULL in *out when
 * no channel is set, or for `plan`), with @key's secret registered.
 * @return 0, or MXF_EXIT_USAGE after logging why.
 */
static int
daemon_build_notify(const struct daemon *d, const struct config *cfg,
		    const struct dns_tsig_key *key, struct notify **out)
{
	const struct config_notify *n = &cfg->notify;
	struct notify_opts opts = {0};
	char err[512] = "";

	*out = NULL;
	if ((n->mail_to == NULL && n->webhook == NULL && n->exec == NULL) || d->mode == DAEMON_PLAN)
		return 0;
	if (d->mode == DAEMON_ONCE) {
		/* A cron pass must end: fewer, shorter tries than the daemon. */
		opts.attempts = 2;
		opts.timeout_ms = 15000;
		opts.backoff_ms = 2000;
	}
	*out = notify_new(d->base, n, &opts, err, sizeof(err));
	if (*out == NULL) {
		log_err("[notify]: %s", err);
		return MXF_EXIT_USAGE;
	}
	if (key != NULL) {
		/* The TSIG secret as it stands in the key file must never leak. */
		size_t blen = 4 * ((key->secret_len + 2) / 3) + 1;
		char *b64 = malloc(blen);

		if (b64 != NULL) {
			EVP_EncodeBlock((unsigned char *)b64, key->secret, (int)key->secret_len);
			notify_add_secret(*out, b64);
			explicit_bzero(b64, blen);
			free(b64);
		}
	}
	return 0;
}

static bool
daemon_streq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether two [notify] sections would build the same notifier. */
static bool
daemon_notify_same(const struct config_notify *a, const struct config_notify *b)
{
	return daemon_streq(a->mail_to, b->mail_to) && daemon_streq(a->mail_from, b->mail_from) &&
	       daemon_streq(a->smtp_url, b->smtp_url) && daemon_streq(a->smtp_user, b->smtp_user) &&
	       daemon_streq(a->smtp_password_file, b->smtp_password_file) &&
	       daemon_streq(a->smtp_password, b->smtp_password) && a->via_active == b->via_active &&
	       a->via_active_port == b->via_active_port &&
	       a->via_active_starttls == b->via_active_starttls &&
	       daemon_streq(a->webhook, b->webhook) && daemon_streq(a->exec, b->exec);
}

/* ---- the round ---------------------------------------------------------- */

static void round_reads_start(struct round *r);
static void round_act(struct round *r);
static void round_finish(struct round *r);

static void
round_free(struct round *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r->reads);
	for (size_t g = 0; r->dns != NULL && g < r->d->cfg->ngroups; g++)
		failover_dns_free(r->dns[g]);
	free(r->dns);
	for (size_t g = 0; r->plans != NULL && g < r->d->cfg->ngroups; g++)
		failover_plan_free(r->plans[g]);
	free(r->plans);
	for (size_t i = 0; i < r->nitems; i++)
		dns_apply_item_clear(&r->items[i]);
	free(r->items);
	free(r->refs);
	failover_events_free(&r->ev);
	free(r);
}

static enum health_outcome
round_outcome(const struct check_result *res)
{
	if (res->state == CHECK_STATE_UP)
		return HEALTH_OK;
	if (res->state == CHECK_STATE_WARNING)
		return HEALTH_WARN;
	return HEALTH_FAIL;
}

/* All checks are in: feed health, judge the witnesses, read DNS. */
static void
round_checks_done(struct round *r)
{
	struct daemon *d = r->d;
	const struct config *cfg = d->cfg;
	size_t k = 0, nwit = 0, wit_ok = 0;
	enum failover_witness verdict;

	r->now_ms = daemon_now_ms();
	health_expire_pins(d->st->health, r->now_ms);
	daemon_apply_pins(d, r->now_ms);
	for (size_t s = 0; s < cfg->nservers; s++) {
		size_t n = cfg->servers[s].nchecks;
		struct health_result *res = calloc(n + 1, sizeof(*res));

		if (res == NULL) {
			log_err("out of memory");
			k += n;
			continue;
		}
		for (size_t c = 0; c < n; c++, k++) {
			res[c].outcome = round_outcome(&r->slots[k].res);
			res[c].reason = r->slots[k].res.reason;
			if (res[c].outcome == HEALTH_FAIL)
				r->any_check_failed = true;
			log_debug("server %s: %s: %s in %llu ms: %s", cfg->servers[s].id,
				  cfg->servers[s].checks[c], check_state_name(r->slots[k].res.state),
				  (unsigned long long)r->slots[k].res.elapsed_ms, r->slots[k].res.reason);
		}
		if (health_feed(d->st->health, s, res, n, r->now_ms) < 0)
			log_err("server %s: cannot record the round", cfg->servers[s].id);
		free(res);
	}
	for (; k < r->nslots; k++, nwit++) {
		if (r->slots[k].res.state != CHECK_STATE_DOWN)
			wit_ok++;
		else
			log_info("witness %s: down: %s", cfg->general.witness[nwit],
				 r->slots[k].res.reason);
	}
	daemon_drain_health(d, r);
	verdict = nwit == 0 ? FAILOVER_WITNESS_NONE
	       : wit_ok > 0 ? FAILOVER_WITNESS_OK
			    : FAILOVER_WITNESS_ISOLATED;
	failover_set_witness(d->st->failover, verdict, r->now_ms, &r->ev);
	round_reads_start(r);
}

static void
round_check_cb(const struct check_result *res, void *arg)
{
	struct check_slot *slot = arg;
	struct round *r = slot->r;

	slot->res = *res;
	slot->done = true;
	if (--r->pending == 0)
		round_checks_done(r);
}

static ldns_rr_type
round_rr_type(enum config_rtype t)
{
	switch (t) {
	case CONFIG_RTYPE_A: return LDNS_RR_TYPE_A;
	case CONFIG_RTYPE_AAAA: return LDNS_RR_TYPE_AAAA;
	case CONFIG_RTYPE_MX: return LDNS_RR_TYPE_MX;
	case CONFIG_RTYPE_CNAME: break;
	}
	return LDNS_RR_TYPE_CNAME;
}

static void
round_read_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct read_slot *rs = arg;
	struct round *r = rs->r;
	struct daemon *d = r->d;
	const struct config_group *g = &d->cfg->groups[rs->group];
	struct failover_dns *view = r->dns[rs->group];
	ldns_rdf *owner = NULL;
	char *name = NULL;
	struct dns_view dv = {0};

	(void)rcode; /* the view reads it from the reply */
	if (status == 0) {
		name = failover_owner_name(g->zones[rs->zone], g->records[rs->rec]);
		owner = name != NULL ? ldns_dname_new_frm_str(name) : NULL;
		if (owner == NULL ||
		    dns_view_answer(reply, owner, round_rr_type(g->type), &dv) != 0) {
			status = MXF_ENOMEM;
			msg = "out of memory";
		}
	}
	if (status != 0) {
		failover_dns_set(view, rs->zone, rs->rec, FAILOVER_REC_FAILED, NULL, 0, -1, msg);
		r->dns_failed = true;
	} else if (dv.verdict == DNS_VIEW_RCODE || dv.verdict == DNS_VIEW_NOTAUTH) {
		char why[DNS_VIEW_MSG + 64];

		snprintf(why, sizeof(why), "%s: %s", dns_ops_server(d->ops), dv.msg);
		failover_dns_set(view, rs->zone, rs->rec, FAILOVER_REC_FAILED, NULL, 0, -1, why);
		r->dns_failed = true;
	} else if (dv.verdict == DNS_VIEW_PRESENT) {
		failover_dns_set(view, rs->zone, rs->rec, FAILOVER_REC_PRESENT,
				 (const char *const *)dv.values, dv.nvalues, dv.ttl, NULL);
	} else {
		failover_dns_set(view, rs->zone, rs->rec, FAILOVER_REC_ABSENT, NULL, 0, -1, NULL);
	}
	dns_view_clear(&dv);
	ldns_rdf_deep_free(owner);
	free(name);
	if (--r->reads_pending == 0)
		round_act(r);
}

static void
round_reads_start(struct round *r)
{
	struct daemon *d = r->d;
	const struct config *cfg = d->cfg;
	size_t total = 0, k = 0;

	for (size_t g = 0; g < cfg->ngroups; g++)
		total += cfg->groups[g].nzones * cfg->groups[g].nrecords;
	r->dns = calloc(cfg->ngroups, sizeof(*r->dns));
	r->plans = calloc(cfg->ngroups, sizeof(*r->plans));
	r->reads = calloc(total + 1, sizeof(*r->reads));
	if (r->dns == NULL || r->plans == NULL || r->reads == NULL) {
		log_err("out of memory");
		round_finish(r);
		return;
	}
	for (size_t g = 0; g < cfg->ngroups; g++)
		if (failover_dns_new(cfg, g, &r->dns[g]) != 0) {
			log_err("out of memory");
			round_finish(r);
			return;
		}
	r->reads_pending = 1; /* held while starting */
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];

		for (size_t z = 0; z < gr->nzones; z++) {
			for (size_t rec = 0; rec < gr->nrecords; rec++) {
				struct read_slot *rs = &r->reads[k++];
				char *name = failover_owner_name(gr->zones[z], gr->records[rec]);
				ldns_rdf *owner = name != NULL ? ldns_dname_new_frm_str(name) : NULL;

				rs->r = r;
				rs->group = g;
				rs->zone = z;
				rs->rec = rec;
				if (owner != NULL &&
				    dns_ops_read(d->ops, owner, round_rr_type(gr->type), round_read_cb,
						 rs) == 0) {
					r->reads_pending++;
				} else {
					failover_dns_set(r->dns[g], z, rec, FAILOVER_REC_FAILED, NULL, 0,
							 -1, "cannot start the query");
					r->dns_failed = true;
				}
				ldns_rdf_deep_free(owner);
				free(name);
			}
		}
	}
	r->nreads = k;
	if (--r->reads_pending == 0)
		round_act(r);
}

/* An ldns RR list for @owner/@type with @values, or NULL. */
static ldns_rr_list *
round_rrs(const ldns_rdf *owner, ldns_rr_type type, int64_t ttl, char *const *values, size_t n)
{
	ldns_rr_list *list = NULL;
	char err[256];

	if (owner == NULL ||
	    dns_update_rrs_from_text(owner, type, ttl >= 0 ? (uint32_t)ttl : 300,
				     (const char *const *)values, n, &list, err, sizeof(err)) != 0)
		return NULL;
	return list;
}

static void round_apply_done(void *arg);

/* Mark every item of the round failed (nothing of it reached DNS). */
static void
round_fail_items(struct round *r, int status, const char *msg)
{
	for (size_t i = 0; i < r->nitems; i++) {
		r->items[i].status = status;
		snprintf(r->items[i].msg, sizeof(r->items[i].msg), "%s", msg);
	}
}

/* A zone whose records could not all be read: said once, and once again
 * when it reads fine. */
static void
round_log_reads(struct round *r, size_t g)
{
	struct daemon *d = r->d;
	const struct config_group *gr = &d->cfg->groups[g];

	for (size_t z = 0; z < gr->nzones; z++) {
		const struct failover_rec_view *bad = NULL;
		size_t badrec = 0;
		int news;

		for (size_t rec = 0; rec < gr->nrecords && bad == NULL; rec++) {
			if (r->dns[g]->zones[z].recs[rec].status == FAILOVER_REC_FAILED) {
				bad = &r->dns[g]->zones[z].recs[rec];
				badrec = rec;
			}
		}
		if (d->mode == DAEMON_PLAN)
			continue;
		news = failover_zone_read(d->st->failover, g, z, bad != NULL);

		if (news > 0) {
			char *owner = failover_owner_name(gr->zones[z], gr->records[badrec]);

			log_err("group %s: zone %s: cannot read %s: %s; the zone is left alone",
				gr->id, gr->zones[z], owner != NULL ? owner : "?",
				bad->error != NULL ? bad->error : "failed");
			free(owner);
		} else if (news < 0) {
			log_info("group %s: zone %s reads fine again", gr->id, gr->zones[z]);
		}
	}
}

/* Reads are in: plan every group, then send the updates. */
static void
round_act(struct round *r)
{
	struct daemon *d = r->d;
	const struct config *cfg = d->cfg;
	size_t nitems = 0, k = 0;
	int rc;

	for (size_t g = 0; g < cfg->ngroups; g++) {
		struct failover_plan *p = NULL;

		round_log_reads(r, g);
		state_update_seen(d->st, r->dns[g]);
		if (failover_plan(d->st->failover, cfg, g, d->st->health, r->dns[g], r->now_ms, &p) != 0) {
			log_err("group %s: cannot plan", cfg->groups[g].id);
			continue;
		}
		r->plans[g] = p;
		if (p->verdict == FAILOVER_ALL_DOWN)
			r->all_down = true;
		if (d->mode == DAEMON_PLAN)
			continue;
		for (size_t z = 0; z < p->nzones; z++) {
			const struct failover_zone_plan *zp = &p->zones[z];

			if (zp->nchanges == 0 || !failover_zone_due(d->st->failover, g, z, r->now_ms))
				continue;
			nitems += zp->nchanges;
		}
	}
	if (d->mode == DAEMON_PLAN || nitems == 0) {
		round_apply_done(r);
		return;
	}
	r->items = calloc(nitems, sizeof(*r->items));
	r->refs = calloc(nitems, sizeof(*r->refs));
	if (r->items == NULL || r->refs == NULL) {
		log_err("out of memory");
		round_apply_done(r);
		return;
	}
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct failover_plan *p = r->plans[g];

		if (p == NULL)
			continue;
		for (size_t z = 0; z < p->nzones; z++) {
			const struct failover_zone_plan *zp = &p->zones[z];

			if (zp->nchanges == 0 || !failover_zone_due(d->st->failover, g, z, r->now_ms))
				continue;
			for (size_t i = 0; i < zp->nrecs; i++) {
				const struct failover_record_plan *rp = &zp->recs[i];
				struct dns_apply_item *it = &r->items[k];

				if (rp->verdict != FAILOVER_R_CHANGE)
					continue;
				r->refs[k].group = g;
				r->refs[k].zone = z;
				r->refs[k].rec = rp->record;
				it->owner = ldns_dname_new_frm_str(rp->owner);
				it->zone = ldns_dname_new_frm_str(cfg->groups[g].zones[z]);
				it->type = round_rr_type(p->type);
				it->ttl = rp->ttl;
				it->new_rrs = round_rrs(it->owner, it->type, rp->ttl, rp->new_values,
							rp->nnew);
				it->expect = DNS_APPLY_EXPECT_GIVEN;
				it->expected = round_rrs(it->owner, it->type, -1, rp->old_values,
							 rp->nold);
				it->rcode = -1;
				k++;
			}
		}
	}
	r->nitems = k;
	for (size_t i = 0; i < r->nitems; i++) {
		const struct dns_apply_item *it = &r->items[i];

		if (it->owner == NULL || it->zone == NULL || it->new_rrs == NULL ||
		    it->expected == NULL) {
			round_fail_items(r, MXF_ENOMEM, "cannot build the update: nothing was sent");
			round_apply_done(r);
			return;
		}
	}
	rc = dns_apply_start(d->ops, cfg, r->items, r->nitems, 300, round_apply_done, r);
	if (rc != 0) {
		round_fail_items(r, rc, "cannot start the updates: nothing was sent");
		round_apply_done(r);
	}
}

/* Per zone of @p: 0 applied, MXF_E* failed, FAILOVER_ZONE_NOT_TRIED. */
static void
round_zone_status(struct round *r, size_t g, int *zs)
{
	struct daemon *d = r->d;
	const struct failover_plan *p = r->plans[g];

	for (size_t z = 0; z < p->nzones; z++)
		zs[z] = p->zones[z].nchanges > 0 ? FAILOVER_ZONE_NOT_TRIED : 0;
	for (size_t i = 0; i < r->nitems; i++) {
		const struct item_ref *ref = &r->refs[i];
		const struct dns_apply_item *it = &r->items[i];

		if (ref->group != g)
			continue;
		if (zs[ref->zone] == FAILOVER_ZONE_NOT_TRIED)
			zs[ref->zone] = 0;
		if (it->status != 0 && zs[ref->zone] == 0)
			zs[ref->zone] = it->status;
	}
	for (size_t z = 0; z < p->nzones; z++) {
		uint64_t next = failover_zone_next_ms(d->st->failover, g, z);
		const char *zone = d->cfg->groups[g].zones[z];

		if (zs[z] == FAILOVER_ZONE_NOT_TRIED) {
			if (p->zones[z].nchanges > 0)
				log_info("group %s: zone %s: next try in %llu s", d->cfg->groups[g].id,
					 zone, (unsigned long long)((next - r->now_ms) / 1000));
			continue;
		}
		if (zs[z] == 0) {
			if (p->zones[z].nchanges > 0)
				d->ctr.updates_ok++;
			failover_zone_tried(d->st->failover, d->cfg, g, z, 0, r->now_ms);
			continue;
		}
		d->ctr.updates_failed++;
		/* From now, not from the round's start: a failed update may have
		 * spent its whole DNS timeout already. */
		failover_zone_tried(d->st->failover, d->cfg, g, z, zs[z], daemon_now_ms());
		r->dns_failed = true;
	}
}

static void
round_apply_done(void *arg)
{
	struct round *r = arg;
	struct daemon *d = r->d;
	const struct config *cfg = d->cfg;

	/* One line per zone: which records moved where, or why the zone did not. */
	for (size_t i = 0; i < r->nitems; i++) {
		const struct item_ref *ref = &r->refs[i];
		const struct config_group *g = &cfg->groups[ref->group];
		const struct failover_zone_plan *zp = &r->plans[ref->group]->zones[ref->zone];
		char names[512] = "";
		const char *from = "?", *to = "?", *fail = NULL;
		size_t len = 0, n = 0;

		if (i > 0 && r->refs[i - 1].group == ref->group && r->refs[i - 1].zone == ref->zone)
			continue; /* items of one zone are adjacent; the first logs */
		for (size_t j = i; j < r->nitems && r->refs[j].group == ref->group &&
				   r->refs[j].zone == ref->zone; j++) {
			const struct dns_apply_item *it = &r->items[j];

			for (size_t k = 0; k < zp->nrecs; k++) {
				const struct failover_record_plan *rp = &zp->recs[k];

				if (rp->record != r->refs[j].rec)
					continue;
				if (it->status != 0) {
					if (fail == NULL)
						fail = it->msg;
					continue;
				}
				if (n++ == 0) {
					from = rp->nold > 0 ? rp->old_values[0] : "?";
					to = rp->nnew > 0 ? rp->new_values[0] : "?";
				}
				if (len < sizeof(names) - 1)
					len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
								len > 0 ? " " : "",
								g->records[rp->record]);
				log_debug("group %s: %s %s %s -> %s (%s)", g->id, rp->owner,
					  config_rtype_name(g->type), from, to,
					  it->unchanged ? "already set" : "verified");
				failover_dns_set(r->dns[ref->group], ref->zone, rp->record,
						 FAILOVER_REC_PRESENT, (const char *const *)rp->new_values,
						 rp->nnew, rp->ttl, NULL);
			}
		}
		if (fail != NULL)
			log_err("group %s: zone %s not changed: %s", g->id, g->zones[ref->zone], fail);
		else
			log_info("group %s: zone %s: %s %s %s -> %s (verified)", g->id,
				 g->zones[ref->zone], names, config_rtype_name(g->type), from, to);
	}
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct failover_plan *p = r->plans[g];
		int *zs;

		if (p == NULL)
			continue;
		if (d->mode == DAEMON_PLAN) {
			char *text = NULL;

			if (failover_plan_format(p, cfg, d->st->health, r->now_ms, &text) == 0) {
				fputs(text, stdout);
				if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
					fputc('\n', stdout);
			}
			free(text);
			continue;
		}
		zs = calloc(p->nzones + 1, sizeof(*zs));
		if (zs == NULL)
			continue;
		round_zone_status(r, g, zs);
		failover_commit(d->st->failover, cfg, p, zs, r->now_ms, &r->ev);
		state_update_seen(d->st, r->dns[g]);
		free(zs);
	}
	round_finish(r);
}

/* Log and keep the round's events, write the state, work out the exit code. */
static void
round_finish(struct round *r)
{
	struct daemon *d = r->d;
	const struct config *cfg = d->cfg;
	char err[512] = "";
	bool any_down = false;
	uint64_t started;
	int code;

	/* `plan` changes nothing and reports no event: its text says it all. */
	if (d->mode != DAEMON_PLAN)
		daemon_notify_active(d);
	for (size_t i = 0; i < r->ev.n && d->mode != DAEMON_PLAN; i++) {
		const struct failover_event *e = &r->ev.v[i];

		daemon_log_event(e);
		state_add_event(d->st, cfg, e);
		daemon_notify(d, r, e);
		if (e->type == FAILOVER_EV_SWITCHED_BACK && e->group >= 0 &&
		    cfg->groups[e->group].etrn)
			daemon_etrn(d, (size_t)e->group, e->to);
	}
	if (d->mode != DAEMON_PLAN)
		daemon_reminders(d, r->now_ms);
	for (size_t s = 0; s < cfg->nservers; s++)
		if (health_effective(d->st->health, s, r->now_ms) == HEALTH_DOWN)
			any_down = true;
	if (d->mode != DAEMON_PLAN &&
	    state_save(cfg->general.state_file, cfg, d->st, daemon_now_ms(), err, sizeof(err)) != 0)
		log_err("%s", err);

	if (r->all_down)
		code = MXF_EXIT_ALLDOWN;
	else if (r->dns_failed)
		code = MXF_EXIT_DNS;
	else if (any_down || r->any_check_failed)
		code = MXF_EXIT_DEGRADED;
	else
		code = MXF_EXIT_OK;
	d->exit_code = code;
	d->ctr.rounds++;
	d->ctr.last_round_ms = daemon_now_ms();
	d->ctr.round_ms = d->ctr.last_round_ms - r->started_ms;
	log_debug("round done in %llu ms, exit code %d",
		  (unsigned long long)(daemon_now_ms() - r->started_ms), code);
	started = r->started_ms; /* r is freed next */
	d->round = NULL;
	round_free(r);

	if (d->mode != DAEMON_RUN || d->stopping) {
		if (d->mode == DAEMON_ONCE && daemon_busy(d)) {
			d->drain_until_ms = daemon_now_ms() + 60000;
			daemon_drain_cb(-1, 0, d);
			return;
		}
		event_base_loopbreak(d->base);
		return;
	}
	/* The next round starts one interval after this one started. */
	{
		uint64_t next = cfg->general.interval_ms, now = daemon_now_ms();
		struct timeval tv;

		next = now - started < next ? next - (now - started) : 0;
		tv.tv_sec = (time_t)(next / 1000);
		tv.tv_usec = (suseconds_t)((next % 1000) * 1000);
		evtimer_add(d->timer, &tv);
	}
}

static void daemon_reload(struct daemon *d);

static void
daemon_view(void *arg, const struct config **cfg, const struct state **st,
	    const struct status_counters **ctr)
{
	struct daemon *d = arg;

	*cfg = d->cfg;
	*st = d->st;
	*ctr = &d->ctr;
}

/* The status endpoint @cfg asks for (NULL in *out when none, or not `run`). */
static int
daemon_build_http(struct daemon *d, const struct config *cfg, struct status_http **out)
{
	char err[256] = "";
	int rc;

	*out = NULL;
	if (d->mode != DAEMON_RUN || cfg->general.status_listen == NULL)
		return 0;
	rc = status_http_new(d->base, cfg->general.status_listen, daemon_view, d, out, err,
			     sizeof(err));
	if (rc != 0) {
		log_err("%s", err);
		return MXF_EXIT_USAGE;
	}
	log_info("status on http://%s/ (/api/status, /metrics)", cfg->general.status_listen);
	return 0;
}

static void
round_start(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	struct round *r;
	size_t n = cfg->general.nwitness, k = 0;

	if (d->reload) {
		d->reload = false;
		daemon_reload(d);
		cfg = d->cfg;
		n = cfg->general.nwitness;
	}
	for (size_t s = 0; s < cfg->nservers; s++)
		n += cfg->servers[s].nchecks;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->slots = calloc(n + 1, sizeof(*r->slots))) == NULL) {
		free(r);
		log_err("out of memory: round skipped");
		d->exit_code = MXF_EXIT_DEGRADED;
		event_base_loopbreak(d->base);
		return;
	}
	r->d = d;
	r->nslots = n;
	r->started_ms = r->now_ms = daemon_now_ms();
	d->round = r;
	r->pending = 1; /* held while starting */
	for (size_t s = 0; s <= cfg->nservers; s++) {
		size_t nc = s < cfg->nservers ? cfg->servers[s].nchecks : cfg->general.nwitness;

		for (size_t c = 0; c < nc; c++, k++) {
			struct check_slot *slot = &r->slots[k];
			const char *url = s < cfg->nservers ? cfg->servers[s].checks[c]
							    : cfg->general.witness[c];
			char errbuf[256] = "";

			slot->r = r;
			slot->server = s < cfg->nservers ? s : SIZE_MAX;
			slot->check = c;
			r->pending++;
			if (check_engine_start(d->eng, url, cfg->general.timeout_ms, round_check_cb, slot,
					       errbuf, sizeof(errbuf)) != 0) {
				r->pending--;
				slot->done = true;
				slot->res.state = CHECK_STATE_DOWN;
				snprintf(slot->res.reason, sizeof(slot->res.reason), "cannot run: %.200s", errbuf);
			}
		}
	}
	if (--r->pending == 0)
		round_checks_done(r);
}

/* ---- the loop of `run` ---------------------------------------------------- */

static void
daemon_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (!d->stopping)
		round_start(d);
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s before the next round", d->cfg_path);
		d->reload = true;
		return;
	}
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	d->stopping = true;
	/*
	 * A round that is still checking is abandoned: nothing was decided yet.
	 * One that is reading or updating DNS is let finish (bounded by the DNS
	 * timeout) so no update is left without its read-back and state.
	 */
	if (d->round == NULL || d->round->pending > 0)
		event_base_loopbreak(d->base);
}

/*
 * daemon_build_dns -- the TSIG key and the DNS context for @cfg, built apart
 * from the running ones so a reload can be refused without touching them.
 * @return 0, or an exit code after logging why.
 */
static int
daemon_build_dns(struct event_base *base, const struct config *cfg, struct dns_tsig_key **keyp,
		 struct dns_ops **opsp)
{
	struct dns_tsig_key *key = NULL;
	char err[512] = "";
	int rc;

	*keyp = NULL;
	*opsp = NULL;
	if (cfg->dns.key_file != NULL) {
		rc = dns_keyfile_load(cfg->dns.key_file, NULL, &key, err, sizeof(err));
		if (rc != 0) {
			log_err("%s", err);
			return MXF_EXIT_USAGE;
		}
	}
	rc = dns_ops_new(base, cfg->dns.server, cfg->dns.port, key, cfg->dns.timeout_ms, opsp);
	if (rc != 0) {
		if (rc == MXF_EINVAL)
			log_err("DNS server %s does not resolve to an address", cfg->dns.server);
		else
			log_err("DNS server %s: %s", cfg->dns.server, mxf_strerror(rc));
		dns_tsig_key_free(key);
		return rc == MXF_ENOMEM ? MXF_EXIT_DNS : MXF_EXIT_USAGE;
	}
	*keyp = key;
	return 0;
}

/*
 * Between rounds: swap in a new configuration, keeping health by name.
 * Everything the new configuration needs -- key, DNS context, notifier,
 * status listener, state, backoff memory -- is built first; only when all of
 * it succeeded is it swapped in, so a reload that cannot work is refused and
 * the daemon goes on exactly as before.
 */
static void
daemon_reload(struct daemon *d)
{
	struct config_errors errs = {0};
	struct config *ncfg = NULL, *old = d->cfg;
	struct dns_tsig_key *nkey = NULL;
	struct dns_ops *nops = NULL;
	struct notify *nnotify = NULL;
	struct status_http *nhttp = NULL;
	struct state *nst = NULL;
	uint64_t *nrem = NULL;
	bool notify_new_one, http_new_one;

	if (config_load(d->cfg_path, &ncfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_err("%s:%d: %s", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
		log_err("reload refused: %s has errors; keeping the running configuration",
			d->cfg_path);
		config_errors_free(&errs);
		return;
	}
	config_errors_free(&errs);
	if (!daemon_streq(ncfg->general.state_file, old->general.state_file) ||
	    !daemon_streq(ncfg->general.lock_file, old->general.lock_file)) {
		log_err("reload refused: state_file and lock_file change only with a restart");
		goto refuse;
	}
	if (daemon_build_dns(d->base, ncfg, &nkey, &nops) != 0) {
		log_err("reload refused: the new [dns] cannot be used; keeping the running one");
		goto refuse;
	}
	notify_new_one = !daemon_notify_same(&old->notify, &ncfg->notify);
	if (notify_new_one && daemon_build_notify(d, ncfg, nkey, &nnotify) != 0) {
		log_err("reload refused: the new [notify] cannot be used");
		goto refuse;
	}
	http_new_one = !daemon_streq(old->general.status_listen, ncfg->general.status_listen);
	if (http_new_one && daemon_build_http(d, ncfg, &nhttp) != 0) {
		log_err("reload refused: the new status_listen cannot be used");
		goto refuse;
	}
	nrem = calloc(ncfg->nservers + 1, sizeof(*nrem));
	if (nrem == NULL || state_rebind(d->st, old, ncfg, &nst) != 0) {
		log_err("reload refused: out of memory");
		goto refuse;
	}

	/* Everything is ready: swap.  No exchange is running between rounds. */
	dns_ops_free(d->ops);
	dns_tsig_key_free(d->key);
	d->ops = nops;
	d->key = nkey;
	if (notify_new_one) {
		notify_free(d->notify);
		d->notify = nnotify;
	}
	if (http_new_one) {
		status_http_free(d->http);
		d->http = nhttp;
	}
	free(d->reminder_next);
	d->reminder_next = nrem;
	state_free(d->st);
	d->st = nst;
	d->cfg = ncfg;
	config_free(d->own_cfg);
	d->own_cfg = ncfg;
	/* Follow a rotated or changed log file (logrotate sends SIGHUP). */
	if (log_open(ncfg->general.log, ncfg->format == CONFIG_FORMAT_DNSFAILOVER
						? LOG_STYLE_DNSFAILOVER
						: LOG_STYLE_NATIVE) != 0)
		log_err("cannot open log %s; logging to stderr", ncfg->general.log);
	daemon_notify_active(d);
	log_info("configuration reloaded: %zu servers, %zu groups", ncfg->nservers, ncfg->ngroups);
	return;
refuse:
	status_http_free(nhttp);
	notify_free(nnotify);
	if (nops != NULL)
		dns_ops_free(nops);
	dns_tsig_key_free(nkey);
	free(nrem);
	state_free(nst);
	config_free(ncfg);
}

int
daemon_main(const char *cfg_path, struct config *cfg, enum daemon_mode mode)
{
	struct daemon d = {.cfg_path = cfg_path, .cfg = cfg, .mode = mode, .lock_fd = -1};
	char err[512] = "";
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (mode != DAEMON_PLAN) {
		d.lock_fd = daemon_lock(cfg->general.lock_file);
		if (d.lock_fd == -1) {
			log_err("another mxfailover holds the lock %s", cfg->general.lock_file);
			return MXF_EXIT_LOCKED;
		}
		if (d.lock_fd < 0)
			return MXF_EXIT_USAGE;
	}
	rc = state_load(cfg->general.state_file, cfg, &d.st, err, sizeof(err));
	if (rc != 0) {
		if (rc != MXF_ENOTFOUND)
			log_warn("%s; starting afresh and rebuilding from DNS", err);
		if (state_new(cfg, &d.st) != 0) {
			rc = MXF_EXIT_USAGE;
			goto out;
		}
	}
	d.base = event_base_new();
	d.eng = d.base != NULL ? check_engine_new(d.base) : NULL;
	d.reminder_next = calloc(cfg->nservers + 1, sizeof(*d.reminder_next));
	if (d.eng == NULL || d.reminder_next == NULL) {
		log_err("cannot set up the event loop");
		rc = MXF_EXIT_USAGE;
		goto out;
	}
	rc = daemon_build_dns(d.base, cfg, &d.key, &d.ops);
	if (rc != 0)
		goto out;
	d.timer = evtimer_new(d.base, daemon_timer_cb, &d);
	d.drain_ev = evtimer_new(d.base, daemon_drain_cb, &d);
	d.ctr.started_ms = daemon_now_ms();
	rc = daemon_build_notify(&d, cfg, d.key, &d.notify);
	if (rc != 0)
		goto out;
	daemon_notify_active(&d);
	rc = daemon_build_http(&d, cfg, &d.http);
	if (rc != 0)
		goto out;
	if (mode == DAEMON_RUN) {
		d.sigterm = evsignal_new(d.base, SIGTERM, daemon_signal_cb, &d);
		d.sigint = evsignal_new(d.base, SIGINT, daemon_signal_cb, &d);
		d.sighup = evsignal_new(d.base, SIGHUP, daemon_signal_cb, &d);
		evsignal_add(d.sigterm, NULL);
		evsignal_add(d.sigint, NULL);
		evsignal_add(d.sighup, NULL);
		log_info("started: %zu servers, %zu groups, interval %llu ms", cfg->nservers,
			 cfg->ngroups, (unsigned long long)cfg->general.interval_ms);
	}
	round_start(&d);
	if (d.round != NULL || mode == DAEMON_RUN)
		event_base_dispatch(d.base);
	rc = mode == DAEMON_RUN ? MXF_EXIT_OK : d.exit_code;
	if (mode == DAEMON_RUN)
		log_info("stopped");
out:
	if (d.round != NULL) {
		/* Abandoned on SIGTERM while checking: cancel the checks first. */
		check_engine_free(d.eng);
		d.eng = NULL;
		round_free(d.round);
	}
	status_http_free(d.http);
	while (d.etrn_jobs != NULL) {
		struct etrn_job *job = d.etrn_jobs;

		d.etrn_jobs = job->next;
		etrn_cancel(job->t);
		free(job->group);
		free(job->server);
		free(job);
	}
	notify_free(d.notify);
	free(d.reminder_next);
	if (d.drain_ev != NULL)
		event_free(d.drain_ev);
	if (d.timer != NULL)
		event_free(d.timer);
	if (d.sigterm != NULL)
		event_free(d.sigterm);
	if (d.sigint != NULL)
		event_free(d.sigint);
	if (d.sighup != NULL)
		event_free(d.sighup);
	check_engine_free(d.eng);
	if (d.ops != NULL)
		dns_ops_free(d.ops);
	dns_tsig_key_free(d.key);
	state_free(d.st);
	if (d.base != NULL)
		event_base_free(d.base);
	config_free(d.own_cfg);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	return rc;
}
