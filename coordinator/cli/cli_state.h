/* coordinator/cli/cli_state.h -- `snapset state`: a domain's RAM states
 * (its sets with RAM state) under the names the live-snapshot spec and
 * `nova` give them:
 *
 *     state save DOMAIN NAME         a set with RAM state, labelled NAME
 *     state load DOMAIN STATE        the domain back to it, running
 *     state list DOMAIN [--json]     the domain's RAM states
 *     state delete DOMAIN STATE...   several at once
 *
 * A STATE is a set id (or 8+ character prefix) that must be one of
 * DOMAIN's sets with RAM state. */
#ifndef CLI_STATE_H
#define CLI_STATE_H

#include "coordinator/ops/ctx.h"

int cli_cmd_state(ops_ctx *ctx, int argc, char **argv);

#endif
