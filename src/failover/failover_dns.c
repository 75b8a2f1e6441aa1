/*
 * failover_dns.c -- what DNS holds for a group (struct failover_dns, the
 * views the daemon fills from its reads) and what a value means: which
 * server of the group an RRset points at (CNAME and A/AAAA by their single
 * value, MX by the targets of lowest preference) and the RRset that points
 * it at another server instead (MX preferences and other targets kept).
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

/*
 * The group server an RRset points at, or -1 (points elsewhere).  For MX,
 * @primary[i] is set for the values of lowest preference (the ones mail
 * goes to first), which must all name the same server.
 */
long failover_dns_points_to(const struct config *cfg, const struct config_group *g,
			 const struct failover_rec_view *r, bool *primary)
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
	unsigned long best = 65536, pref;
	const char *t;
	for (size_t v = 0; v < r->nvalues; v++) {
		if (!fo_mx_split(r->values[v], &pref, &t))
			return -1;
		if (pref < best)
			best = pref;
	}
	long who = -1;
	for (size_t v = 0; v < r->nvalues; v++) {
		fo_mx_split(r->values[v], &pref, &t);
		primary[v] = pref == best;
		if (!primary[v])
			continue;
		long s = -1;
		for (size_t i = 0; i < g->nservers && s < 0; i++) {
			if (fo_value_is(cfg, g->servers[i], CONFIG_RTYPE_MX, r->values[v]))
				s = (long)g->servers[i];
		}
		if (s < 0 || (who >= 0 && who != s))
			return -1;
		who = s;
	}
	return who;
}

/* The RRset to write so that @r points at @server. */
char **failover_dns_new_values(const struct config *cfg, const struct config_group *g,
			    const struct failover_rec_view *r, const bool *primary, size_t server,
			    size_t *n)
{
	const char *sv = failover_server_value(cfg, server, g->type);
	if (g->type != CONFIG_RTYPE_MX) {
		*n = 1;
		return failover_dns_strv_dup(&sv, 1);
	}
	char **v = calloc(r->nvalues, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->nvalues; i++) {
		unsigned long pref;
		const char *t;
		if (primary[i] && fo_mx_split(r->values[i], &pref, &t)) {
			if (asprintf(&v[i], "%lu %s", pref, sv) < 0)
				v[i] = NULL;
		} else {
			v[i] = strdup(r->values[i]);
		}
		if (!v[i]) {
			failover_dns_strv_free(v, i);
			return NULL;
		}
	}
	*n = r->nvalues;
	return v;
}
