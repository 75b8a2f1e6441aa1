/*
 * round_save.c -- a round keeps its state file: the save itself, and what a
 * failing save says (once per streak in the log, in the lock file for
 * `status`, in /api/status); see round_save.h.
 */
#include "round_save.h"

#include <errno.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "state_file.h"
#include "value.h"

int
round_save_state(const struct round_env *env, char *err, size_t size)
{
	const struct config *cfg = env->cfg;

	return state_save(cfg->general.state_file, cfg, env->st, clock_wall_ms(), err, size);
}

/*
 * The outcome of saving the state (@failed, @err its message or a warning):
 * a failure is logged when a streak of them begins and noted in the lock
 * file for `status`; its end is logged and the note cleared.
 */
void
round_note_save(const struct round_env *env, bool failed, const char *err)
{
	struct state_file_streak one = {0};
	struct state_file_streak *sk = env->save_streak != NULL ? env->save_streak : &one;
	bool was = sk->failing;

	switch (state_file_streak_note(sk, !failed)) {
	case STATE_FILE_SAY_FAILING:
		log_err("%s; the state is not saved until this is fixed (said once)", err);
		break;
	case STATE_FILE_SAY_RECOVERED:
		log_info("state file %s written again, after %lu failed round%s",
			 env->cfg->general.state_file, sk->failures, sk->failures == 1 ? "" : "s");
		break;
	case STATE_FILE_SAY_NOTHING:
		if (!failed && err[0] != '\0')
			log_warn("%s", err);
		break;
	}
	if (env->ctr != NULL)
		value_utf8_clean(env->ctr->state_error, sizeof(env->ctr->state_error),
				 failed ? err : "", failed ? strlen(err) : 0);
	if (env->lock_fd >= 0 && (failed || was) &&
	    state_file_lock_note(env->lock_fd, failed ? err : NULL) != 0 && !was)
		log_warn("cannot note the failure in the lock file: %s", strerror(errno));
}
