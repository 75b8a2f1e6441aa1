/*
 * queue_json.c -- a queue reading as JSON (queue_json.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "queue_json.h"

char *
queue_json_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "?");
	return buf;
}

/* Set @key to @t and @key_time to its RFC 3339 form, or both null when 0. */
static void
queue_json_set_time(json_t *o, const char *key, const char *key_time, int64_t t)
{
	char b[40];

	if (t == 0) {
		json_object_set_new(o, key, json_null());
		json_object_set_new(o, key_time, json_null());
		return;
	}
	json_object_set_new(o, key, json_integer(t));
	json_object_set_new(o, key_time, json_string(queue_json_time(t, b, sizeof(b))));
}

json_t *
queue_json_result(const struct queue_result *r, int64_t now)
{
	json_t *o = json_object(), *zones;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "ok", json_boolean(r->rc == 0));
	json_object_set_new(o, "seconds", json_real((double)r->took_ms / 1000.0));
	if (r->rc != 0) {
		json_object_set_new(o, "error", json_string(r->error));
		return o;
	}
	json_object_set_new(o, "total", json_integer((json_int_t)r->sum.total));
	json_object_set_new(o, "messages", json_integer((json_int_t)r->sum.matched));
	queue_json_set_time(o, "oldest", "oldest_time", r->sum.oldest);
	if (r->sum.oldest != 0)
		json_object_set_new(o, "oldest_age_seconds",
				    json_integer(now > r->sum.oldest ? now - r->sum.oldest : 0));
	else
		json_object_set_new(o, "oldest_age_seconds", json_null());
	json_object_set_new(o, "truncated", json_boolean(r->sum.truncated));
	json_object_set_new(o, "warnings", json_integer((json_int_t)r->sum.warnings));
	zones = json_array();
	for (size_t i = 0; zones != NULL && i < r->nzones; i++) {
		const struct queue_zone *z = &r->zones[i];
		json_t *zo = json_object();
		size_t zl = strlen(z->zone);

		if (zo == NULL)
			break;
		if (zl > 1 && z->zone[zl - 1] == '.')
			zl--;
		json_object_set_new(zo, "zone", json_stringn(z->zone, zl));
		json_object_set_new(zo, "messages", json_integer((json_int_t)z->messages));
		json_object_set_new(zo, "recipients", json_integer((json_int_t)z->recipients));
		json_object_set_new(zo, "bytes", json_integer((json_int_t)z->bytes));
		queue_json_set_time(zo, "oldest", "oldest_time", z->oldest);
		json_object_set_new(zo, "oldest_reason",
				    z->oldest_reason[0] != '\0' ? json_string(z->oldest_reason)
								: json_null());
		json_array_append_new(zones, zo);
	}
	json_object_set_new(o, "zones", zones != NULL ? zones : json_null());
	return o;
}
