/*
 * demo_impl.h -- what the files of `mxfailover demo` share (see demo.h).
 *
 * The demo is one struct demo and one libevent loop, split by what each
 * part does:
 *   demo.c       the command, the scenario, the loop and the progress lines
 *   demo_lab.c   the lab on disk and its children: key, zone, named, the
 *                daemon's config and the daemon itself
 *   demo_show.c  what the user reads besides progress: the dig-style record
 *                lines and the daemon's log, relayed
 *   demo_smtp.c  the two SMTP responders (demo_smtp.h)
 * Nothing here is used outside src/demo/.
 */
#ifndef MXF_DEMO_IMPL_H
#define MXF_DEMO_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/util.h>
#include <ldns/ldns.h>

#include "demo_smtp.h"

#define DEMO_ZONE	     "demo.test."
#define DEMO_KEY_NAME	     "demo-key"
#define DEMO_NRECORDS	     5
#define DEMO_TICK_MS	     50
#define DEMO_NAMED_READY_MS  10000 /* named answers its SOA query */
#define DEMO_DAEMON_READY_MS 15000 /* the daemon has seen both servers up */
#define DEMO_MOVE_MS	     20000 /* the records move after mx1 stops/returns */
#define DEMO_READ_MS	     3000  /* one batch of record reads */
#define DEMO_POLL_MS	     200   /* between two batches */
#define DEMO_DAEMON_STOP_MS  3000  /* SIGTERM to SIGKILL */
#define DEMO_NAMED_STOP_MS   5000
#define DEMO_NAMED_ATTEMPTS  3	 /* another port when ours was taken */
#define DEMO_DIR_MAX	     512 /* the lab directory's path, with its NUL */

struct demo;
struct dns_ops;
struct dns_tsig_key;
struct config;

/* One child process of the demo: named or the daemon. */
struct demo_child {
	pid_t pid;   /* 0 when not running (reaped) */
	int status;  /* waitpid() status once it exited */
	bool exited; /* it exited (or was stopped) since it was started */
};

/* One managed record as last read from named. */
struct demo_record {
	struct demo *d;
	ldns_rdf *owner;
	bool done;	  /* the read of this batch came back */
	char target[256]; /* CNAME target, or "" */
	char line[512];	  /* dig-style line, or why there is none */
};

struct demo {
	struct event_base *base;
	struct event *tick, *sigint, *sigterm;
	int signo;	/* the signal that interrupted us, or 0 */
	uint64_t t0_ms; /* clock_mono_ms() at the start */
	const char *named_bin;

	char dir[DEMO_DIR_MAX]; /* "" until made */
	uint16_t dns_port;
	struct demo_child named, daemon;

	int daemon_fd; /* read end of the daemon's stderr, or -1 */
	struct event *daemon_ev;
	char dline[1024];
	size_t dlen;

	struct dns_tsig_key *key;
	struct dns_ops *ops;
	struct config *cfg; /* the daemon's config, for the state file */
	struct demo_smtp mx[2];
	struct demo_record rec[DEMO_NRECORDS];
	unsigned pending; /* reads of the current batch in flight */
	bool soa_done, soa_ok;
	bool soa_busy; /* an SOA query is in flight */
};

/* The owner names of the five records, relative to DEMO_ZONE. */
extern const char *const demo_records[DEMO_NRECORDS];

/* ---- demo.c ---- */

/* Seconds since the demo started (monotonic). */
double demo_elapsed(const struct demo *d);

/*
 * demo_line -- a line on stdout, stamped with demo_elapsed(): @mark, then
 * the text.  Failures go to stdout too, so that the story reads in order.
 */
void demo_line(const struct demo *d, const char *mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A progress line, and a failure line. */
#define demo_say(d, ...)  demo_line((d), "", __VA_ARGS__)
#define demo_fail(d, ...) demo_line((d), "FAILED: ", __VA_ARGS__)

/* A condition demo_run_until() waits for; it may run no loop itself. */
typedef bool (*demo_cond)(struct demo *d);

/*
 * demo_run_until -- run the loop until @cond holds (checked before each
 * turn; NULL: never), @ms pass, or a signal arrives.
 * @return 0 when the condition held, MXF_ETIMEDOUT, or MXF_ECANCELED on a
 *         signal (d->signo says which).
 */
int demo_run_until(struct demo *d, demo_cond cond, uint64_t ms);

/* ---- demo_lab.c ---- */

/*
 * demo_lab_make_key -- write DIR/demo.key (a fresh hmac-sha256 key) and
 * load it into d->key with the daemon's loader.  @path receives the file's
 * path.  @return 0, or an MXF_E* after saying why with demo_fail().
 */
int demo_lab_make_key(struct demo *d, char *path, size_t pathlen);

/*
 * demo_lab_write_zone -- write DIR/demo.test.db with the five CNAMEs at
 * mx1.  @return 0, or an MXF_E* (said with demo_fail()).
 */
int demo_lab_write_zone(struct demo *d);

/*
 * demo_lab_named_start -- start named on a free port (another one when it
 * was taken meanwhile, DEMO_NAMED_ATTEMPTS times) and wait until it answers
 * the zone's SOA query.  Sets d->dns_port, d->named and d->ops (signed
 * queries to it, with d->key).  @return 0; MXF_ECANCELED on a signal; else
 * an MXF_E* after saying why (with the tail of named's log).
 */
int demo_lab_named_start(struct demo *d);

/*
 * demo_lab_write_config -- write DIR/mxfailover.conf for the daemon and
 * parse it into d->cfg (the state file is read against it).  @path
 * receives the file's path.  @return 0, or an MXF_E* (said).
 */
int demo_lab_write_config(struct demo *d, char *path, size_t pathlen);

/*
 * demo_lab_daemon_start -- start `mxfailover -c @conf run` as a child and
 * relay its log (demo_show_daemon_read).  @return 0, or an MXF_E* (said).
 */
int demo_lab_daemon_start(struct demo *d, const char *conf);

/* A demo_cond: the daemon has seen both servers UP (or it exited). */
bool demo_lab_daemon_ready(struct demo *d);

/* Say how the daemon ended (from d->daemon.status). */
void demo_lab_daemon_died(const struct demo *d);

/* The tick's event callback: reap named and the daemon when they exit. */
void demo_lab_reap(evutil_socket_t fd, short what, void *arg);

/*
 * demo_lab_ops_free -- free d->ops once no query is in flight (each has a
 * 1 s deadline; 2 s at most are waited).  No-op when d->ops is NULL.
 */
void demo_lab_ops_free(struct demo *d);

/*
 * demo_lab_stop -- stop the daemon (relaying its last lines) and named,
 * SIGTERM then SIGKILL, and say so.  Only the demo's own children, by pid.
 */
void demo_lab_stop(struct demo *d);

/* Remove the lab directory (or, with @keep, say where it is).  "" is a no-op. */
void demo_lab_remove(struct demo *d, bool keep);

/* ---- demo_show.c ---- */

/*
 * demo_show_record_cb -- the dns_ops_read() callback of one record read:
 * @arg is its struct demo_record, whose target and dig-style line it sets;
 * it decrements d->pending.
 */
void demo_show_record_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg);

/* Print the five records' lines, indented. */
void demo_show_records(const struct demo *d);

/*
 * demo_show_daemon_read -- the event callback on d->daemon_fd: print the
 * daemon's log lines as they come, marked "daemon:"; on EOF print what is
 * left and delete d->daemon_ev.
 */
void demo_show_daemon_read(evutil_socket_t fd, short what, void *arg);

#endif
