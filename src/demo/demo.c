/*
 * demo.c -- `mxfailover demo`: named, two SMTP responders and the daemon on
 * loopback, a failover and a failback shown with timings (see demo.h).
 *
 * The demo is one libevent loop.  Its steps are written as straight-line
 * code; each wait runs the loop (so the responders keep answering and the
 * daemon's log keeps flowing) until a condition holds, a deadline passes or
 * the user presses Ctrl-C.  A 50 ms tick keeps those waits responsive and
 * reaps the children when they exit.
 *
 * Children (named, the daemon) run in their own process groups, so a Ctrl-C
 * on the terminal reaches only the demo, which then stops them in order; and
 * they get SIGTERM from the kernel should the demo itself be killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cmd.h"
#include "config.h"
#include "demo.h"
#include "dns_ops.h"
#include "dns_keyfile.h"
#include "dns_tsig.h"
#include "health.h"
#include "mxf.h"
#include "state.h"

#define DEMO_ZONE	     "demo.test."
#define DEMO_KEY_NAME	     "demo-key"
#define DEMO_NRECORDS	     5
#define DEMO_TICK_MS	     50
#define DEMO_NAMED_READY_MS  10000 /* named answers its SOA query */
#define DEMO_DAEMON_READY_MS 15000 /* the daemon has seen both servers up */
#define DEMO_MOVE_MS	     20000 /* the records move after mx1 stops/returns */
#define DEMO_READ_MS	     3000  /* one batch of record reads */
#define DEMO_POLL_MS	     200   /* between two batches */
#define DEMO_DAEMON_STOP_MS  3000  /* SIGTERM to SIGKILL */
#define DEMO_NAMED_STOP_MS   5000
#define DEMO_NAMED_ATTEMPTS  3	 /* another port when ours was taken */
#define DEMO_DIR_MAX	     512 /* the lab directory's path, with its NUL */

/* Limits of one responder session: it is a demo, not a mail server. */
#define DEMO_SMTP_LINE_MAX     512
#define DEMO_SMTP_CMDS_MAX     20
#define DEMO_SMTP_SESSION_MS   10000
#define DEMO_SMTP_SESSIONS_MAX 32

static const char *const demo_records[DEMO_NRECORDS] = {"mx", "smtp", "imap", "mail", "pop3"};

struct demo;

struct demo_session {
	struct demo_responder *r;
	struct bufferevent *bev;
	struct event *deadline;
	unsigned ncmds;
	bool closing; /* QUIT answered: free once it is written */
	struct demo_session *next;
};

/* One SMTP responder: mx1 or mx2. */
struct demo_responder {
	struct demo *d;
	const char *name;	    /* "mx1" */
	struct evconnlistener *lis; /* NULL while stopped */
	uint16_t port;
	struct demo_session *sessions;
	unsigned nsessions;
};

/* One managed record as last read from named. */
struct demo_record {
	struct demo *d;
	ldns_rdf *owner;
	bool done;	  /* the read of this batch came back */
	char target[256]; /* CNAME target, or "" */
	char line[512];	  /* dig-style line, or why there is none */
};

struct demo {
	struct event_base *base;
	struct event *tick, *sigint, *sigterm;
	int signo; /* the signal that interrupted us, or 0 */
	struct timespec t0;
	const char *named_bin;

	char dir[DEMO_DIR_MAX]; /* "" until made */
	uint16_t dns_port;
	pid_t named_pid, daemon_pid; /* 0 when not running (reaped) */
	int named_status, daemon_status;
	bool named_exited, daemon_exited;

	int daemon_fd; /* read end of the daemon's stderr, or -1 */
	struct event *daemon_ev;
	char dline[1024];
	size_t dlen;

	struct dns_tsig_key *key;
	struct dns_ops *ops;
	struct config *cfg; /* the daemon's config, for the state file */
	struct demo_responder mx[2];
	struct demo_record rec[DEMO_NRECORDS];
	unsigned pending; /* reads of the current batch in flight */
	bool soa_done, soa_ok;
	bool soa_busy; /* an SOA query is in flight */
};

/* ---- output ---- */

static double
demo_elapsed(const struct demo *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - d->t0.tv_sec) + (double)(now.tv_nsec - d->t0.tv_nsec) / 1e9;
}

/* A progress line, stamped with the seconds since the start. */
static void __attribute__((format(printf, 2, 3)))
demo_say(const struct demo *d, const char *fmt, ...)
{
	va_list ap;

	printf("[%5.1fs] ", demo_elapsed(d));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A failure line (on stdout too, so the story reads in order). */
static void __attribute__((format(printf, 2, 3)))
demo_fail(const struct demo *d, const char *fmt, ...)
{
	va_list ap;

	printf("[%5.1fs] FAILED: ", demo_elapsed(d));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Print the last lines of named's log, indented, when it did not start. */
static void
demo_named_log_tail(const struct demo *d)
{
	char path[PATH_MAX + 16], buf[2048];
	ssize_t n;
	off_t size;
	int fd;

	snprintf(path, sizeof(path), "%s/named.log", d->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(buf) - 1)
		lseek(fd, size - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	printf("          named's log (%s), last lines:\n", path);
	for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n"))
		printf("            %s\n", line);
}

/* ---- the event loop ---- */

static void
demo_reap(struct demo *d)
{
	int st;

	if (d->named_pid > 0 && waitpid(d->named_pid, &st, WNOHANG) == d->named_pid) {
		d->named_pid = 0;
		d->named_exited = true;
		d->named_status = st;
	}
	if (d->daemon_pid > 0 && waitpid(d->daemon_pid, &st, WNOHANG) == d->daemon_pid) {
		d->daemon_pid = 0;
		d->daemon_exited = true;
		d->daemon_status = st;
	}
}

static void
demo_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	demo_reap(arg);
}

static void
demo_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct demo *d = arg;

	d->signo = (int)sig;
	event_base_loopbreak(d->base);
}

typedef bool (*demo_cond)(struct demo *d);

/*
 * Run the loop until @cond holds (checked before each turn; NULL: never),
 * @ms pass, or a signal.  @return 0 when the condition held, MXF_ETIMEDOUT,
 * MXF_ECANCELED on a signal.
 */
static int
demo_run_until(struct demo *d, demo_cond cond, uint64_t ms)
{
	double end = demo_elapsed(d) + (double)ms / 1000.0;

	for (;;) {
		if (d->signo != 0)
			return MXF_ECANCELED;
		if (cond != NULL && cond(d))
			return 0;
		if (demo_elapsed(d) >= end)
			return MXF_ETIMEDOUT;
		event_base_loop(d->base, EVLOOP_ONCE);
	}
}

/* ---- files ---- */

/* Write @text to DIR/@name with @mode, refusing to follow or reuse a file. */
static int
demo_write(const struct demo *d, const char *name, mode_t mode, const char *text, char *path,
	   size_t pathlen)
{
	size_t len = strlen(text), off = 0;
	int fd;

	if ((size_t)snprintf(path, pathlen, "%s/%s", d->dir, name) >= pathlen)
		return MXF_EINVAL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			goto fail;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0)
		goto fail;
	return 0;
fail:
	demo_fail(d, "cannot write %s: %s", path, strerror(errno));
	return MXF_EIO;
}

static int
demo_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0 && errno != ENOENT)
		fprintf(stderr, "mxfailover: demo: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* ---- ports ---- */

/*
 * A port on 127.0.0.1 that is free for both TCP and UDP now (named needs
 * both).  The kernel picks it; there is a window until named binds it, which
 * demo_named_start covers by trying again with another port.
 */
static int
demo_free_port(uint16_t *port)
{
	for (int i = 0; i < 50; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET};
		socklen_t len = sizeof(sin);
		int t, u, ok = 0;

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (t >= 0 && u >= 0 && bind(t, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    getsockname(t, (struct sockaddr *)&sin, &len) == 0 &&
		    bind(u, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			ok = 1;
		if (t >= 0)
			close(t);
		if (u >= 0)
			close(u);
		if (ok) {
			*port = ntohs(sin.sin_port);
			return 0;
		}
	}
	return MXF_EIO;
}

/* ---- children ---- */

/*
 * Start @argv[0] with stdin from /dev/null and stdout and stderr on @out_fd,
 * in its own process group, killed with SIGTERM if the demo dies.
 */
static int
demo_spawn(char *const argv[], int out_fd, pid_t *pid)
{
	pid_t parent = getpid();
	pid_t p = fork();

	if (p < 0)
		return MXF_EIO;
	if (p == 0) {
		int null = open("/dev/null", O_RDONLY);
		sigset_t none;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
			_exit(127);
		close_range(3, ~0u, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	*pid = p;
	return 0;
}

/* SIGTERM, then SIGKILL after @ms; reaps.  Only our own child, by its pid. */
static void
demo_stop_child(pid_t *pid, int *status, bool *exited, uint64_t ms)
{
	struct timespec pause = {0, 20 * 1000 * 1000};
	uint64_t waited = 0;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (;;) {
		pid_t r = waitpid(*pid, status, WNOHANG);

		if (r == *pid || (r < 0 && errno == ECHILD))
			break;
		if (waited >= ms) {
			kill(*pid, SIGKILL);
			waitpid(*pid, status, 0);
			break;
		}
		nanosleep(&pause, NULL);
		waited += 20;
	}
	*pid = 0;
	*exited = true;
}

/* ---- the SMTP responders ---- */

static void
demo_session_free(struct demo_session *s)
{
	struct demo_responder *r = s->r;

	for (struct demo_session **pp = &r->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	r->nsessions--;
	bufferevent_free(s->bev);
	event_free(s->deadline);
	free(s);
}

static void
demo_session_reply(struct demo_session *s, const char *code, const char *text)
{
	evbuffer_add_printf(bufferevent_get_output(s->bev), "%s %s.demo.test %s\r\n", code,
			    s->r->name, text);
}

static void
demo_session_read(struct bufferevent *bev, void *arg)
{
	struct demo_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line;

	while (!s->closing && (line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		if (++s->ncmds > DEMO_SMTP_CMDS_MAX) {
			demo_session_reply(s, "421 4.7.0", "too many commands, closing");
			s->closing = true;
		} else if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
			demo_session_reply(s, "250", "hello");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			demo_session_reply(s, "221 2.0.0", "closing");
			s->closing = true;
		} else if (strncasecmp(line, "NOOP", 4) == 0 || strncasecmp(line, "RSET", 4) == 0) {
			demo_session_reply(s, "250 2.0.0", "ok");
		} else {
			demo_session_reply(s, "502 5.5.1", "a demo responder: not implemented");
		}
		free(line);
	}
	/* A line longer than SMTP allows ends the session. */
	if (!s->closing && evbuffer_get_length(in) > DEMO_SMTP_LINE_MAX) {
		demo_session_reply(s, "500 5.5.2", "line too long, closing");
		s->closing = true;
	}
	if (s->closing)
		bufferevent_disable(bev, EV_READ);
}

static void
demo_session_write(struct bufferevent *bev, void *arg)
{
	struct demo_session *s = arg;

	if (s->closing)
		demo_session_free(s);
}

static void
demo_session_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		demo_session_free(arg);
}

static void
demo_session_timeout(evutil_socket_t fd, short what, void *arg)
{
	demo_session_free(arg);
}

static void
demo_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int salen,
	    void *arg)
{
	struct demo_responder *r = arg;
	struct timeval tv = {DEMO_SMTP_SESSION_MS / 1000, 0};
	struct demo_session *s;

	if (r->nsessions >= DEMO_SMTP_SESSIONS_MAX || (s = calloc(1, sizeof(*s))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	s->r = r;
	s->bev = bufferevent_socket_new(r->d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->deadline = evtimer_new(r->d->base, demo_session_timeout, s);
	if (s->bev == NULL || s->deadline == NULL) {
		if (s->bev != NULL)
			bufferevent_free(s->bev);
		else
			evutil_closesocket(fd);
		if (s->deadline != NULL)
			event_free(s->deadline);
		free(s);
		return;
	}
	s->next = r->sessions;
	r->sessions = s;
	r->nsessions++;
	evtimer_add(s->deadline, &tv);
	bufferevent_setcb(s->bev, demo_session_read, demo_session_write, demo_session_event, s);
	bufferevent_enable(s->bev, EV_READ);
	demo_session_reply(s, "220", "ESMTP demo");
}

/* Listen on 127.0.0.1:r->port (0: any free port, read back into r->port). */
static int
demo_responder_start(struct demo_responder *r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(r->port)};
	socklen_t len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->lis = evconnlistener_new_bind(r->d->base, demo_accept, r,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						 LEV_OPT_CLOSE_ON_EXEC,
					 16, (struct sockaddr *)&sin, sizeof(sin));
	if (r->lis == NULL)
		return MXF_EIO;
	if (getsockname(evconnlistener_get_fd(r->lis), (struct sockaddr *)&sin, &len) != 0) {
		evconnlistener_free(r->lis);
		r->lis = NULL;
		return MXF_EIO;
	}
	r->port = ntohs(sin.sin_port);
	return 0;
}

/* Close the listener and every open session: the port refuses from now on. */
static void
demo_responder_stop(struct demo_responder *r)
{
	if (r->lis != NULL)
		evconnlistener_free(r->lis);
	r->lis = NULL;
	while (r->sessions != NULL)
		demo_session_free(r->sessions);
}

/* ---- the daemon's log ---- */

static void
demo_daemon_line(struct demo *d, char *line)
{
	static const char prefix[] = "mxfailover: ";

	if (strncmp(line, prefix, sizeof(prefix) - 1) == 0)
		line += sizeof(prefix) - 1;
	if (*line != '\0')
		printf("[%5.1fs]     daemon: %s\n", demo_elapsed(d), line);
}

static void
demo_daemon_read(evutil_socket_t fd, short what, void *arg)
{
	struct demo *d = arg;
	ssize_t n = read(fd, d->dline + d->dlen, sizeof(d->dline) - 1 - d->dlen);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The daemon closed its end (it exited): print what is left. */
		d->dline[d->dlen] = '\0';
		demo_daemon_line(d, d->dline);
		d->dlen = 0;
		event_del(d->daemon_ev);
		return;
	}
	d->dlen += (size_t)n;
	d->dline[d->dlen] = '\0';
	while ((nl = strchr(d->dline, '\n')) != NULL) {
		*nl = '\0';
		demo_daemon_line(d, d->dline);
		d->dlen -= (size_t)(nl + 1 - d->dline);
		memmove(d->dline, nl + 1, d->dlen + 1);
	}
	/* A line longer than the buffer is shown in pieces. */
	if (d->dlen == sizeof(d->dline) - 1) {
		demo_daemon_line(d, d->dline);
		d->dlen = 0;
	}
}

/* ---- reading records from named ---- */

static void
demo_soa_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct demo *d = arg;

	d->soa_done = true;
	d->soa_busy = false;
	d->soa_ok = status == 0 && rcode == LDNS_RCODE_NOERROR &&
		    ldns_rr_list_rr_count(ldns_pkt_answer(reply)) > 0;
}

static bool
demo_soa_answered(struct demo *d)
{
	return d->soa_done;
}

static void
demo_record_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct demo_record *rec = arg;
	char *owner = ldns_rdf2str(rec->owner);
	const char *o = owner != NULL ? owner : "?";

	rec->done = true;
	rec->d->pending--;
	rec->target[0] = '\0';
	if (status != 0) {
		snprintf(rec->line, sizeof(rec->line), "%-15s  (no answer: %s)", o, msg);
		goto out;
	}
	if (rcode != LDNS_RCODE_NOERROR) {
		ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, rcode);

		snprintf(rec->line, sizeof(rec->line), "%-15s  (%s)", o,
			 lt != NULL ? lt->name : "error");
		goto out;
	}
	snprintf(rec->line, sizeof(rec->line), "%-15s  (no CNAME)", o);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(reply)); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(reply), i);
		char *target;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
		    ldns_dname_compare(ldns_rr_owner(rr), rec->owner) != 0 ||
		    ldns_rr_rd_count(rr) < 1)
			continue;
		target = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (target == NULL)
			continue;
		snprintf(rec->target, sizeof(rec->target), "%s", target);
		snprintf(rec->line, sizeof(rec->line), "%-15s  %u  IN  CNAME  %s", o,
			 ldns_rr_ttl(rr), target);
		free(target);
		break;
	}
out:
	free(owner);
}

static bool
demo_reads_done(struct demo *d)
{
	return d->pending == 0;
}

/*
 * Read the five records once.  @return 0 when every read came back (each
 * record says what it found), else MXF_ETIMEDOUT, MXF_ECANCELED, MXF_ENOMEM.
 */
static int
demo_read_records(struct demo *d)
{
	int rc;

	/* A batch still in flight (after a timeout) finishes first. */
	rc = demo_run_until(d, demo_reads_done, DEMO_READ_MS);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < DEMO_NRECORDS; i++) {
		d->rec[i].done = false;
		if (dns_ops_read(d->ops, d->rec[i].owner, LDNS_RR_TYPE_CNAME, demo_record_cb,
				 &d->rec[i]) != 0)
			return MXF_ENOMEM;
		d->pending++;
	}
	return demo_run_until(d, demo_reads_done, DEMO_READ_MS);
}

static bool
demo_all_at(const struct demo *d, const char *server)
{
	char want[64];

	snprintf(want, sizeof(want), "%s.%s", server, DEMO_ZONE);
	for (size_t i = 0; i < DEMO_NRECORDS; i++)
		if (strcmp(d->rec[i].target, want) != 0)
			return false;
	return true;
}

static void
demo_print_records(const struct demo *d)
{
	for (size_t i = 0; i < DEMO_NRECORDS; i++)
		printf("            %s\n", d->rec[i].line);
}

/*
 * Poll the records until all five point at @server, for DEMO_MOVE_MS at
 * most.  @return 0, MXF_ETIMEDOUT, MXF_ECANCELED, or MXF_EIO when the
 * daemon exited meanwhile.
 */
static int
demo_wait_records(struct demo *d, const char *server)
{
	double end = demo_elapsed(d) + DEMO_MOVE_MS / 1000.0;
	int rc;

	for (;;) {
		rc = demo_read_records(d);
		if (rc == MXF_ECANCELED || rc == MXF_ENOMEM)
			return rc;
		if (rc == 0 && demo_all_at(d, server))
			return 0;
		if (d->daemon_exited)
			return MXF_EIO;
		if (demo_elapsed(d) >= end)
			return MXF_ETIMEDOUT;
		rc = demo_run_until(d, NULL, DEMO_POLL_MS);
		if (rc == MXF_ECANCELED)
			return rc;
	}
}

/* ---- set-up steps ---- */

static int
demo_make_key(struct demo *d, char *path, size_t pathlen)
{
	unsigned char secret[32];
	char b64[64], text[256], err[256];
	int rc;

	if (RAND_bytes(secret, sizeof(secret)) != 1) {
		demo_fail(d, "OpenSSL could not generate random bytes for the TSIG key");
		return MXF_EIO;
	}
	EVP_EncodeBlock((unsigned char *)b64, secret, sizeof(secret));
	OPENSSL_cleanse(secret, sizeof(secret));
	snprintf(text, sizeof(text),
		 "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n", DEMO_KEY_NAME,
		 b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	rc = demo_write(d, "demo.key", 0600, text, path, pathlen);
	OPENSSL_cleanse(text, sizeof(text));
	if (rc != 0)
		return rc;
	/* Read it back with the loader the daemon uses: the file is what counts. */
	rc = dns_keyfile_load(path, DEMO_KEY_NAME, &d->key, err, sizeof(err));
	if (rc != 0) {
		demo_fail(d, "the key file just written does not load: %s", err);
		return rc;
	}
	return 0;
}

static int
demo_write_zone(struct demo *d)
{
	char text[1024], path[PATH_MAX + 32];
	size_t off;

	off = (size_t)snprintf(text, sizeof(text),
			       "$ORIGIN " DEMO_ZONE "\n$TTL 300\n"
			       "@ IN SOA ns hostmaster 1 3600 600 86400 300\n"
			       "@ IN NS ns\n"
			       "ns IN A 127.0.0.1\n"
			       "mx1 IN A 127.0.0.1\n"
			       "mx2 IN A 127.0.0.1\n");
	for (size_t i = 0; i < DEMO_NRECORDS && off < sizeof(text); i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"%s 300 IN CNAME mx1." DEMO_ZONE "\n", demo_records[i]);
	return demo_write(d, "demo.test.db", 0644, text, path, sizeof(path));
}

static int
demo_write_named_conf(struct demo *d, char *path, size_t pathlen)
{
	char text[8192];
	const char *dir = d->dir;

	if ((size_t)snprintf(text, sizeof(text),
			     "include \"%s/demo.key\";\n"
			     "options {\n"
			     "\tdirectory \"%s\";\n"
			     "\tpid-file \"%s/named.pid\";\n"
			     "\tsession-keyfile \"%s/session.key\";\n"
			     "\tmanaged-keys-directory \"%s\";\n"
			     "\tdump-file \"%s/named.dump\";\n"
			     "\tstatistics-file \"%s/named.stats\";\n"
			     "\tlisten-on port %u { 127.0.0.1; };\n"
			     "\tlisten-on-v6 { none; };\n"
			     "\trecursion no;\n"
			     "\tdnssec-validation no;\n"
			     "\tnotify no;\n"
			     "\tallow-query { 127.0.0.1; };\n"
			     "\tallow-transfer { none; };\n"
			     "};\n"
			     "controls { };\n"
			     "zone \"%s\" {\n"
			     "\ttype primary;\n"
			     "\tfile \"%s/demo.test.db\";\n"
			     "\tupdate-policy { grant %s zonesub ANY; };\n"
			     "};\n",
			     dir, dir, dir, dir, dir, dir, dir, d->dns_port, DEMO_ZONE, dir,
			     DEMO_KEY_NAME) >= sizeof(text))
		return MXF_ETOOBIG;
	/* Each attempt (another port) rewrites it. */
	if ((size_t)snprintf(path, pathlen, "%s/named.conf", dir) < pathlen)
		unlink(path);
	return demo_write(d, "named.conf", 0644, text, path, pathlen);
}

/* Is "address in use" in named's log?  Then another port is worth a try. */
static bool
demo_named_port_busy(const struct demo *d)
{
	char path[PATH_MAX + 16], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/named.log", d->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strcasestr(buf, "address in use") != NULL;
}

/*
 * Free d->ops once no query is in flight.  dns_ops_free() does not cancel
 * exchanges in flight (their memory would leak and their events would stay
 * on the loop), so they are let end first: each has a 1 s deadline.
 */
static void
demo_ops_free(struct demo *d)
{
	double end = demo_elapsed(d) + 2.0;

	if (d->ops == NULL)
		return;
	while ((d->pending > 0 || d->soa_busy) && demo_elapsed(d) < end)
		event_base_loop(d->base, EVLOOP_ONCE);
	dns_ops_free(d->ops);
	d->ops = NULL;
}

static bool
demo_named_gone(struct demo *d)
{
	return d->named_exited;
}

/* Start named and wait until it answers the zone's SOA query. */
static int
demo_named_start(struct demo *d)
{
	char conf[PATH_MAX + 16], logp[PATH_MAX + 16];
	ldns_rdf *zone = ldns_dname_new_frm_str(DEMO_ZONE);
	int rc = MXF_EIO;

	if (zone == NULL)
		return MXF_ENOMEM;
	snprintf(logp, sizeof(logp), "%s/named.log", d->dir);
	for (int attempt = 0; attempt < DEMO_NAMED_ATTEMPTS; attempt++) {
		char *argv[] = {(char *)d->named_bin, "-g", "-c", conf, "-n", "1", NULL};
		double end;
		int logfd;

		if (demo_free_port(&d->dns_port) != 0) {
			demo_fail(d, "no port on 127.0.0.1 is free for both TCP and UDP");
			goto out;
		}
		rc = demo_write_named_conf(d, conf, sizeof(conf));
		if (rc != 0)
			goto out;
		logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (logfd < 0) {
			demo_fail(d, "cannot create %s: %s", logp, strerror(errno));
			rc = MXF_EIO;
			goto out;
		}
		d->named_exited = false;
		rc = demo_spawn(argv, logfd, &d->named_pid);
		close(logfd);
		if (rc != 0) {
			demo_fail(d, "cannot start %s: %s", d->named_bin, strerror(errno));
			goto out;
		}
		rc = dns_ops_new(d->base, "127.0.0.1", d->dns_port, d->key, 1000, &d->ops);
		if (rc != 0) {
			demo_fail(d, "cannot set up DNS queries: %s", mxf_strerror(rc));
			goto out;
		}
		end = demo_elapsed(d) + DEMO_NAMED_READY_MS / 1000.0;
		rc = MXF_ETIMEDOUT;
		while (demo_elapsed(d) < end && !d->named_exited) {
			d->soa_done = false;
			rc = dns_ops_read(d->ops, zone, LDNS_RR_TYPE_SOA, demo_soa_cb, d);
			if (rc != 0)
				goto out;
			d->soa_busy = true;
			rc = demo_run_until(d, demo_soa_answered, 2000);
			if (rc == MXF_ECANCELED)
				goto out;
			if (d->soa_ok) {
				rc = 0;
				goto out;
			}
			rc = demo_run_until(d, demo_named_gone, 100);
			if (rc == MXF_ECANCELED)
				goto out;
			rc = MXF_ETIMEDOUT;
		}
		demo_ops_free(d);
		if (!d->named_exited) {
			demo_fail(d, "named did not answer on 127.0.0.1:%u within %d s",
				  d->dns_port, DEMO_NAMED_READY_MS / 1000);
			demo_named_log_tail(d);
			goto out;
		}
		d->named_exited = false;
		if (!demo_named_port_busy(d)) {
			demo_fail(d, "named exited at start (status %d)",
				  WIFEXITED(d->named_status) ? WEXITSTATUS(d->named_status) : -1);
			demo_named_log_tail(d);
			rc = MXF_EIO;
			goto out;
		}
		demo_say(d, "port %u was taken meanwhile; trying another", d->dns_port);
	}
	demo_fail(d, "named could not bind a port on 127.0.0.1 (%d tries): something is busy",
		  DEMO_NAMED_ATTEMPTS);
	demo_named_log_tail(d);
	rc = MXF_EIO;
out:
	ldns_rdf_deep_free(zone);
	return rc;
}

static int
demo_write_config(struct demo *d, char *path, size_t pathlen)
{
	struct config_errors errs = {0};
	char text[8192];
	int rc;

	if ((size_t)snprintf(text, sizeof(text),
			     "; written by `mxfailover demo`; removed with its directory\n"
			     "[general]\n"
			     "interval = 1s\n"
			     "timeout = 1s\n"
			     "fall = 2\n"
			     "rise = 2\n"
			     "state_file = %s/state.json\n"
			     "log = stderr\n"
			     "\n[dns]\n"
			     "server = 127.0.0.1:%u\n"
			     "key_file = %s/demo.key\n"
			     "\n[server mx1]\n"
			     "address = 127.0.0.1\n"
			     "name = mx1." DEMO_ZONE "\n"
			     "checks = smtp://127.0.0.1:%u\n"
			     "\n[server mx2]\n"
			     "address = 127.0.0.1\n"
			     "name = mx2." DEMO_ZONE "\n"
			     "checks = smtp://127.0.0.1:%u\n"
			     "\n[group mail]\n"
			     "servers = mx1 mx2\n"
			     "zones = " DEMO_ZONE "\n"
			     "records = mx smtp imap mail pop3\n"
			     "type = CNAME\n"
			     "failback = auto\n"
			     "hold_down = 0\n"
			     "etrn = no\n",
			     d->dir, d->dns_port, d->dir, d->mx[0].port,
			     d->mx[1].port) >= sizeof(text))
		return MXF_ETOOBIG;
	/* Parsed here too: the state file is read against it, and a mistake
	 * here is ours, better said before the daemon starts. */
	rc = config_load_string("demo config", text, &d->cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		demo_fail(d, "demo config line %d: %s", errs.v[i].line, errs.v[i].msg);
	config_errors_free(&errs);
	if (rc != 0)
		return rc;
	return demo_write(d, "mxfailover.conf", 0644, text, path, pathlen);
}

static int
demo_daemon_start(struct demo *d, const char *conf)
{
	char exe[PATH_MAX];
	char *argv[] = {exe, "-c", (char *)conf, "run", NULL};
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int p[2];

	if (n <= 0) {
		demo_fail(d, "cannot find my own executable: %s", strerror(errno));
		return MXF_EIO;
	}
	exe[n] = '\0';
	if (pipe2(p, O_CLOEXEC) != 0) {
		demo_fail(d, "pipe: %s", strerror(errno));
		return MXF_EIO;
	}
	if (demo_spawn(argv, p[1], &d->daemon_pid) != 0) {
		demo_fail(d, "cannot start %s: %s", exe, strerror(errno));
		close(p[0]);
		close(p[1]);
		return MXF_EIO;
	}
	close(p[1]);
	evutil_make_socket_nonblocking(p[0]);
	d->daemon_fd = p[0];
	d->daemon_ev = event_new(d->base, p[0], EV_READ | EV_PERSIST, demo_daemon_read, d);
	if (d->daemon_ev == NULL || event_add(d->daemon_ev, NULL) != 0) {
		demo_fail(d, "out of memory");
		return MXF_ENOMEM;
	}
	return 0;
}

/* Has the daemon seen both servers UP (from its state file)? */
static bool
demo_daemon_ready(struct demo *d)
{
	char path[PATH_MAX + 16], err[256];
	struct state *st = NULL;
	bool up;

	if (d->daemon_exited)
		return true;
	snprintf(path, sizeof(path), "%s/state.json", d->dir);
	if (state_load(path, d->cfg, &st, err, sizeof(err)) != 0)
		return false;
	up = st->health->servers[0].state == HEALTH_UP && st->health->servers[1].state == HEALTH_UP;
	state_free(st);
	return up;
}

static void
demo_daemon_died(const struct demo *d)
{
	int st = d->daemon_status;

	if (WIFEXITED(st))
		demo_fail(d, "the daemon exited with status %d (its log is above)",
			  WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		demo_fail(d, "the daemon was killed by signal %d", WTERMSIG(st));
}

/* ---- the demo ---- */

static int
demo_setup(struct demo *d)
{
	const char *tmp = getenv("TMPDIR");
	struct timeval tick = {0, DEMO_TICK_MS * 1000};

	d->base = event_base_new();
	if (d->base == NULL)
		return MXF_ENOMEM;
	d->tick = event_new(d->base, -1, EV_PERSIST, demo_tick_cb, d);
	d->sigint = evsignal_new(d->base, SIGINT, demo_signal_cb, d);
	d->sigterm = evsignal_new(d->base, SIGTERM, demo_signal_cb, d);
	if (d->tick == NULL || d->sigint == NULL || d->sigterm == NULL ||
	    event_add(d->tick, &tick) != 0 || event_add(d->sigint, NULL) != 0 ||
	    event_add(d->sigterm, NULL) != 0)
		return MXF_ENOMEM;
	for (size_t i = 0; i < DEMO_NRECORDS; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s.%s", demo_records[i], DEMO_ZONE);
		d->rec[i].d = d;
		d->rec[i].owner = ldns_dname_new_frm_str(name);
		if (d->rec[i].owner == NULL)
			return MXF_ENOMEM;
	}
	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(d->dir, sizeof(d->dir), "%s/mxfailover-demo.XXXXXX", tmp) >=
		    sizeof(d->dir) ||
	    mkdtemp(d->dir) == NULL) {
		demo_fail(d, "cannot make a temporary directory under %s: %s", tmp,
			  strerror(errno));
		d->dir[0] = '\0';
		return MXF_EIO;
	}
	return 0;
}

static void
demo_cleanup(struct demo *d, bool keep)
{
	bool had_daemon = d->daemon_pid > 0, had_named = d->named_pid > 0;

	demo_stop_child(&d->daemon_pid, &d->daemon_status, &d->daemon_exited, DEMO_DAEMON_STOP_MS);
	/* Its last lines (the "stopping" notice) are still in the pipe. */
	if (d->daemon_fd >= 0 && d->daemon_ev != NULL)
		for (int i = 0; i < 16 && event_pending(d->daemon_ev, EV_READ, NULL); i++)
			demo_daemon_read(d->daemon_fd, EV_READ, d);
	demo_stop_child(&d->named_pid, &d->named_status, &d->named_exited, DEMO_NAMED_STOP_MS);
	if (had_daemon || had_named)
		demo_say(d, "stopped %s%s%s", had_daemon ? "the daemon" : "",
			 had_daemon && had_named ? " and " : "", had_named ? "named" : "");
	for (size_t i = 0; i < 2; i++)
		demo_responder_stop(&d->mx[i]);
	demo_ops_free(d);
	if (d->daemon_ev != NULL)
		event_free(d->daemon_ev);
	if (d->daemon_fd >= 0)
		close(d->daemon_fd);
	for (size_t i = 0; i < DEMO_NRECORDS; i++)
		if (d->rec[i].owner != NULL)
			ldns_rdf_deep_free(d->rec[i].owner);
	if (d->tick != NULL)
		event_free(d->tick);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->base != NULL)
		event_base_free(d->base);
	config_free(d->cfg);
	dns_tsig_key_free(d->key);
	if (d->dir[0] != '\0') {
		if (keep) {
			demo_say(d, "kept the lab directory %s", d->dir);
		} else {
			nftw(d->dir, demo_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
			demo_say(d, "removed %s", d->dir);
		}
	}
}

int
demo_main(const struct demo_options *opts)
{
	struct demo dd = {.daemon_fd = -1}, *d = &dd;
	char key_path[PATH_MAX + 16], mxf_conf[PATH_MAX + 32];
	double t_stop = 0, failover_s = -1, failback_s = -1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &d->t0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	d->named_bin = opts->named != NULL ? opts->named : DEMO_NAMED;
	if (access(d->named_bin, X_OK) != 0) {
		fprintf(stderr,
			"mxfailover: demo: %s is not installed; the demo needs BIND's named.\n"
			"Run `./dev demo` from the source tree (it installs what is missing), or\n"
			"`apt-get install bind9` and try again.\n",
			d->named_bin);
		return MXF_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	d->mx[0] = (struct demo_responder){.d = d, .name = "mx1"};
	d->mx[1] = (struct demo_responder){.d = d, .name = "mx2"};

	printf("mxfailover demo: a throw-away lab on 127.0.0.1 -- named, two mail servers\n"
	       "and the daemon; mx1 fails, the records move to mx2, mx1 returns, they move\n"
	       "back.  Ctrl-C stops it and cleans up.\n\n");
	rc = demo_setup(d);
	if (rc != 0)
		goto fail;
	demo_say(d, "lab directory %s", d->dir);
	rc = demo_make_key(d, key_path, sizeof(key_path));
	if (rc != 0)
		goto fail;
	demo_say(d, "TSIG key %s (hmac-sha256, 256 random bits) in %s", DEMO_KEY_NAME, key_path);
	rc = demo_write_zone(d);
	if (rc != 0)
		goto fail;
	rc = demo_named_start(d);
	if (rc != 0)
		goto fail;
	demo_say(d, "named (pid %ld) serves zone %s on 127.0.0.1:%u, updates by key %s",
		 (long)d->named_pid, DEMO_ZONE, d->dns_port, DEMO_KEY_NAME);

	for (size_t i = 0; i < 2; i++) {
		if (demo_responder_start(&d->mx[i]) != 0) {
			demo_fail(d, "cannot listen on 127.0.0.1 for %s: %s", d->mx[i].name,
				  strerror(errno));
			rc = MXF_EIO;
			goto fail;
		}
	}
	demo_say(d, "SMTP responders: mx1 on 127.0.0.1:%u, mx2 on 127.0.0.1:%u", d->mx[0].port,
		 d->mx[1].port);

	rc = demo_read_records(d);
	if (rc != 0)
		goto fail;
	demo_say(d, "the records, read from named with key %s:", DEMO_KEY_NAME);
	demo_print_records(d);
	if (!demo_all_at(d, "mx1")) {
		demo_fail(d, "the zone does not hold what was written");
		rc = MXF_EIO;
		goto fail;
	}

	rc = demo_write_config(d, mxf_conf, sizeof(mxf_conf));
	if (rc != 0)
		goto fail;
	rc = demo_daemon_start(d, mxf_conf);
	if (rc != 0)
		goto fail;
	demo_say(d, "started `mxfailover -c %s run` (pid %ld): interval 1s, fall 2, rise 2",
		 mxf_conf, (long)d->daemon_pid);
	rc = demo_run_until(d, demo_daemon_ready, DEMO_DAEMON_READY_MS);
	if (rc == 0 && d->daemon_exited) {
		demo_daemon_died(d);
		rc = MXF_EIO;
	} else if (rc == MXF_ETIMEDOUT) {
		demo_fail(d, "the daemon did not report both servers up within %d s",
			  DEMO_DAEMON_READY_MS / 1000);
	}
	if (rc != 0)
		goto fail;
	demo_say(d, "the daemon sees mx1 and mx2 up");

	demo_responder_stop(&d->mx[0]);
	t_stop = demo_elapsed(d);
	demo_say(d, "stopping mx1: its SMTP port now refuses connections");
	rc = demo_wait_records(d, "mx2");
	if (rc != 0)
		goto moved;
	failover_s = demo_elapsed(d) - t_stop;
	demo_say(d, "all five records point at mx2, %.1f s after mx1 stopped:", failover_s);
	demo_print_records(d);

	rc = demo_responder_start(&d->mx[0]);
	if (rc != 0) {
		demo_fail(d, "cannot listen on 127.0.0.1:%u again for mx1: %s", d->mx[0].port,
			  strerror(errno));
		goto fail;
	}
	t_stop = demo_elapsed(d);
	demo_say(d, "bringing mx1 back on 127.0.0.1:%u", d->mx[0].port);
	rc = demo_wait_records(d, "mx1");
	if (rc != 0)
		goto moved;
	failback_s = demo_elapsed(d) - t_stop;
	demo_say(d, "all five records point back at mx1, %.1f s after it returned:", failback_s);
	demo_print_records(d);

moved:
	if (rc == MXF_ETIMEDOUT) {
		demo_fail(d, "the records did not move within %d s; as last read:",
			  DEMO_MOVE_MS / 1000);
		demo_print_records(d);
	} else if (rc == MXF_EIO && d->daemon_exited) {
		demo_daemon_died(d);
	}
fail:
	if (d->signo != 0)
		printf("\n[%5.1fs] interrupted (%s): cleaning up\n", demo_elapsed(d),
		       d->signo == SIGINT ? "Ctrl-C" : "SIGTERM");
	demo_cleanup(d, opts->keep);
	if (failover_s >= 0 && failback_s >= 0) {
		printf("\nfailover took %.1f s, failback took %.1f s (interval 1 s, fall 2, rise "
		       "2)\n",
		       failover_s, failback_s);
		return MXF_EXIT_OK;
	}
	if (failover_s < 0)
		printf("\ndemo incomplete: neither the failover nor the failback was seen\n");
	else
		printf("\ndemo incomplete: the failover took %.1f s, but the failback was not "
		       "seen\n",
		       failover_s);
	return MXF_EXIT_DEGRADED;
}

/*
 * cmd_demo -- `mxfailover demo [--keep] [--named PATH]`; see demo_main().  The global -c
 * is ignored: the demo writes its own configuration.
 */
int
cmd_demo(struct mxf_ctx *ctx, int argc, char **argv)
{
	struct demo_options opts = {0};

	(void)ctx;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep") == 0)
			opts.keep = true;
		else if (strcmp(argv[i], "--named") == 0 && i + 1 < argc)
			opts.named = argv[++i];
		else
			return cmd_usage_error("demo", "unknown argument '%s'", argv[i]);
	}
	return demo_main(&opts);
}
