/*
 * check_tcp.c -- tcp://HOST:PORT: the check is up when the TCP connection
 * is accepted; nothing is sent.
 */
#include "check_impl.h"

static void
tcp_connected(struct check *c)
{
	check_set_phase(c, CHECK_PHASE_CONNECT);
	check_finish(c, CHECK_STATE_UP, "connected");
}

const struct check_ops check_tcp_ops = {
	.max_line = 512,
	.connected = tcp_connected,
};
