/* coordinator/ops/restore.h -- using a set: restore the VM to it (spawn,
 * volume-from and flatten are in spawn.h).
 *
 * Each action is a function the CLI (coordinator/cli/cli_restore.c) and
 * the HTTP API can call with a parsed request. What each action does when
 * it fails half-way is written next to it; none leaves something behind
 * without saying where. The domain is reached through ops_domain(ctx)
 * (ops/domain.h), so a test can give it a fake.
 *
 * Threads: like ops_ctx, one context per thread.
 */
#ifndef OPS_RESTORE_H
#define OPS_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "coordinator/ops/ctx.h"

/* ---- restore ------------------------------------------------------------- */

typedef enum ops_restore_start {
    OPS_RESTORE_START_AS_BEFORE = 0, /* start it again if it was running */
    OPS_RESTORE_START_YES,
    OPS_RESTORE_START_NO,
} ops_restore_start;

typedef struct ops_restore_opts {
    ops_restore_start start;
    /* How long the guest may take to power off after the agent's
     * guest-shutdown before it is forced off; < 0: the configuration's
     * timeouts.shutdown_ms. */
    int64_t shutdown_timeout_ms;
} ops_restore_opts;

/* What a restore did, for the caller to print; strings owned, release
 * with ops_restore_result_release(). */
typedef struct ops_restore_result {
    char *domain;
    int64_t total_ms;   /* the whole restore */
    int64_t prepare_ms; /* copies made while the VM still ran */
    int64_t stop_ms;    /* shutting the VM down */
    int64_t swap_ms;    /* VM stopped: swaps, reverts, attaches */
    int64_t start_ms;   /* starting it again; -1 when not started */
    bool forced_off;    /* the guest did not power off in time */
    bool started;
    bool memory; /* started from the set's RAM state */
    /* One line per member: "vda: local, copied back" ... */
    char **lines;
    size_t nlines;
} ops_restore_result;

void ops_restore_result_release(ops_restore_result *r);

/* Puts domain @set->domain back to set @set_id: stops it (agent shutdown,
 * forced after the bound), puts every local disk back from the set's copy
 * (a new image next to the disk's file, swapped in by rename; a block
 * device is written in place after its content was saved), reverts each
 * Cinder member to its snapshot when Cinder allows it (microversion 3.40,
 * the set's snapshot is the volume's latest) or else swaps in a new volume
 * made from the snapshot, and starts the domain again as @o says. The set
 * itself is never changed: it can be restored again.
 *
 * Takes the domain's lock. A failure puts everything back as it was
 * (images, the domain's definition, Cinder attachments, its run state)
 * and says what failed; a Cinder revert is the one step that cannot be
 * undone, so reverts come last, after every other disk is in place, and a
 * revert that fails falls back to a new volume. */
bool ops_restore(ops_ctx *ctx, const char *set_id, const ops_restore_opts *o,
                 ops_restore_result *res, snap_error *err);

#endif
