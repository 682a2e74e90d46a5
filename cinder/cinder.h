/* cinder/cinder.h -- OpenStack Cinder (block storage) API v3 client.
 *
 * A cinder_client talks to the block-storage endpoint of a cinder_session
 * (keystone.h) at a microversion negotiated once, in cinder_client_new():
 * min(server maximum, our maximum 3.70, the caller's cap). Features that
 * need a newer microversion refuse with SNAP_E_STATE instead of letting
 * Cinder silently ignore what they ask (the metadata list filter below
 * 3.22 is the dangerous one).
 *
 * Records (cinder_snapshot, cinder_volume, ...) are plain structs that the
 * caller owns; every string in them is owned by the record. Handles
 * (cinder_client) are opaque.
 *
 * Errors (STYLE §3): Cinder's error bodies ({"badRequest":{"message":...}},
 * {"itemNotFound":...}, {"overLimit":...}) become one-line messages naming
 * the object, e.g. "cannot create snapshot of volume 'v1': HTTP 400:
 * Invalid volume: ...". Codes: SNAP_E_NOTFOUND for 404; SNAP_E_HTTP with
 * http_status for other error statuses and for transport failures (status
 * 0); a 413 (quota or rate limit) says "over limit" and the Retry-After
 * delay; SNAP_E_TIMEOUT for deadlines; SNAP_E_INVALID for malformed replies
 * and bad arguments; SNAP_E_STATE for a microversion too old, or a snapshot
 * that ended in 'error'.
 *
 * Threads: a client is not thread-safe, and neither is its session; use one
 * of each per thread.
 */
#ifndef CINDER_CINDER_H
#define CINDER_CINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cinder/keystone.h"
#include "common/snap_error.h"

/* Microversions as integers: CINDER_MV(3, 22) == 3022. */
#define CINDER_MV(major, minor) ((major)*1000 + (minor))
#define CINDER_MV_MAX CINDER_MV(3, 70)

/* A metadata pair. In arguments the strings are borrowed; in records they
 * are owned by the record. */
typedef struct cinder_kv {
    const char *key;
    const char *value;
} cinder_kv;

/* Returns the value of @key in @kv, borrowed, or NULL. */
const char *cinder_kv_get(const cinder_kv *kv, size_t n, const char *key);

typedef struct cinder_client_opts {
    int max_microversion;       /* cap, e.g. CINDER_MV(3, 21); default and
                                   ceiling CINDER_MV_MAX */
    int64_t poll_min_ms;        /* first poll interval, default 15 */
    int64_t poll_max_ms;        /* interval ceiling, default 250 */
    int64_t frozen_poll_max_ms; /* ceiling while waiting for snapshots to
                                   leave "creating": the wait a frozen
                                   guest sits in; default 20 */
    int64_t request_timeout_ms; /* bound on one request, default: the
                                   transport's; a wait also never exceeds
                                   its deadline */
} cinder_client_opts;

typedef struct cinder_client cinder_client;

/* Returns a new client for the block-storage endpoint of @session (borrowed;
 * it must outlive the client) after negotiating the microversion from the
 * endpoint's version document (GET <endpoint root>/v3/). @opts may be NULL.
 * Errors: those of cinder_session_endpoint(); SNAP_E_HTTP/SNAP_E_TIMEOUT when
 * the version document can't be read; SNAP_E_INVALID when it is malformed;
 * SNAP_E_STATE when the server's minimum is above our maximum.
 * Free with cinder_client_free(). */
cinder_client *cinder_client_new(cinder_session *session,
                                 const cinder_client_opts *opts,
                                 snap_error *err);

/* Releases @client; NULL is allowed. */
void cinder_client_free(cinder_client *client);

/* The negotiated microversion, CINDER_MV(3, x); CINDER_MV(3, 0) when the
 * server supports none. */
int cinder_client_microversion(const cinder_client *client);

/* The server's maximum microversion as read from its version document. */
int cinder_client_server_microversion(const cinder_client *client);

/* The endpoint in use, e.g. "http://h:8776/v3/<project>" (borrowed). */
const char *cinder_client_endpoint(const cinder_client *client);

/* Formats @mv as "3.70" into @buf (>= 16 bytes) and returns @buf. */
const char *cinder_microversion_str(int mv, char *buf, size_t size);

/* ---- snapshots ---------------------------------------------------------- */

typedef struct cinder_snapshot {
    char *id;
    char *volume_id;
    char *name; /* NULL when unnamed */
    char *description;
    char *status; /* creating, available, error, deleting... */
    char *created_at;
    char *updated_at;
    char *group_snapshot_id; /* >= 3.14; NULL when none */
    char *progress;          /* e.g. "100%"; NULL when not reported */
    int64_t size_gb;
    cinder_kv *metadata;
    size_t nmetadata;
} cinder_snapshot;

/* Releases @snap and all it holds; NULL is allowed. */
void cinder_snapshot_free(cinder_snapshot *snap);

/* Releases the @n snapshots of @snaps and the array; NULL is allowed. */
void cinder_snapshots_free(cinder_snapshot **snaps, size_t n);

typedef struct cinder_snapshot_req {
    const char *volume_id;     /* required */
    const char *name;          /* optional */
    const char *description;   /* optional */
    const cinder_kv *metadata; /* optional, @nmetadata pairs */
    size_t nmetadata;
} cinder_snapshot_req;

/* Asks Cinder to snapshot a volume (POST /snapshots) and returns the new
 * snapshot record (status "creating"; free with cinder_snapshot_free()), or
 * NULL with @err set. Volumes in use are allowed: "force": true is sent
 * below microversion 3.66, and never "force": false from 3.66 on (Cinder
 * rejects it there). Does not wait; see cinder_snapshots_wait(). */
cinder_snapshot *cinder_snapshot_create(cinder_client *client,
                                        const cinder_snapshot_req *req,
                                        snap_error *err);

/* Sends the @n snapshot requests at once (one batch of parallel POSTs).
 * @out[i] receives the new record for @reqs[i], or NULL if that one failed;
 * @errs (optional, @n zeroed entries) receives each failure. Returns true
 * when all succeeded; otherwise false with @err set to the first failure in
 * index order, and the snapshots that were created still in @out for the
 * caller to delete (cinder_snapshots_free() releases the records). */
bool cinder_snapshots_create_many(cinder_client *client,
                                  const cinder_snapshot_req *reqs, size_t n,
                                  cinder_snapshot **out, snap_error *errs,
                                  snap_error *err);

/* Asks Cinder to take over a snapshot the backend already holds (POST
 * /manageable_snapshots, microversion >= 3.8): @req names the volume, the
 * new snapshot's name, description and metadata; @source_name is the
 * backend's own name for it (RBD: the snapshot's name on the volume's
 * image, which Cinder's RBD driver then renames and protects). Returns the
 * new record (status "creating"; see cinder_snapshots_wait()), or NULL with
 * @err set: SNAP_E_STATE below 3.8, SNAP_E_HTTP with http_status 403 when
 * Cinder's policy (snapshot_extension:snapshot_manage, admin-only by
 * default) refuses the caller. */
cinder_snapshot *cinder_snapshot_manage(cinder_client *client,
                                        const cinder_snapshot_req *req,
                                        const char *source_name,
                                        snap_error *err);

/* cinder_snapshot_manage() for @n snapshots at once (one batch of parallel
 * POSTs, like cinder_snapshots_create_many(), whose @out, @errs and return
 * it shares): @reqs[i] registers the backend's snapshot @sources[i]. A bad
 * source name or a microversion below 3.8 fails before anything is sent. */
bool cinder_snapshots_manage_many(cinder_client *client,
                                  const cinder_snapshot_req *reqs,
                                  const char *const *sources, size_t n,
                                  cinder_snapshot **out, snap_error *errs,
                                  snap_error *err);

/* Returns the current record of snapshot @id (free with
 * cinder_snapshot_free()), or NULL with @err set (SNAP_E_NOTFOUND if it
 * does not exist). */
cinder_snapshot *cinder_snapshot_show(cinder_client *client, const char *id,
                                      snap_error *err);

/* Asks Cinder to delete snapshot @id (it must be available or error).
 * Returns when the request is accepted; the snapshot then goes through
 * "deleting". SNAP_E_NOTFOUND when it does not exist. */
bool cinder_snapshot_delete(cinder_client *client, const char *id,
                            snap_error *err);

/* Lists the snapshots of the project with details (GET /snapshots/detail,
 * following pagination), keeping those whose metadata contains every pair
 * of @filter (optional). The filter is applied by Cinder and needs
 * microversion 3.22: below that it is refused with SNAP_E_STATE, because
 * older Cinder silently ignores it and would list every snapshot.
 * On success *@snaps is a new array (free with cinder_snapshots_free()) of
 * *@nsnaps records. */
bool cinder_snapshot_list(cinder_client *client, const cinder_kv *filter,
                          size_t nfilter, cinder_snapshot ***snaps,
                          size_t *nsnaps, snap_error *err);

/* A volume of ours, and the snapshot of it we recorded making: @snapshot_id
 * NULL when the request's outcome is unknown (Cinder may have made it, its
 * id never came back). Both borrowed. */
typedef struct cinder_snapshot_claim {
    const char *volume_id;
    const char *snapshot_id;
} cinder_snapshot_claim;

/* Whether @snap is one of @claims: a snapshot of one of their volumes that
 * is the recorded snapshot, or any snapshot of a volume whose claim has no
 * recorded id. Metadata is written by anyone in the project, so a snapshot
 * found by metadata (cinder_snapshot_list() with a filter) is only ours to
 * delete when this holds. A snapshot without a volume_id is never claimed. */
bool cinder_snapshot_claimed(const cinder_snapshot *snap,
                             const cinder_snapshot_claim *claims, size_t n);

/* Sets metadata of snapshot @id: merges @kv into it, or with @replace makes
 * it exactly @kv. */
bool cinder_snapshot_metadata_update(cinder_client *client, const char *id,
                                     const cinder_kv *kv, size_t n,
                                     bool replace, snap_error *err);

/* Outcome of one object in a wait. */
typedef struct cinder_wait_result {
    char status[32]; /* last status seen; "" if never seen */
    int64_t done_ms; /* snap_now_ms() of the poll that saw it
                        leave "creating"; 0 if it never did */
} cinder_wait_result;

/* Polls the @n snapshots @ids until every one has left "creating", under
 * the single deadline @deadline_ms (snap_now_ms() clock). Intervals start
 * at poll_min_ms and grow to frozen_poll_max_ms. With @filter (one metadata
 * pair the snapshots share, e.g. the set UUID) and microversion >= 3.22, a
 * round costs one GET /snapshots/detail?metadata=... whatever @n; otherwise (or
 * for any snapshot the list misses) the per-id GETs of a round are sent at
 * once. @results (optional, @n entries) receives per snapshot the last
 * status and when it left "creating".
 * Returns true when all are "available". Returns false, as soon as a round
 * shows it, with SNAP_E_STATE naming a snapshot in "error" (or any status
 * other than available), SNAP_E_NOTFOUND for one that vanished; with
 * SNAP_E_TIMEOUT naming the ones still creating at the deadline; or with
 * the error of a request Cinder refused (4xx). Transient failures (5xx,
 * connection errors) are retried until the deadline. */
bool cinder_snapshots_wait(cinder_client *client, const char *const *ids,
                           size_t n, const cinder_kv *filter,
                           int64_t deadline_ms, cinder_wait_result *results,
                           snap_error *err);

/* Polls until the @n snapshots @ids are gone (404), under one deadline.
 * Fails with SNAP_E_STATE on one in "error_deleting", SNAP_E_TIMEOUT. */
bool cinder_snapshots_wait_deleted(cinder_client *client,
                                   const char *const *ids, size_t n,
                                   int64_t deadline_ms, snap_error *err);

/* ---- volumes ------------------------------------------------------------ */

typedef struct cinder_attachment {
    char *id;        /* attachment id */
    char *server_id; /* the Nova server (or instance uuid) */
    char *host_name;
    char *device; /* e.g. "/dev/vdb" */
} cinder_attachment;

/* One attachment as Cinder itself records it (the attachments API, 3.27).
 * Nova's new-style attachments, made through that API, keep the connection
 * Cinder handed out; legacy os-attach ones (and reserved ones not yet
 * connected) have none, so has_connection is false for them. Strings are
 * owned by the record; release with cinder_attachment_info_release(). */
typedef struct cinder_attachment_info {
    char *id;
    char *status;   /* attached, attaching, reserved, detached... */
    char *instance; /* the Nova server, or NULL */
    char *volume_id;
    char *attach_mode;        /* "rw", "ro", or NULL */
    bool has_connection;      /* connection_info present (not null) */
    char *driver_volume_type; /* connection_info.driver_volume_type, or NULL */
    char *name; /* connection_info.name: rbd "pool/volume-<id>", or NULL */
} cinder_attachment_info;

typedef struct cinder_volume {
    char *id;
    char *name;
    char *description;
    char *status;      /* available, in-use, creating, error... */
    char *volume_type; /* type name */
    char *group_id;    /* >= 3.13; NULL when not in a group */
    char *availability_zone;
    char *snapshot_id;  /* source snapshot, or NULL */
    char *source_volid; /* source volume (a clone of it), or NULL */
    char *created_at;
    int64_t size_gb;
    bool bootable;
    bool multiattach;
    cinder_attachment *attachments;
    size_t nattachments;
    cinder_kv *metadata;
    size_t nmetadata;
} cinder_volume;

/* Releases @vol and all it holds; NULL is allowed. */
void cinder_volume_free(cinder_volume *vol);

/* Releases the @n volumes of @vols and the array; NULL is allowed. */
void cinder_volumes_free(cinder_volume **vols, size_t n);

/* Returns the record of volume @id (free with cinder_volume_free()), or NULL
 * with @err set (SNAP_E_NOTFOUND if it does not exist). */
cinder_volume *cinder_volume_show(cinder_client *client, const char *id,
                                  snap_error *err);

/* Reads attachment @attachment_id (a UUID, checked before any request) with
 * GET /attachments/<id> into @out (caller-owned storage, overwritten: it
 * need not be initialised), so that a caller can confirm a disk's backend
 * from Cinder's own record. connection_info is Cinder's flattened driver
 * data ({"driver_volume_type": "rbd", "name": "volumes/volume-<id>",
 * "hosts": [...], ...}); when it is absent or null, has_connection is false
 * and both connection strings are NULL. A null driver_volume_type or name
 * inside it gives NULL for that string.
 * Returns true on success; false with @err set and *@out zeroed:
 * SNAP_E_INVALID for a bad id or a reply that is not an attachment (not an
 * object, no id, status or volume_id, another attachment's id,
 * connection_info neither an object nor null, driver_volume_type or name
 * not a string); SNAP_E_STATE below microversion 3.27 (nothing is sent);
 * SNAP_E_NOTFOUND when Cinder has no such attachment. */
bool cinder_attachment_show(cinder_client *client, const char *attachment_id,
                            cinder_attachment_info *out, snap_error *err);

/* Frees what @info holds and zeroes it; NULL is allowed. */
void cinder_attachment_info_release(cinder_attachment_info *info);

/* Lists every attachment of instance @instance_id (a UUID: the Nova server,
 * or the libvirt domain a volume was attached to) with GET
 * /attachments/detail?instance_id=<id> (3.27), one request whatever their
 * number, into *@out (free with cinder_attachment_infos_free()) and
 * *@nout. Each record as cinder_attachment_show() reads it; one naming
 * another instance, or not that shape, fails the whole list
 * (SNAP_E_INVALID), as below 3.27 (SNAP_E_STATE, nothing sent). */
bool cinder_attachment_list(cinder_client *client, const char *instance_id,
                            cinder_attachment_info **out, size_t *nout,
                            snap_error *err);

/* Releases the @n records of @infos and the array; NULL is allowed. */
void cinder_attachment_infos_free(cinder_attachment_info *infos, size_t n);

/* Lists the project's volumes with details (following pagination), keeping
 * those whose metadata contains every pair of @filter (optional; needs
 * 3.22 like cinder_snapshot_list()). *@vols: new array, free with
 * cinder_volumes_free(). */
bool cinder_volume_list(cinder_client *client, const cinder_kv *filter,
                        size_t nfilter, cinder_volume ***vols, size_t *nvols,
                        snap_error *err);

typedef struct cinder_volume_req {
    int64_t size_gb; /* required unless from a snapshot */
    const char *name;
    const char *description;
    const char *snapshot_id;  /* create from this snapshot */
    const char *source_volid; /* or as a clone of this volume */
    const char *volume_type;  /* name or id */
    const char *availability_zone;
    const cinder_kv *metadata;
    size_t nmetadata;
} cinder_volume_req;

/* Asks Cinder for a new volume and returns its record (status "creating";
 * free with cinder_volume_free()), or NULL with @err set. */
cinder_volume *cinder_volume_create(cinder_client *client,
                                    const cinder_volume_req *req,
                                    snap_error *err);

/* Asks Cinder to delete volume @id; with @cascade its snapshots too. */
bool cinder_volume_delete(cinder_client *client, const char *id, bool cascade,
                          snap_error *err);

/* Reverts volume @volume_id to its latest snapshot @snapshot_id (needs
 * microversion 3.40; the volume must be available). Returns when accepted. */
bool cinder_volume_revert(cinder_client *client, const char *volume_id,
                          const char *snapshot_id, snap_error *err);

/* Polls volume @id until its status is @status, or, with @status NULL,
 * until it is gone. Fails with SNAP_E_STATE when it reaches "error" (or
 * "error_deleting"), SNAP_E_TIMEOUT at @deadline_ms (snap_now_ms() clock). */
bool cinder_volume_wait(cinder_client *client, const char *id,
                        const char *status, int64_t deadline_ms,
                        snap_error *err);

/* ---- limits ------------------------------------------------------------- */

/* Absolute limits of the project; -1 means unlimited. */
typedef struct cinder_limits {
    int64_t max_total_snapshots;
    int64_t total_snapshots_used;
    int64_t max_total_volumes;
    int64_t total_volumes_used;
    int64_t max_total_volume_gigabytes;
    int64_t total_gigabytes_used;
} cinder_limits;

/* Reads GET /limits into @limits. */
bool cinder_limits_show(cinder_client *client, cinder_limits *limits,
                        snap_error *err);

/* ---- generic volume groups ---------------------------------------------- */

/* Whether a group type promises consistent group snapshots. Non-admins
 * can't see group_specs, hence UNKNOWN. */
typedef enum cinder_cg_support {
    CINDER_CG_UNKNOWN = 0,
    CINDER_CG_NO,
    CINDER_CG_YES,
} cinder_cg_support;

/* "unknown", "no" or "yes". */
const char *cinder_cg_support_name(cinder_cg_support cg);

typedef struct cinder_group {
    char *id;
    char *name;
    char *status;
    char *group_type; /* group type id */
    char *availability_zone;
    char **volume_types; /* volume type ids */
    size_t nvolume_types;
    char **volumes; /* member volume ids (listed from 3.25) */
    size_t nvolumes;
} cinder_group;

void cinder_group_free(cinder_group *group);

/* Returns the record of group @id with its member volumes (free with
 * cinder_group_free()). Needs 3.13; members are listed from 3.25, and
 * nvolumes is 0 below that. */
cinder_group *cinder_group_show(cinder_client *client, const char *id,
                                snap_error *err);

typedef struct cinder_group_type {
    char *id;
    char *name;
    bool specs_visible; /* false: the reply had no group_specs */
    cinder_kv *specs;
    size_t nspecs;
    cinder_cg_support consistent_snapshots;
} cinder_group_type;

void cinder_group_type_free(cinder_group_type *type);

/* Returns group type @id (free with cinder_group_type_free()); needs 3.11.
 * consistent_snapshots is YES for consistent_group_snapshot_enabled
 * "<is> True", NO when specs are visible without it, UNKNOWN when hidden. */
cinder_group_type *cinder_group_type_show(cinder_client *client, const char *id,
                                          snap_error *err);

typedef struct cinder_group_snapshot {
    char *id;
    char *group_id;
    char *group_type_id;
    char *name;
    char *description;
    char *status; /* creating, available, error, deleting */
    char *created_at;
} cinder_group_snapshot;

void cinder_group_snapshot_free(cinder_group_snapshot *gsnap);

/* Asks Cinder to snapshot every volume of group @group_id (needs 3.14) and
 * returns the new group snapshot (free with cinder_group_snapshot_free()).
 * Note: unless the group type has consistent_group_snapshot_enabled and the
 * backend honours it, Cinder takes the member snapshots one by one. */
cinder_group_snapshot *cinder_group_snapshot_create(cinder_client *client,
                                                    const char *group_id,
                                                    const char *name,
                                                    const char *description,
                                                    snap_error *err);

cinder_group_snapshot *cinder_group_snapshot_show(cinder_client *client,
                                                  const char *id,
                                                  snap_error *err);

/* Asks Cinder to delete group snapshot @id and its member snapshots. */
bool cinder_group_snapshot_delete(cinder_client *client, const char *id,
                                  snap_error *err);

/* Lists the member snapshots of group snapshot @id. Non-admins may not
 * filter on group_snapshot_id, so the project's snapshots are listed and
 * filtered here. *@snaps: new array, free with cinder_snapshots_free(). */
bool cinder_group_snapshot_members(cinder_client *client, const char *id,
                                   cinder_snapshot ***snaps, size_t *nsnaps,
                                   snap_error *err);

/* Like cinder_snapshots_wait() for group snapshots (per-id GETs sent at
 * once each round). */
bool cinder_group_snapshots_wait(cinder_client *client, const char *const *ids,
                                 size_t n, int64_t deadline_ms,
                                 cinder_wait_result *results, snap_error *err);

#endif
