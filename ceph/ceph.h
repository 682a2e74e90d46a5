/* ceph/ceph.h -- RBD snapshots through librbd, the Ceph client library:
 * what snapset needs to fix a Cinder RBD volume's point in time itself,
 * inside the frozen window, and to find and remove what it made.
 *
 *     ceph_cluster *c = ceph_connect(&opts, &err);     // before the freeze
 *     ceph_batch *b = ceph_batch_new(c, images, snaps, n, &err);
 *     ceph_batch_start(b, &err);                        // inside it
 *     ceph_batch_wait(b, deadline, &err);               // one deadline
 *     ceph_batch_free(b);
 *     ceph_disconnect(c);
 *
 * librbd has no asynchronous snapshot create, so a batch runs one thread
 * per image; every snapshot of a batch then shares one monitor commit (the
 * new snap id), which is why the wait hardly grows with the number of
 * images (../shared/notes/rbd-volumes.md §8). A create still running at the
 * deadline is left to finish on its own thread: the batch and the cluster
 * connection stay alive until it ends, and its outcome is unknown to the
 * caller (ceph_batch_result() says CEPH_PENDING), which must look for the
 * snapshot by name later. An image is "POOL/IMAGE", as libvirt's
 * <source protocol='rbd' name=...> names it. */
#ifndef CEPH_CEPH_H
#define CEPH_CEPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"

typedef struct ceph_opts {
    const char *conf;           /* ceph.conf; NULL: librados' search */
    const char *user;           /* client id without "client.": "cinder" */
    const char *keyring;        /* NULL: from the conf (or the default) */
    int64_t connect_timeout_ms; /* reaching the monitors, authenticating */
    int64_t op_timeout_ms;      /* every monitor and OSD operation */
} ceph_opts;

typedef struct ceph_cluster ceph_cluster;

/* Connects as client.@user. NULL with @err naming what failed (the conf,
 * the key, the monitors). */
ceph_cluster *ceph_connect(const ceph_opts *opts, snap_error *err);

/* Drops the caller's reference; NULL is allowed. A create still running
 * keeps the connection until it ends. */
void ceph_disconnect(ceph_cluster *c);

/* Splits "POOL/IMAGE" into its parts; false with @err when @spec is not
 * exactly that (no namespace, no snapshot). */
bool ceph_image_split(const char *spec, char *pool, size_t pool_size,
                      char *image, size_t image_size, snap_error *err);

/* True when image @spec exists and client.@user may open it. */
bool ceph_image_check(ceph_cluster *c, const char *spec, snap_error *err);

typedef struct ceph_batch ceph_batch;

/* Opens the @n images (@images[i]: "POOL/IMAGE") for snapshots named
 * @snaps[i]; makes nothing yet. Strings are copied. */
ceph_batch *ceph_batch_new(ceph_cluster *c, const char *const *images,
                           const char *const *snaps, size_t n, snap_error *err);

/* Starts every create at once. False when a thread could not be started;
 * those that started run on (wait, then look at the results). */
bool ceph_batch_start(ceph_batch *b, snap_error *err);

/* Waits until every started create has ended or monotonic @deadline_ms
 * has passed. True when every create ended and succeeded; otherwise
 * false with @err naming the first image that failed or is still
 * running. */
bool ceph_batch_wait(ceph_batch *b, int64_t deadline_ms, snap_error *err);

#define CEPH_PENDING 1 /* not started, or still running */

/* 0 when snapshot @i exists, CEPH_PENDING, or -errno. */
int ceph_batch_result(ceph_batch *b, size_t i);

/* Monotonic ms of the first create's start and of the last one's end (0
 * while unknown). */
void ceph_batch_times(ceph_batch *b, int64_t *first_start, int64_t *last_end);

/* Releases the caller's hold; running creates keep what they use. */
void ceph_batch_free(ceph_batch *b);

/* Sets *@exists to whether image @spec has a snapshot named @snap. An
 * image that does not exist has none. */
bool ceph_snap_exists(ceph_cluster *c, const char *spec, const char *snap,
                      bool *exists, snap_error *err);

/* Removes snapshot @snap of image @spec, unprotecting it first when
 * needed. *@removed (may be NULL) says whether there was one; a missing
 * image or snapshot is not an error. */
bool ceph_snap_remove(ceph_cluster *c, const char *spec, const char *snap,
                      bool *removed, snap_error *err);

#endif
