/*
 * test_status_server.c -- the status endpoint's connections on a real loop
 * over loopback: at the cap a further client is not served until a slot
 * frees, a connection ends at its one deadline however it trickles bytes,
 * an answer is a whole HTTP/1.1 reply with Connection: close, and a head
 * that is not a request line is a 400.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <unistd.h>

#include <event2/event.h>

#include "mxf.h"
#include "status_server.h"

static void
answer(void *arg, const char *method, const char *target, struct status_http_answer *a)
{
	*a = (struct status_http_answer){
		.code = 200, .reason = "OK", .type = "text/plain", .body = "hello\n"};
	(*(int *)arg)++;
}

/* A free loopback port (bound, read, closed). */
static uint16_t
free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static int
client(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_true(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS);
	return fd;
}

/* Run @base for about @ms. */
static void
run_for(struct event_base *base, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* What @fd has to read now: > 0 bytes, 0 EOF, -1 nothing yet. */
static ssize_t
peek(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n < 0)
		return 0; /* reset: closed */
	buf[n] = '\0';
	return n;
}

static void
test_cap_and_deadline(void **state)
{
	struct event_base *base = event_base_new();
	struct status_server *srv = NULL;
	uint16_t port = free_port();
	char err[200], buf[512];
	int served = 0, c1, c2, c3;
	const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	assert_int_equal(status_server_new(base, "127.0.0.1", port, 2, 2000, answer, &served, &srv,
					   err, sizeof(err)),
			 0);
	c1 = client(port);
	c2 = client(port);
	run_for(base, 100);
	c3 = client(port);
	run_for(base, 50);
	assert_int_equal(send(c3, req, strlen(req), 0), (ssize_t)strlen(req));
	/* Two idle clients hold both slots: the third waits, unserved. */
	run_for(base, 200);
	assert_int_equal(served, 0);
	assert_int_equal(peek(c3, buf, sizeof(buf)), -1);
	/* One hangs up: the third is accepted and answered. */
	close(c1);
	run_for(base, 200);
	assert_int_equal(served, 1);
	assert_true(peek(c3, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(buf, "Content-Length: 6\r\n"));
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	assert_non_null(strstr(buf, "\r\n\r\nhello\n"));
	/* c2 trickles a byte every 100 ms: a timeout per read would never
	 * fire; its one deadline (2 s from accept) ends it all the same. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(send(c2, "G", 1, MSG_NOSIGNAL), 1);
		run_for(base, 100);
	}
	assert_int_equal(peek(c2, buf, sizeof(buf)), -1);
	for (int i = 0; i < 40 && peek(c2, buf, sizeof(buf)) != 0; i++) {
		(void)send(c2, "G", 1, MSG_NOSIGNAL);
		run_for(base, 100);
	}
	assert_int_equal(peek(c2, buf, sizeof(buf)), 0);
	close(c2);
	close(c3);
	/* Not a request line: 400, and the handler is not asked. */
	c1 = client(port);
	run_for(base, 50);
	assert_int_equal(send(c1, "HELLO\r\n\r\n", 9, 0), 9);
	run_for(base, 150);
	assert_true(peek(c1, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
	assert_int_equal(served, 1);
	close(c1);
	status_server_free(srv);
	event_base_free(base);
}

static void
test_busy_port(void **state)
{
	struct event_base *base = event_base_new();
	struct status_server *a = NULL, *b = (struct status_server *)1;
	uint16_t port = free_port();
	char err[200] = "";
	int served = 0;

	assert_int_equal(status_server_new(base, "127.0.0.1", port, 0, 0, answer, &served, &a, err,
					   sizeof(err)),
			 0);
	assert_int_equal(status_server_new(base, "127.0.0.1", port, 0, 0, answer, &served, &b, err,
					   sizeof(err)),
			 MXF_EIO);
	assert_null(b);
	assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
	status_server_free(a);
	status_server_free(NULL);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_and_deadline),
		cmocka_unit_test(test_busy_port),
	};

	/* As the daemon: a peer gone mid-answer is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
