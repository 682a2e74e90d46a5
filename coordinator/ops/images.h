/* coordinator/ops/images.h -- helpers shared by restore.c and
 * spawn.c; not API. */
#ifndef OPS_IMAGES_H
#define OPS_IMAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "common/snap_fs.h"
#include "coordinator/ops/ctx.h"

/* Loads set @set_id and checks that it can be used: state available, every
 * member available with a location, each local copy present, OpenStack
 * open when it has Cinder members. Returns a new set (coord_set_free()). */
coord_set *ops_set_load_usable(ops_ctx *ctx, const char *set_id,
                               snap_error *err);

/* Loads usable set @set_id (above), takes its domain's lock (one
 * operation per domain: a delete cannot remove the set meanwhile) and
 * loads it again under the lock. *@lock: for coord_catalog_unlock(). */
coord_set *ops_set_load_locked(ops_ctx *ctx, const char *set_id, int *lock,
                               snap_error *err);

/* The member of @set for disk @disk: its target ("vdb") or its serial. */
const coord_member *ops_set_member(const coord_set *set, const char *disk);

/* A new Cinder volume from snapshot @snapshot_id, named @name, tagged with
 * the set; waits (bounded by @timeout_ms) until it is available. A volume
 * that fails on the way is deleted again. *@volume_id: new string. */
bool ops_volume_from_snapshot(ops_ctx *ctx, const char *snapshot_id,
                              const char *name, const char *set_uuid,
                              int64_t timeout_ms, char **volume_id,
                              snap_error *err);

/* A fault point of the test build (-DSNAP_FAULTS=ON; nothing otherwise):
 * SNAPSET_FAULT="<point>:fail" makes it return false with an error named
 * after the point, so a test can fail a restore or spawn half-way and see
 * it undone; "kill" and "hang" act as snap_fault(). */
bool ops_fault(const char *point, snap_error *err);

/* True when the Cinder snapshot of member @m exists and is available. */
bool ops_snapshot_usable(ops_ctx *ctx, const coord_member *m, snap_error *err);

/* The same as a clone of volume @source_volid (a template's volume). */
bool ops_volume_from_volume(ops_ctx *ctx, const char *source_volid,
                            const char *name, const char *set_uuid,
                            int64_t timeout_ms, char **volume_id,
                            snap_error *err);

/* Deletes volume @id and waits (bounded) until it is gone. */
bool ops_volume_remove(ops_ctx *ctx, const char *id, snap_error *err);

/* An image file of ours in a directory that others may write (a domain's
 * image directory belongs to nova or libvirt-qemu): made exclusively
 * (O_CREAT|O_EXCL, so a symlink or file planted at the name is never
 * opened), written by qemu-img through /proc/<pid>/fd/<fd> (the open file,
 * whatever the name points to by then), given its owner and mode through
 * the descriptor, and removed by name only while the name is still it. */
typedef struct ops_image_file {
    char *path;      /* its name; NULL: nothing made (a zeroed struct) */
    int fd;          /* read-write, close-on-exec (valid with @path) */
    snap_file_id id; /* what @path was made as */
} ops_image_file;

/* Makes @f a new empty file @path, mode @mode. With @unique, @path is a
 * template ending in "XXXXXX" (mkostemp(), mode 0600). On failure @f holds
 * nothing to release. */
bool ops_image_file_make(ops_image_file *f, const char *path, bool unique,
                         int mode, snap_error *err);

/* Converts image @src (format @src_fmt) into @f as @dst_fmt with qemu-img
 * (bounded by @timeout_ms), then syncs it. */
bool ops_image_file_convert(ops_image_file *f, const char *src,
                            const char *src_fmt, const char *dst_fmt,
                            int64_t timeout_ms, snap_error *err);

/* Makes @f a qcow2 overlay of @backing (format @backing_fmt, recorded by
 * absolute path), then syncs it. */
bool ops_image_file_overlay(ops_image_file *f, const char *backing,
                            const char *backing_fmt, snap_error *err);

/* True when @f->path still names the file that was made (not a symlink
 * or another file put there since). */
bool ops_image_file_named(const ops_image_file *f);

/* Removes @f->path if it still names the file that was made; never what
 * someone else put under the name. */
void ops_image_file_unlink(ops_image_file *f);

/* Closes @f and frees its name (not the file). Accepts a zeroed or
 * released @f. */
void ops_image_file_release(ops_image_file *f);

#endif
