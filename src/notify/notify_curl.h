/*
 * notify_curl.h -- libcurl's multi interface driven by our libevent loop,
 * for the channels that speak through libcurl (notify_mail.c SMTP,
 * notify_webhook.c HTTP).
 *
 * One struct notify_curl per notifier holds the multi handle; its socket
 * and timer callbacks (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION) become
 * libevent events, and curl_multi_socket_action runs from the loop, so no
 * thread and no blocking call.  A transfer is a struct notify_curl_xfer that
 * the caller embeds in its own state: notify_curl_start() makes the easy
 * handle with the options every transfer shares (timeouts, certificate
 * checks, no redirects, no signals, no verbose output), lets the channel add
 * its own, and reports the end exactly once through the transfer's done
 * callback.  Nothing here logs.
 */
#ifndef MXF_NOTIFY_CURL_H
#define MXF_NOTIFY_CURL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

struct event_base;
struct notify_curl;
struct notify_curl_xfer;

/*
 * notify_curl_done_fn -- transfer @x ended with @rc (CURLE_OK: the protocol
 * exchange completed) and the server's last reply code @code (SMTP or HTTP
 * status, 0 when none).  The easy handle and the lists are already
 * released; x->errbuf still holds libcurl's message.  The callback may free
 * the memory @x lives in.
 */
typedef void (*notify_curl_done_fn)(struct notify_curl_xfer *x, CURLcode rc, long code);

/*
 * notify_curl_setup_fn -- add the channel's options (URL, protocols, data
 * callbacks) to x->easy, storing slists in x->list / x->resolve so they live
 * as long as the transfer.  @return 0, or MXF_ENOMEM / MXF_EINVAL with
 * @why saying so.
 */
typedef int (*notify_curl_setup_fn)(struct notify_curl_xfer *x, void *arg, char *why,
				    size_t whysize);

/* One transfer.  Zero it before its first use; reusable after it ended. */
struct notify_curl_xfer {
	CURL *easy;                  /* NULL when no transfer runs */
	struct curl_slist *list;     /* recipients (mail) or headers (webhook) */
	struct curl_slist *resolve;  /* name -> address for CURLOPT_RESOLVE */
	char errbuf[CURL_ERROR_SIZE];
	notify_curl_done_fn done;
	void *arg;                   /* the caller's, for done */
};

/*
 * notify_curl_new -- a multi handle on @base (which must outlive it);
 * transfers get @connect_ms for TCP + TLS connect and @timeout_ms for the
 * whole exchange.  The first call initialises libcurl globally, the last
 * notify_curl_free() cleans it up.
 * @return the glue, or NULL with @err saying why.
 */
struct notify_curl *notify_curl_new(struct event_base *base, uint64_t connect_ms,
				    uint64_t timeout_ms, char *err, size_t errsize);

/* Stop every transfer (done is not called), free everything.  NULL is fine. */
void notify_curl_free(struct notify_curl *c);

/*
 * notify_curl_start -- start transfer @x: a new easy handle with the shared
 * options, then @setup(@x, @arg) for the channel's own, then onto the
 * multi handle.  @x->done and @x->arg must be set.  $MXF_CA_FILE, when set,
 * is the CA bundle certificates are checked against.
 * @return 0: @x->done will be called once from the loop (unless
 *         notify_curl_stop() comes first); or MXF_ENOMEM (no handle: worth
 *         a retry) or MXF_EINVAL (libcurl refused an option or the
 *         transfer), with @why saying so and @x released.
 */
int notify_curl_start(struct notify_curl *c, struct notify_curl_xfer *x,
		      notify_curl_setup_fn setup, void *arg, char *why, size_t whysize);

/* Abandon transfer @x, if one runs, and release its handle and lists;
 * done is not called.  Safe on an idle or zeroed @x. */
void notify_curl_stop(struct notify_curl *c, struct notify_curl_xfer *x);

/*
 * notify_curl_failure -- a transfer ended with @rc != CURLE_OK: write why
 * into @why (libcurl's message from @x->errbuf, else its text for @rc; a
 * clear sentence for a missing STARTTLS).
 * @return true when another attempt may succeed, false for what a retry
 *         does not fix (login denied, TLS required or not verified, a bad
 *         URL or protocol, redirects).
 */
bool notify_curl_failure(const struct notify_curl_xfer *x, CURLcode rc, char *why,
			 size_t whysize);

#endif
