/*
 * check_impl.h -- what the engine (check.c) offers to the checkers
 * (check_tcp.c, check_smtp.c, ...), and what a checker offers to the engine.
 *
 * One vtable (struct check_ops) per check type, keepalived style.  A stream
 * checker only reacts to "connected", "data arrived" and "TLS upgrade done";
 * the engine owns the socket, the TLS layer, the deadline, the bounded line
 * reader and the one epilogue (check_finish) that turns any outcome into a
 * result.  A checker that does its own I/O (dns, exec, ssh) implements
 * start/cleanup instead and still ends through check_finish.
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
#include "proc.h"
#include "proto_http.h"

struct check;
struct evbuffer;
struct event_base;

/* The parsed form of a check URL as the engine uses it. */
struct check_target {
	char *scheme;       /* lower-case, e.g. "smtp", "exec" */
	char *user;         /* NULL when absent */
	char *host;         /* without brackets; NULL for exec */
	uint16_t port;      /* default filled in */
	char *path;         /* "" or "/..." (not decoded) */
	uint64_t timeout_ms;/* 0: the caller's default */
	char *sni;          /* NULL: the host when it is a name, else none */
	bool verify;        /* default true */
	int cert_days;      /* -1: not set */
	char *helo;         /* NULL: the default HELO name */
	int limit;          /* ssh-disk: down at >= limit %; -1: not set */
	char *script;       /* ssh-fsck: remote script instead of fsck -n, or NULL */
	char *ca;           /* CA file for this URL, NULL: the engine's */
	struct proto_http_codes expect; /* http: accepted codes when expect_set */
	bool expect_set;
	char **argv;        /* exec: NULL-terminated argument vector */
};

enum check_ops_flags {
	CHECK_F_STREAM = 1 << 0,      /* engine connects a TCP stream */
	CHECK_F_TLS = 1 << 1,         /* implicit TLS right after connect */
	CHECK_F_NOHOST = 1 << 2,      /* the URL has no host (exec) */
	CHECK_F_PATH = 1 << 3,        /* the URL needs a path */
};

struct check_ops {
	const char *scheme;
	uint16_t default_port;
	unsigned flags;
	size_t max_line;      /* longest line (without CRLF) the protocol allows */
	size_t state_size;    /* bytes of checker state, zeroed, at check_priv() */
	/* Stream: the connection (and implicit TLS) is up. */
	void (*connected)(struct check *c);
	/* Stream: input arrived; consume it with check_readline()/check_input(). */
	void (*read)(struct check *c);
	/* Stream: the STARTTLS upgrade (check_starttls) completed and verified. */
	void (*tls_done)(struct check *c);
	/* Own I/O: start the work.  @return 0, or a negative MXF_E* after
	 * check_finish() was called with the reason. */
	int (*start)(struct check *c);
	/* Own I/O: release what start() made.  Called once, at the verdict. */
	void (*cleanup)(struct check *c);
};

extern const struct check_ops check_tcp_ops;
extern const struct check_ops check_smtp_ops, check_submission_ops, check_smtps_ops;
extern const struct check_ops check_imap_ops, check_imaps_ops;
extern const struct check_ops check_pop3_ops, check_pop3s_ops;
extern const struct check_ops check_http_ops, check_https_ops;
extern const struct check_ops check_mysql_ops;
extern const struct check_ops check_dns_ops;
extern const struct check_ops check_exec_ops;
extern const struct check_ops check_ssh_disk_ops, check_ssh_socket_ops, check_ssh_fsck_ops;

/* The URL's parts; owned by the check. */
const struct check_target *check_target(const struct check *c);
/* Checker state of ops->state_size bytes; owned by the check. */
void *check_priv(struct check *c);
struct event_base *check_base(const struct check *c);
/* Milliseconds left before the deadline (0 when past it). */
uint64_t check_remaining_ms(const struct check *c);
/* The whole timeout of this check in milliseconds. */
uint64_t check_timeout_ms(const struct check *c);
/* True once the connection runs over TLS. */
bool check_tls_active(const struct check *c);
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

/*
 * check_readline -- take one line from the input.
 * @return 1 with *line (NUL-terminated, CRLF or LF removed, may contain NUL
 *         bytes: use *len) valid until the next call; 0 when no full line is
 *         there yet; -1 when the line exceeds ops->max_line: the check was
 *         finished "down: line too long" and the caller must return.
 */
int check_readline(struct check *c, char **line, size_t *len);

/* The connection's input buffer, for binary protocols (MySQL). */
struct evbuffer *check_input(struct check *c);

/* Queue bytes for sending.  @return 0, or MXF_ENOMEM after finishing down. */
int check_write(struct check *c, const void *data, size_t len);
int check_printf(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * check_starttls -- start a TLS client handshake over the existing plain
 * connection (STARTTLS, STLS).  The phase becomes TLS handshake; on success
 * ops->tls_done runs, on failure the check is finished down with the reason.
 */
void check_starttls(struct check *c);

/*
 * check_resolve -- the address of the URL's host and port.  An address
 * literal is used at once: @cb runs before check_resolve() returns.  A name
 * is looked up with evdns on the loop (phase "resolve"; @socktype SOCK_STREAM
 * or SOCK_DGRAM), and @cb runs later with the first address, unless the
 * check ended first.  On a failed lookup the check is finished down
 * ("cannot resolve HOST: ...") and @cb is never called.  @sa is valid only
 * during the call.  The engine uses it for every stream check; own-I/O
 * checkers (dns) use it so a host name works for them too.
 */
typedef void (*check_resolved_fn)(struct check *c, const struct sockaddr *sa, socklen_t salen);
void check_resolve(struct check *c, int socktype, check_resolved_fn cb);

/*
 * check_exec_spawn -- run @argv (no shell; proc.h) for @c: the phase
 * becomes exec, the process handle is stored in *@pp (checker state: the
 * checker's cleanup frees it with proc_free(), which kills the process
 * group when the deadline ended the check first), and @done runs with @c
 * as its argument when the program exits.  Used by exec and ssh checks.
 * @return 0, or a negative MXF_E* after check_finish() was called.
 */
struct proc;
int check_exec_spawn(struct check *c, struct proc **pp, char *const argv[], proc_done_fn done);

#endif
