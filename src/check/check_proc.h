/*
 * check_proc.h -- running a local program without a shell on the event
 * loop, for modules outside the check engine (notify's exec hook).
 *
 * The same machinery as the exec: and ssh-* checks (check_proc.c): stdin
 * from /dev/null, stdout and stderr captured into one bounded buffer (4 KiB
 * kept, the rest read and dropped), the child in its own process group.
 * The caller owns the deadline: freeing a running process kills its whole
 * group and reaps it.
 */
#ifndef MXF_CHECK_PROC_H
#define MXF_CHECK_PROC_H

#include <stddef.h>

struct event_base;
struct check_proc;

/*
 * check_proc_run_fn -- the program exited.  @wstatus is waitpid()'s status
 * (-1 when it could not be read); @out (NUL-terminated, @len bytes) is the
 * captured output, valid only during the call.  The callback may free the
 * process with check_proc_free().
 */
typedef void (*check_proc_run_fn)(void *arg, int wstatus, const char *out, size_t len);

/*
 * check_proc_run -- start @argv[0] (a path, or a name looked up in PATH)
 * with the argument vector @argv and the environment @envp (NULL: ours).
 * @argv and @envp are only read during the call.
 * @out    receives the process handle; the caller frees it with
 *         check_proc_free() after @done ran, or earlier to kill it.
 * @return 0: @done will be called once from the loop unless the process is
 *         freed first; or a negative MXF_E* with @err saying why (e.g.
 *         "cannot run /x: No such file or directory"), *out NULL and @done
 *         never called.
 */
int check_proc_run(struct event_base *base, char *const argv[], char *const envp[],
		   check_proc_run_fn done, void *arg, struct check_proc **out, char *err,
		   size_t errsize);

/* Kill (SIGKILL to the process group) and reap a running process, release
 * everything.  NULL is accepted. */
void check_proc_free(struct check_proc *p);

#endif
