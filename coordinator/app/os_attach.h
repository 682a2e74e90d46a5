/* coordinator/app/os_attach.h -- attaching Cinder volumes to libvirt
 * domains the way Nova's legacy flow does (os-reserve,
 * os-initialize_connection, os-attach; os-terminate_connection,
 * os-detach), for restore and spawn.
 *
 * cinder/ has no client for these volume actions yet, so they are sent here
 * through the session's public request function (cinder_session_request())
 * at the client's negotiated microversion. The connector describes this
 * host the way os-brick does for RBD, which needs no initiator: only RBD
 * connections (driver_volume_type "rbd") can become libvirt disks here.
 *
 * Threads: like the cinder_client of @os, not thread-safe.
 */
#ifndef APP_OS_ATTACH_H
#define APP_OS_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"
#include "coordinator/app/openstack.h"

/* What os-initialize_connection answered; strings owned, release with
 * app_osvol_conn_release(). */
typedef struct app_osvol_conn {
    char *type;   /* driver_volume_type: "rbd" */
    char *name;   /* "pool/volume-<id>" */
    char **hosts; /* monitors */
    char **ports;
    size_t nhosts;
    bool auth_enabled;
    char *auth_username; /* "admin" */
    char *secret_type;   /* "ceph" */
    char *secret_uuid;   /* the libvirt secret holding the key */
    bool discard;
} app_osvol_conn;

void app_osvol_conn_release(app_osvol_conn *c);

/* os-reserve / os-unreserve: an available volume becomes "attaching". */
bool app_osvol_reserve(app_os *os, const char *volume_id, snap_error *err);
bool app_osvol_unreserve(app_os *os, const char *volume_id, snap_error *err);

/* os-initialize_connection with this host's connector. Fails with
 * SNAP_E_STATE for a connection type other than rbd. */
bool app_osvol_connect(app_os *os, const char *volume_id, app_osvol_conn *conn,
                       snap_error *err);

/* os-terminate_connection with this host's connector. */
bool app_osvol_disconnect(app_os *os, const char *volume_id, snap_error *err);

/* os-attach: records the volume as attached to @instance_uuid at
 * @mountpoint ("/dev/vdb"); the volume becomes "in-use". Waits for it,
 * bounded by @timeout_ms. */
bool app_osvol_attach(app_os *os, const char *volume_id,
                      const char *instance_uuid, const char *mountpoint,
                      int64_t timeout_ms, snap_error *err);

/* Detaches @volume_id from @instance_uuid in Cinder (terminate the
 * connection, os-detach with that attachment) and waits, bounded, until it
 * is "available". A volume already available is success. */
bool app_osvol_detach(app_os *os, const char *volume_id,
                      const char *instance_uuid, int64_t timeout_ms,
                      snap_error *err);

/* Every step of a Nova-style attach of an available volume, for a domain
 * that is defined but not running yet or stopped: reserve, connect (into
 * @conn), attach. On failure what was done is undone. */
bool app_osvol_attach_all(app_os *os, const char *volume_id,
                          const char *instance_uuid, const char *mountpoint,
                          app_osvol_conn *conn, int64_t timeout_ms,
                          snap_error *err);

#endif
