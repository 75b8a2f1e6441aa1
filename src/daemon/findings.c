/*
 * findings.c -- the background audit's current findings and what changed
 * between two audits; see findings.h.  Pure.
 */
#include "findings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxf.h"

static void
findings_item_free(struct findings_item *it)
{
	free(it->domain);
	free(it->id);
	free(it->subject);
	free(it->message);
	free(it->hint);
	memset(it, 0, sizeof(*it));
}

static char *
findings_dup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static int
findings_copy(struct findings_item *dst, const struct findings_item *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->domain = findings_dup(src->domain);
	dst->id = findings_dup(src->id);
	dst->subject = findings_dup(src->subject);
	dst->message = findings_dup(src->message);
	dst->hint = findings_dup(src->hint);
	dst->severity = src->severity;
	dst->since_ms = src->since_ms;
	if (!dst->domain || !dst->id || !dst->subject || !dst->message || !dst->hint) {
		findings_item_free(dst);
		return MXF_ENOMEM;
	}
	return 0;
}

static bool
findings_same(const struct findings_item *a, const struct findings_item *b)
{
	return strcmp(a->domain ? a->domain : "", b->domain ? b->domain : "") == 0 &&
	       strcmp(a->id ? a->id : "", b->id ? b->id : "") == 0 &&
	       strcmp(a->subject ? a->subject : "", b->subject ? b->subject : "") == 0;
}

/* The stored finding the same as @it, or NULL. */
static const struct findings_item *
findings_find(const struct findings_item *v, size_t n, const struct findings_item *it)
{
	for (size_t i = 0; i < n; i++)
		if (findings_same(&v[i], it))
			return &v[i];
	return NULL;
}

static bool
findings_alerting(const struct findings_item *it)
{
	return it != NULL && it->severity >= FINDINGS_WARNING;
}

/* The previous set's warnings and errors, as a told set (@told NULL). */
static int
findings_told_of(const struct findings *f, struct state_findings *out)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct findings_item *it = &f->v[i];

		if (findings_alerting(it) &&
		    state_findings_add(out, it->domain, it->id, it->subject,
				       (unsigned)it->severity, it->since_ms) != 0) {
			state_findings_clear(out);
			return MXF_ENOMEM;
		}
	}
	return 0;
}

/* A copy of told entry @t as a gone finding, worded as @f said it last. */
static int
findings_gone(const struct findings *f, const struct state_finding *t, struct findings_item *out)
{
	const struct findings_item key = {.domain = t->domain, .id = t->id, .subject = t->subject};
	const struct findings_item *last = findings_find(f->v, f->n, &key);
	struct findings_item it = key;

	it.severity = t->severity < FINDINGS_NSEV ? (enum findings_severity)t->severity
						  : FINDINGS_ERROR;
	it.since_ms = t->since_ms;
	it.message = last != NULL ? last->message : "";
	it.hint = last != NULL ? last->hint : "";
	return findings_copy(out, &it);
}

int
findings_update(struct findings *f, const struct findings_item *items, size_t n, uint64_t now_ms,
		struct state_findings *told, struct findings_changes *ch)
{
	struct findings_item *nv = mxf_calloc(n ? n : 1, sizeof(*nv));
	struct state_findings prev = {0}, next = {0};
	const struct state_findings *was = told;
	size_t nn = 0;

	memset(ch, 0, sizeof(*ch));
	if (nv == NULL)
		return MXF_ENOMEM;
	if (told == NULL) {
		if (findings_told_of(f, &prev) != 0)
			goto oom;
		was = &prev;
	}
	ch->added = mxf_calloc(n ? n : 1, sizeof(*ch->added));
	ch->gone = mxf_calloc(was->n ? was->n : 1, sizeof(*ch->gone));
	if (ch->added == NULL || ch->gone == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const struct findings_item *old = findings_find(f->v, f->n, &items[i]);
		const struct state_finding *t =
			state_findings_find(was, items[i].domain, items[i].id, items[i].subject);

		if (findings_find(nv, nn, &items[i]) != NULL)
			continue;
		if (findings_copy(&nv[nn], &items[i]) != 0)
			goto oom;
		/* A streak goes on while it is found; it starts when first found. */
		nv[nn].since_ms = t != NULL ? t->since_ms : old != NULL ? old->since_ms : now_ms;
		if (findings_alerting(&nv[nn]) && t == NULL)
			ch->added[ch->nadded++] = nn;
		if (findings_alerting(&nv[nn]) &&
		    state_findings_add(&next, nv[nn].domain, nv[nn].id, nv[nn].subject,
				       (unsigned)nv[nn].severity, nv[nn].since_ms) != 0) {
			nn++;
			goto oom;
		}
		nn++;
	}
	for (size_t i = 0; i < was->n; i++) {
		const struct state_finding *t = &was->v[i];
		const struct findings_item key = {.domain = t->domain, .id = t->id,
						  .subject = t->subject};

		if (findings_alerting(findings_find(nv, nn, &key)))
			continue;
		if (findings_gone(f, t, &ch->gone[ch->ngone]) != 0)
			goto oom;
		ch->ngone++;
	}
	for (size_t i = 0; i < f->n; i++)
		findings_item_free(&f->v[i]);
	free(f->v);
	f->v = nv;
	f->n = nn;
	f->runs++;
	f->last_ms = now_ms;
	if (told != NULL)
		state_findings_swap(told, &next);
	state_findings_clear(&next);
	state_findings_clear(&prev);
	return 0;
oom:
	for (size_t i = 0; i < nn; i++)
		findings_item_free(&nv[i]);
	free(nv);
	state_findings_clear(&next);
	state_findings_clear(&prev);
	findings_changes_free(ch);
	return MXF_ENOMEM;
}

size_t
findings_count(const struct findings *f, enum findings_severity sev)
{
	size_t c = 0;

	for (size_t i = 0; f != NULL && i < f->n; i++)
		c += f->v[i].severity == sev;
	return c;
}

const char *
findings_severity_name(enum findings_severity s, bool upper)
{
	static const char *const lower[] = {"info", "warning", "error"};
	static const char *const up[] = {"INFO", "WARNING", "ERROR"};

	if ((unsigned)s >= FINDINGS_NSEV)
		return "?";
	return upper ? up[s] : lower[s];
}

int
findings_line(const struct findings_item *it, char *buf, size_t len)
{
	bool msg = it->message != NULL && it->message[0] != '\0';
	bool hint = it->hint != NULL && it->hint[0] != '\0';

	return snprintf(buf, len, "%s %s %s%s%s%s%s%s", findings_severity_name(it->severity, true),
			it->id ? it->id : "?", it->subject ? it->subject : "?", msg ? ": " : "",
			msg ? it->message : "", hint ? " (" : "", hint ? it->hint : "",
			hint ? ")" : "");
}

void
findings_changes_free(struct findings_changes *ch)
{
	for (size_t i = 0; ch->gone != NULL && i < ch->ngone; i++)
		findings_item_free(&ch->gone[i]);
	free(ch->gone);
	free(ch->added);
	memset(ch, 0, sizeof(*ch));
}

void
findings_clear(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		findings_item_free(&f->v[i]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}
