/*
 * config_overlap.c -- no DNS record is managed by two groups.
 *
 * Two groups that manage the same record each point it at their own
 * server, so it flips every round and neither group sees a switch (each
 * takes the other's value for "changed by hand" or rewrites it).  So a
 * configuration where two groups manage the same owner name with the same
 * type is refused, and so is one where a group manages a CNAME at an owner
 * another group manages with any type: a CNAME cannot coexist with other
 * data at its owner (RFC 1034 3.6.2), so one of the two updates would fail
 * or replace the other's records.
 *
 * Owners are compared as absolute names: each record relative to each zone
 * of its group ("@" the apex, a name ending in "." already absolute),
 * case-insensitively, with the trailing dot normalised.  Overlap within one
 * group is not this file's business.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_impl.h"
#include "mxf.h"

/* One absolute owner name a group manages. */
struct config_overlap_owner {
	char *name;   /* absolute, lower-case, trailing dot */
	size_t group; /* index into cfg->groups */
	size_t seq;   /* order of appearance, to keep the sort stable */
};

/* The absolute owner of @record in @zone (both as the model keeps them),
 * lower-cased, with one trailing dot; NULL when out of memory. */
static char *
config_overlap_name(const char *zone, const char *record)
{
	size_t rl = strlen(record);
	char *s;

	if (strcmp(record, "@") == 0 || rl == 0)
		s = strdup(zone);
	else if (record[rl - 1] == '.')
		s = strdup(record);
	else if (strcmp(zone, ".") == 0)
		s = config_fmt("%s.", record);
	else
		s = config_fmt("%s.%s", record, zone);
	if (s == NULL)
		return NULL;
	for (char *c = s; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	rl = strlen(s);
	if (rl == 0 || s[rl - 1] != '.') {
		char *t = config_fmt("%s.", s);

		free(s);
		s = t;
	}
	return s;
}

static int
config_overlap_cmp(const void *a, const void *b)
{
	const struct config_overlap_owner *x = a, *y = b;
	int c = strcasecmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Whether records of types @a and @b at one owner are one record set that
 * two groups would fight over, or data a CNAME cannot stand beside. */
static bool
config_overlap_clash(enum config_rtype a, enum config_rtype b)
{
	return a == b || a == CONFIG_RTYPE_CNAME || b == CONFIG_RTYPE_CNAME;
}

/* The line a group's records were named at, for messages. */
static int
config_overlap_line(const struct config_parse *p, size_t group)
{
	const struct config_group_lines *gl = p->glines != NULL ? &p->glines[group] : NULL;

	if (gl != NULL && gl->records != 0)
		return gl->records;
	return p->cfg->groups[group].line;
}

/* The owner without its trailing dot, as people write it in messages. */
static int
config_overlap_shown_len(const char *name)
{
	size_t l = strlen(name);

	return (int)(l > 1 && name[l - 1] == '.' ? l - 1 : l);
}

/* Report that @later (a record of a later group) clashes with @earlier. */
static void
config_overlap_report(struct config_parse *p, const struct config_overlap_owner *later,
		      const struct config_overlap_owner *earlier)
{
	const struct config_group *gl = &p->cfg->groups[later->group];
	const struct config_group *ge = &p->cfg->groups[earlier->group];
	int shown = config_overlap_shown_len(later->name);
	int line = config_overlap_line(p, later->group);
	int eline = config_overlap_line(p, earlier->group);

	if (gl->type == ge->type)
		config_err(p, line, "group %s: record %.*s %s is also managed by group %s (%s:%d)",
			   gl->id, shown, later->name, config_rtype_name(gl->type), ge->id, p->file,
			   eline);
	else
		config_err(p, line,
			   "group %s: record %.*s %s cannot coexist with the %s record group %s "
			   "manages there (%s:%d): a CNAME cannot stand beside other data",
			   gl->id, shown, later->name, config_rtype_name(gl->type),
			   config_rtype_name(ge->type), ge->id, p->file, eline);
}

void
config_overlap_check(struct config_parse *p)
{
	const struct config *cfg = p->cfg;
	struct config_overlap_owner *v = NULL;
	size_t n = 0, total = 0;

	if (cfg->ngroups < 2)
		return;
	for (size_t gi = 0; gi < cfg->ngroups; gi++)
		total += cfg->groups[gi].nzones * cfg->groups[gi].nrecords;
	if (total == 0)
		return;
	v = calloc(total, sizeof(*v));
	if (v == NULL) {
		p->oom = 1;
		return;
	}
	for (size_t gi = 0; gi < cfg->ngroups; gi++) {
		const struct config_group *g = &cfg->groups[gi];

		for (size_t z = 0; z < g->nzones; z++) {
			for (size_t r = 0; r < g->nrecords; r++) {
				v[n].name = config_overlap_name(g->zones[z], g->records[r]);
				if (v[n].name == NULL) {
					p->oom = 1;
					goto out;
				}
				v[n].group = gi;
				v[n].seq = n;
				n++;
			}
		}
	}
	qsort(v, n, sizeof(*v), config_overlap_cmp);
	/* Within each run of one owner, report each entry against the first
	 * entry of an earlier group it clashes with. */
	for (size_t i = 0; i < n;) {
		size_t end = i + 1;

		while (end < n && strcasecmp(v[end].name, v[i].name) == 0)
			end++;
		for (size_t j = i + 1; j < end; j++) {
			const struct config_group *gj = &cfg->groups[v[j].group];

			for (size_t k = i; k < j; k++) {
				const struct config_group *gk = &cfg->groups[v[k].group];

				if (v[k].group == v[j].group ||
				    !config_overlap_clash(gk->type, gj->type))
					continue;
				config_overlap_report(p, &v[j], &v[k]);
				break;
			}
		}
		i = end;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}
