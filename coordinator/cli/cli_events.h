/* coordinator/cli/cli_events.h -- `snapset events`: the host's audit log
 * (coordinator/coord_events.h) as a table or JSON lines, optionally
 * followed as it grows. Takes the command's arguments (argv[0] is its
 * name); returns 0, EXIT_FAILURE or CLI_EXIT_USAGE. */
#ifndef CLI_EVENTS_H
#define CLI_EVENTS_H

#include "coordinator/ops/ctx.h"

int cli_cmd_events(ops_ctx *ctx, int argc, char **argv);

#endif
