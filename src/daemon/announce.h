/*
 * announce.h -- telling people and peers what a round found: each event of
 * failover logged once and turned into a notice, a failback turned into
 * queue flushes (ETRN) at the group's other servers, and a reminder every
 * [notify] reminder while a server stays down.
 *
 * Runs on the daemon's libevent loop; notices and flushes finish after the
 * round (announce_busy() says whether some are still running).  What to
 * say is decided elsewhere (failover.c makes the events, round_rules.c maps
 * them to notice kinds); this module only words and sends.
 */
#ifndef MXF_ANNOUNCE_H
#define MXF_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "daemon.h"
#include "dns_tsig.h"
#include "failover.h"
#include "health.h"
#include "notify.h"

struct event_base;
struct announce_etrn;
struct queue_watch;

/*
 * The announcer of a daemon: zero-initialise, set @base, then fill @notify
 * and @reminder_next; free with announce_clear().  The daemon swaps @notify
 * and @reminder_next itself on a reload.
 */
struct announce {
	struct event_base *base;    /* borrowed */
	struct notify *notify;	    /* owned; NULL when [notify] sets no channel */
	uint64_t *reminder_next;    /* owned, [nservers]: next reminder of a down
				       server, 0 when none is due */
	struct announce_etrn *etrn; /* queue flushes running */
	struct queue_watch *queue;  /* owned: backup queues read ([server] queue),
				       made at the first switch that needs it */
};

/*
 * announce_build_notify -- a notifier for @cfg's [notify] on @base (NULL in
 * *out when no channel is set, or for `plan`), with @key's secret (may be
 * NULL) registered so it never appears in a notice.  `once` gets fewer,
 * shorter tries, so a cron pass ends.
 * @return 0, or MXF_EXIT_USAGE after logging why.
 */
int announce_build_notify(struct event_base *base, enum daemon_mode mode, const struct config *cfg,
			  const struct dns_tsig_key *key, struct notify **out);

/*
 * announce_add_key_secret -- register @key's secret (base64, as in the key
 * file) with the log (log_add_secret) and the notifier @n, so no log line or
 * notice shows it; a reload with a new key_file adds the new one (the old
 * one stays).  @n NULL: the log only; @key NULL: nothing to do.  Out of
 * memory is logged.
 */
void announce_add_key_secret(struct notify *n, const struct dns_tsig_key *key);

/* Whether two [notify] sections would build the same notifier. */
bool announce_notify_same(const struct config_notify *a, const struct config_notify *b);

/*
 * announce_active -- via_active mode: mail goes through @server, an index
 * into @cfg->servers (the first group's active server, failover_active()).
 * Nothing when there is no notifier or @server is out of range (-1: no
 * group).
 */
void announce_active(struct announce *a, const struct config *cfg, long server);

/*
 * announce_event -- log @e at its level and send its notice; a failback
 * (SWITCHED_BACK) of a group with etrn set also asks the group's other
 * servers to flush their queues.
 * @records  "owner TYPE value" of every record the switch moved (borrowed,
 *           may be NULL), shown in a SWITCHED notice.
 */
void announce_event(struct announce *a, const struct config *cfg, const struct failover_event *e,
		    const char *const *records, size_t nrecords);

/*
 * announce_reminders -- while a server stays down (effective state in @h
 * at @now_ms), a reminder every [notify] reminder.
 */
void announce_reminders(struct announce *a, const struct config *cfg, const struct health *h,
			uint64_t now_ms);

/*
 * announce_settle -- `once` will not wait any longer: every queue flush
 * still running ends now, and its notice goes out with @why ("queue drain
 * not checked: ...") added to the reason instead of being dropped.  A
 * flush whose ETRN has not ended counts as failed.  The notices are only
 * queued: the caller gives the notifier time to deliver them.
 */
void announce_settle(struct announce *a, const char *why);

/* Whether notices or queue flushes are still running. */
bool announce_busy(const struct announce *a);

/* Cancel the queue flushes, free the notifier and the reminders. */
void announce_clear(struct announce *a);

#endif
