/*
 * dns_ops.c -- the operations context for one primary: the queue of
 * exchanges, their TSIG signing and verification, and plain reads.
 *
 * Every exchange goes through dns_ops_exchange(), which signs, bounds the
 * number in flight, verifies the reply's TSIG and always reports from the
 * event loop.  Zone lookups (dns_zone.c) and applies (dns_apply.c) are
 * chains of such exchanges; everything running is on the context's owned
 * list, so freeing the context cancels it all.
 */
#include "dns_ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "clock.h"
#include "dns_client.h"
#include "dns_ops_internal.h"
#include "dns_update.h"
#include "log.h"
#include "mxf.h"
#include "value.h"

struct ops_xchg {
	struct dns_ops_owned own;   /* first: the owned list points here */
	struct dns_client_query *q; /* while in flight */
	struct dns_ops *ops;
	struct ops_xchg *qnext;
	ldns_pkt *req;
	bool update;
	uint8_t mac[DNS_TSIG_MAX_MAC];
	size_t maclen;
	int defer_status;
	char defer_msg[DNS_OPS_MSG];
	dns_ops_read_cb cb;
	void *arg;
};

static bool ops_warned_unsigned;

void
dns_ops_own(struct dns_ops *ops, struct dns_ops_owned *o, void (*destroy)(struct dns_ops_owned *))
{
	o->destroy = destroy;
	o->ev = NULL;
	o->prev = NULL;
	o->next = ops->owned;
	if (ops->owned != NULL)
		ops->owned->prev = o;
	ops->owned = o;
}

void
dns_ops_disown(struct dns_ops *ops, struct dns_ops_owned *o)
{
	if (o->prev != NULL)
		o->prev->next = o->next;
	else if (ops->owned == o)
		ops->owned = o->next;
	if (o->next != NULL)
		o->next->prev = o->prev;
	o->prev = o->next = NULL;
	if (o->ev != NULL)
		event_free(o->ev);
	o->ev = NULL;
}

uint16_t
dns_ops_random_id(void)
{
	uint16_t id;

	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
		id = (uint16_t)((uint64_t)rand() ^ clock_wall_ms());
	return id;
}

int
dns_ops_new(struct event_base *base, const char *host, uint16_t port,
	    const struct dns_tsig_key *key, uint64_t timeout_ms, struct dns_ops **out)
{
	struct dns_ops *ops;

	*out = NULL;
	ops = calloc(1, sizeof(*ops));
	if (ops == NULL)
		return MXF_ENOMEM;
	if (dns_client_addr(host, port, &ops->ss, &ops->sslen) != 0) {
		free(ops);
		return MXF_EINVAL;
	}
	value_format_hostport(host, port, ops->server, sizeof(ops->server));
	ops->base = base;
	ops->key = key;
	ops->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	*out = ops;
	return 0;
}

void
dns_ops_free(struct dns_ops *ops)
{
	if (ops == NULL)
		return;
	/* Each destroy unlinks itself and calls no callback. */
	while (ops->owned != NULL)
		ops->owned->destroy(ops->owned);
	free(ops);
}

const char *
dns_ops_server(const struct dns_ops *ops)
{
	return ops->server;
}

/* ---- exchanges ---- */

static void
xchg_free(struct ops_xchg *x)
{
	dns_ops_disown(x->ops, &x->own);
	ldns_pkt_free(x->req);
	free(x);
}

static void
xchg_destroy(struct dns_ops_owned *o)
{
	struct ops_xchg *x = (struct ops_xchg *)o;

	if (x->q != NULL)
		dns_client_cancel(x->q);
	x->q = NULL;
	xchg_free(x);
}

static void xchg_pump(struct dns_ops *ops);

static void
xchg_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct ops_xchg *x = arg;

	x->cb(x->defer_status, -1, NULL, x->defer_msg, x->arg);
	xchg_free(x);
}

int
dns_ops_defer(struct dns_ops *ops, struct dns_ops_owned *o, event_callback_fn cb, void *arg)
{
	static const struct timeval zero = {0, 0};

	o->ev = evtimer_new(ops->base, cb, arg);
	if (o->ev == NULL)
		return MXF_ENOMEM;
	if (evtimer_add(o->ev, &zero) != 0) {
		event_free(o->ev);
		o->ev = NULL;
		return MXF_ENOMEM;
	}
	return 0;
}

/* Report a failure of @x from the loop. */
static void __attribute__((format(printf, 3, 4)))
xchg_fail_later(struct ops_xchg *x, int status, const char *fmt, ...)
{
	va_list ap;

	x->defer_status = status;
	va_start(ap, fmt);
	vsnprintf(x->defer_msg, sizeof(x->defer_msg), fmt, ap);
	va_end(ap);
	if (dns_ops_defer(x->ops, &x->own, xchg_deferred, x) != 0) {
		/* The loop cannot take it: report now rather than never. */
		xchg_deferred(-1, 0, x);
	}
}

static void
client_done(struct dns_client_result *res, void *arg)
{
	struct ops_xchg *x = arg;
	struct dns_ops *ops = x->ops;
	char msg[DNS_OPS_MSG] = "", dur[VALUE_DURATION_BUF];
	int status = res->status, rcode = -1;

	ops->inflight--;
	if (x->update)
		ops->updates_inflight--;
	x->q = NULL; /* finished: dns_client frees it after this call */
	if (status != 0) {
		switch (status) {
		case MXF_ETIMEDOUT:
			snprintf(msg, sizeof(msg), "timed out: no reply within %s (%d tr%s)",
				 value_format_duration(ops->timeout_ms, dur, sizeof(dur)), res->tries,
				 res->tries == 1 ? "y" : "ies");
			break;
		case MXF_ECONNREFUSED:
			snprintf(msg, sizeof(msg),
				 "connection refused (no DNS server listens there)");
			break;
		case MXF_EPROTO:
			snprintf(msg, sizeof(msg), "only malformed or unmatched replies came back");
			break;
		default:
			snprintf(msg, sizeof(msg), "%s", mxf_strerror(status));
			break;
		}
	} else {
		rcode = ldns_pkt_get_rcode(res->pkt);
		if (ops->key != NULL) {
			struct dns_tsig_verdict v;
			if (dns_tsig_verify(ops->key, res->wire, res->len, x->mac, x->maclen,
					    clock_wall_ms() / 1000, &v) != 0) {
				/* A refusal names the key; the reply is untrusted either way. */
				(void)dns_tsig_explain_reply(ops->key, &v, rcode, msg, sizeof(msg));
				status = MXF_ETSIG;
			}
		}
	}
	ops->cb_tries = res->tries;
	x->cb(status, rcode, status == 0 || status == MXF_ETSIG ? res->pkt : NULL, msg, x->arg);
	ops->cb_tries = 0;
	xchg_free(x);
	xchg_pump(ops);
}

static void
xchg_send(struct ops_xchg *x)
{
	struct dns_ops *ops = x->ops;
	uint8_t *wire = NULL, *signed_wire = NULL;
	size_t len = 0, slen = 0;
	struct dns_client_query *q;
	int rc;

	rc = dns_update_to_wire(x->req, &wire, &len);
	if (rc != 0) {
		xchg_fail_later(x, rc, "cannot build the message: %s", mxf_strerror(rc));
		return;
	}
	if (ops->key != NULL) {
		rc = dns_tsig_sign(ops->key, wire, len, clock_wall_ms() / 1000, &signed_wire, &slen,
				   x->mac, &x->maclen);
		free(wire);
		if (rc != 0) {
			xchg_fail_later(x, rc, "cannot sign the message: %s", mxf_strerror(rc));
			return;
		}
		wire = signed_wire;
		len = slen;
	} else if (x->update && !ops_warned_unsigned) {
		ops_warned_unsigned = true;
		log_warn("no TSIG key configured: updates are unsigned, the server must allow "
			 "them by address");
	}
	x->q = q = dns_client_send(ops->base, (struct sockaddr *)&ops->ss, ops->sslen, wire, len,
			    ops->timeout_ms, client_done, x, &rc);
	free(wire);
	if (q == NULL) {
		xchg_fail_later(x, rc, "cannot send: %s", mxf_strerror(rc));
		return;
	}
	ops->inflight++;
	if (x->update)
		ops->updates_inflight++;
}

/* Take the first exchange off a queue. */
static struct ops_xchg *
xchg_pop(struct ops_xchg **head, struct ops_xchg **tail)
{
	struct ops_xchg *x = *head;

	*head = x->qnext;
	if (*head == NULL)
		*tail = NULL;
	x->qnext = NULL;
	return x;
}

/*
 * Fill the window: updates first (they are what an apply waits for), up to
 * their own cap, then reads.
 */
static void
xchg_pump(struct dns_ops *ops)
{
	while (ops->inflight < DNS_OPS_MAX_INFLIGHT) {
		if (ops->uhead != NULL && ops->updates_inflight < DNS_OPS_MAX_UPDATES)
			xchg_send(xchg_pop(&ops->uhead, &ops->utail));
		else if (ops->qhead != NULL)
			xchg_send(xchg_pop(&ops->qhead, &ops->qtail));
		else
			break;
	}
}

int
dns_ops_exchange(struct dns_ops *ops, ldns_pkt *req, bool update, dns_ops_read_cb cb, void *arg)
{
	struct ops_xchg *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		ldns_pkt_free(req);
		return MXF_ENOMEM;
	}
	x->ops = ops;
	dns_ops_own(ops, &x->own, xchg_destroy);
	x->req = req;
	x->update = update;
	x->cb = cb;
	x->arg = arg;
	if (update) {
		if (ops->utail != NULL)
			ops->utail->qnext = x;
		else
			ops->uhead = x;
		ops->utail = x;
	} else {
		if (ops->qtail != NULL)
			ops->qtail->qnext = x;
		else
			ops->qhead = x;
		ops->qtail = x;
	}
	/*
	 * Sending happens from here or from a finished exchange; either way
	 * results come back only from the loop.
	 */
	xchg_pump(ops);
	return 0;
}

int
dns_ops_read(struct dns_ops *ops, const ldns_rdf *name, ldns_rr_type type, dns_ops_read_cb cb,
	     void *arg)
{
	ldns_pkt *req;
	int rc;

	rc = dns_update_query(name, type, dns_ops_random_id(), &req);
	if (rc != 0)
		return rc;
	return dns_ops_exchange(ops, req, false, cb, arg);
}
