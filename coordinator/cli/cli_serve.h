/* coordinator/cli/cli_serve.h -- the command lines of `snapset serve` and
 * `snapset policy` (coordinator/serve/ does the work). */
#ifndef CLI_SERVE_H
#define CLI_SERVE_H

#include "coordinator/ops/ctx.h"

/* snapset serve [--address ADDR] [--port N] [--tokens-file FILE]
 *               [--no-schedule]
 * See serve_run(). @argv[0] is "serve". Returns the exit status: 0, 1
 * failure, 2 usage. */
int cli_cmd_serve(ops_ctx *ctx, int argc, char **argv);

/* snapset policy list [--json]
 * snapset policy run NAME [--json]
 * snapset policy prune NAME [--dry-run] [--json]
 * @argv[0] is "policy". Returns 0; 1 when a domain failed (run) or a
 * deletion failed (prune); 2 on a usage error. */
int cli_cmd_policy(ops_ctx *ctx, int argc, char **argv);

#endif
