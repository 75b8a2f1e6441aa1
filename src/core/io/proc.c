/*
 * proc.c -- running a local program on the event loop (proc.h): posix_spawn
 * without a shell, one bounded output pipe, the exit seen through a pidfd
 * (or a 20 ms poll timer where pidfds are missing), an optional kill
 * deadline, and the whole process group killed when the caller gives up.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "mxf.h"

/* How often the exit is polled for without a pidfd. */
#define PROC_POLL_US 20000

extern char **environ;

struct proc {
	proc_done_fn done;
	void *arg;
	pid_t pid;            /* 0 once reaped */
	int pidfd;            /* -1: poll with the timer */
	int outfd;
	bool timed_out;       /* the deadline killed it */
	struct event *out_ev;
	struct event *exit_ev;
	struct event *kill_ev;
	size_t len;
	char out[PROC_OUT_MAX + 1];
};

/* Read what the pipe holds now; keep up to PROC_OUT_MAX bytes, drop the rest. */
static void
proc_drain(struct proc *p)
{
	char junk[4096];

	for (int i = 0; i < 1024 && p->outfd >= 0; i++) {
		size_t room = PROC_OUT_MAX - p->len;
		ssize_t n = room > 0 ? read(p->outfd, p->out + p->len, room)
				     : read(p->outfd, junk, sizeof(junk));

		if (n > 0) {
			if (room > 0)
				p->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			/* EOF: every writer is gone. */
			event_del(p->out_ev);
			close(p->outfd);
			p->outfd = -1;
		}
		break;
	}
	p->out[p->len] = '\0';
}

static void
proc_out_cb(evutil_socket_t fd, short what, void *arg)
{
	proc_drain(arg);
}

static void
proc_poll_later(struct proc *p)
{
	struct timeval tv = {0, PROC_POLL_US};

	evtimer_add(p->exit_ev, &tv);
}

static void
proc_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	int st = 0;
	pid_t r;

	r = waitpid(p->pid, &st, WNOHANG);
	if (r == 0) {
		if (p->pidfd < 0)
			proc_poll_later(p);
		return;
	}
	p->pid = 0;
	if (p->kill_ev != NULL)
		event_del(p->kill_ev);
	/* The child is gone: what it wrote is in the pipe now. */
	proc_drain(p);
	/* Last use of @p: the callback may free it. */
	p->done(p->arg, r < 0 ? -1 : st, p->out, p->len);
}

static void
proc_kill_group(struct proc *p)
{
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
}

static void
proc_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	if (p->pid <= 0)
		return;
	/* The exit event then reports the killed child as any other exit. */
	p->timed_out = true;
	proc_kill_group(p);
}

void
proc_free(struct proc *p)
{
	if (p == NULL)
		return;
	if (p->pid > 0) {
		proc_kill_group(p);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (p->out_ev != NULL)
		event_free(p->out_ev);
	if (p->exit_ev != NULL)
		event_free(p->exit_ev);
	if (p->kill_ev != NULL)
		event_free(p->kill_ev);
	if (p->outfd >= 0)
		close(p->outfd);
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p);
}

/*
 * Spawn @argv for @p (no shell, own process group, stdout+stderr into one
 * pipe) and arm its events on @base.  @envp NULL: our own environment.
 * @return 0, or a negative MXF_E* with @err saying why; @p is then left
 * for proc_free().
 */
static int
proc_start(struct proc *p, struct event_base *base, char *const argv[], char *const envp[],
	   char *err, size_t errsize)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, deflt;
	int pfd[2] = {-1, -1};
	int rc;

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		return MXF_EIO;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&deflt);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&p->pid, argv[0], &fa, &attr, argv, envp != NULL ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pfd[1]);
	p->outfd = pfd[0];
	if (rc != 0) {
		p->pid = 0;
		snprintf(err, errsize, "cannot run %s: %s", argv[0], strerror(rc));
		return MXF_EIO;
	}
	fcntl(p->outfd, F_SETFL, fcntl(p->outfd, F_GETFL) | O_NONBLOCK);
#ifdef SYS_pidfd_open
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
#endif
	p->out_ev = event_new(base, p->outfd, EV_READ | EV_PERSIST, proc_out_cb, p);
	if (p->pidfd >= 0)
		p->exit_ev = event_new(base, p->pidfd, EV_READ, proc_exit_cb, p);
	else
		p->exit_ev = evtimer_new(base, proc_exit_cb, p);
	p->kill_ev = evtimer_new(base, proc_kill_cb, p);
	if (p->out_ev == NULL || p->exit_ev == NULL || p->kill_ev == NULL) {
		snprintf(err, errsize, "out of memory");
		return MXF_ENOMEM;
	}
	event_add(p->out_ev, NULL);
	if (p->pidfd >= 0)
		event_add(p->exit_ev, NULL);
	else
		proc_poll_later(p);
	return 0;
}

int
proc_run(struct event_base *base, char *const argv[], char *const envp[], proc_done_fn done,
	 void *arg, struct proc **out, char *err, size_t errsize)
{
	struct proc *p;
	int rc;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errsize, "out of memory");
		return MXF_ENOMEM;
	}
	p->done = done;
	p->arg = arg;
	p->outfd = -1;
	p->pidfd = -1;
	rc = proc_start(p, base, argv, envp, err, errsize);
	if (rc != 0) {
		proc_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int
proc_set_deadline(struct proc *p, uint64_t ms)
{
	struct timeval tv;

	if (p->kill_ev == NULL)
		return MXF_ENOMEM;
	tv = clock_timeval(ms);
	return evtimer_add(p->kill_ev, &tv) == 0 ? 0 : MXF_ENOMEM;
}

bool
proc_timed_out(const struct proc *p)
{
	return p->timed_out;
}
