/*
 * audit_spf.c -- SPF record syntax (RFC 7208 section 12), lookup-costing
 * terms and address coverage.  See audit_spf.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "audit_spf.h"
#include "mxf.h"

static const char *const kind_names[] = {
	[AUDIT_SPF_ALL] = "all",         [AUDIT_SPF_INCLUDE] = "include",
	[AUDIT_SPF_A] = "a",             [AUDIT_SPF_MX] = "mx",
	[AUDIT_SPF_PTR] = "ptr",         [AUDIT_SPF_IP4] = "ip4",
	[AUDIT_SPF_IP6] = "ip6",         [AUDIT_SPF_EXISTS] = "exists",
	[AUDIT_SPF_REDIRECT] = "redirect", [AUDIT_SPF_EXP] = "exp",
	[AUDIT_SPF_UNKNOWN] = "modifier",
};

const char *
audit_spf_kind_name(enum audit_spf_kind k)
{
	if ((size_t)k < sizeof(kind_names) / sizeof(kind_names[0]) && kind_names[k])
		return kind_names[k];
	return "?";
}

bool
audit_spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

/* A macro-string (RFC 7208 7.1) of @len bytes at @s; @exp allows the
 * c, r, t letters of explanation strings.  Sets *@macro when one appears. */
static bool
spf_macro_string(const char *s, size_t len, bool exp, bool *macro, const char **why)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch != '%') {
			if (ch < 0x21 || ch > 0x7e) {
				*why = "character not allowed in a domain-spec";
				return false;
			}
			continue;
		}
		if (++i >= len) {
			*why = "'%' at the end";
			return false;
		}
		if (s[i] == '%' || s[i] == '_' || s[i] == '-')
			continue;
		if (s[i] != '{') {
			*why = "'%' not followed by '{', '%', '_' or '-'";
			return false;
		}
		if (++i >= len) {
			*why = "unterminated macro";
			return false;
		}
		char letter = (char)tolower((unsigned char)s[i]);
		if (!strchr("slodiphv", letter) && !(exp && strchr("crt", letter))) {
			*why = "unknown macro letter";
			return false;
		}
		i++;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i < len && (s[i] == 'r' || s[i] == 'R'))
			i++;
		while (i < len && strchr(".-+,/_=", s[i]))
			i++;
		if (i >= len || s[i] != '}') {
			*why = "unterminated macro";
			return false;
		}
		*macro = true;
	}
	return true;
}

/* A domain-spec: a macro-string that ends in a macro or in a top label
 * (alphanumerics and hyphens, at least one letter, not starting or ending
 * with a hyphen), optionally with a trailing dot. */
static bool
spf_domain_spec(const char *s, size_t len, struct audit_spf_term *t, const char **why)
{
	if (len == 0) {
		*why = "empty domain-spec";
		return false;
	}
	if (len >= AUDIT_SPF_DOMAIN_MAX) {
		*why = "domain-spec too long";
		return false;
	}
	if (!spf_macro_string(s, len, false, &t->macro, why))
		return false;
	memcpy(t->domain, s, len);
	t->domain[len] = '\0';
	if (len > 0 && s[len - 1] == '}')
		return true;
	size_t end = len;
	if (s[end - 1] == '.')
		end--;
	size_t start = end;
	while (start > 0 && s[start - 1] != '.' && s[start - 1] != '}')
		start--;
	if (start == 0 || s[start - 1] != '.') {
		/* One label only: not a domain under a top-level domain. */
		*why = "not a domain name (no top label)";
		return false;
	}
	bool alpha = false;
	if (start == end || end - start > 63) {
		*why = "bad top label";
		return false;
	}
	for (size_t i = start; i < end; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (isalpha(ch))
			alpha = true;
		else if (!isdigit(ch) && ch != '-') {
			*why = "bad top label";
			return false;
		}
	}
	if (!alpha || s[start] == '-' || s[end - 1] == '-') {
		*why = "bad top label";
		return false;
	}
	/* Empty labels ("a..b") and labels over 63 octets are not names. */
	size_t lab = 0;
	for (size_t i = 0; i < end; i++) {
		if (s[i] == '.') {
			if (lab == 0) {
				*why = "empty label";
				return false;
			}
			lab = 0;
		} else if (++lab > 63) {
			*why = "label longer than 63 octets";
			return false;
		}
	}
	return true;
}

/* "/N" with N in 0..@max, no leading zero; @return chars used or 0. */
static size_t
spf_cidr(const char *s, size_t len, int max, int *out)
{
	if (len < 2 || s[0] != '/' || !isdigit((unsigned char)s[1]))
		return 0;
	if (s[1] == '0' && len > 2 && isdigit((unsigned char)s[2]))
		return 0;
	int v = 0;
	size_t i = 1;
	while (i < len && isdigit((unsigned char)s[i]) && i < 5)
		v = v * 10 + (s[i++] - '0');
	if (v > max || (i < len && isdigit((unsigned char)s[i])))
		return 0;
	*out = v;
	return i;
}

/* Split an a/mx argument "[:domain][/n4][//n6]" into the domain and the
 * dual cidr length. */
static bool
spf_dual(const char *arg, size_t len, struct audit_spf_term *t, const char **why)
{
	/* The cidr part starts at the last '/' run that forms a valid suffix:
	 * find "//" or a final "/digits". */
	size_t cut = len;
	const char *d6 = NULL;
	for (size_t i = 0; i + 1 < len; i++)
		if (arg[i] == '/' && arg[i + 1] == '/')
			d6 = arg + i;
	if (d6) {
		size_t n = spf_cidr(d6 + 1, len - (size_t)(d6 + 1 - arg), 128, &t->cidr6);
		if (n == 0 || d6 + 1 + n != arg + len) {
			*why = "bad IPv6 cidr length";
			return false;
		}
		cut = (size_t)(d6 - arg);
	}
	size_t slash = cut;
	while (slash > 0 && arg[slash - 1] != '/' && isdigit((unsigned char)arg[slash - 1]))
		slash--;
	if (slash > 0 && arg[slash - 1] == '/') {
		size_t n = spf_cidr(arg + slash - 1, cut - slash + 1, 32, &t->cidr4);
		if (n == 0 || slash - 1 + n != cut) {
			*why = "bad IPv4 cidr length";
			return false;
		}
		cut = slash - 1;
	} else if (cut > 0 && arg[cut - 1] == '/') {
		*why = "bad cidr length";
		return false;
	}
	if (cut == 0)
		return true;
	if (arg[0] != ':') {
		*why = "unexpected text after the mechanism name";
		return false;
	}
	return spf_domain_spec(arg + 1, cut - 1, t, why);
}

static bool
spf_ip(const char *arg, size_t len, struct audit_spf_term *t, bool v6, const char **why)
{
	char buf[64];
	size_t cut = len;

	for (size_t i = 0; i < len; i++)
		if (arg[i] == '/') {
			cut = i;
			break;
		}
	if (len < 2 || arg[0] != ':' || cut - 1 >= sizeof(buf) || cut < 2) {
		*why = v6 ? "bad IPv6 network" : "bad IPv4 network";
		return false;
	}
	memcpy(buf, arg + 1, cut - 1);
	buf[cut - 1] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, t->addr) != 1) {
		*why = v6 ? "bad IPv6 network" : "bad IPv4 network";
		return false;
	}
	if (cut < len) {
		int *p = v6 ? &t->cidr6 : &t->cidr4;
		size_t n = spf_cidr(arg + cut, len - cut, v6 ? 128 : 32, p);
		if (n == 0 || cut + n != len) {
			*why = "bad cidr length";
			return false;
		}
	}
	return true;
}

static const struct {
	const char *name;
	enum audit_spf_kind kind;
} mechs[] = {
	{"all", AUDIT_SPF_ALL}, {"include", AUDIT_SPF_INCLUDE}, {"a", AUDIT_SPF_A},
	{"mx", AUDIT_SPF_MX},   {"ptr", AUDIT_SPF_PTR},         {"ip4", AUDIT_SPF_IP4},
	{"ip6", AUDIT_SPF_IP6}, {"exists", AUDIT_SPF_EXISTS},
};

/* One term (@s, @len); @return NULL when fine, else why not. */
static const char *
spf_term(struct audit_spf *out, const char *s, size_t len)
{
	struct audit_spf_term *t = &out->terms[out->nterms];
	const char *why = NULL;
	size_t name = 0;

	memset(t, 0, sizeof(*t));
	for (size_t k = 0; k < len; k++)
		if ((unsigned char)s[k] < 0x21 || (unsigned char)s[k] > 0x7e)
			return "control or non-ASCII character";
	t->qualifier = '+';
	t->cidr4 = 32;
	t->cidr6 = 128;
	while (name < len && (isalnum((unsigned char)s[name]) || s[name] == '-' ||
			      s[name] == '_' || s[name] == '.'))
		name++;
	if (name < len && s[name] == '=') {
		/* A modifier: name "=" macro-string. */
		if (name == 0 || !isalpha((unsigned char)s[0]))
			return "bad modifier name";
		const char *val = s + name + 1;
		size_t vlen = len - name - 1;
		if (name == 8 && strncasecmp(s, "redirect", 8) == 0) {
			if (out->redirect >= 0)
				return "redirect= given twice";
			t->kind = AUDIT_SPF_REDIRECT;
			out->redirect = (int)out->nterms;
			out->lookups++;
			return spf_domain_spec(val, vlen, t, &why) ? NULL : why;
		}
		if (name == 3 && strncasecmp(s, "exp", 3) == 0) {
			for (size_t i = 0; i < out->nterms; i++)
				if (out->terms[i].kind == AUDIT_SPF_EXP)
					return "exp= given twice";
			t->kind = AUDIT_SPF_EXP;
			return spf_domain_spec(val, vlen, t, &why) ? NULL : why;
		}
		t->kind = AUDIT_SPF_UNKNOWN;
		bool macro = false;
		return spf_macro_string(val, vlen, false, &macro, &why) ? NULL : why;
	}
	size_t i = 0;
	if (len > 0 && strchr("+-~?", s[0]))
		t->qualifier = s[i++];
	size_t nend = i;
	while (nend < len && isalnum((unsigned char)s[nend]))
		nend++;
	size_t k;
	for (k = 0; k < sizeof(mechs) / sizeof(mechs[0]); k++)
		if (strlen(mechs[k].name) == nend - i && strncasecmp(s + i, mechs[k].name, nend - i) == 0)
			break;
	if (k == sizeof(mechs) / sizeof(mechs[0]))
		return "unknown mechanism";
	t->kind = mechs[k].kind;
	const char *arg = s + nend;
	size_t alen = len - nend;
	switch (t->kind) {
	case AUDIT_SPF_ALL:
		out->has_all = true;
		return alen == 0 ? NULL : "\"all\" takes no argument";
	case AUDIT_SPF_INCLUDE:
	case AUDIT_SPF_EXISTS:
		out->lookups++;
		if (alen < 1 || arg[0] != ':')
			return "needs \":domain\"";
		return spf_domain_spec(arg + 1, alen - 1, t, &why) ? NULL : why;
	case AUDIT_SPF_PTR:
		out->lookups++;
		if (alen == 0)
			return NULL;
		if (arg[0] != ':')
			return "unexpected text after the mechanism name";
		return spf_domain_spec(arg + 1, alen - 1, t, &why) ? NULL : why;
	case AUDIT_SPF_A:
	case AUDIT_SPF_MX:
		out->lookups++;
		return spf_dual(arg, alen, t, &why) ? NULL : why;
	case AUDIT_SPF_IP4:
	case AUDIT_SPF_IP6:
		return spf_ip(arg, alen, t, t->kind == AUDIT_SPF_IP6, &why) ? NULL : why;
	default:
		return "unknown mechanism";
	}
}

int
audit_spf_parse(const char *txt, size_t len, struct audit_spf *out)
{
	memset(out, 0, sizeof(*out));
	out->redirect = -1;
	if (!audit_spf_is_record(txt, len)) {
		snprintf(out->error, sizeof(out->error), "does not start with \"v=spf1\"");
		return MXF_EINVAL;
	}
	size_t i = 6;
	unsigned n = 0;
	while (i < len) {
		while (i < len && txt[i] == ' ')
			i++;
		if (i >= len)
			break;
		size_t start = i;
		while (i < len && txt[i] != ' ')
			i++;
		n++;
		if (out->nterms == AUDIT_SPF_TERMS_MAX) {
			snprintf(out->error, sizeof(out->error), "more than %d terms",
				 AUDIT_SPF_TERMS_MAX);
			return MXF_ETOOBIG;
		}
		const char *why = spf_term(out, txt + start, i - start);
		if (why) {
			char q[80];
			size_t tl = i - start;
			size_t o = 0;
			for (size_t j = 0; j < tl && o + 5 < sizeof(q); j++) {
				unsigned char ch = (unsigned char)txt[start + j];
				if (ch >= 0x20 && ch < 0x7f && ch != '"')
					q[o++] = (char)ch;
				else
					o += (size_t)snprintf(q + o, sizeof(q) - o, "\\x%02x", ch);
			}
			q[o] = '\0';
			snprintf(out->error, sizeof(out->error), "term %u \"%s%s\": %s", n, q,
				 o + 5 >= sizeof(q) && tl > o ? "..." : "", why);
			return MXF_EINVAL;
		}
		out->nterms++;
	}
	return 0;
}

bool
audit_spf_term_net(const struct audit_spf_term *t, int family, const uint8_t *addr,
		   struct audit_spf_net *out)
{
	memset(out, 0, sizeof(*out));
	switch (t->kind) {
	case AUDIT_SPF_IP4:
		out->family = AF_INET;
		memcpy(out->addr, t->addr, 4);
		out->prefix = t->cidr4;
		return true;
	case AUDIT_SPF_IP6:
		out->family = AF_INET6;
		memcpy(out->addr, t->addr, 16);
		out->prefix = t->cidr6;
		return true;
	case AUDIT_SPF_A:
	case AUDIT_SPF_MX:
		if (!addr || (family != AF_INET && family != AF_INET6))
			return false;
		out->family = family;
		memcpy(out->addr, addr, family == AF_INET ? 4 : 16);
		out->prefix = family == AF_INET ? t->cidr4 : t->cidr6;
		return true;
	default:
		return false;
	}
}

bool
audit_spf_net_covers(const struct audit_spf_net *nets, size_t n, int family,
		     const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		if (nets[i].family != family)
			continue;
		int bits = nets[i].prefix;
		size_t full = (size_t)bits / 8;
		if (memcmp(nets[i].addr, addr, full) != 0)
			continue;
		if (bits % 8) {
			uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
			if ((nets[i].addr[full] & mask) != (addr[full] & mask))
				continue;
		}
		return true;
	}
	return false;
}
