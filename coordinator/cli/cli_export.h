/* coordinator/cli/cli_export.h -- the `export` command: its options, its
 * output, and `export --check`; the export itself is ops_export_run(). */
#ifndef CLI_EXPORT_H
#define CLI_EXPORT_H

#include "coordinator/ops/ctx.h"

/* The `export` command; @argv[0] is "export". Returns 0 (exported), 1
 * (failed or interrupted: nothing is left behind) or 2 (usage error). */
int cli_cmd_export(ops_ctx *ctx, int argc, char **argv);

#endif
