/*
 * demo_lab.c -- the demo's lab: a temporary directory with a TSIG key, the
 * zone, named.conf and the daemon's config, and the two children it starts
 * there, named and `mxfailover run` (see demo_impl.h).
 *
 * Children run in their own process groups, so a Ctrl-C on the terminal
 * reaches only the demo, which then stops them in order; and they get
 * SIGTERM from the kernel should the demo itself be killed.  They are
 * stopped and reaped by pid, never by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "config.h"
#include "demo_impl.h"
#include "dns_keyfile.h"
#include "dns_ops.h"
#include "dns_tsig.h"
#include "health.h"
#include "mxf.h"
#include "state.h"

/* ---- files ---- */

/* Write @text to DIR/@name with @mode, refusing to follow or reuse a file. */
static int
demo_lab_write(const struct demo *d, const char *name, mode_t mode, const char *text, char *path,
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

/*
 * Read named's log into @buf (NUL-terminated): its first @size - 1 bytes,
 * or with @tail its last ones.  @path receives the log's path.  @return the
 * bytes read, 0 when there is no log or it is empty.
 */
static size_t
demo_lab_named_log(const struct demo *d, char *buf, size_t size, bool tail, char *path,
		   size_t pathlen)
{
	ssize_t n;
	off_t end;
	int fd;

	snprintf(path, pathlen, "%s/named.log", d->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	end = tail ? lseek(fd, 0, SEEK_END) : 0;
	if (end > (off_t)size - 1)
		lseek(fd, end - (off_t)size + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (size_t)n;
}

/* Print the last lines of named's log, indented, when it did not start. */
static void
demo_lab_named_log_tail(const struct demo *d)
{
	char path[PATH_MAX + 16], buf[2048];

	if (demo_lab_named_log(d, buf, sizeof(buf), true, path, sizeof(path)) == 0)
		return;
	printf("          named's log (%s), last lines:\n", path);
	for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n"))
		printf("            %s\n", line);
}

/* Is "address in use" in named's log?  Then another port is worth a try. */
static bool
demo_lab_named_port_busy(const struct demo *d)
{
	char path[PATH_MAX + 16], buf[8192];

	return demo_lab_named_log(d, buf, sizeof(buf), false, path, sizeof(path)) > 0 &&
	       strcasestr(buf, "address in use") != NULL;
}

static int
demo_lab_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (remove(path) != 0 && errno != ENOENT)
		fprintf(stderr, "mxfailover: demo: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

void
demo_lab_remove(struct demo *d, bool keep)
{
	if (d->dir[0] == '\0')
		return;
	if (keep) {
		demo_say(d, "kept the lab directory %s", d->dir);
	} else {
		nftw(d->dir, demo_lab_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		demo_say(d, "removed %s", d->dir);
	}
}

/* ---- ports ---- */

/*
 * A port on 127.0.0.1 that is free for both TCP and UDP now (named needs
 * both).  The kernel picks it; there is a window until named binds it, which
 * demo_lab_named_start covers by trying again with another port.
 */
static int
demo_lab_free_port(uint16_t *port)
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
demo_lab_spawn(char *const argv[], int out_fd, struct demo_child *c)
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
	c->pid = p;
	c->exited = false;
	return 0;
}

/* SIGTERM, then SIGKILL after @ms; reaps.  Only our own child, by its pid. */
static void
demo_lab_stop_child(struct demo_child *c, uint64_t ms)
{
	struct timespec pause = {0, 20 * 1000 * 1000};
	uint64_t waited = 0;

	if (c->pid <= 0)
		return;
	kill(c->pid, SIGTERM);
	for (;;) {
		pid_t r = waitpid(c->pid, &c->status, WNOHANG);

		if (r == c->pid || (r < 0 && errno == ECHILD))
			break;
		if (waited >= ms) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &c->status, 0);
			break;
		}
		nanosleep(&pause, NULL);
		waited += 20;
	}
	c->pid = 0;
	c->exited = true;
}

static void
demo_lab_reap_child(struct demo_child *c)
{
	int st;

	if (c->pid > 0 && waitpid(c->pid, &st, WNOHANG) == c->pid) {
		c->pid = 0;
		c->exited = true;
		c->status = st;
	}
}

void
demo_lab_reap(evutil_socket_t fd, short what, void *arg)
{
	struct demo *d = arg;

	demo_lab_reap_child(&d->named);
	demo_lab_reap_child(&d->daemon);
}

void
demo_lab_stop(struct demo *d)
{
	bool had_daemon = d->daemon.pid > 0, had_named = d->named.pid > 0;

	demo_lab_stop_child(&d->daemon, DEMO_DAEMON_STOP_MS);
	/* Its last lines (the "stopping" notice) are still in the pipe. */
	if (d->daemon_fd >= 0 && d->daemon_ev != NULL)
		for (int i = 0; i < 16 && event_pending(d->daemon_ev, EV_READ, NULL); i++)
			demo_show_daemon_read(d->daemon_fd, EV_READ, d);
	demo_lab_stop_child(&d->named, DEMO_NAMED_STOP_MS);
	if (had_daemon || had_named)
		demo_say(d, "stopped %s%s%s", had_daemon ? "the daemon" : "",
			 had_daemon && had_named ? " and " : "", had_named ? "named" : "");
}

/* ---- the key and the zone ---- */

int
demo_lab_make_key(struct demo *d, char *path, size_t pathlen)
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
	rc = demo_lab_write(d, "demo.key", 0600, text, path, pathlen);
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

int
demo_lab_write_zone(struct demo *d)
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
	return demo_lab_write(d, "demo.test.db", 0644, text, path, sizeof(path));
}

/* ---- named ---- */

static int
demo_lab_write_named_conf(struct demo *d, char *path, size_t pathlen)
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
	return demo_lab_write(d, "named.conf", 0644, text, path, pathlen);
}

void
demo_lab_ops_free(struct demo *d)
{
	double end = demo_elapsed(d) + 2.0;

	/* dns_ops_free() does not cancel exchanges in flight (their memory
	 * would leak and their events would stay on the loop), so they are
	 * let end first. */
	if (d->ops == NULL)
		return;
	while ((d->pending > 0 || d->soa_busy) && demo_elapsed(d) < end)
		event_base_loop(d->base, EVLOOP_ONCE);
	dns_ops_free(d->ops);
	d->ops = NULL;
}

static void
demo_lab_soa_cb(int status, int rcode, const ldns_pkt *reply, const char *msg, void *arg)
{
	struct demo *d = arg;

	d->soa_done = true;
	d->soa_busy = false;
	d->soa_ok = status == 0 && rcode == LDNS_RCODE_NOERROR &&
		    ldns_rr_list_rr_count(ldns_pkt_answer(reply)) > 0;
}

static bool
demo_lab_soa_answered(struct demo *d)
{
	return d->soa_done;
}

static bool
demo_lab_named_gone(struct demo *d)
{
	return d->named.exited;
}

/*
 * Ask for the SOA until named answers it, exits, or DEMO_NAMED_READY_MS
 * pass.  @return 0 when it answered, MXF_ETIMEDOUT otherwise (named may
 * have exited), MXF_ECANCELED, or what dns_ops_read() failed with.
 */
static int
demo_lab_named_wait(struct demo *d, const ldns_rdf *zone)
{
	double end = demo_elapsed(d) + DEMO_NAMED_READY_MS / 1000.0;
	int rc = MXF_ETIMEDOUT;

	while (demo_elapsed(d) < end && !d->named.exited) {
		d->soa_done = false;
		rc = dns_ops_read(d->ops, zone, LDNS_RR_TYPE_SOA, demo_lab_soa_cb, d);
		if (rc != 0)
			return rc;
		d->soa_busy = true;
		rc = demo_run_until(d, demo_lab_soa_answered, 2000);
		if (rc == MXF_ECANCELED)
			return rc;
		if (d->soa_ok)
			return 0;
		rc = demo_run_until(d, demo_lab_named_gone, 100);
		if (rc == MXF_ECANCELED)
			return rc;
		rc = MXF_ETIMEDOUT;
	}
	return rc;
}

int
demo_lab_named_start(struct demo *d)
{
	char conf[PATH_MAX + 16], logp[PATH_MAX + 16];
	ldns_rdf *zone = ldns_dname_new_frm_str(DEMO_ZONE);
	int rc = MXF_EIO;

	if (zone == NULL)
		return MXF_ENOMEM;
	snprintf(logp, sizeof(logp), "%s/named.log", d->dir);
	for (int attempt = 0; attempt < DEMO_NAMED_ATTEMPTS; attempt++) {
		char *argv[] = {(char *)d->named_bin, "-g", "-c", conf, "-n", "1", NULL};
		int logfd;

		if (demo_lab_free_port(&d->dns_port) != 0) {
			demo_fail(d, "no port on 127.0.0.1 is free for both TCP and UDP");
			goto out;
		}
		rc = demo_lab_write_named_conf(d, conf, sizeof(conf));
		if (rc != 0)
			goto out;
		logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (logfd < 0) {
			demo_fail(d, "cannot create %s: %s", logp, strerror(errno));
			rc = MXF_EIO;
			goto out;
		}
		rc = demo_lab_spawn(argv, logfd, &d->named);
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
		rc = demo_lab_named_wait(d, zone);
		if (rc != MXF_ETIMEDOUT)
			goto out;
		demo_lab_ops_free(d);
		if (!d->named.exited) {
			demo_fail(d, "named did not answer on 127.0.0.1:%u within %d s",
				  d->dns_port, DEMO_NAMED_READY_MS / 1000);
			demo_lab_named_log_tail(d);
			goto out;
		}
		d->named.exited = false;
		if (!demo_lab_named_port_busy(d)) {
			demo_fail(d, "named exited at start (status %d)",
				  WIFEXITED(d->named.status) ? WEXITSTATUS(d->named.status) : -1);
			demo_lab_named_log_tail(d);
			rc = MXF_EIO;
			goto out;
		}
		demo_say(d, "port %u was taken meanwhile; trying another", d->dns_port);
	}
	demo_fail(d, "named could not bind a port on 127.0.0.1 (%d tries): something is busy",
		  DEMO_NAMED_ATTEMPTS);
	demo_lab_named_log_tail(d);
	rc = MXF_EIO;
out:
	ldns_rdf_deep_free(zone);
	return rc;
}

/* ---- the daemon ---- */

int
demo_lab_write_config(struct demo *d, char *path, size_t pathlen)
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
	return demo_lab_write(d, "mxfailover.conf", 0644, text, path, pathlen);
}

int
demo_lab_daemon_start(struct demo *d, const char *conf)
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
	if (demo_lab_spawn(argv, p[1], &d->daemon) != 0) {
		demo_fail(d, "cannot start %s: %s", exe, strerror(errno));
		close(p[0]);
		close(p[1]);
		return MXF_EIO;
	}
	close(p[1]);
	evutil_make_socket_nonblocking(p[0]);
	d->daemon_fd = p[0];
	d->daemon_ev = event_new(d->base, p[0], EV_READ | EV_PERSIST, demo_show_daemon_read, d);
	if (d->daemon_ev == NULL || event_add(d->daemon_ev, NULL) != 0) {
		demo_fail(d, "out of memory");
		return MXF_ENOMEM;
	}
	return 0;
}

bool
demo_lab_daemon_ready(struct demo *d)
{
	char path[PATH_MAX + 16], err[256];
	struct state *st = NULL;
	bool up;

	if (d->daemon.exited)
		return true;
	snprintf(path, sizeof(path), "%s/state.json", d->dir);
	if (state_load(path, d->cfg, &st, err, sizeof(err)) != 0)
		return false;
	up = st->health->servers[0].state == HEALTH_UP && st->health->servers[1].state == HEALTH_UP;
	state_free(st);
	return up;
}

void
demo_lab_daemon_died(const struct demo *d)
{
	int st = d->daemon.status;

	if (WIFEXITED(st))
		demo_fail(d, "the daemon exited with status %d (its log is above)",
			  WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		demo_fail(d, "the daemon was killed by signal %d", WTERMSIG(st));
}
