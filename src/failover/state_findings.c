/*
 * state_findings.c -- the announced audit findings the state keeps, and
 * their JSON form; see state_findings.h.
 */
#include "state_findings.h"

#include <stdlib.h>
#include <string.h>

#include "mxf.h"

static const char *const state_findings_sev[] = { "info", "warning", "error" };

static const char *state_findings_str(const char *s)
{
	return s ? s : "";
}

int state_findings_add(struct state_findings *sf, const char *domain, const char *id,
		       const char *subject, unsigned severity, uint64_t since_ms)
{
	struct state_finding *v = realloc(sf->v, (sf->n + 1) * sizeof(*v));
	if (!v)
		return MXF_ENOMEM;
	sf->v = v;
	struct state_finding *f = &v[sf->n];
	f->domain = strdup(state_findings_str(domain));
	f->id = strdup(state_findings_str(id));
	f->subject = strdup(state_findings_str(subject));
	f->severity = severity < 3 ? severity : 2;
	f->since_ms = since_ms;
	if (!f->domain || !f->id || !f->subject) {
		free(f->domain);
		free(f->id);
		free(f->subject);
		return MXF_ENOMEM;
	}
	sf->n++;
	return 0;
}

const struct state_finding *state_findings_find(const struct state_findings *sf,
						const char *domain, const char *id,
						const char *subject)
{
	for (size_t i = 0; sf && i < sf->n; i++) {
		const struct state_finding *f = &sf->v[i];
		if (strcmp(f->domain, state_findings_str(domain)) == 0 &&
		    strcmp(f->id, state_findings_str(id)) == 0 &&
		    strcmp(f->subject, state_findings_str(subject)) == 0)
			return f;
	}
	return NULL;
}

void state_findings_swap(struct state_findings *a, struct state_findings *b)
{
	struct state_findings t = *a;
	*a = *b;
	*b = t;
}

void state_findings_clear(struct state_findings *sf)
{
	for (size_t i = 0; i < sf->n; i++) {
		free(sf->v[i].domain);
		free(sf->v[i].id);
		free(sf->v[i].subject);
	}
	free(sf->v);
	sf->v = NULL;
	sf->n = 0;
}

json_t *state_findings_to_json(const struct state_findings *sf)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < sf->n && i < STATE_FINDINGS_MAX; i++) {
		const struct state_finding *f = &sf->v[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "domain", f->domain, "id", f->id,
				      "subject", f->subject, "severity",
				      state_findings_sev[f->severity < 3 ? f->severity : 2],
				      "since_ms", (json_int_t)f->since_ms);
		if (!o || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The string member @key of @o, or NULL. */
static const char *state_findings_get(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

void state_findings_from_json(struct state_findings *sf, const json_t *a)
{
	size_t i;
	const json_t *o;
	if (!json_is_array(a))
		return;
	json_array_foreach(a, i, o)
	{
		const char *dom = state_findings_get(o, "domain"), *id = state_findings_get(o, "id"),
			   *subj = state_findings_get(o, "subject"),
			   *sev = state_findings_get(o, "severity");
		const json_t *since = json_object_get(o, "since_ms");
		unsigned s = 3;
		if (sf->n >= STATE_FINDINGS_MAX)
			return;
		for (unsigned k = 0; sev && k < 3; k++)
			if (strcmp(sev, state_findings_sev[k]) == 0)
				s = k;
		if (!dom || !id || !subj || s > 2 || !json_is_integer(since) ||
		    json_integer_value(since) < 0 ||
		    state_findings_find(sf, dom, id, subj) != NULL)
			continue;
		if (state_findings_add(sf, dom, id, subj, s, (uint64_t)json_integer_value(since)))
			return;
	}
}
