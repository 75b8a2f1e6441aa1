/*
 * audit_mtasts.c -- the MTA-STS policy file and its mx: patterns.  See
 * audit_mtasts.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit_mtasts.h"
#include "mxf.h"

const char *
audit_mtasts_mode_name(enum audit_mtasts_mode m)
{
	switch (m) {
	case AUDIT_MTASTS_ENFORCE:
		return "enforce";
	case AUDIT_MTASTS_TESTING:
		return "testing";
	default:
		return "none";
	}
}

/* A name or pattern ("*." allowed first): letters, digits, '-', '.', no
 * empty label, at most 253 characters. */
static bool
mtasts_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	size_t i = 0;
	if (len > 2 && s[0] == '*' && s[1] == '.')
		i = 2;
	size_t lab = 0;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (lab == 0)
				return false;
			lab = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++lab > 63)
				return false;
		} else {
			return false;
		}
	}
	return lab > 0;
}

int
audit_mtasts_policy_parse(const char *body, size_t len, struct audit_mtasts_policy *out)
{
	bool have_mode = false, have_age = false;
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	if (len > AUDIT_MTASTS_BODY_MAX) {
		snprintf(out->error, sizeof(out->error), "policy larger than %d bytes",
			 AUDIT_MTASTS_BODY_MAX);
		return MXF_ETOOBIG;
	}
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && body[i] != '\n')
			i++;
		size_t end = i;
		if (i < len)
			i++;
		if (end > start && body[end - 1] == '\r')
			end--;
		lineno++;
		/* Trailing white space (and blank lines) are tolerated. */
		while (end > start && (body[end - 1] == ' ' || body[end - 1] == '\t'))
			end--;
		if (end == start)
			continue;
		size_t colon = start;
		while (colon < end && body[colon] != ':')
			colon++;
		if (colon == end || colon == start) {
			snprintf(out->error, sizeof(out->error), "line %u: not \"key: value\"",
				 lineno);
			return MXF_EINVAL;
		}
		for (size_t k = start; k < colon; k++)
			if (!isalnum((unsigned char)body[k]) && body[k] != '_') {
				snprintf(out->error, sizeof(out->error), "line %u: bad key", lineno);
				return MXF_EINVAL;
			}
		size_t vs = colon + 1;
		while (vs < end && (body[vs] == ' ' || body[vs] == '\t'))
			vs++;
		const char *key = body + start;
		size_t klen = colon - start;
		const char *v = body + vs;
		size_t vlen = end - vs;
		for (size_t k = 0; k < vlen; k++)
			if ((unsigned char)v[k] < 0x20 || (unsigned char)v[k] == 0x7f) {
				snprintf(out->error, sizeof(out->error),
					 "line %u: control character in the value", lineno);
				return MXF_EINVAL;
			}
		if (lineno == 1 && !(klen == 7 && strncmp(key, "version", 7) == 0)) {
			snprintf(out->error, sizeof(out->error),
				 "line 1: the first line must be \"version: STSv1\"");
			return MXF_EINVAL;
		}
		if (klen == 7 && strncmp(key, "version", 7) == 0) {
			if (lineno != 1 || vlen != 5 || strncmp(v, "STSv1", 5) != 0) {
				snprintf(out->error, sizeof(out->error),
					 "line %u: version must be STSv1, on the first line", lineno);
				return MXF_EINVAL;
			}
		} else if (klen == 4 && strncmp(key, "mode", 4) == 0) {
			if (have_mode) {
				snprintf(out->error, sizeof(out->error), "line %u: mode given twice",
					 lineno);
				return MXF_EINVAL;
			}
			have_mode = true;
			if (vlen == 7 && strncmp(v, "enforce", 7) == 0)
				out->mode = AUDIT_MTASTS_ENFORCE;
			else if (vlen == 7 && strncmp(v, "testing", 7) == 0)
				out->mode = AUDIT_MTASTS_TESTING;
			else if (vlen == 4 && strncmp(v, "none", 4) == 0)
				out->mode = AUDIT_MTASTS_NONE;
			else {
				snprintf(out->error, sizeof(out->error),
					 "line %u: mode \"%.*s\" is not enforce, testing or none",
					 lineno, (int)(vlen > 20 ? 20 : vlen), v);
				return MXF_EINVAL;
			}
		} else if (klen == 7 && strncmp(key, "max_age", 7) == 0) {
			long n = 0;
			bool ok = vlen > 0 && vlen <= 10 && !have_age;
			for (size_t k = 0; ok && k < vlen; k++) {
				ok = isdigit((unsigned char)v[k]);
				n = n * 10 + (v[k] - '0');
			}
			if (!ok || n > AUDIT_MTASTS_MAX_AGE) {
				snprintf(out->error, sizeof(out->error),
					 "line %u: max_age must be given once, 0 to %ld seconds",
					 lineno, AUDIT_MTASTS_MAX_AGE);
				return MXF_EINVAL;
			}
			have_age = true;
			out->max_age = n;
		} else if (klen == 2 && strncmp(key, "mx", 2) == 0) {
			size_t n = vlen;
			if (n > 0 && v[n - 1] == '.')
				n--;
			if (!mtasts_name_ok(v, n)) {
				snprintf(out->error, sizeof(out->error),
					 "line %u: mx \"%.*s\" is not a host name or *.pattern",
					 lineno, (int)(vlen > 60 ? 60 : vlen), v);
				return MXF_EINVAL;
			}
			if (out->nmx == AUDIT_MTASTS_MX_MAX) {
				snprintf(out->error, sizeof(out->error), "more than %d mx lines",
					 AUDIT_MTASTS_MX_MAX);
				return MXF_ETOOBIG;
			}
			for (size_t k = 0; k < n; k++)
				out->mx[out->nmx][k] = (char)tolower((unsigned char)v[k]);
			out->mx[out->nmx][n] = '\0';
			out->nmx++;
		}
	}
	if (lineno == 0) {
		snprintf(out->error, sizeof(out->error), "empty policy");
		return MXF_EINVAL;
	}
	if (!have_mode || !have_age) {
		snprintf(out->error, sizeof(out->error), "no %s line",
			 !have_mode ? "mode:" : "max_age:");
		return MXF_EINVAL;
	}
	if (out->nmx == 0 && out->mode != AUDIT_MTASTS_NONE) {
		snprintf(out->error, sizeof(out->error), "no mx: line (mode %s needs one)",
			 audit_mtasts_mode_name(out->mode));
		return MXF_EINVAL;
	}
	return 0;
}

bool
audit_mtasts_mx_match(const char *pattern, const char *host)
{
	size_t hl = strlen(host);
	size_t pl = strlen(pattern);

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (pl > 0 && pattern[pl - 1] == '.')
		pl--;
	if (pl > 2 && pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = memchr(host, '.', hl);
		if (!dot || dot == host)
			return false;
		size_t rest = hl - (size_t)(dot + 1 - host);
		return rest == pl - 2 && strncasecmp(dot + 1, pattern + 2, rest) == 0;
	}
	return hl == pl && strncasecmp(host, pattern, hl) == 0;
}

bool
audit_mtasts_policy_matches(const struct audit_mtasts_policy *p, const char *host)
{
	for (size_t i = 0; i < p->nmx; i++)
		if (audit_mtasts_mx_match(p->mx[i], host))
			return true;
	return false;
}
