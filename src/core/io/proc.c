/*
 * proc.c -- running a local program on the event loop (proc.h): posix_spawn
 * without a shell, one bounded output pipe, the exit seen through a pidfd
 * (or a 20 ms poll timer where pidfds are missing), an optional kill
 * deadline, and the whole process group killed when the caller gives up.
 *
 * Nothing here ever waits for a process: every waitpid() is WNOHANG.  A
 * process killed but not yet reaped when its owner lets go is handed to
 * the graveyard, a small fixed table polled by one timer, which reaps it
 * when it finally dies and reports it once (log_warn) when it has not died
 * PROC_KILL_GRACE_MS after SIGKILL: a plugin in uninterruptible sleep, or
 * one held by a tracer, must cost the loop nothing.
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
#include "log.h"
#include "mxf.h"

/* How often the exit is polled for without a pidfd. */
#define PROC_POLL_US 20000
/* How often the graveyard polls while one of its processes is unreported. */
#define PROC_GRAVE_FAST_MS 100
/* ... and once every one of them has been reported. */
#define PROC_GRAVE_SLOW_MS 1000
/* Room for the plugin's name in messages. */
#define PROC_LABEL_MAX 64

extern char **environ;

struct proc {
	proc_done_fn done;
	void *arg;
	struct event_base *base;
	pid_t pid; /* 0 once reaped (or handed to the graveyard) */
	int pidfd; /* -1: poll with the timer */
	int outfd;
	bool timed_out;		    /* the deadline killed it */
	uint64_t killed_ms;	    /* when the deadline sent SIGKILL, 0 before */
	char label[PROC_LABEL_MAX]; /* the program's base name, for messages */
	struct event *out_ev;
	struct event *exit_ev;
	struct event *kill_ev;
	size_t len;
	size_t out_max;		    /* output kept at most (PROC_OUT_MAX by default) */
	bool truncated;		    /* output past out_max was dropped */
	char *out;		    /* out_max + 1 bytes */
};

/* Read what the pipe holds now; keep up to out_max bytes, drop the rest. */
static void
proc_drain(struct proc *p)
{
	char junk[4096];

	for (int i = 0; i < 1024 && p->outfd >= 0; i++) {
		size_t room = p->out_max - p->len;
		ssize_t n = room > 0 ? read(p->outfd, p->out + p->len, room)
				     : read(p->outfd, junk, sizeof(junk));

		if (n > 0) {
			if (room > 0)
				p->len += (size_t)n;
			else
				p->truncated = true;
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

/*
 * The graveyard: processes killed and let go of but not reaped yet.  A
 * fixed table (no allocation, so nothing leaks when the daemon exits with
 * a process still in it) and one timer on the loop of the last burial.
 */
struct proc_grave {
	pid_t pid;	    /* 0: a free slot */
	uint64_t killed_ms; /* when SIGKILL was sent (clock_mono_ms) */
	bool reported;	    /* "will not die" has been said */
	char label[PROC_LABEL_MAX];
};

static struct proc_grave proc_graves[PROC_GRAVE_MAX];
static struct event *proc_grave_ev;
static struct event_base *proc_grave_base;

static void
proc_report_stuck(pid_t pid, const char *label)
{
	log_warn("process %ld (plugin %s) will not die %u ms after SIGKILL; abandoned", (long)pid,
		 label, (unsigned)PROC_KILL_GRACE_MS);
}

/* Reap what can be reaped and report what stayed too long; @return whether
 * a process is still unreported (the next look then comes sooner). */
static bool
proc_grave_sweep(void)
{
	uint64_t now = clock_mono_ms();
	bool young = false;

	for (size_t i = 0; i < PROC_GRAVE_MAX; i++) {
		struct proc_grave *g = &proc_graves[i];
		pid_t r;

		if (g->pid <= 0)
			continue;
		r = waitpid(g->pid, NULL, WNOHANG);
		if (r == g->pid || (r < 0 && errno == ECHILD)) {
			g->pid = 0;
			continue;
		}
		if (!g->reported && now - g->killed_ms >= PROC_KILL_GRACE_MS) {
			proc_report_stuck(g->pid, g->label);
			g->reported = true;
		}
		young |= !g->reported;
	}
	return young;
}

size_t
proc_abandoned_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < PROC_GRAVE_MAX; i++)
		n += proc_graves[i].pid > 0;
	return n;
}

static void
proc_grave_cb(evutil_socket_t fd, short what, void *arg)
{
	bool young = proc_grave_sweep();
	struct timeval tv;

	if (proc_abandoned_count() == 0) {
		/* Nothing to watch: no timer left behind on a loop. */
		event_free(proc_grave_ev);
		proc_grave_ev = NULL;
		proc_grave_base = NULL;
		return;
	}
	tv = clock_timeval(young ? PROC_GRAVE_FAST_MS : PROC_GRAVE_SLOW_MS);
	evtimer_add(proc_grave_ev, &tv);
}

/*
 * Hand @pid, already sent SIGKILL at @killed_ms, to the graveyard of
 * @base.  When the table is full the process is reported and forgotten
 * (it stays a zombie until we exit): memory stays bounded whatever a
 * plugin does, round after round.
 */
static void
proc_bury(struct event_base *base, pid_t pid, const char *label, uint64_t killed_ms)
{
	struct proc_grave *g = NULL;
	struct timeval tv = clock_timeval(PROC_GRAVE_FAST_MS);

	proc_grave_sweep();
	for (size_t i = 0; i < PROC_GRAVE_MAX && g == NULL; i++)
		if (proc_graves[i].pid <= 0)
			g = &proc_graves[i];
	if (g == NULL) {
		proc_report_stuck(pid, label);
		log_warn("%u processes abandoned already: process %ld is no longer watched",
			 (unsigned)PROC_GRAVE_MAX, (long)pid);
		return;
	}
	*g = (struct proc_grave){.pid = pid, .killed_ms = killed_ms};
	snprintf(g->label, sizeof(g->label), "%s", label);
	if (proc_grave_ev != NULL && proc_grave_base != base) {
		/* A new loop (the old one is released: proc_release()). */
		event_free(proc_grave_ev);
		proc_grave_ev = NULL;
	}
	if (proc_grave_ev == NULL) {
		proc_grave_ev = evtimer_new(base, proc_grave_cb, NULL);
		proc_grave_base = base;
	}
	/* Without a timer (out of memory) the next burial sweeps. */
	if (proc_grave_ev != NULL && !evtimer_pending(proc_grave_ev, NULL))
		evtimer_add(proc_grave_ev, &tv);
}

void
proc_release(struct event_base *base)
{
	if (proc_grave_ev == NULL || proc_grave_base != base)
		return;
	event_free(proc_grave_ev);
	proc_grave_ev = NULL;
	proc_grave_base = NULL;
}

static void
proc_poll_later(struct proc *p)
{
	struct timeval tv = {0, PROC_POLL_US};

	evtimer_add(p->exit_ev, &tv);
}

static void proc_exit_cb(evutil_socket_t fd, short what, void *arg);

/* The pidfd said "exited" but the child cannot be reaped yet (a tracer
 * holds it): poll with a timer from now on, as without pidfds. */
static void
proc_poll_instead(struct proc *p)
{
	struct event *ev = evtimer_new(p->base, proc_exit_cb, p);

	if (ev == NULL)
		return; /* the deadline, or the owner's proc_free(), ends it */
	event_free(p->exit_ev);
	p->exit_ev = ev;
	close(p->pidfd);
	p->pidfd = -1;
	proc_poll_later(p);
}

/* The process is over for its owner: @wstatus as for proc_done_fn. */
static void
proc_end(struct proc *p, int wstatus)
{
	p->pid = 0;
	if (p->kill_ev != NULL)
		event_del(p->kill_ev);
	event_del(p->exit_ev);
	/* The child is gone: what it wrote is in the pipe now. */
	proc_drain(p);
	/* Last use of @p: the callback may free it. */
	p->done(p->arg, wstatus, p->out, p->len);
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
		else
			proc_poll_instead(p);
		return;
	}
	proc_end(p, r < 0 ? -1 : st);
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
	struct timeval tv = clock_timeval(PROC_KILL_GRACE_MS);

	if (p->pid <= 0)
		return;
	if (p->killed_ms == 0) {
		/* The exit event then reports the killed child as any other
		 * exit; this timer comes back if it does not die. */
		p->timed_out = true;
		p->killed_ms = clock_mono_ms();
		proc_kill_group(p);
		evtimer_add(p->kill_ev, &tv);
		return;
	}
	/* SIGKILL did not end it: stop waiting, let the graveyard have it. */
	proc_bury(p->base, p->pid, p->label, p->killed_ms);
	proc_end(p, -1);
}

void
proc_free(struct proc *p)
{
	if (p == NULL)
		return;
	if (p->pid > 0) {
		proc_kill_group(p);
		/* Never wait here: a child that is not gone yet (most are not,
		 * a microsecond after SIGKILL) is reaped by the graveyard. */
		if (waitpid(p->pid, NULL, WNOHANG) == 0)
			proc_bury(p->base, p->pid, p->label,
				  p->killed_ms != 0 ? p->killed_ms : clock_mono_ms());
		p->pid = 0;
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
	free(p->out);
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
	const char *name = strrchr(argv[0], '/');
	int rc;

	p->base = base;
	snprintf(p->label, sizeof(p->label), "%s", name != NULL ? name + 1 : argv[0]);
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
	return proc_run_max(base, PROC_OUT_MAX, argv, envp, done, arg, out, err, errsize);
}

int
proc_run_max(struct event_base *base, size_t out_max, char *const argv[], char *const envp[],
	     proc_done_fn done, void *arg, struct proc **out, char *err, size_t errsize)
{
	struct proc *p;
	int rc;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p != NULL && (p->out = malloc(out_max + 1)) == NULL) {
		free(p);
		p = NULL;
	}
	if (p == NULL) {
		snprintf(err, errsize, "out of memory");
		return MXF_ENOMEM;
	}
	p->out_max = out_max;
	p->out[0] = '\0';
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

pid_t
proc_pid(const struct proc *p)
{
	return p->pid;
}

bool
proc_timed_out(const struct proc *p)
{
	return p->timed_out;
}

bool
proc_out_truncated(const struct proc *p)
{
	return p->truncated;
}
