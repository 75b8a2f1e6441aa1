/*
 * dns_client.h -- one asynchronous DNS exchange with one server on a
 * libevent loop: UDP first over a connected socket, TCP when the reply is
 * truncated or the message is larger than 512 bytes.
 *
 * The message is sent as given (already signed); the reply is matched to it
 * by ID, QR, opcode and question, and anything that does not match is
 * ignored as forged or stray while the exchange keeps waiting.  UDP tries
 * are retransmitted with growing per-try timeouts, all inside one deadline
 * for the whole exchange, so an unreachable server fails in seconds.  Every
 * buffer is bounded: a DNS message is at most 65535 bytes.
 *
 * The callback runs exactly once per dns_client_send() that returned a
 * query, from the event loop, never from inside dns_client_send(); not at
 * all after dns_client_cancel().
 */
#ifndef MXF_DNS_CLIENT_H
#define MXF_DNS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <ldns/ldns.h>

struct dns_client_result {
	int status;       /* 0, or MXF_ETIMEDOUT, MXF_ECONNREFUSED, MXF_ENET,
			   * MXF_EPROTO (only garbage came back), MXF_ENOMEM */
	uint8_t *wire;    /* the reply (status 0), else NULL */
	size_t len;
	ldns_pkt *pkt;    /* the reply parsed (status 0), else NULL */
	bool tcp;         /* the reply came over TCP */
	int tries;        /* datagrams or connections used */
};

/*
 * Called once with the outcome.  @res and what it points to are valid during
 * the call only; the callback may keep res->wire or res->pkt by setting the
 * member to NULL, and then owns (frees) it.
 */
typedef void (*dns_client_cb)(struct dns_client_result *res, void *arg);

struct dns_client_query;

/*
 * dns_client_addr -- resolve "host" (IPv4 or IPv6 literal, or a name, which
 * is looked up with getaddrinfo and may block) and @port into an address.
 * @return 0, or MXF_EINVAL when the host cannot be resolved.
 */
int dns_client_addr(const char *host, uint16_t port, struct sockaddr_storage *ss,
		    socklen_t *sslen);

/*
 * dns_client_send -- start one exchange.
 * @base        the event loop; it must outlive the query.
 * @sa, @salen  the server; copied.
 * @msg, @len   the message (12..65535 bytes); copied.
 * @timeout_ms  deadline for the whole exchange, retries and TCP included.
 * @err         set when NULL is returned.
 * @return the query (owned by the module until the callback returns or
 *         dns_client_cancel() is called), or NULL with *err = MXF_EINVAL or
 *         MXF_ENOMEM or MXF_EIO (no socket), and then the callback never runs.
 */
struct dns_client_query *dns_client_send(struct event_base *base, const struct sockaddr *sa,
					 socklen_t salen, const uint8_t *msg, size_t len,
					 uint64_t timeout_ms, dns_client_cb cb, void *arg,
					 int *err);

/*
 * dns_client_send_tcp -- as dns_client_send, over one TCP connection from
 * the start (no UDP try): to find out whether a server answers over TCP at
 * all (the audit's ns-no-tcp), or for a zone transfer's first message.
 */
struct dns_client_query *dns_client_send_tcp(struct event_base *base, const struct sockaddr *sa,
					     socklen_t salen, const uint8_t *msg, size_t len,
					     uint64_t timeout_ms, dns_client_cb cb, void *arg,
					     int *err);

/* Stop a query; its callback will not run.  Not to be called from its callback. */
void dns_client_cancel(struct dns_client_query *q);

#endif
