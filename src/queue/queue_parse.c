/*
 * queue_parse.c -- counting `postqueue -j` output per zone (queue_parse.h).
 * Each line is parsed with jansson on its own, so one message's JSON can
 * never run into the next and the memory used is bounded by the line.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mxf.h"
#include "queue_parse.h"
#include "value.h"

static const char queue_warning[] = "postqueue: warning: ";

/* "line N: WHAT: "QUOTE"" into @err, quoting at most 80 bytes of the line. */
static void
queue_err(char *err, size_t errsize, size_t lineno, const char *what, const char *line, size_t n)
{
	char q[100];

	value_utf8_clean(q, sizeof(q), line, n > 80 ? 80 : n);
	snprintf(err, errsize, "line %zu: %s: \"%s%s\"", lineno, what, q, n > 80 ? "..." : "");
}

/* Whether @domain (@n bytes, no trailing dot) is @zone ("x.org." or "x.org"). */
static bool
queue_domain_is(const char *domain, size_t n, const char *zone)
{
	size_t zl = strlen(zone);

	if (zl > 0 && zone[zl - 1] == '.')
		zl--;
	return n == zl && strncasecmp(domain, zone, n) == 0;
}

/* One message object: count it into @zones and @sum. */
static int
queue_message(json_t *m, struct queue_zone *zones, size_t nzones, struct queue_summary *sum,
	      const char **why)
{
	json_t *arrival = json_object_get(m, "arrival_time");
	json_t *rcpts = json_object_get(m, "recipients");
	json_t *size = json_object_get(m, "message_size");
	json_t *id = json_object_get(m, "queue_id");
	bool any = false;
	json_int_t at;
	size_t i;
	json_t *r;
	/* Whether this message has been counted for zone z already. */
	bool seen[QUEUE_ZONES_MAX];

	if (!json_is_string(id)) {
		*why = "no queue_id";
		return MXF_EPROTO;
	}
	if (!json_is_integer(arrival) || (at = json_integer_value(arrival)) < 0) {
		*why = "no arrival_time";
		return MXF_EPROTO;
	}
	if (!json_is_array(rcpts)) {
		*why = "no recipients";
		return MXF_EPROTO;
	}
	if (size != NULL && (!json_is_integer(size) || json_integer_value(size) < 0)) {
		*why = "message_size is not a number";
		return MXF_EPROTO;
	}
	sum->total++;
	memset(seen, 0, sizeof(seen));
	json_array_foreach(rcpts, i, r)
	{
		json_t *addr = json_object_get(r, "address");
		const char *a, *dom;
		size_t al;

		if (!json_is_object(r) || !json_is_string(addr)) {
			*why = "a recipient without an address";
			return MXF_EPROTO;
		}
		a = json_string_value(addr);
		al = json_string_length(addr);
		dom = strrchr(a, '@');
		if (dom == NULL)
			continue; /* a local name: no domain of ours */
		dom++;
		al -= (size_t)(dom - a);
		if (al > 0 && dom[al - 1] == '.')
			al--;
		for (size_t z = 0; z < nzones; z++) {
			struct queue_zone *qz = &zones[z];
			bool first;

			if (!queue_domain_is(dom, al, qz->zone))
				continue;
			qz->recipients++;
			first = !seen[z];
			seen[z] = true;
			if (first) {
				qz->messages++;
				qz->bytes += size != NULL ? (uint64_t)json_integer_value(size) : 0;
				if (qz->oldest == 0 || at < qz->oldest) {
					json_t *reason = json_object_get(r, "delay_reason");

					qz->oldest = at;
					qz->oldest_reason[0] = '\0';
					if (json_is_string(reason))
						value_utf8_clean(qz->oldest_reason,
								 sizeof(qz->oldest_reason),
								 json_string_value(reason),
								 json_string_length(reason));
				}
			}
			any = true;
		}
	}
	if (any) {
		sum->matched++;
		if (sum->oldest == 0 || at < sum->oldest)
			sum->oldest = at;
	}
	return 0;
}

int
queue_parse(const char *buf, size_t len, bool truncated, struct queue_zone *zones, size_t nzones,
	    struct queue_summary *sum, char *err, size_t errsize)
{
	const char *p = buf, *end = buf + len;
	size_t lineno = 0;

	memset(sum, 0, sizeof(*sum));
	if (nzones > QUEUE_ZONES_MAX) {
		snprintf(err, errsize, "more than %d zones", QUEUE_ZONES_MAX);
		return MXF_EINVAL;
	}
	for (size_t z = 0; z < nzones; z++) {
		zones[z].messages = zones[z].recipients = 0;
		zones[z].bytes = 0;
		zones[z].oldest = 0;
		zones[z].oldest_reason[0] = '\0';
	}
	if (errsize > 0)
		err[0] = '\0';
	sum->truncated = truncated;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);
		const char *why = NULL;
		json_error_t jerr;
		json_t *m;
		size_t s = 0;
		int rc;

		lineno++;
		if (nl == NULL && truncated)
			break; /* the cut, partial line */
		if (n > QUEUE_LINE_MAX) {
			snprintf(err, errsize, "line %zu: longer than %u bytes", lineno,
				 QUEUE_LINE_MAX);
			return MXF_ETOOBIG;
		}
		while (s < n && isspace((unsigned char)p[s]))
			s++;
		if (s == n)
			goto next; /* a blank line */
		if (n - s >= sizeof(queue_warning) - 1 &&
		    memcmp(p + s, queue_warning, sizeof(queue_warning) - 1) == 0) {
			sum->warnings++;
			goto next;
		}
		m = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
		if (m == NULL) {
			queue_err(err, errsize, lineno, "not JSON", p, n);
			return MXF_EPROTO;
		}
		if (!json_is_object(m)) {
			json_decref(m);
			queue_err(err, errsize, lineno, "not a message object", p, n);
			return MXF_EPROTO;
		}
		rc = queue_message(m, zones, nzones, sum, &why);
		json_decref(m);
		if (rc != 0) {
			queue_err(err, errsize, lineno, why, p, n);
			return rc;
		}
	next:
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}
