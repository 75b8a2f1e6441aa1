/*
 * notify_curl.c -- libcurl's multi interface on our libevent loop (see
 * notify_curl.h).
 *
 * libcurl says which sockets it wants watched (curl_socket_fn) and when it
 * wants a timeout (curl_timer_fn); both become libevent events whose
 * callbacks hand control back with curl_multi_socket_action, after which
 * finished transfers are collected (check_done) and reported.
 */
#include "notify_curl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "mxf.h"
#include "value.h"

struct notify_curl {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	uint64_t connect_ms, timeout_ms;
};

/* Notifiers alive: libcurl's global state lives as long as one does. */
static int curl_users;

/* Free the easy handle and the lists of @x (after or instead of the multi). */
static void
xfer_release(struct notify_curl *c, struct notify_curl_xfer *x)
{
	/* The handle first: it may still point at the lists. */
	if (x->easy != NULL) {
		curl_multi_remove_handle(c->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->list);
	curl_slist_free_all(x->resolve);
	x->easy = NULL;
	x->list = x->resolve = NULL;
}

static void
check_done(struct notify_curl *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct notify_curl_xfer *x;
		char *priv = NULL;
		CURLcode rc = msg->data.result;
		long code = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct notify_curl_xfer *)(void *)priv;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		xfer_release(c, x);
		x->done(x, rc, code);
	}
}

static void
curl_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify_curl *c = arg;
	int running = 0;
	int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
		     ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(c->multi, fd, action, &running);
	check_done(c);
}

static void
curl_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify_curl *c = arg;
	int running = 0;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static int
curl_socket_fn(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct notify_curl *c = userp;
	struct event *ev = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL) {
			event_free(ev);
			curl_multi_assign(c->multi, s, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	       ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ev != NULL) {
		event_del(ev);
		event_assign(ev, c->base, s, kind, curl_event_cb, c);
	} else {
		ev = event_new(c->base, s, kind, curl_event_cb, c);
		if (ev == NULL)
			return -1;
		curl_multi_assign(c->multi, s, ev);
	}
	return event_add(ev, NULL) == 0 ? 0 : -1;
}

static int
curl_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct notify_curl *c = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(c->timer);
		return 0;
	}
	/* 0 means "now"; run it from the loop, not inside libcurl's call. */
	tv = clock_timeval((uint64_t)timeout_ms);
	return evtimer_add(c->timer, &tv) == 0 ? 0 : -1;
}

void
notify_curl_free(struct notify_curl *c)
{
	if (c == NULL)
		return;
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	if (c->timer != NULL)
		event_free(c->timer);
	if (curl_users > 0 && --curl_users == 0)
		curl_global_cleanup();
	free(c);
}

struct notify_curl *
notify_curl_new(struct event_base *base, uint64_t connect_ms, uint64_t timeout_ms, char *err,
		size_t errsize)
{
	struct notify_curl *c = calloc(1, sizeof(*c));

	snprintf(err, errsize, "out of memory");
	if (c == NULL)
		return NULL;
	c->base = base;
	c->connect_ms = connect_ms;
	c->timeout_ms = timeout_ms;
	if (curl_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsize, "libcurl could not be initialised");
		goto fail;
	}
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, curl_timer_cb, c);
	if (c->multi == NULL || c->timer == NULL)
		goto fail;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_fn);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, curl_timer_fn);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	err[0] = '\0';
	return c;
fail:
	notify_curl_free(c);
	return NULL;
}

/* Options every transfer gets. */
static int
easy_common(struct notify_curl *c, struct notify_curl_xfer *x)
{
	const char *ca = getenv("MXF_CA_FILE");
	CURL *h = x->easy;

	x->errbuf[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_PRIVATE, x) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_VERBOSE, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_ms) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK)
		return MXF_EINVAL;
	if (ca != NULL && *ca != '\0' && curl_easy_setopt(h, CURLOPT_CAINFO, ca) != CURLE_OK)
		return MXF_EINVAL;
	return 0;
}

int
notify_curl_start(struct notify_curl *c, struct notify_curl_xfer *x, notify_curl_setup_fn setup,
		  void *arg, char *why, size_t whysize)
{
	int rc;

	x->easy = curl_easy_init();
	if (x->easy == NULL) {
		snprintf(why, whysize, "cannot make a libcurl handle");
		return MXF_ENOMEM;
	}
	rc = easy_common(c, x);
	if (rc != 0)
		snprintf(why, whysize, "libcurl refused an option");
	else
		rc = setup(x, arg, why, whysize);
	if (rc == 0 && curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
		snprintf(why, whysize, "libcurl refused the transfer");
		rc = MXF_EINVAL;
	}
	if (rc != 0) {
		/* Not on the multi handle: removing it there is a harmless no-op. */
		xfer_release(c, x);
		return rc;
	}
	return 0;
}

void
notify_curl_stop(struct notify_curl *c, struct notify_curl_xfer *x)
{
	xfer_release(c, x);
}

bool
notify_curl_failure(const struct notify_curl_xfer *x, CURLcode rc, char *why, size_t whysize)
{
	bool retry = true;

	const char *text = x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc);

	/* curl's error buffer quotes the server ("RCPT failed: 550 ..."):
	 * one line of valid UTF-8 from here on. */
	value_utf8_clean(why, whysize, text, strnlen(text, CURL_ERROR_SIZE));
	/* Problems another attempt will not fix. */
	switch (rc) {
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_TOO_MANY_REDIRECTS:
		retry = false;
		break;
	default:
		break;
	}
	if (rc == CURLE_USE_SSL_FAILED)
		snprintf(why, whysize, "the server offers no STARTTLS, which is "
			 "required here (port 587 or a password); nothing was sent");
	return retry;
}
