/*
 * etrn.h -- asking a backup MX to deliver the mail it queued (ETRN, RFC
 * 1985), after a failback.
 *
 * One connection per server carries every zone: the 220 banner, EHLO,
 * STARTTLS when offered (then EHLO again: a backup MX may refuse commands
 * before TLS), "ETRN zone" for each zone (without the trailing dot; Postfix
 * takes the domain as it appears in fast_flush_domains), QUIT.  Replies are
 * parsed by proto_smtp, lines are bounded (512 octets), and one deadline
 * covers the whole conversation.
 *
 * TLS here is opportunistic (RFC 7435): the backup is reached by address,
 * and ETRN carries only domain names, so by default the certificate is not
 * verified; with etrn_opts.tls_name it is, against that name (CA:
 * $MXF_CA_FILE, else the system store), and a failed verification ends the
 * conversation.
 *
 * Per zone: 250 (queuing started), 251 (no messages waiting), 252 and 253
 * (pending messages started) are accepted; anything else -- 458 (unable to
 * queue), 459 (node not allowed), 500/501/502 (not supported), 421 -- is a
 * failure reported with the server's reply line.
 *
 * etrn.c never logs: the caller logs the result once, with the server.
 */
#ifndef MXF_ETRN_H
#define MXF_ETRN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct etrn;

#define ETRN_DEFAULT_PORT 25
#define ETRN_DEFAULT_TIMEOUT_MS 30000
#define ETRN_REPLY_MAX 256
#define ETRN_MAX_ZONES 256

struct etrn_opts {
	uint64_t timeout_ms;      /* the whole conversation [30 s] */
	const char *helo;         /* EHLO name [the host name] */
	const char *tls_name;     /* verify the certificate against it [no verification] */
};

struct etrn_zone_result {
	const char *zone;         /* as sent: without the trailing dot */
	bool accepted;            /* 250..253 */
	int code;                 /* the reply code; 0 when no reply came */
	char reply[ETRN_REPLY_MAX]; /* "458 4.0.0 Unable to queue messages", or
				       why no reply came ("timed out ...") */
};

struct etrn_result {
	const char *server;       /* "192.0.2.11:25" */
	bool all_accepted;        /* every zone accepted */
	bool tls;                 /* the ETRN commands went over TLS */
	int err;                  /* 0: the conversation reached ETRN; else MXF_E*
				     (MXF_ECONNREFUSED, MXF_ETIMEDOUT, MXF_EPROTO, ...) */
	char reason[ETRN_REPLY_MAX]; /* when err != 0: what went wrong */
	uint64_t elapsed_ms;
	const struct etrn_zone_result *zones;
	size_t nzones;
};

/*
 * etrn_done_fn -- the conversation is over.  Called exactly once per
 * etrn_start() that returned 0, from the event loop (never from inside
 * etrn_start), unless etrn_cancel() came first.  @r and everything it
 * points to is valid only during the call; the etrn object is freed right
 * after it returns.
 */
typedef void (*etrn_done_fn)(const struct etrn_result *r, void *arg);

/*
 * etrn_start -- connect to @address (an IPv4 or IPv6 literal) port @port (0:
 * 25) and ask it to flush the queue of each of the @nzones @zones (absolute
 * or relative names; a trailing dot is dropped, a leading '@' kept as
 * given).  @zones and @opts are copied.
 * @return the running conversation (for etrn_cancel), or NULL with @err
 *         saying why (not an IP literal, no zones, too many zones, out of
 *         memory); @cb is then never called.
 */
struct etrn *etrn_start(struct event_base *base, const char *address, uint16_t port,
			const char *const *zones, size_t nzones, const struct etrn_opts *opts,
			etrn_done_fn cb, void *arg, char *err, size_t errsize);

/* etrn_cancel -- stop a conversation without calling its callback and free
 * it.  Only valid before the callback ran.  NULL is accepted. */
void etrn_cancel(struct etrn *t);

/* etrn_code_accepted -- true for the ETRN replies meaning "started/ok". */
bool etrn_code_accepted(int code);

/*
 * etrn_code_meaning -- RFC 1985's words for @code ("queuing started",
 * "unable to queue", "node not allowed", "not supported", ...).
 * @return a static string, never NULL.
 */
const char *etrn_code_meaning(int code);

/*
 * etrn_zone_arg -- the ETRN argument for @zone: the name without one
 * trailing dot, into @buf.  @return @buf, or NULL when the name is empty,
 * too long or contains a space or control character.
 */
char *etrn_zone_arg(const char *zone, char *buf, size_t size);

#endif
