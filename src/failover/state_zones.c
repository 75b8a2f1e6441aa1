/*
 * state_zones.c -- the zones' part of the state in its companion file,
 * rewritten only when it changed; see state_zones.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "mxf.h"
#include "state.h"
#include "state_file.h"
#include "state_zones.h"

char *
state_zones_path(const char *path)
{
	size_t n = strlen(path);
	char *p = malloc(n + sizeof(".zones"));
	if (p) {
		memcpy(p, path, n);
		memcpy(p + n, ".zones", sizeof(".zones"));
	}
	return p;
}

/* ---- the hash -------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static uint64_t
fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t
fnv_u64(uint64_t h, uint64_t v)
{
	return fnv_bytes(h, &v, sizeof(v));
}

/* A string with its length first, so "ab"+"c" and "a"+"bc" differ. */
static uint64_t
fnv_str(uint64_t h, const char *s)
{
	size_t n = s ? strlen(s) : SIZE_MAX;
	h = fnv_u64(h, (uint64_t)n);
	return s ? fnv_bytes(h, s, n) : h;
}

uint64_t
state_zones_hash(const struct state *st, const struct config *cfg)
{
	uint64_t h = fnv_u64(FNV_OFFSET, STATE_VERSION);
	for (size_t g = 0; g < cfg->ngroups && g < st->ngroups; g++) {
		const struct config_group *gr = &cfg->groups[g];
		const struct failover_group_mem *m = &st->failover->groups[g];
		const struct failover_dns *seen = st->seen[g];
		h = fnv_str(h, gr->id);
		for (size_t z = 0; z < gr->nzones; z++) {
			h = fnv_str(h, gr->zones[z]);
			h = fnv_u64(h, m->zones[z].failed);
			h = fnv_u64(h, (uint64_t)m->zones[z].intent);
			for (size_t r = 0; r < gr->nrecords; r++) {
				const struct failover_rec_view *v = &seen->zones[z].recs[r];
				size_t k = z * m->nrecords + r;
				h = fnv_str(h, gr->records[r]);
				h = fnv_u64(h, (uint64_t)v->status);
				h = fnv_u64(h, (uint64_t)v->ttl);
				h = fnv_u64(h, v->nvalues);
				for (size_t i = 0; i < v->nvalues; i++)
					h = fnv_str(h, v->values[i]);
				h = fnv_u64(h, m->hand_changed[k]);
				h = fnv_u64(h, m->missing[k]);
				h = fnv_u64(h, (uint64_t)m->written[k]);
			}
		}
	}
	return h;
}

/* ---- the zone objects ------------------------------------------------ */

static void
zset(json_t *obj, const char *key, json_t *v, bool *bad)
{
	if (!v || json_object_set_new(obj, key, v) != 0)
		*bad = true;
}

static json_t *
server_or_null(const struct config *cfg, long i)
{
	return i >= 0 && (size_t)i < cfg->nservers ? json_string(cfg->servers[i].id) : json_null();
}

json_t *
state_zone_json(const struct config *cfg, const struct state *st, size_t g, size_t z, bool *bad)
{
	const struct config_group *gr = &cfg->groups[g];
	const struct failover_group_mem *m = &st->failover->groups[g];
	const struct failover_dns *seen = st->seen[g];
	json_t *zo = json_object(), *recs = json_object();
	if (!zo || !recs) {
		json_decref(zo);
		json_decref(recs);
		*bad = true;
		return NULL;
	}
	zset(zo, "failed", json_boolean(m->zones[z].failed), bad);
	zset(zo, "intent", server_or_null(cfg, m->zones[z].intent), bad);
	for (size_t r = 0; r < gr->nrecords; r++) {
		const struct failover_rec_view *v = &seen->zones[z].recs[r];
		size_t k = z * m->nrecords + r;
		json_t *ro = json_object(), *vals = json_array();
		zset(recs, gr->records[r], ro, bad);
		if (!ro || !vals) {
			json_decref(vals);
			*bad = true;
			break;
		}
		for (size_t i = 0; i < v->nvalues; i++)
			if (json_array_append_new(vals, json_string(v->values[i])) != 0)
				*bad = true;
		zset(ro, "status", json_string(failover_rec_status_name(v->status)), bad);
		zset(ro, "values", vals, bad);
		zset(ro, "ttl", json_integer(v->ttl), bad);
		zset(ro, "hand_changed", json_boolean(m->hand_changed[k]), bad);
		zset(ro, "missing", json_boolean(m->missing[k]), bad);
		zset(ro, "written", server_or_null(cfg, m->written[k]), bad);
	}
	zset(zo, "records", recs, bad);
	return zo;
}

/* ---- writing --------------------------------------------------------- */

/* A growing text; @bad once anything could not be added. */
struct zbuf {
	char *p;
	size_t len, cap;
	bool bad;
};

static int
zbuf_add(const char *s, size_t n, void *arg)
{
	struct zbuf *b = arg;
	if (b->bad)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64 * 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->bad = true;
			return -1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static void
zbuf_str(struct zbuf *b, const char *s)
{
	zbuf_add(s, strlen(s), b);
}

/* @v dumped compact into @b, and released. */
static void
zbuf_json(struct zbuf *b, json_t *v)
{
	if (!v || json_dump_callback(v, zbuf_add, b,
				     JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) != 0)
		b->bad = true;
	json_decref(v);
}

/* The companion's text, built one zone at a time: its memory is the text,
 * not a JSON tree of every record. */
static void
zones_text(struct zbuf *b, const struct config *cfg, const struct state *st, uint64_t now_ms)
{
	char head[128];
	snprintf(head, sizeof(head), "{\"version\": %d, \"program\": ", STATE_VERSION);
	zbuf_str(b, head);
	zbuf_json(b, json_string("mxfailover " MXF_VERSION_STRING));
	snprintf(head, sizeof(head), ", \"saved_ms\": %llu,\n \"groups\": {",
		 (unsigned long long)now_ms);
	zbuf_str(b, head);
	for (size_t g = 0; g < cfg->ngroups && g < st->ngroups && !b->bad; g++) {
		const struct config_group *gr = &cfg->groups[g];
		zbuf_str(b, g ? ",\n  " : "\n  ");
		zbuf_json(b, json_string(gr->id));
		zbuf_str(b, ": {\"zones\": {");
		for (size_t z = 0; z < gr->nzones && !b->bad; z++) {
			zbuf_str(b, z ? ",\n   " : "\n   ");
			zbuf_json(b, json_string(gr->zones[z]));
			zbuf_str(b, ": ");
			zbuf_json(b, state_zone_json(cfg, st, g, z, &b->bad));
		}
		zbuf_str(b, "}}");
	}
	zbuf_str(b, "}}\n");
}

int
state_zones_save(const char *path, const struct config *cfg, struct state *st, uint64_t now_ms,
		 char *err, size_t errlen)
{
	uint64_t h = state_zones_hash(st, cfg);
	if (st->zones_saved && st->zones_hash == h)
		return 0;
	char *zpath = state_zones_path(path);
	struct zbuf b = {0};
	if (zpath)
		zones_text(&b, cfg, st, now_ms);
	if (!zpath || b.bad) {
		snprintf(err, errlen, "%s.zones: out of memory", path);
		free(zpath);
		free(b.p);
		return MXF_ENOMEM;
	}
	int e = state_file_write(zpath, b.p, b.len, err, errlen);
	free(b.p);
	free(zpath);
	if (!e) {
		st->zones_hash = h;
		st->zones_saved = true;
	}
	return e;
}

/* ---- reading --------------------------------------------------------- */

int
state_zones_merge(const char *path, json_t *root, bool *loaded, char *err, size_t errlen)
{
	json_t *groups = json_object_get(root, "groups");
	const char *id;
	json_t *go;
	bool need = false, inline_zones = false;
	*loaded = false;
	json_object_foreach(groups, id, go)
	{
		need = need || (json_is_object(go) && !json_object_get(go, "zones"));
		inline_zones = inline_zones || (json_is_object(go) && json_object_get(go, "zones"));
	}
	if (!json_is_object(groups) || !need)
		return 0;
	char *zpath = state_zones_path(path);
	if (!zpath) {
		snprintf(err, errlen, "%s.zones: out of memory", path);
		return MXF_ENOMEM;
	}
	char *buf = NULL;
	size_t len = 0;
	int e = file_read(zpath, STATE_ZONES_FILE_MAX, 0, &buf, &len, err, errlen);
	if (e == MXF_ENOTFOUND) { /* an old file's groups, or a lost companion */
		free(zpath);
		err[0] = '\0';
		return 0;
	}
	json_t *zr = NULL;
	if (!e) {
		json_error_t jerr;
		zr = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
		free(buf);
		if (!zr) {
			snprintf(err, errlen, "%s:%d:%d: not valid JSON (truncated or corrupt): %s",
				 zpath, jerr.line, jerr.column, jerr.text);
			e = MXF_EINVAL;
		} else if (json_integer_value(json_object_get(zr, "version")) != STATE_VERSION ||
			   !json_is_object(json_object_get(zr, "groups"))) {
			snprintf(err, errlen, "%s: not a version %d zones file", zpath,
				 STATE_VERSION);
			e = MXF_EINVAL;
		}
	}
	/* A group the companion lacks starts with its zones unknown, as a
	 * load of the same files would again: nothing to rewrite for it. */
	json_object_foreach(e ? NULL : groups, id, go)
	{
		if (!json_is_object(go) || json_object_get(go, "zones"))
			continue;
		json_t *zz = json_object_get(json_object_get(json_object_get(zr, "groups"), id),
					     "zones");
		if (zz && json_object_set(go, "zones", zz) != 0) {
			snprintf(err, errlen, "%s: out of memory", zpath);
			e = MXF_ENOMEM;
			break;
		}
	}
	json_decref(zr);
	free(zpath);
	*loaded = !e && !inline_zones;
	return e;
}
