/*
 * quorum_view.c -- the TXT record a monitor publishes its view in: its
 * strings written and read (the grammar is in quorum.h).  The record comes
 * from the network, so the reader trusts no length and no byte of it, and
 * quotes only a few escaped bytes of it in its messages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxf.h"
#include "quorum.h"
#include "quorum_impl.h"

static const char *const quorum_state_words[] = {"unknown", "up", "down"};

_Static_assert(MXF_ARRAY_SIZE(quorum_state_words) == HEALTH_DOWN + 1, "one word per state");

int
quorum_view_init(struct quorum_view *v, const struct config *cfg)
{
	memset(v, 0, sizeof(*v));
	v->states = mxf_calloc(cfg->nservers, sizeof(*v->states));
	if (v->states == NULL)
		return MXF_ENOMEM;
	for (size_t i = 0; i < cfg->nservers; i++)
		v->states[i] = HEALTH_UNKNOWN;
	return 0;
}

void
quorum_view_clear(struct quorum_view *v)
{
	free(v->states);
	memset(v, 0, sizeof(*v));
}

bool
quorum_boot_valid(const char *s, size_t len)
{
	if (len != QUORUM_BOOT_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool
quorum_server_id_valid(const char *id)
{
	size_t len = strlen(id);

	/* "<id>=unknown" must fit one string. */
	return len > 0 && strchr(id, '=') == NULL &&
	       len + 1 + strlen("unknown") <= QUORUM_STRING_MAX;
}

void
quorum_strs_free(char **strs, size_t n)
{
	if (strs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(strs[i]);
	free(strs);
}

/*
 * Append one formatted string to @s at *k.
 * @return 0, MXF_EINVAL when it would pass QUORUM_STRING_MAX, MXF_ENOMEM.
 */
static int quorum_add(char **s, size_t *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
quorum_add(char **s, size_t *k, const char *fmt, ...)
{
	char buf[QUORUM_STRING_MAX + 1];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0 || len > QUORUM_STRING_MAX)
		return MXF_EINVAL;
	s[*k] = strdup(buf);
	if (s[*k] == NULL)
		return MXF_ENOMEM;
	(*k)++;
	return 0;
}

int
quorum_view_format(const struct config *cfg, const struct quorum_view *v, char ***strs, size_t *n)
{
	size_t k = 0;
	char **s;
	int e;

	if (!quorum_boot_valid(v->boot, strnlen(v->boot, sizeof(v->boot))))
		return MXF_EINVAL;
	for (size_t i = 0; i < cfg->nservers; i++)
		if ((unsigned)v->states[i] > HEALTH_DOWN ||
		    !quorum_server_id_valid(cfg->servers[i].id))
			return MXF_EINVAL;
	s = mxf_calloc(4 + cfg->nservers, sizeof(*s));
	if (s == NULL)
		return MXF_ENOMEM;
	if ((e = quorum_add(s, &k, "%s", QUORUM_VERSION)) != 0 ||
	    (e = quorum_add(s, &k, "boot=%s", v->boot)) != 0 ||
	    (e = quorum_add(s, &k, "seq=%llu", (unsigned long long)v->seq)) != 0)
		goto fail;
	if (v->has_at && (e = quorum_add(s, &k, "at=%llu", (unsigned long long)v->at_s)) != 0)
		goto fail;
	for (size_t i = 0; i < cfg->nservers; i++)
		if ((e = quorum_add(s, &k, "%s=%s", cfg->servers[i].id,
				    quorum_state_words[v->states[i]])) != 0)
			goto fail;
	*strs = s;
	*n = k;
	return 0;
fail:
	quorum_strs_free(s, k);
	return e;
}

/* ---- reading -------------------------------------------------------------- */

/*
 * Quote at most a few bytes of a string from the record for a message,
 * escaping what is not printable ASCII, so that a hostile record can
 * neither flood nor garble the log.
 */
static void
quorum_quote(const char *s, size_t len, char *out, size_t outlen)
{
	const size_t shown = 32;
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < len && i < shown && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (len > shown && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

static int
quorum_fail(char *err, size_t errlen, const char *what, const char *s, size_t len)
{
	char q[160];

	if (err != NULL && errlen > 0) {
		if (s != NULL) {
			quorum_quote(s, len, q, sizeof(q));
			snprintf(err, errlen, "%s: \"%s\"", what, q);
		} else {
			snprintf(err, errlen, "%s", what);
		}
	}
	return MXF_EINVAL;
}

/* Whether @s (@len bytes) starts with the NUL-terminated @prefix. */
static bool
quorum_has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);
	return len >= pl && memcmp(s, prefix, pl) == 0;
}

/* Decimal digits into a uint64: 1..20 digits, no overflow; with @canonical
 * no leading zero either (seq: one value, one spelling). */
static bool
quorum_u64(const char *s, size_t len, bool canonical, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (canonical && len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* The state word of a server string; anything else is unknown (a newer
 * version may have more states; they are no vote for up or down). */
static enum health_state
quorum_state_word(const char *s, size_t len)
{
	for (size_t i = 0; i < MXF_ARRAY_SIZE(quorum_state_words); i++)
		if (strlen(quorum_state_words[i]) == len &&
		    memcmp(s, quorum_state_words[i], len) == 0)
			return (enum health_state)i;
	return HEALTH_UNKNOWN;
}

/* The server of @cfg whose id is @key (@len bytes), or -1. */
static long
quorum_server_key(const struct config *cfg, const char *key, size_t len)
{
	for (size_t i = 0; i < cfg->nservers; i++)
		if (strlen(cfg->servers[i].id) == len && memcmp(cfg->servers[i].id, key, len) == 0)
			return (long)i;
	return -1;
}

int
quorum_view_parse(const struct config *cfg, const char *const *strs, const size_t *lens, size_t n,
		  struct quorum_view *out, char *err, size_t errlen)
{
	enum health_state *states = NULL;
	bool *listed = NULL;
	struct quorum_view v = {0};
	char what[96];
	int e = MXF_EINVAL;

	for (size_t i = 0; i < n; i++) {
		size_t len = lens != NULL ? lens[i] : strlen(strs[i]);
		if (len > QUORUM_STRING_MAX) {
			snprintf(what, sizeof(what), "string %zu is longer than %d bytes", i + 1,
				 QUORUM_STRING_MAX);
			return quorum_fail(err, errlen, what, strs[i], len);
		}
		if (memchr(strs[i], '\0', len) != NULL) {
			snprintf(what, sizeof(what), "string %zu holds a NUL byte", i + 1);
			return quorum_fail(err, errlen, what, strs[i], len);
		}
	}
	if (n < 3) {
		snprintf(what, sizeof(what),
			 "%zu strings; a view starts with \"%s\" \"boot=...\" \"seq=...\"", n,
			 QUORUM_VERSION);
		return quorum_fail(err, errlen, what, NULL, 0);
	}
#define LEN(i) (lens != NULL ? lens[i] : strlen(strs[i]))
	if (LEN(0) != strlen(QUORUM_VERSION) || memcmp(strs[0], QUORUM_VERSION, LEN(0)) != 0)
		return quorum_fail(err, errlen, "not a version " QUORUM_VERSION " view", strs[0],
				   LEN(0));
	if (!quorum_has_prefix(strs[1], LEN(1), "boot=") ||
	    !quorum_boot_valid(strs[1] + 5, LEN(1) - 5))
		return quorum_fail(err, errlen, "boot: not boot= and 16 lower-case hex digits",
				   strs[1], LEN(1));
	memcpy(v.boot, strs[1] + 5, QUORUM_BOOT_LEN);
	v.boot[QUORUM_BOOT_LEN] = '\0';
	if (!quorum_has_prefix(strs[2], LEN(2), "seq=") ||
	    !quorum_u64(strs[2] + 4, LEN(2) - 4, true, &v.seq))
		return quorum_fail(err, errlen, "seq: not seq= and a decimal number below 2^64",
				   strs[2], LEN(2));

	states = mxf_calloc(cfg->nservers, sizeof(*states));
	listed = mxf_calloc(cfg->nservers, sizeof(*listed));
	if (states == NULL || listed == NULL) {
		e = MXF_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < cfg->nservers; i++)
		states[i] = HEALTH_UNKNOWN;
	for (size_t i = 3; i < n; i++) {
		size_t len = LEN(i);
		const char *eq = memchr(strs[i], '=', len);
		size_t klen, vlen;
		long srv;

		if (eq == NULL)
			continue; /* not KEY=VALUE: a later version's, ignored */
		klen = (size_t)(eq - strs[i]);
		vlen = len - klen - 1;
		srv = quorum_server_key(cfg, strs[i], klen);
		if (klen == 2 && memcmp(strs[i], "at", 2) == 0 && !v.has_at &&
		    quorum_u64(eq + 1, vlen, false, &v.at_s)) {
			v.has_at = true;
			continue;
		}
		if (srv < 0)
			continue; /* an unknown key, or a server we do not have */
		if (listed[srv]) {
			quorum_fail(err, errlen, "a server is listed twice", strs[i], len);
			goto fail;
		}
		listed[srv] = true;
		states[srv] = quorum_state_word(eq + 1, vlen);
	}
#undef LEN
	memcpy(out->boot, v.boot, sizeof(out->boot));
	out->seq = v.seq;
	out->has_at = v.has_at;
	out->at_s = v.has_at ? v.at_s : 0;
	memcpy(out->states, states, cfg->nservers * sizeof(*states));
	free(states);
	free(listed);
	return 0;
fail:
	free(states);
	free(listed);
	return e;
}
