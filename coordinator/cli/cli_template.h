/* coordinator/cli/cli_template.h -- `snapset template`: templates made of
 * sets (ops/template.h), for `snapset spawn --template ID`:
 *
 *     template create SET [--name NAME]   full copies of the set's disks
 *     template list [--json]
 *     template delete ID                  refused while a VM uses it */
#ifndef CLI_TEMPLATE_H
#define CLI_TEMPLATE_H

#include "coordinator/ops/ctx.h"

int cli_cmd_template(ops_ctx *ctx, int argc, char **argv);

#endif
