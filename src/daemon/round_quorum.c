/*
 * round_quorum.c -- publish this monitor's view, read the others', decide;
 * see round_quorum.h.  The decision and the record format are quorum.c's;
 * this file turns them into TXT records and exchanges with the primary.
 */
#include "round_quorum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "clock.h"
#include "dns_apply.h"
#include "dns_view.h"
#include "log.h"
#include "mxf.h"
#include "quorum.h"

/* The TTL of a view record: readers ask the primary, never a cache. */
#define ROUND_QUORUM_TTL 60

struct rq_read {
	struct round_quorum *rq;
	size_t monitor;
	bool done, ok;
	struct quorum_view view;
	bool has_view;
	char err[256];
};

struct rq_switch {
	long to;	  /* server, -1 none yet */
	uint64_t at_ms;	  /* wall clock */
	char agreed[512]; /* the monitors whose fresh views saw it UP */
};

struct round_quorum {
	const struct config *cfg;
	struct quorum *q;
	char boot[17];
	ldns_rdf *zone;
	ldns_rdf **names;	   /* [nmonitors]: ID._mxfailover.ZONE */
	enum health_state *states; /* [nservers]: the decision */
	enum health_state *prev;   /* [nservers]: the one before */
	bool changed;
	int transition; /* quorum_check's last answer, for the events */
	size_t fresh;
	/* the round in progress */
	struct rq_read *reads; /* [nmonitors]; self unused */
	size_t pending;
	bool publishing;
	struct dns_apply_item item;
	uint64_t mono_ms;
	void (*done)(void *arg);
	void *arg;
	struct rq_switch *switches; /* [ngroups] */
	bool warned_read[QUORUM_MONITORS_MAX];
	bool warned_publish;
};

int
round_quorum_new(const struct config *cfg, struct round_quorum **out)
{
	const struct config_quorum *qc = &cfg->quorum;
	struct round_quorum *rq;
	uint8_t nonce[8] = {0};
	char name[512];

	*out = NULL;
	if (!qc->enabled || qc->nmonitors == 0 || qc->nmonitors > QUORUM_MONITORS_MAX)
		return MXF_EINVAL;
	rq = calloc(1, sizeof(*rq));
	if (rq == NULL)
		return MXF_ENOMEM;
	rq->cfg = cfg;
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce)) {
		uint64_t t = clock_mono_ms() ^ ((uint64_t)getpid() << 32) ^ clock_wall_ms();
		memcpy(nonce, &t, sizeof(nonce));
	}
	for (size_t i = 0; i < sizeof(nonce); i++)
		snprintf(rq->boot + 2 * i, 3, "%02x", nonce[i]);
	rq->zone = ldns_dname_new_frm_str(qc->zone);
	rq->names = calloc(qc->nmonitors, sizeof(*rq->names));
	rq->reads = calloc(qc->nmonitors, sizeof(*rq->reads));
	rq->states = calloc(cfg->nservers + 1, sizeof(*rq->states));
	rq->prev = calloc(cfg->nservers + 1, sizeof(*rq->prev));
	rq->switches = calloc(cfg->ngroups + 1, sizeof(*rq->switches));
	if (rq->zone == NULL || rq->names == NULL || rq->reads == NULL || rq->states == NULL ||
	    rq->prev == NULL || rq->switches == NULL)
		goto nomem;
	for (size_t g = 0; g < cfg->ngroups; g++)
		rq->switches[g].to = -1;
	for (size_t i = 0; i < qc->nmonitors; i++) {
		snprintf(name, sizeof(name), "%s._mxfailover.%s", qc->monitors[i], qc->zone);
		rq->names[i] = ldns_dname_new_frm_str(name);
		if (rq->names[i] == NULL) {
			round_quorum_free(rq);
			return MXF_EINVAL;
		}
	}
	if (quorum_new(cfg, rq->boot, clock_mono_ms(), &rq->q) != 0)
		goto nomem;
	*out = rq;
	return 0;
nomem:
	round_quorum_free(rq);
	return MXF_ENOMEM;
}

int
round_quorum_reload(const struct round_quorum *rq, const struct config *ncfg,
		    struct round_quorum **out)
{
	int e;

	*out = NULL;
	/* The last switches are kept per group: the groups must be the same. */
	bool same = rq != NULL && quorum_config_same(rq->cfg, ncfg) &&
		    rq->cfg->ngroups == ncfg->ngroups;
	for (size_t g = 0; same && g < ncfg->ngroups; g++)
		same = strcmp(rq->cfg->groups[g].id, ncfg->groups[g].id) == 0;
	if (same)
		return 0;
	e = round_quorum_new(ncfg, out);
	if (e == 0 && rq != NULL)
		quorum_carry((*out)->q, rq->q);
	return e;
}

void
round_quorum_rebind(struct round_quorum *rq, const struct config *ncfg)
{
	rq->cfg = ncfg;
	quorum_rebind(rq->q, ncfg);
}

void
round_quorum_free(struct round_quorum *rq)
{
	if (rq == NULL)
		return;
	for (size_t i = 0; rq->names != NULL && i < rq->cfg->quorum.nmonitors; i++)
		ldns_rdf_deep_free(rq->names[i]);
	for (size_t i = 0; rq->reads != NULL && i < rq->cfg->quorum.nmonitors; i++)
		quorum_view_clear(&rq->reads[i].view);
	free(rq->names);
	free(rq->reads);
	ldns_rdf_deep_free(rq->zone);
	dns_apply_item_clear(&rq->item);
	quorum_free(rq->q);
	free(rq->states);
	free(rq->prev);
	free(rq->switches);
	free(rq);
}

/* Everything is in: observe, decide, tell the round. */
static void
rq_finish(struct round_quorum *rq)
{
	const struct config *cfg = rq->cfg;
	void (*done)(void *) = rq->done;

	for (size_t i = 0; i < cfg->quorum.nmonitors; i++) {
		struct rq_read *rd = &rq->reads[i];

		if (i == cfg->quorum.self || !rd->done)
			continue;
		quorum_observe(rq->q, i, rd->has_view ? &rd->view : NULL, rd->ok, rq->mono_ms);
		if (!rd->ok && !rq->warned_read[i])
			log_warn("quorum: cannot read the view of monitor %s: %s",
				 cfg->quorum.monitors[i], rd->err);
		else if (rd->ok && rq->warned_read[i])
			log_info("quorum: the view of monitor %s is readable again",
				 cfg->quorum.monitors[i]);
		rq->warned_read[i] = !rd->ok;
	}
	memcpy(rq->prev, rq->states, cfg->nservers * sizeof(*rq->states));
	rq->fresh = (size_t)quorum_decide(rq->q, rq->mono_ms, rq->states);
	rq->changed = memcmp(rq->prev, rq->states, cfg->nservers * sizeof(*rq->states)) != 0;
	rq->transition = quorum_check(rq->q, rq->mono_ms);
	for (size_t s = 0; rq->changed && s < cfg->nservers; s++)
		if (rq->prev[s] != rq->states[s])
			log_info("quorum: server %s is %s by agreement (%zu of %zu monitors "
				 "fresh, need %u)",
				 cfg->servers[s].id,
				 rq->states[s] == HEALTH_UP	? "up"
				 : rq->states[s] == HEALTH_DOWN ? "down"
								: "unknown",
				 rq->fresh, cfg->quorum.nmonitors, cfg->quorum.need);
	rq->done = NULL;
	if (done != NULL)
		done(rq->arg);
}

static void
rq_step_done(struct round_quorum *rq)
{
	if (--rq->pending == 0)
		rq_finish(rq);
}

static void
rq_read_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct rq_read *rd = arg;
	struct round_quorum *rq = rd->rq;
	struct dns_view view = {0};

	(void)rcode;
	rd->done = true;
	if (status != 0) {
		snprintf(rd->err, sizeof(rd->err), "%s", msg != NULL ? msg : mxf_strerror(status));
	} else if (dns_view_answer(reply, rq->names[rd->monitor], LDNS_RR_TYPE_TXT, &view) != 0) {
		snprintf(rd->err, sizeof(rd->err), "out of memory");
	} else if (view.verdict == DNS_VIEW_ABSENT) {
		rd->ok = true; /* no view published (yet): not fresh */
	} else if (view.verdict != DNS_VIEW_PRESENT) {
		snprintf(rd->err, sizeof(rd->err), "%s", view.msg);
	} else {
		ldns_rr *rr = ldns_rr_list_rr(view.rrs, 0);
		size_t n = ldns_rr_rd_count(rr);
		const char **strs = calloc(n + 1, sizeof(*strs));
		size_t *lens = calloc(n + 1, sizeof(*lens));
		char err[256] = "";

		rd->ok = true;
		for (size_t i = 0; strs != NULL && lens != NULL && i < n; i++) {
			const ldns_rdf *f = ldns_rr_rdf(rr, i);
			const uint8_t *d = ldns_rdf_data(f);

			if (ldns_rdf_size(f) < 1 || (size_t)d[0] + 1 > ldns_rdf_size(f)) {
				n = i;
				break;
			}
			strs[i] = (const char *)d + 1;
			lens[i] = d[0];
		}
		if (strs == NULL || lens == NULL) {
			rd->ok = false;
			snprintf(rd->err, sizeof(rd->err), "out of memory");
		} else if (ldns_rr_list_rr_count(view.rrs) != 1) {
			log_debug("quorum: monitor %s: %zu records, one expected: not counted",
				  rq->cfg->quorum.monitors[rd->monitor],
				  ldns_rr_list_rr_count(view.rrs));
		} else if (quorum_view_init(&rd->view, rq->cfg) != 0) {
			rd->ok = false;
			snprintf(rd->err, sizeof(rd->err), "out of memory");
		} else if (quorum_view_parse(rq->cfg, strs, lens, n, &rd->view, err, sizeof(err)) !=
			   0) {
			log_debug("quorum: monitor %s: %s: not counted",
				  rq->cfg->quorum.monitors[rd->monitor], err);
		} else {
			rd->has_view = true;
		}
		free(strs);
		free(lens);
	}
	dns_view_clear(&view);
	rq_step_done(rq);
}

static void
rq_publish_cb(void *arg)
{
	struct round_quorum *rq = arg;
	bool ok = rq->item.status == 0;

	rq->publishing = false;
	quorum_published(rq->q, ok, rq->mono_ms);
	if (!ok && !rq->warned_publish)
		log_warn("quorum: cannot publish this monitor's view: %s; it does not count "
			 "until it can",
			 rq->item.msg);
	else if (ok && rq->warned_publish)
		log_info("quorum: this monitor's view is published again");
	rq->warned_publish = !ok;
	dns_apply_item_clear(&rq->item);
	rq_step_done(rq);
}

/* The view as one TXT record of ROUND_QUORUM_TTL at this monitor's name. */
static ldns_rr_list *
rq_view_rrs(const struct round_quorum *rq, const struct quorum_view *v)
{
	char **strs = NULL;
	size_t n = 0;
	ldns_rr *rr;
	ldns_rr_list *list = NULL;

	if (quorum_view_format(rq->cfg, v, &strs, &n) != 0)
		return NULL;
	rr = ldns_rr_new();
	if (rr == NULL)
		goto out;
	ldns_rr_set_owner(rr, ldns_rdf_clone(rq->names[rq->cfg->quorum.self]));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ROUND_QUORUM_TTL);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(strs[i]);
		uint8_t buf[256];

		if (l > 255) {
			ldns_rr_free(rr);
			goto out;
		}
		buf[0] = (uint8_t)l;
		memcpy(buf + 1, strs[i], l);
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, l + 1, buf));
	}
	list = ldns_rr_list_new();
	if (list == NULL || !ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		ldns_rr_list_free(list);
		list = NULL;
	}
out:
	quorum_strs_free(strs, n);
	return list;
}

void
round_quorum_start(struct round_quorum *rq, struct dns_ops *ops, const struct health *h,
		   bool isolated, uint64_t now_wall_ms, void (*done)(void *arg), void *arg)
{
	const struct config *cfg = rq->cfg;
	enum health_state *own = calloc(cfg->nservers + 1, sizeof(*own));
	struct quorum_view v;

	rq->done = done;
	rq->arg = arg;
	rq->mono_ms = clock_mono_ms();
	rq->pending = 1; /* held while starting */
	if (own == NULL) {
		log_err("out of memory");
		rq_step_done(rq);
		return;
	}
	for (size_t s = 0; s < cfg->nservers; s++)
		own[s] = isolated ? HEALTH_UNKNOWN : health_effective(h, s, now_wall_ms);
	if (quorum_view_init(&v, cfg) != 0) {
		log_err("out of memory");
		free(own);
		rq_step_done(rq);
		return;
	}
	if (!rq->publishing && quorum_own(rq->q, own, rq->mono_ms, now_wall_ms / 1000, &v) == 1) {
		dns_apply_item_clear(&rq->item);
		rq->item.owner = ldns_rdf_clone(rq->names[cfg->quorum.self]);
		rq->item.type = LDNS_RR_TYPE_TXT;
		rq->item.new_rrs = rq_view_rrs(rq, &v);
		rq->item.ttl = ROUND_QUORUM_TTL;
		rq->item.expect = DNS_APPLY_EXPECT_NONE;
		rq->item.zone = ldns_rdf_clone(rq->zone);
		if (rq->item.owner == NULL || rq->item.new_rrs == NULL || rq->item.zone == NULL) {
			log_err("quorum: cannot build this monitor's view");
			quorum_published(rq->q, false, rq->mono_ms);
		} else {
			rq->pending++;
			rq->publishing = true;
			if (dns_apply_start(ops, cfg, &rq->item, 1, ROUND_QUORUM_TTL, rq_publish_cb,
					    rq) != 0) {
				rq->pending--;
				rq->publishing = false;
				quorum_published(rq->q, false, rq->mono_ms);
			}
		}
	}
	quorum_view_clear(&v);
	free(own);
	for (size_t i = 0; i < cfg->quorum.nmonitors; i++) {
		struct rq_read *rd = &rq->reads[i];

		quorum_view_clear(&rd->view);
		*rd = (struct rq_read){.rq = rq, .monitor = i};
		if (i == cfg->quorum.self)
			continue;
		rq->pending++;
		if (dns_ops_read(ops, rq->names[i], LDNS_RR_TYPE_TXT, rq_read_cb, rd) != 0) {
			rq->pending--;
			rd->done = true;
			snprintf(rd->err, sizeof(rd->err), "cannot send the query");
		}
	}
	rq_step_done(rq);
}

const enum health_state *
round_quorum_states(const struct round_quorum *rq)
{
	return rq->states;
}

bool
round_quorum_changed(const struct round_quorum *rq)
{
	return rq->changed;
}

/* The monitors not fresh now, with why, for the events: "b (stale 95 s) c
 * (never seen)". */
static void
rq_missing(const struct round_quorum *rq, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < rq->cfg->quorum.nmonitors && used < len; i++) {
		struct quorum_monitor_status ms;
		char why[64];

		if (quorum_monitor(rq->q, i, rq->mono_ms, &ms) != 0 || ms.fresh)
			continue;
		if (ms.self)
			snprintf(why, sizeof(why), "this monitor, view not published");
		else if (!ms.seen)
			snprintf(why, sizeof(why), "never seen advancing");
		else
			snprintf(why, sizeof(why), "stale %llu s",
				 (unsigned long long)(ms.age_ms / 1000));
		int w = snprintf(out + used, len - used, "%s%s (%s)", used ? ", " : "", ms.id, why);
		used = w < 0 ? len : used + (size_t)w;
	}
}

int
round_quorum_events(struct round_quorum *rq, uint64_t now_wall_ms, struct failover_events *ev)
{
	const struct config_quorum *qc = &rq->cfg->quorum;
	struct failover_event e = {.at_ms = now_wall_ms,
				   .group = -1,
				   .server = -1,
				   .from = -1,
				   .to = -1,
				   .zone = -1,
				   .record = -1};
	char missing[FAILOVER_DETAIL_MAX / 2];

	if (rq->transition == 0)
		return 0;
	rq_missing(rq, missing, sizeof(missing));
	if (rq->transition < 0) {
		e.type = FAILOVER_EV_QUORUM_LOST;
		snprintf(e.detail, sizeof(e.detail),
			 "quorum lost: %zu of %zu monitors fresh, %u needed; nothing switches "
			 "(%s)",
			 rq->fresh, qc->nmonitors, qc->need, missing);
	} else {
		e.type = FAILOVER_EV_QUORUM_BACK;
		snprintf(e.detail, sizeof(e.detail),
			 "quorum back: %zu of %zu monitors fresh, %u needed", rq->fresh,
			 qc->nmonitors, qc->need);
	}
	rq->transition = 0;
	return failover_events_push(ev, &e) == 0 ? 1 : MXF_ENOMEM;
}

void
round_quorum_note_switch(struct round_quorum *rq, size_t group, long server, uint64_t now_wall_ms)
{
	struct rq_switch *sw;

	if (group >= rq->cfg->ngroups || server < 0 || (size_t)server >= rq->cfg->nservers)
		return;
	sw = &rq->switches[group];
	sw->to = server;
	sw->at_ms = now_wall_ms;
	quorum_agreeing(rq->q, rq->mono_ms, (size_t)server, HEALTH_UP, sw->agreed,
			sizeof(sw->agreed));
}

static const char *
rq_state_name(enum health_state s)
{
	return s == HEALTH_UP ? "up" : s == HEALTH_DOWN ? "down" : "unknown";
}

json_t *
round_quorum_json(const struct round_quorum *rq, uint64_t now_wall_ms)
{
	const struct config *cfg = rq->cfg;
	json_t *o = json_object(), *mons = json_array(), *dec = json_object(),
	       *last = json_object();
	/* Everything as of the last decision, so that "have", "fresh" and each
	 * monitor's freshness agree with one another. */
	uint64_t mono = rq->mono_ms;

	(void)now_wall_ms;
	if (o == NULL || mons == NULL || dec == NULL || last == NULL)
		goto nomem;
	json_object_set_new(o, "id", json_string(cfg->quorum.id));
	json_object_set_new(o, "need", json_integer(cfg->quorum.need));
	json_object_set_new(o, "zone", json_string(cfg->quorum.zone));
	json_object_set_new(o, "have", json_boolean(rq->fresh >= cfg->quorum.need));
	json_object_set_new(o, "fresh", json_integer((json_int_t)rq->fresh));
	for (size_t i = 0; i < cfg->quorum.nmonitors; i++) {
		struct quorum_monitor_status ms;
		json_t *m = json_object(), *views = json_object();

		if (m == NULL || views == NULL || quorum_monitor(rq->q, i, mono, &ms) != 0) {
			json_decref(m);
			json_decref(views);
			goto nomem;
		}
		json_object_set_new(m, "id", json_string(ms.id));
		json_object_set_new(m, "self", json_boolean(ms.self));
		json_object_set_new(m, "fresh", json_boolean(ms.fresh));
		json_object_set_new(m, "seen", json_boolean(ms.seen));
		json_object_set_new(m, "age_ms",
				    ms.age_ms == UINT64_MAX ? json_null()
							    : json_integer((json_int_t)ms.age_ms));
		json_object_set_new(m, "seq",
				    json_integer(ms.seq > (uint64_t)INT64_MAX
							 ? (json_int_t)INT64_MAX
							 : (json_int_t)ms.seq));
		json_object_set_new(m, "boot", json_string(ms.boot));
		json_object_set_new(m, "at",
				    ms.has_at ? json_integer((json_int_t)ms.at_s) : json_null());
		json_object_set_new(m, "read_error", json_boolean(ms.read_error));
		for (size_t s = 0; ms.states != NULL && s < cfg->nservers; s++)
			json_object_set_new(views, cfg->servers[s].id,
					    json_string(rq_state_name(ms.states[s])));
		json_object_set_new(m, "views", views);
		json_array_append_new(mons, m);
	}
	for (size_t s = 0; s < cfg->nservers; s++)
		json_object_set_new(dec, cfg->servers[s].id,
				    json_string(rq_state_name(rq->states[s])));
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct rq_switch *sw = &rq->switches[g];
		json_t *w, *agreed;
		char buf[sizeof(sw->agreed)], *save = NULL;

		if (sw->to < 0)
			continue;
		w = json_object();
		agreed = json_array();
		if (w == NULL || agreed == NULL) {
			json_decref(w);
			json_decref(agreed);
			goto nomem;
		}
		snprintf(buf, sizeof(buf), "%s", sw->agreed);
		for (char *t = strtok_r(buf, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
			json_array_append_new(agreed, json_string(t));
		json_object_set_new(w, "to", json_string(cfg->servers[sw->to].id));
		json_object_set_new(w, "at", json_integer((json_int_t)(sw->at_ms / 1000)));
		json_object_set_new(w, "agreed", agreed);
		json_object_set_new(last, cfg->groups[g].id, w);
	}
	json_object_set_new(o, "monitors", mons);
	json_object_set_new(o, "decision", dec);
	json_object_set_new(o, "last_switch", last);
	return o;
nomem:
	json_decref(o);
	json_decref(mons);
	json_decref(dec);
	json_decref(last);
	return NULL;
}
