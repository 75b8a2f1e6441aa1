/*
 * audit_tags.c -- tag-value lists and the DMARC, MTA-STS TXT and TLSRPT
 * record judges.  See audit_tags.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit_tags.h"
#include "mxf.h"

static bool
tags_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
audit_tags_parse(const char *txt, size_t len, struct audit_tags *out)
{
	memset(out, 0, sizeof(*out));
	size_t i = 0;
	unsigned n = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && txt[i] != ';')
			i++;
		size_t a = start, b = i;
		if (i < len)
			i++; /* the ';' */
		while (a < b && tags_ws(txt[a]))
			a++;
		while (b > a && tags_ws(txt[b - 1]))
			b--;
		n++;
		if (a == b) {
			if (i >= len && start <= len)
				break; /* a trailing ';' (and white space) */
			snprintf(out->error, sizeof(out->error), "tag %u is empty", n);
			return MXF_EINVAL;
		}
		size_t eq = a;
		while (eq < b && txt[eq] != '=')
			eq++;
		if (eq == b) {
			snprintf(out->error, sizeof(out->error), "tag %u \"%.*s\": no '='", n,
				 (int)(b - a > 40 ? 40 : b - a), txt + a);
			return MXF_EINVAL;
		}
		size_t ne = eq;
		while (ne > a && tags_ws(txt[ne - 1]))
			ne--;
		size_t vs = eq + 1;
		while (vs < b && tags_ws(txt[vs]))
			vs++;
		if (ne == a) {
			snprintf(out->error, sizeof(out->error), "tag %u has no name", n);
			return MXF_EINVAL;
		}
		for (size_t k = a; k < ne; k++)
			if (!isalnum((unsigned char)txt[k]) && txt[k] != '_') {
				snprintf(out->error, sizeof(out->error), "tag %u: bad tag name", n);
				return MXF_EINVAL;
			}
		if (out->n == AUDIT_TAGS_MAX || ne - a >= AUDIT_TAG_NAME_MAX ||
		    b - vs >= AUDIT_TAG_VALUE_MAX) {
			snprintf(out->error, sizeof(out->error), "tag %u: too many or too long tags",
				 n);
			return MXF_ETOOBIG;
		}
		struct audit_tag *t = &out->tags[out->n];
		memcpy(t->name, txt + a, ne - a);
		t->name[ne - a] = '\0';
		memcpy(t->value, txt + vs, b - vs);
		t->value[b - vs] = '\0';
		for (size_t k = 0; k < out->n; k++)
			if (strcasecmp(out->tags[k].name, t->name) == 0) {
				snprintf(out->error, sizeof(out->error), "tag \"%s\" given twice",
					 t->name);
				return MXF_EINVAL;
			}
		out->n++;
	}
	return 0;
}

const char *
audit_tags_get(const struct audit_tags *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcasecmp(t->tags[i].name, name) == 0)
			return t->tags[i].value;
	return NULL;
}

/* Whether @txt starts with @v followed by white space, ';' or the end. */
static bool
tags_starts(const char *txt, size_t len, const char *v)
{
	size_t n = strlen(v);
	size_t i = 0;
	while (i < len && tags_ws(txt[i]))
		i++;
	if (len - i < n || strncmp(txt + i, v, n) != 0)
		return false;
	i += n;
	while (i < len && tags_ws(txt[i]))
		i++;
	return i == len || txt[i] == ';';
}

/* The first tag must be v=@v exactly. */
static bool
tags_version(const struct audit_tags *t, const char *v, char *why, size_t whylen)
{
	if (t->n == 0 || strcmp(t->tags[0].name, "v") != 0 || strcmp(t->tags[0].value, v) != 0) {
		snprintf(why, whylen, "the first tag must be v=%s", v);
		return false;
	}
	return true;
}

/* A comma-separated list of URIs with one of the @schemes (NULL-ended;
 * NULL = any scheme); a "!size" suffix (DMARC 6.2) is allowed. */
static bool
tags_uris(const char *list, const char *const *schemes, char *why, size_t whylen,
	  const char *tag)
{
	const char *p = list;
	unsigned n = 0;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		while (l > 0 && tags_ws(*p)) {
			p++;
			l--;
		}
		while (l > 0 && tags_ws(p[l - 1]))
			l--;
		size_t s = 0;
		while (s < l && (isalnum((unsigned char)p[s]) || strchr("+-.", p[s])))
			s++;
		if (l == 0 || s == 0 || s >= l || p[s] != ':' || !isalpha((unsigned char)p[0]) ||
		    s + 1 == l) {
			snprintf(why, whylen, "%s: \"%.*s\" is not a URI", tag,
				 (int)(l > 60 ? 60 : l), p);
			return false;
		}
		if (schemes) {
			bool ok = false;
			for (size_t k = 0; schemes[k]; k++)
				if (strlen(schemes[k]) == s && strncasecmp(p, schemes[k], s) == 0)
					ok = true;
			if (!ok) {
				snprintf(why, whylen, "%s: URI scheme \"%.*s\" not allowed", tag,
					 (int)(s > 20 ? 20 : s), p);
				return false;
			}
		}
		for (size_t k = s + 1; k < l; k++)
			if ((unsigned char)p[k] <= 0x20 || (unsigned char)p[k] >= 0x7f) {
				snprintf(why, whylen, "%s: URI with white space or control characters",
					 tag);
				return false;
			}
		n++;
		if (!e)
			break;
		p = e + 1;
	}
	return n > 0;
}

bool
audit_dmarc_is_record(const char *txt, size_t len)
{
	return tags_starts(txt, len, "v=DMARC1");
}

static bool
dmarc_policy(const char *v, enum audit_dmarc_policy *p)
{
	if (strcasecmp(v, "none") == 0)
		*p = AUDIT_DMARC_NONE;
	else if (strcasecmp(v, "quarantine") == 0)
		*p = AUDIT_DMARC_QUARANTINE;
	else if (strcasecmp(v, "reject") == 0)
		*p = AUDIT_DMARC_REJECT;
	else
		return false;
	return true;
}

static bool
dmarc_uint(const char *v, long max, long *out)
{
	char *end;
	if (!isdigit((unsigned char)v[0]))
		return false;
	long n = strtol(v, &end, 10);
	if (*end || n > max)
		return false;
	*out = n;
	return true;
}

int
audit_dmarc_parse(const char *txt, size_t len, struct audit_dmarc *out)
{
	struct audit_tags t;
	char *why = out->error;
	size_t wl = sizeof(out->error);

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	if (audit_tags_parse(txt, len, &t) != 0) {
		snprintf(why, wl, "%s", t.error);
		return MXF_EINVAL;
	}
	if (!tags_version(&t, "DMARC1", why, wl))
		return MXF_EINVAL;
	for (size_t i = 1; i < t.n; i++) {
		const char *n = t.tags[i].name, *v = t.tags[i].value;
		long num;
		if (strcasecmp(n, "v") == 0) {
			snprintf(why, wl, "v= given twice");
			return MXF_EINVAL;
		}
		if (strcasecmp(n, "p") == 0 || strcasecmp(n, "sp") == 0) {
			enum audit_dmarc_policy *p = n[0] == 'p' || n[0] == 'P' ? &out->p : &out->sp;
			if (!dmarc_policy(v, p)) {
				snprintf(why, wl, "%s=%.40s: not none, quarantine or reject", n, v);
				return MXF_EINVAL;
			}
		} else if (strcasecmp(n, "pct") == 0) {
			if (!dmarc_uint(v, 100, &num)) {
				snprintf(why, wl, "pct=%.20s: not a number from 0 to 100", v);
				return MXF_EINVAL;
			}
			out->pct = (int)num;
		} else if (strcasecmp(n, "adkim") == 0 || strcasecmp(n, "aspf") == 0) {
			if (strcasecmp(v, "r") != 0 && strcasecmp(v, "s") != 0) {
				snprintf(why, wl, "%s=%.20s: not r or s", n, v);
				return MXF_EINVAL;
			}
		} else if (strcasecmp(n, "fo") == 0) {
			for (const char *p = v; *p; p++) {
				bool opt = strchr("01dsDS", *p) != NULL;
				bool first = p == v || p[-1] == ':';
				if (!(first ? opt : *p == ':') || (*p == ':' && !p[1])) {
					snprintf(why, wl, "fo=%.20s: not 0, 1, d, s joined by ':'", v);
					return MXF_EINVAL;
				}
			}
			if (!*v) {
				snprintf(why, wl, "fo= is empty");
				return MXF_EINVAL;
			}
		} else if (strcasecmp(n, "ri") == 0) {
			if (!dmarc_uint(v, 4294967295L, &num)) {
				snprintf(why, wl, "ri=%.20s: not a number", v);
				return MXF_EINVAL;
			}
		} else if (strcasecmp(n, "rua") == 0 || strcasecmp(n, "ruf") == 0) {
			if (!tags_uris(v, NULL, why, wl, n))
				return MXF_EINVAL;
		}
	}
	const char *p = audit_tags_get(&t, "p");
	if (t.n < 2 || !p) {
		if (!audit_tags_get(&t, "rua")) {
			snprintf(why, wl, "no p= tag (none, quarantine or reject)");
			return MXF_EINVAL;
		}
		out->p_implied = true;
		out->p = AUDIT_DMARC_NONE;
	}
	if (!audit_tags_get(&t, "sp"))
		out->sp = out->p;
	return 0;
}

bool
audit_mtasts_is_record(const char *txt, size_t len)
{
	return tags_starts(txt, len, "v=STSv1");
}

int
audit_mtasts_txt_parse(const char *txt, size_t len, char id[33], char *why, size_t whylen)
{
	struct audit_tags t;

	id[0] = '\0';
	if (audit_tags_parse(txt, len, &t) != 0) {
		snprintf(why, whylen, "%s", t.error);
		return MXF_EINVAL;
	}
	if (!tags_version(&t, "STSv1", why, whylen))
		return MXF_EINVAL;
	const char *v = audit_tags_get(&t, "id");
	if (!v) {
		snprintf(why, whylen, "no id= tag");
		return MXF_EINVAL;
	}
	size_t n = strlen(v);
	bool ok = n >= 1 && n <= 32;
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)v[i]);
	if (!ok) {
		snprintf(why, whylen, "id=%.40s: not 1 to 32 letters and digits", v);
		return MXF_EINVAL;
	}
	memcpy(id, v, n + 1);
	return 0;
}

bool
audit_tlsrpt_is_record(const char *txt, size_t len)
{
	return tags_starts(txt, len, "v=TLSRPTv1");
}

int
audit_tlsrpt_parse(const char *txt, size_t len, char *why, size_t whylen)
{
	static const char *const schemes[] = {"mailto", "https", NULL};
	struct audit_tags t;

	if (audit_tags_parse(txt, len, &t) != 0) {
		snprintf(why, whylen, "%s", t.error);
		return MXF_EINVAL;
	}
	if (!tags_version(&t, "TLSRPTv1", why, whylen))
		return MXF_EINVAL;
	const char *rua = audit_tags_get(&t, "rua");
	if (!rua) {
		snprintf(why, whylen, "no rua= tag (where reports go)");
		return MXF_EINVAL;
	}
	if (!tags_uris(rua, schemes, why, whylen, "rua"))
		return MXF_EINVAL;
	return 0;
}
