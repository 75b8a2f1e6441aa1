/*
 * dns_ops_internal.h -- what dns_zone.c and dns_apply.c share with
 * dns_ops.c: the context itself, its owned list and signed exchanges.
 * Not for use outside src/dns/.
 */
#ifndef MXF_DNS_OPS_INTERNAL_H
#define MXF_DNS_OPS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns_ops.h"

/*
 * Everything a context has started and not finished -- exchanges, zone
 * lookups, applies -- is on its owned list, so dns_ops_free() can cancel
 * and free it all without a callback firing later on freed memory.  The
 * member is embedded first in each such object.
 */
struct dns_ops_owned {
	struct dns_ops_owned *prev, *next;
	void (*destroy)(struct dns_ops_owned *o); /* unlinks and frees, no callback */
	struct event *ev;                         /* a report deferred to the loop */
};

struct ops_xchg;

struct dns_ops {
	struct dns_ops_owned *owned;
	struct event_base *base;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char server[300];               /* "host:port", for messages */
	const struct dns_tsig_key *key; /* borrowed, or NULL */
	uint64_t timeout_ms;
	size_t inflight;                /* exchanges on the wire, updates included */
	size_t updates_inflight;        /* UPDATEs among them */
	struct ops_xchg *qhead, *qtail; /* reads waiting for a slot */
	struct ops_xchg *uhead, *utail; /* UPDATEs waiting for a slot */
	int cb_tries;                   /* during an exchange's callback: the
					   datagrams or connections it used
					   (2+: a copy was retransmitted) */
};

/* Put @o on the owned list of @ops; dns_ops_free() will call @destroy. */
void dns_ops_own(struct dns_ops *ops, struct dns_ops_owned *o,
		 void (*destroy)(struct dns_ops_owned *));

/* Take @o off the owned list and free its deferred event (before freeing it). */
void dns_ops_disown(struct dns_ops *ops, struct dns_ops_owned *o);

/* A random message ID (OpenSSL's generator, else rand()). */
uint16_t dns_ops_random_id(void);

/*
 * dns_ops_exchange -- send @req (taken: freed in every case), signed when
 * the context has a key, and report the reply as dns_ops_read() does.
 * @update  an UPDATE (warns once per run when it goes out unsigned).
 * @return 0 (cb will run once, from the loop) or MXF_ENOMEM (no cb).
 */
int dns_ops_exchange(struct dns_ops *ops, ldns_pkt *req, bool update, dns_ops_read_cb cb,
		     void *arg);

/*
 * dns_ops_defer -- run @cb(@arg) from the loop as soon as possible, through
 * an event of @o (freed by dns_ops_disown()); once per owned object.
 * @return 0, or MXF_ENOMEM (nothing will run).
 */
int dns_ops_defer(struct dns_ops *ops, struct dns_ops_owned *o, event_callback_fn cb, void *arg);

#endif
