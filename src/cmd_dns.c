/* cmd_dns.c -- placeholder */
#include "cmd.h"
#include "mxf.h"
int cmd_dns(struct mxf_ctx *ctx, int argc, char **argv)
{ (void)ctx; (void)argc; (void)argv; return MXF_EXIT_USAGE; }
