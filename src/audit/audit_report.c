/*
 * audit_report.c -- one domain's findings: added once per id and subject,
 * counted checks, ordered by severity, and the fixed JSON object.
 * The report owns every string in it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "mxf.h"

#define AUDIT_MESSAGE_MAX 1024

int
audit_report_init(struct audit_report *r, const char *domain)
{
	size_t n;

	memset(r, 0, sizeof(*r));
	r->domain = strdup(domain);
	if (r->domain == NULL)
		return MXF_ENOMEM;
	for (char *p = r->domain; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	n = strlen(r->domain);
	if (n > 1 && r->domain[n - 1] == '.')
		r->domain[n - 1] = '\0';
	return 0;
}

void
audit_report_clear(struct audit_report *r)
{
	for (size_t i = 0; i < r->nfindings; i++) {
		free(r->findings[i].subject);
		free(r->findings[i].message);
		free(r->findings[i].hint);
	}
	free(r->findings);
	free(r->domain);
	memset(r, 0, sizeof(*r));
}

const struct audit_finding *
audit_report_find(const struct audit_report *r, const char *id, const char *subject)
{
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct audit_finding *f = &r->findings[i];

		if (strcmp(f->id, id) == 0 && (subject == NULL || strcmp(f->subject, subject) == 0))
			return f;
	}
	return NULL;
}

int
audit_vadd(struct audit_report *r, const char *id, enum audit_severity sev, const char *subject,
	   const char *hint, const char *fmt, va_list ap)
{
	const struct audit_id *e = audit_id_find(id);
	struct audit_finding *v, *f;
	char msg[AUDIT_MESSAGE_MAX];

	if (e == NULL)
		return MXF_EINVAL;
	char subj[512];
	size_t sl;

	if (subject == NULL)
		subject = r->domain != NULL ? r->domain : "";
	/* Names are shown as users write them: without the root's dot. */
	sl = strlen(subject);
	if (sl > 1 && sl < sizeof(subj) && subject[sl - 1] == '.') {
		memcpy(subj, subject, sl - 1);
		subj[sl - 1] = '\0';
		subject = subj;
	}
	if (audit_report_find(r, e->id, subject) != NULL)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	v = realloc(r->findings, (r->nfindings + 1) * sizeof(*v));
	if (v == NULL)
		return MXF_ENOMEM;
	r->findings = v;
	f = &v[r->nfindings];
	f->id = e->id;
	f->severity = sev;
	f->subject = strdup(subject);
	f->message = strdup(msg);
	f->hint = strdup(hint != NULL ? hint : e->hint);
	if (f->subject == NULL || f->message == NULL || f->hint == NULL) {
		free(f->subject);
		free(f->message);
		free(f->hint);
		return MXF_ENOMEM;
	}
	r->nfindings++;
	return 0;
}

int
audit_add(struct audit_report *r, const char *id, enum audit_severity sev, const char *subject,
	  const char *hint, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = audit_vadd(r, id, sev, subject, hint, fmt, ap);
	va_end(ap);
	return rc;
}

int
audit_add_default(struct audit_report *r, const char *id, const char *subject, const char *fmt,
		  ...)
{
	const struct audit_id *e = audit_id_find(id);
	va_list ap;
	int rc;

	if (e == NULL)
		return MXF_EINVAL;
	va_start(ap, fmt);
	rc = audit_vadd(r, id, e->severity, subject, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

void
audit_checked(struct audit_report *r, unsigned n)
{
	r->checks += n;
}

int
audit_report_worst(const struct audit_report *r)
{
	int worst = -1;

	for (size_t i = 0; i < r->nfindings; i++)
		if ((int)r->findings[i].severity > worst)
			worst = (int)r->findings[i].severity;
	return worst;
}

/* Position of @id in the table (the man page's order). */
static size_t
id_rank(const char *id)
{
	size_t n;
	const struct audit_id *t = audit_ids(&n);

	for (size_t i = 0; i < n; i++)
		if (t[i].id == id || strcmp(t[i].id, id) == 0)
			return i;
	return n;
}

static int
finding_cmp(const void *pa, const void *pb)
{
	const struct audit_finding *a = pa, *b = pb;
	size_t ra, rb;

	if (a->severity != b->severity)
		return a->severity > b->severity ? -1 : 1;
	ra = id_rank(a->id);
	rb = id_rank(b->id);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	return strcmp(a->subject, b->subject);
}

void
audit_report_sort(struct audit_report *r)
{
	/* Id and subject are unique in a report, so the order is total: the
	 * same findings always print the same way, whatever answered first. */
	if (r->nfindings > 1)
		qsort(r->findings, r->nfindings, sizeof(*r->findings), finding_cmp);
}

int
audit_report_json(const struct audit_report *r, json_t **out)
{
	json_t *o, *arr;

	arr = json_array();
	if (arr == NULL)
		return MXF_ENOMEM;
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct audit_finding *f = &r->findings[i];
		json_t *fo = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", f->id, "severity",
				       audit_severity_name(f->severity), "subject", f->subject,
				       "message", f->message, "hint", f->hint);

		if (fo == NULL || json_array_append_new(arr, fo) != 0) {
			json_decref(arr);
			return MXF_ENOMEM;
		}
	}
	o = json_pack("{s:s, s:o, s:I, s:f}", "domain", r->domain != NULL ? r->domain : "",
		      "findings", arr, "checks", (json_int_t)r->checks, "seconds",
		      (double)((long long)(r->seconds * 1000.0 + 0.5)) / 1000.0);
	if (o == NULL)
		return MXF_ENOMEM;
	*out = o;
	return 0;
}
