/*
 * check_conn.h -- between the two halves of the check engine: check.c (the
 * checks: dedup, deadline, epilogue) and check_conn.c (the connection of a
 * stream check: resolve, connect, TLS and STARTTLS, the bounded line
 * reader, the polite goodbye).
 *
 * Each check embeds a struct check_conn and each engine a struct
 * check_conn_env; only check_conn.c reads or writes their fields.
 * Checkers do not include this header: their side is check_impl.h.
 */
#ifndef MXF_CHECK_CONN_H
#define MXF_CHECK_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "check_impl.h"

struct bufferevent;
struct evdns_base;
struct check_conn_ca;
struct check_conn_lookup;

/* A check's connection.  Zeroed at the start; see check_conn_init(). */
struct check_conn {
	struct check_conn_lookup *lookup; /* the name lookup in flight, or NULL */
	check_resolved_fn resolved;  /* continuation of check_conn_resolve() */
	struct bufferevent *bev;
	bool tls;                   /* bev is the TLS filter */
	bool closing;               /* waiting for the answer to QUIT/LOGOUT */
	bool starttls;              /* the TLS handshake is an upgrade */
	int cert_days;              /* INT32_MIN until a certificate was seen */
	int64_t cert_not_after;     /* its notAfter (Unix time), 0 until seen */
	char *cert_warn;            /* set when the certificate expires soon */
	char *line;                 /* ops->max_line + 1 bytes, for ops->line */
};

/* What an engine keeps for all its connections. */
struct check_conn_env {
	struct evdns_base *dns;     /* made on first use of a host name */
	struct check_conn_ca *cas;  /* per-URL ca= contexts */
	/* Cancelled lookups whose callback has not run yet: libevent runs it
	 * later, from the loop, maybe after the check was freed (more than 32
	 * deferred callbacks in one pass wait for the next one), so each
	 * lookup outlives its check and is freed by its callback. */
	struct check_conn_lookup *orphans;
};

/* --- offered by check.c to check_conn.c --- */

/* The connection state embedded in @c; owned by the check. */
struct check_conn *check_get_conn(struct check *c);
/* The engine-wide connection state (resolver, ca= contexts) of @c's engine. */
struct check_conn_env *check_get_env(struct check *c);
/* The checker of @c (never NULL). */
const struct check_ops *check_get_ops(const struct check *c);
/* check_report -- release the I/O and schedule the report of the recorded
 * verdict now (from a zero-delay event, never from inside this call). */
void check_report(struct check *c);

/* --- offered by check_conn.c to check.c --- */

/* check_conn_init -- set up @c's connection state.  @return 0, or
 * MXF_ENOMEM (check_conn_clear() still releases what was made). */
int check_conn_init(struct check *c);

/* check_conn_start -- resolve the URL's host and connect; every failure
 * finishes the check (reported later, from the loop). */
void check_conn_start(struct check *c);

/* check_conn_bye -- send @bye and wait for the answer or the close, after
 * which check_report() runs.  @return 0, or -1 when there is no
 * connection to say it on (the caller then reports at once). */
int check_conn_bye(struct check *c, const char *bye);

/* check_conn_closing -- whether the goodbye is being waited for. */
bool check_conn_closing(struct check *c);

/* check_conn_release -- cancel the lookup and close the connection; the
 * certificate facts stay for the report.  Idempotent. */
void check_conn_release(struct check *c);

/* check_conn_clear -- release what check_conn_init() and the TLS verdict
 * allocated, after check_conn_release(). */
void check_conn_clear(struct check *c);

/* check_conn_cert_days -- days until the certificate expires (INT32_MIN:
 * none seen); check_conn_cert_warn -- the "expires soon" reason or NULL. */
int check_conn_cert_days(struct check *c);
/* check_conn_cert_not_after -- the certificate's notAfter as Unix time, 0
 * when none was seen. */
int64_t check_conn_cert_not_after(struct check *c);
const char *check_conn_cert_warn(struct check *c);

/* check_conn_env_busy -- whether cancelled lookups still wait for their
 * callback (libevent runs it from the loop). */
bool check_conn_env_busy(const struct check_conn_env *env);

/* check_conn_env_free -- release the engine's resolver, ca= contexts and
 * cancelled lookups.  The loop must not run again for this engine's
 * resolver afterwards (libevent's own pending callbacks would use the
 * freed evdns base): the daemon and probe free the event base next. */
void check_conn_env_free(struct check_conn_env *env);

#endif
