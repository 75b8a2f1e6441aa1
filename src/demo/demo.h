/*
 * demo.h -- `mxfailover demo`: a throw-away lab on loopback that shows a
 * failover and a failback.
 *
 * The demo makes a temporary directory, writes a fresh TSIG key, a zone
 * demo.test whose five mail CNAMEs point at mx1.demo.test., and a named.conf
 * that listens only on 127.0.0.1 at a free port; it starts named, two tiny
 * SMTP responders (mx1 and mx2, inside the demo process on its own libevent
 * loop), and `mxfailover run` as a child with a config for them.  It then
 * stops mx1, shows the records moving to mx2 (read from named with our own
 * signed DNS queries), brings mx1 back and shows the failback, with timings.
 * Everything it started is stopped and the directory removed at the end, on
 * failure and on Ctrl-C.  Every wait is bounded; nothing leaves loopback.
 */
#ifndef MXF_DEMO_H
#define MXF_DEMO_H

#include <stdbool.h>

struct demo_options {
	bool keep;	   /* keep the temporary directory and say where it is */
	const char *named; /* named binary; NULL for DEMO_NAMED */
};

#define DEMO_NAMED "/usr/sbin/named"

/*
 * demo_main -- run the demo, printing its progress on stdout.
 * @opts  borrowed for the call.
 * @return a process exit code: 0 when both the failover and the failback
 *         were seen; 1 when either was not (what was missing is printed),
 *         including set-up failures, a busy port and Ctrl-C; 2 when named is
 *         not installed.  Child processes and the temporary directory are
 *         gone when it returns (the directory stays with opts->keep).
 */
int demo_main(const struct demo_options *opts);

#endif
