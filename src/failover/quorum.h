/*
 * quorum.h -- several monitors decide together (issue 13): the record each
 * monitor publishes its view in, and the tracker that turns the views it
 * reads into the health failover acts on.
 *
 * Pure: no sockets, clocks or syslog.  The daemon publishes and reads the
 * records (TSIG-signed UPDATEs and queries at ID._mxfailover.ZONE of
 * [quorum]) and passes the results in with the time of its own monotonic
 * clock in milliseconds.  quorum_view.c holds the record format, quorum.c
 * the tracker.
 *
 * THE RECORD.  One TXT record (an RRset of exactly one RR: the order of the
 * character-strings inside one RR is kept by DNS, the order of RRs is not)
 * whose character-strings are, in this order:
 *
 *     record   = version boot seq *field
 *     version  = "mxf1"
 *     boot     = "boot=" 16HEXLOWER        ; the publisher's nonce, new at
 *                                         ; each start of its process
 *     seq      = "seq=" ("0" / %x31-39 0*19DIGIT)
 *                                         ; a uint64 (at most
 *                                         ; 18446744073709551615), no
 *                                         ; leading zero
 *     field    = at / server / other
 *     at       = "at=" 1*20DIGIT          ; the publisher's wall clock, Unix
 *                                         ; seconds, a uint64: informational
 *     server   = server-id "=" state
 *     state    = "up" / "down" / "unknown"
 *     other    = *OCTET                   ; any other string: ignored
 *     HEXLOWER = DIGIT / %x61-66          ; 0-9 a-f
 *     OCTET    = %x01-FF                  ; never NUL
 *
 * The publisher (quorum_view_format) writes version, boot, seq, at, then
 * one server string per server of its configuration, in config order.
 * Example:
 *
 *     "mxf1" "boot=9f86d081884c7d65" "seq=42" "at=1764748800"
 *     "mx1=down" "mx2=up"
 *
 * Each string is at most 255 bytes (a TXT character-string's limit) and
 * may not contain a NUL.  server-id is config_server.id: non-empty, without
 * '=', short enough for "<id>=unknown" to fit (quorum_new checks).
 *
 * Parsing is strict about the first three strings: a record with fewer
 * than three strings, whose first is not exactly "mxf1" (a later version
 * is a new word there), whose boot is not 16 lower-case hex digits or whose
 * seq is not a decimal uint64 as above is invalid and is not counted; so
 * is one with a NUL in any string, a string over 255 bytes, or the same
 * server id twice.  It is tolerant about the rest, so that newer versions
 * and monitors with a skewed configuration still count: every string after
 * seq is split at its first '='; "at=" followed by decimal digits that fit
 * a uint64 is the time (the first one; a malformed one is ignored: it is
 * informational); KEY=VALUE with KEY a server id of this configuration is
 * that server's state, a VALUE other than up/down/unknown counting as
 * unknown; any other string is ignored (unknown keys, server ids this
 * configuration does not have).  A server of this configuration absent from
 * the record is unknown in that monitor's view.
 *
 * FRESHNESS never depends on the monitors' clocks agreeing (at is not
 * read for it): a monitor's view counts while its (boot, seq) keeps
 * changing as read by THIS monitor, on its own monotonic clock.  A view is
 * fresh at time now when its seq was seen rise within one boot at a time
 * t with now - t < stale_ms.  The first sighting after our own start is
 * not a change: a record left by a monitor that died an hour ago looks
 * just like a live one; nor is another boot (a restart, or an old run's
 * record brought back with a restored primary) until its seq rises.  A publisher republishes its view when it changes and every
 * heartbeat_ms otherwise, always with a new seq, so a live monitor keeps
 * advancing and a stopped one goes stale.
 *
 * OUR OWN VIEW counts as a vote only while it has been published
 * successfully with the states we hold now, the last success less than
 * stale_ms ago: a monitor cut from the primary can neither vote nor (its
 * quorum being lost) switch.
 *
 * THE DECISION.  Per server, among fresh views (ours included when fresh):
 * UP when at least `need` say up and fewer than `need` say down; DOWN when
 * at least `need` say down and fewer than `need` say up; else UNKNOWN.
 * With fewer than `need` fresh monitors, every server is UNKNOWN.  The
 * caller hands these states to failover_plan() in place of the servers'
 * health; its rules (the first UP server in preference order, UNKNOWN stops
 * the walk, nothing derived from UNKNOWN) then make a switch need `need`
 * monitors that see the current server DOWN and the target UP, and a
 * failback `need` monitors that see the preferred server UP.
 *
 * A round, in the daemon:
 *
 *     quorum_own(q, effective, now, wall, &v) == 1 ->
 *         quorum_view_format(cfg, &v, ...), UPDATE, quorum_published(q, ok, now)
 *     for each other monitor i: read, quorum_view_parse(),
 *         quorum_observe(q, i, ok ? &view : NULL, read_ok, now)
 *     quorum_decide(q, now, states) -> failover_plan() with states
 *     quorum_check(q, now) -> QUORUM_LOST / QUORUM_BACK: alert once
 */
#ifndef MXF_QUORUM_H
#define MXF_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "health.h"

#define QUORUM_VERSION	  "mxf1"
#define QUORUM_STRING_MAX 255 /* bytes of one TXT character-string */
#define QUORUM_BOOT_LEN	  16  /* hex digits of the boot nonce */

/* quorum_check()'s transitions. */
#define QUORUM_LOST (-1)
#define QUORUM_BACK 1

/* One monitor's view, as published or as read. */
struct quorum_view {
	char boot[QUORUM_BOOT_LEN + 1]; /* lower-case hex, NUL-terminated */
	uint64_t seq;
	uint64_t at_s; /* publisher's wall clock; only with has_at */
	bool has_at;
	enum health_state *states; /* [cfg->nservers], config order; owned */
};

/*
 * quorum_view_init -- an empty view for @cfg: no boot, seq 0, no time,
 * every server HEALTH_UNKNOWN.
 * @return 0, or MXF_ENOMEM with @v cleared (quorum_view_clear is harmless).
 */
int quorum_view_init(struct quorum_view *v, const struct config *cfg);

/* Free what @v owns and leave it zeroed; a zeroed view is allowed. */
void quorum_view_clear(struct quorum_view *v);

/*
 * quorum_view_format -- the character-strings of @v's record (THE RECORD
 * above): version, boot, seq, at when has_at, then every server of @cfg.
 * @strs, @n  on success a new array of @n NUL-terminated strings the caller
 *            frees with quorum_strs_free(); untouched on failure.
 * @return 0; MXF_EINVAL when @v's boot is not 16 lower-case hex digits, a
 *         state is out of range, a server id is empty or holds '=', or a
 *         string would pass 255 bytes; MXF_ENOMEM.
 */
int quorum_view_format(const struct config *cfg, const struct quorum_view *v, char ***strs,
		       size_t *n);

/* Free @n strings of @strs and the array; NULL is a no-op. */
void quorum_strs_free(char **strs, size_t n);

/*
 * quorum_view_parse -- one monitor's record, as read from DNS.
 * @strs, @lens  the @n character-strings of the TXT record, in order;
 *               strs[i] holds lens[i] bytes and need not be NUL-terminated.
 *               @lens may be NULL when every string is NUL-terminated.
 * @out          a view initialised for @cfg (quorum_view_init); on success
 *               overwritten, on failure untouched.
 * @err          on MXF_EINVAL a one-line reason ("seq: ..."), which quotes
 *               at most a few bytes of the record with anything unprintable
 *               escaped (it comes from the network).
 * @return 0; MXF_EINVAL for an invalid record (see the grammar above);
 *         MXF_ENOMEM.
 */
int quorum_view_parse(const struct config *cfg, const char *const *strs, const size_t *lens,
		      size_t n, struct quorum_view *out, char *err, size_t errlen);

/* ---- the tracker ---------------------------------------------------------- */

struct quorum;

/* One monitor, for status output; pointers are borrowed from the tracker
 * and @cfg and live until the next call that changes the tracker. */
struct quorum_monitor_status {
	const char *id;			/* cfg->quorum.monitors[i] */
	bool self;			/* this monitor */
	bool fresh;			/* its view counts now */
	bool seen;			/* a view was ever read (self: ever
					   published successfully) */
	uint64_t age_ms;		/* since its (boot, seq) last advanced
					   (self: the last successful publish);
					   UINT64_MAX never */
	char boot[QUORUM_BOOT_LEN + 1]; /* "" when not seen */
	uint64_t seq;
	bool has_at;
	uint64_t at_s;
	bool read_error;		 /* the last read failed (not self) */
	bool absent;			 /* the last read found no valid record
					    (absent or unparsable; not self) */
	const enum health_state *states; /* [cfg->nservers]: the last view read;
					    self: the states now held; NULL
					    when never seen */
	bool published_ok;		 /* self: the states now held are
					    published (the last attempt
					    succeeded); false for others */
};

/*
 * quorum_new -- a tracker for this monitor (cfg->quorum.self) among
 * cfg->quorum.monitors, created at @now_ms of the monotonic clock (the
 * tracker reads no clock, and quorum_check() needs to know when it
 * started).
 * Nothing is fresh yet: not our own view (unpublished), nor the others'
 * (not yet seen advancing).
 * @cfg   must outlive the tracker; cfg->quorum must be enabled, with
 *        1 <= need <= nmonitors, self < nmonitors and heartbeat_ms and
 *        stale_ms above 0, and every server id usable in a record
 *        (non-empty, without '=', short enough).
 * @boot  this process's random nonce, 16 lower-case hex digits (a restart
 *        makes a new one); copied.
 * @return 0 with *out set (free with quorum_free), MXF_EINVAL, MXF_ENOMEM.
 */
int quorum_new(const struct config *cfg, const char boot[QUORUM_BOOT_LEN + 1], uint64_t now_ms,
	       struct quorum **out);

/* Free @q; NULL is a no-op. */
void quorum_free(struct quorum *q);

/*
 * quorum_own -- this monitor's effective health of every server, each
 * round, and whether to publish it.
 * @effective   [cfg->nservers], copied: the states held from now on.
 * @wall_s      the wall clock, written as at= (informational).
 * @to_publish  initialised for cfg (quorum_view_init); filled when due.
 * @return 1 when a publish is due -- nothing published yet, the last
 *         attempt failed, the states differ from the last published ones,
 *         or heartbeat_ms has passed since the last successful publish --
 *         with @to_publish holding our boot and a seq never handed out
 *         before in this boot (even a failed seq may have reached the
 *         server, so none is reused); 0 when not due (@to_publish
 *         untouched); MXF_EINVAL for a state out of range.
 *         Report the result with quorum_published().
 */
int quorum_own(struct quorum *q, const enum health_state *effective, uint64_t now_ms,
	       uint64_t wall_s, struct quorum_view *to_publish);

/*
 * quorum_published -- the result of publishing the view the last
 * quorum_own() returned 1 for.  On success that view is ours as the other
 * monitors see it; a failure leaves the view last published in place (it
 * counts while its states are still ours and it is not stale) and makes
 * the next quorum_own() due.  Without a view outstanding it does nothing.
 */
void quorum_published(struct quorum *q, bool ok, uint64_t now_ms);

/*
 * quorum_observe -- what reading monitor @monitor's record gave.
 * @v        the parsed view, or NULL when the record is absent or did not
 *           parse; copied.
 * @read_ok  false when the read itself failed (timeout, TSIG, rcode): then
 *           only the read-error flag changes, and the monitor goes stale
 *           in time unless a later read shows it advancing.
 * A first sighting is remembered but does not make the monitor fresh, and
 * another boot is a first sighting again (the monitor is not fresh until
 * that boot's seq rises); a greater seq of the same boot makes it fresh as
 * of @now_ms and its view the one that counts.  The same boot with the same
 * or a lower seq changes nothing (an old copy).  An absent record keeps the last view, which goes stale.
 * Observing this monitor itself is ignored: our own view is known from
 * quorum_published().
 * @return 0, or MXF_EINVAL for an index out of range.
 */
int quorum_observe(struct quorum *q, size_t monitor, const struct quorum_view *v, bool read_ok,
		   uint64_t now_ms);

/*
 * quorum_decide -- the health failover acts on (THE DECISION above).
 * @out  [cfg->nservers], filled.
 * @return the number of fresh monitors (ours included when it counts);
 *         below need every state is HEALTH_UNKNOWN.
 */
int quorum_decide(const struct quorum *q, uint64_t now_ms, enum health_state *out);

/* True when at least need monitors are fresh at @now_ms. */
bool quorum_have(const struct quorum *q, uint64_t now_ms);

/*
 * quorum_check -- the transitions of having quorum, for alerts; call it
 * once a round.
 * @return QUORUM_LOST once when quorum goes from had to not had, or when it
 *         has not been reached stale_ms after quorum_new() (so a restart
 *         does not alert while the views come in); QUORUM_BACK once when
 *         it is reached again after a QUORUM_LOST; 0 otherwise.
 */
int quorum_check(struct quorum *q, uint64_t now_ms);

/* The number of monitors, cfg->quorum.nmonitors. */
size_t quorum_nmonitors(const struct quorum *q);

/*
 * quorum_monitor -- monitor @i (index into cfg->quorum.monitors) at @now_ms.
 * @return 0 with @out filled, or MXF_EINVAL for an index out of range.
 */
int quorum_monitor(const struct quorum *q, size_t i, uint64_t now_ms,
		   struct quorum_monitor_status *out);

/*
 * quorum_agreeing -- which fresh monitors see @server in @state ("which
 * monitors agreed on the last switch").
 * @out  their ids, space separated, in monitors order, NUL-terminated; ids
 *       that do not fit whole in @outlen are left out (the count still
 *       includes them).
 * @return how many, or MXF_EINVAL for a server index out of range.
 */
int quorum_agreeing(const struct quorum *q, uint64_t now_ms, size_t server, enum health_state state,
		    char *out, size_t outlen);

/*
 * A reload.  quorum_config_same -- whether @b's [quorum], servers (ids, in
 * order) and interval are @a's: then the tracker goes on under the new
 * configuration with quorum_rebind (views, freshness and our seq kept).
 * Otherwise a new tracker takes over what quorum_check() has told
 * (quorum_carry), so a quorum lost before the reload is not alerted again
 * and its return still is.
 */
bool quorum_config_same(const struct config *a, const struct config *b);
void quorum_rebind(struct quorum *q, const struct config *cfg);
void quorum_carry(struct quorum *to, const struct quorum *from);

#endif
