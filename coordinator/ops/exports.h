/* coordinator/ops/exports.h -- the record of a set's exports: exports.json
 * in the set's directory, {"exports": [entry, ...]}, one entry per export
 * (id, kind, state "uploading" | "complete" | "left-behind", disk_format,
 * started, owner_pid, owner_start, and image_id or path, dev, ino, files,
 * dir_created, size, ...).
 *
 * Every edit holds an flock of the set's directory (two exports of one set
 * may finish together), bounded by the lock timeout, and replaces the file
 * atomically; `delete` removes it with the set's other files.
 *
 * Deleting exports is security-sensitive (issue 12): only what the export
 * wrote goes -- an OVA file by identity, an OVF directory's files by the
 * names recorded, the directory only when the export made it and it is
 * empty -- and no symlink is followed.
 */
#ifndef OPS_EXPORTS_H
#define OPS_EXPORTS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/snap_error.h"
#include "coordinator/coord_catalog.h"
#include "coordinator/ops/ctx.h"

#define OPS_EXPORTS_FILE "exports.json"

/* Deletes every export recorded for @set (its Glance images, OVA files and
 * OVF directories), printing a line for each, and drops them from the
 * record; what could not be deleted stays recorded. SNAP_E_BUSY while an
 * export of the set is still uploading. Call with the domain's lock. */
bool ops_exports_delete(ops_ctx *ctx, const coord_set *set, snap_error *err);

/* Prints a line for every export of @set that outlives it. */
void ops_exports_note_kept(const coord_set *set);

/* The exports recorded for @set: a new JSON array, empty when none. */
json_t *ops_exports_list(const coord_set *set);

/* Records @entry (borrowed) in @set_dir's exports.json, replacing the entry
 * with the same id. */
bool ops_exports_put(ops_ctx *ctx, const char *set_dir, json_t *entry,
                     snap_error *err);

/* Drops the entry @id from @set_dir's exports.json (absent: fine). */
bool ops_exports_drop(ops_ctx *ctx, const char *set_dir, const char *id,
                      snap_error *err);

/* Deletes the Glance images of uploads whose process died ("uploading"
 * entries whose owner is gone, and "left-behind" ones) and drops their
 * entries. Best effort: what cannot be deleted is warned about and kept. */
void ops_exports_sweep(ops_ctx *ctx, const char *set_dir);

#endif
