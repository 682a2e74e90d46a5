/* cinder/attach.h -- attaching Cinder volumes to libvirt
 * domains the way Nova's legacy flow does (os-reserve,
 * os-initialize_connection, os-attach; os-terminate_connection,
 * os-detach), for restore and spawn.
 *
 * The volume actions are sent through the client's session
 * (cinder_session_request()) at its negotiated microversion. The connector
 * describes this host the way os-brick does for RBD, which needs no initiator:
 * only RBD connections (driver_volume_type "rbd") can become libvirt disks
 * here.
 *
 * Threads: like @client, not thread-safe.
 */
#ifndef CINDER_ATTACH_H
#define CINDER_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/snap_error.h"
#include "cinder/cinder.h"

/* What os-initialize_connection answered; strings owned, release with
 * cinder_connection_release(). */
typedef struct cinder_connection {
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
} cinder_connection;

void cinder_connection_release(cinder_connection *c);

/* os-reserve / os-unreserve: an available volume becomes "attaching". */
bool cinder_volume_reserve(cinder_client *client, const char *volume_id,
                           snap_error *err);
bool cinder_volume_unreserve(cinder_client *client, const char *volume_id,
                             snap_error *err);

/* os-initialize_connection with this host's connector. Fails with
 * SNAP_E_STATE for a connection type other than rbd. */
bool cinder_volume_connect(cinder_client *client, const char *volume_id,
                           cinder_connection *conn, snap_error *err);

/* os-terminate_connection with this host's connector. */
bool cinder_volume_disconnect(cinder_client *client, const char *volume_id,
                              snap_error *err);

/* os-attach: records the volume as attached to @instance_uuid at
 * @mountpoint ("/dev/vdb"); the volume becomes "in-use". Waits for it,
 * bounded by @timeout_ms. */
bool cinder_volume_attach(cinder_client *client, const char *volume_id,
                          const char *instance_uuid, const char *mountpoint,
                          int64_t timeout_ms, snap_error *err);

/* Detaches @volume_id from @instance_uuid in Cinder (terminate the
 * connection, os-detach with that attachment) and waits, bounded, until it
 * is "available". A volume already available is success. */
bool cinder_volume_detach(cinder_client *client, const char *volume_id,
                          const char *instance_uuid, int64_t timeout_ms,
                          snap_error *err);

/* Every step of a Nova-style attach of an available volume, for a domain
 * that is defined but not running yet or stopped: reserve, connect (into
 * @conn), attach. On failure what was done is undone. */
bool cinder_volume_attach_all(cinder_client *client, const char *volume_id,
                              const char *instance_uuid, const char *mountpoint,
                              cinder_connection *conn, int64_t timeout_ms,
                              snap_error *err);

#endif
