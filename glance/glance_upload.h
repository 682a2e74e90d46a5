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
} glance_image_opts;

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

/* Deletes image @id (DELETE /v2/images/{id}, 204). Errors: SNAP_E_NOTFOUND
 * when Glance does not know it (404), SNAP_E_HTTP for other statuses,
 * SNAP_E_INVALID when @id is not a UUID. */
bool glance_image_delete(cinder_session *session, const char *id,
                         snap_error *err);

#endif
