/*
 * check_proc.c -- running a local program for a check (exec:, ssh-*):
 * posix_spawn without a shell, stdin from /dev/null, stdout and stderr into
 * one pipe of which at most CHECK_PROC_MAX_OUT bytes are kept (the rest is
 * read and dropped, so the child never blocks on a full pipe), exit noticed
 * through a pidfd on the event loop (no SIGCHLD handler to share with the
 * daemon; a short poll timer where pidfds are missing).  The child gets its
 * own process group, and the whole group is killed when the check ends
 * first (deadline), so a plugin's own children die with it.
 *
 * check_proc_run() (check_proc.h) offers the same to modules outside the
 * engine -- notify's exec hook -- with an environment of their own.
 */
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

#include "check_impl.h"
#include "check_proc.h"
#include "mxf.h"

#define CHECK_PROC_MAX_OUT 4096

extern char **environ;

struct check_proc {
	struct check *c;      /* NULL when started by check_proc_run() */
	check_proc_run_fn run_done;
	void *run_arg;
	pid_t pid;            /* 0 once reaped */
	int pidfd;            /* -1: poll with the timer */
	int outfd;
	struct event *out_ev;
	struct event *exit_ev;
	check_proc_done_fn done;
	size_t len;
	char out[CHECK_PROC_MAX_OUT + 1];
};

static void
proc_drain(struct check_proc *p)
{
	char junk[4096];

	for (int i = 0; i < 1024 && p->outfd >= 0; i++) {
		ssize_t n;
		size_t room = CHECK_PROC_MAX_OUT - p->len;

		if (room > 0)
			n = read(p->outfd, p->out + p->len, room);
		else
			n = read(p->outfd, junk, sizeof(junk));
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
proc_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check_proc *p = arg;
	int st = 0;
	pid_t r;

	r = waitpid(p->pid, &st, WNOHANG);
	if (r == 0) {
		if (p->pidfd < 0) {
			struct timeval tv = {0, 20000};
			evtimer_add(p->exit_ev, &tv);
		}
		return;
	}
	p->pid = 0;
	/* The child is gone: what it wrote is in the pipe now. */
	proc_drain(p);
	if (p->c != NULL)
		p->done(p->c, r < 0 ? -1 : st, p->out, p->len);
	else
		p->run_done(p->run_arg, r < 0 ? -1 : st, p->out, p->len);
}

void
check_proc_free(struct check_proc *p)
{
	if (p == NULL)
		return;
	if (p->pid > 0) {
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (p->out_ev != NULL)
		event_free(p->out_ev);
	if (p->exit_ev != NULL)
		event_free(p->exit_ev);
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
 * for check_proc_free().
 */
static int
proc_start(struct check_proc *p, struct event_base *base, char *const argv[],
	   char *const envp[], char *err, size_t errsize)
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
	if (p->out_ev == NULL || p->exit_ev == NULL) {
		snprintf(err, errsize, "out of memory");
		return MXF_ENOMEM;
	}
	event_add(p->out_ev, NULL);
	if (p->pidfd >= 0) {
		event_add(p->exit_ev, NULL);
	} else {
		struct timeval tv = {0, 20000};
		evtimer_add(p->exit_ev, &tv);
	}
	return 0;
}

int
check_proc_spawn(struct check *c, char *const argv[], check_proc_done_fn done)
{
	struct check_proc *p;
	char err[CHECK_REASON_MAX];
	int rc;

	check_set_phase(c, CHECK_PHASE_EXEC);
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		check_finish(c, CHECK_STATE_DOWN, "out of memory");
		return MXF_ENOMEM;
	}
	p->c = c;
	p->done = done;
	p->outfd = -1;
	p->pidfd = -1;
	check_set_proc(c, p);
	rc = proc_start(p, check_base(c), argv, NULL, err, sizeof(err));
	if (rc != 0)
		check_finish(c, CHECK_STATE_DOWN, "%s", err);
	return rc;
}

int
check_proc_run(struct event_base *base, char *const argv[], char *const envp[],
	       check_proc_run_fn done, void *arg, struct check_proc **out, char *err,
	       size_t errsize)
{
	struct check_proc *p;
	int rc;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errsize, "out of memory");
		return MXF_ENOMEM;
	}
	p->run_done = done;
	p->run_arg = arg;
	p->outfd = -1;
	p->pidfd = -1;
	rc = proc_start(p, base, argv, envp, err, errsize);
	if (rc != 0) {
		check_proc_free(p);
		return rc;
	}
	*out = p;
	return 0;
}
