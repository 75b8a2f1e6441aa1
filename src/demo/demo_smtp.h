/*
 * demo_smtp.h -- the demo's SMTP responders (mx1 and mx2): just enough of
 * SMTP on 127.0.0.1 for the daemon's smtp:// check to see a mail server.
 *
 * A responder greets with 220, answers EHLO/HELO, NOOP, RSET and QUIT, and
 * says 502 to anything else.  It is a demo, not a mail server: a session
 * ends after DEMO_SMTP_CMDS_MAX commands, a line over DEMO_SMTP_LINE_MAX
 * bytes or DEMO_SMTP_SESSION_MS, and at most DEMO_SMTP_SESSIONS_MAX
 * sessions are open at once.  Stopping it closes the port, so connections
 * are refused: that is the failure the demo shows.
 */
#ifndef MXF_DEMO_SMTP_H
#define MXF_DEMO_SMTP_H

#include <stdint.h>

#define DEMO_SMTP_LINE_MAX     512
#define DEMO_SMTP_CMDS_MAX     20
#define DEMO_SMTP_SESSION_MS   10000
#define DEMO_SMTP_SESSIONS_MAX 32

struct event_base;
struct evconnlistener;
struct demo_smtp_session;

/* One responder; the caller sets base, name and port (0: any) and zeroes the rest. */
struct demo_smtp {
	struct event_base *base;
	const char *name;	    /* "mx1": its greeting says mx1.demo.test */
	struct evconnlistener *lis; /* NULL while stopped */
	uint16_t port;
	struct demo_smtp_session *sessions;
	unsigned nsessions;
};

/*
 * demo_smtp_start -- listen on 127.0.0.1:r->port (0: a free port, read
 * back into r->port, so a restart takes the same one).
 * @return 0, or MXF_EIO with errno set by the failed call.
 */
int demo_smtp_start(struct demo_smtp *r);

/* Close the listener and every open session; a stopped one is a no-op. */
void demo_smtp_stop(struct demo_smtp *r);

#endif
