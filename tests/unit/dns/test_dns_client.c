/*
 * test_dns_client.c -- one exchange against a scripted peer on loopback
 * (a UDP socket and a TCP listener on the same port, on the test's own
 * event loop): UDP answers, retransmission, truncation and the move to
 * TCP, TCP framing split across reads, a message too large for UDP, the
 * deadline, garbage and replies with the wrong ID, refused and closed
 * connections, and cancelling.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns_client.h"
#include "dns_update.h"
#include "mxf.h"

enum udp_mode {
	UDP_ANSWER,          /* answer every datagram */
	UDP_SILENT,          /* never answer */
	UDP_DROP_FIRST,      /* ignore the first datagram, answer the next */
	UDP_TRUNCATE,        /* answer with TC set: go to TCP */
	UDP_JUNK_THEN_ANSWER,/* junk, a reply with another ID, one with QR clear, then the answer */
	UDP_JUNK_ONLY,       /* more junk than the client tolerates */
};

enum tcp_mode {
	TCP_ANSWER,       /* the answer in one write */
	TCP_SPLIT,        /* one byte of the length now, the rest later */
	TCP_CLOSE,        /* close without an answer */
};

struct peer {
	struct event_base *base;
	int udp, lsn, conn;
	uint16_t port;
	struct event *udp_ev, *lsn_ev, *conn_ev, *later_ev;
	enum udp_mode udp_mode;
	enum tcp_mode tcp_mode;
	int udp_seen, tcp_seen;
	uint8_t in[2 + 65535];
	size_t inlen;
	uint8_t *out;         /* TCP_SPLIT: what is left to write */
	size_t outlen;
};

struct outcome {
	bool done;
	int calls;
	int status;
	bool tcp;
	int tries;
	int id;
	size_t len;
};

/* The answer to @req: the question echoed, AA, one A record; @tc, @id_delta. */
static uint8_t *
answer_for(const uint8_t *req, size_t len, bool tc, int id_delta, bool qr, size_t *outlen)
{
	ldns_pkt *q = NULL, *a;
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;

	assert_int_equal(ldns_wire2pkt(&q, req, len), LDNS_STATUS_OK);
	a = ldns_pkt_clone(q);
	assert_non_null(a);
	ldns_pkt_set_id(a, (uint16_t)(ldns_pkt_id(q) + id_delta));
	ldns_pkt_set_qr(a, qr);
	ldns_pkt_set_aa(a, true);
	ldns_pkt_set_tc(a, tc);
	if (!tc) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, "mx.example.test. 60 IN A 192.0.2.7", 0,
						     NULL, NULL), LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr));
	}
	assert_int_equal(ldns_pkt2wire(&wire, a, outlen), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	ldns_pkt_free(a);
	return wire;
}

static void
udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	uint8_t buf[65536], *ans;
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	static const uint8_t junk[] = {0xde, 0xad, 0xbe};
	static const uint8_t tsig_then_short[] = {0x42, 0x42, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 9,
						  0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
	static const uint8_t two_tsigs[] = {0x42, 0x42, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 4,
					    0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0,
					    0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
	size_t alen;

	(void)what;
	if (n <= 0)
		return;
	p->udp_seen++;
	switch (p->udp_mode) {
	case UDP_SILENT:
		return;
	case UDP_DROP_FIRST:
		if (p->udp_seen == 1)
			return;
		break;
	case UDP_JUNK_ONLY:
		for (int i = 0; i < 120; i++)
			sendto(fd, junk, sizeof(junk), 0, (struct sockaddr *)&from, fl);
		return;
	case UDP_JUNK_THEN_ANSWER:
		sendto(fd, junk, sizeof(junk), 0, (struct sockaddr *)&from, fl);
		/* Junk ldns 1.8 leaks on (found by fuzz_dns_view): a TSIG record
		 * followed by records the message does not hold, and two TSIGs. */
		sendto(fd, tsig_then_short, sizeof(tsig_then_short), 0, (struct sockaddr *)&from, fl);
		sendto(fd, two_tsigs, sizeof(two_tsigs), 0, (struct sockaddr *)&from, fl);
		ans = answer_for(buf, (size_t)n, false, 1, true, &alen);
		sendto(fd, ans, alen, 0, (struct sockaddr *)&from, fl);
		free(ans);
		ans = answer_for(buf, (size_t)n, false, 0, false, &alen);
		sendto(fd, ans, alen, 0, (struct sockaddr *)&from, fl);
		free(ans);
		break;
	default:
		break;
	}
	ans = answer_for(buf, (size_t)n, p->udp_mode == UDP_TRUNCATE, 0, true, &alen);
	sendto(fd, ans, alen, 0, (struct sockaddr *)&from, fl);
	free(ans);
}

static void
write_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		assert_true(w > 0);
		b += w;
		n -= (size_t)w;
	}
}

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;

	(void)fd, (void)what;
	write_all(p->conn, p->out, p->outlen);
	free(p->out);
	p->out = NULL;
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	ssize_t n = read(fd, p->in + p->inlen, sizeof(p->in) - p->inlen);
	uint8_t *ans, *framed;
	size_t need, alen;

	(void)what;
	if (n <= 0) {
		event_del(p->conn_ev);
		return;
	}
	p->inlen += (size_t)n;
	if (p->inlen < 2)
		return;
	need = 2 + (((size_t)p->in[0] << 8) | p->in[1]);
	if (p->inlen < need)
		return;
	p->tcp_seen++;
	if (p->tcp_mode == TCP_CLOSE) {
		event_del(p->conn_ev);
		close(p->conn);
		p->conn = -1;
		return;
	}
	ans = answer_for(p->in + 2, need - 2, false, 0, true, &alen);
	framed = malloc(alen + 2);
	assert_non_null(framed);
	framed[0] = (uint8_t)(alen >> 8);
	framed[1] = (uint8_t)alen;
	memcpy(framed + 2, ans, alen);
	free(ans);
	if (p->tcp_mode == TCP_SPLIT) {
		struct timeval tv = {0, 50 * 1000};

		write_all(p->conn, framed, 1);
		p->outlen = alen + 1;
		p->out = malloc(p->outlen);
		assert_non_null(p->out);
		memcpy(p->out, framed + 1, p->outlen);
		p->later_ev = evtimer_new(p->base, later_cb, p);
		evtimer_add(p->later_ev, &tv);
	} else {
		write_all(p->conn, framed, alen + 2);
	}
	free(framed);
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;

	(void)what;
	p->conn = accept(fd, NULL, NULL);
	assert_true(p->conn >= 0);
	p->inlen = 0;
	p->conn_ev = event_new(p->base, p->conn, EV_READ | EV_PERSIST, conn_cb, p);
	event_add(p->conn_ev, NULL);
}

/* A UDP socket and a TCP listener on one loopback port. */
static void
peer_start(struct peer *p, struct event_base *base, enum udp_mode um, enum tcp_mode tm)
{
	memset(p, 0, sizeof(*p));
	p->base = base;
	p->udp_mode = um;
	p->tcp_mode = tm;
	p->conn = -1;
	for (int attempt = 0; attempt < 50; attempt++) {
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		int one = 1;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		p->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		assert_true(p->udp >= 0);
		assert_int_equal(bind(p->udp, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(getsockname(p->udp, (struct sockaddr *)&a, &al), 0);
		p->lsn = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(p->lsn >= 0);
		setsockopt(p->lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(p->lsn, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(p->lsn, 4) == 0) {
			p->port = ntohs(a.sin_port);
			break;
		}
		close(p->lsn);
		close(p->udp);
		p->lsn = p->udp = -1;
	}
	assert_true(p->port != 0);
	p->udp_ev = event_new(base, p->udp, EV_READ | EV_PERSIST, udp_cb, p);
	p->lsn_ev = event_new(base, p->lsn, EV_READ | EV_PERSIST, accept_cb, p);
	event_add(p->udp_ev, NULL);
	event_add(p->lsn_ev, NULL);
}

static void
peer_stop(struct peer *p)
{
	if (p->conn_ev != NULL)
		event_free(p->conn_ev);
	if (p->later_ev != NULL)
		event_free(p->later_ev);
	event_free(p->udp_ev);
	event_free(p->lsn_ev);
	if (p->conn >= 0)
		close(p->conn);
	close(p->lsn);
	close(p->udp);
	free(p->out);
}

static void
done_cb(struct dns_client_result *res, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->done = true;
	o->status = res->status;
	o->tcp = res->tcp;
	o->tries = res->tries;
	o->len = res->len;
	o->id = res->pkt != NULL ? ldns_pkt_id(res->pkt) : -1;
	if (res->status == 0) {
		assert_non_null(res->wire);
		assert_non_null(res->pkt);
		assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(res->pkt)), 1);
	} else {
		assert_null(res->wire);
		assert_null(res->pkt);
	}
}

/* A query for mx.example.test/A with ID 0x4242, @extra TXT records added. */
static uint8_t *
query_wire(int extra, size_t *len)
{
	ldns_rdf *name = ldns_dname_new_frm_str("mx.example.test.");
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;

	assert_int_equal(dns_update_query(name, LDNS_RR_TYPE_A, 0x4242, &q), 0);
	for (int i = 0; i < extra; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, "pad.example.test. 0 IN TXT "
						     "\"0123456789012345678901234567890123456789\"",
						     0, NULL, NULL), LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(q, LDNS_SECTION_ADDITIONAL, rr));
	}
	assert_int_equal(dns_update_to_wire(q, &wire, len), 0);
	ldns_pkt_free(q);
	ldns_rdf_deep_free(name);
	return wire;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run one exchange to 127.0.0.1:@port; @return how long it took in ms. */
static uint64_t
exchange(struct event_base *base, uint16_t port, int extra, uint64_t timeout_ms,
	 struct outcome *o)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	size_t len;
	uint8_t *wire = query_wire(extra, &len);
	uint64_t t0 = now_ms();
	struct dns_client_query *q;
	int err = 0;

	memset(o, 0, sizeof(*o));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	q = dns_client_send(base, (struct sockaddr *)&a, sizeof(a), wire, len, timeout_ms, done_cb,
			    o, &err);
	free(wire);
	assert_non_null(q);
	assert_false(o->done); /* never from inside dns_client_send() */
	while (!o->done)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	return now_ms() - t0;
}

static void
test_udp_answer(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p;
	struct outcome o;

	(void)state;
	peer_start(&p, base, UDP_ANSWER, TCP_ANSWER);
	exchange(base, p.port, 0, 2000, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, 0);
	assert_false(o.tcp);
	assert_int_equal(o.tries, 1);
	assert_int_equal(o.id, 0x4242);
	assert_int_equal(p.udp_seen, 1);
	assert_int_equal(p.tcp_seen, 0);
	peer_stop(&p);
	event_base_free(base);
}

static void
test_udp_retransmit(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p;
	struct outcome o;

	(void)state;
	peer_start(&p, base, UDP_DROP_FIRST, TCP_ANSWER);
	exchange(base, p.port, 0, 2000, &o);
	assert_int_equal(o.status, 0);
	assert_false(o.tcp);
	assert_int_equal(o.tries, 2);
	assert_int_equal(p.udp_seen, 2);
	peer_stop(&p);
	event_base_free(base);
}

static void
test_truncated_goes_tcp(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p;
	struct outcome o;

	(void)state;
	peer_start(&p, base, UDP_TRUNCATE, TCP_ANSWER);
	exchange(base, p.port, 0, 2000, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, 0);
	assert_true(o.tcp);
	assert_int_equal(o.tries, 2); /* one datagram, one connection */
	assert_int_equal(p.udp_seen, 1);
	assert_int_equal(p.tcp_seen, 1);
	peer_stop(&p);
	event_base_free(base);
}

static void
test_tcp_split_framing(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p;
	struct outcome o;

	(void)state;
	peer_start(&p, base, UDP_TRUNCATE, TCP_SPLIT);
	exchange(base, p.port, 0, 2000, &o);
	assert_int_equal(o.status, 0);
	assert_true(o.tcp);
	assert_int_equal(o.id, 0x4242);
	peer_stop(&p);
	event_base_free(base);
}

static void
test_large_message_tcp_only(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p;
	struct outcome o;

	(void)state;
	peer_start(&p, base, UDP_ANSWER, TCP_ANSWER);
	exchange(base, p.port, 20, 2000, &o); /* well over 512 bytes */
	assert_int_equal(o.status, 0);
	assert_true(o.tcp);
	assert_int_equal(o.tries, 1);
	assert_true(o.len > 512);
	assert_int_equal(p.udp_seen, 0);
	assert_int_equal(p.tcp_seen, 1);
	peer_stop(&p);
	event_base_free(base);
}

/* dns_client_send_tcp: a small query goes over TCP although UDP would answer. */
static void
test_send_tcp_only(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct peer p;
	struct outcome o = {0};
	struct dns_client_query *q;
	size_t len;
	uint8_t *wire = query_wire(0, &len);
	int err = 0;

	(void)state;
	peer_start(&p, base, UDP_ANSWER, TCP_ANSWER);
	a.sin_port = htons(p.port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	q = dns_client_send_tcp(base, (struct sockaddr *)&a, sizeof(a), wire, len, 2000, done_cb,
				&o, &err);
	free(wire);
	assert_non_null(q);
	assert_false(o.done);
	while (!o.done)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, 0);
	assert_true(o.tcp);
	assert_int_equal(o.tries, 1);
	assert_int_equal(o.id, 0x4242);
	assert_int_equal(p.udp_seen, 0);
	assert_int_equal(p.tcp_seen, 1);
	peer_stop(&p);
	event_base_free(base);
}

/* dns_client_send_tcp to a closed TCP port fails at once: refused, not a timeout. */
static void
test_send_tcp_refused(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct outcome o = {0};
	struct dns_client_query *q;
	size_t len;
	uint8_t *wire = query_wire(0, &len);
	int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;
	socklen_t sl = sizeof(a);
	uint64_t t0;

	(void)state;
	/* A port that was free a moment ago and has no listener. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
	close(fd);
	t0 = now_ms();
	q = dns_client_send_tcp(base, (struct sockaddr *)&a, sizeof(a), wire, len, 5000, done_cb,
				&o, &err);
	free(wire);
	assert_non_null(q);
	while (!o.done)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(o.status, MXF_ECONNREFUSED);
	assert_true(o.tcp);
	assert_true(now_ms() - t0 < 2000);
	event_base_free(base);
}

static void
test_deadline(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p;
	struct outcome o;
	uint64_t ms;

	(void)state;
	peer_start(&p, base, UDP_SILENT, TCP_ANSWER);
	ms = exchange(base, p.port, 0, 400, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, MXF_ETIMEDOUT);
	/* One deadline for the whole exchange, retransmissions inside it. */
	assert_true(ms >= 350);
	assert_true(ms < 1500);
	assert_true(o.tries >= 2);
	assert_int_equal(o.tries, p.udp_seen);
	peer_stop(&p);
	event_base_free(base);
}

static void
test_junk_and_wrong_id_ignored(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p;
	struct outcome o;

	(void)state;
	peer_start(&p, base, UDP_JUNK_THEN_ANSWER, TCP_ANSWER);
	exchange(base, p.port, 0, 2000, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, 0);
	assert_int_equal(o.id, 0x4242);
	assert_int_equal(o.tries, 1);
	peer_stop(&p);
	event_base_free(base);
}

static void
test_only_junk(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p;
	struct outcome o;
	uint64_t ms;

	(void)state;
	peer_start(&p, base, UDP_JUNK_ONLY, TCP_ANSWER);
	ms = exchange(base, p.port, 0, 3000, &o);
	assert_int_equal(o.status, MXF_EPROTO);
	assert_true(ms < 2500); /* given up on the junk, not on the deadline */
	peer_stop(&p);
	event_base_free(base);
}

static void
test_tcp_closed(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p;
	struct outcome o;

	(void)state;
	peer_start(&p, base, UDP_TRUNCATE, TCP_CLOSE);
	exchange(base, p.port, 0, 2000, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, MXF_ENET);
	assert_true(o.tcp);
	peer_stop(&p);
	event_base_free(base);
}

static void
test_refused(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct outcome o;

	(void)state;
	/* A port that was just free: nobody listens there now. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	exchange(base, ntohs(a.sin_port), 0, 2000, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, MXF_ECONNREFUSED);
	event_base_free(base);
}

static void
test_cancel_and_invalid(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct timeval tv = {0, 600 * 1000};
	struct dns_client_query *q;
	struct outcome o = {0};
	struct peer p;
	uint8_t *wire;
	size_t len;
	int err = 0;

	(void)state;
	peer_start(&p, base, UDP_SILENT, TCP_ANSWER);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(p.port);
	wire = query_wire(0, &len);
	q = dns_client_send(base, (struct sockaddr *)&a, sizeof(a), wire, len, 300, done_cb, &o,
			    &err);
	assert_non_null(q);
	event_base_loop(base, EVLOOP_NONBLOCK);
	dns_client_cancel(q);
	event_base_loopexit(base, &tv); /* past the deadline */
	event_base_dispatch(base);
	assert_int_equal(o.calls, 0);
	/* Shorter than a header, and no deadline: refused, no callback. */
	assert_null(dns_client_send(base, (struct sockaddr *)&a, sizeof(a), wire, 11, 300, done_cb,
				    &o, &err));
	assert_int_equal(err, MXF_EINVAL);
	err = 0;
	assert_null(dns_client_send(base, (struct sockaddr *)&a, sizeof(a), wire, len, 0, done_cb,
				    &o, &err));
	assert_int_equal(err, MXF_EINVAL);
	assert_int_equal(o.calls, 0);
	free(wire);
	peer_stop(&p);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_answer),
		cmocka_unit_test(test_udp_retransmit),
		cmocka_unit_test(test_truncated_goes_tcp),
		cmocka_unit_test(test_tcp_split_framing),
		cmocka_unit_test(test_large_message_tcp_only),
		cmocka_unit_test(test_send_tcp_only),
		cmocka_unit_test(test_send_tcp_refused),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_junk_and_wrong_id_ignored),
		cmocka_unit_test(test_only_junk),
		cmocka_unit_test(test_tcp_closed),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_cancel_and_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
