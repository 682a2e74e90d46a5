/* coordinator/ops/actions.h -- what snapset does, shared by the CLI, the
 * HTTP API and policies: each action takes the per-domain lock, recovers
 * what a dead process left on that domain, and records every step. */
#ifndef OPS_ACTIONS_H
#define OPS_ACTIONS_H

#include <stdbool.h>

#include "common/snap_error.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_conf.h"
#include "coordinator/coord_job.h"
#include "coordinator/ops/ctx.h"

typedef struct ops_create_opts {
    coord_quiesce quiesce;
    bool pause;
    bool memory; /* save RAM state too (implies pause) */
    const char *const *mounts;
    size_t nmounts;
    const char *name;        /* label, may be NULL */
    const char *backup_type; /* may be NULL */
    int rotation;
    const char *const *metadata; /* key, value, key, value, ...: recorded */
    size_t nmetadata;            /* pairs */
    /* The set's UUID, when the caller must name it before the set exists
     * (the HTTP API's Location header); NULL: a new one. */
    const char *set_uuid;
    /* >= 0: the caller already holds this domain's lock (taken with
     * coord_catalog_lock() to answer 409 at once); ops_create() releases
     * it. -1: ops_create() takes the lock itself. */
    int lock_fd;
} ops_create_opts;

/* Zeroes @o and sets lock_fd to -1. */
void ops_create_opts_init(ops_create_opts *o);

/* Makes a set of @domain. Returns the set (new; coord_set_free()) also on
 * failure, when one was recorded, so the caller can show it; NULL when
 * nothing was recorded. */
bool ops_create(ops_ctx *ctx, const char *domain, const ops_create_opts *o,
                coord_set **out, snap_error *err);

/* ops_delete() flags. */
#define OPS_DELETE_EXPORTS                                                     \
    1u /* also the set's exports (Glance images,                               \
          OVA files); otherwise they are kept and                              \
          named on stdout */

/* Deletes a set and every member. A set still being made by a live process
 * is waited for (lock timeout); one left by a dead process is recovered
 * first. */
bool ops_delete(ops_ctx *ctx, const char *set_id, unsigned flags,
                snap_error *err);

/* Recovers every set left CREATING by a dead process (all domains when
 * @domain is NULL). *@nrecovered counts them. */
bool ops_recover(ops_ctx *ctx, const char *domain, int *nrecovered,
                 snap_error *err);

#endif
