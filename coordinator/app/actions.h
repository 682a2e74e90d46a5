/* coordinator/app/actions.h -- what snapset does, shared by the CLI, the
 * HTTP API and policies: each action takes the per-domain lock, recovers
 * what a dead process left on that domain, and records every step. */
#ifndef APP_ACTIONS_H
#define APP_ACTIONS_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "common/snap_error.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/coord_conf.h"
#include "coordinator/coord_job.h"
#include "coordinator/app/openstack.h"

typedef struct app_ctx {
    coord_conf conf;
    coord_catalog *catalog; /* opened on first use */
    virConnectPtr conn;     /* opened on first use */
    app_os os;              /* opened on first use, if enabled */
    bool os_open;
} app_ctx;

typedef struct app_create_opts {
    coord_quiesce quiesce;
    bool pause;
    bool memory;             /* save RAM state too (implies pause) */
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
     * coord_catalog_lock() to answer 409 at once); app_create() releases
     * it. -1: app_create() takes the lock itself. */
    int lock_fd;
} app_create_opts;

/* Zeroes @o and sets lock_fd to -1. */
void app_create_opts_init(app_create_opts *o);

bool app_catalog(app_ctx *ctx, snap_error *err);
bool app_connect(app_ctx *ctx, snap_error *err);
void app_ctx_release(app_ctx *ctx);

/* Opens the OpenStack session and Cinder client (openstack.enabled must be
 * set). */
bool app_openstack(app_ctx *ctx, snap_error *err);

/* Makes a set of @domain. Returns the set (new; coord_set_free()) also on
 * failure, when one was recorded, so the caller can show it; NULL when
 * nothing was recorded. */
bool app_create(app_ctx *ctx, const char *domain, const app_create_opts *o,
                coord_set **out, snap_error *err);

/* app_delete() flags. */
#define APP_DELETE_EXPORTS 1u /* also the set's exports (Glance images,
                                 OVA files); otherwise they are kept and
                                 named on stdout */

/* Deletes a set and every member. A set still being made by a live process
 * is waited for (lock timeout); one left by a dead process is recovered
 * first. */
bool app_delete(app_ctx *ctx, const char *set_id, unsigned flags,
                snap_error *err);

/* Recovers every set left CREATING by a dead process (all domains when
 * @domain is NULL). *@nrecovered counts them. */
bool app_recover(app_ctx *ctx, const char *domain, int *nrecovered,
                 snap_error *err);

/* True when the process recorded in @j is still alive. */
bool app_owner_alive(const coord_journal *j);

#endif
