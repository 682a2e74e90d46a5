/* coordinator/cli/cli_restore.h -- the commands that use a set: restore,
 * spawn, volume-from and flatten. Each parses its arguments (argv[0] is
 * the command), calls the operation in coordinator/ops/ and prints what it
 * did; returns 0 (ok), 1 (failure) or CLI_EXIT_USAGE. */
#ifndef CLI_RESTORE_H
#define CLI_RESTORE_H

#include "coordinator/ops/ctx.h"

int cli_cmd_restore(ops_ctx *ctx, int argc, char **argv);
int cli_cmd_spawn(ops_ctx *ctx, int argc, char **argv);
int cli_cmd_volume_from(ops_ctx *ctx, int argc, char **argv);
int cli_cmd_flatten(ops_ctx *ctx, int argc, char **argv);

#endif
