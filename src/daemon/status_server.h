/*
 * status_server.h -- the connections of the status endpoint: a small
 * HTTP/1.1 server on the daemon's loop that can never take from the checks
 * what they need (descriptors, time).
 *
 * libevent 2.1's evhttp has no connection cap and restarts its timeout on
 * every byte, so a thousand idle or slowloris clients exhaust the
 * descriptor limit and every check fails with EMFILE.  Here:
 *   - at most STATUS_SERVER_MAX_CONNS connections are open at once (fewer
 *     when the descriptor limit is low: a quarter of it).  At the cap the
 *     listener stops accepting (the kernel's backlog holds the rest, using
 *     none of our descriptors) and resumes when a connection ends;
 *   - each connection has ONE deadline, STATUS_SERVER_DEADLINE_MS from its
 *     accept, whatever it sends: then it is closed;
 *   - one request per connection, its head at most STATUS_SERVER_HEAD_MAX
 *     bytes; the answer carries "Connection: close";
 *   - when accept() itself fails (EMFILE), listening pauses for a second
 *     instead of spinning.
 * What to answer is status_http_handle()'s decision (status_http.h).
 */
#ifndef MXF_STATUS_SERVER_H
#define MXF_STATUS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "status_http.h"

struct event_base;
struct status_server;

/* The most status connections open at once. */
#define STATUS_SERVER_MAX_CONNS 64
/* The whole life of one status connection, from accept to close. */
#define STATUS_SERVER_DEADLINE_MS 10000
/* The largest request head (request line and headers) read. */
#define STATUS_SERVER_HEAD_MAX 8192

/*
 * The answer to one request: fill @a (status_http_handle() does) for
 * @method ("GET", "HEAD", ... as sent) and @target ("/metrics?x").
 */
typedef void (*status_server_fn)(void *arg, const char *method, const char *target,
				 struct status_http_answer *a);

/*
 * status_server_new -- listen on @host (an address or a name) and @port.
 * @max_conns  the cap (0: STATUS_SERVER_MAX_CONNS); lowered to a quarter
 *             of the descriptor limit when that is smaller.
 * @deadline_ms  each connection's life (0: STATUS_SERVER_DEADLINE_MS).
 * @err  why it failed.
 * @return 0 with *out set (free with status_server_free), MXF_EIO (cannot
 *         resolve or bind), MXF_ENOMEM.
 */
int status_server_new(struct event_base *base, const char *host, uint16_t port, size_t max_conns,
		      uint64_t deadline_ms, status_server_fn fn, void *arg,
		      struct status_server **out, char *err, size_t errlen);

/* Close every connection, stop listening and free; NULL is allowed. */
void status_server_free(struct status_server *srv);

/*
 * status_server_parse -- the request line of a complete request head
 * (pure).  @head, @len  the bytes up to and including the empty line.
 * @method, @target  receive the first two words, NUL-terminated.
 * @return 0, or MXF_EINVAL when the line is not "METHOD TARGET HTTP/1.x"
 *         or a word does not fit.
 */
int status_server_parse(const char *head, size_t len, char *method, size_t msize, char *target,
			size_t tsize);

#endif
