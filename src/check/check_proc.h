/*
 * check_proc.h -- a thin forwarder to proc.h for notify.c, which still
 * calls the old names; it goes away once notify uses proc_run() and
 * proc_free() itself.  Nothing in the check engine uses it.
 */
#ifndef MXF_CHECK_PROC_H
#define MXF_CHECK_PROC_H

#include <stddef.h>

#include "proc.h"

/* The old tag of the process handle: the same object as struct proc. */
#define check_proc proc

typedef proc_done_fn check_proc_run_fn;

/* check_proc_run -- proc_run() under its old name; same contract. */
static inline int
check_proc_run(struct event_base *base, char *const argv[], char *const envp[],
	       check_proc_run_fn done, void *arg, struct proc **out, char *err, size_t errsize)
{
	return proc_run(base, argv, envp, done, arg, out, err, errsize);
}

/* check_proc_free -- proc_free() under its old name. */
static inline void
check_proc_free(struct proc *p)
{
	proc_free(p);
}

#endif
