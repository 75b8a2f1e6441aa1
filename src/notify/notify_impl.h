/*
 * notify_impl.h -- what the notifier (notify.c) offers to its channels
 * (notify_mail.c, notify_webhook.c, notify_exec.c), and what a channel
 * offers to the notifier: one vtable, struct notify_channel_ops.
 *
 * notify.c owns notices (the scrubbed copy of an event), deliveries (one per
 * event and channel), retries with backoff, logging of outcomes and the
 * result callback.  A channel owns its configuration and one attempt at a
 * time: it starts the attempt and ends it exactly once with
 * notify_attempt_done(), or gives up what a running attempt holds when the
 * notifier cancels it.
 *
 * Not a public interface: only notify*.c include it.
 */
#ifndef MXF_NOTIFY_IMPL_H
#define MXF_NOTIFY_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "notify.h"
#include "notify_curl.h"

struct config_notify;
struct event;
struct proc;

/* The copied event, shared by its deliveries (reference counted). */
#define NOTIFY_NOTICE_TEXTS 6        /* group, server, from, to, reason, queue */
struct notify_notice {
	unsigned refs;
	struct notify_event e;       /* points into the copies below */
	char *text[NOTIFY_NOTICE_TEXTS];
	char **zones, **records;
};

/* One event on one channel, over its attempts. */
struct notify_delivery {
	struct notify *n;
	struct notify_notice *nt;
	enum notify_channel ch;
	const struct notify_channel_ops *ops;
	void *chan;                  /* the channel's state, as ops->setup made it */
	unsigned attempt;            /* attempts started */
	struct event *retry_ev;
	char *payload;               /* mail message or JSON body, made once */
	size_t len, off;
	size_t reply_bytes;          /* webhook reply bytes seen */
	struct notify_curl_xfer xfer;/* mail and webhook */
	struct proc *proc;           /* exec */
	struct notify_delivery *prev, *next;
};

/* One channel. */
struct notify_channel_ops {
	const char *name;            /* "mail", ...: notify_channel_name() */
	/*
	 * Read the channel's part of @cfg.  *@state stays NULL when the channel
	 * is not configured.  @return 0, or MXF_E* with @err saying why (@err
	 * holds "out of memory" on entry).
	 */
	int (*setup)(struct notify *n, const struct config_notify *cfg, void **state, char *err,
		     size_t errsize);
	/* Free what setup made (never NULL when called). */
	void (*state_free)(void *state);
	/* What every attempt of @d sends, made once: a malloc'ed string (the
	 * delivery keeps it), or NULL when out of memory.  NULL op: none. */
	char *(*payload)(const struct notify_delivery *d);
	/* Start one attempt; it ends with one notify_attempt_done() call, which
	 * may come from inside start. */
	void (*start)(struct notify_delivery *d);
	/* Give up a running attempt without reporting it (shutdown); safe when
	 * none runs.  Frees what start made. */
	void (*cancel)(struct notify_delivery *d);
	/* The peer for log lines: host:port or the program; never a URL. */
	const char *(*peer)(const struct notify_delivery *d, char *buf, size_t size);
	/* Channels whose start is notify_attempt_curl: the transfer's own
	 * options (arg: the delivery) and its end. */
	notify_curl_setup_fn curl_setup;
	notify_curl_done_fn curl_done;
};

/*
 * NOTIFY_CURL_CHANNEL -- the vtable of a channel that speaks through
 * libcurl: its own setup, state_free, payload, peer and transfer options
 * and end; attempts start and are cancelled by notify_attempt_curl and
 * notify_cancel_curl.
 */
#define NOTIFY_CURL_CHANNEL(chname, setup_fn, free_fn, payload_fn, peer_fn, xfer_setup_fn, \
			    xfer_done_fn)                                                 \
	{                                                                                 \
		.name = (chname), .setup = (setup_fn), .state_free = (free_fn),           \
		.payload = (payload_fn), .start = notify_attempt_curl,                    \
		.cancel = notify_cancel_curl, .peer = (peer_fn),                          \
		.curl_setup = (xfer_setup_fn), .curl_done = (xfer_done_fn),               \
	}

extern const struct notify_channel_ops notify_mail_ops;
extern const struct notify_channel_ops notify_webhook_ops;
extern const struct notify_channel_ops notify_exec_ops;

/*
 * notify_attempt_done -- the attempt of @d ended: @ok delivered; else
 * @retry says whether another attempt may help and @reason (one line,
 * scrubbed of secrets here) why it failed.  Logs, reports to the result
 * callback and frees @d when the delivery is over, or arms the retry.
 * @d must not be used by the caller afterwards.
 */
void notify_attempt_done(struct notify_delivery *d, bool ok, bool retry, const char *reason);

/* The notifier's settings, for channels. */
const struct notify_opts *notify_opts_of(const struct notify *n);
/* The loop deliveries run on. */
struct event_base *notify_base(const struct notify *n);
/* This monitor's host name (mails, EHLO, Message-ID). */
const char *notify_hostname(const struct notify *n);
/* The active server set by notify_set_active() (each may be NULL). */
void notify_active_server(const struct notify *n, const char **name, const char **address);

/*
 * notify_attempt_curl -- the start op of mail and webhook: one attempt of @d
 * as a libcurl transfer (d->xfer) on the notifier's multi handle, with the
 * channel's ops->curl_setup options; ops->curl_done (x->arg is @d) ends
 * the attempt with notify_attempt_done().  A transfer that cannot start
 * ends the attempt at once (retried only when out of memory).
 */
void notify_attempt_curl(struct notify_delivery *d);

/* Abandon the running transfer of @d, if any: the cancel op of mail and
 * webhook. */
void notify_cancel_curl(struct notify_delivery *d);

/* *out = a copy of @s, or NULL for NULL.  @return 0 or MXF_ENOMEM. */
int notify_dup(const char *s, char **out);

#endif
