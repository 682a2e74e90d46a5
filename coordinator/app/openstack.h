/* coordinator/app/openstack.h -- Cinder behind the coordinator's volume
 * ops table, and the Keystone session built from snapset.conf + OS_*. */
#ifndef APP_OPENSTACK_H
#define APP_OPENSTACK_H

#include <stdbool.h>

#include "cinder/cinder.h"
#include "common/snap_error.h"
#include "coordinator/coord_conf.h"
#include "coordinator/coord_job.h"

/* A session and a Cinder client from the configuration (settings in the
 * file win; OS_* variables fill the rest when use_env is set). */
typedef struct app_os {
    cinder_session *session;
    cinder_client *cinder;
    int64_t delete_timeout_ms;
    char group_mode[8];         /* "auto", "always", "never" */
    char *group_id;             /* set by app_os_classify(): take one group
                                   snapshot of this group, or NULL */
} app_os;

bool app_os_open(app_os *os, const coord_openstack_conf *conf,
                 snap_error *err);
void app_os_close(app_os *os);

/* Turns the members of @set whose <serial> names a Cinder volume attached
 * to domain @domain_uuid into Cinder members (Nova sets the serial to the
 * volume id; the server id is the domain UUID). Then checks the snapshot
 * quota: fails early, before anything is touched, when the set would not
 * fit. */
bool app_os_classify(app_os *os, coord_set *set, const char *domain_uuid,
                     snap_error *err);

/* Deletes a group snapshot (and so its member snapshots) and waits,
 * bounded, until it is gone. */
bool app_os_group_snapshot_remove(app_os *os, const char *id,
                                  snap_error *err);

/* Deletes one Cinder member's snapshot and waits (bounded) until it is
 * gone; a snapshot that no longer exists is success. A snapshot still
 * "creating" is waited for first (Cinder deletes only available or error
 * snapshots). */
bool app_os_snapshot_remove(app_os *os, const char *snapshot_id,
                            snap_error *err);

/* Whether @snap, found in Cinder by @set's "snapset_set" metadata (which
 * anyone in the project can write), is the set's own: a snapshot of one of
 * its Cinder members' volumes, and that member's recorded snapshot unless
 * the member's request never returned an id (requested or failed, not yet
 * swept). Only such snapshots are ever deleted as the set's. */
bool app_os_snapshot_of_set(const coord_set *set, const cinder_snapshot *snap);

/* The volume ops; impl is an app_os. */
extern const coord_volume_ops app_os_volume_ops;

#endif
