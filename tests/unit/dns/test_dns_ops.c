/*
 * test_dns_ops.c -- freeing an operations context while its exchanges,
 * zone lookups and applies are still running: nothing may fire later, and
 * nothing may leak (LeakSanitizer checks the latter).
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_while_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
