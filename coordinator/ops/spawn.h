/* coordinator/ops/spawn.h -- new domains and volumes from a set: spawn
 * (linked clones or full copies, one VM or several, from a set or a
 * template) and volume-from. Whether a set is still in use, and flatten,
 * are in inuse.h. */
#ifndef OPS_SPAWN_H
#define OPS_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/snap_error.h"
#include "common/snap_uuid.h"
#include "coordinator/ops/ctx.h"
#include "coordinator/ops/inuse.h" /* ops_set_in_use, ops_flatten */

/* ---- spawn --------------------------------------------------------------- */

typedef struct ops_spawn_opts {
    const char *name;            /* required: the new domain's name */
    unsigned vcpus;              /* 0: as the original */
    uint64_t memory_mib;         /* 0: as the original */
    const char *const *networks; /* replaces the NICs; none: as before */
    size_t nnetworks;
    bool full;               /* independent copies, not linked clones */
    bool start;              /* start it (default true) */
    const char *dir;         /* where its images go; NULL: next to
                                the original's first file disk */
    unsigned count;          /* 0 or 1: one VM named @name; N > 1: N VMs named
                                "name-1" ... "name-N" (ops_spawn_many) */
    bool keep_failed;        /* a VM that fails once defined stays defined (shut
                                off, its disks kept), marked state="error" in its
                                snapset metadata, for inspection */
    const char *template_id; /* from this template (ops/template.h) instead
                                of a set: the set id is not used */
} ops_spawn_opts;

/* How many VMs one spawn makes at most. */
#define OPS_SPAWN_MAX_COUNT 32

/* What ops_spawn_many() made, in order. */
typedef struct ops_spawned {
    size_t n;
    char **names;
    char (*uuids)[SNAP_UUID_LEN];
} ops_spawned;

void ops_spawned_release(ops_spawned *s);

void ops_spawn_opts_init(ops_spawn_opts *o);

/* Makes a new domain from set @set_id: the set's domain.xml with a new
 * name and UUID, new MACs, the chosen vCPUs, memory and networks; each
 * local member becomes a qcow2 overlay on the set's copy (a linked clone)
 * or, with @o->full, an independent copy; each Cinder member becomes a new
 * volume made from its snapshot, attached like Nova does. Everything is
 * validated before anything is made (name in use, networks, vCPUs and
 * memory against the host, the set's members); a failure at any later
 * step removes all that was made and the error names the step.
 * *@uuid (optional) receives the new domain's UUID. */
bool ops_spawn(ops_ctx *ctx, const char *set_id, const ops_spawn_opts *o,
               char uuid[SNAP_UUID_LEN], snap_error *err);

/* Makes @o->count VMs (at least one) from set @set_id, as ops_spawn()
 * makes one, all or nothing: every VM is validated before the first is
 * made (names free, their images absent, the memory of all of them
 * together against the host's), and a failure while making the K-th
 * removes it and the K-1 before it; the error names the VM, the step and
 * the cause. Each VM records the set it came from in its metadata
 * (virt_domedit_origin). @out receives the names and UUIDs (release with
 * ops_spawned_release(); empty on failure). */
bool ops_spawn_many(ops_ctx *ctx, const char *set_id, const ops_spawn_opts *o,
                    ops_spawned *out, snap_error *err);

/* ---- volume-from --------------------------------------------------------- */

typedef struct ops_volume_from_opts {
    const char *name;   /* Cinder volume name, or the image's file name or
                           path; NULL: "<domain>-<disk>-<set prefix>" */
    const char *format; /* local images: "qcow2" (default) or "raw" */
    const char *dir;    /* local images: NULL = next to the disk's file */
} ops_volume_from_opts;

/* Makes a new Cinder volume from the snapshot of Cinder member @disk
 * (target "vdb", or its serial) of set @set_id, or a new local image from
 * the copy of a local member. *@made receives the volume id or the image
 * path (new string, free()). A failure deletes what was made. */
bool ops_volume_from(ops_ctx *ctx, const char *set_id, const char *disk,
                     const ops_volume_from_opts *o, char **made,
                     snap_error *err);

#endif
