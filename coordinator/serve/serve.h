/* coordinator/serve/serve.h -- `snapset serve` (the HTTP API with its
 * background jobs and scheduled policies) and `snapset policy`. */
#ifndef SERVE_H
#define SERVE_H

#include "coordinator/ops/actions.h"

/* snapset serve [--address ADDR] [--port N] [--tokens-file FILE]
 *               [--no-schedule]
 * Recovers what dead processes left, then answers the API until SIGTERM or
 * SIGINT: new jobs are refused from then on, queued ones are recorded as
 * cancelled, running ones are waited for (http.shutdown_timeout_ms).
 * @argv[0] is "serve". Returns the exit status: 0, 1 failure, 2 usage. */
int serve_cmd_serve(ops_ctx *ctx, int argc, char **argv);

/* snapset policy list [--json]
 * snapset policy run NAME [--json]
 * snapset policy prune NAME [--dry-run] [--json]
 * @argv[0] is "policy". Returns 0; 1 when a domain failed (run) or a
 * deletion failed (prune); 2 on a usage error. */
int serve_cmd_policy(ops_ctx *ctx, int argc, char **argv);

#endif
