/*
 * round_save.h -- how a round (round.c) keeps the state file: one save call
 * and one place that turns its outcome into log lines and notes.
 */
#ifndef MXF_ROUND_SAVE_H
#define MXF_ROUND_SAVE_H

#include <stdbool.h>
#include <stddef.h>

#include "round.h"

/*
 * round_save_state -- write env->st to the configured state file now.
 * @err/@size  the message when it fails (or a warning when it worked).
 * @return 0 or a negative MXF_E* (as state_save).
 */
int round_save_state(const struct round_env *env, char *err, size_t size);

/*
 * round_note_save -- the outcome of a round's save (@failed, @err its
 * message or a warning): a failure is logged when a streak of them begins
 * and noted in the lock file and env->ctr; its end is logged and the notes
 * cleared.  env->save_streak NULL: every failure is logged.
 */
void round_note_save(const struct round_env *env, bool failed, const char *err);

#endif
