/*
 * test_dns_ops.c -- freeing an operations context while its exchanges,
 * zone lookups and applies are still running: nothing may fire later, and
 * nothing may leak (LeakSanitizer checks the latter); the in-flight windows
 * (updates capped below BIND's update-quota, reads fill the rest); an apply
 * of a CNAME takes its current value from the zone lookup, no read before;
 * an apply of thousands of zones runs them a window at a time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns_apply.h"
#include "dns_ops.h"
#include "dns_ops_internal.h"
#include "dns_zone.h"
#include "mxf.h"

static int callbacks;

static void
read_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	(void)status, (void)rcode, (void)reply, (void)msg, (void)arg;
	callbacks++;
}

static void
zone_cb(int status, const ldns_rdf *zone, const char *msg, void *arg)
{
	(void)status, (void)zone, (void)msg, (void)arg;
	callbacks++;
}

static void
apply_cb(void *arg)
{
	(void)arg;
	callbacks++;
}

/* A UDP port on loopback that receives and never answers. */
static int
silent_udp(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void
run_loop_ms(struct event_base *base, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
test_free_while_running(void **state)
{
	struct event_base *base = event_base_new();
	struct dns_ops *ops = NULL;
	struct dns_apply_item item;
	ldns_rdf *name = ldns_dname_new_frm_str("mx.example.test.");
	ldns_rr *rr = NULL;
	uint16_t port;
	int fd = silent_udp(&port);

	(void)state;
	callbacks = 0;
	assert_int_equal(dns_ops_new(base, "127.0.0.1", port, NULL, 1000, &ops), 0);
	/* A read, a zone walk and an apply, all waiting on the silent server. */
	assert_int_equal(dns_ops_read(ops, name, LDNS_RR_TYPE_CNAME, read_cb, NULL), 0);
	assert_int_equal(dns_zone_find(ops, NULL, name, zone_cb, NULL), 0);
	memset(&item, 0, sizeof(item));
	item.owner = ldns_rdf_clone(name);
	item.type = LDNS_RR_TYPE_CNAME;
	item.ttl = 300;
	item.expect = DNS_APPLY_EXPECT_CURRENT;
	assert_int_equal(ldns_rr_new_frm_str(&rr, "mx.example.test. 300 IN CNAME mx2.example.test.",
					     0, NULL, NULL), LDNS_STATUS_OK);
	item.new_rrs = ldns_rr_list_new();
	ldns_rr_list_push_rr(item.new_rrs, rr);
	assert_int_equal(dns_apply_start(ops, NULL, &item, 1, 300, apply_cb, NULL), 0);
	run_loop_ms(base, 150);              /* queries are on the wire now */
	assert_int_equal(callbacks, 0);
	dns_ops_free(ops);
	run_loop_ms(base, 1500);             /* past the whole deadline */
	assert_int_equal(callbacks, 0);
	dns_apply_item_clear(&item);
	ldns_rdf_deep_free(name);
	event_base_free(base);
	close(fd);
}

static ldns_pkt *
query_pkt(const char *name)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(p, dns_ops_random_id());
	return p;
}

/* Datagrams waiting at @fd whose first question is @name. */
static void
count_waiting(int fd, int *updates, int *reads)
{
	uint8_t buf[1024];
	ssize_t len;

	while ((len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		ldns_pkt *p = NULL;
		char *q;

		assert_int_equal(ldns_wire2pkt(&p, buf, (size_t)len), LDNS_STATUS_OK);
		q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
		if (strcmp(q, "u.example.test.") == 0)
			(*updates)++;
		else
			(*reads)++;
		free(q);
		ldns_pkt_free(p);
	}
}

static void
test_windows(void **state)
{
	struct event_base *base = event_base_new();
	struct dns_ops *ops = NULL;
	uint16_t port;
	int fd = silent_udp(&port), updates = 0, reads = 0;

	(void)state;
	callbacks = 0;
	assert_int_equal(dns_ops_new(base, "127.0.0.1", port, NULL, 1000, &ops), 0);
	/* Reads queued first must not keep the updates behind them waiting. */
	for (int i = 0; i < 300; i++)
		assert_int_equal(dns_ops_exchange(ops, query_pkt("r.example.test."), false,
						  read_cb, NULL), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(dns_ops_exchange(ops, query_pkt("u.example.test."), true,
						  read_cb, NULL), 0);
	run_loop_ms(base, 50);
	count_waiting(fd, &updates, &reads);
	/* The reads took the window before any update was queued. */
	assert_int_equal(updates + reads, DNS_OPS_MAX_INFLIGHT);
	assert_int_equal(updates, 0);
	dns_ops_free(ops);

	/* Updates first: capped at their own limit, reads fill the window. */
	updates = reads = 0;
	assert_int_equal(dns_ops_new(base, "127.0.0.1", port, NULL, 1000, &ops), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(dns_ops_exchange(ops, query_pkt("u.example.test."), true,
						  read_cb, NULL), 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(dns_ops_exchange(ops, query_pkt("r.example.test."), false,
						  read_cb, NULL), 0);
	run_loop_ms(base, 50);
	count_waiting(fd, &updates, &reads);
	assert_int_equal(updates, DNS_OPS_MAX_UPDATES);
	assert_int_equal(reads, DNS_OPS_MAX_INFLIGHT - DNS_OPS_MAX_UPDATES);
	assert_int_equal(callbacks, 0);
	dns_ops_free(ops);
	event_base_free(base);
	close(fd);
}

/*
 * A tiny primary on the loop for zone example.test. holding
 * mx.example.test. CNAME, answering SOA, CNAME and UPDATE; it counts what
 * it is asked.
 */
struct tiny {
	int fd;
	struct event *ev;
	char cname[64];
	int soa_q, cname_q, cname_q_before_update, update_q;
	int check_q;        /* prerequisite-only UPDATEs (the check after one) */
	bool fail_check;    /* answer them NXRRSET, as Knot does after ignoring a CNAME */
	const char *raced;  /* the UPDATE finds this value set by someone else
			       first and answers NXRRSET */
};

/* The next request waiting at @fd, parsed (NULL: none, or not DNS);
 * *@ss gets its sender. */
static ldns_pkt *
recv_request(int fd, struct sockaddr_storage *ss, socklen_t *sl)
{
	uint8_t buf[2048];
	ldns_pkt *req = NULL;
	ssize_t len = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)ss, sl);

	if (len <= 0 || ldns_wire2pkt(&req, buf, (size_t)len) != LDNS_STATUS_OK)
		return NULL;
	return req;
}

/* Send @rep to the sender of a request. */
static void
send_reply(int fd, const ldns_pkt *rep, const struct sockaddr_storage *ss, socklen_t sl)
{
	uint8_t *out = NULL;
	size_t olen = 0;

	assert_int_equal(ldns_pkt2wire(&out, rep, &olen), LDNS_STATUS_OK);
	(void)sendto(fd, out, olen, 0, (const struct sockaddr *)ss, sl);
	free(out);
}

static void
tiny_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tiny *t = arg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ldns_pkt *req = recv_request(fd, &ss, &sl), *rep;
	ldns_rr *q, *rr = NULL;
	char *qn, text[256];

	(void)what;
	if (req == NULL)
		return;
	rep = ldns_pkt_clone(req);
	ldns_rr_list_deep_free(ldns_pkt_answer(rep));
	ldns_pkt_set_answer(rep, ldns_rr_list_new());
	ldns_rr_list_deep_free(ldns_pkt_authority(rep));
	ldns_pkt_set_authority(rep, ldns_rr_list_new());
	ldns_pkt_set_ancount(rep, 0);
	ldns_pkt_set_nscount(rep, 0);
	ldns_pkt_set_qr(rep, true);
	ldns_pkt_set_aa(rep, true);
	q = ldns_rr_list_rr(ldns_pkt_question(req), 0);
	qn = ldns_rdf2str(ldns_rr_owner(q));
	if (ldns_pkt_get_opcode(req) == LDNS_PACKET_UPDATE && ldns_update_upcount(req) == 0) {
		t->check_q++;
		if (t->fail_check)
			ldns_pkt_set_rcode(rep, LDNS_RCODE_NXRRSET);
	} else if (ldns_pkt_get_opcode(req) == LDNS_PACKET_UPDATE) {
		t->update_q++;
		snprintf(t->cname, sizeof(t->cname), "%s", t->raced ? t->raced : "mx2.example.test.");
		if (t->raced)
			ldns_pkt_set_rcode(rep, LDNS_RCODE_NXRRSET);
	} else if (strcmp(qn, "mx.example.test.") == 0) {
		if (ldns_rr_get_type(q) == LDNS_RR_TYPE_SOA)
			t->soa_q++;
		else if (ldns_rr_get_type(q) == LDNS_RR_TYPE_CNAME) {
			t->cname_q++;
			t->cname_q_before_update += t->update_q == 0;
		}
		snprintf(text, sizeof(text), "mx.example.test. 300 IN CNAME %s", t->cname);
	} else {
		t->soa_q++;
		snprintf(text, sizeof(text),
			 "example.test. 300 IN SOA ns.example.test. h.example.test. 1 60 60 60 60");
	}
	if (ldns_pkt_get_opcode(req) != LDNS_PACKET_UPDATE) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(rep, LDNS_SECTION_ANSWER, rr);
	}
	send_reply(fd, rep, &ss, sl);
	free(qn);
	ldns_pkt_free(req);
	ldns_pkt_free(rep);
}

/*
 * One CNAME switched: its CAS prerequisite from the zone lookup's first
 * answer, the update confirmed by one prerequisite-only UPDATE and not read
 * back -- unless that check is refused (@fail_check), then read back.
 */
static void
apply_one_cname(bool fail_check)
{
	struct event_base *base = event_base_new();
	struct dns_ops *ops = NULL;
	struct dns_apply_item item;
	struct tiny t = {.cname = "mx1.example.test.", .fail_check = fail_check};
	ldns_rr *rr = NULL;
	uint16_t port;

	callbacks = 0;
	t.fd = silent_udp(&port);
	t.ev = event_new(base, t.fd, EV_READ | EV_PERSIST, tiny_cb, &t);
	event_add(t.ev, NULL);
	assert_int_equal(dns_ops_new(base, "127.0.0.1", port, NULL, 2000, &ops), 0);
	memset(&item, 0, sizeof(item));
	item.owner = ldns_dname_new_frm_str("mx.example.test.");
	item.type = LDNS_RR_TYPE_CNAME;
	item.ttl = -1;
	item.expect = DNS_APPLY_EXPECT_CURRENT;
	assert_int_equal(ldns_rr_new_frm_str(&rr, "mx.example.test. 300 IN CNAME mx2.example.test.",
					     0, NULL, NULL), LDNS_STATUS_OK);
	item.new_rrs = ldns_rr_list_new();
	ldns_rr_list_push_rr(item.new_rrs, rr);
	assert_int_equal(dns_apply_start(ops, NULL, &item, 1, 300, apply_cb, NULL), 0);
	for (int i = 0; i < 40 && callbacks == 0; i++)
		run_loop_ms(base, 50);
	assert_int_equal(callbacks, 1);
	assert_int_equal(item.status, 0);
	assert_true(item.verified);
	/* The CAS prerequisite came from the first SOA answer. */
	assert_non_null(item.found);
	assert_int_equal(ldns_rr_list_rr_count(item.found), 1);
	assert_int_equal(t.soa_q, 2);
	assert_int_equal(t.cname_q_before_update, 0);
	assert_int_equal(t.update_q, 1);
	assert_int_equal(t.check_q, 1);
	/* Read back only when the check did not confirm the update. */
	assert_int_equal(t.cname_q, fail_check ? 1 : 0);
	dns_apply_item_clear(&item);
	dns_ops_free(ops);
	event_free(t.ev);
	close(t.fd);
	event_base_free(base);
}

/*
 * Another writer (a second monitor) got there first: the update answers
 * NXRRSET.  When the records then hold our new value, the item succeeded
 * and says it was found already made; any other value is a conflict.
 */
static void
apply_raced(const char *other)
{
	struct event_base *base = event_base_new();
	struct dns_ops *ops = NULL;
	struct dns_apply_item item;
	struct tiny t = {.cname = "mx1.example.test.", .raced = other};
	ldns_rr *rr = NULL;
	uint16_t port;
	bool same = strcmp(other, "mx2.example.test.") == 0;

	callbacks = 0;
	t.fd = silent_udp(&port);
	t.ev = event_new(base, t.fd, EV_READ | EV_PERSIST, tiny_cb, &t);
	event_add(t.ev, NULL);
	assert_int_equal(dns_ops_new(base, "127.0.0.1", port, NULL, 2000, &ops), 0);
	memset(&item, 0, sizeof(item));
	item.owner = ldns_dname_new_frm_str("mx.example.test.");
	item.type = LDNS_RR_TYPE_CNAME;
	item.ttl = -1;
	item.expect = DNS_APPLY_EXPECT_CURRENT;
	assert_int_equal(ldns_rr_new_frm_str(&rr, "mx.example.test. 300 IN CNAME mx2.example.test.",
					     0, NULL, NULL), LDNS_STATUS_OK);
	item.new_rrs = ldns_rr_list_new();
	ldns_rr_list_push_rr(item.new_rrs, rr);
	assert_int_equal(dns_apply_start(ops, NULL, &item, 1, 300, apply_cb, NULL), 0);
	for (int i = 0; i < 40 && callbacks == 0; i++)
		run_loop_ms(base, 50);
	assert_int_equal(callbacks, 1);
	assert_int_equal(t.update_q, 1);
	assert_int_equal(t.cname_q, 1); /* read back after the conflict */
	assert_int_equal(item.status, same ? 0 : MXF_ECONFLICT);
	assert_int_equal(item.already, same);
	assert_int_equal(item.verified, same);
	dns_apply_item_clear(&item);
	dns_ops_free(ops);
	event_free(t.ev);
	close(t.fd);
	event_base_free(base);
}

/*
 * A primary answering NOERROR to every UPDATE of any zone; it notes the
 * order: when the check of the first zone came, in UPDATEs seen so far.
 */
struct many {
	int fd;
	int updates, checks;
	int updates_before_first_check; /* -1 until the first zone's check */
};

static void
many_cb(evutil_socket_t fd, short what, void *arg)
{
	struct many *m = arg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ldns_pkt *req = recv_request(fd, &ss, &sl), *rep;

	(void)what;
	if (req == NULL)
		return;
	assert_int_equal(ldns_pkt_get_opcode(req), LDNS_PACKET_UPDATE);
	if (ldns_update_upcount(req) > 0) {
		m->updates++;
	} else {
		char *zone =
			ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(req), 0)));
		if (strcmp(zone, "z0000.test.") == 0)
			m->updates_before_first_check = m->updates;
		m->checks++;
		free(zone);
	}
	rep = ldns_pkt_new();
	ldns_pkt_set_id(rep, ldns_pkt_id(req));
	ldns_pkt_set_opcode(rep, LDNS_PACKET_UPDATE);
	ldns_pkt_set_qr(rep, true);
	ldns_pkt_push_rr(rep, LDNS_SECTION_QUESTION,
			 ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(req), 0)));
	send_reply(fd, rep, &ss, sl);
	ldns_pkt_free(req);
	ldns_pkt_free(rep);
}

/*
 * Thousands of zones, each told its zone, expected value and TTL (as the
 * daemon does): one UPDATE and one check each, all verified -- and the
 * zones run a window at a time, so the first zone's check goes out before
 * the last zone's UPDATE is even built (all UPDATEs queued first kept the
 * checks behind every one of them, and the server idle meanwhile).
 */
static void
test_many_zones_windowed(void **state)
{
	enum { N = 2000 };
	struct event_base *base = event_base_new();
	struct dns_ops *ops = NULL;
	struct dns_apply_item *items = calloc(N, sizeof(*items));
	struct many m = {.updates_before_first_check = -1};
	struct event *ev;
	uint16_t port;
	char text[128];

	(void)state;
	callbacks = 0;
	assert_non_null(items);
	m.fd = silent_udp(&port);
	ev = event_new(base, m.fd, EV_READ | EV_PERSIST, many_cb, &m);
	event_add(ev, NULL);
	assert_int_equal(dns_ops_new(base, "127.0.0.1", port, NULL, 5000, &ops), 0);
	for (int i = 0; i < N; i++) {
		ldns_rr *rr = NULL;

		snprintf(text, sizeof(text), "z%04d.test.", i);
		items[i].zone = ldns_dname_new_frm_str(text);
		snprintf(text, sizeof(text), "mx.z%04d.test.", i);
		items[i].owner = ldns_dname_new_frm_str(text);
		items[i].type = LDNS_RR_TYPE_CNAME;
		items[i].ttl = 300;
		items[i].expect = DNS_APPLY_EXPECT_GIVEN;
		snprintf(text, sizeof(text), "mx.z%04d.test. 300 IN CNAME mx1.example.test.", i);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
		items[i].expected = ldns_rr_list_new();
		ldns_rr_list_push_rr(items[i].expected, rr);
		snprintf(text, sizeof(text), "mx.z%04d.test. 300 IN CNAME mx2.example.test.", i);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
		items[i].new_rrs = ldns_rr_list_new();
		ldns_rr_list_push_rr(items[i].new_rrs, rr);
	}
	assert_int_equal(dns_apply_start(ops, NULL, items, N, 300, apply_cb, NULL), 0);
	for (int i = 0; i < 200 && callbacks == 0; i++)
		run_loop_ms(base, 50);
	assert_int_equal(callbacks, 1);
	assert_int_equal(m.updates, N);
	assert_int_equal(m.checks, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(items[i].status, 0);
		assert_true(items[i].verified);
	}
	assert_true(m.updates_before_first_check >= 1);
	assert_true(m.updates_before_first_check < N / 2);
	for (int i = 0; i < N; i++)
		dns_apply_item_clear(&items[i]);
	free(items);
	dns_ops_free(ops);
	event_free(ev);
	close(m.fd);
	event_base_free(base);
}

static void
test_raced_to_the_same_value(void **state)
{
	(void)state;
	apply_raced("mx2.example.test.");
}

static void
test_raced_to_another_value(void **state)
{
	(void)state;
	apply_raced("mx3.example.test.");
}

static void
test_cname_read_from_zone_lookup(void **state)
{
	(void)state;
	apply_one_cname(false);
}

static void
test_check_refused_reads_back(void **state)
{
	(void)state;
	apply_one_cname(true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_while_running),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_cname_read_from_zone_lookup),
		cmocka_unit_test(test_check_refused_reads_back),
		cmocka_unit_test(test_raced_to_the_same_value),
		cmocka_unit_test(test_raced_to_another_value),
		cmocka_unit_test(test_many_zones_windowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
