/*
 * failover_dns.c -- what DNS holds for a group (struct failover_dns, the
 * views the daemon fills from its reads) and what a value means: which
 * server of the group an RRset points at (CNAME and A/AAAA by their single
 * value, MX by the one group host at the lowest preference, in an order
 * mxfailover writes) and the RRset that points it at another server
 * instead (MX: the group's hosts trade preferences, none leaves the set).
 * Pure: no clocks, no I/O, no logging.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "failover.h"
#include "failover_dns.h"
#include "mxf.h"

/* ---- DNS views ------------------------------------------------------- */

void failover_dns_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

char **failover_dns_strv_dup(const char *const *v, size_t n)
{
	char **r = mxf_calloc(n, sizeof(*r));
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		r[i] = strdup(v[i] ? v[i] : "");
		if (!r[i]) {
			failover_dns_strv_free(r, i);
			return NULL;
		}
	}
	return r;
}

static void fo_rec_view_clear(struct failover_rec_view *r)
{
	failover_dns_strv_free(r->values, r->nvalues);
	free(r->error);
	memset(r, 0, sizeof(*r));
	r->ttl = -1;
}

/* Whether @r already holds what failover_dns_set would write. */
static bool fo_rec_view_same(const struct failover_rec_view *r, enum failover_rec_status status,
			     const char *const *values, size_t n, int64_t ttl, const char *error)
{
	if (r->status != status)
		return false;
	if (status == FAILOVER_REC_FAILED)
		return r->error != NULL && strcmp(r->error, error ? error : "query failed") == 0;
	if (status != FAILOVER_REC_PRESENT)
		return r->nvalues == 0 && r->ttl == -1;
	if (r->nvalues != n || r->ttl != ttl)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(r->values[i], values[i] ? values[i] : "") != 0)
			return false;
	return true;
}

int failover_dns_new(const struct config *cfg, size_t group, struct failover_dns **out)
{
	if (group >= cfg->ngroups)
		return MXF_EINVAL;
	const struct config_group *g = &cfg->groups[group];
	struct failover_dns *d = calloc(1, sizeof(*d));
	if (!d)
		return MXF_ENOMEM;
	d->group = group;
	d->nzones = g->nzones;
	d->nrecords = g->nrecords;
	d->zones = mxf_calloc(g->nzones, sizeof(*d->zones));
	if (!d->zones)
		goto fail;
	for (size_t z = 0; z < g->nzones; z++) {
		d->zones[z].recs = mxf_calloc(g->nrecords, sizeof(*d->zones[z].recs));
		if (!d->zones[z].recs)
			goto fail;
		for (size_t r = 0; r < g->nrecords; r++)
			d->zones[z].recs[r].ttl = -1;
	}
	*out = d;
	return 0;
fail:
	failover_dns_free(d);
	return MXF_ENOMEM;
}

void failover_dns_free(struct failover_dns *d)
{
	if (!d)
		return;
	for (size_t z = 0; d->zones && z < d->nzones; z++) {
		for (size_t r = 0; d->zones[z].recs && r < d->nrecords; r++)
			fo_rec_view_clear(&d->zones[z].recs[r]);
		free(d->zones[z].recs);
	}
	free(d->zones);
	free(d);
}

int failover_dns_set(struct failover_dns *d, size_t zone, size_t rec,
		     enum failover_rec_status status, const char *const *values, size_t n,
		     int64_t ttl, const char *error)
{
	if (!d || zone >= d->nzones || rec >= d->nrecords || (unsigned)status > FAILOVER_REC_FAILED)
		return MXF_EINVAL;
	if (status == FAILOVER_REC_PRESENT && (n == 0 || !values))
		return MXF_EINVAL;
	struct failover_rec_view *r = &d->zones[zone].recs[rec];
	if (fo_rec_view_same(r, status, values, n, ttl, error))
		return 0; /* a steady state rewrites nothing: no allocation per record and round */
	fo_rec_view_clear(r);
	if (status == FAILOVER_REC_PRESENT) {
		r->values = failover_dns_strv_dup(values, n);
		if (!r->values)
			return MXF_ENOMEM;
		r->nvalues = n;
		r->ttl = ttl;
	} else if (status == FAILOVER_REC_FAILED) {
		r->error = strdup(error ? error : "query failed");
		if (!r->error)
			return MXF_ENOMEM;
	}
	r->status = status;
	return 0;
}

/* Domain names equal, ignoring case and one trailing dot. */
static bool fo_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static bool fo_addr_eq(const char *a, const char *b, int family)
{
	unsigned char x[16], y[16];
	if (inet_pton(family, a, x) != 1 || inet_pton(family, b, y) != 1)
		return false;
	return memcmp(x, y, family == AF_INET ? 4 : 16) == 0;
}

/* Split an MX value "PREF TARGET"; @return false when malformed. */
static bool fo_mx_split(const char *v, unsigned long *pref, const char **target)
{
	char *end;
	while (isspace((unsigned char)*v))
		v++;
	if (!isdigit((unsigned char)*v))
		return false;
	errno = 0;
	*pref = strtoul(v, &end, 10);
	if (errno || *pref > 65535 || !isspace((unsigned char)*end))
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (!*end)
		return false;
	*target = end;
	return true;
}

/* Length of an MX target without trailing blanks. */
static size_t fo_trimlen(const char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n;
}

/* Is @value (one value of @type) pointing at @server? */
static bool fo_value_is(const struct config *cfg, size_t server, enum config_rtype type,
			const char *value)
{
	const char *sv = failover_server_value(cfg, server, type);
	if (!sv)
		return false;
	switch (type) {
	case CONFIG_RTYPE_CNAME:
		return fo_name_eq(value, sv);
	case CONFIG_RTYPE_A:
		return fo_addr_eq(value, sv, AF_INET);
	case CONFIG_RTYPE_AAAA:
		return fo_addr_eq(value, sv, AF_INET6);
	case CONFIG_RTYPE_MX: {
		unsigned long pref;
		const char *t;
		if (!fo_mx_split(value, &pref, &t))
			return false;
		char buf[256];
		snprintf(buf, sizeof(buf), "%.*s", (int)fo_trimlen(t), t);
		return fo_name_eq(buf, sv);
	}
	}
	return false;
}

/* ---- MX sets ---------------------------------------------------------- */

/* One value of an MX RRset, parsed: its preference, the group server its
 * target names (index into cfg->servers, -1: a host outside the group) and
 * that server's rank in the group's servers line. */
struct fo_mx {
	unsigned long pref;
	long server;
	long rank;
	const char *value; /* borrowed from the view */
};

/* Parse every value of @r; @return a malloc'ed array of r->nvalues, or NULL
 * (out of memory, or *bad set when a value is malformed or a server of
 * the group appears twice). */
static struct fo_mx *fo_mx_parse(const struct config *cfg, const struct config_group *g,
				 const struct failover_rec_view *r, bool *bad)
{
	*bad = false;
	struct fo_mx *mx = mxf_calloc(r->nvalues, sizeof(*mx));
	if (!mx)
		return NULL;
	for (size_t v = 0; v < r->nvalues; v++) {
		const char *t;
		if (!fo_mx_split(r->values[v], &mx[v].pref, &t)) {
			*bad = true;
			goto fail;
		}
		mx[v].value = r->values[v];
		mx[v].server = mx[v].rank = -1;
		for (size_t i = 0; i < g->nservers; i++) {
			if (fo_value_is(cfg, g->servers[i], CONFIG_RTYPE_MX, r->values[v])) {
				mx[v].server = (long)g->servers[i];
				mx[v].rank = (long)i;
				break;
			}
		}
		for (size_t u = 0; u < v && mx[v].server >= 0; u++) {
			if (mx[u].server == mx[v].server) {
				*bad = true; /* e.g. "10 mx2" and "20 mx2" */
				goto fail;
			}
		}
	}
	return mx;
fail:
	free(mx);
	return NULL;
}

/* The value at the lowest preference, when it alone holds it, else -1. */
static long fo_mx_lowest(const struct fo_mx *mx, size_t n)
{
	long best = -1;
	bool tie = false;
	for (size_t v = 0; v < n; v++) {
		if (best < 0 || mx[v].pref < mx[best].pref) {
			best = (long)v;
			tie = false;
		} else if (mx[v].pref == mx[best].pref) {
			tie = true;
		}
	}
	return tie ? -1 : best;
}

static int fo_ulong_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

/*
 * The MX set that points at @server: the group's hosts of the set trade
 * preferences -- the sorted preferences they hold go to @server first, then
 * to the others in the group's order -- and hosts outside the group keep
 * theirs.  When @server is not in the set, it takes the place of the host
 * at the lowest preference (@low): a set of one group host is rewritten.
 * The values come out sorted by preference.  NULL when out of memory.
 */
static char **fo_mx_order(const struct config *cfg, const struct config_group *g,
			  const struct fo_mx *mx, size_t n, long low, size_t server)
{
	const char *sv = failover_server_value(cfg, server, CONFIG_RTYPE_MX);
	char **out = mxf_calloc(n, sizeof(*out));
	unsigned long *prefs = mxf_calloc(n, sizeof(*prefs)), *opref = mxf_calloc(n, sizeof(*opref));
	size_t np = 0, k = 0;
	bool present = false;
	if (!out || !prefs || !opref)
		goto fail;
	for (size_t v = 0; v < n; v++) {
		if (mx[v].server >= 0)
			prefs[np++] = mx[v].pref;
		present = present || mx[v].server == (long)server;
	}
	qsort(prefs, np, sizeof(*prefs), fo_ulong_cmp);
	/* @server first, then the group's other hosts of the set by rank. */
	if (asprintf(&out[k], "%lu %s", prefs[0], sv) < 0)
		goto fail;
	opref[k++] = prefs[0];
	for (size_t i = 0; i < g->nservers; i++) {
		for (size_t v = 0; v < n; v++) {
			if (mx[v].rank != (long)i || mx[v].server == (long)server ||
			    (!present && (long)v == low))
				continue;
			const char *name = failover_server_value(cfg, (size_t)mx[v].server,
								 CONFIG_RTYPE_MX);
			if (asprintf(&out[k], "%lu %s", prefs[k], name) < 0)
				goto fail;
			opref[k] = prefs[k];
			k++;
		}
	}
	for (size_t v = 0; v < n; v++) {
		if (mx[v].server >= 0)
			continue;
		out[k] = strdup(mx[v].value);
		if (!out[k])
			goto fail;
		opref[k++] = mx[v].pref;
	}
	/* Sorted by preference (stable insertion sort: sets are small), so
	 * the first value is the one mail goes to. */
	for (size_t i = 1; i < k; i++) {
		for (size_t j = i; j > 0 && opref[j - 1] > opref[j]; j--) {
			unsigned long tp = opref[j];
			char *tv = out[j];
			opref[j] = opref[j - 1];
			out[j] = out[j - 1];
			opref[j - 1] = tp;
			out[j - 1] = tv;
		}
	}
	free(prefs);
	free(opref);
	return out;
fail:
	failover_dns_strv_free(out, n);
	free(prefs);
	free(opref);
	return NULL;
}

/* The same MX set, order, case and trailing dots aside? */
static bool fo_mx_same(char *const *a, char *const *b, size_t n)
{
	bool *used = mxf_calloc(n, sizeof(*used)), same = used != NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned long pa, pb;
		const char *ta, *tb;
		bool found = false;
		if (!same || !fo_mx_split(a[i], &pa, &ta)) {
			same = false;
			break;
		}
		for (size_t j = 0; j < n && !found; j++) {
			if (used[j] || !fo_mx_split(b[j], &pb, &tb) || pa != pb)
				continue;
			char x[256], y[256];
			snprintf(x, sizeof(x), "%.*s", (int)fo_trimlen(ta), ta);
			snprintf(y, sizeof(y), "%.*s", (int)fo_trimlen(tb), tb);
			found = used[j] = fo_name_eq(x, y);
		}
		same = found;
	}
	free(used);
	return same;
}

/*
 * The group server an RRset points at, or -1 (points elsewhere).  An MX
 * set points at the group server alone at its lowest preference, and only
 * when it is one of the sets mxfailover writes for that server (the
 * group's other hosts after it in group order): anything else was changed
 * by hand.
 */
long failover_dns_points_to(const struct config *cfg, const struct config_group *g,
			    const struct failover_rec_view *r)
{
	if (r->status != FAILOVER_REC_PRESENT || r->nvalues == 0)
		return -1;
	if (g->type != CONFIG_RTYPE_MX) {
		if (r->nvalues != 1)
			return -1;
		for (size_t i = 0; i < g->nservers; i++) {
			if (fo_value_is(cfg, g->servers[i], g->type, r->values[0]))
				return (long)g->servers[i];
		}
		return -1;
	}
	bool bad;
	struct fo_mx *mx = fo_mx_parse(cfg, g, r, &bad);
	if (!mx)
		return -1; /* malformed, a host twice -- or out of memory: not ours */
	long low = fo_mx_lowest(mx, r->nvalues), who = -1;
	if (low >= 0 && mx[low].server >= 0) {
		char **want = fo_mx_order(cfg, g, mx, r->nvalues, low, (size_t)mx[low].server);
		if (want && fo_mx_same(want, r->values, r->nvalues))
			who = mx[low].server;
		failover_dns_strv_free(want, r->nvalues);
	}
	free(mx);
	return who;
}

/* The RRset to write so that @r points at @server. */
char **failover_dns_new_values(const struct config *cfg, const struct config_group *g,
			       const struct failover_rec_view *r, size_t server, size_t *n)
{
	const char *sv = failover_server_value(cfg, server, g->type);
	if (g->type != CONFIG_RTYPE_MX) {
		*n = 1;
		return failover_dns_strv_dup(&sv, 1);
	}
	bool bad;
	struct fo_mx *mx = fo_mx_parse(cfg, g, r, &bad);
	if (!mx)
		return NULL;
	long low = fo_mx_lowest(mx, r->nvalues);
	char **v = low >= 0 ? fo_mx_order(cfg, g, mx, r->nvalues, low, server) : NULL;
	free(mx);
	if (v)
		*n = r->nvalues;
	return v;
}
