/* coordinator/ops/openstack.h -- Cinder behind the coordinator's volume
 * ops table, and the Keystone session built from snapset.conf + OS_*. */
#ifndef OPS_OPENSTACK_H
#define OPS_OPENSTACK_H

#include <stdbool.h>

#include "cinder/cinder.h"
#include "cinder/attach.h"
#include "common/snap_error.h"
#include "coordinator/coord_conf.h"
#include "coordinator/coord_job.h"
#include "coordinator/ops/rbd.h"
#include "virt/domedit.h"

/* A session and a Cinder client from the configuration (settings in the
 * file win; OS_* variables fill the rest when use_env is set). */
typedef struct ops_os {
    cinder_session *session;
    cinder_client *cinder;
    int64_t delete_timeout_ms;
    int request_concurrency; /* snapshot POSTs at once; 0: all */
    char group_mode[8];      /* "auto", "always", "never" */
    char *group_id;          /* set by ops_os_classify(): take one group
                                snapshot of this group, or NULL */
    ops_rbd rbd;             /* the direct RBD members (ops/rbd.h) */
} ops_os;

/* Fills @o with what a session of @conf authenticates with: each setting
 * of the file, else (with use_env) its OS_* variable, as ops_os_open()
 * uses them. Strings are borrowed from @conf and the environment. Errors:
 * SNAP_E_INVALID for an unknown auth_type or interface in the file. */
bool ops_os_auth_opts(const coord_openstack_conf *conf, cinder_auth_opts *o,
                      snap_error *err);

/* One setting ops_os_auth_opts() settles, for `check-config`: its name in
 * the file, the variable that fills it, the value used (borrowed; NULL:
 * unset) and whether the variable gave it (the file wins where both do). */
typedef struct ops_os_setting {
    const char *name; /* "auth_url" */
    const char *env;  /* "OS_AUTH_URL" */
    const char *value;
    bool from_env;
    bool secret; /* a password or secret: never print the value */
} ops_os_setting;

#define OPS_OS_NSETTINGS 13

/* Fills @out with the credential and endpoint settings of @conf and where
 * each comes from; returns how many (OPS_OS_NSETTINGS), or 0 with @err set
 * as ops_os_auth_opts(). */
size_t ops_os_settings(const coord_openstack_conf *conf,
                       ops_os_setting out[OPS_OS_NSETTINGS], snap_error *err);

bool ops_os_open(ops_os *os, const coord_openstack_conf *conf, snap_error *err);
void ops_os_close(ops_os *os);

/* Turns the members of @set whose <serial> names a Cinder volume attached
 * to domain @domain_uuid into Cinder members (Nova sets the serial to the
 * volume id; the server id is the domain UUID). Then checks the snapshot
 * quota: fails early, before anything is touched, when the set would not
 * fit. */
bool ops_os_classify(ops_os *os, coord_set *set, const char *domain_uuid,
                     snap_error *err);

/* For a set made while OpenStack is not in use (@conf's enabled false):
 * every local member whose <serial> is a whole UUID, as Nova sets it to a
 * Cinder volume's id, is most likely a Cinder volume about to be copied
 * in full. Warns on stderr naming each (target and serial) and why
 * OpenStack is off, and records the same text in @set's warnings. Errors:
 * SNAP_E_NOMEM. */
bool ops_os_warn_local(const coord_openstack_conf *conf, coord_set *set,
                       snap_error *err);

/* Deletes a group snapshot (and so its member snapshots) and waits,
 * bounded, until it is gone. */
bool ops_os_group_snapshot_remove(ops_os *os, const char *id, snap_error *err);

/* Deletes one Cinder member's snapshot and waits (bounded) until it is
 * gone; a snapshot that no longer exists is success. A snapshot still
 * "creating" is waited for first (Cinder deletes only available or error
 * snapshots). */
bool ops_os_snapshot_remove(ops_os *os, const char *snapshot_id,
                            snap_error *err);

/* Whether @snap, found in Cinder by @set's "snapset_set" metadata (which
 * anyone in the project can write), is the set's own: a snapshot of one of
 * its Cinder members' volumes, and that member's recorded snapshot unless
 * the member's request never returned an id (requested or failed, not yet
 * swept). Only such snapshots are ever deleted as the set's. */
bool ops_os_snapshot_of_set(const coord_set *set, const cinder_snapshot *snap);

/* The volume ops; impl is an ops_os. */
extern const coord_volume_ops ops_os_volume_ops;

/* @conn (an RBD connection) as the disk source virt_domedit_disk_rbd()
 * writes; @src borrows @conn's strings. */
void ops_os_rbd_source(const cinder_connection *conn, virt_rbd_source *src);

#endif
