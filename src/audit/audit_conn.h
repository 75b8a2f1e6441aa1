/*
 * audit_conn.h -- one TCP conversation of an audit probe (the SMTP probe of
 * an MX address, the HTTPS fetch of an MTA-STS policy): a non-blocking
 * connect to an address, one deadline for the whole conversation, a
 * bounded line reader, and a TLS layer (implicit or STARTTLS) from the
 * shared TLS code (tls.h) whose certificate facts the probe reads after
 * the handshake.
 *
 * The check engine's connection (check_conn.c) is tied to a struct check
 * and its one-line verdict; the audit needs the facts (protocol version,
 * chain, each reply), so it keeps this thin connection of its own on the
 * same pieces: tls.h for TLS and trust, proto.h's proto_line_find() for
 * bounded lines, proto_smtp/proto_http for the replies.
 *
 * Ownership: the caller owns the connection and frees it with
 * audit_conn_free(), also from inside a callback (the connection then
 * notices and stops).  Every outcome reaches the caller exactly once
 * through @done (never from inside audit_conn_start()).
 */
#ifndef MXF_AUDIT_CONN_H
#define MXF_AUDIT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

struct event_base;
struct audit_conn;

struct audit_conn_ops {
	/* The TCP connection is up (implicit TLS: the handshake is done too). */
	void (*connected)(struct audit_conn *k, void *arg);
	/* One input line without its CRLF/LF (NUL-terminated, may hold NULs:
	 * use @len), valid during the call. */
	void (*line)(struct audit_conn *k, char *line, size_t len, void *arg);
	/* A STARTTLS handshake (audit_conn_starttls) completed; read the facts
	 * with audit_conn_ssl(). */
	void (*tls_done)(struct audit_conn *k, void *arg);
	/* The conversation ended without the caller ending it: @err is
	 * MXF_ETIMEDOUT (the deadline), MXF_ECONNREFUSED, MXF_ENET (reset,
	 * closed, unreachable), MXF_EPROTO (a line too long; @why says) or a
	 * TLS failure (MXF_EPROTO, @why has OpenSSL's reason). */
	void (*failed)(struct audit_conn *k, int err, const char *why, void *arg);
};

/*
 * audit_conn_start -- connect to @sa (@salen) on @base with a deadline of
 * @timeout_ms for everything; @tls_name non-NULL with @implicit_tls puts
 * TLS first (SNI and the name the certificate is checked against).
 * @max_line is the longest line accepted, terminator included.
 * @return the connection, or NULL (out of memory, no socket; @why says).
 */
struct audit_conn *audit_conn_start(struct event_base *base, const struct sockaddr *sa,
				    socklen_t salen, uint64_t timeout_ms, size_t max_line,
				    bool implicit_tls, const char *tls_name,
				    const struct audit_conn_ops *ops, void *arg, char *why,
				    size_t whylen);

/* audit_conn_printf -- queue a command.  @return 0 or MXF_ENOMEM. */
int audit_conn_printf(struct audit_conn *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * audit_conn_starttls -- start the TLS handshake over the plain
 * connection (after the server's "go ahead"), with @name as SNI and the
 * name checked.  @return 0; MXF_EPROTO when the server sent data after its
 * reply (an injection attempt; the conversation should end), MXF_ENOMEM.
 */
int audit_conn_starttls(struct audit_conn *k, const char *name);

/* audit_conn_ssl -- the TLS session after the handshake, or NULL. */
SSL *audit_conn_ssl(struct audit_conn *k);

/* audit_conn_raw_mode -- from now on hand every byte to line() as it
 * comes, in chunks of at most @max_line - 1 (an HTTP body after the head). */
void audit_conn_raw_mode(struct audit_conn *k);

/* audit_conn_free -- close and free; NULL accepted; no callback runs after. */
void audit_conn_free(struct audit_conn *k);

/*
 * audit_ssl_ctx -- the audit's own TLS client context: trusting
 * $MXF_CA_FILE or the system store like the checks (tls.h), but accepting
 * every protocol version from TLS 1.0 up and security level 0, so a server
 * that only speaks an old version is reported as tls-weak instead of as
 * a failed handshake.  Built once and kept for the process.
 * @return the context (not to be freed), or NULL with @why.
 */
SSL_CTX *audit_ssl_ctx(char *why, size_t whylen);

#endif
