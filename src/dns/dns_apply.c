/*
 * dns_apply.c -- replace RRsets with compare-and-swap across many zones at
 * once: per item find the zone; per zone read every RRset, send one UPDATE
 * with all of the zone's changes, read every RRset back and compare.  A
 * YXRRSET/NXRRSET answer is told apart from our own retransmitted update by
 * what the read-back finds.
 */
#include "dns_apply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_ops_internal.h"
#include "dns_update.h"
#include "dns_view.h"
#include "dns_zone.h"
#include "mxf.h"

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
	bool resent;        /* that answer came to a retransmitted copy */
};

struct ops_ref {
	struct ops_apply *ap;
	struct ops_zone *z;
	size_t k;          /* zone lookup: item index; later: index into z->idx */
	ldns_rr_list *seen; /* the zone lookup's CNAME RRset at the owner, owned */
	bool prefound;     /* it->found came from the zone lookup: no read before */
};

struct ops_apply {
	struct dns_ops_owned own;  /* first */
	struct dns_ops *ops;
	struct dns_apply_item *items;
	size_t n;
	uint32_t default_ttl;
	size_t pending;    /* zone lookups, then zones */
	struct ops_zone *zones;
	size_t nzones;
	size_t next_zone;  /* the first zone not started yet */
	size_t active;     /* zones started and not done */
	bool starting;     /* apply_start_more is on the stack */
	struct ops_ref *refs;   /* one per item */
	size_t *slots;          /* backing store for zone index lists */
	dns_apply_cb cb;
	void *arg;
};

void
dns_apply_item_clear(struct dns_apply_item *it)
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

/* Free an apply (also its destroy: the owned member comes first). */
static void
apply_free(struct dns_ops_owned *o)
{
	struct ops_apply *ap = (struct ops_apply *)o;

	dns_ops_disown(ap->ops, &ap->own);
	for (size_t i = 0; i < ap->nzones; i++)
		ldns_rdf_deep_free(ap->zones[i].zone);
	free(ap->zones);
	for (size_t i = 0; ap->refs != NULL && i < ap->n; i++)
		ldns_rr_list_deep_free(ap->refs[i].seen);
	free(ap->refs);
	free(ap->slots);
	free(ap);
}

static void zone_start(struct ops_zone *z);

/*
 * Zones run APPLY_ZONES_ACTIVE at a time, each started as another is done:
 * a zone's messages are built when it can send them.  Starting all of
 * 10,000 at once built and queued every UPDATE before the event loop ran,
 * and the server sat idle for that while after answering the first few.
 * Enough run to keep the window of dns_ops full (reads of some zones while
 * others update).
 */
#define APPLY_ZONES_ACTIVE (2 * DNS_OPS_MAX_INFLIGHT)

static void
apply_start_more(struct ops_apply *ap)
{
	if (ap->starting)
		return; /* a zone done while starting: the loop below goes on */
	ap->starting = true;
	while (ap->next_zone < ap->nzones && ap->active < APPLY_ZONES_ACTIVE) {
		ap->active++;
		zone_start(&ap->zones[ap->next_zone++]);
	}
	ap->starting = false;
}

static void
apply_zone_done(struct ops_apply *ap)
{
	if (ap->active > 0)
		ap->active--;
	apply_start_more(ap);
	if (--ap->pending > 0)
		return;
	ap->cb(ap->arg);
	apply_free(&ap->own);
}

static struct dns_apply_item *
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
		struct dns_apply_item *it = zitem(z, k);
		if (it->status == 0) {
			it->status = status;
			snprintf(it->msg, sizeof(it->msg), "%s", msg);
		}
	}
}

static void zone_send_update(struct ops_zone *z);
static void zone_read_back(struct ops_zone *z);
static void explain_conflict(struct dns_apply_item *it);

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
		struct dns_apply_item *it = zitem(z, k);

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
		/* After a retransmission the first copy may have been ours: then
		 * it is our change, not one found made. */
		for (size_t k = 0; k < z->n; k++) {
			zitem(z, k)->rcode = LDNS_RCODE_NOERROR;
			zitem(z, k)->already = !z->resent;
		}
	}
	apply_zone_done(z->ap);
}

/* One read of the zone is done: after the last, go on with the phase's next step. */
static void
zone_read_done(struct ops_zone *z)
{
	if (--z->pending > 0)
		return;
	if (z->phase == 0)
		zone_send_update(z);
	else
		zone_finish(z);
}

static void
item_read_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct ops_ref *ref = arg;
	struct ops_zone *z = ref->z;
	struct dns_apply_item *it = zitem(z, ref->k);
	const char *srv = z->ap->ops->server;
	char *owner = ldns_rdf2str(it->owner);
	const char *o = owner != NULL ? owner : "?";
	ldns_rr_list *rrs = NULL;
	struct dns_view view;

	(void)rcode; /* the view reads it from the reply */
	if (status != 0) {
		it->status = status;
		snprintf(it->msg, sizeof(it->msg), "zone %s at %s: reading %s: %s", z->zname, srv,
			 o, msg);
	} else if (dns_view_answer(reply, it->owner, it->type, &view) != 0) {
		it->status = MXF_ENOMEM;
		snprintf(it->msg, sizeof(it->msg), "out of memory");
		dns_view_clear(&view);
	} else {
		if (view.verdict == DNS_VIEW_RCODE || view.verdict == DNS_VIEW_NOTAUTH) {
			it->status = MXF_ERCODE;
			snprintf(it->msg, sizeof(it->msg), "zone %s at %s: reading %s: %s",
				 z->zname, srv, o, view.msg);
		}
		rrs = dns_view_take_rrs(&view);
		dns_view_clear(&view);
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
	zone_read_done(z);
}

static void
zone_read_all(struct ops_zone *z)
{
	z->pending = 1; /* held while starting, so no early completion */
	for (size_t k = 0; k < z->n; k++) {
		struct dns_apply_item *it = zitem(z, k);
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
		if (z->phase == 0 && it->expect == DNS_APPLY_EXPECT_GIVEN && it->ttl >= 0)
			continue;
		/* A CNAME the zone lookup's first answer already showed. */
		if (z->phase == 0 && ref->prefound)
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
	zone_read_done(z); /* the hold taken above */
}

/* For a given expectation that differs from what was read, say both. */
static void
explain_conflict(struct dns_apply_item *it)
{
	char *want, *got, *o;
	size_t l = strlen(it->msg);

	if (it->expect != DNS_APPLY_EXPECT_GIVEN ||
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

static void zone_check(struct ops_zone *z);

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
		z->resent = z->ap->ops->cb_tries > 1;
		zone_read_back(z);
		return;
	}
	if (rcode != LDNS_RCODE_NOERROR) {
		zone_fail(z, MXF_ERCODE, "zone %s at %s: update failed: %s (%s)", z->zname, srv,
			  dns_rcode_name(rcode), dns_rcode_explain(rcode, true));
		apply_zone_done(z->ap);
		return;
	}
	zone_check(z);
}

static void
zone_read_back(struct ops_zone *z)
{
	z->phase = 2;
	zone_read_all(z);
}

static void
check_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct ops_zone *z = arg;

	(void)reply;
	(void)msg;
	if (status == 0 && rcode == LDNS_RCODE_NOERROR) {
		for (size_t k = 0; k < z->n; k++)
			if (zitem(z, k)->status == 0)
				zitem(z, k)->verified = true;
		apply_zone_done(z->ap);
		return;
	}
	/* Not confirmed (NXRRSET, no answer, a reply that does not verify):
	 * the records themselves say what is there. */
	zone_read_back(z);
}

/*
 * After a successful update, one prerequisite-only UPDATE
 * (dns_update_build_check) asks the server whether every record of the
 * zone holds the values written: one exchange per zone where reading each
 * record back took one per record.  Only when it does not confirm -- Knot
 * answers NOERROR to an update whose CNAME it ignored as conflicting with
 * other data, and then NXRRSET here -- is each record read back, which
 * also tells what is there instead.
 */
static void
zone_check(struct ops_zone *z)
{
	const ldns_rr_list **sets = calloc(z->n + 1, sizeof(*sets));
	ldns_pkt *req = NULL;
	size_t n = 0;

	for (size_t k = 0; sets != NULL && k < z->n; k++)
		if (zitem(z, k)->status == 0)
			sets[n++] = zitem(z, k)->new_rrs;
	if (sets == NULL || n == 0 ||
	    dns_update_build_check(z->zone, sets, n, dns_ops_random_id(), &req) != 0 ||
	    dns_ops_exchange(z->ap->ops, req, true, check_cb, z) != 0) {
		free(sets);
		zone_read_back(z);
		return;
	}
	free(sets);
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
		struct dns_apply_item *it = zitem(z, k);
		uint32_t ttl;

		if (it->ttl >= 0)
			ttl = (uint32_t)it->ttl;
		else if (it->found != NULL && ldns_rr_list_rr_count(it->found) > 0)
			ttl = ldns_rr_ttl(ldns_rr_list_rr(it->found, 0));
		else
			ttl = z->ap->default_ttl;
		for (size_t j = 0; j < ldns_rr_list_rr_count(it->new_rrs); j++)
			ldns_rr_set_ttl(ldns_rr_list_rr(it->new_rrs, j), ttl);
		if (it->expect == DNS_APPLY_EXPECT_CURRENT &&
		    dns_update_rrset_equal(it->found, it->new_rrs, true)) {
			it->unchanged = true;
			continue;
		}
		ch[nch].owner = it->owner;
		ch[nch].type = it->type;
		ch[nch].ttl = ttl;
		ch[nch].new_rrs = it->new_rrs;
		switch (it->expect) {
		case DNS_APPLY_EXPECT_CURRENT:
		case DNS_APPLY_EXPECT_GIVEN: {
			ldns_rr_list *old = it->expect == DNS_APPLY_EXPECT_CURRENT ? it->found
										: it->expected;
			if (old == NULL || ldns_rr_list_rr_count(old) == 0) {
				ch[nch].prereq = DNS_PREREQ_NXRRSET;
			} else {
				ch[nch].prereq = DNS_PREREQ_EXACT;
				ch[nch].old_rrs = old;
			}
			break;
		}
		case DNS_APPLY_EXPECT_NONE:
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
	rc = dns_update_build(z->zone, ch, nch, dns_ops_random_id(), &req);
	free(ch); /* borrowed members only */
	if (rc != 0) {
		zone_fail(z, rc, "zone %s at %s: cannot build the update: %s", z->zname,
			  z->ap->ops->server, mxf_strerror(rc));
		apply_zone_done(z->ap);
		return;
	}
	rc = dns_ops_exchange(z->ap->ops, req, true, update_cb, z);
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
		apply_free(&ap->own);
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
		apply_free(&ap->own);
		return;
	}
	ap->pending = ap->nzones + 1;
	apply_start_more(ap);
	/* The hold on pending taken above (not apply_zone_done: no zone is
	 * done here); 0 when every zone finished while starting. */
	if (--ap->pending == 0) {
		ap->cb(ap->arg);
		apply_free(&ap->own);
	}
}

static void
zone_start(struct ops_zone *z)
{
	if (z->zone == NULL) {
		zone_fail(z, MXF_ENOMEM, "out of memory");
		apply_zone_done(z->ap);
		return;
	}
	zone_read_all(z);
}

static void
item_zone_cb(int status, const ldns_rdf *zone, const char *msg, void *arg)
{
	struct ops_ref *ref = arg;
	struct ops_apply *ap = ref->ap;
	struct dns_apply_item *it = &ap->items[ref->k];

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
	if (it->status == 0 && ref->seen != NULL) {
		/* The lookup's first answer showed the CNAME RRset: that is the read. */
		ldns_rr_list_deep_free(it->found);
		it->found = ref->seen;
		ref->prefound = true;
	} else {
		ldns_rr_list_deep_free(ref->seen);
	}
	ref->seen = NULL;
	if (--ap->pending == 0)
		apply_start_zones(ap);
}

int
dns_apply_start(struct dns_ops *ops, const struct config *cfg, struct dns_apply_item *items,
	      size_t n, uint32_t default_ttl, dns_apply_cb cb, void *arg)
{
	struct ops_apply *ap;

	if (n == 0)
		return MXF_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (items[i].owner == NULL || items[i].new_rrs == NULL ||
		    ldns_rr_list_rr_count(items[i].new_rrs) == 0)
			return MXF_EINVAL;
	ap = malloc(sizeof(*ap));
	if (ap == NULL)
		return MXF_ENOMEM;
	*ap = (struct ops_apply){.ops = ops, .items = items, .n = n,
				 .default_ttl = default_ttl, .cb = cb, .arg = arg,
				 .refs = calloc(n, sizeof(*ap->refs))};
	if (ap->refs == NULL) {
		free(ap);
		return MXF_ENOMEM;
	}
	dns_ops_own(ops, &ap->own, apply_free);
	for (size_t i = 0; i < n; i++) {
		items[i].status = 0;
		items[i].rcode = -1;
		items[i].msg[0] = '\0';
		items[i].unchanged = false;
		items[i].already = false;
		items[i].verified = false;
	}
	/* The configured zones, matched once per name (dns_zone.h). */
	struct dns_zone_set *set = NULL;
	bool no_set = dns_zone_set_new(cfg, &set) != 0;
	/* The pending count is held one higher while starting. */
	ap->pending = n + 1;
	for (size_t i = 0; i < n; i++) {
		ap->refs[i].ap = ap;
		ap->refs[i].k = i;
		if (items[i].zone == NULL && set != NULL)
			items[i].zone = dns_zone_set_match(set, items[i].owner);
		if (items[i].zone != NULL) {
			/* The caller knows the zone, or it is a configured one: no
			 * lookup (and no round through the loop for each of
			 * thousands). */
			ap->pending--;
			continue;
		}
		/*
		 * For a CNAME whose current value the update needs, the walk's
		 * first SOA query answers with it: one exchange less per zone.
		 */
		bool want_cname = items[i].type == LDNS_RR_TYPE_CNAME &&
				  !(items[i].expect == DNS_APPLY_EXPECT_GIVEN && items[i].ttl >= 0);
		if (no_set || dns_zone_find_in(ops, set, items[i].owner, item_zone_cb, &ap->refs[i],
					       want_cname ? &ap->refs[i].seen : NULL) != 0) {
			items[i].status = MXF_ENOMEM;
			snprintf(items[i].msg, sizeof(items[i].msg), "out of memory");
			ap->pending--;
		}
	}
	dns_zone_set_free(set);
	if (--ap->pending == 0)
		apply_start_zones(ap);
	return 0;
}
