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
zones_text(struct zbuf *b, const struct config *cfg, const struct state *st, uint64_t now_ms,
	   uint64_t hash)
{
	char head[128];
	snprintf(head, sizeof(head), "{\"version\": %d, \"program\": ", STATE_VERSION);
	zbuf_str(b, head);
	zbuf_json(b, json_string("mxfailover " MXF_VERSION_STRING));
	snprintf(head, sizeof(head), ", \"saved_ms\": %llu, \"hash\": \"%016llx\",\n \"groups\": {",
		 (unsigned long long)now_ms, (unsigned long long)hash);
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
		zones_text(&b, cfg, st, now_ms, h);
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

/* The companion of @path parsed, or NULL with @warn saying why (nothing
 * when there is none). */
static json_t *
zones_read(const char *zpath, char *warn, size_t warnlen)
{
	char *buf = NULL;
	size_t len = 0;
	char why[512] = "";
	json_t *zr = NULL;
	int e = file_read(zpath, STATE_ZONES_FILE_MAX, 0, &buf, &len, why, sizeof(why));
	if (e == MXF_ENOTFOUND)
		return NULL;
	if (!e) {
		json_error_t jerr;
		zr = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
		free(buf);
		if (!zr)
			snprintf(why, sizeof(why),
				 "%s:%d:%d: not valid JSON (truncated or corrupt): %s", zpath,
				 jerr.line, jerr.column, jerr.text);
		else if (json_integer_value(json_object_get(zr, "version")) != STATE_VERSION ||
			 !json_is_object(json_object_get(zr, "groups")))
			snprintf(why, sizeof(why), "%s: not a version %d zones file", zpath,
				 STATE_VERSION);
	}
	if (why[0] != '\0') {
		json_decref(zr);
		snprintf(warn, warnlen,
			 "%s; the zones' memory starts unknown and is read again from DNS", why);
		return NULL;
	}
	return zr;
}

int
state_zones_merge(const char *path, json_t *root, bool *have_hash, uint64_t *hash, bool *newer_out,
		  char *warn, size_t warnlen)
{
	json_t *groups = json_object_get(root, "groups");
	const char *id;
	json_t *go;
	*have_hash = false;
	*newer_out = false;
	/* Another version is the state file's own error (state_from_json). */
	if (!json_is_object(groups) ||
	    json_integer_value(json_object_get(root, "version")) != STATE_VERSION)
		return 0;
	char *zpath = state_zones_path(path);
	if (!zpath)
		return MXF_ENOMEM;
	json_t *zr = zones_read(zpath, warn, warnlen);
	free(zpath);
	if (!zr)
		return 0;
	/* Inline zones (a file from before the split, or one written by hand)
	 * win, unless the companion was written after them: the first save
	 * after an upgrade writes it, and a crash before the state file
	 * followed must not bring the older zones back. */
	const json_t *saved = json_object_get(root, "saved_ms");
	const json_t *zsaved = json_object_get(zr, "saved_ms");
	bool newer = json_is_integer(saved) && json_is_integer(zsaved) &&
		     json_integer_value(zsaved) > json_integer_value(saved);
	int e = 0;
	*newer_out = newer;
	json_object_foreach(groups, id, go)
	{
		if (!json_is_object(go) || (json_object_get(go, "zones") && !newer))
			continue;
		json_t *zz = json_object_get(json_object_get(json_object_get(zr, "groups"), id),
					     "zones");
		if (zz && json_object_set(go, "zones", zz) != 0) {
			e = MXF_ENOMEM;
			break;
		}
	}
	/* The hash of what the companion holds, as its writer computed it:
	 * state_load compares it with the state it loaded, so a companion
	 * that holds anything else (zones or servers since removed from the
	 * configuration, inline zones taken instead) is rewritten. */
	const char *hx = json_string_value(json_object_get(zr, "hash"));
	char *end = NULL;
	if (!e && hx && strlen(hx) == 16) {
		*hash = strtoull(hx, &end, 16);
		*have_hash = end && *end == '\0';
	}
	json_decref(zr);
	return e;
}
