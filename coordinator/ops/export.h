/* coordinator/ops/export.h -- `snapset export`: one snapshot set as one OVF
 * package (an OVA file, an unpacked OVF directory, or an OVA streamed into
 * Glance).
 *
 *   snapset export SET --ova FILE | --ovf DIR | --glance [--name NAME]
 *                  [--disk-format vmdk|qcow2] [--json] [--timeout MS]
 *                  [--ceph-conf FILE] [--ceph-user NAME]
 *                  [--staging-dir DIR] [--cleanup-timeout MS] [--force]
 *   snapset export --check FILE.ova      (reads a package back, verifies it)
 *
 * Every disk is converted with qemu-img into a private staging directory
 * (CATALOG/staging/export-<pid>-<start>-XXXXXX, removed on every path out,
 * and swept by the next export when a killed one left it), from the set's
 * own copy for a local member and straight from the RBD snapshot for a
 * Cinder member. The descriptor is built from the domain XML kept with the
 * set. Exports are recorded in the set's directory (exports.json), a Glance
 * image before its data is sent.
 */
#ifndef OPS_EXPORT_H
#define OPS_EXPORT_H

#include <jansson.h>
#include <stdint.h>

#include "coordinator/ops/ctx.h"

/* The `export` command; @argv[0] is "export". Returns 0 (exported), 1
 * (failed or interrupted: nothing is left behind) or 2 (usage error). */
int ops_cmd_export(ops_ctx *ctx, int argc, char **argv);

/* Deletes every export recorded for @set (its Glance images, OVA files and
 * OVF directories), printing a line for each, and drops them from the
 * record; what could not be deleted stays recorded. SNAP_E_BUSY while an
 * export of the set is still uploading. Call with the domain's lock. */
bool ops_exports_delete(ops_ctx *ctx, const coord_set *set, snap_error *err);

/* Prints a line for every export of @set that outlives it. */
void ops_exports_note_kept(const coord_set *set);

/* The exports recorded for @set: a new JSON array, empty when none. */
json_t *ops_exports_list(const coord_set *set);

/* What ops_export_child() runs. */
typedef struct ops_export_req {
    const char *kind;        /* "glance" or "ova" */
    const char *target;      /* "ova": the file */
    const char *name;        /* "glance": the image name, or NULL */
    const char *disk_format; /* "vmdk", "qcow2", or NULL (vmdk) */
    int64_t timeout_ms;      /* each conversion; the whole gets twice that */
} ops_export_req;

/* Runs `snapset export SET ... --json` in a child process (its own signal
 * handling and cleanup, nothing shared with the caller's threads) and
 * waits for it, bounded. On success *@result is the export's result
 * object (image_id or path, size, disks, ...; json_decref() it); on
 * failure the export's own one-line error. */
bool ops_export_child(ops_ctx *ctx, const char *set_uuid,
                      const ops_export_req *req, json_t **result,
                      snap_error *err);

#endif
