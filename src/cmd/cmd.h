/*
 * cmd.h -- the subcommands main.c dispatches to.
 *
 * Each cmd_* takes the global context and the arguments after the command
 * word (argv[0] is the command word itself) and returns a process exit code
 * from enum mxf_exit.  Commands print their own results to stdout and their
 * diagnostics through log.h.
 */
#ifndef MXF_CMD_H
#define MXF_CMD_H

#include "config.h"

struct mxf_ctx {
	const char *config_path; /* resolved path of the config file */
	int config_path_given;   /* -c was used */
	int verbosity;           /* 0 quiet, 1 normal, 2 -v, 3 -vv */
};

/*
 * cmd_load_config -- load ctx->config_path, print every error as
 * FILE:LINE: message on stderr.
 * @return 0 with *out set, or MXF_EXIT_USAGE after printing the errors.
 */
int cmd_load_config(const struct mxf_ctx *ctx, struct config **out);

/* Print a usage error for @cmd ("mxfailover: CMD: MSG" plus a usage hint). */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cmd_config(struct mxf_ctx *ctx, int argc, char **argv);
int cmd_dns(struct mxf_ctx *ctx, int argc, char **argv);
int cmd_run(struct mxf_ctx *ctx, int argc, char **argv);
int cmd_once(struct mxf_ctx *ctx, int argc, char **argv);
int cmd_plan(struct mxf_ctx *ctx, int argc, char **argv);
int cmd_status(struct mxf_ctx *ctx, int argc, char **argv);
int cmd_pin(struct mxf_ctx *ctx, int argc, char **argv);
int cmd_unpin(struct mxf_ctx *ctx, int argc, char **argv);
int cmd_probe(struct mxf_ctx *ctx, int argc, char **argv);
/* cmd_audit.c: `audit`; exit 0 clean, 1 warnings/errors, 2 usage/config, 3 unresolved. */
int cmd_audit(struct mxf_ctx *ctx, int argc, char **argv);
/* cmd_notify.c: `notify test` and `etrn` (operator tools, not in --help's list). */
int cmd_notify(struct mxf_ctx *ctx, int argc, char **argv);
int cmd_etrn(struct mxf_ctx *ctx, int argc, char **argv);
/*
 * demo.c: `demo [--keep] [--named PATH]`, the throw-away lab of demo.h.  The global -c is
 * ignored (the demo writes its own configuration).  @return 0 when the
 * failover and the failback were both seen, 1 when not, 2 on a usage error
 * or when named is not installed.
 */
int cmd_demo(struct mxf_ctx *ctx, int argc, char **argv);

#endif
