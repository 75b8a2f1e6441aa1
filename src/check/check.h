/*
 * check.h -- the check engine: runs protocol health checks on a libevent
 * loop and reports one result per check.
 *
 * A check is a check URL (SPEC.md "Check URLs") plus a timeout.  The engine
 * runs any number of checks at once on the event_base it is given: sockets
 * are non-blocking, there are no threads, and host names (rare: check URLs
 * normally carry address literals) are resolved with evdns on the same loop.
 *
 * Contracts:
 *  - Every started check reports exactly once, through its callback, and
 *    never from inside check_engine_start() itself.
 *  - One deadline covers the whole conversation (resolve, connect, TLS, every
 *    exchange, the polite QUIT/LOGOUT): a server that drips bytes cannot keep
 *    a check alive past its timeout.
 *  - Every network-fed buffer has a hard maximum; a longer line ends the
 *    check "down: line too long".
 *  - The same check URL never runs twice at once: a start while an equal URL
 *    (same canonical form, see check_url_format) is running joins the
 *    running check, and both callers get its result.
 *
 * TLS trust: the system CA store, or the PEM file named by the environment
 * variable MXF_CA_FILE (tests point it at their own CA); a URL's ca= option
 * replaces either with its own PEM file, for that URL only.
 */
#ifndef MXF_CHECK_H
#define MXF_CHECK_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct check_engine;

enum check_state {
	CHECK_STATE_UP,
	CHECK_STATE_DOWN,
	CHECK_STATE_WARNING,
};

/* Where a conversation was when it ended; see check_phase_name(). */
enum check_phase {
	CHECK_PHASE_START,
	CHECK_PHASE_RESOLVE,
	CHECK_PHASE_CONNECT,
	CHECK_PHASE_TLS,
	CHECK_PHASE_GREETING,
	CHECK_PHASE_EHLO,
	CHECK_PHASE_STARTTLS,
	CHECK_PHASE_CAPABILITY,
	CHECK_PHASE_REQUEST,
	CHECK_PHASE_RESPONSE,
	CHECK_PHASE_QUERY,
	CHECK_PHASE_EXEC,
	CHECK_PHASE_QUIT,
	CHECK_PHASE_DONE,
	CHECK_PHASE_COUNT_
};

#define CHECK_REASON_MAX 256

struct check_result {
	enum check_state state;
	enum check_phase phase;  /* the phase the verdict was reached in */
	uint64_t elapsed_ms;     /* start to verdict (the polite close excluded) */
	int cert_days;           /* days until the TLS certificate expires;
				    INT32_MIN when no certificate was seen */
	int64_t cert_not_after;  /* its notAfter as Unix time; 0 when none */
	char reason[CHECK_REASON_MAX]; /* one line of valid UTF-8 without C0 or
					  C1 control characters, cut on a
					  character boundary (value_utf8_clean) */
};

/*
 * check_done_fn -- receives a check's result.  @res is valid only during the
 * call.  The callback may start new checks, but must not free the engine.
 */
typedef void (*check_done_fn)(const struct check_result *res, void *arg);

/* "up", "down", "warning". */
const char *check_state_name(enum check_state s);
/* "connect", "TLS handshake", "greeting", ... */
const char *check_phase_name(enum check_phase p);
/* "connecting", "waiting for the greeting", ... as used in timeout reasons. */
const char *check_phase_waiting(enum check_phase p);

/*
 * check_format_duration -- "12 ms" below a second, else "5.0 s".
 * @return @buf.
 */
char *check_format_duration(uint64_t ms, char *buf, size_t size);

/*
 * check_quote -- copy @len bytes of untrusted @s into @out as one printable
 * line: non-printable bytes become \xNN, and the text is cut with "..." when
 * it does not fit in @size.  Always NUL-terminates (when @size > 0).
 */
void check_quote(const char *s, size_t len, char *out, size_t size);

/*
 * check_validate -- parse a check URL without running it.
 * @errbuf receives why the URL is bad.
 * @return 0, or MXF_EINVAL (unknown scheme, bad port, bad option, ...).
 */
int check_validate(const char *url, char *errbuf, size_t errsize);

/*
 * check_engine_new -- an engine that runs checks on @base.  @base stays the
 * caller's and must outlive the engine.
 * @return the engine, or NULL when out of memory or when OpenSSL could not be
 *         set up.
 */
struct check_engine *check_engine_new(struct event_base *base);

/*
 * check_engine_free -- cancel every running check (their callbacks are not
 * called) and free the engine.  NULL is accepted.  When name lookups were
 * cancelled and libevent has not finished them yet, the loop runs a few
 * passes without blocking first (EVLOOP_NONBLOCK), so other events that
 * are ready may run then: call it before tearing down what they use.
 */
void check_engine_free(struct check_engine *eng);

/*
 * check_engine_start -- start checking @url.
 * @timeout_ms  deadline for the whole conversation when the URL carries no
 *              timeout= option; 0 means 5 s.
 * @cb, @arg    called once with the result, later, from the event loop.
 * @errbuf      why the URL is bad, on MXF_EINVAL.
 * @return 0 when the check runs (or was joined to an equal running one);
 *         MXF_EINVAL for a bad URL, MXF_ENOMEM; the callback is then never
 *         called.
 */
int check_engine_start(struct check_engine *eng, const char *url, uint64_t timeout_ms,
		       check_done_fn cb, void *arg, char *errbuf, size_t errsize);

/* Checks currently running (joined starts count once). */
size_t check_engine_running(const struct check_engine *eng);

#endif
