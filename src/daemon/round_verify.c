/*
 * round_verify.c -- which zones a round reads record by record: the pure
 * decision (round_verify_decide/answer) and the SOA queries; see
 * round_verify.h.
 */
#include "round_verify.h"

#include <stdlib.h>

#include <ldns/ldns.h>

#include "dns_update.h"
#include "log.h"
#include "round.h"
#include "mxf.h"

enum round_verify_action
round_verify_decide(const struct round_verify_zone *z, uint64_t now_ms, uint64_t interval_ms)
{
	if (z->dirty || !z->serial_known || z->checked_ms == 0)
		return ROUND_VERIFY_READ;
	/* A clock set back counts as due: better one query too many. */
	if (now_ms < z->checked_ms || now_ms - z->checked_ms >= interval_ms)
		return ROUND_VERIFY_SOA;
	return ROUND_VERIFY_CACHED;
}

bool
round_verify_answer(struct round_verify_zone *z, enum round_verify_action action, bool ok,
		    uint32_t serial, uint64_t now_ms)
{
	bool changed = !ok || !z->serial_known || z->serial != serial;

	z->checked_ms = now_ms;
	z->serial_known = ok;
	z->serial = ok ? serial : 0;
	/* The records read next clear it; a failed read sets it again. */
	z->dirty = false;
	return action == ROUND_VERIFY_READ || changed;
}

void
round_verify_free(struct round_verify *vf)
{
	if (vf == NULL)
		return;
	for (size_t g = 0; g < vf->cfg->ngroups; g++) {
		if (vf->dns != NULL)
			failover_dns_free(vf->dns[g]);
		if (vf->zones != NULL)
			free(vf->zones[g]);
	}
	free(vf->dns);
	free(vf->zones);
	free(vf);
}

int
round_verify_fit(struct round_verify **vf, const struct config *cfg)
{
	struct round_verify *v;

	if (*vf != NULL && (*vf)->cfg == cfg)
		return 0;
	round_verify_free(*vf);
	*vf = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return MXF_ENOMEM;
	v->cfg = cfg;
	v->dns = calloc(cfg->ngroups + 1, sizeof(*v->dns));
	v->zones = calloc(cfg->ngroups + 1, sizeof(*v->zones));
	if (v->dns == NULL || v->zones == NULL)
		goto fail;
	for (size_t g = 0; g < cfg->ngroups; g++) {
		v->zones[g] = calloc(cfg->groups[g].nzones + 1, sizeof(*v->zones[g]));
		if (v->zones[g] == NULL || failover_dns_new(cfg, g, &v->dns[g]) != 0)
			goto fail;
	}
	*vf = v;
	return 0;
fail:
	round_verify_free(v);
	return MXF_ENOMEM;
}

void
round_verify_dirty(struct round_verify *vf, size_t g, size_t z)
{
	if (vf != NULL)
		vf->zones[g][z].dirty = true;
}

void
round_verify_wrote(struct round_verify *vf, size_t g, size_t z)
{
	if (vf != NULL)
		vf->zones[g][z].serial_known = false;
}

void
round_verify_prereq(const struct failover_rec_view *v, const char *zone, const char *label,
		    ldns_rr_type type, ldns_rdf **owner, ldns_rr_list **expected)
{
	char *name = failover_owner_name(zone, label);
	char err[256];

	*owner = name != NULL ? ldns_dname_new_frm_str(name) : NULL;
	free(name);
	if (*owner == NULL || v->status != FAILOVER_REC_PRESENT || v->nvalues == 0)
		return;
	if (dns_update_rrs_from_text(*owner, type, v->ttl >= 0 ? (uint32_t)v->ttl : 0,
				     (const char *const *)v->values, v->nvalues, expected, err,
				     sizeof(err)) != 0)
		*expected = NULL;
}

void
round_verify_log_reads(const struct round_env *env, const struct failover_dns *dns, size_t g)
{
	const struct config_group *gr = &env->cfg->groups[g];

	for (size_t z = 0; z < gr->nzones; z++) {
		const struct failover_rec_view *bad = NULL;
		size_t badrec = 0;
		int news;

		for (size_t rec = 0; rec < gr->nrecords && bad == NULL; rec++) {
			if (dns->zones[z].recs[rec].status == FAILOVER_REC_FAILED) {
				bad = &dns->zones[z].recs[rec];
				badrec = rec;
			}
		}
		if (env->mode == DAEMON_PLAN)
			continue;
		news = failover_zone_read(env->st->failover, g, z, bad != NULL);
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

/*
 * The SOA queries of one round; freed when the last answer is in.  At most
 * RV_WINDOW zones are being asked at a time: each answer's record reads
 * queue behind the SOA queries already sent, so the queue (and the memory
 * a round holds at 10,000 zones) stays bounded instead of holding every
 * query of the round at once.
 */
#define RV_WINDOW 128

struct rv_run {
	struct round_verify *vf;
	const struct config *cfg;
	struct dns_ops *ops;
	uint64_t now_ms;
	void (*read)(void *arg, size_t g, size_t z);
	void (*done)(void *arg);
	void *arg;
	size_t g, z;   /* the next zone to decide */
	size_t active; /* SOA queries in flight */
	struct rv_slot *slots; /* [RV_WINDOW] */
};

struct rv_slot {
	struct rv_run *run;
	size_t g, z;
	enum round_verify_action action;
	ldns_rdf *apex; /* NULL: the slot is free */
};

static void rv_pump(struct rv_run *run);

/* The serial of @apex's SOA in @reply's answer; false when there is none. */
static bool
rv_serial(const ldns_pkt *reply, const ldns_rdf *apex, uint32_t *serial)
{
	ldns_rr_list *an = reply != NULL ? ldns_pkt_answer(reply) : NULL;

	if (an == NULL || ldns_pkt_get_rcode(reply) != LDNS_RCODE_NOERROR)
		return false;
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) >= 3 &&
		    ldns_dname_compare(ldns_rr_owner(rr), apex) == 0) {
			*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
			return true;
		}
	}
	return false;
}

static void
rv_soa_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct rv_slot *s = arg;
	struct rv_run *run = s->run;
	uint32_t serial = 0;
	bool ok = status == 0 && rv_serial(reply, s->apex, &serial);

	(void)rcode;
	if (!ok)
		log_debug("%s: no SOA serial (%s); reading its records",
			  run->cfg->groups[s->g].zones[s->z],
			  msg != NULL ? msg : "no SOA in the answer");
	ldns_rdf_deep_free(s->apex);
	s->apex = NULL;
	run->active--;
	if (round_verify_answer(&run->vf->zones[s->g][s->z], s->action, ok, serial, run->now_ms))
		run->read(run->arg, s->g, s->z);
	rv_pump(run);
}

/* A free slot (one exists while active < RV_WINDOW). */
static struct rv_slot *
rv_free_slot(struct rv_run *run)
{
	for (size_t i = 0; i < RV_WINDOW; i++)
		if (run->slots[i].apex == NULL)
			return &run->slots[i];
	return NULL;
}

/* Start zones until the window is full; the last answer ends the run. */
static void
rv_pump(struct rv_run *run)
{
	const struct config *cfg = run->cfg;

	while (run->active < RV_WINDOW && run->g < cfg->ngroups) {
		size_t g = run->g, z = run->z;
		struct round_verify_zone *zs;
		enum round_verify_action action;
		struct rv_slot *s;

		if (z >= cfg->groups[g].nzones) {
			run->g++;
			run->z = 0;
			continue;
		}
		run->z++;
		zs = &run->vf->zones[g][z];
		action = round_verify_decide(zs, run->now_ms, cfg->dns.verify_interval_ms);
		if (action == ROUND_VERIFY_CACHED)
			continue;
		s = rv_free_slot(run);
		*s = (struct rv_slot){run, g, z, action, ldns_dname_new_frm_str(cfg->groups[g].zones[z])};
		if (s->apex != NULL &&
		    dns_ops_read(run->ops, s->apex, LDNS_RR_TYPE_SOA, rv_soa_cb, s) == 0) {
			run->active++;
			continue;
		}
		ldns_rdf_deep_free(s->apex);
		s->apex = NULL;
		round_verify_answer(zs, action, false, 0, run->now_ms);
		run->read(run->arg, g, z);
	}
	if (run->active == 0 && run->g >= cfg->ngroups) {
		run->done(run->arg);
		free(run->slots);
		free(run);
	}
}

void
round_verify_start(struct round_verify *vf, const struct config *cfg, struct dns_ops *ops,
		   uint64_t now_ms, void (*read)(void *arg, size_t g, size_t z),
		   void (*done)(void *arg), void *arg)
{
	struct rv_run *run = vf != NULL ? calloc(1, sizeof(*run)) : NULL;

	if (run != NULL && (run->slots = calloc(RV_WINDOW, sizeof(*run->slots))) == NULL) {
		free(run);
		run = NULL;
	}
	if (run == NULL) { /* no memory kept, or none to spare: read them all */
		for (size_t g = 0; g < cfg->ngroups; g++)
			for (size_t z = 0; z < cfg->groups[g].nzones; z++)
				read(arg, g, z);
		done(arg);
		return;
	}
	*run = (struct rv_run){vf, cfg, ops, now_ms, read, done, arg, 0, 0, 0, run->slots};
	rv_pump(run);
}
