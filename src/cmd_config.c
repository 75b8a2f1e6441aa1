/* cmd_config.c -- placeholder */
#include "cmd.h"
#include "mxf.h"
int cmd_config(struct mxf_ctx *ctx, int argc, char **argv)
{ struct config *cfg; (void)argc; (void)argv; return cmd_load_config(ctx, &cfg); }
