/*
 * proc.h -- running a local program without a shell on the event loop,
 * never blocking it: for the exec: and ssh-* checks and notify's exec hook.
 *
 * stdin comes from /dev/null; stdout and stderr go into one pipe of which
 * at most PROC_OUT_MAX bytes are kept (the rest is read and dropped, so the
 * child never blocks on a full pipe).  The child gets its own process
 * group: killing it (a deadline, or freeing it while it runs) kills the
 * whole group, so a plugin's own children die with it.  The exit is
 * noticed through a pidfd on the loop (no SIGCHLD handler to share with
 * the daemon; a short poll timer where pidfds are missing).
 *
 * The loop never waits for a process.  One that SIGKILL does not end
 * (uninterruptible sleep, held by a tracer) is given up on: after
 * PROC_KILL_GRACE_MS it is reported once ("process PID (plugin NAME) will
 * not die ...; abandoned", a warning in the log) and left to a bounded
 * table of abandoned processes, which reaps each one if it ever dies.
 */
#ifndef MXF_PROC_H
#define MXF_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct proc;

/* The most output (stdout and stderr together) kept per process. */
#define PROC_OUT_MAX 4096
/* How long a process may take to die after SIGKILL before it is abandoned. */
#define PROC_KILL_GRACE_MS 3000
/* The most abandoned processes watched at once (further ones are forgotten). */
#define PROC_GRAVE_MAX 32

/*
 * proc_done_fn -- the program exited (or was killed at its deadline).
 * @wstatus is waitpid()'s status (-1 when it could not be read); @out
 * (NUL-terminated, @len bytes, at most PROC_OUT_MAX) is the captured
 * output, valid only during the call.  The callback may free the process
 * with proc_free().
 */
typedef void (*proc_done_fn)(void *arg, int wstatus, const char *out, size_t len);

/*
 * proc_run -- start @argv[0] (a path, or a name looked up in PATH) with the
 * argument vector @argv and the environment @envp (NULL: ours).  @argv and
 * @envp are only read during the call.
 * @out    receives the process handle; the caller frees it with proc_free()
 *         after @done ran, or earlier to kill it.
 * @return 0: @done will be called once from the loop (never from inside
 *         proc_run) unless the process is freed first; or a negative MXF_E*
 *         with @err saying why (e.g. "cannot run /x: No such file or
 *         directory"), *out NULL and @done never called.
 */
int proc_run(struct event_base *base, char *const argv[], char *const envp[], proc_done_fn done,
	     void *arg, struct proc **out, char *err, size_t errsize);

/*
 * proc_run_max -- as proc_run, keeping up to @out_max bytes of output
 * instead of PROC_OUT_MAX (allocated at once, so size it for what the
 * program should print: `postqueue -j` of a full queue); the rest is read
 * and dropped, and proc_out_truncated() then says so.
 */
int proc_run_max(struct event_base *base, size_t out_max, char *const argv[], char *const envp[],
		 proc_done_fn done, void *arg, struct proc **out, char *err, size_t errsize);

/* proc_out_truncated -- whether output past the maximum was dropped. */
bool proc_out_truncated(const struct proc *p);

/*
 * proc_set_deadline -- kill the process group with SIGKILL @ms milliseconds
 * from now if the program is still running then; @done is called as for
 * any exit (WIFSIGNALED, SIGKILL) and proc_timed_out() then says why.  If
 * the process has not died PROC_KILL_GRACE_MS after SIGKILL, it is
 * abandoned and @done is called with a wstatus of -1.
 * Calling it again moves the deadline.
 * @return 0, or MXF_ENOMEM (no deadline armed).
 */
int proc_set_deadline(struct proc *p, uint64_t ms);

/* proc_pid -- the process id of @p, 0 once it is reaped or abandoned. */
pid_t proc_pid(const struct proc *p);

/* proc_timed_out -- whether the deadline of proc_set_deadline() killed @p. */
bool proc_timed_out(const struct proc *p);

/*
 * proc_free -- kill a running process (SIGKILL to its process group) and
 * release everything; @done is not called.  Never waits: a process not
 * reaped at once is reaped later from the loop it ran on (and reported if
 * it does not die).  NULL is accepted.
 */
void proc_free(struct proc *p);

/*
 * proc_release -- forget the loop @base before it is freed: call it before
 * event_base_free() on a loop that ran processes.  Processes abandoned on
 * it stay in the table and are looked at again on the next burial.
 */
void proc_release(struct event_base *base);

/* proc_abandoned_count -- how many killed processes wait to be reaped. */
size_t proc_abandoned_count(void);

#endif
