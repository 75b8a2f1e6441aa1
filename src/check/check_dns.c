/*
 * check_dns.c -- dns://SERVER[:53]/NAME[/TYPE]: the server answers the
 * query for NAME (type SOA by default) with NOERROR and the AA bit, i.e.
 * it is authoritative for the name.
 *
 * ldns builds the query and parses the answer; the I/O is ours, on the
 * event loop.  SERVER may be a host name, resolved on the loop like any
 * check's host.  The query goes over UDP, sent again every second until the
 * deadline; answers whose ID or question do not match are ignored (they
 * may be forged or late).  A matching answer with the TC bit set is
 * truncated: the query is then asked once more over TCP (RFC 7766 5), on
 * one connection, and that answer, length-prefixed and at most 65535
 * octets, decides.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <ldns/ldns.h>

#include "check_impl.h"
#include "mxf.h"

/* We send no EDNS, so a UDP answer is at most 512 octets; a bigger datagram
 * is cut at this size by recv() and then fails to parse. */
#define DNS_MAX_UDP_ANSWER 4096

/* A DNS message over TCP: a two-octet length, then at most 65535 octets. */
#define DNS_MAX_TCP_MESSAGE (2 + 65535)

struct dns_state {
	int fd;
	struct event *rd_ev;
	struct event *retry_ev;
	struct bufferevent *tcp;     /* after a truncated UDP answer */
	struct sockaddr_storage ss;  /* the server */
	socklen_t sslen;
	uint8_t *wire;
	size_t wirelen;
	uint16_t id;
	ldns_rdf *qname;
	ldns_rr_type qtype;
};

static void
dns_send(struct check *c, struct dns_state *st)
{
	struct timeval tv = {1, 0};

	if (send(st->fd, st->wire, st->wirelen, 0) < 0 && errno != EAGAIN) {
		if (errno == ECONNREFUSED)
			check_finish(c, CHECK_STATE_DOWN, "connection refused (port unreachable)");
		else
			check_finish(c, CHECK_STATE_DOWN, "send: %s", strerror(errno));
		return;
	}
	evtimer_add(st->retry_ev, &tv);
}

static void
dns_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;

	dns_send(c, check_priv(c));
}

/* Whether @pkt answers our query: same ID, a response, the same question. */
static bool
dns_matches(const struct dns_state *st, const ldns_pkt *pkt)
{
	const ldns_rr *q;

	if (ldns_pkt_id(pkt) != st->id || !ldns_pkt_qr(pkt) ||
	    ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1)
		return false;
	q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	return ldns_dname_compare(ldns_rr_owner(q), st->qname) == 0 &&
	       ldns_rr_get_type(q) == st->qtype;
}

/* The verdict on a matching, complete answer. */
static void
dns_verdict(struct check *c, const ldns_pkt *pkt, bool tcp)
{
	const char *via = tcp ? " (over TCP)" : "";

	if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR) {
		ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int)ldns_pkt_get_rcode(pkt));
		check_finish(c, CHECK_STATE_DOWN, "answer %s%s",
			     lt != NULL ? lt->name : "with an error rcode", via);
	} else if (!ldns_pkt_aa(pkt)) {
		check_finish(c, CHECK_STATE_DOWN, "NOERROR but not authoritative (no AA bit)%s", via);
	} else {
		check_finish(c, CHECK_STATE_UP, "NOERROR, authoritative, %u answer record%s%s",
			     (unsigned)ldns_pkt_ancount(pkt), ldns_pkt_ancount(pkt) == 1 ? "" : "s",
			     via);
	}
}

static void
dns_tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct check *c = arg;
	struct dns_state *st = check_priv(c);
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t avail = evbuffer_get_length(in), mlen;
	uint8_t hdr[2];
	const uint8_t *msg;
	ldns_pkt *pkt = NULL;

	if (avail < 2)
		return;
	evbuffer_copyout(in, hdr, 2);
	mlen = (size_t)hdr[0] << 8 | hdr[1];
	if (avail < 2 + mlen)
		return;
	msg = evbuffer_pullup(in, (ev_ssize_t)(2 + mlen));
	if (msg == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "out of memory");
		return;
	}
	if (ldns_wire2pkt(&pkt, msg + 2, mlen) != LDNS_STATUS_OK) {
		check_finish(c, CHECK_STATE_DOWN, "truncated over UDP; malformed answer over TCP");
		return;
	}
	/* One query on this connection: anything else is wrong, not late. */
	if (!dns_matches(st, pkt))
		check_finish(c, CHECK_STATE_DOWN,
			     "truncated over UDP; the TCP answer does not match the query");
	else
		dns_verdict(c, pkt, true);
	ldns_pkt_free(pkt);
}

static void
dns_tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct check *c = arg;
	int e = errno;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF)
		check_finish(c, CHECK_STATE_DOWN,
			     "truncated over UDP; TCP connection closed before the answer");
	else if (e == ECONNREFUSED)
		check_finish(c, CHECK_STATE_DOWN, "truncated over UDP; TCP: connection refused");
	else
		check_finish(c, CHECK_STATE_DOWN, "truncated over UDP; TCP: %s",
			     e != 0 ? strerror(e) : "connection error");
}

/* The UDP answer was truncated: stop UDP and ask over TCP. */
static void
dns_tcp_start(struct check *c, struct dns_state *st)
{
	uint8_t len[2] = { (uint8_t)(st->wirelen >> 8), (uint8_t)st->wirelen };

	evtimer_del(st->retry_ev);
	event_del(st->rd_ev);
	st->tcp = bufferevent_socket_new(check_base(c), -1, BEV_OPT_CLOSE_ON_FREE);
	if (st->tcp == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "out of memory");
		return;
	}
	bufferevent_setcb(st->tcp, dns_tcp_read_cb, NULL, dns_tcp_event_cb, c);
	bufferevent_setwatermark(st->tcp, EV_READ, 0, DNS_MAX_TCP_MESSAGE);
	bufferevent_enable(st->tcp, EV_READ | EV_WRITE);
	/* Queued now, sent once connected. */
	if (bufferevent_write(st->tcp, len, 2) != 0 ||
	    bufferevent_write(st->tcp, st->wire, st->wirelen) != 0) {
		check_finish(c, CHECK_STATE_DOWN, "out of memory");
		return;
	}
	if (bufferevent_socket_connect(st->tcp, (struct sockaddr *)&st->ss, (int)st->sslen) != 0)
		check_finish(c, CHECK_STATE_DOWN, "truncated over UDP; TCP: %s", strerror(errno));
}

static void
dns_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	struct dns_state *st = check_priv(c);
	uint8_t buf[DNS_MAX_UDP_ANSWER];
	ldns_pkt *pkt = NULL;
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno == ECONNREFUSED)
			check_finish(c, CHECK_STATE_DOWN, "connection refused (port unreachable)");
		else
			check_finish(c, CHECK_STATE_DOWN, "recv: %s", strerror(errno));
		return;
	}
	if (ldns_wire2pkt(&pkt, buf, (size_t)n) != LDNS_STATUS_OK)
		return; /* garbage: keep waiting for a real answer */
	if (!dns_matches(st, pkt))
		; /* forged or late: keep waiting */
	else if (ldns_pkt_tc(pkt))
		dns_tcp_start(c, st);
	else
		dns_verdict(c, pkt, false);
	ldns_pkt_free(pkt);
}

/* The server's address is known: open the UDP socket and send. */
static void
dns_resolved(struct check *c, const struct sockaddr *sa, socklen_t salen)
{
	struct dns_state *st = check_priv(c);

	check_set_phase(c, CHECK_PHASE_QUERY);
	if (salen > sizeof(st->ss)) {
		check_finish(c, CHECK_STATE_DOWN, "unsupported address family");
		return;
	}
	memcpy(&st->ss, sa, salen);
	st->sslen = salen;
	st->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->fd < 0 || connect(st->fd, sa, salen) != 0) {
		check_finish(c, CHECK_STATE_DOWN, "socket: %s", strerror(errno));
		return;
	}
	st->rd_ev = event_new(check_base(c), st->fd, EV_READ | EV_PERSIST, dns_read_cb, c);
	st->retry_ev = evtimer_new(check_base(c), dns_retry_cb, c);
	if (st->rd_ev == NULL || st->retry_ev == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "out of memory");
		return;
	}
	event_add(st->rd_ev, NULL);
	dns_send(c, st);
}

static int
dns_start(struct check *c)
{
	const struct check_url *u = check_get_url(c);
	struct dns_state *st = check_priv(c);
	ldns_pkt *pkt = NULL;

	st->fd = -1;
	check_set_phase(c, CHECK_PHASE_QUERY);
	st->qtype = u->dns_type != NULL ? ldns_get_rr_type_by_name(u->dns_type) : LDNS_RR_TYPE_SOA;
	if (st->qtype == 0) {
		check_finish(c, CHECK_STATE_DOWN, "unknown record type '%s'", u->dns_type);
		return MXF_EINVAL;
	}
	st->qname = ldns_dname_new_frm_str(u->dns_name);
	if (st->qname == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "bad domain name '%s'", u->dns_name);
		return MXF_EINVAL;
	}
	pkt = ldns_pkt_query_new(ldns_rdf_clone(st->qname), st->qtype, LDNS_RR_CLASS_IN, 0);
	if (pkt == NULL)
		goto nomem;
	st->id = (uint16_t)(arc4random() & 0xffff);
	ldns_pkt_set_id(pkt, st->id);
	if (ldns_pkt2wire(&st->wire, pkt, &st->wirelen) != LDNS_STATUS_OK)
		goto nomem;
	ldns_pkt_free(pkt);
	check_conn_resolve(c, SOCK_DGRAM, dns_resolved);
	return 0;
nomem:
	if (pkt != NULL)
		ldns_pkt_free(pkt);
	check_finish(c, CHECK_STATE_DOWN, "out of memory");
	return MXF_ENOMEM;
}

static void
dns_cleanup(struct check *c)
{
	struct dns_state *st = check_priv(c);

	if (st->tcp != NULL)
		bufferevent_free(st->tcp);
	if (st->rd_ev != NULL)
		event_free(st->rd_ev);
	if (st->retry_ev != NULL)
		event_free(st->retry_ev);
	if (st->fd >= 0)
		close(st->fd);
	if (st->qname != NULL)
		ldns_rdf_deep_free(st->qname);
	free(st->wire);
	memset(st, 0, sizeof(*st));
	st->fd = -1;
}

const struct check_ops check_dns_ops = {
	.max_line = 512,
	.state_size = sizeof(struct dns_state),
	.start = dns_start,
	.cleanup = dns_cleanup,
};
