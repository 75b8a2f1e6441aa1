/*
 * queue_watch.h -- the daemon's readings of its backup MXes' queues
 * ([server] queue): read after a failover (and again every
 * QUEUE_WATCH_REFRESH_MS while the group stays failed over), and after an
 * ETRN until the queue has drained or QUEUE_WATCH_DRAIN_MAX_MS passed, so
 * the queue-flush notice can say whether it did.
 *
 * Reads run on the loop (queue_read.h) and never delay a round: a round
 * only asks for them.  Each server's last reading is kept for /api/status,
 * /metrics and the dashboard (status_queue.h).  Entries copy what they need
 * from the configuration (server id, queue, zones), so a reload never
 * leaves them pointing at freed memory; they are keyed by server id.
 */
#ifndef MXF_QUEUE_WATCH_H
#define MXF_QUEUE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "queue_read.h"

struct event_base;
struct event;
struct queue_watch;
struct queue_watch_drain;

/* Deadline of one reading (ssh included). */
#define QUEUE_WATCH_TIMEOUT_MS 30000
/* While a group is failed over, its backups' queues are read this often. */
#define QUEUE_WATCH_REFRESH_MS 60000
/* After ETRN: the first look, then doubling, until drained or the bound,
 * where a last look is taken.  Every reading of a drain check ends within
 * QUEUE_WATCH_DRAIN_LAST_MS after the bound (its timeout is cut to what is
 * left), so the whole check is over 50 s after the ETRN: within `once`'s
 * wait for notices (daemon.c), and a cron pass still sends the queue-flush
 * notice. */
#define QUEUE_WATCH_DRAIN_FIRST_MS 2000
#define QUEUE_WATCH_DRAIN_MAX_MS   40000
#define QUEUE_WATCH_DRAIN_LAST_MS  10000
/* The least time a reading is given, however close the end. */
#define QUEUE_WATCH_READ_MIN_MS    1000

/* One backup server's queue and its last reading. */
struct queue_watch_entry {
	char *server;	       /* [server NAME] */
	struct config_queue q; /* a copy of its queue = (url, user, host, port) */
	char **zones;	       /* copies: the zones read for */
	size_t nzones;
	/* The last reading; have is false until one ended. */
	bool have;
	int rc; /* 0, or why it could not be read (MXF_E*) */
	char error[300];
	struct queue_summary sum;
	struct queue_zone *counts; /* [nzones]; zone borrows zones[] */
	int64_t read_at;	   /* Unix seconds it ended */
	double seconds;		   /* how long it took */
	const char *why;	   /* "failover", "failed over", "after ETRN" (static) */
	/* What runs. */
	struct queue_read *read;
	const char *read_why;
	bool failed_over;    /* refresh while the group is away from it */
	uint64_t refresh_ms; /* next refresh (clock_mono_ms), 0 none */
	struct queue_watch_drain *drains;
	struct event *timer;
	struct queue_watch *qw;
	bool retired; /* a reload removed the server or its queue */
};

/*
 * queue_watch_drain_fn -- the end of a drain check: @drained 1 when a
 * reading found no mail for the zones, 0 when mail was still held at the
 * bound, -1 when the last reading failed (@e->error says why).  @e is
 * valid during the call.
 */
typedef void (*queue_watch_drain_fn)(void *arg, const struct queue_watch_entry *e, int drained);

/* A new, empty watch on @base (borrowed). @return NULL when out of memory. */
struct queue_watch *queue_watch_new(struct event_base *base);

/* Stop every reading and drain check (their callbacks are not called), free. */
void queue_watch_free(struct queue_watch *qw);

/*
 * queue_watch_switched -- group @g of @cfg switched: @to_preferred false
 * (a failover) reads now every queue of the group's servers other than the
 * preferred one and keeps refreshing them; true (a failback) stops the
 * refreshing (ETRN then drives the drain checks).
 */
void queue_watch_switched(struct queue_watch *qw, const struct config *cfg, size_t g,
			  bool to_preferred);

/*
 * queue_watch_get -- the entry of server @s of @cfg, made or brought up to
 * date (queue, zones).  Entries live until queue_watch_free(), so the
 * pointer may be kept across reloads.
 * @return NULL when the server has no queue (or out of memory).
 */
struct queue_watch_entry *queue_watch_get(struct queue_watch *qw, const struct config *cfg,
					  size_t s);

/*
 * queue_watch_drain -- after ETRN at @e's server: read its queue
 * QUEUE_WATCH_DRAIN_FIRST_MS from now, then at doubling intervals, until it
 * holds no mail for the zones or QUEUE_WATCH_DRAIN_MAX_MS passed; then
 * call @done once (from the loop, never from inside this call).  A reading
 * started for it is given no more than what is left until
 * QUEUE_WATCH_DRAIN_MAX_MS + QUEUE_WATCH_DRAIN_LAST_MS from now (at least
 * QUEUE_WATCH_READ_MIN_MS), so @done comes within that bound.
 * @return 0 or MXF_ENOMEM (nothing will be called).
 */
int queue_watch_drain(struct queue_watch_entry *e, queue_watch_drain_fn done, void *arg);

/*
 * queue_watch_reload -- the configuration became @cfg: entries whose
 * server is gone or has no queue any more stop refreshing and are no longer
 * listed (a drain check running finishes); the others take the new queue
 * and zones.  NULL @qw is a no-op.
 */
void queue_watch_reload(struct queue_watch *qw, const struct config *cfg);

/* queue_watch_drain_cancel -- forget every drain check whose arg is @arg. */
void queue_watch_drain_cancel(struct queue_watch *qw, void *arg);

/* How many entries are listed (not retired); listed entry @i, or NULL. */
size_t queue_watch_count(const struct queue_watch *qw);
const struct queue_watch_entry *queue_watch_entry(const struct queue_watch *qw, size_t i);

/* Whether a reading or a drain check is still running (`once` waits). */
bool queue_watch_busy(const struct queue_watch *qw);

/*
 * queue_watch_describe -- one line about @e's last reading for a notice:
 * "no mail left for lab.test (read 4 s after ETRN)", "3 messages still
 * held for lab.test, oldest 2 min", "could not be read: ssh: ...".
 */
void queue_watch_describe(const struct queue_watch_entry *e, int64_t now, char *buf, size_t size);

#endif
