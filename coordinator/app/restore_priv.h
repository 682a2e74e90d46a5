/* coordinator/app/restore_priv.h -- helpers shared by restore.c and
 * spawn.c; not API. */
#ifndef APP_RESTORE_PRIV_H
#define APP_RESTORE_PRIV_H

#include <stdbool.h>

#include "common/snap_error.h"
#include "coordinator/app/actions.h"

/* Loads set @set_id and checks that it can be used: state available, every
 * member available with a location, each local copy present, OpenStack
 * open when it has Cinder members. Returns a new set (coord_set_free()). */
coord_set *app_set_load_usable(app_ctx *ctx, const char *set_id,
                               snap_error *err);

/* Loads usable set @set_id (above), takes its domain's lock (one
 * operation per domain: a delete cannot remove the set meanwhile) and
 * loads it again under the lock. *@lock: for coord_catalog_unlock(). */
coord_set *app_set_load_locked(app_ctx *ctx, const char *set_id, int *lock,
                               snap_error *err);

/* The member of @set for disk @disk: its target ("vdb") or its serial. */
const coord_member *app_set_member(const coord_set *set, const char *disk);

/* A new Cinder volume from snapshot @snapshot_id, named @name, tagged with
 * the set; waits (bounded by @timeout_ms) until it is available. A volume
 * that fails on the way is deleted again. *@volume_id: new string. */
bool app_volume_from_snapshot(app_ctx *ctx, const char *snapshot_id,
                              const char *name, const char *set_uuid,
                              int64_t timeout_ms, char **volume_id,
                              snap_error *err);

/* A fault point of the test build (-DSNAP_FAULTS=ON; nothing otherwise):
 * SNAPSET_FAULT="<point>:fail" makes it return false with an error named
 * after the point, so a test can fail a restore or spawn half-way and see
 * it undone; "kill" and "hang" act as snap_fault(). */
bool app_fault(const char *point, snap_error *err);

/* True when the Cinder snapshot of member @m exists and is available. */
bool app_snapshot_usable(app_ctx *ctx, const coord_member *m, snap_error *err);

/* Deletes volume @id and waits (bounded) until it is gone. */
bool app_volume_remove(app_ctx *ctx, const char *id, snap_error *err);

#endif
