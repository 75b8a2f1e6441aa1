/*
 * pins.c -- the pins file: read, reconcile the health machine with it,
 * and rewrite it under its lock; see pins.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mxf.h"
#include "pins.h"
#include "state_file.h"

char *pins_path(const struct config *cfg)
{
	char *p;
	if (asprintf(&p, "%s.pins", cfg->general.state_file) < 0)
		return NULL;
	return p;
}

/* The pins file as a JSON object; an absent file is an empty one. */
static int pins_read_json(const char *path, json_t **out, char *why, size_t whylen)
{
	json_error_t jerr;
	struct stat sb;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		*out = json_object();
		return *out ? 0 : MXF_ENOMEM;
	}
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > PINS_FILE_MAX) {
		snprintf(why, whylen, "%s: larger than %u bytes, refused", path, PINS_FILE_MAX);
		return MXF_EIO;
	}
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (access(path, R_OK) != 0) {
			snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
			return MXF_EIO;
		}
		snprintf(why, whylen, "%s:%d: %s", path, jerr.line, jerr.text);
		return MXF_EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(why, whylen, "%s is not a JSON object", path);
		json_decref(root);
		return MXF_EINVAL;
	}
	*out = root;
	return 0;
}

void pins_free(struct pins *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->v);
	free(p);
}

int pins_load(const struct config *cfg, struct pins **out, char *why, size_t whylen)
{
	json_t *root = NULL;
	struct pins *p = calloc(1, sizeof(*p));
	if (!p || !(p->path = pins_path(cfg)) ||
	    !(p->v = mxf_calloc(cfg->nservers, sizeof(*p->v)))) {
		pins_free(p);
		snprintf(why, whylen, "out of memory reading the pins");
		return MXF_ENOMEM;
	}
	p->n = cfg->nservers;
	int e = pins_read_json(p->path, &root, why, whylen);
	if (e) {
		pins_free(p);
		return e;
	}
	for (size_t s = 0; s < cfg->nservers; s++) {
		json_t *ent = json_object_get(root, cfg->servers[s].id);
		if (!json_is_object(ent))
			continue;
		const char *name = json_string_value(json_object_get(ent, "pin"));
		enum health_pin pin = HEALTH_PIN_NONE;
		if (name && health_pin_parse(name, &pin) != 0)
			pin = HEALTH_PIN_NONE;
		p->v[s].pin = pin;
		p->v[s].until_ms = (uint64_t)json_integer_value(json_object_get(ent, "until_ms"));
	}
	json_decref(root);
	*out = p;
	return 0;
}

enum health_pin pins_get(const struct pins *p, size_t server, uint64_t now_ms, uint64_t *until_ms)
{
	enum health_pin pin = HEALTH_PIN_NONE;
	uint64_t until = 0;
	if (p && server < p->n && p->v[server].pin != HEALTH_PIN_NONE) {
		until = p->v[server].until_ms;
		if (until != 0 && until <= now_ms)
			until = 0; /* expired */
		else
			pin = p->v[server].pin;
	}
	if (until_ms)
		*until_ms = until;
	return pin;
}

int pins_apply(const struct pins *p, struct health *h, uint64_t now_ms)
{
	if (!p || !h || p->n != h->nservers)
		return MXF_EINVAL;
	int n = 0;
	for (size_t s = 0; s < p->n; s++) {
		uint64_t until;
		enum health_pin want = pins_get(p, s, now_ms, &until);
		enum health_pin have = health_pinned(h, s, now_ms);
		if (want == have && (want == HEALTH_PIN_NONE || h->servers[s].pin_until_ms == until))
			continue;
		int e = health_set_pin(h, s, want, until, now_ms,
				       want == HEALTH_PIN_NONE ? "unpinned by operator"
							       : "pinned by operator");
		if (e < 0)
			return e;
		n += e;
	}
	return n;
}

/* The file rewritten with @server's entry set (or removed for NONE). */
static int pins_rewrite(const char *path, const char *server, enum health_pin pin,
			uint64_t until_ms, char *err, size_t errlen)
{
	json_t *root = NULL;
	char why[512] = "";
	int e = pins_read_json(path, &root, why, sizeof(why));
	if (e == MXF_ENOMEM) {
		snprintf(err, errlen, "%s: out of memory", path);
		return e;
	}
	if (e) {
		snprintf(err, errlen, "%s; not changing pins (fix or remove the file)", why);
		return e;
	}
	if (pin == HEALTH_PIN_NONE) {
		json_object_del(root, server);
	} else {
		json_t *ent = json_pack("{s:s, s:I}", "pin", health_pin_name(pin), "until_ms",
					(json_int_t)until_ms);
		if (!ent || json_object_set_new(root, server, ent) != 0) {
			json_decref(root);
			snprintf(err, errlen, "%s: out of memory", path);
			return MXF_ENOMEM;
		}
	}
	e = state_file_write_json(path, root, JSON_INDENT(2), err, errlen);
	json_decref(root);
	return e;
}

int pins_set(const struct config *cfg, const char *server, enum health_pin pin,
	     uint64_t until_ms, char *err, size_t errlen)
{
	if (config_server_index(cfg, server) < 0) {
		snprintf(err, errlen, "no server '%s'", server);
		return MXF_ENOTFOUND;
	}
	char *path = pins_path(cfg), *lockpath = NULL;
	if (!path || asprintf(&lockpath, "%s.lock", path) < 0) {
		free(path);
		snprintf(err, errlen, "out of memory");
		return MXF_ENOMEM;
	}
	int e = MXF_EIO;
	state_file_make_parent(path);
	/* The lock is held to the end, so two `pin`s do not lose one. */
	int lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lockfd >= 0)
		(void)state_file_own_like_dir(lockfd, lockpath); /* root's `pin`: the daemon's user */
	if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0)
		snprintf(err, errlen, "cannot lock %s: %s", lockpath, strerror(errno));
	else
		e = pins_rewrite(path, server, pin, until_ms, err, errlen);
	if (lockfd >= 0)
		close(lockfd);
	free(path);
	free(lockpath);
	return e;
}
