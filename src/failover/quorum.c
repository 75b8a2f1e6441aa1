/*
 * quorum.c -- the tracker of the monitors' views: our own (what we hold,
 * what we published and when), the others' (what we read and when it was
 * last seen advancing), the decision they make together and the
 * transitions of having quorum.  The rules are in quorum.h.
 *
 * Every time here is this monitor's monotonic clock, passed in; no
 * publisher's clock is ever compared with ours.
 */
#include <stdlib.h>
#include <string.h>

#include "mxf.h"
#include "quorum.h"
#include "quorum_impl.h"

/* Another monitor, as read. */
struct quorum_peer {
	struct quorum_view view; /* the last view that was seen first or advancing */
	bool seen;		 /* view holds something */
	bool advanced;		 /* (boot, seq) was seen changing at least once */
	uint64_t advanced_ms;	 /* when it last was */
	bool read_error;	 /* the last read failed */
	bool absent;		 /* the last read found no valid record */
};

struct quorum {
	const struct config *cfg;
	size_t nservers;
	size_t self;
	unsigned need;
	uint64_t stale_ms, heartbeat_ms;
	uint64_t created_ms;
	char boot[QUORUM_BOOT_LEN + 1];

	/* Our own view. */
	enum health_state *held; /* the states of the last quorum_own() */
	bool held_set;
	struct quorum_view published; /* the last view published successfully */
	bool published_ever;
	uint64_t published_ms;	    /* when */
	struct quorum_view pending; /* handed out, result not yet known */
	bool pending_set;
	bool last_failed;  /* the last attempt failed */
	uint64_t last_seq; /* the highest seq ever handed out */

	/* The others; peers[self] is unused. */
	struct quorum_peer *peers;

	/* quorum_check()'s memory. */
	bool had;	    /* quorum was had at the last check */
	bool lost_reported; /* QUORUM_LOST was returned, no BACK since */
};

/* now - then, 0 when the clock is behind @then (it should not be). */
static uint64_t
quorum_since(uint64_t now, uint64_t then)
{
	return now >= then ? now - then : 0;
}

static void
quorum_copy_states(const struct quorum *q, enum health_state *dst, const enum health_state *src)
{
	memcpy(dst, src, q->nservers * sizeof(*dst));
}

static void
quorum_copy_view(const struct quorum *q, struct quorum_view *dst, const struct quorum_view *src)
{
	memcpy(dst->boot, src->boot, sizeof(dst->boot));
	dst->boot[QUORUM_BOOT_LEN] = '\0';
	dst->seq = src->seq;
	dst->has_at = src->has_at;
	dst->at_s = src->at_s;
	quorum_copy_states(q, dst->states, src->states);
}

static bool
quorum_states_equal(const struct quorum *q, const enum health_state *a, const enum health_state *b)
{
	return memcmp(a, b, q->nservers * sizeof(*a)) == 0;
}

static int
quorum_validate(const struct config *cfg, const char *boot)
{
	const struct config_quorum *c = &cfg->quorum;

	if (!c->enabled || c->nmonitors == 0 || c->self >= c->nmonitors || c->need == 0 ||
	    c->need > c->nmonitors || c->heartbeat_ms == 0 || c->stale_ms == 0 ||
	    c->monitors == NULL || boot == NULL ||
	    !quorum_boot_valid(boot, strnlen(boot, QUORUM_BOOT_LEN + 1)))
		return MXF_EINVAL;
	for (size_t i = 0; i < cfg->nservers; i++)
		if (!quorum_server_id_valid(cfg->servers[i].id))
			return MXF_EINVAL;
	return 0;
}

int
quorum_new(const struct config *cfg, const char boot[QUORUM_BOOT_LEN + 1], uint64_t now_ms,
	   struct quorum **out)
{
	struct quorum *q;
	int e = quorum_validate(cfg, boot);

	if (e != 0)
		return e;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return MXF_ENOMEM;
	q->cfg = cfg;
	q->nservers = cfg->nservers;
	q->self = cfg->quorum.self;
	q->need = cfg->quorum.need;
	q->stale_ms = cfg->quorum.stale_ms;
	q->heartbeat_ms = cfg->quorum.heartbeat_ms;
	q->created_ms = now_ms;
	memcpy(q->boot, boot, QUORUM_BOOT_LEN);
	q->boot[QUORUM_BOOT_LEN] = '\0';
	q->held = mxf_calloc(cfg->nservers, sizeof(*q->held));
	q->peers = mxf_calloc(cfg->quorum.nmonitors, sizeof(*q->peers));
	if (q->held == NULL || q->peers == NULL)
		goto fail;
	if (quorum_view_init(&q->published, cfg) != 0 || quorum_view_init(&q->pending, cfg) != 0)
		goto fail;
	for (size_t i = 0; i < cfg->quorum.nmonitors; i++)
		if (quorum_view_init(&q->peers[i].view, cfg) != 0)
			goto fail;
	*out = q;
	return 0;
fail:
	quorum_free(q);
	return MXF_ENOMEM;
}

void
quorum_free(struct quorum *q)
{
	if (q == NULL)
		return;
	if (q->peers != NULL)
		for (size_t i = 0; i < q->cfg->quorum.nmonitors; i++)
			quorum_view_clear(&q->peers[i].view);
	free(q->peers);
	quorum_view_clear(&q->published);
	quorum_view_clear(&q->pending);
	free(q->held);
	free(q);
}

/* ---- our own view ---------------------------------------------------------- */

int
quorum_own(struct quorum *q, const enum health_state *effective, uint64_t now_ms, uint64_t wall_s,
	   struct quorum_view *to_publish)
{
	bool due;

	for (size_t i = 0; i < q->nservers; i++)
		if ((unsigned)effective[i] > HEALTH_DOWN)
			return MXF_EINVAL;
	quorum_copy_states(q, q->held, effective);
	q->held_set = true;
	/* Half a round early rather than half a round late: rounds jitter
	 * with the checks, and a heartbeat just missed waits a whole round. */
	uint64_t slack = q->cfg->general.interval_ms / 2;
	due = !q->published_ever || q->last_failed ||
	      !quorum_states_equal(q, q->held, q->published.states) ||
	      quorum_since(now_ms, q->published_ms) + slack >= q->heartbeat_ms;
	if (!due)
		return 0;
	/* A seq handed out is never handed out again, whatever became of
	 * it: a failed UPDATE may still have reached the server. */
	q->last_seq++;
	memcpy(q->pending.boot, q->boot, sizeof(q->pending.boot));
	q->pending.seq = q->last_seq;
	q->pending.has_at = true;
	q->pending.at_s = wall_s;
	quorum_copy_states(q, q->pending.states, q->held);
	q->pending_set = true;
	quorum_copy_view(q, to_publish, &q->pending);
	return 1;
}

void
quorum_published(struct quorum *q, bool ok, uint64_t now_ms)
{
	if (!q->pending_set)
		return;
	q->pending_set = false;
	q->last_failed = !ok;
	if (!ok)
		return;
	quorum_copy_view(q, &q->published, &q->pending);
	q->published_ever = true;
	q->published_ms = now_ms;
}

/* Our view is on the server as we hold it now, by the last attempt. */
static bool
quorum_own_published(const struct quorum *q)
{
	return q->published_ever && !q->last_failed && q->held_set &&
	       quorum_states_equal(q, q->held, q->published.states);
}

/* Our view counts: published as held, the last success not stale.  A
 * failed heartbeat leaves the last success counting until it is stale,
 * as the other monitors see it; a failed change does not (what we hold
 * is not what they read). */
static bool
quorum_own_fresh(const struct quorum *q, uint64_t now_ms)
{
	return q->published_ever && q->held_set &&
	       quorum_states_equal(q, q->held, q->published.states) &&
	       quorum_since(now_ms, q->published_ms) < q->stale_ms;
}

/* ---- the others ------------------------------------------------------------ */

int
quorum_observe(struct quorum *q, size_t monitor, const struct quorum_view *v, bool read_ok,
	       uint64_t now_ms)
{
	struct quorum_peer *p;
	bool change;

	if (monitor >= q->cfg->quorum.nmonitors)
		return MXF_EINVAL;
	if (monitor == q->self)
		return 0;
	p = &q->peers[monitor];
	p->read_error = !read_ok;
	if (!read_ok)
		return 0;
	p->absent = v == NULL;
	if (v == NULL)
		return 0;
	/* Another boot is a first sighting again: a record of an earlier run
	 * brought back (a primary restored from a backup) must not count
	 * with its old states; only a seq seen rising within one boot does. */
	bool other_boot = p->seen && strncmp(v->boot, p->view.boot, sizeof(v->boot)) != 0;
	change = p->seen && !other_boot && v->seq > p->view.seq;
	if (p->seen && !change && !other_boot)
		return 0; /* the same view again, or an older copy of it */
	quorum_copy_view(q, &p->view, v);
	if (other_boot)
		p->advanced = false;
	if (change) {
		p->advanced = true;
		p->advanced_ms = now_ms;
	}
	p->seen = true;
	return 0;
}

static bool
quorum_peer_fresh(const struct quorum *q, const struct quorum_peer *p, uint64_t now_ms)
{
	return p->advanced && quorum_since(now_ms, p->advanced_ms) < q->stale_ms;
}

/* The view monitor @i votes with at @now_ms, or NULL when it does not. */
static const enum health_state *
quorum_vote(const struct quorum *q, size_t i, uint64_t now_ms)
{
	if (i == q->self)
		return quorum_own_fresh(q, now_ms) ? q->published.states : NULL;
	return quorum_peer_fresh(q, &q->peers[i], now_ms) ? q->peers[i].view.states : NULL;
}

/* ---- deciding together ----------------------------------------------------- */

static size_t
quorum_fresh(const struct quorum *q, uint64_t now_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < q->cfg->quorum.nmonitors; i++)
		if (quorum_vote(q, i, now_ms) != NULL)
			n++;
	return n;
}

int
quorum_decide(const struct quorum *q, uint64_t now_ms, enum health_state *out)
{
	size_t nfresh = quorum_fresh(q, now_ms);

	for (size_t s = 0; s < q->nservers; s++) {
		unsigned up = 0, down = 0;

		out[s] = HEALTH_UNKNOWN;
		if (nfresh < q->need)
			continue;
		for (size_t i = 0; i < q->cfg->quorum.nmonitors; i++) {
			const enum health_state *v = quorum_vote(q, i, now_ms);
			if (v == NULL)
				continue;
			up += v[s] == HEALTH_UP;
			down += v[s] == HEALTH_DOWN;
		}
		if (up >= q->need && down < q->need)
			out[s] = HEALTH_UP;
		else if (down >= q->need && up < q->need)
			out[s] = HEALTH_DOWN;
	}
	return (int)nfresh;
}

bool
quorum_have(const struct quorum *q, uint64_t now_ms)
{
	return quorum_fresh(q, now_ms) >= q->need;
}

int
quorum_check(struct quorum *q, uint64_t now_ms)
{
	bool have = quorum_have(q, now_ms);

	if (have) {
		bool back = q->lost_reported;
		q->had = true;
		q->lost_reported = false;
		return back ? QUORUM_BACK : 0;
	}
	if (q->lost_reported)
		return 0;
	/* Lost: it was had, or it has not come within stale_ms of the start
	 * (by then every live monitor has published and been seen). */
	if (q->had || quorum_since(now_ms, q->created_ms) >= q->stale_ms) {
		q->had = false;
		q->lost_reported = true;
		return QUORUM_LOST;
	}
	return 0;
}

/* ---- status ---------------------------------------------------------------- */

size_t
quorum_nmonitors(const struct quorum *q)
{
	return q->cfg->quorum.nmonitors;
}

int
quorum_monitor(const struct quorum *q, size_t i, uint64_t now_ms, struct quorum_monitor_status *out)
{
	if (i >= q->cfg->quorum.nmonitors)
		return MXF_EINVAL;
	memset(out, 0, sizeof(*out));
	out->id = q->cfg->quorum.monitors[i];
	out->age_ms = UINT64_MAX;
	if (i == q->self) {
		out->self = true;
		out->fresh = quorum_own_fresh(q, now_ms);
		out->seen = q->published_ever;
		out->published_ok = quorum_own_published(q);
		out->states = q->held_set ? q->held : NULL;
		memcpy(out->boot, q->boot, sizeof(out->boot));
		if (q->published_ever) {
			out->age_ms = quorum_since(now_ms, q->published_ms);
			out->seq = q->published.seq;
			out->has_at = q->published.has_at;
			out->at_s = q->published.at_s;
		}
		return 0;
	}
	const struct quorum_peer *p = &q->peers[i];
	out->fresh = quorum_peer_fresh(q, p, now_ms);
	out->seen = p->seen;
	out->read_error = p->read_error;
	out->absent = p->absent;
	if (p->advanced)
		out->age_ms = quorum_since(now_ms, p->advanced_ms);
	if (p->seen) {
		memcpy(out->boot, p->view.boot, sizeof(out->boot));
		out->seq = p->view.seq;
		out->has_at = p->view.has_at;
		out->at_s = p->view.at_s;
		out->states = p->view.states;
	}
	return 0;
}

int
quorum_agreeing(const struct quorum *q, uint64_t now_ms, size_t server, enum health_state state,
		char *out, size_t outlen)
{
	size_t used = 0;
	int n = 0;

	if (server >= q->nservers)
		return MXF_EINVAL;
	if (outlen > 0)
		out[0] = '\0';
	for (size_t i = 0; i < q->cfg->quorum.nmonitors; i++) {
		const enum health_state *v = quorum_vote(q, i, now_ms);
		const char *id = q->cfg->quorum.monitors[i];
		size_t len = strlen(id) + (used > 0);

		if (v == NULL || v[server] != state)
			continue;
		n++;
		if (used + len + 1 > outlen)
			continue; /* does not fit whole: left out, still counted */
		if (used > 0)
			out[used++] = ' ';
		memcpy(out + used, id, strlen(id) + 1);
		used += strlen(id);
	}
	return n;
}

/* ---- a reload ---------------------------------------------------------------- */

bool
quorum_config_same(const struct config *a, const struct config *b)
{
	const struct config_quorum *x = &a->quorum, *y = &b->quorum;

	if (!x->enabled || !y->enabled || x->nmonitors != y->nmonitors || x->self != y->self ||
	    x->need != y->need || x->heartbeat_ms != y->heartbeat_ms ||
	    x->stale_ms != y->stale_ms || strcmp(x->zone, y->zone) != 0 ||
	    a->nservers != b->nservers || a->general.interval_ms != b->general.interval_ms)
		return false;
	for (size_t i = 0; i < x->nmonitors; i++)
		if (strcmp(x->monitors[i], y->monitors[i]) != 0)
			return false;
	for (size_t s = 0; s < a->nservers; s++)
		if (strcmp(a->servers[s].id, b->servers[s].id) != 0)
			return false;
	return true;
}

void
quorum_rebind(struct quorum *q, const struct config *cfg)
{
	q->cfg = cfg;
}

void
quorum_carry(struct quorum *to, const struct quorum *from)
{
	to->had = from->had;
	to->lost_reported = from->lost_reported;
}
