/*
 * cmd_status.h -- what `status` concludes (cmd_daemon.c judges it) and the
 * Monitoring Plugins form of it, `status --plugin` (cmd_status_plugin.c).
 */
#ifndef MXF_CMD_STATUS_H
#define MXF_CMD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "state.h"
#include "state_file.h"

/* What `status` concludes, in words and as its exit code. */
struct status_verdict {
	int code;			   /* enum mxf_exit */
	const char *word;		   /* "ok", "degraded", "isolated", "quorum_lost",
					      "all_down", "stale" */
	char msg[1024];			   /* one line, "" when all is well */
	uint64_t age_s;			   /* of the state file */
	uint64_t stale_s;		   /* the age from which it is stale */
	long pid;			   /* of the process holding the lock, 0 when none */
	char note[STATE_FILE_LOCK_RECORD]; /* the holder's note: why it cannot write */
};

/*
 * status_print_quorum -- (cmd_status_quorum.c) the [quorum] lines of
 * `status`: each monitor's view and freshness as the daemon last decided on
 * them (st->quorum), and who agreed on each group's last switch this
 * monitor made.  Nothing without [quorum].
 */
void status_print_quorum(const struct config *cfg, const struct state *st);

/*
 * status_quorum_lost -- whether the daemon last found fewer than `need`
 * fresh monitors; then @msg says so.
 */
bool status_quorum_lost(const struct config *cfg, const struct state *st, char *msg, size_t len);

/* Monitoring Plugins exit codes (they differ from enum mxf_exit). */
enum status_plugin_code {
	STATUS_PLUGIN_OK = 0,
	STATUS_PLUGIN_WARNING = 1,
	STATUS_PLUGIN_CRITICAL = 2,
	STATUS_PLUGIN_UNKNOWN = 3,
};

/*
 * status_plugin_print -- print to stdout the one line of the Monitoring
 * Plugins convention for @st (loaded, pins applied) as judged in @v at
 * @now: "MXFAILOVER OK - TEXT | PERFDATA".  OK when every group is on its
 * preferred server and every server is up; WARNING when degraded, failed
 * over or isolated; CRITICAL when every server of a group is down or the
 * state is stale.
 * @return the plugin exit code (enum status_plugin_code).
 */
int status_plugin_print(const struct config *cfg, const struct state *st, uint64_t now,
			const struct status_verdict *v);

/*
 * status_plugin_unknown -- print "MXFAILOVER UNKNOWN - @why" to stdout.
 * @return STATUS_PLUGIN_UNKNOWN.
 */
int status_plugin_unknown(const char *why);

#endif
