/* glance/glance_upload.h -- Glance v2: an OVA (or any file) as an image.
 *
 * Requests go through a Keystone session of cinder/keystone.h, which supplies
 * the "image" endpoint and the token and re-authenticates on a 401; the
 * transport is cinder/cinder_http.h (libcurl, or a fake in tests).
 *
 * Threads: as the session (one per thread).
 */
#ifndef GLANCE_UPLOAD_H
#define GLANCE_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "cinder/keystone.h"
#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "glance/glance.h"

/* A custom image property. Glance v2 properties are strings: at most 255
 * characters of key and of value, UTF-8. */
typedef struct glance_image_property {
    const char *key; /* e.g. "snapset_set"; not a core image attribute */
    const char *value;
} glance_image_property;

/* What to create. Strings are borrowed for the call. */
typedef struct glance_image_opts {
    const char *name;             /* required */
    const char *container_format; /* NULL: "ova" */
    const char *disk_format;      /* NULL: "vmdk" */
    const char *visibility;       /* NULL: Glance's default ("shared") */
    const glance_image_property *properties;
    size_t nproperties;
    /* Optional: called with the new image's id once Glance created it and
     * before any data is sent, so that the caller can record it (a process
     * killed during the upload leaves a known image, not a lost one).
     * Returning false (with @err set) deletes the image and fails. */
    bool (*created)(void *ctx, const char *id, snap_error *err);
    void *created_ctx;
    /* How long a failed upload keeps trying to delete its image, 1 s
     * apart, while Glance cannot be reached or answers 5xx (it may be
     * restarting). 0: one attempt. */
    int64_t delete_timeout_ms;
} glance_image_opts;

/* The data of an image, produced on demand (e.g. a glance_ova_stream). */
typedef struct glance_image_source {
    cinder_http_read_fn read;     /* next bytes: > 0, 0 at the end, or < 0
                                     with its error set (aborts) */
    cinder_http_rewind_fn rewind; /* back to the first byte; NULL: the
                                     upload cannot be sent twice (e.g.
                                     after a 401) */
    void *ctx;
    uint64_t size;    /* exact length: sent as Content-Length, and a source
                         that ends early or goes on is an error */
    const char *name; /* what it is, for messages */
} glance_image_source;

/* What became of an upload; filled also on failure. */
typedef struct glance_image_outcome {
    char id[SNAP_UUID_LEN];            /* the image created; "" if none */
    char sha512[GLANCE_HASH_HEX_SIZE]; /* of the data, when all was sent */
    uint64_t sent;                     /* bytes sent (last attempt) */
    bool left_behind; /* failed, and the image could not be deleted */
} glance_image_outcome;

/* Creates an image from the regular file @path:
 *  1. POST /v2/images with the name, formats, visibility and properties
 *     (201, status "queued");
 *  2. PUT /v2/images/{id}/file, Content-Type application/octet-stream, the
 *     file streamed in 1 MiB chunks with its length, no overall time bound
 *     (the transport's stall timeout applies); SHA-512 is computed on the
 *     way;
 *  3. GET /v2/images/{id}: the image must be "active", of the file's size,
 *     with os_hash_algo "sha512" and os_hash_value equal to ours.
 * Any failure after step 1 deletes the image (a failed delete is logged; the
 * first error is kept). Returns the new image id (free()), or NULL with @err
 * set: SNAP_E_INVALID for bad options or a malformed reply, SNAP_E_NOTFOUND
 * or SNAP_E_SYSTEM for the file, SNAP_E_HTTP with the status Glance answered,
 * SNAP_E_STATE when the image did not become active or its hash differs,
 * and the session's and transport's errors. */
char *glance_image_create(cinder_session *session, const char *path,
                          const glance_image_opts *opts, snap_error *err);

/* glance_image_create() from @src instead of a file: the same steps, the
 * same checks, the same cleanup. @outcome (may be NULL) tells which image
 * was made and whether a failed one is left behind. */
char *glance_image_create_stream(cinder_session *session,
                                 const glance_image_source *src,
                                 const glance_image_opts *opts,
                                 glance_image_outcome *outcome,
                                 snap_error *err);

/* Fills @src to upload the OVA @stream (borrowed: it must outlive the
 * upload). */
void glance_image_source_from_ova(glance_image_source *src,
                                  glance_ova_stream *stream);

/* Deletes image @id (DELETE /v2/images/{id}, 204). Errors: SNAP_E_NOTFOUND
 * when Glance does not know it (404), SNAP_E_HTTP for other statuses,
 * SNAP_E_INVALID when @id is not a UUID. */
bool glance_image_delete(cinder_session *session, const char *id,
                         snap_error *err);

#endif
