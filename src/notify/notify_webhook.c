/*
 * notify_webhook.c -- the webhook channel: the event as one JSON object
 * (notify_text_json) POSTed with libcurl on the notifier's multi handle
 * (notify_curl.c).
 *
 * A 2xx status is delivered; a 5xx or a transport failure is retried; other
 * statuses (4xx, and 3xx: redirects are not followed) are given up at once.
 * The reply body is not needed: it is counted and dropped, and a reply over
 * WEBHOOK_REPLY_MAX bytes ends the transfer.  The URL is never logged (its
 * path often holds a token): log lines name host:port only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mxf.h"
#include "notify_impl.h"
#include "notify_text.h"

#define WEBHOOK_REPLY_MAX 65536      /* reply bytes read (and dropped) */

/* The state of the channel is the URL (char *), freed with free(). */

static int
webhook_setup(struct notify *n, const struct config_notify *cfg, void **state, char *err,
	      size_t errsize)
{
	char *url;

	if (cfg->webhook == NULL)
		return 0;
	if (notify_dup(cfg->webhook, &url) != 0)
		return MXF_ENOMEM;
	*state = url;
	return 0;
}

static char *
webhook_payload(const struct notify_delivery *d)
{
	return notify_text_json(&d->nt->e);
}

static size_t
webhook_write_fn(char *buf, size_t size, size_t nitems, void *arg)
{
	struct notify_delivery *d = arg;
	size_t k = size * nitems;

	/* The reply is not needed: count it, and stop a flood. */
	d->reply_bytes += k;
	if (d->reply_bytes > WEBHOOK_REPLY_MAX)
		return 0;
	return k;
}

static int
webhook_curl_setup(struct notify_curl_xfer *x, void *arg, char *why, size_t whysize)
{
	struct notify_delivery *d = arg;
	const char *url = d->chan;
	CURL *h = x->easy;
	struct curl_slist *l;

	l = curl_slist_append(NULL, "Content-Type: application/json");
	if (l == NULL)
		goto oom;
	x->list = l;
	l = curl_slist_append(x->list, "User-Agent: mxfailover/" MXF_VERSION_STRING);
	if (l == NULL)
		goto oom;
	x->list = l;
	d->reply_bytes = 0;
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->payload) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)d->len) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->list) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, webhook_write_fn) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, d) != CURLE_OK) {
		snprintf(why, whysize, "libcurl refused an option");
		return MXF_EINVAL;
	}
	return 0;
oom:
	snprintf(why, whysize, "out of memory");
	return MXF_ENOMEM;
}

static void
webhook_done(struct notify_curl_xfer *x, CURLcode rc, long code)
{
	struct notify_delivery *d = x->arg;
	char why[CURL_ERROR_SIZE + 64];
	bool retry;

	if (rc == CURLE_OK && code >= 200 && code < 300) {
		notify_attempt_done(d, true, false, NULL);
		return;
	}
	if (rc == CURLE_OK) {
		snprintf(why, sizeof(why), "HTTP status %ld%s", code,
			 code >= 300 && code < 400 ? " (redirects are not followed)" : "");
		notify_attempt_done(d, false, code >= 500, why);
		return;
	}
	retry = notify_curl_failure(x, rc, why, sizeof(why));
	if (rc == CURLE_WRITE_ERROR)
		snprintf(why, sizeof(why), "reply larger than %d bytes", WEBHOOK_REPLY_MAX);
	notify_attempt_done(d, false, retry, why);
}

static const char *
webhook_peer(const struct notify_delivery *d, char *buf, size_t size)
{
	return notify_text_url_peer(d->chan, buf, size);
}

const struct notify_channel_ops notify_webhook_ops =
	NOTIFY_CURL_CHANNEL("webhook", webhook_setup, free, webhook_payload, webhook_peer,
			    webhook_curl_setup, webhook_done);
