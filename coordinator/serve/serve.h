/* coordinator/serve/serve.h -- `snapset serve`: the HTTP API with its
 * background jobs and scheduled policies. The command line is parsed in
 * coordinator/cli/cli_serve.c; the policies themselves are in policy.h. */
#ifndef SERVE_H
#define SERVE_H

#include <stdbool.h>

#include "common/snap_error.h"
#include "coordinator/ops/ctx.h"

/* What the command line changes of the configuration's http section. */
typedef struct serve_opts {
    const char *address;     /* NULL: http.address */
    int port;                /* -1: http.port */
    const char *tokens_file; /* NULL: http.tokens_file (absolute path) */
    bool no_schedule;        /* true: no policy runs on its schedule */
} serve_opts;

/* Zeroes @o and sets port to -1. */
void serve_opts_init(serve_opts *o);

/* Recovers what dead processes left (through @ctx), then answers the API
 * until SIGTERM or SIGINT: new jobs are refused from then on, queued ones
 * are recorded as cancelled, running ones are waited for
 * (http.shutdown_timeout_ms). Prints "snapset: serving on URL (...)" on
 * stdout once it serves; logs on stderr ("snapset: serve: ...").
 * Returns true after a clean stop. False with @err set when it could not
 * start (or could not start its workers: then after stopping); false with
 * @err untouched when jobs still ran past the shutdown bound: that was
 * logged, and the process must exit at once, as the threads still use the
 * state. Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and
 * ignores SIGPIPE. */
bool serve_run(ops_ctx *ctx, const serve_opts *o, snap_error *err);

#endif
