/* coordinator/cli/cli_verify.h -- `snapset verify`: whether sets can really
 * be read back (coordinator/ops/verify.h). Takes the command's arguments
 * (argv[0] is its name); returns 0 (nothing broken), 1 (a set is broken,
 * or the check failed) or CLI_EXIT_USAGE. */
#ifndef CLI_VERIFY_H
#define CLI_VERIFY_H

#include "coordinator/ops/ctx.h"

int cli_cmd_verify(ops_ctx *ctx, int argc, char **argv);

#endif
