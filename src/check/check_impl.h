/*
 * check_impl.h -- what the engine (check.c, check_conn.c) offers to the
 * checkers (check_tcp.c, check_smtp.c, ...), and what a checker offers to
 * the engine.
 *
 * One vtable (struct check_ops) per checker, keepalived style.  A stream
 * checker only reacts to "connected", "a line (or data) arrived" and "TLS
 * upgrade done"; the engine owns the socket, the TLS layer, the deadline,
 * the bounded line reader and the one epilogue (check_finish) that turns
 * any outcome into a result.  A checker that does its own I/O (dns, exec,
 * ssh) implements start/cleanup instead and still ends through
 * check_finish.  Checkers read the URL as parsed by check_url.h and switch
 * on its scheme.
 *
 * Not a public interface: only check*.c include it.
 */
#ifndef MXF_CHECK_IMPL_H
#define MXF_CHECK_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "check.h"
#include "check_url.h"
#include "proc.h"

struct check;
struct evbuffer;
struct event_base;

/*
 * One vtable per checker; the engine picks it by the URL's scheme, and one
 * vtable may serve several schemes (smtp, submission and smtps share one).
 * A checker with start() does its own I/O; any other is a stream checker:
 * the engine resolves, connects, puts TLS first when the scheme is
 * implicit TLS (check_url_tls), then calls connected(), and line() or
 * read() as input arrives.
 */
struct check_ops {
	size_t max_line;      /* longest line (without CRLF) the protocol allows */
	size_t state_size;    /* bytes of checker state, zeroed, at check_priv() */
	/* Stream: the connection (and implicit TLS) is up. */
	void (*connected)(struct check *c);
	/* Stream, line protocols: one input line (NUL-terminated, CRLF or LF
	 * removed, may contain NUL bytes: use @len), valid during the call.
	 * Lines stop coming once the check is finished or a STARTTLS upgrade
	 * began (check_conn_starttls).  A line longer than max_line ends the
	 * check "down: line too long". */
	void (*line)(struct check *c, char *line, size_t len);
	/* Stream, other protocols: input arrived; consume it from
	 * check_conn_input(). */
	void (*read)(struct check *c);
	/* Stream: the STARTTLS upgrade (check_conn_starttls) completed and verified. */
	void (*tls_done)(struct check *c);
	/* Own I/O: start the work.  @return 0, or a negative MXF_E* after
	 * check_finish() was called with the reason. */
	int (*start)(struct check *c);
	/* Release what the checker holds in its state (a process, sockets).
	 * Called once, at the verdict. */
	void (*cleanup)(struct check *c);
};

extern const struct check_ops check_tcp_ops;
extern const struct check_ops check_smtp_ops;   /* smtp, submission, smtps */
extern const struct check_ops check_imap_ops;   /* imap, imaps */
extern const struct check_ops check_pop3_ops;   /* pop3, pop3s */
extern const struct check_ops check_http_ops;   /* http, https */
extern const struct check_ops check_mysql_ops;
extern const struct check_ops check_dns_ops;
extern const struct check_ops check_exec_ops;
extern const struct check_ops check_ssh_ops;    /* ssh-disk, ssh-socket, ssh-fsck */

/* --- the engine (check.c) --- */

/* The parsed check URL; owned by the check, valid until the verdict is reported. */
const struct check_url *check_get_url(const struct check *c);
/* Checker state of ops->state_size bytes; owned by the check. */
void *check_priv(struct check *c);
struct event_base *check_base(const struct check *c);
/* Milliseconds left before the deadline (0 when past it). */
uint64_t check_remaining_ms(const struct check *c);
/* The whole timeout of this check in milliseconds. */
uint64_t check_timeout_ms(const struct check *c);
/* The name sent as HELO/EHLO: helo= or "mxfailover.invalid"-like default. */
const char *check_helo_name(const struct check *c);

void check_set_phase(struct check *c, enum check_phase p);
enum check_phase check_get_phase(const struct check *c);

/*
 * check_finish -- the epilogue: record the verdict (state, the current phase,
 * elapsed time, the formatted reason), tear down the connection or process
 * and schedule the report.  Only the first call counts; later calls are
 * ignored, so error paths may call it freely.  An UP verdict becomes WARNING
 * when the TLS certificate expires within cert_days.
 */
void check_finish(struct check *c, enum check_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * check_finish_polite -- as check_finish, but first send @bye (e.g.
 * "QUIT\r\n") and wait for the server's answer or close, within the
 * deadline, before reporting; so the monitor leaves as a well-behaved client
 * does and postscreen or fail2ban do not count it as a bad one.  The
 * recorded verdict and elapsed time are those of this call.
 */
void check_finish_polite(struct check *c, const char *bye, enum check_state s,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* True once the verdict is in (after check_finish*). */
bool check_finished(const struct check *c);

/* --- the connection of a stream check (check_conn.c) --- */

/* True once the connection runs over TLS. */
bool check_conn_tls_active(const struct check *c);

/*
 * check_conn_up -- the mail protocols' happy end: phase quit, verdict up
 * with @text followed by how the connection was protected (" (TLS)" for
 * implicit TLS, @upgraded such as " (STARTTLS)" after an upgrade, else
 * nothing), and a polite @bye (check_finish_polite).
 */
void check_conn_up(struct check *c, const char *bye, const char *text, const char *upgraded);

/*
 * check_conn_upgrade -- the server answered our STARTTLS/STLS: when @ok,
 * start the TLS handshake (check_conn_starttls); else the check is down
 * with the server's @text, after a polite @bye.
 */
void check_conn_upgrade(struct check *c, bool ok, const char *bye, const char *text);

/*
 * check_conn_parsed -- the common half of a line() callback: @r is what a
 * proto_*_feed_line() returned; PROTO_ERROR finishes the check down with
 * the parser's @reason (read after the call that filled it).
 * @return @r.
 */
int check_conn_parsed(struct check *c, int r, const char *reason);

/* The connection's input buffer, for binary protocols (MySQL). */
struct evbuffer *check_conn_input(struct check *c);

/* Queue bytes for sending.  @return 0, or MXF_ENOMEM after finishing down
 * (MXF_EINVAL when there is no connection). */
int check_conn_write(struct check *c, const void *data, size_t len);
int check_conn_printf(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * check_conn_starttls -- start a TLS client handshake over the existing
 * plain connection (STARTTLS, STLS).  The phase becomes TLS handshake; on
 * success ops->tls_done runs, on failure the check is finished down with
 * the reason.
 */
void check_conn_starttls(struct check *c);

/*
 * check_conn_resolve -- the address of the URL's host and port.  An
 * address literal is used at once: @cb runs before check_conn_resolve()
 * returns.  A name is looked up with evdns on the loop (phase "resolve";
 * @socktype SOCK_STREAM or SOCK_DGRAM), and @cb runs later with the first
 * address, unless the check ended first.  On a failed lookup the check is
 * finished down ("cannot resolve HOST: ...") and @cb is never called.  @sa
 * is valid only during the call.  The engine uses it for every stream
 * check; own-I/O checkers (dns) use it so a host name works for them too.
 */
typedef void (*check_resolved_fn)(struct check *c, const struct sockaddr *sa, socklen_t salen);
void check_conn_resolve(struct check *c, int socktype, check_resolved_fn cb);

/* --- running a program (check_exec.c) --- */

/*
 * check_exec_spawn -- run @argv (no shell; proc.h) for @c: the phase
 * becomes exec, the process handle is stored in *@pp (checker state: the
 * checker's cleanup frees it with proc_free(), which kills the process
 * group when the deadline ended the check first), and @done runs with @c
 * as its argument when the program exits.  Used by exec and ssh checks.
 * @return 0, or a negative MXF_E* after check_finish() was called.
 */
int check_exec_spawn(struct check *c, struct proc **pp, char *const argv[], proc_done_fn done);

#endif
