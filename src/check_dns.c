/*
 * check_dns.c -- dns://SERVER[:53]/NAME[/TYPE]: the server answers the
 * query for NAME (type SOA by default) with NOERROR and the AA bit, i.e.
 * it is authoritative for the name.  ldns builds the query and parses the
 * answer; the exchange is one UDP socket on the event loop, the query sent
 * again every second until the deadline.  Answers whose ID or question do
 * not match are ignored (they may be forged or late).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "check_impl.h"
#include "mxf.h"

#define DNS_MAX_ANSWER 4096

struct dns_state {
	int fd;
	struct event *rd_ev;
	struct event *retry_ev;
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

static void
dns_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	struct dns_state *st = check_priv(c);
	uint8_t buf[DNS_MAX_ANSWER];
	ldns_pkt *pkt = NULL;
	ldns_rr *q;
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
	if (ldns_pkt_id(pkt) != st->id || !ldns_pkt_qr(pkt) ||
	    ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1) {
		ldns_pkt_free(pkt);
		return;
	}
	q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	if (ldns_dname_compare(ldns_rr_owner(q), st->qname) != 0 ||
	    ldns_rr_get_type(q) != st->qtype) {
		ldns_pkt_free(pkt);
		return;
	}
	if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR) {
		ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int)ldns_pkt_get_rcode(pkt));
		check_finish(c, CHECK_STATE_DOWN, "answer %s", lt != NULL ? lt->name : "with an error rcode");
	} else if (!ldns_pkt_aa(pkt)) {
		check_finish(c, CHECK_STATE_DOWN, "NOERROR but not authoritative (no AA bit)");
	} else {
		check_finish(c, CHECK_STATE_UP, "NOERROR, authoritative, %u answer record%s",
			     (unsigned)ldns_pkt_ancount(pkt), ldns_pkt_ancount(pkt) == 1 ? "" : "s");
	}
	ldns_pkt_free(pkt);
}

static int
dns_start(struct check *c)
{
	const struct check_target *t = check_target(c);
	struct dns_state *st = check_priv(c);
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
	socklen_t salen;
	char name[256], *slash;
	ldns_pkt *pkt = NULL;

	st->fd = -1;
	check_set_phase(c, CHECK_PHASE_QUERY);
	snprintf(name, sizeof(name), "%s", t->path + 1);
	slash = strchr(name, '/');
	st->qtype = LDNS_RR_TYPE_SOA;
	if (slash != NULL) {
		*slash = '\0';
		st->qtype = ldns_get_rr_type_by_name(slash + 1);
		if (st->qtype == 0) {
			check_finish(c, CHECK_STATE_DOWN, "unknown record type '%s'", slash + 1);
			return MXF_EINVAL;
		}
	}
	memset(&u, 0, sizeof(u));
	if (inet_pton(AF_INET, t->host, &u.sin.sin_addr) == 1) {
		u.sin.sin_family = AF_INET;
		u.sin.sin_port = htons(t->port);
		salen = sizeof(u.sin);
	} else if (inet_pton(AF_INET6, t->host, &u.sin6.sin6_addr) == 1) {
		u.sin6.sin6_family = AF_INET6;
		u.sin6.sin6_port = htons(t->port);
		salen = sizeof(u.sin6);
	} else {
		check_finish(c, CHECK_STATE_DOWN, "dns checks need an address literal as SERVER, not '%s'",
			     t->host);
		return MXF_EINVAL;
	}
	st->qname = ldns_dname_new_frm_str(name);
	if (st->qname == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "bad domain name '%s'", name);
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
	pkt = NULL;
	st->fd = socket(u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->fd < 0 || connect(st->fd, &u.sa, salen) != 0) {
		check_finish(c, CHECK_STATE_DOWN, "socket: %s", strerror(errno));
		return MXF_EIO;
	}
	st->rd_ev = event_new(check_base(c), st->fd, EV_READ | EV_PERSIST, dns_read_cb, c);
	st->retry_ev = evtimer_new(check_base(c), dns_retry_cb, c);
	if (st->rd_ev == NULL || st->retry_ev == NULL)
		goto nomem;
	event_add(st->rd_ev, NULL);
	dns_send(c, st);
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
	.scheme = "dns",
	.default_port = 53,
	.flags = CHECK_F_PATH,
	.max_line = 512,
	.state_size = sizeof(struct dns_state),
	.start = dns_start,
	.cleanup = dns_cleanup,
};
