/* coordinator/cli/cli_sets.h -- the commands on sets themselves.
 *
 * Each takes the command's arguments (argv[0] is the command's name) and
 * returns an exit status: 0, EXIT_FAILURE, or CLI_EXIT_USAGE. */
#ifndef CLI_SETS_H
#define CLI_SETS_H

#include "coordinator/ops/ctx.h"

int cli_cmd_create(ops_ctx *ctx, int argc, char **argv);
int cli_cmd_list(ops_ctx *ctx, int argc, char **argv);
int cli_cmd_show(ops_ctx *ctx, int argc, char **argv);
int cli_cmd_delete(ops_ctx *ctx, int argc, char **argv);
int cli_cmd_recover(ops_ctx *ctx, int argc, char **argv);

#endif
