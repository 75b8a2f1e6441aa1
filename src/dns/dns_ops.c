/*
 * dns_ops.c -- reads, zone lookups and compare-and-swap updates against the
 * primary, as chains of asynchronous exchanges.
 *
 * Every exchange goes through xchg_start(), which signs, bounds the number
 * in flight, verifies the reply's TSIG and always reports from the event
 * loop.  An apply runs per item: find the zone; per zone: read every RRset,
 * send one UPDATE, read every RRset back.
 */
#include "dns_ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "dns_client.h"
#include "dns_update.h"
#include "log.h"
#include "mxf.h"

#define MAX_WALK 128

/*
 * Everything a context has started and not finished -- exchanges, zone
 * lookups, applies -- is on its owned list, so dns_ops_free() can cancel
 * and free it all without a callback firing later on freed memory.
 */
struct ops_owned {
	struct ops_owned *prev, *next;
	void (*destroy)(struct ops_owned *o);
};

struct dns_ops {
	struct ops_owned *owned;
	struct event_base *base;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char server[300];
	const struct dns_tsig_key *key;
	uint64_t timeout_ms;
	size_t inflight;
	struct ops_xchg *qhead, *qtail; /* waiting for a slot */
};

typedef void (*xchg_cb)(int status, int rcode, const ldns_pkt *reply, const char *msg,
			void *arg);

struct ops_xchg {
	struct ops_owned own;      /* first: the owned list points here */
	struct dns_client_query *q; /* while in flight */
	struct event *ev;          /* a failure reported from the loop */
	struct dns_ops *ops;
	struct ops_xchg *qnext;
	ldns_pkt *req;
	bool update;
	uint8_t mac[DNS_TSIG_MAX_MAC];
	size_t maclen;
	int defer_status;
	char defer_msg[DNS_OPS_MSG];
	xchg_cb cb;
	void *arg;
};

static bool ops_warned_unsigned;

static void
owned_link(struct dns_ops *ops, struct ops_owned *o, void (*destroy)(struct ops_owned *))
{
	o->destroy = destroy;
	o->prev = NULL;
	o->next = ops->owned;
	if (ops->owned != NULL)
		ops->owned->prev = o;
	ops->owned = o;
}

static void
owned_unlink(struct dns_ops *ops, struct ops_owned *o)
{
	if (o->prev != NULL)
		o->prev->next = o->next;
	else if (ops->owned == o)
		ops->owned = o->next;
	if (o->next != NULL)
		o->next->prev = o->prev;
	o->prev = o->next = NULL;
}

static uint16_t
random_id(void)
{
	uint16_t id;

	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
		id = (uint16_t)(rand() ^ time(NULL));
	return id;
}

int
dns_ops_new(struct event_base *base, const char *host, uint16_t port,
	    const struct dns_tsig_key *key, uint64_t timeout_ms, struct dns_ops **out)
{
	struct dns_ops *ops;

	*out = NULL;
	ops = calloc(1, sizeof(*ops));
	if (ops == NULL)
		return MXF_ENOMEM;
	if (dns_client_addr(host, port, &ops->ss, &ops->sslen) != 0) {
		free(ops);
		return MXF_EINVAL;
	}
	if (strchr(host, ':') != NULL && host[0] != '[')
		snprintf(ops->server, sizeof(ops->server), "[%s]:%u", host, (unsigned)port);
	else
		snprintf(ops->server, sizeof(ops->server), "%s:%u", host, (unsigned)port);
	ops->base = base;
	ops->key = key;
	ops->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	*out = ops;
	return 0;
}

void
dns_ops_free(struct dns_ops *ops)
{
	if (ops == NULL)
		return;
	/* Each destroy unlinks itself and calls no callback. */
	while (ops->owned != NULL)
		ops->owned->destroy(ops->owned);
	free(ops);
}

const char *
dns_ops_server(const struct dns_ops *ops)
{
	return ops->server;
}

/* ---- exchanges ---- */

static void
xchg_free(struct ops_xchg *x)
{
	owned_unlink(x->ops, &x->own);
	if (x->ev != NULL)
		event_free(x->ev);
	ldns_pkt_free(x->req);
	free(x);
}

static void
xchg_destroy(struct ops_owned *o)
{
	struct ops_xchg *x = (struct ops_xchg *)o;

	if (x->q != NULL)
		dns_client_cancel(x->q);
	x->q = NULL;
	xchg_free(x);
}

static void xchg_pump(struct dns_ops *ops);

static void
xchg_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct ops_xchg *x = arg;

	x->cb(x->defer_status, -1, NULL, x->defer_msg, x->arg);
	xchg_free(x);
}

/* Report a failure of @x from the loop. */
static void __attribute__((format(printf, 3, 4)))
xchg_fail_later(struct ops_xchg *x, int status, const char *fmt, ...)
{
	static const struct timeval zero = {0, 0};
	va_list ap;

	x->defer_status = status;
	va_start(ap, fmt);
	vsnprintf(x->defer_msg, sizeof(x->defer_msg), fmt, ap);
	va_end(ap);
	x->ev = evtimer_new(x->ops->base, xchg_deferred, x);
	if (x->ev == NULL || evtimer_add(x->ev, &zero) != 0) {
		/* The loop cannot take it: report now rather than never. */
		xchg_deferred(-1, 0, x);
	}
}

static void
client_done(struct dns_client_result *res, void *arg)
{
	struct ops_xchg *x = arg;
	struct dns_ops *ops = x->ops;
	char msg[DNS_OPS_MSG] = "";
	int status = res->status, rcode = -1;

	ops->inflight--;
	x->q = NULL; /* finished: dns_client frees it after this call */
	if (status != 0) {
		switch (status) {
		case MXF_ETIMEDOUT:
			snprintf(msg, sizeof(msg), "timed out: no reply within %.1f s (%d tr%s)",
				 (double)ops->timeout_ms / 1000.0, res->tries,
				 res->tries == 1 ? "y" : "ies");
			break;
		case MXF_ECONNREFUSED:
			snprintf(msg, sizeof(msg),
				 "connection refused (no DNS server listens there)");
			break;
		case MXF_EPROTO:
			snprintf(msg, sizeof(msg), "only malformed or unmatched replies came back");
			break;
		default:
			snprintf(msg, sizeof(msg), "%s", mxf_strerror(status));
			break;
		}
	} else {
		rcode = ldns_pkt_get_rcode(res->pkt);
		if (ops->key != NULL) {
			struct dns_tsig_verdict v;
			if (dns_tsig_verify(ops->key, res->wire, res->len, x->mac, x->maclen,
					    (uint64_t)time(NULL), &v) != 0) {
				dns_tsig_explain(ops->key, &v, msg, sizeof(msg));
				status = MXF_ETSIG;
			}
		}
	}
	x->cb(status, rcode, status == 0 || status == MXF_ETSIG ? res->pkt : NULL, msg, x->arg);
	xchg_free(x);
	xchg_pump(ops);
}

static void
xchg_send(struct ops_xchg *x)
{
	struct dns_ops *ops = x->ops;
	uint8_t *wire = NULL, *signed_wire = NULL;
	size_t len = 0, slen = 0;
	struct dns_client_query *q;
	int rc;

	rc = dns_update_to_wire(x->req, &wire, &len);
	if (rc != 0) {
		xchg_fail_later(x, rc, "cannot build the message: %s", mxf_strerror(rc));
		return;
	}
	if (ops->key != NULL) {
		rc = dns_tsig_sign(ops->key, wire, len, (uint64_t)time(NULL), &signed_wire, &slen,
				   x->mac, &x->maclen);
		free(wire);
		if (rc != 0) {
			xchg_fail_later(x, rc, "cannot sign the message: %s", mxf_strerror(rc));
			return;
		}
		wire = signed_wire;
		len = slen;
	} else if (x->update && !ops_warned_unsigned) {
		ops_warned_unsigned = true;
		log_warn("no TSIG key configured: updates are unsigned, the server must allow "
			 "them by address");
	}
	x->q = q = dns_client_send(ops->base, (struct sockaddr *)&ops->ss, ops->sslen, wire, len,
			    ops->timeout_ms, client_done, x, &rc);
	free(wire);
	if (q == NULL) {
		xchg_fail_later(x, rc, "cannot send: %s", mxf_strerror(rc));
		return;
	}
	ops->inflight++;
}

static void
xchg_pump(struct dns_ops *ops)
{
	while (ops->qhead != NULL && ops->inflight < DNS_OPS_MAX_INFLIGHT) {
		struct ops_xchg *x = ops->qhead;
		ops->qhead = x->qnext;
		if (ops->qhead == NULL)
			ops->qtail = NULL;
		x->qnext = NULL;
		xchg_send(x);
	}
}

/* Takes @req.  @return 0 (cb will run once) or MXF_ENOMEM (req freed, no cb). */
static int
xchg_start(struct dns_ops *ops, ldns_pkt *req, bool update, xchg_cb cb, void *arg)
{
	struct ops_xchg *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		ldns_pkt_free(req);
		return MXF_ENOMEM;
	}
	x->ops = ops;
	owned_link(ops, &x->own, xchg_destroy);
	x->req = req;
	x->update = update;
	x->cb = cb;
	x->arg = arg;
	if (ops->qtail != NULL)
		ops->qtail->qnext = x;
	else
		ops->qhead = x;
	ops->qtail = x;
	/*
	 * Sending happens from here or from a finished exchange; either way
	 * results come back only from the loop.
	 */
	xchg_pump(ops);
	return 0;
}

int
dns_ops_read(struct dns_ops *ops, const ldns_rdf *name, ldns_rr_type type, dns_ops_read_cb cb,
	     void *arg)
{
	ldns_pkt *req;
	int rc;

	rc = dns_update_query(name, type, random_id(), &req);
	if (rc != 0)
		return rc;
	return xchg_start(ops, req, false, cb, arg);
}

/* ---- zone lookup ---- */

struct ops_fz {
	struct ops_owned own;  /* first */
	struct event *ev;      /* the answer from the config, reported from the loop */
	struct dns_ops *ops;
	ldns_rdf *name;   /* asked */
	ldns_rdf *cur;    /* being queried */
	ldns_rdf *zone;   /* found */
	int steps;
	dns_ops_zone_cb cb;
	void *arg;
};

static void
fz_free(struct ops_fz *fz)
{
	owned_unlink(fz->ops, &fz->own);
	if (fz->ev != NULL)
		event_free(fz->ev);
	ldns_rdf_deep_free(fz->name);
	ldns_rdf_deep_free(fz->cur);
	ldns_rdf_deep_free(fz->zone);
	free(fz);
}

static void
fz_destroy(struct ops_owned *o)
{
	fz_free((struct ops_fz *)o);
}

static void
fz_config_done(evutil_socket_t fd, short what, void *arg)
{
	struct ops_fz *fz = arg;

	fz->cb(0, fz->zone, NULL, fz->arg);
	fz_free(fz);
}

static void fz_soa_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg);

static void
fz_finish(struct ops_fz *fz, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fz_finish(struct ops_fz *fz, int status, const char *fmt, ...)
{
	char msg[DNS_OPS_MSG] = "";
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	fz->cb(status, status == 0 ? fz->zone : NULL, msg, fz->arg);
	fz_free(fz);
}

static void
fz_step(struct ops_fz *fz)
{
	char *s;
	int rc = dns_ops_read(fz->ops, fz->cur, LDNS_RR_TYPE_SOA, fz_soa_cb, fz);

	if (rc != 0) {
		s = ldns_rdf2str(fz->name);
		fz_finish(fz, rc, "cannot look up the zone of %s: %s", s ? s : "?",
			  mxf_strerror(rc));
		free(s);
	}
}

static void
fz_soa_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct ops_fz *fz = arg;
	char *name = ldns_rdf2str(fz->name);
	const char *n = name != NULL ? name : "?";
	ldns_rr_list *soa = NULL, *cname = NULL, *auth = NULL;
	ldns_rdf *parent;

	if (status != 0) {
		fz_finish(fz, status, "SOA query for the zone of %s at %s: %s", n,
			  fz->ops->server, msg);
		goto out;
	}
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		fz_finish(fz, MXF_ENOTFOUND,
			  "%s at %s: no zone found for %s: the server answered %s (%s)", n,
			  fz->ops->server, n, dns_rcode_name(rcode), dns_rcode_explain(rcode, false));
		goto out;
	}
	soa = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, fz->cur, LDNS_RR_TYPE_SOA);
	cname = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, fz->cur, LDNS_RR_TYPE_CNAME);
	auth = dns_update_rrset_from_pkt(reply, LDNS_SECTION_AUTHORITY, NULL, LDNS_RR_TYPE_SOA);
	if (soa == NULL || cname == NULL || auth == NULL) {
		fz_finish(fz, MXF_ENOMEM, "out of memory");
		goto out;
	}
	if (ldns_rr_list_rr_count(soa) > 0 && ldns_pkt_aa(reply)) {
		fz->zone = ldns_rdf_clone(fz->cur);
		fz_finish(fz, fz->zone != NULL ? 0 : MXF_ENOMEM, NULL);
		goto out;
	}
	if (ldns_rr_list_rr_count(cname) == 0 && ldns_rr_list_rr_count(auth) > 0 &&
	    ldns_pkt_aa(reply)) {
		const ldns_rdf *z = ldns_rr_owner(ldns_rr_list_rr(auth, 0));
		if (ldns_dname_compare(fz->name, z) == 0 || ldns_dname_is_subdomain(fz->name, z)) {
			fz->zone = ldns_rdf_clone(z);
			fz_finish(fz, fz->zone != NULL ? 0 : MXF_ENOMEM, NULL);
			goto out;
		}
	}
	if (!ldns_pkt_aa(reply) && ldns_rr_list_rr_count(cname) == 0) {
		fz_finish(fz, MXF_ENOTFOUND,
			  "%s at %s: the server is not authoritative for %s (no zone of it is "
			  "there)", n, fz->ops->server, n);
		goto out;
	}
	/* A CNAME here (or an answer without SOA): the zone is further up. */
	if (++fz->steps > MAX_WALK || ldns_dname_label_count(fz->cur) == 0) {
		fz_finish(fz, MXF_ENOTFOUND, "%s at %s: no zone found for %s", n, fz->ops->server,
			  n);
		goto out;
	}
	parent = ldns_dname_left_chop(fz->cur);
	if (parent == NULL) {
		fz_finish(fz, MXF_ENOMEM, "out of memory");
		goto out;
	}
	ldns_rdf_deep_free(fz->cur);
	fz->cur = parent;
	fz_step(fz);
out:
	ldns_rr_list_deep_free(soa);
	ldns_rr_list_deep_free(cname);
	ldns_rr_list_deep_free(auth);
	free(name);
}

int
dns_ops_find_zone(struct dns_ops *ops, const struct config *cfg, const ldns_rdf *name,
		  dns_ops_zone_cb cb, void *arg)
{
	static const struct timeval zero = {0, 0};
	struct ops_fz *fz = calloc(1, sizeof(*fz));
	size_t best_labels = 0;

	if (fz == NULL)
		return MXF_ENOMEM;
	fz->ops = ops;
	owned_link(ops, &fz->own, fz_destroy);
	fz->cb = cb;
	fz->arg = arg;
	fz->name = ldns_rdf_clone(name);
	fz->cur = ldns_rdf_clone(name);
	if (fz->name == NULL || fz->cur == NULL)
		goto nomem;
	for (size_t g = 0; cfg != NULL && g < cfg->ngroups; g++) {
		for (size_t z = 0; z < cfg->groups[g].nzones; z++) {
			ldns_rdf *zr = NULL;
			if (dns_update_name(cfg->groups[g].zones[z], &zr) != 0)
				continue;
			if ((ldns_dname_compare(name, zr) == 0 || ldns_dname_is_subdomain(name, zr)) &&
			    (fz->zone == NULL || ldns_dname_label_count(zr) > best_labels)) {
				best_labels = ldns_dname_label_count(zr);
				ldns_rdf_deep_free(fz->zone);
				fz->zone = zr;
			} else {
				ldns_rdf_deep_free(zr);
			}
		}
	}
	if (fz->zone != NULL) {
		fz->ev = evtimer_new(ops->base, fz_config_done, fz);
		if (fz->ev == NULL || evtimer_add(fz->ev, &zero) != 0)
			goto nomem;
		return 0;
	}
	fz_step(fz);
	return 0;
nomem:
	fz_free(fz);
	return MXF_ENOMEM;
}

/* ---- apply ---- */

struct ops_apply;

struct ops_zone {
	struct ops_apply *ap;
	ldns_rdf *zone;
	char zname[256];
	size_t *idx;       /* item indices */
	size_t n;
	size_t pending;
	int phase;         /* 0 read, 1 update, 2 read back */
	int conflict_rcode; /* YXRRSET/NXRRSET answer being checked, else 0 */
};

struct ops_ref {
	struct ops_apply *ap;
	struct ops_zone *z;
	size_t k;          /* zone lookup: item index; later: index into z->idx */
};

struct ops_apply {
	struct ops_owned own;  /* first */
	struct dns_ops *ops;
	struct dns_ops_item *items;
	size_t n;
	uint32_t default_ttl;
	size_t pending;    /* zone lookups, then zones */
	struct ops_zone *zones;
	size_t nzones;
	struct ops_ref *refs;   /* one per item */
	size_t *slots;          /* backing store for zone index lists */
	dns_ops_apply_cb cb;
	void *arg;
};

void
dns_ops_item_clear(struct dns_ops_item *it)
{
	if (it == NULL)
		return;
	ldns_rdf_deep_free(it->owner);
	ldns_rr_list_deep_free(it->new_rrs);
	ldns_rr_list_deep_free(it->expected);
	ldns_rdf_deep_free(it->zone);
	ldns_rr_list_deep_free(it->found);
	memset(it, 0, sizeof(*it));
}

static void
apply_free(struct ops_apply *ap)
{
	owned_unlink(ap->ops, &ap->own);
	for (size_t i = 0; i < ap->nzones; i++)
		ldns_rdf_deep_free(ap->zones[i].zone);
	free(ap->zones);
	free(ap->refs);
	free(ap->slots);
	free(ap);
}

static void
apply_destroy(struct ops_owned *o)
{
	apply_free((struct ops_apply *)o);
}

static void
apply_zone_done(struct ops_apply *ap)
{
	if (--ap->pending > 0)
		return;
	ap->cb(ap->arg);
	apply_free(ap);
}

static struct dns_ops_item *
zitem(struct ops_zone *z, size_t k)
{
	return &z->ap->items[z->idx[k]];
}

/* Mark every item of the zone failed (keeping an item's own earlier error). */
static void __attribute__((format(printf, 3, 4)))
zone_fail(struct ops_zone *z, int status, const char *fmt, ...)
{
	char msg[DNS_OPS_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (size_t k = 0; k < z->n; k++) {
		struct dns_ops_item *it = zitem(z, k);
		if (it->status == 0) {
			it->status = status;
			snprintf(it->msg, sizeof(it->msg), "%s", msg);
		}
	}
}

static void zone_send_update(struct ops_zone *z);
static void zone_read_back(struct ops_zone *z);
static void explain_conflict(struct dns_ops_item *it);

/*
 * The read-back is done.  After a YXRRSET/NXRRSET answer it tells a real
 * conflict (someone else changed a record: nothing of ours was applied) from
 * a retransmitted update whose first copy the server had already applied
 * (the reply to it was lost): then every record already holds our value.
 */
static void
zone_finish(struct ops_zone *z)
{
	bool all_ours = true;

	if (z->conflict_rcode == 0) {
		apply_zone_done(z->ap);
		return;
	}
	for (size_t k = 0; k < z->n; k++) {
		struct dns_ops_item *it = zitem(z, k);

		if (it->status == 0 && !it->unchanged && !it->verified)
			all_ours = false;
		if (it->status != 0)
			all_ours = false;
	}
	if (!all_ours) {
		for (size_t k = 0; k < z->n; k++)
			zitem(z, k)->verified = false;
		zone_fail(z, MXF_ECONFLICT, "zone %s at %s: update failed: %s (%s)", z->zname,
			  z->ap->ops->server, dns_rcode_name(z->conflict_rcode),
			  dns_rcode_explain(z->conflict_rcode, true));
		for (size_t k = 0; k < z->n; k++)
			explain_conflict(zitem(z, k));
	} else {
		for (size_t k = 0; k < z->n; k++)
			zitem(z, k)->rcode = LDNS_RCODE_NOERROR;
	}
	apply_zone_done(z->ap);
}

static void
item_read_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct ops_ref *ref = arg;
	struct ops_zone *z = ref->z;
	struct dns_ops_item *it = zitem(z, ref->k);
	const char *srv = z->ap->ops->server;
	char *owner = ldns_rdf2str(it->owner);
	const char *o = owner != NULL ? owner : "?";
	ldns_rr_list *rrs = NULL;

	if (status != 0) {
		it->status = status;
		snprintf(it->msg, sizeof(it->msg), "zone %s at %s: reading %s: %s", z->zname, srv,
			 o, msg);
	} else if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		it->status = MXF_ERCODE;
		snprintf(it->msg, sizeof(it->msg), "zone %s at %s: reading %s: %s (%s)", z->zname,
			 srv, o, dns_rcode_name(rcode), dns_rcode_explain(rcode, false));
	} else if (!ldns_pkt_aa(reply)) {
		it->status = MXF_ERCODE;
		snprintf(it->msg, sizeof(it->msg),
			 "zone %s at %s: reading %s: the server is not authoritative for it",
			 z->zname, srv, o);
	} else {
		rrs = dns_update_rrset_from_pkt(reply, LDNS_SECTION_ANSWER, it->owner, it->type);
		if (rrs == NULL) {
			it->status = MXF_ENOMEM;
			snprintf(it->msg, sizeof(it->msg), "out of memory");
		}
	}
	if (z->phase == 0) {
		ldns_rr_list_deep_free(it->found);
		it->found = rrs;
		rrs = NULL;
	} else if (it->status == 0) {
		if (dns_update_rrset_equal(rrs, it->new_rrs, true)) {
			it->verified = true;
		} else if (z->conflict_rcode != 0) {
			/* Not ours: keep what is there for the conflict message. */
			ldns_rr_list_deep_free(it->found);
			it->found = rrs;
			rrs = NULL;
		} else {
			char *want = dns_update_rdata_str(it->new_rrs);
			char *got = dns_update_rdata_str(rrs);
			it->status = MXF_EMISMATCH;
			snprintf(it->msg, sizeof(it->msg),
				 "zone %s at %s: read-back of %s %s differs: expected %s (TTL %u), "
				 "found %s", z->zname, srv, o,
				 ldns_rr_descript(it->type) ? ldns_rr_descript(it->type)->_name : "?",
				 want ? want : "?",
				 (unsigned)ldns_rr_ttl(ldns_rr_list_rr(it->new_rrs, 0)),
				 got ? got : "?");
			free(want);
			free(got);
		}
	}
	ldns_rr_list_deep_free(rrs);
	free(owner);
	if (--z->pending > 0)
		return;
	if (z->phase == 0)
		zone_send_update(z);
	else
		zone_finish(z);
}

static void
zone_read_all(struct ops_zone *z)
{
	z->pending = 1; /* held while starting, so no early completion */
	for (size_t k = 0; k < z->n; k++) {
		struct dns_ops_item *it = zitem(z, k);
		struct ops_ref *ref = &z->ap->refs[z->idx[k]];
		int rc;

		if (z->phase == 2 && it->status != 0)
			continue;
		/*
		 * Before the update, a read only serves the current values (CAS
		 * on CURRENT) and TTL (ttl -1).  A caller that gives both the
		 * expected values and the TTL -- the daemon, which has just read
		 * them -- is not made to wait for a second read.
		 */
		if (z->phase == 0 && it->expect == DNS_OPS_EXPECT_GIVEN && it->ttl >= 0)
			continue;
		ref->z = z;
		ref->k = k;
		z->pending++;
		rc = dns_ops_read(z->ap->ops, it->owner, it->type, item_read_cb, ref);
		if (rc != 0) {
			z->pending--;
			it->status = rc;
			snprintf(it->msg, sizeof(it->msg), "zone %s at %s: %s", z->zname,
				 z->ap->ops->server, mxf_strerror(rc));
		}
	}
	if (--z->pending > 0)
		return;
	/* Nothing could be started. */
	if (z->phase == 0)
		zone_send_update(z);
	else
		zone_finish(z);
}

/* For a given expectation that differs from what was read, say both. */
static void
explain_conflict(struct dns_ops_item *it)
{
	char *want, *got, *o;
	size_t l = strlen(it->msg);

	if (it->expect != DNS_OPS_EXPECT_GIVEN ||
	    dns_update_rrset_equal(it->expected, it->found, false))
		return;
	want = dns_update_rdata_str(it->expected);
	got = dns_update_rdata_str(it->found);
	o = ldns_rdf2str(it->owner);
	snprintf(it->msg + l, sizeof(it->msg) - l, "; %s holds %s, expected %s", o ? o : "?",
		 got ? got : "?", want ? want : "?");
	free(want);
	free(got);
	free(o);
}

static void
update_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct ops_zone *z = arg;
	const char *srv = z->ap->ops->server;

	for (size_t k = 0; k < z->n; k++)
		zitem(z, k)->rcode = rcode;
	if (status != 0) {
		zone_fail(z, status, "zone %s at %s: update not confirmed: %s%s", z->zname, srv, msg,
			  status == MXF_ETSIG && rcode > 0 ? "; nothing was changed" : "");
		apply_zone_done(z->ap);
		return;
	}
	if (rcode == DNS_RCODE_YXRRSET || rcode == DNS_RCODE_NXRRSET) {
		/* A conflict, or our own retransmitted update: the records say which. */
		z->conflict_rcode = rcode;
		zone_read_back(z);
		return;
	}
	if (rcode != LDNS_RCODE_NOERROR) {
		zone_fail(z, MXF_ERCODE, "zone %s at %s: update failed: %s (%s)", z->zname, srv,
			  dns_rcode_name(rcode), dns_rcode_explain(rcode, true));
		apply_zone_done(z->ap);
		return;
	}
	zone_read_back(z);
}

static void
zone_read_back(struct ops_zone *z)
{
	z->phase = 2;
	zone_read_all(z);
}

static void
zone_send_update(struct ops_zone *z)
{
	struct dns_change *ch = NULL;
	size_t nch = 0;
	ldns_pkt *req = NULL;
	int rc;

	z->phase = 1;
	for (size_t k = 0; k < z->n; k++) {
		if (zitem(z, k)->status != 0) {
			/* One item unreadable: the zone is changed entirely or not at all. */
			zone_fail(z, MXF_ECANCELED,
				  "zone %s at %s: not changed because another record of the zone "
				  "could not be read", z->zname, z->ap->ops->server);
			apply_zone_done(z->ap);
			return;
		}
	}
	ch = calloc(z->n, sizeof(*ch));
	if (ch == NULL) {
		zone_fail(z, MXF_ENOMEM, "out of memory");
		apply_zone_done(z->ap);
		return;
	}
	for (size_t k = 0; k < z->n; k++) {
		struct dns_ops_item *it = zitem(z, k);
		uint32_t ttl;

		if (it->ttl >= 0)
			ttl = (uint32_t)it->ttl;
		else if (it->found != NULL && ldns_rr_list_rr_count(it->found) > 0)
			ttl = ldns_rr_ttl(ldns_rr_list_rr(it->found, 0));
		else
			ttl = z->ap->default_ttl;
		for (size_t j = 0; j < ldns_rr_list_rr_count(it->new_rrs); j++)
			ldns_rr_set_ttl(ldns_rr_list_rr(it->new_rrs, j), ttl);
		if (it->expect == DNS_OPS_EXPECT_CURRENT &&
		    dns_update_rrset_equal(it->found, it->new_rrs, true)) {
			it->unchanged = true;
			continue;
		}
		ch[nch].owner = it->owner;
		ch[nch].type = it->type;
		ch[nch].ttl = ttl;
		ch[nch].new_rrs = it->new_rrs;
		switch (it->expect) {
		case DNS_OPS_EXPECT_CURRENT:
		case DNS_OPS_EXPECT_GIVEN: {
			ldns_rr_list *old = it->expect == DNS_OPS_EXPECT_CURRENT ? it->found
										: it->expected;
			if (old == NULL || ldns_rr_list_rr_count(old) == 0) {
				ch[nch].prereq = DNS_PREREQ_NXRRSET;
			} else {
				ch[nch].prereq = DNS_PREREQ_EXACT;
				ch[nch].old_rrs = old;
			}
			break;
		}
		case DNS_OPS_EXPECT_NONE:
			ch[nch].prereq = DNS_PREREQ_NONE;
			break;
		}
		nch++;
	}
	if (nch == 0) {
		/* Everything already holds the new values: verified by the read. */
		for (size_t k = 0; k < z->n; k++)
			zitem(z, k)->verified = true;
		free(ch);
		apply_zone_done(z->ap);
		return;
	}
	rc = dns_update_build(z->zone, ch, nch, random_id(), &req);
	free(ch); /* borrowed members only */
	if (rc != 0) {
		zone_fail(z, rc, "zone %s at %s: cannot build the update: %s", z->zname,
			  z->ap->ops->server, mxf_strerror(rc));
		apply_zone_done(z->ap);
		return;
	}
	rc = xchg_start(z->ap->ops, req, true, update_cb, z);
	if (rc != 0) {
		zone_fail(z, rc, "zone %s at %s: %s", z->zname, z->ap->ops->server,
			  mxf_strerror(rc));
		apply_zone_done(z->ap);
	}
}

/* All zone lookups are done: group the items by zone and start each zone. */
/* qsort_r order of item indices: by zone, then by index (input order). */
static int
apply_cmp_slots(const void *a, const void *b, void *arg)
{
	const struct ops_apply *ap = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = ldns_dname_compare(ap->items[x].zone, ap->items[y].zone);

	if (c != 0)
		return c;
	return x < y ? -1 : x > y;
}

static void
apply_start_zones(struct ops_apply *ap)
{
	size_t used = 0;

	ap->zones = calloc(ap->n, sizeof(*ap->zones));
	ap->slots = calloc(ap->n, sizeof(*ap->slots));
	if (ap->zones == NULL || ap->slots == NULL) {
		for (size_t i = 0; i < ap->n; i++) {
			ap->items[i].status = MXF_ENOMEM;
			snprintf(ap->items[i].msg, sizeof(ap->items[i].msg), "out of memory");
		}
		ap->cb(ap->arg);
		apply_free(ap);
		return;
	}
	/*
	 * Items of one zone get consecutive slots, in input order: sort the
	 * indices by (zone, index) and cut where the zone changes -- n log n,
	 * not items times zones, which mattered at 1,000 zones.
	 */
	for (size_t i = 0; i < ap->n; i++)
		if (ap->items[i].status == 0 && ap->items[i].zone != NULL)
			ap->slots[used++] = i;
	qsort_r(ap->slots, used, sizeof(*ap->slots), apply_cmp_slots, ap);
	for (size_t j = 0; j < used;) {
		const ldns_rdf *zone = ap->items[ap->slots[j]].zone;
		struct ops_zone *z = &ap->zones[ap->nzones++];
		size_t k = j;
		char *str;

		while (k < used && ldns_dname_compare(ap->items[ap->slots[k]].zone, zone) == 0)
			k++;
		z->ap = ap;
		z->zone = ldns_rdf_clone(zone);
		str = ldns_rdf2str(zone);
		snprintf(z->zname, sizeof(z->zname), "%s", str != NULL ? str : "?");
		free(str);
		z->idx = ap->slots + j;
		z->n = k - j;
		j = k;
	}
	if (ap->nzones == 0) {
		ap->cb(ap->arg);
		apply_free(ap);
		return;
	}
	ap->pending = ap->nzones + 1;
	for (size_t j = 0; j < ap->nzones; j++) {
		if (ap->zones[j].zone == NULL) {
			zone_fail(&ap->zones[j], MXF_ENOMEM, "out of memory");
			apply_zone_done(ap);
			continue;
		}
		zone_read_all(&ap->zones[j]);
	}
	apply_zone_done(ap);
}

static void
item_zone_cb(int status, const ldns_rdf *zone, const char *msg, void *arg)
{
	struct ops_ref *ref = arg;
	struct ops_apply *ap = ref->ap;
	struct dns_ops_item *it = &ap->items[ref->k];

	if (status != 0) {
		it->status = status;
		snprintf(it->msg, sizeof(it->msg), "%s", msg);
	} else {
		it->zone = ldns_rdf_clone(zone);
		if (it->zone == NULL) {
			it->status = MXF_ENOMEM;
			snprintf(it->msg, sizeof(it->msg), "out of memory");
		}
	}
	if (--ap->pending == 0)
		apply_start_zones(ap);
}

int
dns_ops_apply(struct dns_ops *ops, const struct config *cfg, struct dns_ops_item *items,
	      size_t n, uint32_t default_ttl, dns_ops_apply_cb cb, void *arg)
{
	struct ops_apply *ap;

	if (n == 0)
		return MXF_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (items[i].owner == NULL || items[i].new_rrs == NULL ||
		    ldns_rr_list_rr_count(items[i].new_rrs) == 0)
			return MXF_EINVAL;
	ap = calloc(1, sizeof(*ap));
	if (ap == NULL)
		return MXF_ENOMEM;
	ap->refs = calloc(n, sizeof(*ap->refs));
	if (ap->refs == NULL) {
		free(ap);
		return MXF_ENOMEM;
	}
	ap->ops = ops;
	owned_link(ops, &ap->own, apply_destroy);
	ap->items = items;
	ap->n = n;
	ap->default_ttl = default_ttl;
	ap->cb = cb;
	ap->arg = arg;
	for (size_t i = 0; i < n; i++) {
		items[i].status = 0;
		items[i].rcode = -1;
		items[i].msg[0] = '\0';
		items[i].unchanged = false;
		items[i].verified = false;
	}
	/* The pending count is held one higher while starting. */
	ap->pending = n + 1;
	for (size_t i = 0; i < n; i++) {
		ap->refs[i].ap = ap;
		ap->refs[i].k = i;
		if (items[i].zone != NULL) {
			/* The caller knows the zone: no lookup. */
			ap->pending--;
			continue;
		}
		if (dns_ops_find_zone(ops, cfg, items[i].owner, item_zone_cb, &ap->refs[i]) != 0) {
			items[i].status = MXF_ENOMEM;
			snprintf(items[i].msg, sizeof(items[i].msg), "out of memory");
			ap->pending--;
		}
	}
	if (--ap->pending == 0)
		apply_start_zones(ap);
	return 0;
}
